"""The per-build detail: every input component of a build, kept on the building machine only.

An image carries nothing but its input digest (`io.imgctl.inputs.digest`): the components name the files and
directories of the build context, which must not travel to every registry the image is pushed to. So after
each build the components are written to `inputs/<digest>.json.gz` in the cache directory, where a later
`--explain` on this machine finds them by the digest on the earlier image. Only the last `DETAIL_KEEP` builds
are kept. The digest covers every component, so a detail file found under a digest describes exactly the
inputs of any image carrying it, whichever imgctl (of the same digest scheme) wrote it.

The same encoding was once the image label `io.imgctl.inputs.components`; `decode` still reads it there.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from builder.errors import ConfigError
from builder.inputs.cachefiles import prune, write_private

log = logging.getLogger("imgctl.inputs")

DETAIL_DIR = "inputs"
DETAIL_KEEP = 32  # builds whose detail is kept; the oldest are deleted first
# Values kept in detail files (and in old labels): 64 bits tell two versions of one file apart for --explain,
# while the full values still decide the digest itself. Base image digests are kept whole, for "moved (a -> b)".
SHORT = 16
_ENCODING_VERSION = 1
DIGEST_FORM = re.compile(r"sha256:[0-9a-f]{64}\Z")


def short(name: str, value: str) -> str:
    return value if name.startswith("base:") else value[:SHORT]


def encode(components: Mapping[str, str]) -> str:
    """The components as JSON `{"v":1,"c":{NAME: SHORT VALUE}}`."""
    values = {name: short(name, value) for name, value in components.items()}
    # ASCII only: undecodable file names travel as \udcXX escapes instead of breaking an API call or a file.
    return json.dumps({"v": _ENCODING_VERSION, "c": values}, sort_keys=True, separators=(",", ":"))


def decode(text: object) -> Mapping[str, str] | None:
    """The components `encode` wrote; None when `text` is absent, damaged or another version."""
    if not isinstance(text, (str, bytes)):
        return None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return _decode_document(document)


def _decode_document(document: object) -> Mapping[str, str] | None:
    if not isinstance(document, dict) or document.get("v") != _ENCODING_VERSION:
        return None
    components = document.get("c")
    if not isinstance(components, dict):
        return None
    if not all(isinstance(value, str) and value for value in components.values()):
        return None
    return MappingProxyType(components)


class DetailStore:
    """The detail files under `directory` (None: this process's memory only)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        # digest -> its components, worked out when saved: an up-to-date check never pays for them.
        self._pending: dict[str, Callable[[], Mapping[str, str]]] = {}

    def remember(self, digest: str, components: Callable[[], Mapping[str, str]]) -> None:
        self._pending[digest] = components

    def recall(self, digest: str) -> Mapping[str, str] | None:
        """The components remembered for `digest` (values shortened), or None when they are not here."""
        if digest in self._pending:
            return decode(encode(self._pending[digest]()))
        if self.directory is None or not DIGEST_FORM.match(digest):
            return None  # a label value never chooses a file name
        try:
            document = json.loads(gzip.decompress(self._file(digest).read_bytes()))
        except (OSError, EOFError, zlib.error, ValueError, RecursionError) as error:
            if not isinstance(error, FileNotFoundError):
                log.debug("ignoring the input detail for %s: %s", digest, error)
            return None
        if not isinstance(document, dict) or document.get("digest") != digest:
            return None
        return _decode_document(document.get("detail"))

    def save(self) -> None:
        if self.directory is None or not self._pending:
            return
        for digest, components in self._pending.items():
            try:
                text = encode(components())
            except (ConfigError, OSError) as error:
                # The context changed since the digest was worked out (the build is done by now): no detail
                # rather than a detail that disagrees with its digest, and never a failed build.
                log.debug("no input detail for %s: %s", digest, error)
                continue
            document = f'{{"digest":{json.dumps(digest)},"detail":{text}}}'
            write_private(self.directory, self._file(digest), gzip.compress(document.encode(), mtime=0))
        self._pending.clear()
        prune(self.directory / DETAIL_DIR, keep=DETAIL_KEEP)

    def _file(self, digest: str) -> Path:
        assert self.directory is not None
        return self.directory / DETAIL_DIR / (digest.partition(":")[2] + ".json.gz")
