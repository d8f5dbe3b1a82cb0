"""builder.context.gopath: Go's filepath.Clean, Dir, Match (Go 1.19) and strings.TrimSpace.

The tables are Go's own (path/filepath path_test.go and match_test.go, Go 1.19); None marks ErrBadPattern.
"""

from __future__ import annotations

import pytest

from builder.context.gopath import BadPattern, check_pattern, clean, clean_parts, dirname, is_clean, match, trim_space

CLEAN = [
    ("abc", "abc"), ("abc/def", "abc/def"), ("a/b/c", "a/b/c"), (".", "."), ("..", ".."), ("../..", "../.."),
    ("../../abc", "../../abc"), ("/abc", "/abc"), ("/", "/"), ("", "."),
    ("abc/", "abc"), ("abc/def/", "abc/def"), ("a/b/c/", "a/b/c"), ("./", "."), ("../", ".."), ("../../", "../.."),
    ("/abc/", "/abc"),
    ("abc//def//ghi", "abc/def/ghi"), ("//abc", "/abc"), ("///abc", "/abc"), ("//abc//", "/abc"), ("abc//", "abc"),
    ("abc/./def", "abc/def"), ("/./abc/def", "/abc/def"), ("abc/.", "abc"),
    ("abc/def/ghi/../jkl", "abc/def/jkl"), ("abc/def/../ghi/../jkl", "abc/jkl"), ("abc/def/..", "abc"),
    ("abc/def/../..", "."), ("/abc/def/../..", "/"), ("abc/def/../../..", ".."), ("/abc/def/../../..", "/"),
    ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"), ("/../abc", "/abc"),
    ("abc/./../def", "def"), ("abc//./../def", "def"), ("abc/../../././../def", "../../def"),
]

DIR = [("", "."), (".", "."), ("/.", "/"), ("/", "/"), ("////", "/"), ("/foo", "/"), ("x/", "x"), ("abc", "."),
       ("abc/def", "abc"), ("a/b/.x", "a/b"), ("a/b/c.", "a/b"), ("a/b/c.x", "a/b")]

MATCH = [
    ("abc", "abc", True), ("*", "abc", True), ("*c", "abc", True), ("a*", "a", True), ("a*", "abc", True),
    ("a*", "ab/c", False), ("a*/b", "abc/b", True), ("a*/b", "a/c/b", False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True), ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False), ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True), ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("ab[c]", "abc", True), ("ab[b-d]", "abc", True), ("ab[e-g]", "abc", False), ("ab[^c]", "abc", False),
    ("ab[^b-d]", "abc", False), ("ab[^e-g]", "abc", True), ("a\\*b", "a*b", True), ("a\\*b", "ab", False),
    ("a?b", "a☺b", True), ("a[^a]b", "a☺b", True), ("a???b", "a☺b", False), ("a[^a][^a][^a]b", "a☺b", False),
    ("[a-ζ]*", "α", True), ("*[a-ζ]", "A", False), ("a?b", "a/b", False), ("a*b", "a/b", False),
    ("[\\]a]", "]", True), ("[\\-]", "-", True), ("[x\\-]", "x", True), ("[x\\-]", "-", True),
    ("[x\\-]", "z", False), ("[\\-x]", "x", True), ("[\\-x]", "-", True), ("[\\-x]", "a", False),
    ("[]a]", "]", None), ("[-]", "-", None), ("[x-]", "x", None), ("[x-]", "-", None), ("[x-]", "z", None),
    ("[-x]", "x", None), ("[-x]", "-", None), ("[-x]", "a", None), ("\\", "a", None), ("[a-b-c]", "a", None),
    ("[", "a", None), ("[^", "a", None), ("[^bc", "a", None), ("a[", "a", None), ("a[", "ab", None),
    ("a[", "x", None), ("a/b[", "x", None), ("*x", "xxx", True),
]


@pytest.mark.parametrize("path, expected", CLEAN)
def test_clean(path: str, expected: str) -> None:
    assert clean(path) == expected


def test_is_clean_means_a_plain_relative_path() -> None:
    assert is_clean("a") and is_clean("a/b.c") and is_clean("..a/b..")
    for other in (".", "..", "/a", "./a", "../a", "a/", "a//b", "a/./b", "a/../b", "a/.", "a/.."):
        assert not is_clean(other), other


def test_clean_parts_reads_a_path_as_relative() -> None:
    assert clean_parts("/../a/./b/../c/") == ["..", "a", "c"]
    assert clean_parts("../../x") == ["..", "..", "x"]
    assert clean_parts("") == clean_parts("/") == []


@pytest.mark.parametrize("path, expected", DIR)
def test_dirname(path: str, expected: str) -> None:
    assert dirname(path) == expected


@pytest.mark.parametrize("pattern, name, expected", MATCH)
def test_match(pattern: str, name: str, expected: bool | None) -> None:
    if expected is None:
        with pytest.raises(BadPattern):
            match(pattern, name)
    else:
        assert match(pattern, name) is expected


def test_go_1_19_reads_no_chunk_after_a_mismatch() -> None:
    check_pattern("a*[")  # "a" does not match ".", so "[" is never read
    with pytest.raises(BadPattern, match="character class"):
        check_pattern("[")
    with pytest.raises(BadPattern, match="trailing backslash"):
        check_pattern(".\\")


def test_trim_space_is_go_unicode_is_space() -> None:
    assert trim_space("\u3000\x85 a b\t\n\v\f\r ") == "a b"
    assert trim_space("\x1ca\x1f") == "\x1ca\x1f"  # str.strip() would eat these; Go's TrimSpace does not
