"""Hashing one regular file: what is read, its sha256, and whether the sum may be trusted later.

A sum may be cached under the file's stat data only when that stat data did not move while the file was read,
and is old enough that a second write within the same timestamp tick cannot hide behind it. `ContentHash`
decides that for bytes fed to it by whoever reads the file: `hash_files` here, or a writer that sends the file
anyway (the build context's tar stream), so that what is sent and what is digested are the same bytes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time

_CHUNK = 1 << 20
# A file whose mtime is this close to the moment it is hashed is not cached: a second write within the same
# timestamp tick (a few ms, but 1 s or 2 s on some file systems) would leave size and mtime unchanged, and
# the stale sum would be trusted ("racy git"). Such a file is simply hashed again next time.
_RACY_NS = 2_000_000_000
_READAHEAD_BYTES = 64 << 20
_ADVISE = getattr(os, "posix_fadvise", None)  # Linux; elsewhere files are simply read in turn
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)

Key = tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, device
FileJob = tuple[str, str, os.stat_result]  # (path relative to the context root, absolute path, lstat)


class ChangedSinceScan(OSError):
    """A file is not what the walk saw: another file in its place, or another size."""


def stat_key(info: os.stat_result) -> Key:
    # ctime too: `cp -p` or `touch -r` can put new content under an old mtime, but cannot restore a ctime.
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev


class ContentHash:
    """The sha256 of one regular file's bytes, fed as they are read from an open descriptor.

    `opened` is the descriptor's fstat before the first read. `finish` says whether the sum may be cached
    under the stat data of the walk: not when the file changed while it was read, is not the file the walk
    saw, or was written too recently for its stat data to be trusted later.
    """

    __slots__ = ("opened", "sha", "size", "started")

    def __init__(self, opened: os.stat_result) -> None:
        self.started = time.time_ns()
        self.opened = opened
        self.sha = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.sha.update(chunk)
        self.size += len(chunk)

    def finish(self, walked: os.stat_result, after: os.stat_result) -> tuple[str, Key | None]:
        """(sha256 hex, the key to cache it under or None). `after` is the descriptor's fstat after the last read."""
        key = stat_key(walked)
        content = self.sha.hexdigest()
        if (stat_key(self.opened) != key or stat_key(after) != key or self.size != walked.st_size
                or abs(walked.st_mtime_ns - self.started) < _RACY_NS):
            return content, None
        return content, key


def hash_files(jobs: list[FileJob], strict: bool = False) -> list[tuple[str, Key | None, int]]:
    results = []
    ahead = ahead_bytes = done_bytes = 0
    prefetch = len(jobs) > 1 and _ADVISE is not None
    for _, full, info in jobs:
        # Ask the kernel to start reading the next files while this one is hashed: measured on 20,000
        # files not in the page cache, 3x faster than reading one file after the other, and faster than
        # hashing on threads (which cost 30 % when the files are cached).
        while prefetch and ahead < len(jobs) and ahead_bytes < done_bytes + _READAHEAD_BYTES:
            _prefetch(jobs[ahead][1], jobs[ahead][2].st_size)
            ahead_bytes += jobs[ahead][2].st_size
            ahead += 1
        results.append(_hash_file(full, info, strict))
        done_bytes += info.st_size
    return results


def _hash_file(full: str, info: os.stat_result, strict: bool = False) -> tuple[str, Key | None, int]:
    """(sha256 hex, the key to cache it under or None, bytes read); see `ContentHash.finish` for the key.
    `strict`: a file that is not the one `info` describes, or not of its size, raises ChangedSinceScan."""
    handle = os.open(full, _OPEN_FLAGS)
    try:
        before = os.fstat(handle)
        if not stat.S_ISREG(before.st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file", full)  # replaced since its lstat
        hashed = ContentHash(before)
        while True:
            chunk = os.read(handle, _CHUNK)
            if not chunk:
                break
            hashed.update(chunk)
        after = os.fstat(handle)
    finally:
        os.close(handle)
    if strict and (hashed.size != info.st_size or (before.st_ino, before.st_dev) != (info.st_ino, info.st_dev)):
        raise ChangedSinceScan(errno.ESTALE, "changed since the context was walked", full)
    content, key = hashed.finish(info, after)
    return content, key, hashed.size


def _prefetch(full: str, size: int) -> None:
    try:
        handle = os.open(full, _OPEN_FLAGS)
    except OSError:
        return  # _hash_file will say what is wrong with it
    try:
        if _ADVISE is not None:
            _ADVISE(handle, 0, min(size, _READAHEAD_BYTES), os.POSIX_FADV_WILLNEED)
    except OSError:
        pass
    finally:
        os.close(handle)
