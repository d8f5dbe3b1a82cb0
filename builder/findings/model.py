"""One finding, the levels it can have, the policy that drops or re-levels findings, and a report of a run.

Levels and their order are hadolint's (error > warning > info > style), so `failure_threshold`, `override` and
`ignore` mean the same for hadolint's rules and imgctl's own, and one report holds both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

LEVELS = ("error", "warning", "info", "style")  # most severe first
# A threshold may also be "none": nothing fails. hadolint also knows "ignore", which means the same here.
THRESHOLDS = (*LEVELS, "none")
DEFAULT_THRESHOLD = "warning"

IMGCTL = "imgctl"
HADOLINT = "hadolint"


def rank(level: str) -> int:
    """0 for error, 3 for style; thresholds "none" and "ignore" rank below every level."""
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


@dataclass(frozen=True)
class Finding:
    """One problem found, where it is, and how to fix it.

    The keys of `to_json` are hadolint's JSON keys (file, line, column, level, code, message) plus `hint` and
    `source`, so a consumer of hadolint's JSON reads imgctl's.
    """

    code: str  # DL3008, SC2086 (hadolint), OS104 (imgctl's own)
    level: str  # one of LEVELS
    message: str  # one line
    file: str  # the Containerfile (lint) or the image reference (verify)
    line: int | None = None  # 1-based; None for a finding about the whole file or image
    column: int | None = None
    hint: str = ""  # the fix, as text a user can act on
    source: str = IMGCTL  # IMGCTL or HADOLINT

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown level {self.level!r}")

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "level": self.level,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "source": self.source,
        }


@dataclass(frozen=True)
class Policy:
    """What the user asked for: codes to drop, levels to change, and the level from which a run fails."""

    ignore: frozenset[str] = frozenset()
    override: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # code -> level
    failure_threshold: str = DEFAULT_THRESHOLD

    def apply(self, findings: Iterable[Finding]) -> list[Finding]:
        """The findings that remain, re-levelled, most severe first, then by file and line."""
        kept = [
            replace(finding, level=self.override.get(finding.code, finding.level))
            for finding in findings
            if finding.code not in self.ignore
        ]
        return sorted(kept, key=lambda f: (rank(f.level), f.file, f.line or 0, f.column or 0, f.code))

    def fails(self, finding: Finding) -> bool:
        return rank(finding.level) <= rank(self.failure_threshold) and self.failure_threshold in LEVELS


@dataclass(frozen=True)
class Check:
    """A check a run performed (verify lists them so JUnit can show passes too)."""

    code: str
    title: str
    detail: str = ""  # what was measured, e.g. "stopped in 0.4 s"


@dataclass(frozen=True)
class Skipped:
    """A check the profile turned off, with the reason it gives; reports show it."""

    code: str
    reason: str


@dataclass(frozen=True)
class Report:
    """The result of one lint or verify run over one subject (a Containerfile or an image)."""

    tool: str  # "lint" or "verify"
    subject: str  # the file or image the run looked at
    findings: tuple[Finding, ...]  # already filtered by the policy
    policy: Policy
    checks: tuple[Check, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    notes: tuple[str, ...] = ()  # said once, e.g. "hadolint is not installed: only imgctl's rules ran"

    @property
    def failing(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if self.policy.fails(finding))

    @property
    def exit_code(self) -> int:
        """hadolint's: 1 when a finding is at or above the threshold, else 0."""
        return 1 if self.failing else 0
