from __future__ import annotations

import pytest

from builder.findings.model import Finding, Policy, Report, rank


def finding(code: str, level: str, line: int = 1) -> Finding:
    return Finding(code=code, level=level, message=f"{code} message", file="Containerfile", line=line)


def test_levels_rank_like_hadolint() -> None:
    assert [rank(level) for level in ("error", "warning", "info", "style", "none")] == [0, 1, 2, 3, 4]


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown level"):
        finding("OS101", "fatal")


def test_policy_drops_ignored_codes_and_relevels_overridden_ones() -> None:
    policy = Policy(ignore=frozenset({"DL3008"}), override={"OS106": "error"})
    kept = policy.apply([finding("DL3008", "warning"), finding("OS106", "info", 4), finding("OS101", "warning", 2)])
    assert [(f.code, f.level) for f in kept] == [("OS106", "error"), ("OS101", "warning")]


def test_findings_sort_by_severity_then_line() -> None:
    kept = Policy().apply([finding("A", "info", 1), finding("B", "error", 9), finding("C", "error", 3)])
    assert [f.code for f in kept] == ["C", "B", "A"]


@pytest.mark.parametrize(
    ("threshold", "exit_code"),
    [("error", 0), ("warning", 1), ("info", 1), ("style", 1), ("none", 0)],
)
def test_threshold_decides_the_exit_code(threshold: str, exit_code: int) -> None:
    policy = Policy(failure_threshold=threshold)
    report = Report("lint", "Containerfile", (finding("OS106", "warning"),), policy)
    assert report.exit_code == exit_code
    assert len(report.failing) == exit_code


def test_json_record_has_hadolints_keys_plus_hint_and_source() -> None:
    record = Finding("DL3008", "warning", "Pin versions", "Containerfile", 3, 1, "apt-get install x=1.0", "hadolint")
    assert record.to_json() == {
        "file": "Containerfile", "line": 3, "column": 1, "level": "warning", "code": "DL3008",
        "message": "Pin versions", "hint": "apt-get install x=1.0", "source": "hadolint",
    }
