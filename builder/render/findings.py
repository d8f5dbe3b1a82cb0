"""Lint and verify reports on a terminal: each finding on a line of its own with its hint, then a verdict.

The layout follows compilers and hadolint's tty format (`file:line CODE level: message`), so editors and
terminals that link `file:line` keep working; colour only on a terminal. Reports go to stdout: they are the
result of the command, which a script may capture.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from builder.findings.model import LEVELS, Finding, Report
from builder.render.console import console_for

_STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan", "style": "dim"}


def _location(finding: Finding) -> str:
    return f"{finding.file}:{finding.line}" if finding.line is not None else finding.file


def summary(report: Report) -> str:
    """"2 errors, 1 warning; fails at warning" or "no findings"."""
    counts = [(level, sum(1 for f in report.findings if f.level == level)) for level in LEVELS]
    parts = [f"{n} {level}{'s' if n != 1 and level != 'info' else ''}" for level, n in counts if n]
    text = ", ".join(parts) if parts else "no findings"
    threshold = report.policy.failure_threshold
    verdict = "failed" if report.exit_code else "passed"
    return f"{report.subject}: {text}; {verdict} (failure threshold: {threshold})"


def show(reports: Sequence[Report], stream: TextIO | None = None) -> None:
    """Every report: notes, findings with hints, skipped checks, measured checks, then one verdict line each."""
    out = stream or sys.stdout
    console = console_for(out)
    for report in reports:
        for note in report.notes:
            console.print(f"note: {note}", style="dim")
        for finding in report.findings:
            head = f"{_location(finding)} {finding.code} "
            console.print(head, end="")
            console.print(finding.level, style=_STYLES[finding.level], end="")
            console.print(f": {finding.message}")
            if finding.hint:
                console.print(f"  hint: {finding.hint}", style="dim")
        for check in report.checks:
            if check.detail:
                console.print(f"{check.code} {check.title}: {check.detail}")
        for skipped in report.skipped:
            console.print(f"{skipped.code} skipped: {skipped.reason}", style="dim")
        console.print(summary(report), style="bold red" if report.exit_code else "green")
