"""The cache directory and the private files in it: where it is, atomic writes, reading, tidying.

Every file is written with mode 0600 in directories of mode 0700 (a hash of a short file can give away its
content), replaced atomically (a temporary file renamed over it), and never trusted blindly: a file that
cannot be read, is not ours, or is another version is ignored and written anew. Nothing here raises for an
unusable cache; it logs at debug level and the build goes on without it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from builder.errors import ConfigError
from builder.filewrite import PARTIAL_SUFFIX, write_bytes

log = logging.getLogger("imgctl.inputs")

_TEMP_MAX_AGE = 86400  # temporary files left by a process killed while saving
_TOUCH_AFTER = 86400  # a file read but not rewritten is marked as in use at most once a day


def cache_dir(env: Mapping[str, str]) -> Path | None:
    """$XDG_CACHE_HOME/imgctl, else ~/.cache/imgctl; None when there is no home to put it in."""
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):  # the XDG spec says to ignore a relative value
        return Path(xdg) / "imgctl"
    home = env.get("HOME")
    if not home:
        try:
            home = str(Path.home())
        except (RuntimeError, KeyError):
            return None
    return Path(home) / ".cache" / "imgctl"


def write_private(directory: Path, target: Path, data: bytes) -> bool:
    """Replace `target` (in a folder of the cache `directory`) with `data`; False when it cannot be written."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # hashes can betray short secrets
        target.parent.mkdir(mode=0o700, exist_ok=True)
        write_bytes(target, data, mode=0o600)
    except (OSError, ConfigError) as error:
        log.debug("cannot write the cache file %s: %s", target, error)
        return False
    return True


def prune(directory: Path, *, keep: int | None = None, max_age: float | None = None) -> None:
    """Delete all but the `keep` most recently modified files, and those older than `max_age` seconds."""
    now = time.time()
    try:
        with os.scandir(directory) as items:
            found = [(item.stat(follow_symlinks=False).st_mtime, item.path, item.name) for item in items
                     if item.is_file(follow_symlinks=False)]
    except OSError as error:
        log.debug("cannot tidy %s: %s", directory, error)
        return
    found.sort(reverse=True)
    kept = 0
    for mtime, path, name in found:
        if name.endswith(PARTIAL_SUFFIX):
            if now - mtime > _TEMP_MAX_AGE:
                unlink(path)
            continue
        kept += 1
        if (keep is not None and kept > keep) or (max_age is not None and now - mtime > max_age):
            unlink(path)


def read_ours(file: Path, root: str, file_format: str, version: int, what: str) -> tuple[dict[str, Any], float] | None:
    """A cache file's JSON document and mtime, when it is this format and version and about `root`."""
    try:
        with open(file, "rb") as source:
            data = source.read()
            modified = os.fstat(source.fileno()).st_mtime
    except FileNotFoundError:
        return None
    except OSError as error:  # a directory in its place, no permission, ...
        log.debug("ignoring %s %s: %s", what, file, error)
        return None
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:
        log.debug("ignoring %s %s: %s", what, file, error)
        return None
    if (not isinstance(document, dict) or document.get("format") != file_format
            or document.get("version") != version or document.get("root") != root):
        log.debug("ignoring %s %s: not ours, or another version", what, file)
        return None
    return document, modified


def touch_if_old(file: Path, modified: float | None = None) -> None:
    """Mark a cache file that is read but not rewritten as still in use, for `prune` (once a day)."""
    try:
        if time.time() - (file.stat().st_mtime if modified is None else modified) > _TOUCH_AFTER:
            os.utime(file)
    except OSError:
        pass


def unlink(path: str | Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
