"""builder.push.classify: the engine's push error text sorted into credentials, TLS, transient and the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.errors import AuthError, RegistryError
from builder.push.classify import classify, short
from builder.push.destinations import Destination
from builder.registry.credentials import Credential, Lookup
from builder.retry import is_transient_text as is_transient

DESTINATION = Destination("registry.example.com:5000/team/app")
NOTHING = Lookup("registry.example.com:5000/team/app", None, ("auth.json: no entry",), ())
FOUND = Lookup(
    "registry.example.com:5000/team/app",
    Credential("registry.example.com:5000", "me", "pw", None, "/run/auth.json", "registry.example.com:5000"),
    (),
    (),
)


@pytest.mark.parametrize(
    "text",
    [
        "unauthorized: authentication required",
        "requested access to the resource is denied",
        "denied: requested access",
        "received unexpected HTTP status: 403 Forbidden",
        "StatusCode: 401",
    ],
)
def test_refusals_are_credential_errors(text: str) -> None:
    error = classify(text, DESTINATION, FOUND, None)
    assert isinstance(error, AuthError) and error.exit_code == 3
    assert "from /run/auth.json, key registry.example.com:5000" in str(error)
    assert error.hint == "log in again: podman login registry.example.com:5000"


def test_a_refusal_without_credentials_says_what_was_tried() -> None:
    error = classify("unauthorized", DESTINATION, NOTHING, Path("/tmp/a.json"))
    assert isinstance(error, AuthError)
    assert "no credentials found (auth.json: no entry)" in str(error)
    assert error.hint == "log in first: podman login registry.example.com:5000 --authfile /tmp/a.json"


def test_tls_failures_point_at_cert_dir() -> None:
    error = classify("x509: certificate signed by unknown authority", DESTINATION, NOTHING, None)
    assert isinstance(error, RegistryError) and error.exit_code == 6
    assert str(error).startswith("TLS with registry.example.com:5000 failed")
    assert error.hint and "cert_dir" in error.hint


def test_anything_else_is_a_registry_error_with_the_first_line() -> None:
    error = classify("manifest invalid\nmore detail", DESTINATION, NOTHING, None)
    assert type(error) is RegistryError
    assert str(error) == "pushing to registry.example.com:5000/team/app failed: manifest invalid"


@pytest.mark.parametrize(
    "text,transient",
    [
        ("dial tcp: connection refused", True),
        ("read: connection reset by peer", True),
        ("use of closed network connection", True),
        ("unexpected EOF", True),
        ("received 502 Bad Gateway", True),
        ("429 Too Many Requests", True),
        ("net/http: TLS handshake timeout", True),
        ("manifest invalid", False),
        ("unauthorized: authentication required", False),
    ],
)
def test_transient_failures(text: str, transient: bool) -> None:
    assert is_transient(text) is transient


def test_short_keeps_the_first_line() -> None:
    assert short("  a: b: c\nstack\n") == "a: b: c"
    assert short("   ") == "unknown error"
