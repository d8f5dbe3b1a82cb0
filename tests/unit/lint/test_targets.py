"""Which targets the names on `imgctl lint`'s command line mean, and the settings each gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.config.project import Project
from builder.errors import ConfigError
from builder.lint.targets import Target, Unlinted, check_mode, resolve


def make(tmp_path: Path) -> Project:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "Containerfile").write_text("FROM debian:12\n")
    (tmp_path / "profiles" / "api.toml").write_text('image = "team/api"\n[lint]\nignore = ["DL3008"]\n')
    (tmp_path / "profiles" / "web.toml").write_text('image = "team/web"\n')
    return Project(tmp_path / "profiles", env={})


def test_no_names_means_every_profile(tmp_path: Path) -> None:
    project = make(tmp_path)
    found = resolve([], lambda: project)
    assert [target.profile for target in found] == ["api", "web"]
    assert [target.name for target in found] == ["Containerfile (profile api)", "Containerfile (profile web)"]


def test_paths_need_no_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x:1\n")
    monkeypatch.chdir(tmp_path)
    asked: list[str] = []

    def no_project() -> Project:
        asked.append("project")
        raise ConfigError("no profiles/ directory")

    [by_path] = resolve(["./Dockerfile"], no_project)
    assert asked == []  # a path never looks for a project
    [by_name] = resolve(["Dockerfile"], no_project)  # a word may be a profile: looked for, missed, a file
    assert asked == ["project"]
    assert (by_name.subject.file, by_path.subject.file, by_name.profile) == ("Dockerfile", "./Dockerfile", None)
    assert by_name.settings.failure_threshold == "warning"
    with pytest.raises(ConfigError, match="no profiles/ directory"):
        resolve(["api"], no_project)  # neither a file nor, without a project, a profile


def test_a_profile_name_wins_over_a_file_of_that_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = make(tmp_path)
    (tmp_path / "api").write_text("FROM x\n")
    monkeypatch.chdir(tmp_path)
    [target] = resolve(["api"], lambda: project)
    assert target.profile == "api" and target.settings.ignore == ("DL3008",)


def test_extra_keys_go_on_top_of_each_targets_settings(tmp_path: Path) -> None:
    project = make(tmp_path)
    api, path = resolve(["api", str(tmp_path / "Containerfile")], lambda: project,
                        extra={"failure_threshold": "error", "override": {"DL3006": "info"}})
    assert (api.settings.ignore, api.settings.failure_threshold) == (("DL3008",), "error")
    assert (path.settings.ignore, dict(path.settings.override)) == ((), {"DL3006": "info"})


def test_bad_names_and_set_without_profiles(tmp_path: Path) -> None:
    project = make(tmp_path)
    with pytest.raises(ConfigError, match="no profile named 'nope'"):
        resolve(["nope"], lambda: project)
    with pytest.raises(ConfigError, match="no Containerfile"):
        resolve(["missing/Containerfile"], lambda: project)
    with pytest.raises(ConfigError) as raised:
        resolve([str(tmp_path / "Containerfile")], lambda: project, sets=["lint.ignore=DL3008"])
    assert raised.value.key == "--set"
    empty = tmp_path / "empty"
    (empty / "profiles").mkdir(parents=True)
    with pytest.raises(ConfigError, match="no profiles in"):
        resolve([], lambda: Project(empty / "profiles", env={}))


def test_check_mode() -> None:
    check_mode(None)
    check_mode("error")
    with pytest.raises(ConfigError) as raised:
        check_mode("strict")
    assert raised.value.key == "--lint"


def test_an_s2i_profile_has_nothing_to_lint_and_its_report_says_why(tmp_path: Path) -> None:
    from builder.lint.run import Linter, lint
    from builder.lint.targets import S2I_REASON

    project = make(tmp_path)
    (tmp_path / "profiles" / "s2i.toml").write_text(
        'image = "team/s2i"\nstrategy = "s2i"\nbuilder = "registry.example.com/ubi9/python-311"\n')
    found = resolve([], lambda: project)
    assert [type(target).__name__ for target in found] == ["Target", "Unlinted", "Target"]  # api, s2i, web
    unlinted = found[1]
    assert isinstance(unlinted, Unlinted) and unlinted.profile == "s2i"
    empty = tmp_path / "empty"
    empty.mkdir()
    reports = lint([unlinted], Linter.find({"PATH": str(empty)}, beside=empty), rules=lambda subject: [])
    assert [(r.subject, r.findings, r.notes, r.exit_code) for r in reports] == [
        ("profile s2i", (), (S2I_REASON,), 0)]


def test_a_profiles_labels_reach_the_subject(tmp_path: Path) -> None:
    project = make(tmp_path)
    (tmp_path / "profiles" / "web.toml").write_text('image = "team/web"\n[labels]\nvendor = "ACME"\n')
    [target] = resolve(["web"], lambda: project)
    assert isinstance(target, Target) and dict(target.subject.labels) == {"vendor": "ACME"}
