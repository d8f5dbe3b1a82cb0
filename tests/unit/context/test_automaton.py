"""builder.context.automaton: can a Go regexp match some path below a directory (what `prune` asks)."""

from __future__ import annotations

from builder.context.automaton import may_match_below
from builder.context.goregexp import parse


def test_anchored_patterns_only_reach_below_their_own_directories() -> None:
    below = may_match_below(parse("^src/keep(/.*)?$"))
    assert below("src") and below("src/keep") and below("src/keep/deep")
    assert not below("lib") and not below("srcx") and not below("src/other")


def test_end_of_text_right_after_the_directory_reaches_nothing_below() -> None:
    below = may_match_below(parse(r"^a\z"))
    assert not below("a")
    assert may_match_below(parse("^a/[^/]*$"))("a")


def test_unanchored_patterns_may_match_below_anything() -> None:
    below = may_match_below(parse("keep"))
    assert below("x") and below("node_modules/deep")


def test_word_boundaries_are_judged_on_the_known_prefix() -> None:
    assert not may_match_below(parse(r"^a\B/"))("a")  # '/' after 'a' is a boundary
    assert may_match_below(parse(r"^a\b/x"))("a")


def test_a_regexp_too_big_to_build_may_match_anywhere() -> None:
    # 21 runs of 1000 states exceed the automaton's budget: it answers "maybe", which only stops pruning.
    assert may_match_below(parse("^" + "x{1000}" * 21))("q")
    assert not may_match_below(parse("^" + "x{1000}" * 2))("q")
