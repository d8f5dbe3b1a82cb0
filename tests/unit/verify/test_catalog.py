"""builder.verify.catalog: the published table of checks and the one in docs/verify.md agree."""

from __future__ import annotations

import re
from pathlib import Path

from builder.findings.model import LEVELS
from builder.verify.catalog import CHECKS, CONFIG, FILESYSTEM, RUN, finding, rule_texts

DOCS = Path(__file__).resolve().parents[3] / "docs" / "verify.md"


def test_every_check_is_documented_with_its_level_and_title() -> None:
    rows = {m[1]: (m[2], m[3]) for m in re.finditer(r"^\| (OS2\d\d) \| (\w+) \| ([^|]+) \|", DOCS.read_text(), re.M)}
    assert set(rows) == set(CHECKS)
    for code, info in CHECKS.items():
        assert rows[code] == (info.level, info.title), code


def test_codes_follow_what_the_check_reads() -> None:
    prefixes = {CONFIG: "OS20", FILESYSTEM: "OS21", RUN: "OS22"}
    for code, info in CHECKS.items():
        assert code.startswith(prefixes[info.reads]) and info.level in LEVELS


def test_a_finding_takes_the_check_level_unless_told() -> None:
    assert finding("OS213", "img", "m").level == "warning"
    assert finding("OS201", "img", "m", level="warning").level == "warning"
    assert rule_texts()["OS222"].title == "stops on SIGTERM within the grace period"
