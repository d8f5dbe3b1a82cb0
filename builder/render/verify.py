"""Where verify reports go: `imgctl verify`'s document (stdout or --output), and the reports `build --verify` shows."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from builder.findings.model import Report

if TYPE_CHECKING:
    from builder.findings.formats import RuleText


def show_report(reports: Sequence[Report], fmt: str, output: Path | None,
                rules: Mapping[str, RuleText] | None = None) -> None:
    """`imgctl verify`'s document; its notes (layer sizes) are in the tty, JSON and SARIF forms."""
    from builder.render.findings import show_document

    show_document(reports, fmt, output, rules)


def show_build_verify(reports: Sequence[Report]) -> None:
    """`imgctl build --verify`: the reports on stderr, since stdout keeps the build's results (ids, JSON)."""
    from builder.render.findings import show

    show(reports, sys.stderr)
