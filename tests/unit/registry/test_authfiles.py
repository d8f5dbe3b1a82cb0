"""builder.registry.authfiles: where the auth files are, and reading them (shapes, permissions, broken
files), against real files in a private HOME and XDG_RUNTIME_DIR."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from builder.errors import ConfigError
from builder.registry.authfiles import auth_files
from tests.unit.registry.sandbox import (
    HOST,
    PASSWORD,
    REF,
    ROOT,
    Sandbox,
    b64,
    entry,
    helper_answer,
)

# --- the list of files ----------------------------------------------------------------------------------


def test_auth_files_default_order() -> None:
    env = {"HOME": "/h", "XDG_RUNTIME_DIR": "/run/user/1000"}
    assert auth_files(env, uid=1000) == [
        (Path("/run/user/1000/containers/auth.json"), False),
        (Path("/h/.config/containers/auth.json"), False),
        (Path("/h/.docker/config.json"), False),
        (Path("/h/.dockercfg"), True),
    ]


@pytest.mark.parametrize(
    ("env", "authfile", "expected"),
    [
        # No XDG_RUNTIME_DIR: the per-UID file under /run/containers.
        (
            {"HOME": "/h"},
            None,
            [
                "/run/containers/77/auth.json",
                "/h/.config/containers/auth.json",
                "/h/.docker/config.json",
                "/h/.dockercfg",
            ],
        ),
        # Empty variables count as unset, as in Go.
        (
            {"HOME": "/h", "XDG_RUNTIME_DIR": "", "XDG_CONFIG_HOME": "", "DOCKER_CONFIG": "", "REGISTRY_AUTH_FILE": ""},
            None,
            [
                "/run/containers/77/auth.json",
                "/h/.config/containers/auth.json",
                "/h/.docker/config.json",
                "/h/.dockercfg",
            ],
        ),
        (
            {"HOME": "/h", "XDG_RUNTIME_DIR": "/r", "XDG_CONFIG_HOME": "/x", "DOCKER_CONFIG": "/d"},
            None,
            ["/r/containers/auth.json", "/x/containers/auth.json", "/d/config.json", "/h/.dockercfg"],
        ),
        # An explicit file replaces the runtime-dir file; the fallbacks stay (podman 4.3.1).
        (
            {"HOME": "/h", "XDG_RUNTIME_DIR": "/r", "REGISTRY_AUTH_FILE": "/e.json"},
            None,
            ["/e.json", "/h/.config/containers/auth.json", "/h/.docker/config.json", "/h/.dockercfg"],
        ),
        (
            {"HOME": "/h", "XDG_RUNTIME_DIR": "/r", "REGISTRY_AUTH_FILE": "/e.json"},
            Path("/a.json"),
            ["/a.json", "/h/.config/containers/auth.json", "/h/.docker/config.json", "/h/.dockercfg"],
        ),
    ],
)
def test_auth_files_table(env: dict[str, str], authfile: Path | None, expected: list[str]) -> None:
    files = auth_files(env, authfile, uid=77)
    assert [str(path) for path, _ in files] == expected
    assert [legacy for _, legacy in files] == [False, False, False, True]


def test_auth_files_without_home_uses_the_password_database() -> None:
    import pwd

    uid = os.getuid()
    files = auth_files({}, uid=uid)
    assert files[-1] == (Path(pwd.getpwuid(uid).pw_dir) / ".dockercfg", True)


# --- file problems --------------------------------------------------------------------------------------


def test_malformed_json_names_file_and_line_not_content(box: Sandbox) -> None:
    text = '{{\n  "auths": {{\n    "{}": {{"auth": "{}"}}\n    "quay.io": {{}}\n  }}\n}}\n'.format(
        HOST, b64(f"u:{PASSWORD}")
    )
    box.write(box.config_file, text)
    with pytest.raises(ConfigError) as caught:
        box.lookup()
    error = caught.value
    assert error.exit_code == 2
    assert error.file == box.config_file and error.line == 4
    assert str(error).startswith(f"{box.config_file}:4: not valid JSON: Expecting ',' delimiter")
    assert PASSWORD not in str(error) and b64(f"u:{PASSWORD}") not in str(error)
    assert error.__context__ is None and error.__cause__ is None


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ([1, 2], None),
        ({"auths": []}, "auths"),
        ({"auths": {HOST: PASSWORD}}, f'auths."{HOST}"'),
        ({"auths": {HOST: {"auth": 5}}}, f'auths."{HOST}".auth'),
        ({"credHelpers": {HOST: 1}}, f'credHelpers."{HOST}"'),
        ({"credHelpers": ["x"]}, "credHelpers"),
        ({"credsStore": {"x": 1}}, "credsStore"),
    ],
)
def test_wrong_shapes_are_config_errors(box: Sandbox, content: object, key: str | None) -> None:
    box.write(box.runtime_file, content)
    with pytest.raises(ConfigError) as caught:
        box.lookup()
    assert caught.value.key == key and caught.value.file == box.runtime_file
    assert PASSWORD not in str(caught.value)


def test_json_null_file_is_empty_like_in_go(box: Sandbox) -> None:
    box.write(box.runtime_file, "null")
    assert box.lookup().credential is None


def test_unreadable_file_is_a_config_error(box: Sandbox) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file: test_unreadable_file_is_a_config_error_as_an_unprivileged_user covers it")
    box.write(box.runtime_file, {"auths": {}}, mode=0o000)
    with pytest.raises(ConfigError, match="cannot read this auth file: Permission denied"):
        box.lookup()


SYSTEM_PYTHON = "/usr/bin/python3"  # the venv's interpreter may live where the unprivileged user cannot go


def _unprivileged_user() -> pwd.struct_passwd:
    """The user .ci/run creates (IMGCTL_ROOTLESS_USER, default imgctl-ci); skip, or fail in CI, without it."""
    name = os.environ.get("IMGCTL_ROOTLESS_USER") or "imgctl-ci"
    reason = None
    try:
        user = pwd.getpwnam(name)
    except KeyError:
        reason = f"user {name} does not exist (.ci/run creates it)"
    if reason is None and not Path(SYSTEM_PYTHON).exists():
        reason = f"{SYSTEM_PYTHON} is missing"
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the unreadable-file test must run in CI: {reason}")
        pytest.skip(reason)
    return user


def test_unreadable_file_is_a_config_error_as_an_unprivileged_user(tmp_path: Path) -> None:
    # CI runs as root, and root reads any file; so the lookup runs as an unprivileged user, in a directory
    # that user can enter, on a file it owns but whose mode forbids reading.
    if os.geteuid() != 0:
        pytest.skip("switching users needs root; test_unreadable_file_is_a_config_error covers this user")
    user = _unprivileged_user()
    root = Path(tempfile.mkdtemp(prefix="imgctl-unreadable-"))
    try:
        root.chmod(0o755)
        auth_file = root / "containers" / "auth.json"
        auth_file.parent.mkdir(mode=0o755)
        auth_file.write_text(json.dumps({"auths": {}}))
        os.chown(auth_file, user.pw_uid, user.pw_gid)
        code = (
            "import sys\n"
            "from builder.errors import ConfigError\n"
            "from builder.registry.credentials import lookup\n"
            "try:\n"
            f"    lookup({REF!r}, env={{'XDG_RUNTIME_DIR': {str(root)!r}, 'HOME': {str(root)!r}}})\n"
            "except ConfigError as error:\n"
            "    print(f'ConfigError: {error}')\n"
            "else:\n"
            "    print('read')\n"
        )

        def run_as_user() -> str:
            done = subprocess.run(
                [SYSTEM_PYTHON, "-c", code],
                capture_output=True,
                text=True,
                user=user.pw_uid,
                group=user.pw_gid,
                extra_groups=[],
                env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                cwd=root,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr
            return done.stdout.strip()

        auth_file.chmod(0o600)
        assert run_as_user() == "read"  # the user reaches and reads its own file: only the mode differs below
        auth_file.chmod(0o000)
        assert run_as_user() == f"ConfigError: {auth_file}: cannot read this auth file: Permission denied"
    finally:
        shutil.rmtree(root)


def test_auth_file_that_is_a_directory_is_a_config_error(box: Sandbox) -> None:
    box.runtime_file.mkdir(parents=True)
    with pytest.raises(ConfigError, match="cannot read this auth file: Is a directory"):
        box.lookup()


def test_the_same_file_twice_is_read_once(box: Sandbox) -> None:
    box.helper("empty", stdout="credentials not found in native keychain", code=1)
    box.write(box.docker_file, {"credHelpers": {HOST: "empty"}})
    found = box.lookup(authfile=box.docker_file)
    assert found.credential is None
    assert f"{box.docker_file}: already searched" in found.tried
    assert len(box.calls("empty")) == 1


@pytest.mark.parametrize(
    ("mode", "warns"), [(0o644, True), (0o640, True), (0o604, True), (0o600, False), (0o400, False)]
)
def test_permission_warning(box: Sandbox, mode: int, warns: bool) -> None:
    box.write(box.docker_file, {"auths": {HOST: entry("u")}}, mode=mode)
    found = box.lookup()
    expected = f"{box.docker_file} is readable by other users (mode {mode:04o}); run chmod 600 {box.docker_file}"
    assert found.warnings == ((expected,) if warns else ())


def test_permission_warning_for_a_read_file_that_did_not_match(box: Sandbox) -> None:
    box.write(box.runtime_file, {"auths": {"quay.io": entry("q")}}, mode=0o644)
    box.write(box.docker_file, {"auths": {HOST: entry("u")}})
    assert box.lookup().warnings == (
        f"{box.runtime_file} is readable by other users (mode 0644); run chmod 600 {box.runtime_file}",
    )


def test_no_permission_warning_for_a_file_without_secrets(box: Sandbox) -> None:
    box.helper("good", stdout=helper_answer("u"))
    box.write(box.docker_file, {"auths": {"quay.io": {}}, "credHelpers": {HOST: "good"}}, mode=0o644)
    assert box.lookup().warnings == ()
