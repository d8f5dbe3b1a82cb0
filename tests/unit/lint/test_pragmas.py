"""`# imgctl ignore=` (next instruction) and `# imgctl global ignore=` (whole file), for imgctl's findings."""

from __future__ import annotations

import pytest

from builder.containerfile.document import Document
from builder.errors import ConfigError
from builder.findings.model import HADOLINT, Finding
from builder.lint.pragmas import apply, read


def finding(code: str, line: int | None, source: str = "imgctl") -> Finding:
    return Finding(code=code, level="warning", message="m", file="Containerfile", line=line, source=source)


def kept(text: str, findings: list[Finding]) -> list[tuple[str, int | None]]:
    return [(f.code, f.line) for f in apply(Document.from_text(text), findings)]


def test_ignore_applies_to_the_next_instruction_only() -> None:
    text = "FROM x\n# imgctl ignore=OS106\nUSER app\nUSER other\n"
    assert kept(text, [finding("OS106", 3), finding("OS106", 4)]) == [("OS106", 4)]


def test_several_codes_spaces_case_and_a_trailing_reason() -> None:
    text = "FROM x\n#imgctl ignore = os106, OS109   # we know\nCMD run\n"
    assert kept(text, [finding("OS106", 3), finding("OS109", 3), finding("OS110", 3)]) == [("OS110", 3)]


def test_a_finding_on_a_continuation_line_belongs_to_its_instruction() -> None:
    text = "FROM x\n# imgctl ignore=OS114\nRUN dnf install -y a \\\n    && echo done\n"
    assert kept(text, [finding("OS114", 4)]) == []


def test_other_comments_may_sit_between_the_pragma_and_its_instruction() -> None:
    text = "FROM x\n# imgctl ignore=OS106\n# hadolint ignore=DL3002\n\nUSER app\n"
    assert kept(text, [finding("OS106", 5)]) == []


def test_global_ignore_covers_the_whole_file_and_findings_without_a_line() -> None:
    text = "# imgctl global ignore=OS121,OS125\nFROM x\nUSER 1001\n"
    assert kept(text, [finding("OS121", None), finding("OS125", 2), finding("OS104", None)]) == [("OS104", None)]


def test_hadolints_findings_are_left_to_hadolints_pragmas() -> None:
    text = "FROM x\n# imgctl ignore=DL3006\nFROM y\n"
    assert kept(text, [finding("DL3006", 3, HADOLINT)]) == [("DL3006", 3)]


def test_a_pragma_after_the_last_instruction_silences_nothing() -> None:
    assert read(Document.from_text("FROM x\n# imgctl ignore=OS104\n")).by_line == {}


def test_a_file_without_pragmas_keeps_everything() -> None:
    findings = [finding("OS104", None), finding("OS106", 1)]
    assert apply(Document.from_text("FROM x\nUSER app\n"), findings) == findings


def test_a_containerfile_imgctl_cannot_parse_raises_with_its_line() -> None:
    with pytest.raises(ConfigError) as raised:
        apply(Document.from_text("FROM x\n# imgctl ignore=OS1\nCOPY onlyone\n"), [finding("OS1", 3)])
    assert raised.value.line == 3
