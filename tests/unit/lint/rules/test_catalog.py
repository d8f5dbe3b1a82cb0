from __future__ import annotations

import re
from pathlib import Path

import pytest

from builder.containerfile.document import Document
from builder.errors import ConfigError
from builder.findings.model import LEVELS
from builder.lint.rules import CATALOG, check
from builder.lint.subject import Subject


def test_catalog_entries() -> None:
    assert len(CATALOG) == 18
    for code, rule in CATALOG.items():
        assert rule.code == code and re.fullmatch(r"OS1[0-9]{2}", code)
        assert rule.level in LEVELS
        assert rule.title and rule.hint and rule.source
        assert "\n" not in rule.title + rule.hint
        assert rule.extends is None or re.fullmatch(r"DL[0-9]{4}", rule.extends)


def test_catalog_is_read_only() -> None:
    with pytest.raises(TypeError):
        CATALOG["OS999"] = CATALOG["OS101"]  # type: ignore[index]


@pytest.mark.parametrize("text", [
    "",
    "ONBUILD RUN chmod 777 /x\n",
    "FROM registry.access.redhat.com/ubi9/ubi\nRUN <<EOF\nchmod 777 /x\nEOF\nUSER 1001\n",
    "FROM registry.access.redhat.com/ubi9/ubi\nONBUILD USER root\nUSER 1001\nSHELL [\"/bin/bash\", \"-c\"]\n",
])
def test_odd_files_do_not_break_the_rules(text: str) -> None:
    for finding in check(Subject(Document.from_text(text), "Containerfile")):
        assert finding.code in CATALOG


def test_findings_are_in_file_order() -> None:
    text = ("FROM docker.io/library/node:20\nEXPOSE 80\nRUN chmod 777 /srv\nUSER root\n")
    found = check(Subject(Document.from_text(text), "Containerfile"))
    assert [(f.code, f.line) for f in found] == [("OS101", 1), ("OS115", 1), ("OS110", 2), ("OS107", 3),
                                                 ("OS103", 4)]


def test_every_rule_is_documented_with_its_level() -> None:
    page = (Path(__file__).parents[4] / "docs" / "lint-rules.md").read_text()
    for code, rule in CATALOG.items():
        assert re.search(rf"^\| {code} \| {rule.level} \|", page, re.MULTILINE), code
        if rule.extends:
            assert re.search(rf"^\| {code} \|.*\| {rule.extends} \|", page, re.MULTILINE), code


def test_a_file_buildah_rejects_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as raised:
        check(Subject(Document.from_text("FROM registry.access.redhat.com/ubi9/ubi\nCOPY onlyone\n"), "Containerfile"))
    assert raised.value.line == 2
