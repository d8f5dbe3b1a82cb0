"""builder.containerfile.words: shell-word expansion as imagebuilder's ProcessWord does it."""

from __future__ import annotations

import pytest

from builder.containerfile.words import Unresolvable, expand

VALUES = {"V": "v", "EMPTY": "", "STAR": "x\\*y"}


def lookup(name: str) -> str | None:
    return VALUES.get(name)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("plain", "plain"),
        ("a\\*b", "a*b"),  # one level of backslashes goes with the word
        ("a\\\\*b", "a\\*b"),  # ...and the next level reaches the glob
        ("'a\\b'", "a\\b"),  # single quotes keep everything
        ('"a\\b\\$V\\""', 'a\\b$V"'),  # double quotes: \ escapes only " $ \
        ("$V${V}x", "vvx"),
        ("${EMPTY:-d}${V:+alt}${NOPE:+alt}", "dalt"),
        ("$STAR", "x\\*y"),  # a value is not expanded again: its backslash stays
        ("\\$V", "$V"),
        ("trailing\\", "trailing"),
    ],
)
def test_expand(word: str, expected: str) -> None:
    assert expand(word, lookup) == expected


def test_a_bare_unset_variable_is_unresolvable_only_when_strict() -> None:
    with pytest.raises(Unresolvable, match=r"\$NOPE has no value"):
        expand("$NOPE/x", lookup)
    assert expand("$NOPE/x", lookup, strict=False) == "/x"


@pytest.mark.parametrize("word", ["'open", '"open', "${V", "${V:?x}"])
def test_syntax_errors_are_unresolvable(word: str) -> None:
    with pytest.raises(Unresolvable) as caught:
        expand(word, lookup)
    assert caught.value.syntax
