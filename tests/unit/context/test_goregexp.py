"""builder.context.goregexp: Go regexps parsed with Go's rules and rebuilt as Python regexps."""

from __future__ import annotations

import re

import pytest

from builder.context.goregexp import RegexpError, parse, to_python


def go_match(regexp: str, text: str) -> bool:
    """Go's MatchString: an unanchored search."""
    return re.search(to_python(parse(regexp)), text, re.ASCII) is not None


@pytest.mark.parametrize("regexp, text, expected", [
    ("^[[:alpha:]]+$", "abc", True),
    ("^[[:alpha:]]+$", "ab1", False),
    ("^[[:^digit:]]$", "a", True),
    (r"^\Q.*\E$", ".*", True),
    (r"^\Q.*\E$", "ab", False),
    (r"^\Q.*", "x.*", False),  # \Q without \E runs to the end, the ^ still anchors
    ("^a{2}$", "aa", True),
    ("^a{2}$", "aaa", False),
    ("^a{,2}$", "a{,2}", True),  # not a repeat in Go: the braces are literal
    ("^a$", "a\n", False),  # Go's $ is \z, not Python's $
    (r"^\d$", "\u0661", False),  # \d is ASCII only
    ("^[^a]$", "\n", True),  # a negated class matches a newline, '.' does not
    ("^.$", "\n", False),
    (r"\x41\x{42}\101", "ABA", True),
    (r"a\b", "a/", True),
    (r"a\B", "a/", False),
    ("^(a|b)+?$", "abba", True),
])
def test_go_semantics(regexp: str, text: str, expected: bool) -> None:
    assert go_match(regexp, text) is expected


@pytest.mark.parametrize("regexp, message", [
    ("a**", "invalid nested repetition operator"),
    ("*a", "missing argument to repetition operator"),
    ("(?i)a", "not supported"),
    ("a{1001}", "invalid repeat count"),
    ("(a{100}){100}", "invalid repeat count"),
    ("[z-a]", "invalid character class range"),
    ("[[:nope:]]", "invalid character class range"),
    (r"\pL", "Unicode classes are not supported"),
    (r"\C", "invalid escape sequence"),
    ("a\\", "trailing backslash"),
    ("(a", "missing closing )"),
    ("a)", "unexpected )"),
    ("[a", "missing closing ]"),
    ("\udcff", "not valid UTF-8"),
])
def test_go_errors(regexp: str, message: str) -> None:
    with pytest.raises(RegexpError, match=re.escape(message)):
        parse(regexp)
