"""The build context walked once: what the ignore rules keep, as a sorted list of entries.

`scan` lists what the build service would keep (builder.context.rules decides) without descending into
directories the rules drop entirely; builder.context.tar streams that list. Sockets, fifos and devices are
skipped (a tar cannot carry them); hard links become separate regular files; symlinks are never followed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

from builder.context.rules import IgnoreRules
from builder.errors import ConfigError

FILE, DIR, SYMLINK = "file", "dir", "symlink"



@dataclass(frozen=True)
class Entry:
    path: str  # relative to the context, '/'-separated
    kind: str  # FILE, DIR or SYMLINK
    size: int  # bytes for files, 0 otherwise
    mode: int  # permission bits (stat.S_IMODE)
    mtime: float
    link: str | None = None  # a symlink's target as stored, never resolved
    # The lstat the walk made, so that input digests need no second stat of every file (None if not walked).
    lstat: os.stat_result | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ContextSnapshot:
    root: Path
    entries: tuple[Entry, ...]  # sorted by path, so every directory precedes its contents
    ignore_file: Path | None  # the ignore file that decided, None when there was none
    rules: IgnoreRules
    excluded_count: int  # paths seen and excluded; a pruned directory counts once
    pruned_dirs: tuple[str, ...]  # excluded directories skipped without being read
    skipped_special: tuple[str, ...] = ()  # sockets, fifos and devices, which a tar cannot carry

    @property
    def total_size(self) -> int:
        """Bytes of file content that will be sent (tar headers not included)."""
        return sum(entry.size for entry in self.entries if entry.kind == FILE)

    @property
    def file_count(self) -> int:
        """Regular files that will be sent (directories and symlinks not included)."""
        return sum(1 for entry in self.entries if entry.kind == FILE)

    def largest_dirs(self, n: int = 10, depth: int = 2) -> list[tuple[str, int, int]]:
        """The n directories holding the most bytes, as (dir, bytes, files), counting everything below them.

        Only directories at most `depth` levels down are ranked ("node_modules", "node_modules/lodash"), so
        the list points at what to ignore rather than at one deep chain of nested directories.
        """
        totals: dict[str, list[int]] = {}
        for entry in self.entries:
            if entry.kind != FILE:
                continue
            parts = entry.path.split("/")[:-1]
            for level in range(1, min(len(parts), depth) + 1):
                total = totals.setdefault("/".join(parts[:level]), [0, 0])
                total[0] += entry.size
                total[1] += 1
        ranked = sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))
        return [(name, size, files) for name, (size, files) in ranked[:n]]


def scan(
    context: Path,
    rules: IgnoreRules,
    ignore_file: Path | None = None,
    *,
    descend: Callable[[str], bool] | None = None,
) -> ContextSnapshot:
    """Walk the context (never following symlinks) and keep what the rules keep.

    `descend(reldir)` False skips a directory the rules keep but the build cannot read (the Containerfile
    analysis decides), so a node_modules/ that no COPY reaches is never listed.
    """
    root = Path(context).absolute()
    if not root.is_dir():
        raise ConfigError("the build context is not a directory", file=context)
    walker = _Walker(root, rules, descend)
    walker.walk()
    return ContextSnapshot(
        root=root,
        entries=tuple(sorted(walker.entries, key=attrgetter("path"))),
        ignore_file=ignore_file,
        rules=rules,
        excluded_count=walker.excluded,
        pruned_dirs=tuple(sorted(walker.pruned)),
        skipped_special=tuple(sorted(walker.special)),
    )


class _Walker:
    """One walk's state; scandir-based because os.walk would stat every entry a second time."""

    def __init__(self, root: Path, rules: IgnoreRules, descend: Callable[[str], bool] | None = None) -> None:
        self.root = root
        self.rules = rules
        # Without a single pattern nothing is excluded: the walk then asks no rules at all (20,000 calls saved).
        self.excluded_path: Callable[[str], bool] = rules.excluded if rules.patterns else _never
        self.descend = descend
        self.entries: list[Entry] = []
        self.excluded = 0
        self.pruned: list[str] = []
        self.special: list[str] = []
        # Excluded directories walked only because a '!' pattern may re-include something below them: they go
        # into the tar only if something below them does, so that every member has its parent directories.
        self.held: dict[str, Entry] = {}
        self._groups = set(os.getgroups()) | {os.getegid()}
        self._euid = os.geteuid()

    def walk(self) -> None:
        pending = [("", str(self.root))]
        while pending:
            prefix, directory = pending.pop()
            for item in self._list(directory, prefix):
                self._visit(item, prefix + item.name, pending)
        self._settle_held()

    def _list(self, directory: str, prefix: str) -> list[os.DirEntry]:
        try:
            with os.scandir(directory) as items:
                return list(items)
        except OSError as error:
            raise ConfigError(
                f"cannot read directory {prefix.rstrip('/') or '.'} of the build context: {error.strerror}",
                file=directory, hint="fix its permissions, or exclude it in the ignore file") from None

    def _visit(self, item: os.DirEntry, rel: str, pending: list[tuple[str, str]]) -> None:
        kind = _kind(item)
        excluded = self.excluded_path(rel)
        if kind == DIR and ((excluded and self.rules.prune(rel))
                            or (self.descend is not None and not self.descend(rel))):
            self.excluded += 1
            self.pruned.append(rel)
            return
        if excluded and kind != DIR:
            self.excluded += 1
            return
        if kind is None:
            self.special.append(rel)
            return
        entry = self._entry(item, rel, kind)
        if entry is None:
            return
        if kind == DIR:
            pending.append((rel + "/", item.path))
            if excluded:
                self.held[rel] = entry
                return
        self.entries.append(entry)

    def _entry(self, item: os.DirEntry, rel: str, kind: str) -> Entry | None:
        try:
            info = item.stat(follow_symlinks=False)
            link = os.readlink(item.path) if kind == SYMLINK else None
        except FileNotFoundError:
            return None  # removed while we walked: it is simply not part of the context
        except OSError as error:
            raise ConfigError(f"cannot read {rel} in the build context: {error.strerror}", file=item.path,
                              hint="fix its permissions, or exclude it in the ignore file") from None
        if kind == FILE and not self._readable(item.path, info):
            raise ConfigError(f"cannot read {rel} in the build context: permission denied", file=item.path,
                              hint="fix its permissions, or exclude it in the ignore file")
        size = info.st_size if kind == FILE else 0
        return Entry(rel, kind, size, stat.S_IMODE(info.st_mode), info.st_mtime, link, info)

    def _readable(self, path: str, info: os.stat_result) -> bool:
        # The mode bits settle almost every file without a syscall; os.access covers root, ACLs and the rest.
        if info.st_uid == self._euid:
            bit = stat.S_IRUSR
        elif info.st_gid in self._groups:
            bit = stat.S_IRGRP
        else:
            bit = stat.S_IROTH
        return bool(info.st_mode & bit) or os.access(path, os.R_OK)

    def _settle_held(self) -> None:
        if not self.held:
            return  # the common case: no '!' pattern held a directory back; no need to look at every entry
        needed: set[str] = set()
        for entry in self.entries:
            parent = entry.path.rpartition("/")[0]
            while parent in self.held and parent not in needed:
                needed.add(parent)
                parent = parent.rpartition("/")[0]
        for rel, entry in self.held.items():
            if rel in needed:
                self.entries.append(entry)
            else:
                self.excluded += 1


def _never(relpath: str) -> bool:
    return False


def _kind(item: os.DirEntry) -> str | None:
    try:
        if item.is_symlink():
            return SYMLINK
        if item.is_dir(follow_symlinks=False):
            return DIR
        if item.is_file(follow_symlinks=False):
            return FILE
    except OSError:
        return FILE  # let _entry's stat report the real problem with the path's name
    return None
