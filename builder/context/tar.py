"""The context as the tar the build service unpacks: streamed a chunk at a time, never held whole in memory.

Policy (docs/context.md):
* symlinks are stored as symlinks with their target exactly as on disk; the target is never followed or read;
* permission bits (with setuid/setgid/sticky) and mtimes (whole seconds) are kept; owners never leave the
  machine: uid/gid 0 and empty user/group names, as podman's own client does;
* a file that changes size (or type) between `scan` and `tar_stream` raises BuildError instead of being
  padded or cut: the upload stops there and the build does not run on a half-written file.
"""

from __future__ import annotations

import errno
import os
import stat
import tarfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Protocol

from builder.context.gopath import clean, dirname
from builder.context.walk import DIR, FILE, SYMLINK, ContextSnapshot
from builder.errors import BuildError, ConfigError

_BLOCK = tarfile.BLOCKSIZE
_RECORD = tarfile.RECORDSIZE
_NO_EXTRA: Mapping[str, bytes | Path] = MappingProxyType({})  # an immutable default for tar_stream
# Regular files only: never follow a link that replaced a file, never block on a fifo that replaced one.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_EXTRA_FILE_MODE = 0o644
_EXTRA_DIR_MODE = 0o755
_SERVICE_CONTEXT_DIR = "build"  # where the podman 4.3 service unpacks the upload, below its libpod_builderNNN


class ContentSink(Protocol):
    """Sees the bytes of every file as they are sent, so that whatever is derived from them (the input digest)
    describes exactly what the build got, with one read of each file."""

    def start(self, member: str, opened: os.stat_result) -> Callable[[bytes], None]:
        """A file is about to be sent under `member` (fstat of the open descriptor); returns what takes its bytes."""

    def end(self, member: str, after: os.stat_result) -> None:
        """Every byte of `member` was sent; `after` is the descriptor's fstat after the last read."""


def tar_stream(snapshot: ContextSnapshot, extra: Mapping[str, bytes | Path] = _NO_EXTRA,
               chunk_size: int = 1 << 20, sink: ContentSink | None = None) -> Iterator[bytes]:
    """The context as an uncompressed POSIX (pax) tar, in chunks of chunk_size bytes (the last one shorter).

    `extra` adds members after the context under names the caller chooses: bytes, or a Path whose content is
    read (a Containerfile outside the context, secret files). Memory stays about 2 x chunk_size whatever the
    context's size. Bad `extra` names and symlinks the service would refuse to unpack raise ConfigError here,
    before anything is produced; a file that changed since `scan` raises BuildError from the iterator, and no
    tar end marker follows.
    """
    if chunk_size < _BLOCK:
        raise ValueError(f"chunk_size must be at least {_BLOCK} bytes")
    _refuse_links_out(snapshot)
    members = _extra_members(snapshot, extra)
    return _stream(snapshot, members, chunk_size, sink)


def _refuse_links_out(snapshot: ContextSnapshot) -> None:
    """ConfigError for the first relative symlink whose target climbs out of the context.

    The service unpacks the upload with containers/storage pkg/archive, which fails the whole build on such a
    link ("invalid symlink", after the upload), although a local `podman build` copies it as it is: no tar
    can carry it to podman 4.3's service, so imgctl says so before sending anything.
    """
    for entry in snapshot.entries:
        if entry.kind == SYMLINK and entry.link is not None and _leaves_context(entry.path, entry.link):
            raise ConfigError(
                f"symlink {entry.path} -> {entry.link} points outside the build context; the podman service refuses "
                "to unpack such a link, so the build cannot be sent", file=snapshot.root / entry.path,
                hint=f"exclude {entry.path} in the ignore file if the image does not need it, or make the link "
                     "point inside the context (or use an absolute target, which is sent as it is)")


def _leaves_context(path: str, link: str) -> bool:
    """The service's test: Join(Dir(<unpack dir>/path), link) must start with the string <unpack dir>.

    An absolute target is joined under the unpack directory, so it always passes. The unpack directory is
    <tmp>/libpod_builderNNN/build (podman 4.3 extractTarFile): a target that climbs one level and re-enters
    through a name starting with "build" passes the (separator-less) prefix test too.
    """
    if link.startswith("/"):
        return False
    joined = clean(f"{dirname(path)}/{link}")
    if joined != ".." and not joined.startswith("../"):
        return False
    return not joined.startswith(f"../{_SERVICE_CONTEXT_DIR}")


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
            chunk_size: int, sink: ContentSink | None) -> Iterator[bytes]:
    out = _Chunks(chunk_size)
    for entry in snapshot.entries:
        yield from out.add(_header(entry.path, entry.kind, entry.size, entry.mode, int(entry.mtime), entry.link))
        if entry.kind == FILE:
            yield from _file_content(out, snapshot.root / entry.path, entry.size, entry.path, sink=sink)
    for directory in _missing_parents(snapshot, [name for name, _, _ in members]):
        yield from out.add(_header(directory, DIR, 0, _EXTRA_DIR_MODE, 0, None))
    for name, content, size in members:
        if isinstance(content, (bytes, bytearray, memoryview)):
            yield from out.add(_header(name, FILE, size, _EXTRA_FILE_MODE, 0, None))
            yield from out.add(bytes(content) + _padding(size))
        else:
            yield from _file_content(out, Path(content), size, name, header_name=name, sink=sink)
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


def _file_content(out: _Chunks, path: Path, size: int, label: str, header_name: str | None = None,
                  sink: ContentSink | None = None) -> Iterator[bytes]:
    """Exactly `size` bytes of the file, then tar padding; BuildError if the file is not what scan saw.

    With header_name, the member's header comes first, with the mode and mtime of the file as opened. The
    member's name is header_name, else label (the path in the context).
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.ELOOP):  # removed, or replaced by a symlink, since the scan
            raise _changed(label, size, None) from None
        raise ConfigError(f"cannot read {label} for the build context: {error.strerror}", file=path) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != size:
            raise _changed(label, size, info.st_size if stat.S_ISREG(info.st_mode) else None)
        if header_name is not None:
            yield from out.add(_header(header_name, FILE, size, stat.S_IMODE(info.st_mode), int(info.st_mtime), None))
        member = header_name if header_name is not None else label
        feed = sink.start(member, info) if sink is not None else None
        remaining = size
        while remaining:
            data = os.read(fd, min(remaining, out.size))
            if not data:
                raise _changed(label, size, size - remaining)
            remaining -= len(data)
            if feed is not None:
                feed(data)
            yield from out.add(data)
        if sink is not None:
            sink.end(member, os.fstat(fd))
    finally:
        os.close(fd)
    yield from out.add(_padding(size))


def _changed(label: str, expected: int, now: int | None) -> BuildError:
    """A file that changed after the scan: a state of the machine that passes, not a mistake in the input."""
    what = "changed (it is no longer a regular file)" if now is None else f"changed size ({expected} -> {now} bytes)"
    return BuildError(f"{label} {what} while the build context was being sent",
                      hint="run the build again once it stops changing; exclude it in the ignore file if something "
                           "keeps writing to it")


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
