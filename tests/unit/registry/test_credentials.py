"""builder.registry.credentials (with authfiles and helpers) against real files and real credential helper programs in temporary directories.

Every scenario builds a private HOME, XDG_RUNTIME_DIR and PATH and passes them as `env`, so nothing here
reads the machine's own credentials.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from builder.errors import AuthError, ConfigError
from builder.registry import helpers
from builder.registry.authfiles import auth_files
from builder.registry.credentials import Credential, Lookup, login_hint, lookup, x_registry_config

ROOT = Path(__file__).resolve().parents[3]
REF = "127.0.0.1:5000/team/sub/api"
HOST = "127.0.0.1:5000"

# Distinctive secrets: none of these (nor the base64 `auth` values that carry them) may show up anywhere.
PASSWORD = "pw-SECRET-xyzzy-4711"
TOKEN = "tok-SECRET-plugh-0815"
HELPER_SECRET = "helper-SECRET-frobozz-42"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def entry(user: str, password: str = PASSWORD, **extra: str) -> dict[str, str]:
    return {"auth": b64(f"{user}:{password}"), **extra}


def secrets() -> list[str]:
    """Every string that must never leak, including base64 forms of what the files hold."""
    values = [PASSWORD, TOKEN, HELPER_SECRET]
    for user in ("runtime", "config", "docker", "legacy", "explicit", "u", "user", "alice", "bob", "a", "b"):
        values.append(b64(f"{user}:{PASSWORD}"))
    values.append(b64(f"nocolon{PASSWORD}"))
    return values


@dataclass
class Sandbox:
    root: Path
    env: dict[str, str]

    @property
    def home(self) -> Path:
        return Path(self.env["HOME"])

    @property
    def runtime_file(self) -> Path:
        return Path(self.env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"

    @property
    def config_file(self) -> Path:
        return self.home / ".config" / "containers" / "auth.json"

    @property
    def docker_file(self) -> Path:
        return self.home / ".docker" / "config.json"

    @property
    def legacy_file(self) -> Path:
        return self.home / ".dockercfg"

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def write(self, path: Path, content: object, mode: int = 0o600) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
        path.chmod(mode)
        return path

    def helper(self, name: str, *, stdout: str = "", stderr: str = "", code: int = 0, sleep: float = 0) -> Path:
        """A real docker-credential-NAME program that logs its argv and stdin to NAME.log."""
        log = self.root / f"{name}.log"
        script = self.bin / f"docker-credential-{name}"
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(
            f"#!{sys.executable}\n"
            "import sys, time\n"
            "data = sys.stdin.read()\n"
            f"with open({str(log)!r}, 'a') as f: f.write(repr((sys.argv[1:], data)) + '\\n')\n"
            f"time.sleep({sleep!r})\n"
            f"sys.stdout.write({stdout!r})\n"
            f"sys.stderr.write({stderr!r})\n"
            f"sys.exit({code!r})\n"
        )
        script.chmod(0o755)
        return log

    def calls(self, name: str) -> list[tuple[list[str], str]]:
        log = self.root / f"{name}.log"
        if not log.exists():
            return []
        import ast

        return [ast.literal_eval(line) for line in log.read_text().splitlines()]

    def lookup(self, reference: str = REF, **kwargs: object) -> Lookup:
        return lookup(reference, env=self.env, uid=4242, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    (tmp_path / "home").mkdir()
    (tmp_path / "run").mkdir()
    env = {
        "HOME": str(tmp_path / "home"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
    }
    return Sandbox(tmp_path, env)


def helper_answer(user: str, secret: str = HELPER_SECRET) -> str:
    return json.dumps({"ServerURL": HOST, "Username": user, "Secret": secret})


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
        ({"HOME": "/h"}, None, ["/run/containers/77/auth.json", "/h/.config/containers/auth.json", "/h/.docker/config.json", "/h/.dockercfg"]),
        # Empty variables count as unset, as in Go.
        ({"HOME": "/h", "XDG_RUNTIME_DIR": "", "XDG_CONFIG_HOME": "", "DOCKER_CONFIG": "", "REGISTRY_AUTH_FILE": ""}, None,
         ["/run/containers/77/auth.json", "/h/.config/containers/auth.json", "/h/.docker/config.json", "/h/.dockercfg"]),
        ({"HOME": "/h", "XDG_RUNTIME_DIR": "/r", "XDG_CONFIG_HOME": "/x", "DOCKER_CONFIG": "/d"}, None,
         ["/r/containers/auth.json", "/x/containers/auth.json", "/d/config.json", "/h/.dockercfg"]),
        # An explicit file replaces the runtime-dir file; the fallbacks stay (podman 4.3.1).
        ({"HOME": "/h", "XDG_RUNTIME_DIR": "/r", "REGISTRY_AUTH_FILE": "/e.json"}, None,
         ["/e.json", "/h/.config/containers/auth.json", "/h/.docker/config.json", "/h/.dockercfg"]),
        ({"HOME": "/h", "XDG_RUNTIME_DIR": "/r", "REGISTRY_AUTH_FILE": "/e.json"}, Path("/a.json"),
         ["/a.json", "/h/.config/containers/auth.json", "/h/.docker/config.json", "/h/.dockercfg"]),
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


# --- which file wins ------------------------------------------------------------------------------------

FILES = ["explicit", "runtime", "config", "docker", "legacy"]


def _place(box: Sandbox, name: str, user: str) -> None:
    paths = {
        "explicit": box.root / "explicit.json",
        "runtime": box.runtime_file,
        "config": box.config_file,
        "docker": box.docker_file,
    }
    if name == "legacy":
        box.write(box.legacy_file, {HOST: entry(user)})
    else:
        box.write(paths[name], {"auths": {HOST: entry(user)}})


@pytest.mark.parametrize("first", FILES[1:])
def test_each_file_wins_over_the_later_ones(box: Sandbox, first: str) -> None:
    for name in FILES[FILES.index(first):]:
        _place(box, name, name)
    found = box.lookup()
    assert found.credential is not None
    assert found.credential.username == first
    assert found.credential.password == PASSWORD
    assert found.credential.key == HOST
    assert found.credential.registry == HOST


def test_explicit_authfile_wins_and_replaces_the_runtime_file(box: Sandbox) -> None:
    for name in FILES:
        _place(box, name, name)
    found = box.lookup(authfile=box.root / "explicit.json")
    assert found.credential is not None and found.credential.username == "explicit"
    assert found.credential.source == str(box.root / "explicit.json")
    assert not any(str(box.runtime_file) in line for line in found.tried)


def test_explicit_authfile_still_falls_back_to_the_other_files(box: Sandbox) -> None:
    """Podman 4.3.1 reads files 2-4 after --authfile (4.4 no longer does)."""
    box.write(box.root / "explicit.json", {"auths": {}})
    _place(box, "runtime", "runtime")  # replaced by the explicit file: never read
    _place(box, "docker", "docker")
    found = box.lookup(authfile=box.root / "explicit.json")
    assert found.credential is not None and found.credential.username == "docker"
    assert found.tried[0] == f"{box.root / 'explicit.json'}: no key for {REF}"


def test_registry_auth_file_is_an_explicit_file(box: Sandbox) -> None:
    _place(box, "explicit", "explicit")
    _place(box, "runtime", "runtime")
    box.env["REGISTRY_AUTH_FILE"] = str(box.root / "explicit.json")
    found = box.lookup()
    assert found.credential is not None and found.credential.username == "explicit"


@pytest.mark.parametrize("via", ["authfile", "env"])
def test_a_missing_explicit_auth_file_is_a_config_error(box: Sandbox, via: str) -> None:
    missing = box.root / "nope.json"
    with pytest.raises(ConfigError) as caught:
        if via == "authfile":
            box.lookup(authfile=missing)
        else:
            box.env["REGISTRY_AUTH_FILE"] = str(missing)
            box.lookup()
    assert caught.value.exit_code == 2
    assert str(missing) in str(caught.value)
    assert ("--authfile" if via == "authfile" else "$REGISTRY_AUTH_FILE") in str(caught.value)
    assert caught.value.hint is not None and f"podman login {HOST}" in caught.value.hint


def test_missing_xdg_runtime_dir_warns_and_goes_on(box: Sandbox) -> None:
    box.env["XDG_RUNTIME_DIR"] = str(box.root / "gone")
    _place(box, "docker", "docker")
    found = box.lookup()
    assert found.credential is not None and found.credential.username == "docker"
    assert any("gone" in w and "does not exist" in w for w in found.warnings)


def test_no_runtime_dir_uses_run_containers_uid(box: Sandbox) -> None:
    del box.env["XDG_RUNTIME_DIR"]
    found = box.lookup()
    assert found.credential is None
    assert found.tried[0] == "/run/containers/4242/auth.json: not found"


def test_nothing_found_lists_every_file(box: Sandbox) -> None:
    box.write(box.docker_file, {"auths": {"quay.io": entry("q")}})
    found = box.lookup()
    assert found.credential is None
    assert found.reference == REF
    assert found.tried == (
        f"{box.runtime_file}: not found",
        f"{box.config_file}: not found",
        f"{box.docker_file}: no key for {REF}",
        f"{box.legacy_file}: not found",
    )


# --- keys within a file ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ([HOST, f"{HOST}/team", f"{HOST}/team/sub", f"{HOST}/team/sub/api"], f"{HOST}/team/sub/api"),
        ([HOST, f"{HOST}/team", f"{HOST}/team/sub"], f"{HOST}/team/sub"),
        ([HOST, f"{HOST}/team"], f"{HOST}/team"),
        ([HOST], HOST),
        # Keys for other repositories never match, whatever their length.
        ([f"{HOST}/team/other", f"{HOST}/tea", HOST], HOST),
        # An exact host key beats a URL key that normalises to the host.
        ([f"https://{HOST}/v1/", HOST], HOST),
        ([f"https://{HOST}/v1/"], f"https://{HOST}/v1/"),
        ([f"http://{HOST}"], f"http://{HOST}"),
        ([f"https://{HOST}"], f"https://{HOST}"),
        # Without a scheme the key is not cut at '/', so it matches nothing.
        ([f"{HOST}/v1/"], None),
        # Two URL keys: the first in the file (podman: random).
        ([f"http://{HOST}/a", f"https://{HOST}/b"], f"http://{HOST}/a"),
    ],
)
def test_most_specific_key_first(box: Sandbox, keys: list[str], expected: str | None) -> None:
    box.write(box.runtime_file, {"auths": {key: entry(f"u{i}") for i, key in enumerate(keys)}})
    found = box.lookup()
    if expected is None:
        assert found.credential is None
    else:
        assert found.credential is not None and found.credential.key == expected
        assert found.credential.username == f"u{keys.index(expected)}"
        assert f'{box.runtime_file}: found key "{expected}"' in found.tried


@pytest.mark.parametrize(
    ("key", "matches"),
    [
        (HOST, True),
        (f"https://{HOST}/v1/", True),
        (f"{HOST}/whatever", True),  # legacy files cut every key at the first '/'
        (f"{HOST}/team/sub/api", True),
        ("127.0.0.1:5001", False),
    ],
)
def test_legacy_dockercfg_keys(box: Sandbox, key: str, matches: bool) -> None:
    box.write(box.legacy_file, {key: {"auth": b64(f"legacy:{PASSWORD}"), "email": "x@example.com"}})
    found = box.lookup()
    assert (found.credential is not None) is matches
    if matches:
        assert found.credential is not None
        assert found.credential.username == "legacy" and found.credential.key == key


def test_legacy_file_tries_only_the_host_as_exact_key(box: Sandbox) -> None:
    # Most specific first in a normal file, but a legacy file knows hosts only: the host key wins there
    # although the namespaced key comes first in the file.
    box.write(box.legacy_file, {f"{HOST}/team": entry("a"), HOST: entry("b")})
    found = box.lookup()
    assert found.credential is not None and found.credential.username == "b"


DOCKER_HUB_KEYS = ["docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/", "http://registry-1.docker.io"]


@pytest.mark.parametrize("key", DOCKER_HUB_KEYS)
@pytest.mark.parametrize("reference", ["docker.io/library/alpine", "docker.io/alpine", "index.docker.io/alpine", "registry-1.docker.io/library/alpine"])
def test_docker_hub_aliases(box: Sandbox, key: str, reference: str) -> None:
    box.write(box.docker_file, {"auths": {key: entry("hub")}})
    found = box.lookup(reference)
    assert found.credential is not None and found.credential.username == "hub"


def test_docker_hub_reference_is_normalised_like_podman(box: Sandbox) -> None:
    box.write(box.docker_file, {"auths": {"docker.io/library/alpine": entry("a"), "docker.io": entry("b")}})
    found = box.lookup("index.docker.io/alpine")
    assert found.reference == "docker.io/library/alpine"
    assert found.credential is not None and found.credential.username == "a"
    assert found.credential.registry == "docker.io"


def test_field_names_match_case_insensitively_like_go(box: Sandbox) -> None:
    box.write(box.runtime_file, {"Auths": {HOST: {"Auth": b64(f"u:{PASSWORD}")}}})
    found = box.lookup()
    assert found.credential is not None and found.credential.username == "u"


# --- decoding -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decoded", "user", "password"),
    [
        ("u:p", "u", "p"),
        ("u:p:with:colons", "u", "p:with:colons"),  # split on the first ':' only
        ("u:p\0\0\0", "u", "p"),  # trailing NULs trimmed
        ("u:\0p\0", "u", "p"),  # strings.Trim: from both ends
        (":p", "", "p"),
        ("u:", "u", ""),
    ],
)
def test_auth_decoding(box: Sandbox, decoded: str, user: str, password: str) -> None:
    box.write(box.runtime_file, {"auths": {HOST: {"auth": b64(decoded)}}})
    found = box.lookup()
    assert found.credential is not None
    assert (found.credential.username, found.credential.password) == (user, password)
    assert found.credential.basic_auth() == (user, password)


def test_auth_with_line_breaks_decodes_like_go(box: Sandbox) -> None:
    value = b64(f"u:{PASSWORD}")
    box.write(box.runtime_file, {"auths": {HOST: {"auth": value[:4] + "\r\n" + value[4:]}}})
    found = box.lookup()
    assert found.credential is not None and found.credential.password == PASSWORD


@pytest.mark.parametrize(
    "bad",
    [
        {},  # Docker's credential helper marker
        {"identitytoken": TOKEN},  # a token without auth is ignored with the entry
        {"auth": ""},
        {"auth": b64(f"nocolon{PASSWORD}"), "identitytoken": TOKEN},
        {"auth": b64(":")},  # empty user and password: "nothing found"
        None,
    ],
)
def test_unusable_entry_is_skipped_and_the_next_file_wins(box: Sandbox, bad: object) -> None:
    # The unusable most specific key ends this file's search: the less specific key in the same file is
    # not used (containers/image returns at the first matching key), the next file is.
    box.write(box.runtime_file, {"auths": {REF: bad, HOST: entry("same-file")}})
    box.write(box.docker_file, {"auths": {HOST: entry("next-file")}})
    found = box.lookup()
    assert found.credential is not None and found.credential.username == "next-file"
    assert found.credential.identity_token is None
    assert any("skipped, as podman does" in line for line in found.tried)


def test_identitytoken_next_to_a_valid_auth_is_kept(box: Sandbox) -> None:
    box.write(box.runtime_file, {"auths": {HOST: entry("u", identitytoken=TOKEN)}})
    credential = box.lookup().credential
    assert credential is not None
    assert (credential.username, credential.password, credential.identity_token) == ("u", PASSWORD, TOKEN)
    assert json.loads(base64.urlsafe_b64decode(credential.x_registry_auth())) == {
        "username": "u",
        "password": PASSWORD,
        "identitytoken": TOKEN,
    }


def test_invalid_base64_is_a_config_error_naming_the_key(box: Sandbox) -> None:
    box.write(box.runtime_file, {"auths": {HOST: {"auth": "!!" + PASSWORD}}})
    with pytest.raises(ConfigError) as caught:
        box.lookup()
    text = str(caught.value)
    assert str(box.runtime_file) in text and f'auths."{HOST}".auth' in text and "base64" in text
    assert PASSWORD not in text


# --- credential helpers ---------------------------------------------------------------------------------


def test_cred_helpers_beat_auths_of_the_same_file(box: Sandbox) -> None:
    box.helper("good", stdout=helper_answer("helper-user"))
    box.write(box.runtime_file, {"auths": {REF: entry("file")}, "credHelpers": {HOST: "good"}})
    credential = box.lookup().credential
    assert credential is not None
    assert (credential.username, credential.password) == ("helper-user", HELPER_SECRET)
    assert credential.source == "credential helper docker-credential-good"
    assert credential.key is None and credential.registry == HOST
    # The bare host on stdin, no newline, argument "get".
    assert box.calls("good") == [(["get"], HOST)]


def test_cred_helpers_match_the_exact_host_only(box: Sandbox) -> None:
    box.helper("good", stdout=helper_answer("helper-user"))
    box.write(box.runtime_file, {"auths": {HOST: entry("file")}, "credHelpers": {f"https://{HOST}": "good", f"{HOST}/team": "good"}})
    credential = box.lookup().credential
    assert credential is not None and credential.username == "file"
    assert box.calls("good") == []


def test_helper_not_found_ends_that_file_and_goes_to_the_next(box: Sandbox) -> None:
    box.helper("empty", stdout="credentials not found in native keychain\n", code=1)
    box.write(box.runtime_file, {"auths": {HOST: entry("same-file")}, "credHelpers": {HOST: "empty"}})
    box.write(box.docker_file, {"auths": {HOST: entry("next-file")}})
    found = box.lookup()
    assert found.credential is not None and found.credential.username == "next-file"
    assert f"credential helper docker-credential-empty: no credentials for {HOST}" in found.tried


@pytest.mark.parametrize(
    ("stdout", "stderr"),
    [("", "Error: credentials not found"), ("Credentials not found in native keychain", "")],
)
def test_not_found_wording_on_either_stream(box: Sandbox, stdout: str, stderr: str) -> None:
    box.helper("empty", stdout=stdout, stderr=stderr, code=1)
    box.write(box.runtime_file, {"credHelpers": {HOST: "empty"}})
    assert box.lookup().credential is None


def test_helper_empty_answer_is_no_credentials(box: Sandbox) -> None:
    box.helper("blank", stdout=json.dumps({"ServerURL": HOST, "Username": "", "Secret": ""}))
    box.write(box.runtime_file, {"credHelpers": {HOST: "blank"}})
    assert box.lookup().credential is None


def test_helper_token_username_means_identity_token(box: Sandbox) -> None:
    box.helper("tok", stdout=helper_answer("<token>", TOKEN))
    box.write(box.runtime_file, {"credHelpers": {HOST: "tok"}})
    credential = box.lookup().credential
    assert credential is not None
    assert (credential.username, credential.password, credential.identity_token) == (None, None, TOKEN)
    assert credential.basic_auth() is None
    assert json.loads(base64.urlsafe_b64decode(credential.x_registry_auth())) == {"identitytoken": TOKEN}


def test_helper_gets_the_callers_environment(box: Sandbox) -> None:
    marker = box.root / "env.txt"
    script = box.bin / "docker-credential-envy"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(
        f"#!{sys.executable}\nimport os, json, sys\nsys.stdin.read()\n"
        f"open({str(marker)!r}, 'w').write(os.environ.get('IMGCTL_TEST_VAR', ''))\n"
        "print(json.dumps({'Username': 'u', 'Secret': 's'}))\n"
    )
    script.chmod(0o755)
    box.env["IMGCTL_TEST_VAR"] = "from-env"
    box.write(box.runtime_file, {"credHelpers": {HOST: "envy"}})
    assert box.lookup().credential is not None
    assert marker.read_text() == "from-env"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"stdout": "", "stderr": "gpg: decryption failed", "code": 1}, "exit status 1"),
        ({"stdout": HELPER_SECRET, "stderr": f"oops {HELPER_SECRET}", "code": 1}, "exit status 1"),
        ({"stdout": f"not json {HELPER_SECRET}"}, "not"),
        ({"stdout": json.dumps({"Username": 5, "Secret": HELPER_SECRET})}, "not"),
        ({"stdout": "credentials not found in native keychain"}, "not"),  # exit 0: not the protocol
    ],
)
def test_helper_failures_are_auth_errors_without_output(box: Sandbox, kwargs: dict[str, object], fragment: str) -> None:
    box.helper("bad", **kwargs)  # type: ignore[arg-type]
    box.write(box.runtime_file, {"credHelpers": {HOST: "bad"}})
    with pytest.raises(AuthError) as caught:
        box.lookup()
    text = str(caught.value) + str(caught.value.hint)
    assert caught.value.exit_code == 3
    assert "docker-credential-bad" in text and HOST in text and fragment in text
    assert HELPER_SECRET not in text and "gpg" not in text
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_helper_missing_from_path_is_an_auth_error(box: Sandbox) -> None:
    box.write(box.runtime_file, {"credHelpers": {HOST: "absent"}})
    with pytest.raises(AuthError, match="docker-credential-absent is not on PATH") as caught:
        box.lookup()
    assert str(box.runtime_file) in str(caught.value) and HOST in str(caught.value)


def test_helper_timeout_is_an_auth_error(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helpers, "HELPER_TIMEOUT", 0.5)
    box.helper("slow", stdout=helper_answer("u"), sleep=5)
    box.write(box.runtime_file, {"credHelpers": {HOST: "slow"}})
    with pytest.raises(AuthError, match=r"docker-credential-slow did not answer within 0\.5 s") as caught:
        box.lookup()
    assert caught.value.__context__ is None


@pytest.mark.parametrize("name", ["", "../evil", "a/b"])
def test_helper_names_with_a_path_are_rejected(box: Sandbox, name: str) -> None:
    box.write(box.runtime_file, {"credHelpers": {HOST: name}})
    with pytest.raises(ConfigError, match="is not a credential helper name"):
        box.lookup()


# --- credsStore (imgctl's addition) ---------------------------------------------------------------------


def test_creds_store_is_used_when_the_file_has_no_key(box: Sandbox) -> None:
    box.helper("store", stdout=helper_answer("stored"))
    box.write(box.docker_file, {"auths": {"quay.io": {}}, "credsStore": "store"})
    found = box.lookup()
    assert found.credential is not None and found.credential.username == "stored"
    assert found.credential.source == "credential helper docker-credential-store"
    assert box.calls("store") == [(["get"], HOST)]
    assert f"{box.docker_file}: credsStore sends {HOST} to docker-credential-store" in found.tried


def test_creds_store_is_used_for_dockers_empty_marker(box: Sandbox) -> None:
    box.helper("store", stdout=helper_answer("stored"))
    box.write(box.docker_file, {"auths": {HOST: {}}, "credsStore": "store"})
    credential = box.lookup().credential
    assert credential is not None and credential.username == "stored"


def test_auths_of_the_same_file_beat_creds_store(box: Sandbox) -> None:
    box.helper("store", stdout=helper_answer("stored"))
    box.write(box.docker_file, {"auths": {HOST: entry("file")}, "credsStore": "store"})
    credential = box.lookup().credential
    assert credential is not None and credential.username == "file"
    assert box.calls("store") == []


def test_cred_helpers_beat_creds_store(box: Sandbox) -> None:
    box.helper("store", stdout=helper_answer("stored"))
    box.helper("specific", stdout=helper_answer("specific"))
    box.write(box.docker_file, {"credHelpers": {HOST: "specific"}, "credsStore": "store"})
    credential = box.lookup().credential
    assert credential is not None and credential.username == "specific"
    assert box.calls("store") == []


def test_an_earlier_file_beats_a_later_creds_store(box: Sandbox) -> None:
    box.helper("store", stdout=helper_answer("stored"))
    box.write(box.runtime_file, {"auths": {HOST: entry("runtime")}})
    box.write(box.docker_file, {"credsStore": "store"})
    credential = box.lookup().credential
    assert credential is not None and credential.username == "runtime"
    assert box.calls("store") == []


def test_creds_store_not_found_goes_to_the_next_file(box: Sandbox) -> None:
    box.helper("store", stdout="credentials not found in native keychain", code=1)
    box.write(box.docker_file, {"credsStore": "store"})
    box.write(box.legacy_file, {HOST: entry("legacy")})
    credential = box.lookup().credential
    assert credential is not None and credential.username == "legacy"


def test_creds_store_asks_for_docker_hub_by_dockers_server_url_first(box: Sandbox) -> None:
    box.helper("store", stdout="credentials not found in native keychain", code=1)
    box.write(box.docker_file, {"credsStore": "store"})
    found = box.lookup("docker.io/library/alpine")
    assert found.credential is None
    assert box.calls("store") == [(["get"], "https://index.docker.io/v1/"), (["get"], "docker.io")]


def test_creds_store_in_legacy_file_is_just_a_host_named_credsStore(box: Sandbox) -> None:
    box.helper("store", stdout=helper_answer("stored"))
    box.write(box.legacy_file, {"credsStore": {"auth": b64(f"x:{PASSWORD}")}})
    assert box.lookup().credential is None
    assert box.calls("store") == []


# --- file problems --------------------------------------------------------------------------------------


def test_malformed_json_names_file_and_line_not_content(box: Sandbox) -> None:
    text = '{\n  "auths": {\n    "%s": {"auth": "%s"}\n    "quay.io": {}\n  }\n}\n' % (HOST, b64(f"u:{PASSWORD}"))
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


@pytest.mark.parametrize(("mode", "warns"), [(0o644, True), (0o640, True), (0o604, True), (0o600, False), (0o400, False)])
def test_permission_warning(box: Sandbox, mode: int, warns: bool) -> None:
    box.write(box.docker_file, {"auths": {HOST: entry("u")}}, mode=mode)
    found = box.lookup()
    expected = f"{box.docker_file} is readable by other users (mode {mode:04o}); run chmod 600 {box.docker_file}"
    assert found.warnings == ((expected,) if warns else ())


def test_permission_warning_for_a_read_file_that_did_not_match(box: Sandbox) -> None:
    box.write(box.runtime_file, {"auths": {"quay.io": entry("q")}}, mode=0o644)
    box.write(box.docker_file, {"auths": {HOST: entry("u")}})
    assert box.lookup().warnings == (f"{box.runtime_file} is readable by other users (mode 0644); run chmod 600 {box.runtime_file}",)


def test_no_permission_warning_for_a_file_without_secrets(box: Sandbox) -> None:
    box.helper("good", stdout=helper_answer("u"))
    box.write(box.docker_file, {"auths": {"quay.io": {}}, "credHelpers": {HOST: "good"}}, mode=0o644)
    assert box.lookup().warnings == ()


# --- references, hints, headers -------------------------------------------------------------------------


@pytest.mark.parametrize("reference", ["team/api", "api", "localhost", f"{HOST}/api:1.0", f"{HOST}/api@sha256:{'a' * 64}", "https://x.io/api", ""])
def test_references_without_host_or_with_tag_are_rejected(box: Sandbox, reference: str) -> None:
    with pytest.raises(ValueError):
        box.lookup(reference)


def test_localhost_is_a_host(box: Sandbox) -> None:
    box.write(box.runtime_file, {"auths": {"localhost": entry("l")}})
    credential = box.lookup("localhost/api").credential
    assert credential is not None and credential.registry == "localhost"


@pytest.mark.parametrize(
    ("reference", "authfile", "hint"),
    [
        (REF, None, f"podman login {HOST}"),
        ("quay.io/team/api", Path("/tmp/my auth.json"), "podman login quay.io --authfile '/tmp/my auth.json'"),
        ("index.docker.io/alpine", None, "podman login docker.io"),
        ("[::1]:5000/api", None, "podman login '[::1]:5000'"),
    ],
)
def test_login_hint(reference: str, authfile: Path | None, hint: str) -> None:
    assert login_hint(reference, authfile) == hint


def test_x_registry_auth_is_podman_pys_encoding() -> None:
    from podman.api.http_utils import encode_auth_header

    credential = Credential(HOST, "u", "p+/?>", None, "f", HOST)
    assert credential.x_registry_auth() == encode_auth_header({"username": "u", "password": "p+/?>"}).decode()


def _cred(registry: str, user: str | None, password: str | None, token: str | None = None) -> Credential:
    return Credential(registry, user, password, token, "f", None)


def test_x_registry_config() -> None:
    lookups = [
        Lookup("quay.io/a/x", _cred("quay.io", "q", "qp"), (), ()),
        Lookup("quay.io/a/y", _cred("quay.io", "q", "qp"), (), ()),
        Lookup(f"{HOST}/team/one", _cred(HOST, "one", "p1"), (), ()),
        Lookup(f"{HOST}/team/two", _cred(HOST, "two", "p2"), (), ()),
        Lookup("ghcr.io/t/z", _cred("ghcr.io", None, None, TOKEN), (), ()),  # token only: podman drops it
        Lookup("docker.io/library/alpine", None, (), ()),
    ]
    header = x_registry_config(lookups)
    assert "+" not in header and "/" not in header
    assert json.loads(base64.urlsafe_b64decode(header)) == {
        "quay.io": {"username": "q", "password": "qp"},
        f"{HOST}/team/one": {"username": "one", "password": "p1"},
        f"{HOST}/team/two": {"username": "two", "password": "p2"},
    }
    assert TOKEN not in base64.urlsafe_b64decode(header).decode()


def test_x_registry_config_is_empty_without_credentials() -> None:
    assert x_registry_config([]) == ""
    assert x_registry_config([Lookup("quay.io/a", None, (), ())]) == ""


def test_credential_repr_and_str_are_redacted() -> None:
    credential = Credential(HOST, "u", PASSWORD, TOKEN, "/f.json", HOST)
    expected = f"Credential(registry='{HOST}', username='u', source='/f.json', key='{HOST}', secret=<redacted>)"
    assert repr(credential) == str(credential) == expected
    assert PASSWORD not in repr(Lookup(REF, credential, (), ()))
    assert f"{credential}" == expected and "%s" % (credential,) == expected


def test_credential_is_frozen() -> None:
    credential = Credential(HOST, "u", PASSWORD, None, "/f.json", HOST)
    with pytest.raises(Exception):
        credential.password = "x"  # type: ignore[misc]


def test_import_is_stdlib_only() -> None:
    import subprocess as sp

    code = (
        "import sys; import builder.registry.credentials; "
        "third = [m for m in sys.modules if m.split('.')[0] not in sys.stdlib_module_names and m.split('.')[0] != 'builder' and not m.startswith('_')]; "
        "print(third)"
    )
    assert sp.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


# --- nothing ever leaks ---------------------------------------------------------------------------------


def _scenarios(box: Sandbox) -> list[tuple[str, object]]:
    """Build every situation; return (name, setup) pairs. Each setup prepares `box` and returns a reference."""

    def success_file() -> str:
        box.write(box.runtime_file, {"auths": {HOST: entry("u", identitytoken=TOKEN)}}, mode=0o644)
        return REF

    def success_helper() -> str:
        box.helper("ok", stdout=helper_answer("user"))
        box.write(box.runtime_file, {"auths": {HOST: entry("a")}, "credHelpers": {HOST: "ok"}}, mode=0o644)
        return REF

    def success_token_helper() -> str:
        box.helper("tok", stdout=helper_answer("<token>", TOKEN))
        box.write(box.docker_file, {"credsStore": "tok", "auths": {HOST: {"identitytoken": TOKEN}}})
        return REF

    def skipped_entries() -> str:
        box.write(box.runtime_file, {"auths": {REF: {"auth": b64(f"nocolon{PASSWORD}"), "identitytoken": TOKEN}}})
        box.write(box.legacy_file, {HOST: entry("legacy")}, mode=0o666)
        return REF

    def malformed() -> str:
        box.write(box.config_file, '{"auths": {"%s": {"auth": "%s", }}}' % (HOST, b64(f"u:{PASSWORD}")))
        return REF

    def malformed_unterminated() -> str:
        box.write(box.config_file, '{"auths": {"%s": {"auth": "%s' % (HOST, b64(f"u:{PASSWORD}")))
        return REF

    def bad_base64() -> str:
        box.write(box.config_file, {"auths": {HOST: {"auth": PASSWORD + "!"}}})
        return REF

    def wrong_type() -> str:
        box.write(box.config_file, {"auths": {HOST: {"auth": b64(f"u:{PASSWORD}"), "identitytoken": [TOKEN]}}})
        return REF

    def helper_fails_loudly() -> str:
        box.helper("loud", stdout=f"the password is {HELPER_SECRET}", stderr=f"{HELPER_SECRET} {PASSWORD}", code=1)
        box.write(box.runtime_file, {"credHelpers": {HOST: "loud"}})
        return REF

    def helper_garbage() -> str:
        box.helper("garbage", stdout=f'{{"Username": "u", "Secret": "{HELPER_SECRET}"')
        box.write(box.runtime_file, {"credHelpers": {HOST: "garbage"}})
        return REF

    def helper_not_found_with_secret_on_stderr() -> str:
        box.helper("nf", stdout="credentials not found in native keychain", stderr=HELPER_SECRET, code=1)
        box.write(box.runtime_file, {"credHelpers": {HOST: "nf"}})
        return REF

    return [(f.__name__, f) for f in (
        success_file, success_helper, success_token_helper, skipped_entries, malformed, malformed_unterminated,
        bad_base64, wrong_type, helper_fails_loudly, helper_garbage, helper_not_found_with_secret_on_stderr,
    )]


SCENARIOS = [name for name, _ in _scenarios(Sandbox(Path("/nonexistent"), {}))]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_secrets_never_leak(box: Sandbox, scenario: str, caplog: pytest.LogCaptureFixture) -> None:
    setup = dict(_scenarios(box))[scenario]
    reference = setup()  # type: ignore[operator]
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []
    try:
        found = box.lookup(reference)
    except (AuthError, ConfigError) as error:
        shown += [str(error), repr(error), str(error.hint), repr(error.args)]
        import traceback

        shown.append("".join(traceback.format_exception(type(error), error, error.__traceback__)))
    else:
        shown += [repr(found), str(found), *found.tried, *found.warnings]
        if found.credential is not None:
            shown += [repr(found.credential), str(found.credential), f"{found.credential}"]
    shown += [record.getMessage() for record in caplog.records]
    shown.append(caplog.text)
    assert caplog.records, "lookup logs at DEBUG"
    everything = "\n".join(shown)
    for secret in secrets():
        assert secret not in everything, f"{scenario}: a secret leaked"
