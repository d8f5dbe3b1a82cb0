"""builder.registry.challenge: WWW-Authenticate parsing (the token flows run in test_client.py)."""

from __future__ import annotations

import pytest

from builder.registry.challenge import Challenge, parse_www_authenticate

# --------------------------------------------------------------------------------------------------
# WWW-Authenticate


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('Basic realm="imgctl-test"', [Challenge("basic", {"realm": "imgctl-test"})]),
        (
            'Bearer realm="https://auth.example.com/token",service="registry.example.com",'
            'scope="repository:team/app:pull,push"',
            [
                Challenge(
                    "bearer",
                    {
                        "realm": "https://auth.example.com/token",
                        "service": "registry.example.com",
                        "scope": "repository:team/app:pull,push",
                    },
                )
            ],
        ),
        # unquoted values, odd spacing and case, several challenges in one header
        (
            "BEARER Realm=https://h/t , service = s, Basic realm=x",
            [Challenge("bearer", {"realm": "https://h/t", "service": "s"}), Challenge("basic", {"realm": "x"})],
        ),
        (
            'Bearer realm="r",error="invalid_token",error_description="expired"',
            [Challenge("bearer", {"realm": "r", "error": "invalid_token", "error_description": "expired"})],
        ),
        ('Basic realm="a \\"quoted\\" realm"', [Challenge("basic", {"realm": 'a "quoted" realm'})]),
        ("Basic", [Challenge("basic", {})]),
        ("", []),
        (" , ,", []),
        ("@@@", []),
        # junk after a parameter: keep what was parsed
        ('Bearer realm="r" junk', [Challenge("bearer", {"realm": "r"})]),
        ('Basic realm="unterminated', [Challenge("basic", {"realm": "unterminated"})]),
    ],
)
def test_parse_www_authenticate(header: str, expected: list[Challenge]) -> None:
    assert parse_www_authenticate(header) == expected
