from __future__ import annotations

import pytest

from builder.lint.rules.modes import grant

PERMS = ("OS105", "OS106", "OS107")
UBI = "FROM registry.access.redhat.com/ubi9/ubi:9.4\n"


@pytest.mark.parametrize(("mode", "group", "other", "sticky"), [
    ("775", True, False, False), ("0664", True, False, False), ("755", False, False, False),
    ("777", True, True, False), ("1777", True, True, True), ("g=u", True, False, False),
    ("g+rwX", True, False, False), ("o+w", False, True, False), ("a+w", True, True, False),
    ("u+x,g+w", True, False, False), ("+w", False, False, False), ("g-w", False, False, False),
    ("a+rwxt", True, True, True),
])
def test_grant(mode: str, group: bool, other: bool, sticky: bool) -> None:
    given = grant(mode)
    assert given is not None
    assert (given.group_write, given.other_write, given.sticky) == (group, other, sticky)


@pytest.mark.parametrize("mode", ["$MODE", "--reference=/x", "8"])
def test_not_a_mode(mode: str) -> None:
    assert grant(mode) is None


def test_the_openshift_recipe_passes(lint) -> None:
    text = f"{UBI}WORKDIR /opt/app\nRUN mkdir -p /opt/app/data && chgrp -R 0 /opt/app && chmod -R g=u /opt/app\n"
    assert lint(text, codes=PERMS) == []


def test_copy_chown_group_0_with_group_writable_chmod_passes(lint) -> None:
    text = f"{UBI}WORKDIR /opt/app\nCOPY --chown=1001:0 --chmod=775 src/ ./\n"
    assert lint(text, codes=PERMS) == []


def test_copy_chown_group_0_alone_leaves_the_group_without_write(findings) -> None:
    (found,) = findings(f"{UBI}WORKDIR /opt/app\nCOPY --chown=1001:0 src/ ./\n", codes=PERMS)
    assert (found.code, found.line) == ("OS105", 2) and "chmod -R g=u" in found.message


@pytest.mark.parametrize("owner", ["1001:root", "app.0", "$UID:0"])
def test_chown_to_group_0_counts(lint, owner: str) -> None:
    text = f"{UBI}ARG UID=1001\nWORKDIR /srv\nRUN chown -R {owner} /srv && chmod -R g+rwX /srv\n"
    assert lint(text, codes=PERMS) == []


def test_each_writable_place_is_reported_once_at_its_line(lint) -> None:
    text = (f"{UBI}WORKDIR /srv/app\nVOLUME /data /tmp/cache\nRUN mkdir -p /var/lib/app/db /srv/app/sub\n"
            "RUN mkdir /var/lib/app/db/x\n")
    assert lint(text, codes=PERMS) == [("OS105", 2), ("OS105", 3), ("OS105", 4)]


def test_a_fix_before_mkdir_does_not_reach_the_new_directory(lint) -> None:
    text = f"{UBI}RUN chgrp -R 0 /opt && chmod -R g=u /opt\nRUN mkdir /opt/late\n"
    assert lint(text, codes=PERMS) == [("OS105", 3)]


def test_a_fix_without_recursion_covers_only_that_directory(lint) -> None:
    text = f"{UBI}RUN mkdir -p /opt/app/data && chgrp 0 /opt/app && chmod g=u /opt/app\n"
    assert lint(text, codes=PERMS) == [("OS105", 2)]


def test_relative_paths_and_variables_resolve_against_workdir(lint) -> None:
    text = (f"{UBI}ENV APP_ROOT=/opt/app-root\nWORKDIR $APP_ROOT/src\nRUN mkdir logs && "
            "chgrp -R 0 ${APP_ROOT} && chmod -R g=u ${APP_ROOT}\n")
    assert lint(text, codes=PERMS) == []


def test_profile_writable_paths(findings) -> None:
    (found,) = findings(f"{UBI}USER 1001\n", codes=PERMS, writable_paths=("/var/run/app",))
    assert (found.code, found.line) == ("OS105", 1) and "writable_paths" in found.message
    text = f"{UBI}RUN mkdir -p /var/run/app && chgrp -R 0 /var/run/app && chmod -R g=u /var/run/app\n"
    assert findings(text, codes=PERMS, writable_paths=("/var/run/app",)) == []


def test_only_the_final_image_needs_group_0(lint) -> None:
    text = f"{UBI[:-1]} AS build\nWORKDIR /src\nRUN mkdir out\n{UBI}COPY --from=build /src/out /app\n"
    assert lint(text, codes=PERMS) == []


def test_shell_variables_and_system_directories_are_not_guessed(lint) -> None:
    text = f"{UBI}RUN mkdir -p ~/.cache $HOME/x /etc /usr/local/bin && mkdir -p \"$(pwd)/y\"\n"
    assert lint(text, codes=PERMS) == []


def test_fix_of_a_path_imgctl_cannot_know_is_not_doubted(lint) -> None:
    # APP_ROOT comes from the base image's ENV (the UBI runtime images set it).
    text = f"{UBI}WORKDIR /opt/app-root/src\nRUN chgrp -R 0 $APP_ROOT && chmod -R g=u $APP_ROOT\n"
    assert lint(text, codes=PERMS) == []


def test_sclorg_fix_permissions(lint) -> None:
    text = f"{UBI}WORKDIR /opt/app-root/src\nRUN fix-permissions /opt/app-root -P\n"
    assert lint(text, codes=PERMS) == []


def test_tmp_is_scratch_space(lint) -> None:
    assert lint(f"{UBI}WORKDIR /tmp\nRUN mkdir -p /tmp/x /var/tmp/y\n", codes=PERMS) == []


@pytest.mark.parametrize("command", [
    "chmod g=u /etc/passwd", "chmod 664 /etc/passwd", "chmod o+w /etc/group", "chmod -R g+w /etc",
    "chmod -R g=u /",
])
def test_passwd_made_writable(lint, command: str) -> None:
    assert ("OS106", 2) in lint(f"{UBI}RUN {command}\n", codes=PERMS)


@pytest.mark.parametrize("command", ["chmod 644 /etc/passwd", "chmod g=u /etc/app", "chmod g+w /etc"])
def test_passwd_untouched(lint, command: str) -> None:
    assert ("OS106", 2) not in lint(f"{UBI}RUN {command}\n", codes=PERMS)


@pytest.mark.parametrize("command", ["chmod 777 /opt", "chmod -R o+w /opt", "chmod a+rwx /opt", "chmod 0666 /f",
                                     "set -e; chmod -R 777 /opt"])
def test_world_writable_anywhere(lint, command: str) -> None:
    text = f"{UBI[:-1]} AS build\nRUN {command}\n{UBI}USER 1001\n"
    assert lint(text, codes=("OS107",)) == [("OS107", 2)]


@pytest.mark.parametrize("command", ["chmod 1777 /srv/spool", "chmod a+rwxt /srv/spool", "chmod 775 /opt"])
def test_sticky_or_group_only_is_not_world_writable(lint, command: str) -> None:
    assert lint(f"{UBI}RUN {command}\n", codes=("OS107",)) == []


def test_copy_chmod_world_writable(lint) -> None:
    assert lint(f"{UBI}COPY --chmod=777 a /a\nADD --chmod=755 b /b\n", codes=("OS107",)) == [("OS107", 2)]


def test_exec_form_run(lint) -> None:
    assert lint(f'{UBI}RUN ["chmod", "777", "/opt"]\nRUN ["/bin/sh", "-c", "chmod o+w /srv"]\n',
                codes=("OS107",)) == [("OS107", 2), ("OS107", 3)]
