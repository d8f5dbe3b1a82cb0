"""The content the build actually received: the sha256 of every file as the tar stream sent it.

The input digest is worked out before the upload (to decide whether to build at all), from hashes the
cache may answer. The image must be labelled with a digest of the bytes it got, though: a file replaced by
another of the same size between the two reads would otherwise put one content into the image and the
other into its label, and a later build with that other content would take the image as up to date. So the
tar stream feeds each file's bytes here as it sends them (one read per file), and `Inputs.settled` turns
the sums into the digest that goes on the image. Sums that may be trusted later go into the hash cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from builder.context.walk import FILE, ContextSnapshot
from builder.inputs.filehash import ContentHash
from builder.inputs.hashcache import HashCache


class SentContent:
    """A `ContentSink` for `tar_stream`: one `ContentHash` per file while it is sent, then its sum."""

    def __init__(self, snapshot: ContextSnapshot, cache: HashCache | None = None) -> None:
        self.sums: dict[str, str] = {}
        self._cache = cache
        self._root = snapshot.root
        self._walked = {e.path: e.lstat for e in snapshot.entries if e.kind == FILE}
        self._open: dict[str, ContentHash] = {}

    def start(self, member: str, opened: os.stat_result) -> Callable[[bytes], None]:
        hashed = ContentHash(opened)
        self._open[member] = hashed
        return hashed.update

    def end(self, member: str, after: os.stat_result) -> None:
        hashed = self._open.pop(member)
        walked = self._walked.get(member)
        if walked is not None and self._cache is not None:
            self.sums[member] = self._cache.record(self._root / member, walked, hashed, after)
        else:
            self.sums[member] = hashed.sha.hexdigest()

    @property
    def complete(self) -> bool:
        """Every file of the context was sent to its end (a build that read less proves nothing)."""
        return not self._open and self._walked.keys() <= self.sums.keys()
