"""Lint and verify reports on a terminal: each finding on a line of its own with its hint, then a verdict.

The layout follows compilers and hadolint's tty format (`file:line CODE level: message`), so editors and
terminals that link `file:line` keep working; colour only on a terminal (and not with NO_COLOR). Reports go
to stdout: they are the result of the command, which a script may capture. Plain ANSI codes rather than rich:
`imgctl lint` is run from editors and pre-commit hooks, and rich's import alone costs more than hadolint.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from builder.findings.model import LEVELS, Finding, Report

if TYPE_CHECKING:
    from builder.findings.formats import RuleText

_STYLES = {"error": "1;31", "warning": "33", "info": "36", "style": "2", "dim": "2", "failed": "1;31", "passed": "32"}


class _Painter:
    """Colours text with SGR codes on a terminal; leaves it plain anywhere else."""

    def __init__(self, stream: TextIO) -> None:
        import os

        self.on = stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"

    def __call__(self, text: str, style: str) -> str:
        return f"\x1b[{_STYLES[style]}m{text}\x1b[0m" if self.on else text


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
    paint = _Painter(out)
    lines: list[str] = []
    for report in reports:
        lines += [paint(f"note: {note}", "dim") for note in report.notes]
        for finding in report.findings:
            level = paint(finding.level, finding.level)
            lines.append(f"{_location(finding)} {finding.code} {level}: {finding.message}")
            if finding.hint:
                lines.append(paint(f"  hint: {finding.hint}", "dim"))
        lines += [f"{check.code} {check.title}: {check.detail}" for check in report.checks if check.detail]
        lines += [paint(f"{skipped.code} skipped: {skipped.reason}", "dim") for skipped in report.skipped]
        lines.append(paint(summary(report), "failed" if report.exit_code else "passed"))
    out.write("".join(line + "\n" for line in lines))
    out.flush()


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
