"""The local cache that makes input digests cheap: file hashes keyed by stat data, remembered context digests.

`HashCache` keeps sha256 sums keyed by (path, size, mtime_ns, ctime_ns, inode, device) in one JSON file per
context root (`file-hashes/<hash of the root>.json`); mtimes are part of that key but not of the digest, so
touching a file costs a re-hash and never a rebuild. It also remembers the context digests of the last walks
of each root (`context-digests/`), keyed by a fingerprint of the walk's stat data, so that an unchanged
context is answered without looking up a single file. It holds the per-build detail (`builder.inputs.detail`)
until `save`. What is cached, and why, is documented in docs/skipping.md.

A file's sum is worked out by feeding its bytes to a `ContentHash`, which also decides whether the result may
be cached. `HashCache` reads the file itself for that; a writer that sends the file anyway can feed the
`ContentHash` the bytes it sends and hand the result to `HashCache.record`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from builder.inputs.cachefiles import cache_dir, prune, read_ours, touch_if_old, write_private
from builder.inputs.detail import DIGEST_FORM, DetailStore
from builder.inputs.filehash import ContentHash, FileJob, Key, hash_files

if TYPE_CHECKING:
    from builder.inputs.digest import Inputs

log = logging.getLogger("imgctl.inputs")

_SHARD_FORMAT = "imgctl-file-hashes"
_SHARD_VERSION = 1
_SHARD_DIR = "file-hashes"
_TREE_FORMAT = "imgctl-context-digests"
_TREE_VERSION = 1
_TREE_DIR = "context-digests"
TREE_KEEP = 8  # walks remembered per context root: profiles that read different parts of it keep theirs
_SHARD_MAX_AGE = 60 * 86400  # a context root not built for this long loses its hash file

_KEY_COLUMNS = ("size", "mtime_ns", "ctime_ns", "inode", "device")
_COLUMNS = ("path", *_KEY_COLUMNS, "sha256")  # the cache file: one list per column, one row per file


class _Shard:
    """The cached sums of one context root, and what this process did with them.

    Stored as columns rather than one record per file: JSON then yields a handful of long lists of ints
    and strings, which load about twice as fast and give the garbage collector nothing to walk.
    """

    __slots__ = ("changed", "columns", "file", "index", "prefix", "root", "seen", "whole")

    def __init__(self, root: str, file: Path | None, columns: dict[str, list[Any]]) -> None:
        self.root = root
        self.prefix = root if root.endswith("/") else root + "/"
        self.file = file
        self.seen: set[str] = set()  # the paths this process looked up and could answer
        self.whole = False  # the whole context was looked at: unused rows are files no longer sent
        self.rebase(columns)

    def rebase(self, columns: dict[str, list[Any]]) -> None:
        """Start from `columns`, as loaded or as just saved."""
        self.columns = columns or {name: [] for name in _COLUMNS}  # appended to; `index` says which row is current
        self.index: dict[str, int] = dict(zip(self.columns["path"], range(len(self.columns["path"])), strict=True))
        self.changed = False  # a row was added since

    def add(self, rel: str, key: Key, content: str) -> None:
        columns = self.columns
        self.index[rel] = len(columns["path"])
        columns["path"].append(rel)
        for name, value in zip(_KEY_COLUMNS, key, strict=True):
            columns[name].append(value)
        columns["sha256"].append(content)
        self.seen.add(rel)
        self.changed = True

    def needs_write(self) -> bool:
        return self.changed or (self.whole and len(self.seen) != len(self.index))

    def compacted(self) -> dict[str, list[Any]]:
        """Only the current row of each path; only the paths this process used when it saw the whole root."""
        keep = sorted(self.seen) if self.whole else sorted(self.index)
        rows = [self.index[rel] for rel in keep]
        return {name: [column[row] for row in rows] for name, column in self.columns.items()}


class HashCache:
    """sha256 of files keyed by (path, size, mtime_ns, ctime_ns, inode, device); under $XDG_CACHE_HOME/imgctl.

    One JSON file per context root, loaded on first use of that root, and a small one with the context
    digests of its last walks. A file that cannot be read, is not JSON, or is another program's or another
    version's is ignored and rebuilt. `save` replaces files atomically; with concurrent processes the last
    writer wins. `HashCache(None)` keeps everything in memory only.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0
        self.unsettled = 0  # files hashed but not cached (changed while read, or too recently)
        self.bytes_read = 0
        self.tree_hits = 0
        self.details = DetailStore(directory)
        self._shards: dict[str, _Shard] = {}
        self._trees: dict[str, list[list[str]]] = {}  # root -> [[fingerprint, context digest], ...], oldest first
        self._trees_changed: set[str] = set()

    @classmethod
    def open(cls, env: Mapping[str, str]) -> HashCache:
        return cls(cache_dir(env))

    # ---- single files

    def digest(self, path: str | os.PathLike[str], st: os.stat_result) -> str:
        """The sha256 (hex) of the regular file at `path`, whose lstat is `st`. Raises OSError."""
        full = os.path.abspath(os.fspath(path))
        shard = self._shard_of(full)
        return self._lookup(shard, [(full[len(shard.prefix):], full, st)])[0]

    def record(self, path: str | os.PathLike[str], walked: os.stat_result, hashed: ContentHash,
               after: os.stat_result) -> str:
        """Keep the sum of a file that was read elsewhere (fed to `hashed` as it was sent); returns the sum.

        `walked` is the file's lstat from the walk, `after` the descriptor's fstat after the last read.
        """
        full = os.path.abspath(os.fspath(path))
        content, key = hashed.finish(walked, after)
        if key is None:
            self.unsettled += 1
        else:
            shard = self._shard_of(full)
            shard.add(full[len(shard.prefix):], key, content)
        return content

    # ---- a whole context

    def context_sums(self, root: str, files: Sequence[FileJob]) -> list[str]:
        """The sums of `files`, which are every regular file the context at `root` sends.

        Answered from the cache where the stat data still agrees; rows of other files are dropped at `save`.
        Raises OSError for a file that cannot be read, ChangedSinceScan for one that is no longer the file its
        lstat describes or has another size.
        """
        return self._lookup(self._shard(root, whole=True), files, strict=True)

    def context_digest(self, root: str, fingerprint: str) -> str | None:
        """The context digest of the walk with this fingerprint, if one is remembered."""
        for known, digest in self._walks(root):
            if known == fingerprint:
                self.tree_hits += 1
                return digest
        return None

    def note_context_digest(self, root: str, fingerprint: str, digest: str) -> None:
        walks = [walk for walk in self._walks(root) if walk[0] != fingerprint]
        walks.append([fingerprint, digest])
        self._trees[root] = walks[-TREE_KEEP:]
        self._trees_changed.add(root)

    # ---- per-build detail

    def remember(self, inputs: Inputs) -> None:
        """Keep the components of a build for a later --explain on this machine (`recall`), once it is saved."""
        if inputs.complete:  # only complete inputs label an image, so only they are ever looked up
            self.details.remember(inputs.digest, lambda: inputs.components)

    def recall(self, digest: str) -> Mapping[str, str] | None:
        """Components remembered for `digest` (values shortened), or None when they are not on this machine."""
        return self.details.recall(digest)

    def save(self) -> None:
        """Write what changed. Never raises for an unwritable cache: logs at debug level and carries on."""
        if self.directory is None:
            return
        wrote = False
        for shard in self._shards.values():
            if shard.file is None or not shard.needs_write():
                continue
            columns = shard.compacted()
            document = {"format": _SHARD_FORMAT, "version": _SHARD_VERSION, "root": shard.root, **columns}
            if write_private(self.directory, shard.file, json.dumps(document, separators=(",", ":")).encode()):
                shard.rebase(columns)
                wrote = True
        if wrote:
            prune(self.directory / _SHARD_DIR, max_age=_SHARD_MAX_AGE)
        for root in sorted(self._trees_changed):
            document = {"format": _TREE_FORMAT, "version": _TREE_VERSION, "root": root, "walks": self._trees[root]}
            write_private(self.directory, self._root_file(_TREE_DIR, root),
                          json.dumps(document, separators=(",", ":")).encode())
        if self._trees_changed:
            self._trees_changed.clear()
            prune(self.directory / _TREE_DIR, max_age=_SHARD_MAX_AGE)
        self.details.save()

    # ---- internals

    def _root_file(self, folder: str, root: str) -> Path:
        assert self.directory is not None
        key = hashlib.sha256(root.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self.directory / folder / f"{key}.json"

    def _walks(self, root: str) -> list[list[str]]:
        walks = self._trees.get(root)
        if walks is None:
            walks = self._trees[root] = _load_walks(self._root_file(_TREE_DIR, root), root) if self.directory else []
            if walks and self.directory is not None:
                # The walk answers for the file hashes, which are then never read: keep them from aging out.
                touch_if_old(self._root_file(_SHARD_DIR, root))
        return walks

    def _shard(self, root: str, *, whole: bool = False) -> _Shard:
        shard = self._shards.get(root)
        if shard is None:
            file = self._root_file(_SHARD_DIR, root) if self.directory is not None else None
            shard = self._shards[root] = _Shard(root, file, _load(file, root) if file else {})
        shard.whole = shard.whole or whole
        return shard

    def _shard_of(self, full: str) -> _Shard:
        # The most specific root already in use; otherwise the file's own directory.
        for root in sorted(self._shards, key=len, reverse=True):
            shard = self._shards[root]
            if full.startswith(shard.prefix):
                return shard
        return self._shard(os.path.dirname(full))

    def _lookup(self, shard: _Shard, jobs: Sequence[FileJob], *, strict: bool = False) -> list[str]:
        """The sums of `jobs` (all under shard's root), from the cache where the stat data still agrees.

        `strict`: a file that is no longer the one its lstat describes, or has another size, raises
        `ChangedSinceScan` instead of being hashed as it is now.
        """
        columns = shard.columns
        sizes, mtimes, ctimes, inodes, devices, sums_column = (columns[name] for name in (*_KEY_COLUMNS, "sha256"))
        find, use = shard.index.get, shard.seen.add
        sums: list[str] = []
        missing: list[int] = []
        for position, (rel, _, info) in enumerate(jobs):
            row = find(rel)
            if (row is not None and sizes[row] == info.st_size and mtimes[row] == info.st_mtime_ns
                    and ctimes[row] == info.st_ctime_ns and inodes[row] == info.st_ino and devices[row] == info.st_dev):
                use(rel)
                sums.append(sums_column[row])
            else:
                missing.append(position)
                sums.append("")
        self.hits += len(jobs) - len(missing)
        self.misses += len(missing)
        if missing:
            hashed = hash_files([jobs[i] for i in missing], strict)
            for position, (content, key, size) in zip(missing, hashed, strict=True):
                sums[position] = content
                self.bytes_read += size
                if key is not None:
                    shard.add(jobs[position][0], key, content)
                else:
                    self.unsettled += 1
        return sums


def _load(file: Path, root: str) -> dict[str, list[Any]]:
    """The columns of a cache file; empty when it is missing, unreadable, damaged, foreign or another version."""
    found = read_ours(file, root, _SHARD_FORMAT, _SHARD_VERSION, "the hash cache")
    if found is None:
        return {}
    document, modified = found
    if not _valid_columns(document):
        log.debug("ignoring the hash cache %s: damaged", file)
        return {}
    touch_if_old(file, modified)
    return {name: document[name] for name in _COLUMNS}


def _load_walks(file: Path, root: str) -> list[list[str]]:
    """The remembered walks of a context-digest file; empty when it is missing, damaged, foreign or old."""
    found = read_ours(file, root, _TREE_FORMAT, _TREE_VERSION, "the context digests")
    if found is None:
        return []
    document, modified = found
    walks = document.get("walks")
    if not isinstance(walks, list) or not all(
        isinstance(walk, list) and len(walk) == 2 and all(isinstance(x, str) for x in walk)
        and DIGEST_FORM.match(walk[1]) for walk in walks
    ):
        log.debug("ignoring the context digests %s: damaged", file)
        return []
    touch_if_old(file, modified)
    return [list(walk) for walk in walks[-TREE_KEEP:]]


def _valid_columns(document: Mapping[str, Any]) -> bool:
    # set(map(type, ...)) runs in C: 20,000 rows are checked in a few milliseconds.
    columns: list[list[Any]] = []
    for name in _COLUMNS:
        column = document.get(name)
        if type(column) is not list:
            return False
        columns.append(column)
    paths, *numbers, sums = columns
    count = len(paths)
    if any(len(column) != count for column in columns) or count == 0:
        return count == 0 and all(len(column) == 0 for column in columns)
    if set(map(type, paths)) != {str} or len(set(paths)) != count:
        return False
    if any(set(map(type, column)) != {int} for column in numbers):
        return False
    if set(map(type, sums)) != {str} or set(map(len, sums)) != {64}:
        return False
    joined = "".join(sums)
    try:
        bytes.fromhex(joined)  # one C call checks every digit
    except ValueError:
        return False
    return not any(letter in joined for letter in "ABCDEF")  # digests are written in lower case
