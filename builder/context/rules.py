""".containerignore / .dockerignore rules, matched exactly as the build service matches them.

An `IgnoreRules` is an ordered list of patterns in one dialect (builder.context.dialects: ``buildah``, what podman
runs, by default; ``moby``, what docker and BuildKit run). The last matching pattern wins and ``!`` re-includes.
Patterns come from an ignore file (its lines read as builder.context.ignorefile says) or from a list such as a
profile's ``ignore``. A pattern the Go code would reject is a ConfigError naming the file and line (or key).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from builder.context.dialects import DEFAULT_DIALECT, MOBY, Matcher, check_dialect, compile_pattern
from builder.context.gopath import BadPattern, is_clean
from builder.context.goregexp import RegexpError
from builder.context.ignorefile import entry_patterns, file_lines
from builder.errors import ConfigError

_HINT = "patterns follow .dockerignore syntax: * ? [a-z] ** \\escape, and !pattern to re-include (docs/context.md)"

class IgnoreRules:
    """An ordered list of ignore patterns; the last one that matches a path decides.

    Build with `parse`, `from_patterns` or `load` (the constructor takes compiled rules). Instances never
    change; `extended` returns a new one.
    """

    __slots__ = ("_dialect", "_first_test", "_has_exceptions", "_rules", "_slow", "_source")

    def __init__(self, rules: Sequence[Matcher] = (), source: Path | None = None,
                 dialect: str = DEFAULT_DIALECT) -> None:
        self._rules = tuple(rules)
        self._source = source
        self._dialect = check_dialect(dialect)
        self._has_exceptions = any(rule.exclusion for rule in self._rules)
        self._slow = tuple(rule for rule in self._rules if rule.fast is None)
        self._first_test = _combined_test(self._rules)

    @classmethod
    def parse(cls, text: str, source: Path | None = None, *, dialect: str = DEFAULT_DIALECT) -> IgnoreRules:
        """Rules from the text of an ignore file; ConfigError names source and line for a bad pattern."""
        check_dialect(dialect)
        rules = [_compile_or_explain(raw, dialect, source, line=number) for number, raw in file_lines(text, dialect)]
        return cls([rule for rule in rules if rule is not None], source, dialect)

    @classmethod
    def from_patterns(cls, patterns: Iterable[str], source: Path | None = None, *,
                      dialect: str = DEFAULT_DIALECT) -> IgnoreRules:
        """Rules from a list of patterns, each read like one line of an ignore file."""
        check_dialect(dialect)
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
        if self._dialect == MOBY and not is_clean(relpath):
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
        if _is_root(reldir) or (self._dialect == MOBY and not is_clean(reldir)):
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


def _combined_test(rules: Sequence[Matcher]) -> Callable[[str], bool] | None:
    """One regexp call telling whether any rule with a `fast` form matches: most paths match none."""
    fast = [rule for rule in rules if rule.fast is not None]
    if not fast:
        return None
    combined = re.compile("|".join(f"(?:{rule.fast})" for rule in fast), re.ASCII)
    finder = combined.match if all(rule.anchored for rule in fast) else combined.search
    return lambda path: finder(path) is not None


def _compile_or_explain(raw: str, dialect: str, source: Path | None, *, line: int | None = None,
                        key: str | None = None) -> Matcher | None:
    try:
        return compile_pattern(raw, dialect)
    except (BadPattern, RegexpError) as error:
        raise ConfigError(f"invalid ignore pattern {raw!r}: {error}", file=source, line=line, key=key,
                          hint=_HINT) from None


def _compile_list(patterns: Iterable[str], dialect: str, source: Path | None) -> list[Matcher]:
    if isinstance(patterns, str):
        raise TypeError("patterns must be a list of strings, not one string")
    rules = []
    for index, pattern in enumerate(patterns):
        key = f"ignore[{index}]"
        if not isinstance(pattern, str) or "\n" in pattern:
            raise ConfigError(f"ignore patterns must be one-line strings, got {pattern!r}", file=source, key=key)
        for raw in entry_patterns(pattern, dialect):
            rule = _compile_or_explain(raw, dialect, source, key=key)
            if rule is not None:
                rules.append(rule)
    return rules

