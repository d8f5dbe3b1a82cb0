"""A Go regexp as an automaton, only to answer one question for pruning: can this pattern match some path below
directory d? (`IgnoreRules.prune` skips a directory only when no '!' pattern after its exclusion can.)

A Thompson NFA built from the goregexp tree, run as a lazily built DFA: sibling directories share their
parents' prefixes, so most steps repeat and are remembered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from builder.context.goregexp import WORD_RANGES, Node

_UNKNOWN = -2  # the next character exists but is not known yet
_MAX_STATES = 20000
_MAX_MEMO = 50000


class _TooBig(Exception):
    pass


def _is_word(code: int | None) -> bool:
    return code is not None and code >= 0 and any(lo <= code <= hi for lo, hi in WORD_RANGES)


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

    def _can_finish(self, states: Iterable[int]) -> bool:
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
            elif (state[0] == "chars" and state[1]) or (state[0] == "assert" and state[1] != "bot"):
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


def may_match_below(tree: Node) -> Callable[[str], bool]:
    """A test: could the Go regexp `tree` (searched, as MatchString does) match some path strictly below a
    directory? Always True for a regexp too big to build, which only makes pruning skip less."""
    try:
        automaton = _Automaton(tree)
    except _TooBig:
        return lambda reldir: True
    return lambda reldir: automaton.may_match_with_prefix(reldir + "/")


