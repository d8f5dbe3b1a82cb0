"""Where verify reports go: `imgctl verify`'s document (stdout or --output), and the reports `build --verify` shows."""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from builder.findings.model import Report

if TYPE_CHECKING:
    from builder.findings.formats import RuleText


def show_report(reports: Sequence[Report], fmt: str, output: Path | None,
                rules: Mapping[str, RuleText] | None = None) -> None:
    """The run's one document in `fmt`; the tty form is the terminal report (plain text in a file)."""
    from builder.render.findings import show

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


def show_build_verify(reports: Sequence[Report]) -> None:
    """`imgctl build --verify`: the reports on stderr, since stdout keeps the build's results (ids, JSON)."""
    from builder.render.findings import show

    show(reports, sys.stderr)
