from __future__ import annotations

import pytest

USER = ("OS102", "OS103", "OS104")
UBI = "FROM registry.access.redhat.com/ubi9/ubi-minimal:9.4\n"


@pytest.mark.parametrize("user", ["1001", "1001:0", "1000680000:0", "${UID}", "$UID:0"])
def test_numeric_users_pass(lint, user: str) -> None:
    assert lint(f"{UBI}ARG UID=1001\nUSER {user}\n", codes=USER) == []


@pytest.mark.parametrize("user", ["root", "0", "0:0", "root:x", "root:root", "000", "0:1001"])
def test_root(lint, user: str) -> None:
    assert lint(f"{UBI}USER 1001\nUSER {user}\n", codes=USER) == [("OS103", 3)]


@pytest.mark.parametrize("user", ["app", "app:0", "nobody", "1001x"])
def test_named_user(lint, user: str) -> None:
    assert lint(f"{UBI}USER {user}\n", codes=USER) == [("OS104", 2)]


def test_no_user(lint) -> None:
    assert lint(f"{UBI}RUN true\nCMD [\"/bin/true\"]\n", codes=USER) == [("OS102", 1)]


def test_no_user_on_scratch_says_root(findings) -> None:
    (found,) = findings("FROM scratch\nCOPY app /app\n", codes=USER)
    assert found.code == "OS102" and "root" in found.message


def test_arg_with_numeric_default_counts_as_numeric(lint) -> None:
    text = f"ARG UID=0\n{UBI}ARG UID\nARG GID=0\nUSER ${{UID}}:${{GID}}\n"
    assert lint(text, codes=USER) == [("OS103", 5)]  # the heading default 0 reaches the stage
    assert lint(text, codes=USER, build_args={"UID": "1001"}) == []


def test_arg_with_a_name_default_is_not_numeric(lint) -> None:
    assert lint(f"{UBI}ARG RUN_AS=app\nUSER $RUN_AS\n", codes=USER) == [("OS104", 3)]


def test_env_value_is_used(lint) -> None:
    assert lint(f"{UBI}ENV APP_UID=1001\nUSER ${{APP_UID}}\n", codes=USER) == []


def test_unknown_value_is_not_guessed(lint) -> None:
    # A variable imgctl cannot know (a platform argument) stays unjudged.
    assert lint(f"{UBI}ARG TARGETARCH\nUSER $TARGETARCH\n", codes=USER) == []


def test_only_the_final_stage_counts(lint) -> None:
    text = f"{UBI[:-1]} AS build\nUSER root\nRUN true\n\n{UBI}USER 1001\n"
    assert lint(text, codes=USER) == []
    text = f"{UBI[:-1]} AS build\nUSER 1001\n\n{UBI}RUN true\n"
    assert lint(text, codes=USER) == [("OS102", 4)]


def test_user_set_in_the_stage_the_final_one_is_built_on(lint) -> None:
    text = f"{UBI[:-1]} AS base\nUSER root\n\nFROM base\nRUN true\n"
    assert lint(text, codes=USER) == [("OS103", 2)]
    text = f"{UBI[:-1]} AS base\nUSER 1001\n\nFROM base\nRUN true\n"
    assert lint(text, codes=USER) == []


def test_target_selects_the_final_stage(lint) -> None:
    text = f"{UBI[:-1]} AS runtime\nUSER 1001\n{UBI[:-1]} AS debug\nUSER root\n"
    assert lint(text, codes=USER, target="runtime") == []
    assert lint(text, codes=USER) == [("OS103", 4)]


def test_escaped_continuation_reports_the_first_line(lint) -> None:
    text = f"# escape=`\n{UBI}USER `\n  root\n"
    assert lint(text, codes=USER) == [("OS103", 3)]


def test_unresolvable_base_still_judges_the_user(lint, findings) -> None:
    assert lint("ARG BASE\nFROM ${BASE}\nUSER root\n", codes=USER) == [("OS103", 3)]
    (found,) = findings("ARG BASE\nFROM ${BASE}\nRUN true\n", codes=USER)
    assert found.code == "OS102" and "its base image" in found.message
