"""builder.containerfile.document: one Containerfile read once, and its instructions as buildah parses them."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.containerfile.document import Document, parse
from builder.containerfile.reach import base_images, reach
from builder.containerfile.stages import ImageFacts
from builder.errors import ConfigError

IMAGES = {"alpine": ImageFacts(env=frozenset({"PATH", "HOME"}))}


def patterns(text: str) -> list[str] | None:
    found = reach(Document.from_text(text), {}, None, images=IMAGES)
    return None if found.sources is None else [source.pattern for source in found.sources]



# --------------------------------------------------------------------------------------------------------------
# Parsing


def test_escape_directive_with_backtick_continuation() -> None:
    text = "# escape=`\nFROM alpine\nCOPY a `\n     b\\c `\n     /dst/\n"
    instructions = parse(text)
    assert [i.keyword for i in instructions] == ["FROM", "COPY"]
    assert instructions[1].line == 3 and instructions[1].end_line == 5
    assert instructions[1].args == ("a", "b\\c", "/dst/")
    # the word expansion still treats \ as an escape: b\c reaches the glob as bc
    assert patterns(text) == ["a", "bc"]


def test_escape_directive_only_counts_at_the_very_top() -> None:
    text = "FROM alpine\n# escape=`\nCOPY a `\nb /dst/\n"
    assert [i.keyword for i in parse(text)] == ["FROM", "COPY", "B"]


def test_comments_and_empty_continuation_lines() -> None:
    text = "FROM alpine\nCOPY a \\\n# a comment inside\n\n   \\\n  b /dst/\n  # indented comment\nRUN true\n"
    copy = parse(text)[1]
    assert copy.args == ("a", "b", "/dst/") and (copy.line, copy.end_line) == (2, 6)
    assert [i.keyword for i in parse(text)] == ["FROM", "COPY", "RUN"]


def test_flags_and_onbuild_trigger() -> None:
    run = parse("FROM a\nRUN --mount=type=bind,source=\"my dir\",target=/m --network=none ls\n")[1]
    assert run.flags == ("--mount=type=bind,source=my dir,target=/m", "--network=none")
    trigger = parse("FROM a\nONBUILD COPY --from=b x /y\n")[1].trigger
    assert trigger is not None and trigger.keyword == "COPY" and trigger.flags == ("--from=b",)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("FROM alpine\n\nCOPY onlyone\n", 3, "COPY requires at least two arguments"),
        ("FROM alpine AS\n", 1, "FROM requires either one argument, or three"),
        ("FROM a b\n", 1, "FROM requires either one argument, or three"),
        ("ARG\nFROM alpine\n", 1, "ARG requires a name"),
        ('FROM alpine\nCOPY ["a", 1, "/x"]\n', 2, "arrays must be comprised of strings only"),
        ("FROM alpine\nENV ONLYNAME\n", 2, "ENV must have two arguments"),
        ("FROM alpine\nONBUILD FROM x\n", 2, "FROM isn't allowed as an ONBUILD trigger"),
        ("# escape=x\nFROM alpine\n", 1, "invalid escape directive"),
    ],
)
def test_malformed_lines_are_config_errors(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        reach(Document.from_text(text, Path("build/Containerfile")), {}, None, images=IMAGES)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"build/Containerfile:{line}: ")
    assert message in str(caught.value)


# --------------------------------------------------------------------------------------------------------------
# The document: read once, lines split as Go's bufio.Scanner splits them


def test_a_document_reads_its_file_once_and_keeps_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "Containerfile"
    path.write_bytes(b"\xef\xbb\xbfFROM alpine\r\nCOPY a /x\r\n")
    document = Document.read(path)
    path.unlink()  # everything below comes from the bytes read above
    assert document.data == b"\xef\xbb\xbfFROM alpine\r\nCOPY a /x\r\n"
    assert document.path == path
    assert [i.keyword for i in document.instructions] == ["FROM", "COPY"]
    assert document.instructions is document.instructions  # parsed once


def test_an_unreadable_containerfile_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        Document.read(tmp_path / "missing")
    assert str(caught.value).startswith(f"{tmp_path / 'missing'}: cannot read the Containerfile")


def test_a_carriage_return_inside_a_line_is_whitespace(tmp_path: Path) -> None:
    # bufio.ScanLines splits on \n only and drops one \r before it; imagebuilder then splits words on \r too.
    # Reading with universal newlines made the \r a line break: b.txt was pruned away.
    path = tmp_path / "Containerfile"
    path.write_bytes(b"FROM alpine\nCOPY a.txt b.txt\rc.txt /d/\n")
    document = Document.read(path)
    assert document.instructions[1].args == ("a.txt", "b.txt", "c.txt", "/d/")
    found = reach(document, {}, None, images=IMAGES)
    assert found.sources is not None and [source.pattern for source in found.sources] == ["a.txt", "b.txt", "c.txt"]


def test_a_carriage_return_before_the_destination_is_not_a_line_break(tmp_path: Path) -> None:
    # Once refused with "COPY requires at least two arguments" (and no file:line): buildah copies a.txt to /x.
    path = tmp_path / "Containerfile"
    path.write_bytes(b"FROM alpine\nCOPY a.txt\r /x\n")
    document = Document.read(path)
    assert [(i.keyword, i.args) for i in document.instructions] == [("FROM", ("alpine",)), ("COPY", ("a.txt", "/x"))]
    assert document.text == "FROM alpine\nCOPY a.txt\r /x\n"


def test_only_one_carriage_return_before_the_newline_is_dropped() -> None:
    # "\\\r\r\n": the line still ends in \r after Go drops one, so the backslash does not continue it.
    document = Document.from_text("FROM alpine\nCOPY a.txt \\\r\r\n b.txt /d/\n")
    assert [i.keyword for i in document.instructions] == ["FROM", "COPY", "B.TXT"]


def test_errors_name_the_file_and_line_whichever_entry_point_parses(tmp_path: Path) -> None:
    path = tmp_path / "Containerfile"
    path.write_bytes(b"FROM alpine\nCOPY onlyone\n")
    with pytest.raises(ConfigError) as caught:
        base_images(Document.read(path), {})
    assert str(caught.value).startswith(f"{path}:2: COPY requires at least two arguments")


def test_long_lines_are_measured_in_bytes() -> None:
    # 8 + 3 x 21,843 = 65,537 bytes: more than bufio.Scanner takes; counted in characters it would pass.
    assert Document.from_text("FROM alpine\nLABEL x=" + "€" * 21_843 + "\n").long_line == 2
    assert Document.from_text("FROM alpine\nLABEL x=" + "y" * 1000 + "\n").long_line is None
