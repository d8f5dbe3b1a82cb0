"""`imgctl ignore NAME`: propose a .containerignore for a profile's context, with a reason for every rule.

`propose` walks the context once, tries a fixed list of candidate rules (docs/ignore.md) in order and keeps a
rule only when it would leave out something that is sent today. Every decision is made with the same matcher
the build uses (`builder.ignore.IgnoreRules`, buildah dialect), never with a guess about what a pattern means:

* a rule that would exclude a path the build needs gets a `!path` exception right below it, or is left out
  when the exception would leave it excluding nothing (secret rules are always kept, see `_Planner.consider`);
* a rule whose paths are all excluded already (by the existing file, earlier proposed rules or the profile's
  `ignore` patterns) is not proposed;
* the user's lines are kept byte for byte; new lines go below them under MARKER.

"Needed" means: the Containerfile itself, every path the caller's `needed` callback names, and every path the
existing file re-includes with a `!` line written for that path (not for one of its parent directories).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from builder.context.candidates import SECRET, Candidate, Inventory, candidates, literal_pattern
from builder.context.dialects import DEFAULT_DIALECT, check_dialect
from builder.context.ignorefile import find_ignore_file
from builder.context.rules import IgnoreRules
from builder.context.walk import scan
from builder.errors import ConfigError
from builder.filewrite import write_bytes

MARKER = "# added by imgctl ignore"

# (relpath, is_dir) -> why the build needs exactly this path, or None. See `propose` for the contract.
Needed = Callable[[str, bool], "str | None"]

_EXAMPLES = 3  # Rule.matched holds at most this many paths


@dataclass(frozen=True)
class Rule:
    """One line added to the ignore file; `pattern` starts with '!' for an exception that keeps a needed path."""

    pattern: str
    category: str  # one of CATEGORIES
    reason: str  # the comment written above the line
    matched: tuple[str, ...]  # a few of the paths it excludes (topmost ones), or the path an exception keeps


@dataclass(frozen=True)
class Proposal:
    context: Path  # the build context the proposal is for
    path: Path  # the ignore file buildah reads for this build, or <context>/.containerignore when there is none
    existing: str | None  # its current text (None: no file)
    text: str  # the proposed full text
    added: tuple[Rule, ...]  # every added pattern line, in file order (exceptions included)
    kept: tuple[str, ...]  # "kept src/.env: the Containerfile copies it (line 4)", one per protected path
    before: tuple[int, int] | None  # (files, bytes) sent with the current rules; None when the scan failed
    after: tuple[int, int] | None  # the same with the proposed rules
    warnings: tuple[str, ...] = ()  # needed paths the current rules already exclude; failed scans

    @property
    def changed(self) -> bool:
        return self.text != (self.existing or "")

    def diff(self) -> str:
        """A unified diff from the current file to the proposed one ("" when nothing changes)."""
        if not self.changed:
            return ""
        label = str(self.path)
        lines = difflib.unified_diff(_lines(self.existing or ""), _lines(self.text),
                                     fromfile=label if self.existing is not None else "/dev/null", tofile=label)
        # difflib leaves a last line without its newline glued to the next diff line; patch(1) marks it so.
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)

    def write(self) -> None:
        """Write `text` to `path` (atomically when the file exists, keeping its mode; through a symlink).

        Raises ConfigError when the file changed since `propose` read it, so a confirmation prompt that sat on
        screen for a while cannot overwrite someone else's edit, and when `path` is a symlink leading out of
        the context: a cloned repository must not make `imgctl ignore --write --yes` overwrite a file elsewhere.
        """
        if not self.changed:
            return
        _refuse_outside_link(self.path, self.context)
        if _read(self.path) != self.existing:
            raise ConfigError("the ignore file changed since the proposal was made; run `imgctl ignore` again",
                              file=self.path)
        data = self.text.encode("utf-8", "surrogateescape")
        try:
            if self.existing is None:
                with open(self.path, "xb") as handle:
                    handle.write(data)
            else:
                write_bytes(self.path.resolve(), data)
        except OSError as error:
            raise ConfigError(f"cannot write the ignore file: {error.strerror or error}", file=self.path) from None


def propose(context: Path, containerfile: Path | None, needed: Needed, *, profile_patterns: Sequence[str] = (),
            profile_file: Path | None = None, dialect: str = DEFAULT_DIALECT, base: str | None = None) -> Proposal:
    """The ignore file imgctl suggests for this context and Containerfile.

    `needed(relpath, is_dir)` answers for one path of the context (relative, '/'-separated) whether the build
    reads *that path by name*: a COPY/ADD source (or a source glob) that matches it, a bind mount of it. It
    returns a short reason ("the Containerfile copies it (line 4)") or None. A path that is only inside a
    copied directory (everything is, under `COPY . /app`) is not needed in this sense, or no rule could ever
    be proposed. The Containerfile itself is always protected; `needed` need not mention it.

    `profile_patterns` are the profile's `ignore` patterns (applied after the file, as `imgctl build` does);
    they count for the sizes and for "already excluded", and are never written to the file. `dialect` is the
    matcher the build runs (builder.context.dialects); every rule is judged and written for it.

    `base` is the text to start from when the context has no ignore file yet (`imgctl init` starts from lines
    of its own): the proposal is judged and written as if the file held it.
    """
    check_dialect(dialect)
    context = Path(context)
    if not context.is_dir():
        raise ConfigError("the build context is not a directory", file=context)
    found = find_ignore_file(context, containerfile)
    path = found if found is not None else context / ".containerignore"
    existing = _read(found) if found is not None else None
    start = existing if existing is not None else base
    file_rules = IgnoreRules.parse(start or "", source=path, dialect=dialect)
    inventory = Inventory.walk(context)
    own = _relative(context, containerfile) if containerfile is not None else None

    planner = _Planner(inventory, file_rules, start or "", profile_patterns, profile_file, needed, own)
    for candidate in candidates(inventory, own, planner.settled, dialect):
        planner.consider(candidate)
    text = _render(start, planner.block)

    warnings = list(planner.warnings())
    current = IgnoreRules.parse(existing or "", source=path, dialect=dialect)
    before = _measure(context, current.extended(profile_patterns, origin=profile_file), found, warnings,
                      "current")
    proposed = IgnoreRules.parse(text, source=path, dialect=dialect)
    after = _measure(context, proposed.extended(profile_patterns, origin=profile_file), path, warnings, "proposed")
    return Proposal(context=context, path=path, existing=existing, text=text, added=tuple(planner.added),
                    kept=tuple(planner.kept), before=before, after=after, warnings=tuple(warnings))


class _Planner:
    """The state of one `propose` run: which paths the rules so far exclude, and what was added."""

    def __init__(self, inventory: Inventory, file_rules: IgnoreRules, existing: str,
                 profile_patterns: Sequence[str], profile_file: Path | None, needed: Needed, own: str | None) -> None:
        self.inventory = inventory
        self.file_rules = file_rules
        self.dialect = file_rules.dialect
        self.existing = existing
        self.profile_patterns = tuple(profile_patterns)
        self.profile_file = profile_file
        self.needed = needed
        self.own = own
        self.block: list[tuple[str, str]] = []  # (comment, pattern) pairs to append
        self.added: list[Rule] = []
        self.kept: list[str] = []
        self._patterns: list[str] = []
        self._existing = frozenset(file_rules.patterns)
        self._needed: dict[int, str | None] = {}
        self._user_lines = self._numbered_lines()
        self._positive = IgnoreRules.from_patterns((pattern.removeprefix("!") for _, pattern, _ in self._user_lines),
                                                   dialect=self.dialect)
        current = self._rules(())
        self.excluded = [current.excluded(path) for path in inventory.paths]
        self._included = [index for index, gone in enumerate(self.excluded) if not gone]

    def settled(self, index: int) -> bool:
        """Is this path excluded already (by the current rules or by a rule proposed so far)?"""
        return self.excluded[index]

    def consider(self, candidate: Candidate) -> None:
        pattern = candidate.pattern
        if _normal(pattern, self.dialect) in self._existing or pattern in self._patterns:
            return
        paths = self.inventory.paths
        newly = self._newly_excluded(candidate)
        if not newly:
            return
        protected = {index: reason for index in newly if (reason := self._protect(index)) is not None}
        tops = _tops(protected, paths)
        literals = [literal_pattern(paths[index], self.dialect) for index in tops]
        if None in literals:
            unnamed = [index for index, literal in zip(tops, literals, strict=True) if literal is None]
            self._leave_out(pattern, unnamed, protected, "no ignore pattern can name this path")
            return
        exceptions = [f"!{literal}" for literal in literals]
        trial = self._rules((pattern, *exceptions))
        if any(trial.excluded(paths[index]) for index in protected):
            self._leave_out(pattern, tops, protected, "its exception would not keep this path")
            return
        if any(self._revives(index, trial) for index in tops):
            # A '!' for a directory takes back everything below it, also what the user's lines exclude there.
            self._leave_out(pattern, tops, protected,
                            "an exception for this directory would re-include files the current rules exclude")
            return
        remaining = [index for index in newly if trial.excluded(paths[index])]
        if not remaining and candidate.category != SECRET:
            self._leave_out(pattern, tops, protected, "it would exclude nothing else")
            return
        # Secret rules stay even when every match is needed: they catch the next .env dropped into the tree.
        self._patterns += [pattern, *exceptions]
        self.block.append((candidate.reason, pattern))
        shown = tuple(paths[index] for index in _tops(dict.fromkeys(remaining, ""), paths)[:_EXAMPLES])
        self.added.append(Rule(pattern, candidate.category, candidate.reason, shown))
        for index, exception in zip(tops, exceptions, strict=True):
            reason = protected[index]
            self.block.append((f"kept: {reason}", exception))
            self.added.append(Rule(exception, candidate.category, f"kept: {reason}", (paths[index],)))
            self.kept.append(f"kept {paths[index]}: {reason}")
        for index in remaining:
            self.excluded[index] = True
        self._included = [index for index in self._included if not self.excluded[index]]

    def warnings(self) -> Iterator[str]:
        """Paths the build needs that the current rules (not ours) exclude: the build will not find them."""
        paths = self.inventory.paths
        hurt = {index: reason for index, gone in enumerate(self.excluded)
                if gone and paths[index] != self.own and (reason := self._ask(index)) is not None}
        for index in _tops(hurt, paths):
            yield f"{paths[index]}: {hurt[index]}, but the current ignore rules exclude it"

    def _newly_excluded(self, candidate: Candidate) -> list[int]:
        paths = self.inventory.paths
        if candidate.index is not None:
            if self.excluded[candidate.index]:
                return []  # a path already excluded is what this rule was for
            scope: Sequence[int] = [candidate.index, *self.inventory.below(candidate.index)]
        else:
            scope = self._included
        alone = IgnoreRules.from_patterns([candidate.pattern], dialect=self.dialect)
        hit = [index for index in scope if not self.excluded[index] and alone.excluded(paths[index])]
        if not hit:
            return []
        # The profile's patterns come after ours and may take some of them back.
        trial = self._rules((candidate.pattern,))
        return [index for index in hit if trial.excluded(paths[index])]

    def _revives(self, index: int, trial: IgnoreRules) -> bool:
        paths = self.inventory.paths
        return any(self.excluded[below] and not trial.excluded(paths[below]) for below in self.inventory.below(index))

    def _leave_out(self, pattern: str, tops: list[int], protected: dict[int, str], why: str) -> None:
        for index in tops:
            self.kept.append(f"kept {self.inventory.paths[index]}: {protected[index]}; "
                             f"no `{pattern}` rule, as {why}")

    def _protect(self, index: int) -> str | None:
        path = self.inventory.paths[index]
        if path == self.own:
            return "it is the Containerfile"
        return self._ask(index) or self._user_keeps(path)

    def _ask(self, index: int) -> str | None:
        if index not in self._needed:
            reason = self.needed(self.inventory.paths[index], self.inventory.is_dir[index])
            self._needed[index] = _one_line(reason) if reason else None
        return self._needed[index]

    def _user_keeps(self, path: str) -> str | None:
        """The user's '!' line that re-includes this very path (not one of its parent directories), if any."""
        if not self.file_rules.has_exceptions or self.file_rules.excluded(path) or not self._positive.excluded(path):
            return None
        for number, pattern, alone in reversed(self._user_lines):
            if alone.excluded(path):
                if not pattern.startswith("!") or any(alone.excluded(parent) for parent in _parents(path)):
                    return None
                return f"your ignore file re-includes it (line {number}: {pattern})"
        return None

    def _numbered_lines(self) -> list[tuple[int, str, IgnoreRules]]:
        """(line number, pattern, the pattern alone without '!'), one per pattern line of the existing file."""
        lines = []
        for number, line in enumerate(self.existing.split("\n"), 1):
            parsed = IgnoreRules.parse(line, dialect=self.dialect).patterns
            if parsed:
                alone = IgnoreRules.from_patterns([parsed[0].removeprefix("!")], dialect=self.dialect)
                lines.append((number, parsed[0], alone))
        return lines

    def _rules(self, extra: Sequence[str]) -> IgnoreRules:
        """The file's lines, then ours, then the profile's patterns: the order `imgctl build` applies them in."""
        return self.file_rules.extended([*self._patterns, *extra]).extended(self.profile_patterns,
                                                                             origin=self.profile_file)


def _tops(chosen: Mapping[int, str], paths: Sequence[str]) -> list[int]:
    """The chosen indexes that have no chosen parent directory (a rule for the parent covers them)."""
    names = {paths[index] for index in chosen}
    return sorted(index for index in chosen if not any(parent in names for parent in _parents(paths[index])))


def _parents(path: str) -> Iterator[str]:
    while "/" in path:
        path = path.rpartition("/")[0]
        yield path


def _normal(pattern: str, dialect: str) -> str:
    """How the matcher writes a pattern, so that "/dist/" and "dist" count as the same line."""
    patterns = IgnoreRules.from_patterns([pattern], dialect=dialect).patterns
    return patterns[0] if patterns else pattern


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _relative(context: Path, path: Path) -> str | None:
    """The Containerfile's path inside the context, or None when it lies outside."""
    for base, target in ((os.path.abspath(context), os.path.abspath(path)),
                         (os.path.realpath(context), os.path.realpath(path))):
        rel = os.path.relpath(target, base)
        if rel != "." and rel.split(os.sep)[0] != "..":
            return rel.replace(os.sep, "/")
    return None


def _render(existing: str | None, block: list[tuple[str, str]]) -> str:
    if not block:
        return existing or ""
    base = existing or ""
    newline = "\r\n" if "\r\n" in base else "\n"
    if base and not base.endswith("\n"):
        base += newline
    if base.strip():
        base += newline  # a blank line between the user's lines and ours
    lines = [MARKER]
    for comment, pattern in block:
        lines += [f"# {comment}", pattern]
    return base + newline.join(lines) + newline


def _lines(text: str) -> list[str]:
    """Lines as buildah reads them (split at '\\n' only), each keeping its newline."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _measure(context: Path, rules: IgnoreRules, ignore_file: Path | None, warnings: list[str],
             which: str) -> tuple[int, int] | None:
    try:
        snapshot = scan(context, rules, ignore_file)
    except ConfigError as error:
        warnings.append(f"cannot size the context with the {which} rules: {error}")
        return None
    return snapshot.file_count, snapshot.total_size


def _read(path: Path) -> str | None:
    """The file's text, undecodable bytes kept (as surrogates) so that writing it back changes nothing."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(f"cannot read the ignore file: {error.strerror or error}", file=path) from None
    return data.decode("utf-8", "surrogateescape")


def _refuse_outside_link(path: Path, context: Path) -> None:
    """ConfigError when path is a symlink whose target lies outside the context (and, for an ignore file
    beside a Containerfile outside the context, outside that file's own directory)."""
    if not path.is_symlink():
        return
    target = path.resolve()
    if any(target == root or root in target.parents for root in (context.resolve(), path.parent.resolve())):
        return
    raise ConfigError(f"the ignore file {path} is a symlink to {os.readlink(path)} ({target}), outside the build "
                      "context; imgctl does not write there", file=path,
                      hint="replace the link with a regular file (or point it inside the context), or copy the "
                           "proposal that `imgctl ignore` prints into the file yourself")


