"""Go regexps (RE2 syntax, regexp.Compile flags) parsed with Go's rules and rebuilt as Python regexps.

The ignore matchers hand Go's regexp package strings built from user patterns, so `[[:alpha:]]`, `\\d`, `\\Q..\\E`
or `a{2}` mean what Go makes of them. They are parsed here into a small tree, with Go's errors, and turned into
Python regexps (`to_python`) or, for pruning, into an automaton (builder.context.automaton), so no difference
between the two regexp dialects can change a result. Not reproduced: ``\\p{...}`` Unicode classes and Go's size
limits for huge regexps.

Nodes are tuples: ("chars", ranges) with ranges a sorted tuple of (lo, hi) code points; ("assert", kind) with
kind one of bot/eot/wb/nwb; ("cat", nodes); ("alt", nodes); ("rep", node, min, max, counted) with max -1 for
"no limit"; ("empty",). Capture groups are dropped: only whether a path matches matters.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence


class RegexpError(ValueError):
    """A regexp Go would reject (or one imgctl cannot reproduce); str() is Go's message."""


Ranges = tuple[tuple[int, int], ...]
Node = tuple

EOT: Node = ("assert", "eot")
BOT: Node = ("assert", "bot")
MAX_RUNE = 0x10FFFF
WORD_RANGES: Ranges = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))

_EMPTY: Node = ("empty",)
_DOT: Ranges = ((0, 9), (11, MAX_RUNE))
_PERL_CLASSES: dict[str, Ranges] = {
    "d": ((0x30, 0x39),),
    "s": ((9, 10), (12, 13), (32, 32)),
    "w": WORD_RANGES,
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
    "word": WORD_RANGES,
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
    if next_lo <= MAX_RUNE:
        out.append((next_lo, MAX_RUNE))
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
            raise RegexpError("regexp: unexpected )")
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
            raise RegexpError("regexp: invalid nested repetition operator")
        if not items:
            raise RegexpError("regexp: missing argument to repetition operator")
        items[-1] = ("rep", items[-1], low, high, counted)
        if counted and (low >= 2 or high >= 2) and not _repeat_is_valid(items[-1], _MAX_REPEAT):
            raise RegexpError("regexp: invalid repeat count")

    def _braces(self) -> tuple[int, int] | None:
        """{n}, {n,} or {n,m}; None when it is not one (then '{' is a literal)."""
        found = re.match(r"\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}", self.text[self.pos:])
        if not found:
            return None
        low = int(found.group(1))
        high = low if not found.group(2) else (int(found.group(3)) if found.group(3) else -1)
        if low > _MAX_REPEAT or high > _MAX_REPEAT or (high >= 0 and low > high):
            raise RegexpError("regexp: invalid repeat count")
        self.pos += found.end()
        return low, high

    def _atom(self) -> list[Node]:
        char = self._peek()
        if char == "(":
            if self._peek(1) == "?":
                raise RegexpError("regexp: (? groups are not supported")
            self.pos += 1
            inner = self._alternation()
            if self._peek() != ")":
                raise RegexpError("regexp: missing closing )")
            self.pos += 1
            return [inner]
        if char == "[":
            return [self._char_class()]
        if char == "\\":
            return self._backslash()
        self.pos += 1
        if char == "^":
            return [BOT]
        if char == "$":
            return [EOT]
        if char == ".":
            return [("chars", _DOT)]
        return [_literal(char)]

    def _backslash(self) -> list[Node]:
        follower = self._peek(1)
        simple = {"A": BOT, "z": EOT, "b": ("assert", "wb"), "B": ("assert", "nwb")}
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
            raise RegexpError("regexp: invalid escape sequence \\C")
        if follower in ("p", "P"):
            raise RegexpError("\\p{...} Unicode classes are not supported by imgctl")
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
            raise RegexpError("regexp: trailing backslash at end of expression")
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
        raise RegexpError(f"regexp: invalid escape sequence \\{char}")

    def _hex_escape(self, i: int) -> tuple[int, int]:
        braced = re.match(r"\{([0-9A-Fa-f]+)\}", self.text[i:])
        if braced and int(braced.group(1), 16) <= MAX_RUNE:
            return int(braced.group(1), 16), i + braced.end()
        pair = re.match(r"[0-9A-Fa-f]{2}", self.text[i:])
        if pair and self.text[i] != "{":
            return int(pair.group(0), 16), i + 2
        raise RegexpError("regexp: invalid escape sequence \\x")

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
                    raise RegexpError("\\p{...} Unicode classes are not supported by imgctl")
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
                    raise RegexpError("regexp: invalid character class range")
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
            raise RegexpError(f"regexp: invalid character class range {rest[:end + 2]}")
        self.pos += end + 2
        return _negate(ranges) if negated else ranges

    def _class_char(self) -> int:
        if self.pos >= len(self.text):
            raise RegexpError("regexp: missing closing ]")
        if self._peek() == "\\":
            code, self.pos = self._escape(self.pos)
            return code
        self.pos += 1
        return ord(self.text[self.pos - 1])


def _repeat_is_valid(node: Node, budget: int) -> bool:
    """Go rejects nested counted repetitions whose product exceeds 1000."""
    if node[0] == "rep" and node[4]:
        times = node[3] if node[3] >= 0 else node[2]
        if node[3] == 0:
            return True
        if times > budget:
            return False
        if times > 0:
            budget //= times
    return all(_repeat_is_valid(child, budget) for child in children(node))


def parse(text: str) -> Node:
    """The tree of a Go regexp; RegexpError where regexp.Compile would fail."""
    if any(0xD800 <= ord(char) <= 0xDFFF for char in text):
        raise RegexpError("pattern is not valid UTF-8")
    return _GoRegexpParser(text).parse()


def children(node: Node) -> Sequence[Node]:
    if node[0] in ("cat", "alt"):
        nodes: Sequence[Node] = node[1]
        return nodes
    if node[0] == "rep":
        return (node[1],)
    return ()


def starts_anchored(node: Node) -> bool:
    first = node[1][0] if node[0] == "cat" else node
    return first == BOT


def contains(node: Node, wanted: Node) -> bool:
    return node == wanted or any(contains(child, wanted) for child in children(node))


def count(node: Node, wanted: Node) -> int:
    return (node == wanted) + sum(count(child, wanted) for child in children(node))


# --------------------------------------------------------------------------------------------------------------
# Tree -> Python regexp


def to_python(node: Node) -> str:
    """A Python regexp (to compile with re.ASCII) that matches exactly the strings the Go regexp matches."""
    kind = node[0]
    if kind == "chars":
        return _py_chars(node[1])
    if kind == "assert":
        # Go's $ without (?m) is \z: Python's \Z, not $ (which also matches before a final newline).
        return {"bot": r"\A", "eot": r"\Z", "wb": r"\b", "nwb": r"\B"}[node[1]]
    if kind == "empty":
        return ""
    if kind == "cat":
        return "".join(to_python(child) for child in node[1])
    if kind == "alt":
        return "(?:" + "|".join(to_python(child) for child in node[1]) + ")"
    return _py_repeat(node)


def _zero_width(node: Node) -> bool:
    kind = node[0]
    if kind in ("assert", "empty"):
        return True
    if kind == "chars":
        return False
    return all(_zero_width(child) for child in children(node))


def _py_code(code: int) -> str:
    return re.escape(chr(code)) if 0x20 <= code < 0x7F else f"\\U{code:08x}"


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


def _py_repeat(node: Node) -> str:
    _, body, low, high, _ = node
    if _zero_width(body):
        # Python refuses to repeat an assertion; repeating something that only matches "" is just 0 or 1 of it.
        return "" if low == 0 else to_python(body)
    inner = to_python(body)
    atom = inner if body[0] == "chars" else f"(?:{inner})"
    quantifier = {(0, -1): "*", (1, -1): "+", (0, 1): "?"}.get((low, high))
    if quantifier is None:
        quantifier = f"{{{low},}}" if high < 0 else (f"{{{low}}}" if low == high else f"{{{low},{high}}}")
    return atom + quantifier


