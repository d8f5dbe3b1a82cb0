"""The build context: walked once, filtered by the ignore rules, and streamed to the service as a tar.

`scan` lists what the build service would keep (see builder.ignore for the rules) without descending into
directories the rules drop entirely; `tar_stream` turns that list into an uncompressed tar, a chunk at a time.

Policy (docs/context.md):
* symlinks are stored as symlinks with their target exactly as on disk; the target is never followed or read,
  so a link pointing outside the context leaks nothing but its own text;
* permission bits (with setuid/setgid/sticky) and mtimes (whole seconds) are kept; owners never leave the
  machine: uid/gid 0 and empty user/group names, as podman's own client does;
* sockets, fifos and devices are skipped; hard links are sent as separate regular files;
* a file that changes size (or type) between `scan` and `tar_stream` raises ConfigError instead of being
  padded or cut: the upload stops there and the build does not run on a half-written file.
"""

from __future__ import annotations

import os
import stat
import tarfile
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Callable, Iterable, Iterator, Mapping

from builder.errors import ConfigError
from builder.context.rules import IgnoreRules

FILE, DIR, SYMLINK = "file", "dir", "symlink"

_BLOCK = tarfile.BLOCKSIZE
_RECORD = tarfile.RECORDSIZE
_NO_EXTRA: Mapping[str, bytes | Path] = MappingProxyType({})  # an immutable default for tar_stream
# Regular files only: never follow a link that replaced a file, never block on a fifo that replaced one.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_EXTRA_FILE_MODE = 0o644
_EXTRA_DIR_MODE = 0o755


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
        excluded = self.rules.excluded(rel)
        if kind == DIR and (excluded and self.rules.prune(rel) or self.descend is not None and not self.descend(rel)):
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


# --------------------------------------------------------------------------------------------------------------


def tar_stream(snapshot: ContextSnapshot, extra: Mapping[str, bytes | Path] = _NO_EXTRA,
               chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """The context as an uncompressed POSIX (pax) tar, in chunks of chunk_size bytes (the last one shorter).

    `extra` adds members after the context under names the caller chooses: bytes, or a Path whose content is
    read (a Containerfile outside the context, secret files). Memory stays about 2 x chunk_size whatever the
    context's size. Bad `extra` names raise ConfigError here, before anything is produced; a file that
    changed since `scan` raises ConfigError from the iterator, and no tar end marker follows.
    """
    if chunk_size < _BLOCK:
        raise ValueError(f"chunk_size must be at least {_BLOCK} bytes")
    members = _extra_members(snapshot, extra)
    return _stream(snapshot, members, chunk_size)


def _extra_members(snapshot: ContextSnapshot,
                   extra: Mapping[str, bytes | Path]) -> list[tuple[str, bytes | Path, int]]:
    taken = {entry.path for entry in snapshot.entries}
    members = []
    for name, content in extra.items():
        clean = _member_name(name)
        if clean in taken:
            raise ConfigError(f"extra build-context file {name!r} would replace {clean!r} from the context")
        taken.add(clean)
        members.append((clean, content, _extra_size(name, content)))
    return members


def _member_name(name: str) -> str:
    parts = PurePosixPath(name).parts
    if not name or name.startswith("/") or any(part in ("..", ".") for part in name.split("/")) or not parts:
        raise ConfigError(f"extra build-context file name {name!r} must be a relative path without . or ..")
    return "/".join(parts)


def _extra_size(name: str, content: bytes | Path) -> int:
    if isinstance(content, (bytes, bytearray, memoryview)):
        return len(content)
    if not isinstance(content, (str, os.PathLike)):
        raise TypeError(f"extra member {name!r}: expected bytes or a Path, got {type(content).__name__}")
    try:
        info = os.stat(content)
    except OSError as error:
        raise ConfigError(f"cannot read {content} (for {name!r} in the build context): {error.strerror}",
                          file=content) from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{content} is not a regular file (wanted as {name!r} in the build context)", file=content)
    return info.st_size


def _stream(snapshot: ContextSnapshot, members: list[tuple[str, bytes | Path, int]],
            chunk_size: int) -> Iterator[bytes]:
    out = _Chunks(chunk_size)
    for entry in snapshot.entries:
        yield from out.add(_header(entry.path, entry.kind, entry.size, entry.mode, int(entry.mtime), entry.link))
        if entry.kind == FILE:
            yield from _file_content(out, snapshot.root / entry.path, entry.size, entry.path)
    for directory in _missing_parents(snapshot, [name for name, _, _ in members]):
        yield from out.add(_header(directory, DIR, 0, _EXTRA_DIR_MODE, 0, None))
    for name, content, size in members:
        if isinstance(content, (bytes, bytearray, memoryview)):
            yield from out.add(_header(name, FILE, size, _EXTRA_FILE_MODE, 0, None))
            yield from out.add(bytes(content) + _padding(size))
        else:
            yield from _file_content(out, Path(content), size, name, header_name=name)
    yield from out.add(bytes(2 * _BLOCK))
    yield from out.add(bytes(-out.total % _RECORD))  # like tar(1) and tarfile: whole 10 KiB records
    yield from out.flush()


def _missing_parents(snapshot: ContextSnapshot, names: Iterable[str]) -> list[str]:
    present = {entry.path for entry in snapshot.entries if entry.kind == DIR}
    missing: list[str] = []
    for name in names:
        parts = name.split("/")[:-1]
        for level in range(1, len(parts) + 1):
            directory = "/".join(parts[:level])
            if directory not in present:
                present.add(directory)
                missing.append(directory)
    return missing


def _header(name: str, kind: str, size: int, mode: int, mtime: int, link: str | None) -> bytes:
    info = tarfile.TarInfo(name + "/" if kind == DIR else name)
    info.type = {FILE: tarfile.REGTYPE, DIR: tarfile.DIRTYPE, SYMLINK: tarfile.SYMTYPE}[kind]
    info.size = size if kind == FILE else 0
    info.mode = mode
    info.mtime = mtime  # whole seconds: a float would cost a pax header per member
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.linkname = link or ""
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _padding(size: int) -> bytes:
    return bytes(-size % _BLOCK)


def _file_content(out: _Chunks, path: Path, size: int, label: str,
                  header_name: str | None = None) -> Iterator[bytes]:
    """Exactly `size` bytes of the file, then tar padding; ConfigError if the file is not what scan saw.

    With header_name, the member's header comes first, with the mode and mtime of the file as opened.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        raise ConfigError(f"cannot read {label} for the build context: {error.strerror}", file=path) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != size:
            raise _changed(label, path, size, info.st_size if stat.S_ISREG(info.st_mode) else None)
        if header_name is not None:
            yield from out.add(_header(header_name, FILE, size, stat.S_IMODE(info.st_mode), int(info.st_mtime), None))
        remaining = size
        while remaining:
            data = os.read(fd, min(remaining, out.size))
            if not data:
                raise _changed(label, path, size, size - remaining)
            remaining -= len(data)
            yield from out.add(data)
    finally:
        os.close(fd)
    yield from out.add(_padding(size))


def _changed(label: str, path: Path, expected: int, now: int | None) -> ConfigError:
    what = "is no longer a regular file" if now is None else f"changed size ({expected} -> {now} bytes)"
    return ConfigError(f"{label} {what} while the build context was being sent", file=path,
                       hint="something is writing into the build context; exclude that file or retry")


class _Chunks:
    """Collects tar bytes and hands them out in chunks of exactly `size` bytes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.total = 0
        self._buffer = bytearray()

    def add(self, data: bytes) -> Iterator[bytes]:
        self.total += len(data)
        self._buffer += data
        while len(self._buffer) >= self.size:
            with memoryview(self._buffer) as view:
                chunk = bytes(view[: self.size])
            del self._buffer[: self.size]
            yield chunk

    def flush(self) -> Iterator[bytes]:
        if self._buffer:
            yield bytes(self._buffer)
            self._buffer.clear()
