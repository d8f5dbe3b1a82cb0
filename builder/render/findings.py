"""Lint and verify reports on a terminal: each finding on a line of its own with its hint, then a verdict.

The layout follows compilers and hadolint's tty format (`file:line CODE level: message`), so editors and
terminals that link `file:line` keep working; colour only on a terminal. Reports go to stdout: they are the
result of the command, which a script may capture.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from builder.findings.model import LEVELS, Finding, Report
from builder.render.console import console_for

if TYPE_CHECKING:
    from builder.findings.formats import RuleText

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


def show_document(reports: Sequence[Report], fmt: str, output: Path | None,
                  rules: Mapping[str, RuleText] | None = None, *, notes_to_stderr: bool = False) -> None:
    """A run's one document in `fmt` on stdout or in `output`; the tty form is the terminal report (plain text
    in a file). `notes_to_stderr`: say the notes on stderr too when they would otherwise not be seen at once
    (lint's "hadolint is missing" has no place in hadolint's JSON shape)."""
    if notes_to_stderr and (fmt != "tty" or output is not None):
        for report in reports:
            for note in report.notes:
                sys.stderr.write(f"note: {note}\n")
        sys.stderr.flush()
    if fmt == "tty" and output is None:
        show(reports)
        return
    if fmt == "tty":
        buffer = io.StringIO()
        show(reports, buffer)
        text = buffer.getvalue()
    else:
        from builder.findings.formats import render

        text = render(reports, fmt, rules)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from builder.filewrite import write_text

    write_text(output, text, key="--output")
