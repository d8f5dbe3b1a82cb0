"""OS110-OS111: what the image exposes: privileged ports, and credentials baked into ARG/ENV.

Under OpenShift's restricted SCC a process cannot bind a port below 1024. Port ranges outside 0-65535 are
hadolint's DL3011. hadolint's DL3064 flags ARG/ENV *names* with a fixed list of words (token, secret,
password, api_key...); OS111 adds what it cannot see: credentials in the *values* (a URL with a password,
a private key, a known token format) and names it misses (DB_PASS, PASSWD, CREDENTIALS), and stays quiet on
the instructions DL3064 already flags.
"""

from __future__ import annotations

import re

from builder.containerfile.document import Instruction
from builder.findings.model import Finding
from builder.lint.rules.model import Rule
from builder.lint.rules.view import FinalImage
from builder.lint.subject import Subject

PRIVILEGED_PORT = Rule(
    "OS110", "warning", "EXPOSE names a privileged port (below 1024)",
    "Listen on an unprivileged port (8080, 8443) and let the Service map port 80/443 to it.",
    source="OpenShift 'Support arbitrary user ids' (no ports below 1024)",
)
SECRET = Rule(
    "OS111", "warning", "A credential is written into an ARG or ENV",
    "Pass secrets at run time (a Secret as environment or file) or at build time with RUN --mount=type=secret; "
    "never as ARG/ENV, which end up in the image's config and history.",
    extends="DL3064",
    source="OpenShift 'Use environment variables for configuration' and 'Avoid default passwords'",
)
RULES = (PRIVILEGED_PORT, SECRET)

_PORT = re.compile(r"([0-9]+)(?:-[0-9]+)?(?:/[a-zA-Z]+)?")
# hadolint DL3064's substrings: a name holding one of these is its finding, not ours.
_HADOLINT_WORDS = ("api_key", "client_key", "password", "private", "secret", "token", "username")
_NAME_WORDS = ("passwd", "passphrase", "credential", "apikey", "accesskey", "access_key", "auth_key")
_NAME_SEGMENTS = frozenset({"pass", "pwd", "creds", "pat"})
_NOT_SECRETS = frozenset({"pwd", "oldpwd"})
_VALUES = (
    ("a URL with a password", re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@$]+:(?!\$)[^/\s@]+@", re.IGNORECASE)),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("an AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a Stripe key", re.compile(r"\b[sr]k_live_[0-9A-Za-z]{16,}")),
)


def check(subject: Subject, image: FinalImage | None) -> list[Finding]:
    findings: list[Finding] = []
    if image is not None:
        for step in image.keyword("EXPOSE"):
            for word in step.instruction.args:
                value = step.expand(word)
                found = _PORT.fullmatch(value or "")
                if found is not None and int(found.group(1)) < 1024:
                    findings.append(PRIVILEGED_PORT.finding(
                        subject, step.instruction.line,
                        f"EXPOSE {value}: a non-root process cannot listen on a port below 1024",
                        f"Listen on a port from 1024 up ({'8443' if found.group(1) == '443' else '8080'}, say) "
                        f"and map {found.group(1)} to it in the Service."))
    for instruction in subject.document.instructions:
        if instruction.keyword in ("ARG", "ENV"):
            findings += _secrets(subject, instruction)
    return findings


def _pairs(instruction: Instruction) -> list[tuple[str, str]]:
    if instruction.keyword == "ENV":
        args = instruction.args
        return [(name, _unquote(value)) for name, value in zip(args[::2], args[1::2], strict=False)]
    pairs = []
    for word in instruction.args:
        name, _, value = word.partition("=")
        pairs.append((name, _unquote(value)))
    return pairs


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _secrets(subject: Subject, instruction: Instruction) -> list[Finding]:
    pairs = _pairs(instruction)
    if any(word in name.lower() for name, _ in pairs for word in _HADOLINT_WORDS):
        return []  # DL3064 reports this instruction
    for name, value in pairs:
        for what, pattern in _VALUES:
            if pattern.search(value):
                return [SECRET.finding(subject, instruction.line,
                                       f"{instruction.keyword} {name} holds {what}: it is readable in the image")]
        if _secret_name(name) and not value.startswith(("/", "./", "$", "file:")):  # a path or reference is not one
            return [SECRET.finding(subject, instruction.line,
                                   f"{instruction.keyword} {name} looks like a credential: its value is stored in "
                                   f"the image")]
    return []


def _secret_name(name: str) -> bool:
    lower = name.lower()
    if lower in _NOT_SECRETS:
        return False
    segments = set(re.split(r"[_.-]", lower))
    return any(word in lower for word in _NAME_WORDS) or bool(segments & _NAME_SEGMENTS)
