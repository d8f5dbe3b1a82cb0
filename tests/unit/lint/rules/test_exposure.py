from __future__ import annotations

import pytest

UBI = "FROM registry.access.redhat.com/ubi9/ubi:9.4\nUSER 1001\n"


@pytest.mark.parametrize(("expose", "expected"), [
    ("EXPOSE 8080", []),
    ("EXPOSE 80", [("OS110", 3)]),
    ("EXPOSE 8080 443/tcp 53/udp", [("OS110", 3), ("OS110", 3)]),
    ("EXPOSE 1000-1100", [("OS110", 3)]),
    ("EXPOSE 1024", []),
    ("EXPOSE 70000", []),  # out of range: hadolint's DL3011
    ("EXPOSE $PORT", []),  # unknown: nothing to say
])
def test_privileged_ports(lint, expose: str, expected: list) -> None:
    assert lint(f"{UBI}{expose}\n", codes=("OS110",)) == expected


def test_port_from_an_arg(lint, findings) -> None:
    text = f"{UBI}ARG PORT=80\nEXPOSE ${{PORT}}\n"
    assert lint(text, codes=("OS110",)) == [("OS110", 4)]
    assert lint(text, codes=("OS110",), build_args={"PORT": "8080"}) == []
    (found,) = findings(text, codes=("OS110",))
    assert "8080" in found.hint


def test_only_the_final_image_exposes(lint) -> None:
    text = "FROM registry.access.redhat.com/ubi9/ubi AS build\nEXPOSE 80\nFROM registry.access.redhat.com/ubi9/ubi\n"
    assert lint(text, codes=("OS110",)) == []


@pytest.mark.parametrize(("line", "expected"), [
    ("ENV REPO=https://bob:hunter2@git.example.com/x.git", [("OS111", 3)]),
    ("ARG INDEX=https://user:$TOKEN_VALUE@pypi.example.com/simple", []),  # a reference, not a literal
    ("ARG MIRROR=https://mirror.example.com/x", []),
    ('ENV KEY="-----BEGIN RSA PRIVATE KEY-----MIIE"', [("OS111", 3)]),
    ("ENV GH=ghp_" + "a1B2" * 9, [("OS111", 3)]),
    ("ARG AWS_KEY_ID=AKIAIOSFODNN7EXAMPLE", [("OS111", 3)]),
    ("ENV DB_PASS=changeme", [("OS111", 3)]),
    ("ARG SMTP_PASSWD", [("OS111", 3)]),
    ("ENV GOOGLE_APPLICATION_CREDENTIALS=/var/run/creds.json", []),  # where the secret is mounted: fine
    ("ENV DB_CREDS=admin:admin", [("OS111", 3)]),
    ("ARG SMTP_PASS=${SMTP_PASS_FROM_CI}", []),
    ("ENV PWD=/opt/app", []),
    ("ENV PATH=/opt/app/bin:$PATH HOME=/opt/app", []),
    ("ENV PASSWORD_FILE=/run/secrets/pw", []),  # hadolint's DL3064 reports the name
    ("ARG GITHUB_TOKEN=ghp_" + "a1B2" * 9, []),  # DL3064 reports this line already
    ("ENV API_USERNAME=x PASSPHRASE=y", []),  # one name DL3064 knows: it reports the instruction
])
def test_secrets(lint, line: str, expected: list) -> None:
    assert lint(f"{UBI}{line}\n", codes=("OS111",)) == expected


def test_secrets_in_any_stage_and_before_from(lint) -> None:
    text = ("ARG DEPLOY_PASS=x\nFROM registry.access.redhat.com/ubi9/ubi AS build\nENV DB_PWD=x\n"
            "FROM registry.access.redhat.com/ubi9/ubi\nUSER 1001\n")
    assert lint(text, codes=("OS111",)) == [("OS111", 1), ("OS111", 3)]
