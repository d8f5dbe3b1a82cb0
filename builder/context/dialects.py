"""The two Go implementations of "dockerignore" patterns, which disagree on real patterns; both are reproduced.

``buildah`` (the default): what podman 4.3.1 / buildah 1.28 on our machines do (buildah main still does).
    Patterns are compiled by ``containers/storage/pkg/fileutils.NewPatternMatcher`` and every COPY/ADD source is
    tested with its ``Matches`` (buildah ``copier.go`` ``pathIsExcluded``, ``add.go``). Each pattern becomes the
    Go regexp ``^<pattern>(/.*)?$`` where only ``.`` and ``$`` are escaped, so ``+ ( ) | { }`` keep their regexp
    meaning; ``(/.*)?`` makes a pattern that matches a directory match everything below it.
``moby``: ``github.com/moby/patternmatcher`` ``MatchesOrParentMatches``, as docker and BuildKit use it:
    ``. + ( ) $`` are escaped (``| { }`` are meant to be but are not, see _MOBY_ESCAPED), patterns without
    wildcards are compared as strings, ``**x`` is a plain suffix test, and a pattern matches a path when it
    matches the path or one of its parent directories.

In both, ``*`` and ``?`` never match ``/``; ``**`` matches any number of directories; ``[...]`` classes and ``\\``
escapes go to Go's regexp engine as they are; and a pattern must pass ``filepath.Match(pattern, ".")`` as Go 1.19
runs it. Go would report a regexp error only when the pattern is first used; imgctl reports it when the file is
parsed. How a file's lines become patterns is builder.context.ignorefile's; how patterns combine (last match
wins, '!' re-includes) is builder.context.rules'.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from builder.context import goregexp
from builder.context.automaton import may_match_below
from builder.context.gopath import BadPattern, check_pattern, clean, dirname, trim_space

BUILDAH, MOBY = "buildah", "moby"
DIALECTS = (BUILDAH, MOBY)
DEFAULT_DIALECT = BUILDAH


def check_dialect(dialect: str) -> str:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown ignore dialect {dialect!r} (expected one of {', '.join(DIALECTS)})")
    return dialect


@dataclass(frozen=True)
class Matcher:
    """One compiled pattern, with everything IgnoreRules needs to decide and to prune fast."""

    text: str  # what the build API's `excludes` takes: normalising it again yields this same rule
    exclusion: bool
    hits: Callable[[str], bool]  # does the pattern decide for this clean relative path (dialect semantics)
    hits_raw: Callable[[str], bool]  # the same for any string, following the Go code literally
    fast: str | None  # Python regexp equivalent to `hits`, for the combined first test; None: use `hits`
    anchored: bool  # `fast` only matches at position 0, so re.match may be used
    below: Callable[[str], bool]  # could the pattern decide for some path strictly below this directory
    monotone: bool  # hitting a directory means hitting everything below it (see IgnoreRules.prune)




def compile_pattern(raw: str, dialect: str) -> Matcher | None:
    """One pattern (an ignore-file line as the dialect's reader left it); None for a pattern that is skipped.

    Raises BadPattern or goregexp.RegexpError for what the Go code would reject.
    """
    normalised = _normalise(raw, dialect)
    if normalised is None:
        return None
    body, exclusion = normalised
    check_pattern(body)
    candidate = ("!" if exclusion else "") + body
    # Keep the short form unless normalising it again would not give the same rule (e.g. "a /." -> "a ").
    text = candidate if _normalise(candidate, dialect) == normalised else raw
    if dialect == MOBY:
        return _moby_rule(text, body, exclusion)
    return _buildah_rule(text, body, exclusion)


def _normalise(raw: str, dialect: str) -> tuple[str, bool] | None:
    """NewPatternMatcher / patternmatcher.New for one pattern: (body, is_exclusion), None when skipped."""
    pattern = trim_space(raw)
    if not pattern:
        return None
    pattern = clean(pattern)
    if pattern[0] != "!":
        return pattern, False
    if len(pattern) == 1:
        raise BadPattern('illegal exclusion pattern: "!"')
    if dialect == MOBY:
        return pattern[1:], True
    body = clean(pattern[1:])
    return (body[1:] if body.startswith("/") else body), True


def _search(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern, re.ASCII)
    return lambda path: compiled.search(path) is not None


def _containers_storage_regexp(pattern: str) -> str:
    """containers/storage fileutils Pattern.compile, as a Go regexp string."""
    out = ["^"]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        i += 1
        if char == "*" and pattern[i:i + 1] == "*":
            i += 1
            if pattern[i:i + 1] == "/":
                i += 1
            out.append(".*" if i == len(pattern) else "(.*/)?")
        elif char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char in ".$":
            out.append("\\" + char)
        elif char == "\\":
            if i == len(pattern):
                raise BadPattern("trailing backslash")
            out.append("\\" + pattern[i])
            i += 1
        else:
            out.append(char)
    out.append("(/.*)?$")
    return "".join(out)


def _buildah_rule(text: str, body: str, exclusion: bool) -> Matcher:
    tree = goregexp.parse(_containers_storage_regexp(body))
    fast = goregexp.to_python(tree)
    hits = _search(fast)
    return Matcher(text, exclusion, hits, hits, fast, goregexp.starts_anchored(tree), may_match_below(tree),
                 _only_final_eot(tree))


def _only_final_eot(tree: goregexp.Node) -> bool:
    """True when the regexp's only end-of-text test is the closing "(/.*)?$", so a match for a directory is
    also a match for every path below it (barring names with a newline, which "." does not match).

    A user's \\z ("a\\z" matches the directory "a" but not "a/b") breaks that.
    """
    eot = goregexp.EOT
    last = tree[1][-1] if tree[0] == "alt" else tree
    final = last[0] == "cat" and last[1][-1] == eot
    total = goregexp.count(tree, eot)
    return total == 0 or (total == 1 and final)


_EXACT, _PREFIX, _SUFFIX, _REGEXP = "exact", "prefix", "suffix", "regexp"
# moby means to escape ".+()|{}$", but its shouldEscape bitmap ([8]byte indexed by b%8, bit b/8) has no room for
# bytes >= 64, so "|", "{" and "}" reach the regexp unescaped: "a|b*" is an alternation there. Reproduced.
_MOBY_ESCAPED = ".+()$"


def _moby_compile(pattern: str) -> tuple[str, str]:
    """moby patternmatcher Pattern.compile: the match type and, for _REGEXP, the Go regexp string."""
    out = ["^"]
    kind = _EXACT
    i = 0
    first = True
    while i < len(pattern):
        char = pattern[i]
        i += 1
        if char == "*" and pattern[i:i + 1] == "*":
            i += 1
            if pattern[i:i + 1] == "/":
                i += 1
            if i < len(pattern):
                out.append("(.*/)?")
                kind = _REGEXP
            elif kind == _EXACT:
                kind = _PREFIX
            else:
                out.append(".*")
                kind = _REGEXP
            if first:
                kind = _SUFFIX
        elif char == "*":
            out.append("[^/]*")
            kind = _REGEXP
        elif char == "?":
            out.append("[^/]")
            kind = _REGEXP
        elif char in _MOBY_ESCAPED:
            out.append("\\" + char)
        elif char == "\\":
            if i < len(pattern):
                out.append("\\" + pattern[i])
                i += 1
                kind = _REGEXP
            else:
                out.append("\\")
        elif char in "[]":
            out.append(char)
            kind = _REGEXP
        else:
            out.append(char)
        first = False
    return kind, "".join(out) + "$"


def _moby_rule(text: str, body: str, exclusion: bool) -> Matcher:
    kind, go_regexp = _moby_compile(body)
    if kind == _EXACT:
        return _moby_string_rule(
            text, exclusion, lambda s: s == body, r"\A" + re.escape(body) + r"(?=/|\Z)",
            lambda d: body.startswith(d + "/") and len(body) > len(d) + 1)
    if kind == _PREFIX:
        prefix = body[:-2]
        return _moby_string_rule(
            text, exclusion, lambda s: s.startswith(prefix), r"\A" + re.escape(prefix),
            lambda d: (d + "/").startswith(prefix) or prefix.startswith(d + "/"))
    if kind == _SUFFIX:
        suffix = body[2:]
        whole = r"|" + re.escape(suffix[1:]) if suffix.startswith("/") else ""
        return _moby_string_rule(
            text, exclusion, lambda s: s.endswith(suffix) or (suffix[:1] == "/" and s == suffix[1:]),
            r"\A(?:(?s:.*)" + re.escape(suffix) + whole + r")(?=/|\Z)", lambda d: True)
    tree = goregexp.parse(go_regexp)
    return _moby_string_rule(text, exclusion, _search(goregexp.to_python(tree)), _moby_fast_regexp(tree),
                             may_match_below(tree))


def _moby_fast_regexp(tree: goregexp.Node) -> str | None:
    """One Python regexp for "the pattern matches the path or a parent", valid for clean paths.

    For a path p with parent prefixes p[:k] (p[k] == '/'), matching the Go regexp ^body$ against some prefix
    is body followed by (?=/|\\Z) on p itself: \\b sees '/' or the end there, both non-word. Without a $ (it was
    swallowed by \\Q) matching any prefix of p is the same. A $ or \\z elsewhere needs the literal loop.
    """
    if tree[0] != "cat" or not goregexp.starts_anchored(tree):
        return None
    eot = goregexp.EOT
    items = tree[1]
    if items[-1] == eot and not any(goregexp.contains(item, eot) for item in items[:-1]):
        return goregexp.to_python(("cat", items[:-1])) + r"(?=/|\Z)"
    if not goregexp.contains(tree, eot):
        return goregexp.to_python(tree)
    return None


def _moby_string_rule(text: str, exclusion: bool, match: Callable[[str], bool], fast: str | None,
                      below: Callable[[str], bool]) -> Matcher:
    def hits_raw(path: str) -> bool:
        if match(path):
            return True
        parent = dirname(path)
        if parent == ".":
            return False
        parts = parent.split("/")
        return any(match("/".join(parts[:i + 1])) for i in range(len(parts)))

    hits = _search(fast) if fast is not None else hits_raw
    # MatchesOrParentMatches tests every parent, so a directory's match carries to all paths below it.
    return Matcher(text, exclusion, hits, hits_raw, fast, fast is not None, below, True)

