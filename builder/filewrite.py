"""How imgctl writes a file the user named (`save -o`, `--digestfile`, `--metadata-file`).

A regular file (or a new one) is replaced atomically: the content goes to a temporary file beside it,
which is renamed over it only once complete, so a reader never sees half a file and a failure leaves the
old one. Anything else is written through, as `podman save -o` does: `-o /dev/stdout`, a FIFO or a device
keeps being what it is (as root, replacing `/dev/null` with a regular file would break the machine). A
symlink is followed: its target is what gets written, and the link stays.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from builder.errors import ConfigError


def _kind(path: Path) -> int | None:
    """The st_mode of what PATH leads to (links followed), or None when nothing is there yet."""
    try:
        return path.stat().st_mode
    except FileNotFoundError:
        return None


@contextmanager
def output_file(path: Path, *, key: str | None = None) -> Iterator[BinaryIO]:
    """Open PATH's replacement for writing; it takes PATH's place when the block ends without an error."""
    target = Path(os.path.realpath(path))
    mode = _kind(target)
    if mode is not None and stat.S_ISDIR(mode):
        raise ConfigError(f"{path} is a directory", key=key, hint="name a file")
    if mode is not None and not stat.S_ISREG(mode):
        with open(target, "wb") as through:
            yield through
        return
    if not target.parent.is_dir():
        raise ConfigError(f"directory {target.parent} does not exist", key=key)
    partial = target.with_name(f".{target.name}.imgctl-partial")
    try:
        with open(partial, "wb") as out:
            yield out
        if mode is not None:
            # Keep the permissions of the file being replaced: a 0600 metadata file stays private.
            os.chmod(partial, stat.S_IMODE(mode))
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def write_text(path: Path, text: str, *, key: str | None = None) -> None:
    with output_file(path, key=key) as out:
        out.write(text.encode())
