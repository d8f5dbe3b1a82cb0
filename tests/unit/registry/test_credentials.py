"""builder.registry.credentials against real files and real credential helper programs in temporary directories.

Every scenario builds a private HOME, XDG_RUNTIME_DIR and PATH and passes them as `env`, so nothing here
reads the machine's own credentials.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
from pathlib import Path

import pytest

from builder.errors import AuthError, ConfigError
from builder.registry.credentials import Credential, Lookup, login_hint, x_registry_config
from tests.unit.registry.sandbox import (
    HELPER_SECRET,
    HOST,
    PASSWORD,
    REF,
    TOKEN,
    Sandbox,
    b64,
    entry,
    helper_answer,
    secrets,
)

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
    for name in FILES[FILES.index(first) :]:
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


DOCKER_HUB_KEYS = [
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "https://index.docker.io/v1/",
    "http://registry-1.docker.io",
]


@pytest.mark.parametrize("key", DOCKER_HUB_KEYS)
@pytest.mark.parametrize(
    "reference",
    ["docker.io/library/alpine", "docker.io/alpine", "index.docker.io/alpine", "registry-1.docker.io/library/alpine"],
)
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


# --- references, hints, headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference",
    ["team/api", "api", "localhost", f"{HOST}/api:1.0", f"{HOST}/api@sha256:{'a' * 64}", "https://x.io/api", ""],
)
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
    assert f"{credential}" == expected and f"{credential}" == expected


def test_credential_is_frozen() -> None:
    credential = Credential(HOST, "u", PASSWORD, None, "/f.json", HOST)
    with pytest.raises(Exception):
        credential.password = "x"  # type: ignore[misc]


def test_import_is_stdlib_only() -> None:
    import subprocess as sp

    code = (
        "import sys; import builder.registry.credentials; "
        "third = [m for m in sys.modules if m.split('.')[0] not in sys.stdlib_module_names "
        "and m.split('.')[0] != 'builder' and not m.startswith('_')]; "
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
        box.write(box.config_file, '{{"auths": {{"{}": {{"auth": "{}", }}}}}}'.format(HOST, b64(f"u:{PASSWORD}")))
        return REF

    def malformed_unterminated() -> str:
        box.write(box.config_file, '{{"auths": {{"{}": {{"auth": "{}'.format(HOST, b64(f"u:{PASSWORD}")))
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

    return [
        (f.__name__, f)
        for f in (
            success_file,
            success_helper,
            success_token_helper,
            skipped_entries,
            malformed,
            malformed_unterminated,
            bad_base64,
            wrong_type,
            helper_fails_loudly,
            helper_garbage,
            helper_not_found_with_secret_on_stderr,
        )
    ]


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
