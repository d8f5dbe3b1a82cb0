"""builder.ignore: both Go dialects, case by case, plus the soundness of `prune`.

The moby tables are ported from github.com/moby/patternmatcher (patternmatcher_test.go, ignorefile_test.go).
The buildah expectations come from running containers/storage fileutils (as vendored by buildah 1.28.2 and
podman 4.3.1) on the same inputs, and from a real `buildah bud` of a COPY . context (see docs/context.md).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.errors import ConfigError
from builder.context.rules import DIALECTS, IgnoreRules, _moby_compile, _moby_file_lines, find_ignore_file


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


def test_moby_ignorefile_read_all() -> None:
    content = "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! "
    assert [line for _, line in _moby_file_lines(content)] == [
        "test1", "test2", "a/file/here", "lastfile", "!inverted/abs/path", "!", "!"]
    with pytest.raises(ConfigError) as caught:
        IgnoreRules.parse(content, Path(".dockerignore"), dialect="moby")
    assert (caught.value.file, caught.value.line) == (Path(".dockerignore"), 8)
    assert str(caught.value).startswith(".dockerignore:8: ")


# ------------------------------------------------------------------------------------------------------------
# Reading ignore files


@pytest.mark.parametrize("dialect", DIALECTS)
def test_comments_blank_lines_and_slashes(dialect: str) -> None:
    text = "# a comment\n\n   \n/build/\nlogs/\n/tmp/*.log\n!/tmp/keep.log\nnode_modules\r\n"
    got = IgnoreRules.parse(text, dialect=dialect)
    assert got.patterns == ("build", "logs", "tmp/*.log", "!tmp/keep.log", "node_modules")
    assert got.excluded("build") and got.excluded("build/x/y") and got.excluded("logs/a")
    assert got.excluded("tmp/a.log") and not got.excluded("tmp/keep.log") and not got.excluded("tmp/a.txt")
    assert got.excluded("node_modules/x")  # the CRLF line's "\r" is whitespace to both
    assert not got.excluded("a/build") and not got.excluded("# a comment")


def test_buildah_file_quirks() -> None:
    # imagebuilder.ParseIgnore tests '#' before trimming spaces and trims '/' before the matcher trims spaces.
    got = IgnoreRules.parse("  # not a comment\n /abs\n\ufeffbom\n")
    assert got.patterns == ("# not a comment", "/abs", "\ufeffbom")
    assert got.excluded("# not a comment")
    assert not got.excluded("abs")  # "/abs" can never match a relative path
    assert not got.excluded("bom")


def test_moby_file_quirks() -> None:
    got = IgnoreRules.parse("\ufeffbom\n  # a comment?\n /abs\n!  spaced\n", dialect="moby")
    assert got.patterns == ("bom", "# a comment?", "abs", "!spaced")
    assert got.excluded("bom") and got.excluded("abs")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_patterns_are_cleaned(dialect: str) -> None:
    got = rules("a/./b/../c//d/", "./x", "y/..", dialect=dialect)
    assert got.patterns == ("a/c/d", "x", ".")
    assert got.excluded("a/c/d/e") and got.excluded("x")
    assert not got.excluded("a/b/c/d")


def test_patterns_keep_a_form_the_server_reads_the_same() -> None:
    # Clean("a /.") is "a ": written back as "a " the server would trim it to "a", so the line is kept as is.
    got = rules("a /.")
    assert got.patterns == ("a /.",)
    assert got.excluded("a ") and not got.excluded("a")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_errors_name_file_and_line(dialect: str) -> None:
    with pytest.raises(ConfigError) as caught:
        IgnoreRules.parse("ok\n# fine\nsrc/[a-\n", Path("ctx/.containerignore"), dialect=dialect)
    error = caught.value
    assert (error.file, error.line, error.exit_code) == (Path("ctx/.containerignore"), 3, 2)
    assert str(error).startswith("ctx/.containerignore:3: invalid ignore pattern 'src/[a-'")
    assert error.hint


def test_regexp_errors_are_reported_at_parse_time() -> None:
    # buildah hands "+" to Go's regexp: "c++" fails there ("invalid nested repetition operator").
    with pytest.raises(ConfigError, match="nested repetition"):
        IgnoreRules.parse("c++\n")
    assert rules("c++", dialect="moby").excluded("c++")
    with pytest.raises(ConfigError, match="character class range"):
        rules("[Local-Only]/")  # moby issue 52203: passes filepath.Match, fails in regexp (l-O is reversed)
    with pytest.raises(ConfigError, match="not supported by imgctl"):
        rules("\\pL*")


def test_go_1_19_only_checks_the_chunks_it_reads() -> None:
    # filepath.Match(p, ".") stops at the first mismatching chunk, so a broken tail is not seen...
    assert rules("a*\\", dialect="moby").excluded("ab$")  # moby turns the lone "\" into "\$": a literal "$"
    # ... but buildah's own compile step refuses a trailing backslash.
    with pytest.raises(ConfigError, match="trailing backslash"):
        rules("a*\\")
    with pytest.raises(ConfigError):
        rules("\\")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_from_patterns_rejects_bad_entries(dialect: str) -> None:
    with pytest.raises(ConfigError) as caught:
        IgnoreRules.from_patterns(["ok", "two\nlines"], Path("p.toml"), dialect=dialect)
    assert caught.value.key == "ignore[1]" and caught.value.file == Path("p.toml")
    with pytest.raises(TypeError):
        IgnoreRules.from_patterns("single string", dialect=dialect)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        IgnoreRules.from_patterns([], dialect="gitignore")


# ------------------------------------------------------------------------------------------------------------
# Semantics both dialects share


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("patterns, text, expected", [
    (["*.log"], "a.log", True),
    (["*.log"], "dir/a.log", False),  # '*' never crosses '/'
    (["**/*.log"], "dir/sub/a.log", True),
    (["**/*.log"], "a.log", True),
    (["dir/**/x"], "dir/x", True),
    (["dir/**/x"], "dir/a/b/x", True),
    (["?.txt"], "a.txt", True),
    (["?.txt"], "ab.txt", False),
    (["[ab].txt"], "b.txt", True),
    (["[!a].txt"], "!.txt", True),  # Go: '!' is not a negation inside [...]
    (["[^a].txt"], "b.txt", True),
    (["\\*.txt"], "*.txt", True),
    (["\\*.txt"], "a.txt", False),
    (["/secret"], "secret", True),  # leading '/' is dropped
    (["secret/"], "secret/key", True),  # trailing '/' dropped: the directory and all below it
    (["node_modules"], "node_modules/a/b/c.js", True),  # a path is excluded when a parent matches
    (["node_modules"], "src/node_modules/x", False),
    (["**/node_modules"], "src/node_modules/x", True),
    (["*", "!src"], "src/main.py", False),  # an exception re-includes everything under it
    (["*", "!src"], "docs", True),
    (["src", "!src/keep", "src/keep/tmp"], "src/keep/tmp/x", True),  # the last match wins
    (["src", "!src/keep", "src/keep/tmp"], "src/keep/y", False),
    (["!src", "src"], "src/y", True),
    (["docs", "!docs/**/*.md"], "docs/a/b.md", False),
    (["docs", "!docs/**/*.md"], "docs/a/b.txt", True),
    (["**/.git"], ".git/config", True),
    (["a b"], "a b", True),
])
def test_shared_semantics(dialect: str, patterns: list[str], text: str, expected: bool) -> None:
    assert rules(*patterns, dialect=dialect).excluded(text) is expected


@pytest.mark.parametrize("dialect", DIALECTS)
def test_root_is_never_excluded(dialect: str) -> None:
    everything = rules("**", "*", dialect=dialect)
    assert not everything.excluded("") and not everything.excluded(".")
    assert not everything.prune(".")


def test_the_dialects_differ_where_the_go_code_does() -> None:
    for text in ("afoo", "dir/afoo"):
        assert rules("**foo", dialect="moby").excluded(text)  # moby: plain HasSuffix
        assert not rules("**foo").excluded(text)  # buildah: ^(.*/)?foo(/.*)?$
    assert rules("a+b").excluded("aab") and not rules("a+b").excluded("a+b")
    assert rules("a+b", dialect="moby").excluded("a+b")
    assert rules("lib (copy)").excluded("lib copy") and not rules("lib (copy)").excluded("lib (copy)")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_extended_appends_after_the_file(dialect: str) -> None:
    base = IgnoreRules.parse("*.tmp\nbuild\n", Path(".containerignore"), dialect=dialect)
    more = base.extended(["!build/keep", "*.bak"])
    assert more.patterns == ("*.tmp", "build", "!build/keep", "*.bak")
    assert more.source == Path(".containerignore") and more.dialect == dialect
    assert base.excluded("build/keep") and not more.excluded("build/keep") and more.excluded("x.bak")
    assert base.patterns == ("*.tmp", "build")  # unchanged
    with pytest.raises(ConfigError) as caught:
        base.extended(["ok", "[bad"], origin=Path("imgctl.toml"))
    assert caught.value.file == Path("imgctl.toml") and caught.value.key == "ignore[1]"


def test_equality_and_repr() -> None:
    assert rules("a", "!b") == rules("a", "!b")
    assert rules("a") != rules("a", dialect="moby")
    assert "patterns=('a',)" in repr(rules("a"))


# ------------------------------------------------------------------------------------------------------------
# prune


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("patterns, directory, expected", [
    (["node_modules"], "node_modules", True),
    (["**/node_modules"], "web/node_modules", True),
    (["node_modules"], "src", False),  # not excluded at all
    (["node_modules", "!node_modules/keep.txt"], "node_modules", False),
    (["node_modules", "!**/keep.txt"], "node_modules", False),  # a wildcard exception may match below
    (["node_modules", "!src/**"], "node_modules", True),  # this exception can never match below it
    (["node_modules", "!src/**"], "src", False),
    (["*", "!*/keep"], "a", False),
    (["*", "!keep"], "a", True),
    (["*", "!a*/x"], "b", True),
    (["*", "!a*/x"], "abc", False),
    (["build", "!build"], "build", False),  # not excluded: the exception is last
    (["!build/x", "build"], "build", True),  # an exception before the decisive pattern does not count
    (["**", "!**/*.md"], "docs", False),
])
def test_prune(dialect: str, patterns: list[str], directory: str, expected: bool) -> None:
    assert rules(*patterns, dialect=dialect).prune(directory) is expected


def test_prune_does_not_trust_a_pattern_that_stops_at_the_directory() -> None:
    # buildah's regexp ^a\z(/.*)?$ matches the directory "a" but nothing below it.
    got = rules("a\\z")
    assert got.excluded("a") and not got.excluded("a/b")
    assert not got.prune("a")


NAMES = ["a", "b", "ab", "node_modules", ".git", "x.py", "a+b", "(c)", "$", "keep", "a b"]
ATOMS = ["a", "b", "*", "**", "?", "/", "[a-b]", "[^a]", "\\*", "x.py", "node_modules", "keep", ".git", "+",
         "(", ")", "|", "{2}", "$", "^", "\\z", "\\b", "!"]

trees = st.recursive(
    st.none(),
    lambda children: st.dictionaries(st.sampled_from(NAMES), children, min_size=1, max_size=3),
    max_leaves=20,
).filter(lambda tree: isinstance(tree, dict))
pattern_lists = st.lists(
    st.builds(lambda negate, parts: ("!" if negate else "") + "".join(parts),
              st.booleans(), st.lists(st.sampled_from(ATOMS), min_size=1, max_size=4)),
    max_size=5)


def kept_with_pruning(tree: dict, got: IgnoreRules, prefix: str = "") -> set[str]:
    kept: set[str] = set()
    for name, child in tree.items():
        path = prefix + name
        if child is None:
            if not got.excluded(path):
                kept.add(path)
        elif not got.prune(path):
            below = kept_with_pruning(child, got, path + "/")
            if below or not got.excluded(path):
                kept.add(path)
            kept |= below
    return kept


def kept_by_brute_force(tree: dict, got: IgnoreRules, prefix: str = "") -> set[str]:
    kept: set[str] = set()
    for name, child in tree.items():
        path = prefix + name
        below = kept_by_brute_force(child, got, path + "/") if child is not None else set()
        if below or not got.excluded(path):
            kept.add(path)
        kept |= below
    return kept


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(tree=trees, patterns=pattern_lists, dialect=st.sampled_from(DIALECTS))
def test_walking_with_prune_keeps_exactly_what_excluded_keeps(tree: dict, patterns: list[str],
                                                               dialect: str) -> None:
    try:
        got = IgnoreRules.from_patterns(patterns, dialect=dialect)
    except ConfigError:
        return
    assert kept_with_pruning(tree, got) == kept_by_brute_force(tree, got)


def test_prune_actually_prunes_often() -> None:
    # Soundness alone would allow never pruning; these all must prune.
    for dialect in DIALECTS:
        got = rules("**/node_modules", ".git", "*.pyc", "!src/**", "!README.md", dialect=dialect)
        assert got.prune("node_modules") and got.prune("web/node_modules") and got.prune(".git")


# ------------------------------------------------------------------------------------------------------------
# find_ignore_file: buildah 1.28 pkg/parse.ContainerIgnoreFile


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x\n")
    return path


def test_find_ignore_file_order(tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    containerfile = tmp_path / "build" / "Containerfile"
    touch(containerfile)
    context.mkdir()
    assert find_ignore_file(context, containerfile) is None
    docker = touch(context / ".dockerignore")
    assert find_ignore_file(context, containerfile) == docker
    container = touch(context / ".containerignore")
    assert find_ignore_file(context, containerfile) == container  # .containerignore wins in the context
    beside = touch(tmp_path / "build" / "Containerfile.containerignore")
    assert find_ignore_file(context, containerfile) == beside  # beside the Containerfile wins over both
    beside_docker = touch(tmp_path / "build" / "Containerfile.dockerignore")
    # buildah quirk: it checks .containerignore then .dockerignore and the second overwrites the first.
    assert find_ignore_file(context, containerfile) == beside_docker


def test_find_ignore_file_dangling_link_counts_as_missing(tmp_path: Path) -> None:
    (tmp_path / ".containerignore").symlink_to(tmp_path / "nowhere")
    docker = touch(tmp_path / ".dockerignore")
    assert find_ignore_file(tmp_path, tmp_path / "Containerfile") == docker


def test_load_reads_and_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / ".containerignore"
    path.write_bytes(b"*.log\n[oops\n")
    with pytest.raises(ConfigError) as caught:
        IgnoreRules.load(path)
    assert caught.value.file == path and caught.value.line == 2
    with pytest.raises(ConfigError, match="cannot read"):
        IgnoreRules.load(tmp_path)  # a directory


# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_matching_is_fast(dialect: str) -> None:
    generator = random.Random(7)
    parts = ["src", "node_modules", "lib", "dist", "a.js", "index.ts", "pkg"]
    paths = ["/".join(generator.choice(parts) for _ in range(generator.randint(1, 6))) + f"/f{i}.js"
             for i in range(20000)]
    got = rules("**/node_modules", "*.log", "dist", "!dist/keep.txt", ".git", "**/*.pyc", dialect=dialect)
    best = min(_timed(lambda: [got.excluded(path) for path in paths]) for _ in range(3))
    # The target is well under 50 ms (measured 10-25 ms); twice that leaves room for a busy test machine.
    assert best < 0.1


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start
