from __future__ import annotations

import io

import pytest

from builder.findings.model import Check, Finding, Policy, Report, Skipped
from builder.render.findings import show, summary


def test_terminal_report_lists_findings_hints_skips_and_verdict() -> None:
    report = Report(
        "verify", "localhost/api:1",
        (Finding("OS201", "error", "the image runs as root", "localhost/api:1", hint="add USER 1001"),),
        Policy(),
        checks=(Check("OS222", "stops on SIGTERM", "exited in 0.3 s"),),
        skipped=(Skipped("OS202", "no shell in the image"),),
        notes=("hadolint is not installed",),
    )
    out = io.StringIO()
    show([report], out)
    assert out.getvalue().splitlines() == [
        "note: hadolint is not installed",
        "localhost/api:1 OS201 error: the image runs as root",
        "  hint: add USER 1001",
        "OS222 stops on SIGTERM: exited in 0.3 s",
        "OS202 skipped: no shell in the image",
        "localhost/api:1: 1 error; failed (failure threshold: warning)",
    ]


def test_summary_counts_levels_and_says_when_nothing_was_found() -> None:
    findings = tuple(Finding(c, level, "m", "Containerfile", 1) for c, level in
                     (("A", "warning"), ("B", "warning"), ("C", "info")))
    assert summary(Report("lint", "Containerfile", findings, Policy(failure_threshold="error"))) == (
        "Containerfile: 2 warnings, 1 info; passed (failure threshold: error)"
    )
    assert summary(Report("lint", "Containerfile", (), Policy())) == (
        "Containerfile: no findings; passed (failure threshold: warning)"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    report = Report("lint", "Containerfile", (Finding("OS103", "error", "root", "Containerfile", 2),), Policy())
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    terminal = _Terminal()
    show([report], terminal)
    assert "\x1b[1;31merror\x1b[0m" in terminal.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    plain = _Terminal()
    show([report], plain)
    assert "\x1b[" not in plain.getvalue()
    assert plain.getvalue().splitlines()[0] == "Containerfile:2 OS103 error: root"
