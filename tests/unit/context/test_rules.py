"""builder.context.rules: IgnoreRules in both dialects (errors, shared semantics, extension), the soundness of
`prune`, and the cost of matching.

The buildah expectations come from running containers/storage fileutils (as vendored by buildah 1.28.2 and
podman 4.3.1), and from a real `buildah bud` of a COPY . context (see docs/context.md).
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.context.dialects import DIALECTS
from builder.context.rules import IgnoreRules
from builder.errors import ConfigError


def rules(*patterns: str, dialect: str = "buildah") -> IgnoreRules:
    return IgnoreRules.from_patterns(patterns, dialect=dialect)


# ------------------------------------------------------------------------------------------------------------
# Reading ignore files


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
    # Counted, not timed: Python calls made per path, which no busy machine changes. Most paths of a real tree
    # match no pattern; they must cost one combined regexp test however many patterns there are, and no path
    # may compile a regexp or walk its parents one by one (moby's literal loop costs ~160 calls a path here).
    generator = random.Random(7)
    parts = ["src", "node_modules", "lib", "dist", "a.js", "index.ts", "pkg"]
    paths = ["/".join(generator.choice(parts) for _ in range(generator.randint(1, 6))) + f"/f{i}.js"
             for i in range(5000)]
    patterns = ["**/node_modules", "*.log", "dist", "!dist/keep.txt", ".git", "**/*.pyc"]
    got = rules(*patterns, dialect=dialect)
    more = rules(*patterns, *(f"**/other{i}/*.tmp" for i in range(24)), dialect=dialect)
    kept = [path for path in paths if not got.excluded(path)]
    gone = [path for path in paths if got.excluded(path)]
    assert kept and gone and all(not more.excluded(path) for path in kept)

    few, functions = _calls(lambda: [got.excluded(path) for path in kept])
    many, _ = _calls(lambda: [more.excluded(path) for path in kept])
    assert few == many  # the cost of a path no pattern matches does not grow with the patterns
    assert few <= 12 * len(kept)
    excluded_calls, more_functions = _calls(lambda: [got.excluded(path) for path in gone])
    assert excluded_calls <= (10 + 3 * len(patterns)) * len(gone)
    compiled = {name for name in functions | more_functions if name[0] == re.__file__}
    assert not compiled, compiled


def _calls(action: Callable[[], object]) -> tuple[int, set[tuple[str, str]]]:
    """Python and C calls made by action, and the (file, function) of each Python function called."""
    count = 0
    functions: set[tuple[str, str]] = set()

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1
        if event == "call":
            functions.add((frame.f_code.co_filename, frame.f_code.co_name))

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return count, functions
