""".containerignore / .dockerignore rules, matched exactly as the build service matches them.

Two Go implementations of "dockerignore" exist and they disagree on real patterns, so both are reproduced:

``dialect="buildah"`` (the default): what podman 4.3.1 / buildah 1.28 on our machines do (buildah main still
    does). The file is read by ``imagebuilder.ParseIgnore``: lines split on ``\\n``, a line that is empty or
    starts with ``#`` is dropped, ``/`` is trimmed from both ends, nothing else. Patterns are compiled by
    ``containers/storage/pkg/fileutils.NewPatternMatcher`` and every COPY/ADD source is tested with its
    ``Matches`` (buildah ``copier.go`` ``pathIsExcluded``, ``add.go``). Each pattern becomes the Go regexp
    ``^<pattern>(/.*)?$`` where only ``.`` and ``$`` are escaped, so ``+ ( ) | { }`` keep their regexp meaning;
    ``(/.*)?`` makes a pattern that matches a directory match everything below it.
``dialect="moby"``: ``github.com/moby/patternmatcher`` ``MatchesOrParentMatches`` after ``ignorefile.ReadAll``,
    as docker and BuildKit use them: ``. + ( ) $`` are escaped (``| { }`` are meant to be but are not, see
    _MOBY_ESCAPED), patterns without wildcards are compared as strings, ``**x`` is a plain suffix test, and a
    pattern matches a path when it matches the path or one of its parent directories.

In both, the last matching pattern wins and ``!`` re-includes; ``*`` and ``?`` never match ``/``; ``**`` matches
any number of directories; ``[...]`` classes and ``\\`` escapes go to Go's regexp engine as they are (so
``[[:alpha:]]`` or ``\\d`` mean what Go makes of them); and a pattern must pass ``filepath.Match(pattern, ".")``
as Go 1.19 runs it (it stops reading at the first chunk that does not match ".").

The Go regexps are parsed here with Go's RE2 rules and rebuilt as Python regexps (and, for `prune`, as a small
automaton), so no difference between the two regexp dialects can change a result. Go would report a regexp error
only when the pattern is first used; imgctl reports it when the file is parsed. Not reproduced: ``\\p{...}``
Unicode classes (ConfigError), Go's size limits for huge regexps, and patterns that are not valid UTF-8
(ConfigError).
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, Tuple

from builder.errors import ConfigError

DIALECTS = ("buildah", "moby")
DEFAULT_DIALECT = "buildah"

# Go's strings.TrimSpace trims unicode.IsSpace, which (unlike str.isspace) excludes \x1c-\x1f.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
    "\u2028\u2029\u202f\u205f\u3000"
_MAX_RUNE = 0x10FFFF
_HINT = "patterns follow .dockerignore syntax: * ? [a-z] ** \\escape, and !pattern to re-include (docs/context.md)"

_DOT_PART = re.compile(r"/\.\.?(?:/|\Z)")


class _PatternError(Exception):
    """A pattern that the Go code would reject (or that imgctl cannot reproduce)."""


# --------------------------------------------------------------------------------------------------------------
# Go's path/filepath helpers


def _is_clean(path: str) -> bool:
    """A path like "a/b": moby sends anything else ("a//b", "./a", "a/", "/a") down its literal, slower path."""
    return ("//" not in path and not path.startswith(("/", "./", "../")) and not path.endswith("/")
            and path not in (".", "..") and _DOT_PART.search(path) is None)


def _go_trim_space(text: str) -> str:
    return text.strip(_GO_SPACE)


def _go_clean(path: str) -> str:
    """filepath.Clean: posixpath.normpath differs (it keeps a leading '//')."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part != "..":
            parts.append(part)
        elif parts and parts[-1] != "..":
            parts.pop()
        elif not rooted:
            parts.append("..")
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def _go_dir(path: str) -> str:
    return _go_clean(path[: path.rfind("/") + 1])


def _check_glob(pattern: str) -> None:
    """Raise what `filepath.Match(pattern, ".")` reports, as both Go matchers call it to vet a pattern.

    This is Go 1.19's Match (podman 4.3.1 on Debian 12 is built with it): a chunk is checked whole once Match
    reads it, but the chunks after the first mismatch are never read, so "a*[" passes while "[" does not.
    """
    name = "."
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return
        rest, ok = _match_chunk(chunk, name)
        if ok and (not rest or pattern):
            name = rest
            continue
        retried = _star_retry(chunk, name, last=not pattern) if star else None
        if retried is None:
            return  # Go stops here: the chunks after a mismatch are never checked
        name = retried


def _star_retry(chunk: str, name: str, last: bool) -> str | None:
    """After a star, try the chunk further along the name (never past a '/'); the rest of the name or None."""
    for skip in range(1, len(name) + 1):
        if name[skip - 1] == "/":
            break
        rest, ok = _match_chunk(chunk, name[skip:])
        if ok and not (last and rest):
            return rest
    return None


def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    """Leading stars, then the run up to the next '*' outside [...], then the rest."""
    i = 0
    while i < len(pattern) and pattern[i] == "*":
        i += 1
    star, start, in_range = i > 0, i, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            i += 1
        elif char == "[":
            in_range = True
        elif char == "]":
            in_range = False
        elif char == "*" and not in_range:
            break
        i += 1
    return star, pattern[start:i], pattern[i:]


def _match_chunk(chunk: str, name: str) -> tuple[str, bool]:
    """filepath.matchChunk: does chunk match the start of name (and what is left); raises on bad syntax.

    Once the match has failed the chunk is still read to its end, only to find syntax errors.
    """
    failed = False
    i = 0
    while i < len(chunk):
        failed = failed or not name
        char = chunk[i]
        if char == "[":
            target = None if failed else ord(name[0])
            name = name if failed else name[1:]
            i, matched = _match_class(chunk, i + 1, target)
            failed = failed or not matched
            continue
        if char == "\\":
            i += 1
            if i >= len(chunk):
                raise _PatternError("trailing backslash")
        if not failed:
            failed = (name[0] == "/") if char == "?" else chunk[i] != name[0]
            name = name[1:]
        i += 1
    return ("", False) if failed else (name, True)


def _match_class(chunk: str, i: int, target: int | None) -> tuple[int, bool]:
    negated = i < len(chunk) and chunk[i] == "^"
    if negated:
        i += 1
    matched, ranges = False, 0
    while not (i < len(chunk) and chunk[i] == "]" and ranges > 0):
        low, i = _class_escape(chunk, i)
        high = low
        if chunk[i] == "-":
            high, i = _class_escape(chunk, i + 1)
        matched = matched or (target is not None and low <= target <= high)
        ranges += 1
    return i + 1, matched != negated


def _class_escape(chunk: str, i: int) -> tuple[int, int]:
    """filepath.getEsc: one possibly escaped class character, which must not end the chunk."""
    if i >= len(chunk) or chunk[i] in "-]":
        raise _PatternError("malformed [...] character class")
    if chunk[i] == "\\":
        i += 1
        if i >= len(chunk):
            raise _PatternError("malformed [...] character class")
    if i + 1 >= len(chunk):
        raise _PatternError("unterminated [...] character class")
    return ord(chunk[i]), i + 1


# --------------------------------------------------------------------------------------------------------------
# A Go regexp (RE2 syntax, regexp.Compile flags) as a small tree.
#
# Nodes are tuples: ("chars", ranges) with ranges a sorted tuple of (lo, hi) code points; ("assert", kind) with
# kind one of bot/eot/wb/nwb; ("cat", nodes); ("alt", nodes); ("rep", node, min, max, counted) with max -1 for
# "no limit"; ("empty",). Capture groups are dropped: only whether a path matches matters.

Ranges = Tuple[Tuple[int, int], ...]
Node = tuple

_EMPTY: Node = ("empty",)
_DOT: Ranges = ((0, 9), (11, _MAX_RUNE))
_WORD_RANGES = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_PERL_CLASSES: dict[str, Ranges] = {
    "d": ((0x30, 0x39),),
    "s": ((9, 10), (12, 13), (32, 32)),
    "w": _WORD_RANGES,
}
_POSIX_CLASSES: dict[str, Ranges] = {
    "alnum": ((0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)),
    "alpha": ((0x41, 0x5A), (0x61, 0x7A)),
    "ascii": ((0, 0x7F),),
    "blank": ((9, 9), (32, 32)),
    "cntrl": ((0, 0x1F), (0x7F, 0x7F)),
    "digit": ((0x30, 0x39),),
    "graph": ((0x21, 0x7E),),
    "lower": ((0x61, 0x7A),),
    "print": ((0x20, 0x7E),),
    "punct": ((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)),
    "space": ((9, 13), (32, 32)),
    "upper": ((0x41, 0x5A),),
    "word": _WORD_RANGES,
    "xdigit": ((0x30, 0x39), (0x41, 0x46), (0x61, 0x66)),
}
_C_ESCAPES = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
_OCTAL = "01234567"
_ASCII_ALNUM = frozenset(string.ascii_letters + string.digits)
_MAX_REPEAT = 1000


def _merge(ranges: Iterable[tuple[int, int]]) -> Ranges:
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


def _negate(ranges: Ranges) -> Ranges:
    out, next_lo = [], 0
    for lo, hi in ranges:
        if next_lo <= lo - 1:
            out.append((next_lo, lo - 1))
        next_lo = hi + 1
    if next_lo <= _MAX_RUNE:
        out.append((next_lo, _MAX_RUNE))
    return tuple(out)


def _literal(char: str) -> Node:
    return ("chars", ((ord(char), ord(char)),))


class _GoRegexpParser:
    """Parses what moby/containers-storage hand to regexp.Compile, with Go's rules and Go's errors."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> Node:
        node = self._alternation()
        if self.pos < len(self.text):
            raise _PatternError("regexp: unexpected )")
        return node

    def _peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def _alternation(self) -> Node:
        branches = [self._concat()]
        while self._peek() == "|":
            self.pos += 1
            branches.append(self._concat())
        return branches[0] if len(branches) == 1 else ("alt", tuple(branches))

    def _concat(self) -> Node:
        items: list[Node] = []
        last_was_repeat = False
        while self._peek() not in ("", "|", ")"):
            char = self._peek()
            if char in "*+?":
                self.pos += 1
                low, high = {"*": (0, -1), "+": (1, -1), "?": (0, 1)}[char]
                self._repeat(items, low, high, False, last_was_repeat)
                last_was_repeat = True
                continue
            if char == "{":
                counts = self._braces()
                if counts is not None:
                    self._repeat(items, counts[0], counts[1], True, last_was_repeat)
                    last_was_repeat = True
                    continue
                # Go: "If the repeat cannot be parsed, { is a literal."
                self.pos += 1
                items.append(_literal("{"))
            else:
                items.extend(self._atom())
            last_was_repeat = False
        if not items:
            return _EMPTY
        return items[0] if len(items) == 1 else ("cat", tuple(items))

    def _repeat(self, items: list[Node], low: int, high: int, counted: bool, last_was_repeat: bool) -> None:
        if self._peek() == "?":  # non-greedy: same set of matches
            self.pos += 1
        if last_was_repeat:
            raise _PatternError("regexp: invalid nested repetition operator")
        if not items:
            raise _PatternError("regexp: missing argument to repetition operator")
        items[-1] = ("rep", items[-1], low, high, counted)
        if counted and (low >= 2 or high >= 2) and not _repeat_is_valid(items[-1], _MAX_REPEAT):
            raise _PatternError("regexp: invalid repeat count")

    def _braces(self) -> tuple[int, int] | None:
        """{n}, {n,} or {n,m}; None when it is not one (then '{' is a literal)."""
        found = re.match(r"\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}", self.text[self.pos:])
        if not found:
            return None
        low = int(found.group(1))
        high = low if not found.group(2) else (int(found.group(3)) if found.group(3) else -1)
        if low > _MAX_REPEAT or high > _MAX_REPEAT or (high >= 0 and low > high):
            raise _PatternError("regexp: invalid repeat count")
        self.pos += found.end()
        return low, high

    def _atom(self) -> list[Node]:
        char = self._peek()
        if char == "(":
            if self._peek(1) == "?":
                raise _PatternError("regexp: (? groups are not supported")
            self.pos += 1
            inner = self._alternation()
            if self._peek() != ")":
                raise _PatternError("regexp: missing closing )")
            self.pos += 1
            return [inner]
        if char == "[":
            return [self._char_class()]
        if char == "\\":
            return self._backslash()
        self.pos += 1
        if char == "^":
            return [("assert", "bot")]
        if char == "$":
            return [("assert", "eot")]
        if char == ".":
            return [("chars", _DOT)]
        return [_literal(char)]

    def _backslash(self) -> list[Node]:
        follower = self._peek(1)
        simple = {"A": ("assert", "bot"), "z": ("assert", "eot"), "b": ("assert", "wb"), "B": ("assert", "nwb")}
        if follower in simple:
            self.pos += 2
            return [simple[follower]]
        if follower == "Q":
            # \Q...\E: literal text up to \E or the end (swallowing the final $ if there is no \E).
            end = self.text.find("\\E", self.pos + 2)
            stop = len(self.text) if end < 0 else end
            chars = self.text[self.pos + 2: stop]
            self.pos = len(self.text) if end < 0 else end + 2
            return [_literal(char) for char in chars]
        if follower == "C":
            raise _PatternError("regexp: invalid escape sequence \\C")
        if follower in ("p", "P"):
            raise _PatternError("\\p{...} Unicode classes are not supported by imgctl")
        perl = self._perl_class()
        if perl is not None:
            return [("chars", perl)]
        code, self.pos = self._escape(self.pos)
        return [("chars", ((code, code),))]

    def _perl_class(self) -> Ranges | None:
        letter = self._peek(1)
        if self._peek() != "\\" or letter.lower() not in _PERL_CLASSES:
            return None
        self.pos += 2
        ranges = _PERL_CLASSES[letter.lower()]
        return _negate(ranges) if letter.isupper() else ranges

    def _escape(self, pos: int) -> tuple[int, int]:
        """Go's parseEscape: the code point of the escape at pos and the position after it."""
        text, i = self.text, pos + 1
        if i >= len(text):
            raise _PatternError("regexp: trailing backslash at end of expression")
        char = text[i]
        i += 1
        if char in _OCTAL and (char == "0" or (i < len(text) and text[i] in _OCTAL)):
            value = int(char)
            for _ in range(2):
                if i < len(text) and text[i] in _OCTAL:
                    value, i = value * 8 + int(text[i]), i + 1
            return value, i
        if char == "x":
            return self._hex_escape(i)
        if char in _C_ESCAPES:
            return _C_ESCAPES[char], i
        if ord(char) < 0x80 and char not in _ASCII_ALNUM:
            return ord(char), i
        raise _PatternError(f"regexp: invalid escape sequence \\{char}")

    def _hex_escape(self, i: int) -> tuple[int, int]:
        braced = re.match(r"\{([0-9A-Fa-f]+)\}", self.text[i:])
        if braced and int(braced.group(1), 16) <= _MAX_RUNE:
            return int(braced.group(1), 16), i + braced.end()
        pair = re.match(r"[0-9A-Fa-f]{2}", self.text[i:])
        if pair and self.text[i] != "{":
            return int(pair.group(0), 16), i + 2
        raise _PatternError("regexp: invalid escape sequence \\x")

    def _char_class(self) -> Node:
        self.pos += 1
        negated = self._peek() == "^"
        if negated:
            self.pos += 1
        ranges: list[tuple[int, int]] = []
        first = True  # ']' right after '[' or '[^' is a literal
        while first or self._peek() != "]":
            first = False
            named = self._named_class()
            if named is None:
                if self._peek() == "\\" and self._peek(1) in ("p", "P"):
                    raise _PatternError("\\p{...} Unicode classes are not supported by imgctl")
                named = self._perl_class()
            if named is not None:
                ranges.extend(named)
                continue
            low = self._class_char()
            high = low
            if self._peek() == "-" and self._peek(1) not in ("", "]"):
                self.pos += 1
                high = self._class_char()
                if high < low:
                    raise _PatternError("regexp: invalid character class range")
            ranges.append((low, high))
        self.pos += 1
        merged = _merge(ranges)
        return ("chars", _negate(merged) if negated else merged)

    def _named_class(self) -> Ranges | None:
        rest = self.text[self.pos:]
        if len(rest) <= 2 or not rest.startswith("[:"):
            return None
        # Like Go, look for ":]" anywhere further on, even past the end of this class.
        end = rest.find(":]", 2)
        if end < 0:
            return None
        name = rest[2:end]
        negated = name.startswith("^")
        ranges = _POSIX_CLASSES.get(name[1:] if negated else name)
        if ranges is None:
            raise _PatternError(f"regexp: invalid character class range {rest[:end + 2]}")
        self.pos += end + 2
        return _negate(ranges) if negated else ranges

    def _class_char(self) -> int:
        if self.pos >= len(self.text):
            raise _PatternError("regexp: missing closing ]")
        if self._peek() == "\\":
            code, self.pos = self._escape(self.pos)
            return code
        self.pos += 1
        return ord(self.text[self.pos - 1])


def _repeat_is_valid(node: Node, budget: int) -> bool:
    """Go rejects nested counted repetitions whose product exceeds 1000."""
    if node[0] == "rep" and node[4]:
        count = node[3] if node[3] >= 0 else node[2]
        if node[3] == 0:
            return True
        if count > budget:
            return False
        if count > 0:
            budget //= count
    return all(_repeat_is_valid(child, budget) for child in _children(node))


def _children(node: Node) -> Sequence[Node]:
    if node[0] in ("cat", "alt"):
        return node[1]
    if node[0] == "rep":
        return (node[1],)
    return ()


def _parse_go_regexp(text: str) -> Node:
    if any(0xD800 <= ord(char) <= 0xDFFF for char in text):
        raise _PatternError("pattern is not valid UTF-8")
    return _GoRegexpParser(text).parse()


# --------------------------------------------------------------------------------------------------------------
# Tree -> Python regexp


def _zero_width(node: Node) -> bool:
    kind = node[0]
    if kind in ("assert", "empty"):
        return True
    if kind == "chars":
        return False
    return all(_zero_width(child) for child in _children(node))


def _py_code(code: int) -> str:
    return re.escape(chr(code)) if 0x20 <= code < 0x7F else "\\U%08x" % code


def _py_set(ranges: Ranges) -> str:
    return "".join(_py_code(lo) if lo == hi else f"{_py_code(lo)}-{_py_code(hi)}" for lo, hi in ranges)


def _py_chars(ranges: Ranges) -> str:
    if not ranges:
        return "(?!)"
    if ranges == _DOT:
        return "."
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return re.escape(chr(ranges[0][0]))
    complement = _negate(ranges)
    if len(complement) < len(ranges):
        return f"[^{_py_set(complement)}]"
    return f"[{_py_set(ranges)}]"


def _py_regexp(node: Node) -> str:
    kind = node[0]
    if kind == "chars":
        return _py_chars(node[1])
    if kind == "assert":
        # Go's $ without (?m) is \z: Python's \Z, not $ (which also matches before a final newline).
        return {"bot": r"\A", "eot": r"\Z", "wb": r"\b", "nwb": r"\B"}[node[1]]
    if kind == "empty":
        return ""
    if kind == "cat":
        return "".join(_py_regexp(child) for child in node[1])
    if kind == "alt":
        return "(?:" + "|".join(_py_regexp(child) for child in node[1]) + ")"
    return _py_repeat(node)


def _py_repeat(node: Node) -> str:
    _, body, low, high, _ = node
    if _zero_width(body):
        # Python refuses to repeat an assertion; repeating something that only matches "" is just 0 or 1 of it.
        return "" if low == 0 else _py_regexp(body)
    inner = _py_regexp(body)
    atom = inner if body[0] == "chars" else f"(?:{inner})"
    quantifier = {(0, -1): "*", (1, -1): "+", (0, 1): "?"}.get((low, high))
    if quantifier is None:
        quantifier = f"{{{low},}}" if high < 0 else (f"{{{low}}}" if low == high else f"{{{low},{high}}}")
    return atom + quantifier


def _starts_anchored(node: Node) -> bool:
    first = node[1][0] if node[0] == "cat" else node
    return first == ("assert", "bot")


def _contains(node: Node, wanted: Node) -> bool:
    return node == wanted or any(_contains(child, wanted) for child in _children(node))


# --------------------------------------------------------------------------------------------------------------
# Tree -> automaton, only to answer "can this regexp match some path below directory d?" for `prune`.

_UNKNOWN = -2  # the next character exists but is not known yet
_MAX_STATES = 20000
_MAX_MEMO = 50000


class _TooBig(Exception):
    pass


def _is_word(code: int | None) -> bool:
    return code is not None and code >= 0 and any(lo <= code <= hi for lo, hi in _WORD_RANGES)


class _Automaton:
    """Thompson NFA; states are ("chars", ranges, next), ("split", nexts), ("assert", kind, next), ("match",)."""

    def __init__(self, tree: Node) -> None:
        self.states: list[tuple] = [("match",)]
        self.start = self._build(tree, 0)
        # Lazily built DFA: sibling directories share their parents' prefixes, so most steps repeat.
        self._steps: dict[tuple[frozenset[int], int, int], frozenset[int]] = {}
        self._finishes: dict[frozenset[int], bool] = {}

    def _add(self, state: tuple) -> int:
        if len(self.states) >= _MAX_STATES:
            raise _TooBig()
        self.states.append(state)
        return len(self.states) - 1

    def _build(self, node: Node, nxt: int) -> int:
        kind = node[0]
        if kind == "chars":
            return self._add(("chars", node[1], nxt))
        if kind == "assert":
            return self._add(("assert", node[1], nxt))
        if kind == "empty":
            return nxt
        if kind == "cat":
            for child in reversed(node[1]):
                nxt = self._build(child, nxt)
            return nxt
        if kind == "alt":
            return self._add(("split", tuple(self._build(child, nxt) for child in node[1])))
        return self._build_repeat(node, nxt)

    def _build_repeat(self, node: Node, nxt: int) -> int:
        _, body, low, high, _ = node
        if high < 0:
            loop = self._add(("split", ()))
            self.states[loop] = ("split", (self._build(body, loop), nxt))
            state = loop
        else:
            state = nxt
            for _ in range(high - low):
                state = self._add(("split", (self._build(body, state), nxt)))
        for _ in range(low):
            state = self._build(body, state)
        return state

    def _closure(self, seeds: Iterable[int], pos: int, prev: int | None, following: int | None) -> set[int]:
        """States reachable without reading, with assertions judged at pos (following=None: end of text)."""
        seen: set[int] = set()
        out: set[int] = set()
        stack = list(seeds)
        while stack:
            index = stack.pop()
            if index in seen:
                continue
            seen.add(index)
            state = self.states[index]
            if state[0] == "split":
                stack.extend(state[1])
            elif state[0] == "assert":
                if _assertion_holds(state[1], pos, prev, following):
                    stack.append(state[2])
            else:
                out.add(index)
        return out

    def may_match_with_prefix(self, prefix: str) -> bool:
        """Could Go's MatchString (an unanchored search) succeed on prefix + s, for some non-empty s?

        Exact while reading the prefix; afterwards it over-approximates (any character, any assertion but
        begin-of-text), which can only make `prune` keep descending, never skip wrongly.
        """
        codes = [ord(char) for char in prefix]
        current = frozenset(self._closure([self.start], 0, None, codes[0] if codes else _UNKNOWN))
        for pos, code in enumerate(codes, 1):
            if 0 in current:
                return True
            current = self._step(current, code, codes[pos] if pos < len(codes) else _UNKNOWN)
        if 0 in current:
            return True
        finish = self._finishes.get(current)
        if finish is None:
            finish = self._finishes[current] = self._can_finish(current | {self.start})
        return finish

    def _step(self, current: frozenset[int], code: int, following: int) -> frozenset[int]:
        """Read one character at a position > 0; only the next character's class matters to assertions."""
        key = (current, code, _UNKNOWN if following == _UNKNOWN else int(_is_word(following)))
        found = self._steps.get(key)
        if found is not None:
            return found
        advanced = {state[2] for state in (self.states[i] for i in current)
                    if state[0] == "chars" and any(lo <= code <= hi for lo, hi in state[1])}
        advanced.add(self.start)  # a search may start anywhere
        found = frozenset(self._closure(advanced, 1, code, following))
        if len(self._steps) > _MAX_MEMO:
            self._steps.clear()
        self._steps[key] = found
        return found

    def _can_finish(self, states: set[int]) -> bool:
        seen: set[int] = set()
        stack = list(states)
        while stack:
            index = stack.pop()
            if index in seen:
                continue
            seen.add(index)
            state = self.states[index]
            if state[0] == "match":
                return True
            if state[0] == "split":
                stack.extend(state[1])
            elif state[0] == "chars" and state[1]:
                stack.append(state[2])
            elif state[0] == "assert" and state[1] != "bot":
                stack.append(state[2])
        return False


def _assertion_holds(kind: str, pos: int, prev: int | None, following: int | None) -> bool:
    if kind == "bot":
        return pos == 0
    if kind == "eot":
        return following is None
    if following == _UNKNOWN:
        return True
    boundary = _is_word(prev) != _is_word(following)
    return boundary if kind == "wb" else not boundary


def _below_by_regexp(tree: Node) -> Callable[[str], bool]:
    try:
        automaton = _Automaton(tree)
    except _TooBig:
        return lambda reldir: True
    return lambda reldir: automaton.may_match_with_prefix(reldir + "/")


# --------------------------------------------------------------------------------------------------------------
# One compiled pattern


@dataclass(frozen=True)
class _Rule:
    text: str  # what the build API's `excludes` takes: normalising it again yields this same rule
    exclusion: bool
    hits: Callable[[str], bool]  # does the pattern decide for this clean relative path (dialect semantics)
    hits_raw: Callable[[str], bool]  # the same for any string, following the Go code literally
    fast: str | None  # Python regexp equivalent to `hits`, for the combined first test; None: use `hits`
    anchored: bool  # `fast` only matches at position 0, so re.match may be used
    below: Callable[[str], bool]  # could the pattern decide for some path strictly below this directory
    monotone: bool  # hitting a directory means hitting everything below it (see IgnoreRules.prune)


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
                raise _PatternError("trailing backslash")
            out.append("\\" + pattern[i])
            i += 1
        else:
            out.append(char)
    out.append("(/.*)?$")
    return "".join(out)


def _buildah_rule(text: str, body: str, exclusion: bool) -> _Rule:
    tree = _parse_go_regexp(_containers_storage_regexp(body))
    fast = _py_regexp(tree)
    hits = _search(fast)
    return _Rule(text, exclusion, hits, hits, fast, _starts_anchored(tree), _below_by_regexp(tree),
                 _only_final_eot(tree))


def _only_final_eot(tree: Node) -> bool:
    """True when the regexp's only end-of-text test is the closing "(/.*)?$", so a match for a directory is
    also a match for every path below it (barring names with a newline, which "." does not match).

    A user's \\z ("a\\z" matches the directory "a" but not "a/b") breaks that.
    """
    eot = ("assert", "eot")
    last = tree[1][-1] if tree[0] == "alt" else tree
    final = last[0] == "cat" and last[1][-1] == eot
    total = _count(tree, eot)
    return total == 0 or (total == 1 and final)


def _count(node: Node, wanted: Node) -> int:
    return (node == wanted) + sum(_count(child, wanted) for child in _children(node))


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


def _moby_rule(text: str, body: str, exclusion: bool) -> _Rule:
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
    tree = _parse_go_regexp(go_regexp)
    return _moby_string_rule(text, exclusion, _search(_py_regexp(tree)), _moby_fast_regexp(tree),
                             _below_by_regexp(tree))


def _moby_fast_regexp(tree: Node) -> str | None:
    """One Python regexp for "the pattern matches the path or a parent", valid for clean paths.

    For a path p with parent prefixes p[:k] (p[k] == '/'), matching the Go regexp ^body$ against some prefix
    is body followed by (?=/|\\Z) on p itself: \\b sees '/' or the end there, both non-word. Without a $ (it was
    swallowed by \\Q) matching any prefix of p is the same. A $ or \\z elsewhere needs the literal loop.
    """
    if tree[0] != "cat" or not _starts_anchored(tree):
        return None
    eot = ("assert", "eot")
    items = tree[1]
    if items[-1] == eot and not any(_contains(item, eot) for item in items[:-1]):
        return _py_regexp(("cat", items[:-1])) + r"(?=/|\Z)"
    if not _contains(tree, eot):
        return _py_regexp(tree)
    return None


def _moby_string_rule(text: str, exclusion: bool, match: Callable[[str], bool], fast: str | None,
                      below: Callable[[str], bool]) -> _Rule:
    def hits_raw(path: str) -> bool:
        if match(path):
            return True
        parent = _go_dir(path)
        if parent == ".":
            return False
        parts = parent.split("/")
        return any(match("/".join(parts[:i + 1])) for i in range(len(parts)))

    hits = _search(fast) if fast is not None else hits_raw
    # MatchesOrParentMatches tests every parent, so a directory's match carries to all paths below it.
    return _Rule(text, exclusion, hits, hits_raw, fast, fast is not None, below, True)


# --------------------------------------------------------------------------------------------------------------
# Reading ignore files and normalising patterns, per dialect


def _buildah_file_lines(text: str) -> Iterator[tuple[int, str]]:
    """imagebuilder.ParseIgnore: no whitespace trimming before the '#' test, '/' trimmed at both ends."""
    for number, line in enumerate(text.split("\n"), 1):
        if not line or line[0] == "#":
            continue
        line = line.strip("/")
        if line:
            yield number, line


def _moby_file_line(line: str) -> str | None:
    """moby ignorefile.ReadAll for one line (its bufio.Scanner already dropped a trailing '\\r')."""
    if line.endswith("\r"):
        line = line[:-1]
    if line.startswith("#"):
        return None
    pattern = _go_trim_space(line)
    if not pattern:
        return None
    invert = pattern[0] == "!"
    if invert:
        pattern = _go_trim_space(pattern[1:])
    if pattern:
        pattern = _go_clean(pattern)
        if len(pattern) > 1 and pattern[0] == "/":
            pattern = pattern[1:]
    return "!" + pattern if invert else pattern


def _moby_file_lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.split("\n"), 1):
        if number == 1 and line.startswith("\ufeff"):
            line = line[1:]
        pattern = _moby_file_line(line)
        if pattern is not None:
            yield number, pattern


def _normalise(raw: str, dialect: str) -> tuple[str, bool] | None:
    """NewPatternMatcher / patternmatcher.New for one pattern: (body, is_exclusion), None when skipped."""
    pattern = _go_trim_space(raw)
    if not pattern:
        return None
    pattern = _go_clean(pattern)
    if pattern[0] != "!":
        return pattern, False
    if len(pattern) == 1:
        raise _PatternError('illegal exclusion pattern: "!"')
    if dialect == "moby":
        return pattern[1:], True
    body = _go_clean(pattern[1:])
    return (body[1:] if body.startswith("/") else body), True


def _compile(raw: str, dialect: str) -> _Rule | None:
    normalised = _normalise(raw, dialect)
    if normalised is None:
        return None
    body, exclusion = normalised
    _check_glob(body)
    candidate = ("!" if exclusion else "") + body
    # Keep the short form unless normalising it again would not give the same rule (e.g. "a /." -> "a ").
    text = candidate if _normalise(candidate, dialect) == normalised else raw
    if dialect == "moby":
        return _moby_rule(text, body, exclusion)
    return _buildah_rule(text, body, exclusion)


def _check_dialect(dialect: str) -> str:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown ignore dialect {dialect!r} (expected one of {', '.join(DIALECTS)})")
    return dialect


# --------------------------------------------------------------------------------------------------------------


class IgnoreRules:
    """An ordered list of ignore patterns; the last one that matches a path decides.

    Build with `parse`, `from_patterns` or `load` (the constructor takes compiled rules). Instances never
    change; `extended` returns a new one.
    """

    __slots__ = ("_rules", "_source", "_dialect", "_first_test", "_slow", "_has_exceptions")

    def __init__(self, rules: Sequence[_Rule] = (), source: Path | None = None,
                 dialect: str = DEFAULT_DIALECT) -> None:
        self._rules = tuple(rules)
        self._source = source
        self._dialect = _check_dialect(dialect)
        self._has_exceptions = any(rule.exclusion for rule in self._rules)
        self._slow = tuple(rule for rule in self._rules if rule.fast is None)
        self._first_test = _combined_test(self._rules)

    @classmethod
    def parse(cls, text: str, source: Path | None = None, *, dialect: str = DEFAULT_DIALECT) -> IgnoreRules:
        """Rules from the text of an ignore file; ConfigError names source and line for a bad pattern."""
        _check_dialect(dialect)
        lines = _moby_file_lines(text) if dialect == "moby" else _buildah_file_lines(text)
        rules = [_compile_or_explain(raw, dialect, source, line=number) for number, raw in lines]
        return cls([rule for rule in rules if rule is not None], source, dialect)

    @classmethod
    def from_patterns(cls, patterns: Iterable[str], source: Path | None = None, *,
                      dialect: str = DEFAULT_DIALECT) -> IgnoreRules:
        """Rules from a list of patterns, each read like one line of an ignore file."""
        _check_dialect(dialect)
        return cls(_compile_list(patterns, dialect, source), source, dialect)

    @classmethod
    def load(cls, path: Path, *, dialect: str = DEFAULT_DIALECT) -> IgnoreRules:
        """Read and parse an ignore file (UTF-8; undecodable bytes are kept as surrogates and then refused)."""
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise ConfigError(f"cannot read ignore file: {error.strerror or error}", file=path) from error
        return cls.parse(data.decode("utf-8", "surrogateescape"), Path(path), dialect=dialect)

    @property
    def patterns(self) -> tuple[str, ...]:
        """The patterns as the matcher sees them ('!' kept): pass these as the build API's `excludes`."""
        return tuple(rule.text for rule in self._rules)

    @property
    def source(self) -> Path | None:
        return self._source

    @property
    def dialect(self) -> str:
        return self._dialect

    @property
    def has_exceptions(self) -> bool:
        return self._has_exceptions

    def extended(self, patterns: Iterable[str], *, origin: Path | None = None) -> IgnoreRules:
        """These rules followed by more patterns (read like ignore-file lines); `origin` names them in errors."""
        extra = _compile_list(patterns, self._dialect, origin)
        return IgnoreRules(self._rules + tuple(extra), self._source, self._dialect)

    def excluded(self, relpath: str) -> bool:
        """Is this path (relative to the context, '/'-separated, no leading './') left out of the context?

        Other spellings ("a/", "a//b") get exactly what the Go code does with them; "" and "." are never excluded.
        """
        if _is_root(relpath):
            return False  # the context root itself is never excluded (buildah and moby agree)
        if self._dialect == "moby" and not _is_clean(relpath):
            return self._decide(relpath, raw=True)
        if not self._may_hit(relpath):
            return False
        if not self._has_exceptions:
            return True
        return self._decide(relpath, raw=False)

    def prune(self, reldir: str) -> bool:
        """True only when reldir is excluded and nothing below it can be re-included, so a walker may skip it.

        The pattern that excludes reldir must also exclude everything below it (not so for buildah's "a\\z"),
        and no '!' pattern after it may be able to match any path below reldir (decided on the compiled
        regexps, conservatively). One knowing deviation: in the buildah dialect a name containing a newline
        below a pruned directory is dropped, although buildah's "(/.*)?" ('.' stops at a newline) keeps it.
        """
        if _is_root(reldir) or (self._dialect == "moby" and not _is_clean(reldir)):
            return False
        last = self._last_hit(reldir)
        if last < 0 or self._rules[last].exclusion or not self._rules[last].monotone:
            return False
        return not any(rule.below(reldir) for rule in self._rules[last + 1:] if rule.exclusion)

    def _may_hit(self, path: str) -> bool:
        if self._first_test is not None and self._first_test(path):
            return True
        return any(rule.hits(path) for rule in self._slow)

    def _last_hit(self, path: str) -> int:
        for index in range(len(self._rules) - 1, -1, -1):
            if self._rules[index].hits(path):
                return index
        return -1

    def _decide(self, path: str, *, raw: bool) -> bool:
        for rule in reversed(self._rules):
            if (rule.hits_raw if raw else rule.hits)(path):
                return not rule.exclusion
        return False

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IgnoreRules):
            return NotImplemented
        return (self.patterns, self._source, self._dialect) == (other.patterns, other._source, other._dialect)

    def __hash__(self) -> int:
        return hash((self.patterns, self._source, self._dialect))

    def __repr__(self) -> str:
        return f"IgnoreRules(patterns={self.patterns!r}, source={self._source!r}, dialect={self._dialect!r})"


def _is_root(relpath: str) -> bool:
    return relpath in ("", ".")


def _combined_test(rules: Sequence[_Rule]) -> Callable[[str], bool] | None:
    """One regexp call telling whether any rule with a `fast` form matches: most paths match none."""
    fast = [rule for rule in rules if rule.fast is not None]
    if not fast:
        return None
    combined = re.compile("|".join(f"(?:{rule.fast})" for rule in fast), re.ASCII)
    finder = combined.match if all(rule.anchored for rule in fast) else combined.search
    return lambda path: finder(path) is not None


def _compile_or_explain(raw: str, dialect: str, source: Path | None, *, line: int | None = None,
                        key: str | None = None) -> _Rule | None:
    try:
        return _compile(raw, dialect)
    except _PatternError as error:
        raise ConfigError(f"invalid ignore pattern {raw!r}: {error}", file=source, line=line, key=key,
                          hint=_HINT) from None


def _compile_list(patterns: Iterable[str], dialect: str, source: Path | None) -> list[_Rule]:
    if isinstance(patterns, str):
        raise TypeError("patterns must be a list of strings, not one string")
    rules = []
    for index, pattern in enumerate(patterns):
        key = f"ignore[{index}]"
        if not isinstance(pattern, str) or "\n" in pattern:
            raise ConfigError(f"ignore patterns must be one-line strings, got {pattern!r}", file=source, key=key)
        lines = [_moby_file_line(pattern)] if dialect == "moby" else [raw for _, raw in _buildah_file_lines(pattern)]
        for raw in lines:
            if raw is None:
                continue
            rule = _compile_or_explain(raw, dialect, source, key=key)
            if rule is not None:
                rules.append(rule)
    return rules


def find_ignore_file(context: Path, containerfile: Path) -> Path | None:
    """The ignore file buildah 1.28 (pkg/parse ContainerIgnoreFile) reads for this build, or None.

    Order, verified in buildah v1.28.2 and main: beside the Containerfile, `<containerfile>.containerignore` and
    then `<containerfile>.dockerignore`, where **the .dockerignore wins when both exist** (buildah tests them
    in that order and the second overwrites the first); otherwise `<context>/.containerignore`, and only if that
    does not exist `<context>/.dockerignore`. A relative containerfile is taken relative to the current
    directory, as the podman CLI does (it makes -f absolute before calling buildah).
    """
    chosen = None
    for suffix in (".containerignore", ".dockerignore"):
        candidate = Path(f"{containerfile}{suffix}")
        if _stat_succeeds(candidate):
            chosen = candidate
    if chosen is not None:
        return chosen
    for name in (".containerignore", ".dockerignore"):
        candidate = Path(context) / name
        if not _does_not_exist(candidate):
            return candidate  # even if unreadable: buildah then fails, and IgnoreRules.load raises
    return None


def _stat_succeeds(path: Path) -> bool:
    """Beside the Containerfile buildah uses os.Stat: any error (missing, dangling link, EACCES) means no."""
    try:
        os.stat(path)
    except OSError:
        return False
    return True


def _does_not_exist(path: Path) -> bool:
    """In the context it reads the file and moves on only on ENOENT (a dangling link included)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False
