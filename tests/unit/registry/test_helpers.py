"""builder.registry.helpers: real docker-credential-NAME programs, found on a private PATH."""

from __future__ import annotations

import base64
import json
import sys

import pytest

from builder.errors import AuthError, ConfigError
from builder.registry import helpers
from tests.unit.registry.sandbox import (
    HELPER_SECRET,
    HOST,
    REF,
    TOKEN,
    Sandbox,
    entry,
    helper_answer,
)

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
    box.write(
        box.runtime_file,
        {"auths": {HOST: entry("file")}, "credHelpers": {f"https://{HOST}": "good", f"{HOST}/team": "good"}},
    )
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
