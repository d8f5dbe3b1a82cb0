"""Where lint reports go: `imgctl lint`'s document (stdout or --output), and the findings `imgctl build` shows."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from builder.findings.model import Report

if TYPE_CHECKING:
    from builder.findings.formats import RuleText


def ready(fmt: str) -> None:
    """Import what showing `fmt` takes (the terminal report, or the formats module) now, while hadolint runs:
    that import time then overlaps hadolint's instead of adding to it."""
    if fmt == "tty":
        import builder.render.findings
    else:
        import builder.findings.formats  # noqa: F401


def show_report(reports: Sequence[Report], fmt: str, output: Path | None,
                rules: Mapping[str, RuleText] | None = None) -> None:
    """`imgctl lint`'s document. A note (hadolint missing) is in the tty report and in SARIF's notifications;
    the other formats have no place for it, and a file is not read at once: then it goes to stderr too."""
    from builder.render.findings import show_document

    show_document(reports, fmt, output, rules, notes_to_stderr=True)


def show_build_lint(reports: Sequence[Report], mode: str) -> None:
    """`imgctl build`'s lint, on stderr (stdout keeps the build's results): only when it has something to say."""
    if not any(report.findings or report.notes for report in reports):
        return
    from builder.render.findings import show

    show([report for report in reports if report.findings or report.notes], sys.stderr)
    if mode == "warn" and any(report.exit_code for report in reports):
        sys.stderr.write("note: building anyway (lint.on_build = \"warn\"; --lint=error refuses, --lint=off skips)\n")
        sys.stderr.flush()
