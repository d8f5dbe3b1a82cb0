"""builder.context.dialects: the buildah and moby matchers, case by case.

The moby tables are ported from github.com/moby/patternmatcher (patternmatcher_test.go). The buildah
expectations come from running containers/storage fileutils (as vendored by buildah 1.28.2 and podman 4.3.1) on
the same inputs.
"""

from __future__ import annotations

import pytest

from builder.context.dialects import DIALECTS, _moby_compile
from builder.context.rules import IgnoreRules
from builder.errors import ConfigError


def rules(*patterns: str, dialect: str = "buildah") -> IgnoreRules:
    return IgnoreRules.from_patterns(patterns, dialect=dialect)



# moby patternmatcher_test.go TestMatches: (pattern, text, MatchesOrParentMatches result)
MOBY_MATCHES = [
    ("**", "file", True),
    ("**", "file/", True),
    ("**/", "file", True),
    ("**/", "file/", True),
    ("**", "/", True),
    ("**/", "/", True),
    ("**", "dir/file", True),
    ("**/", "dir/file", True),
    ("**", "dir/file/", True),
    ("**/", "dir/file/", True),
    ("**/**", "dir/file", True),
    ("**/**", "dir/file/", True),
    ("dir/**", "dir/file", True),
    ("dir/**", "dir/file/", True),
    ("dir/**", "dir/dir2/file", True),
    ("dir/**", "dir/dir2/file/", True),
    ("**/dir", "dir", True),
    ("**/dir", "dir/file", True),
    ("**/dir2/*", "dir/dir2/file", True),
    ("**/dir2/*", "dir/dir2/file/", True),
    ("**/dir2/**", "dir/dir2/dir3/file", True),
    ("**/dir2/**", "dir/dir2/dir3/file/", True),
    ("**file", "file", True),
    ("**file", "dir/file", True),
    ("**/file", "dir/file", True),
    ("**file", "dir/dir/file", True),
    ("**/file", "dir/dir/file", True),
    ("**/file*", "dir/dir/file", True),
    ("**/file*", "dir/dir/file.txt", True),
    ("**/file*txt", "dir/dir/file.txt", True),
    ("**/file*.txt", "dir/dir/file.txt", True),
    ("**/file*.txt*", "dir/dir/file.txt", True),
    ("**/**/*.txt", "dir/dir/file.txt", True),
    ("**/**/*.txt2", "dir/dir/file.txt", False),
    ("**/*.txt", "file.txt", True),
    ("**/**/*.txt", "file.txt", True),
    ("a**/*.txt", "a/file.txt", True),
    ("a**/*.txt", "a/dir/file.txt", True),
    ("a**/*.txt", "a/dir/dir/file.txt", True),
    ("a/*.txt", "a/dir/file.txt", False),
    ("a/*.txt", "a/file.txt", True),
    ("a/*.txt**", "a/file.txt", True),
    ("a[b-d]e", "ae", False),
    ("a[b-d]e", "ace", True),
    ("a[b-d]e", "aae", False),
    ("a[^b-d]e", "aze", True),
    (".*", ".foo", True),
    (".*", "foo", False),
    ("abc.def", "abcdef", False),
    ("abc.def", "abc.def", True),
    ("abc.def", "abcZdef", False),
    ("abc?def", "abcZdef", True),
    ("abc?def", "abcdef", False),
    ("a\\\\", "a\\", True),
    ("**/foo/bar", "foo/bar", True),
    ("**/foo/bar", "dir/foo/bar", True),
    ("**/foo/bar", "dir/dir2/foo/bar", True),
    ("abc/**", "abc", False),
    ("abc/**", "abc/def", True),
    ("abc/**", "abc/def/ghi", True),
    ("**/.foo", ".foo", True),
    ("**/.foo", "bar.foo", False),
    ("a(b)c/def", "a(b)c/def", True),
    ("a(b)c/def", "a(b)c/xyz", False),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", True),
    ("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
     "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True),
    ("a\\*b", "a*b", True),
]



# moby TestMatches multiPatternTests
MOBY_MULTI = [
    (["**", "!util/docker/web"], "util/docker/web/foo", False),
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
    (["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"],
     "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),
    (["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),
]



# Where containers/storage (buildah, the default dialect) answers differently on the same table: it escapes only
# "." and "$", so "( ) + | { }" are regexp operators; None means its Go regexp does not compile ("unexpected )").
BUILDAH_DIFFERS = {
    ("a(b)c/def", "a(b)c/def"): False,
    ("a.|)$(}+{bc", "a.|)$(}+{bc"): None,
    ("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
     "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"): False,
}



@pytest.mark.parametrize("pattern, text, expected", MOBY_MATCHES)
def test_moby_matches_table(pattern: str, text: str, expected: bool) -> None:
    assert rules(pattern, dialect="moby").excluded(text) is expected



@pytest.mark.parametrize("patterns, text, expected", MOBY_MULTI)
def test_moby_multi_pattern_table(patterns: list[str], text: str, expected: bool) -> None:
    assert rules(*patterns, dialect="moby").excluded(text) is expected



@pytest.mark.parametrize("pattern, text, moby_result", MOBY_MATCHES)
def test_buildah_on_the_moby_table(pattern: str, text: str, moby_result: bool) -> None:
    expected = BUILDAH_DIFFERS.get((pattern, text), moby_result)
    if expected is None:
        with pytest.raises(ConfigError, match="unexpected"):
            rules(pattern)
    else:
        assert rules(pattern).excluded(text) is expected



@pytest.mark.parametrize("patterns, text, expected", MOBY_MULTI)
def test_buildah_on_the_moby_multi_table(patterns: list[str], text: str, expected: bool) -> None:
    # "+" is a quantifier in buildah: the exception no longer names that file, so the "**" keeps it excluded.
    if "+" in patterns[1]:
        expected = True
    assert rules(*patterns).excluded(text) is expected



# moby TestMatch: Go's own filepath.Match tests as moby runs them; None marks ErrBadPattern.
FILEPATH_MATCH = [
    ("abc", "abc", True), ("*", "abc", True), ("*c", "abc", True), ("a*", "a", True), ("a*", "abc", True),
    ("a*", "ab/c", True), ("a*/b", "abc/b", True), ("a*/b", "a/c/b", False),
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
    ("*x", "xxx", True),
]



@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("pattern, text, expected", FILEPATH_MATCH)
def test_filepath_match_table(dialect: str, pattern: str, text: str, expected: bool | None) -> None:
    if expected is None:
        with pytest.raises(ConfigError, match="invalid ignore pattern"):
            rules(pattern, dialect=dialect)
    else:
        assert rules(pattern, dialect=dialect).excluded(text) is expected



# moby TestCompile: the match type and the Go regexp moby builds.
MOBY_COMPILE = [
    ("*", "regexp", r"^[^/]*$"), ("file*", "regexp", r"^file[^/]*$"), ("*file", "regexp", r"^[^/]*file$"),
    ("a*/b", "regexp", r"^a[^/]*/b$"), ("**", "suffix", None), ("**/**", "regexp", r"^(.*/)?.*$"),
    ("dir/**", "prefix", None), ("**/dir", "suffix", None), ("**/dir2/*", "regexp", r"^(.*/)?dir2/[^/]*$"),
    ("**/dir2/**", "regexp", r"^(.*/)?dir2/.*$"), ("**file", "suffix", None),
    ("**/file*txt", "regexp", r"^(.*/)?file[^/]*txt$"), ("**/**/*.txt", "regexp", r"^(.*/)?(.*/)?[^/]*\.txt$"),
    ("a[b-d]e", "regexp", r"^a[b-d]e$"), (".*", "regexp", r"^\.[^/]*$"), ("abc.def", "exact", None),
    ("abc?def", "regexp", r"^abc[^/]def$"), ("**/foo/bar", "suffix", None), ("a(b)c/def", "exact", None),
    ("a.|)$(}+{bc", "exact", None),
    ("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "exact", None),
]



@pytest.mark.parametrize("pattern, kind, regexp", MOBY_COMPILE)
def test_moby_compile_table(pattern: str, kind: str, regexp: str | None) -> None:
    got_kind, got_regexp = _moby_compile(pattern)
    assert got_kind == kind
    if regexp is not None:
        assert got_regexp == regexp



def test_moby_leaves_bar_and_braces_unescaped_like_the_go_code() -> None:
    # moby's shouldEscape bitmap cannot hold bytes >= 64: "|" reaches Go's regexp as an alternation.
    assert _moby_compile("a|b*") == ("regexp", r"^a|b[^/]*$")
    assert rules("x|y*", dialect="moby").excluded("anything/ending/in/y")
    with pytest.raises(ConfigError, match="nested repetition"):
        rules("*{2}", dialect="moby")



def test_moby_package_level_cases() -> None:
    moby = {"dialect": "moby"}
    assert IgnoreRules.from_patterns(["*"], **moby).excluded("fileutils.go")
    assert IgnoreRules.from_patterns(["*.go"], **moby).excluded("fileutils.go")
    assert IgnoreRules.from_patterns(["!fileutils.go", "*.go"], **moby).excluded("fileutils.go")
    assert not IgnoreRules.from_patterns(["docs", "!docs/README.md"], **moby).excluded("docs/README.md")
    assert not IgnoreRules.from_patterns(["docs/", "!docs/README.md"], **moby).excluded("docs/README.md")
    assert not IgnoreRules.from_patterns(["docs/*", "!docs/README.md"], **moby).excluded("docs/README.md")
    assert not IgnoreRules.from_patterns(["*.go", "!fileutils.go"], **moby).excluded("fileutils.go")
    assert not IgnoreRules.from_patterns(["*.go"], **moby).excluded(".")
    assert not IgnoreRules.from_patterns([], **moby).excluded("/any/path/there")



@pytest.mark.parametrize("dialect", DIALECTS)
def test_clean_patterns(dialect: str) -> None:
    assert rules("docs", "config", dialect=dialect).patterns == ("docs", "config")
    assert rules("docs", "config", "", dialect=dialect).patterns == ("docs", "config")
    assert rules("docs", "  !docs/README.md", dialect=dialect).has_exceptions
    assert rules("docs", "!docs/README.md  ", dialect=dialect).patterns == ("docs", "!docs/README.md")
    assert not rules("docs", dialect=dialect).has_exceptions
    with pytest.raises(ConfigError, match='illegal exclusion pattern: "!"'):
        rules("!", dialect=dialect)



def test_the_dialects_differ_where_the_go_code_does() -> None:
    for text in ("afoo", "dir/afoo"):
        assert rules("**foo", dialect="moby").excluded(text)  # moby: plain HasSuffix
        assert not rules("**foo").excluded(text)  # buildah: ^(.*/)?foo(/.*)?$
    assert rules("a+b").excluded("aab") and not rules("a+b").excluded("a+b")
    assert rules("a+b", dialect="moby").excluded("a+b")
    assert rules("lib (copy)").excluded("lib copy") and not rules("lib (copy)").excluded("lib (copy)")
