"""builder.containerfile.patterns: Go's filepath.Match per component, and the paths a source names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.containerfile.patterns import BadPattern, compile_segment, escape_glob, literal_path, source_patterns
from builder.context import gopath


@pytest.mark.parametrize(
    ("segment", "name", "expected"),
    [
        ("a*b", "a/b", False),  # one component: never across /
        ("*", ".hidden", True),
        ("a\\*b", "a*b", True),
        ("a\\*b", "axb", False),
        ("[a-c]x", "bx", True),
        ("[^a-c]x", "bx", False),
        ("[c-a]x", "bx", False),  # an empty range matches nothing, as in Go
        ("x[1]", "x1", True),
    ],
)
def test_segment_matches_like_go(segment: str, name: str, expected: bool) -> None:
    compiled = compile_segment(segment)
    assert (compiled == name if isinstance(compiled, str) else compiled.fullmatch(name) is not None) is expected


@pytest.mark.parametrize("segment", ["a[", "a\\", "[]", "[a-]"])
def test_malformed_segments(segment: str) -> None:
    with pytest.raises(BadPattern):
        compile_segment(segment)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/src/./a//b/", ["src/a/b"]),
        ("../../x", ["x"]),
        ("../build/x", ["build/x", "x"]),
        ("../../libpod_builder1/build/x", ["libpod_builder1/build/x", "x"]),
        ("../other/x", ["other/x"]),
        (".", [""]),
    ],
)
def test_source_patterns(value: str, expected: list[str]) -> None:
    assert source_patterns(value) == expected


def test_literal_paths_escape_to_themselves() -> None:
    assert literal_path("/../a/./b*") == "a/b*"
    assert escape_glob("a*b?[c]\\") == "a\\*b\\?\\[c]\\\\"


@settings(max_examples=3000, deadline=None)
@given(pattern=st.text(alphabet="ab*?[]^-\\", max_size=8), name=st.text(alphabet="ab-]^*?[\\", max_size=6))
def test_the_compiled_segment_is_gos_filepath_match(pattern: str, name: str) -> None:
    """compile_segment is the regexp form of context.gopath.match (one path component); they must agree."""
    try:
        compiled = compile_segment(pattern)
    except BadPattern:
        return  # refused up front; Go only refuses what it reads, which the reach treats the same way
    expected = gopath.match(pattern, name)
    found = compiled == name if isinstance(compiled, str) else compiled.fullmatch(name) is not None
    assert found == expected
