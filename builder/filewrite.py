"""How imgctl writes a file: one the user named (`save -o`, `--digestfile`, `--metadata-file`, the ignore file
`imgctl ignore --write` changes) or one of its own cache files.

A regular file (or a new one) is replaced atomically: the content goes to a temporary file beside it,
which is renamed over it only once complete, so a reader never sees half a file and a failure leaves the
old one. Anything else is written through, as `podman save -o` does: `-o /dev/stdout`, a FIFO or a device
keeps being what it is (as root, replacing `/dev/null` with a regular file would break the machine). A
symlink is followed: its target is what gets written, and the link stays.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from builder.errors import ConfigError

PARTIAL_SUFFIX = ".imgctl-partial"  # a file being written; one left behind means its writer was killed


def _kind(path: Path) -> int | None:
    """The st_mode of what PATH leads to (links followed), or None when nothing is there yet."""
    try:
        return path.stat().st_mode
    except FileNotFoundError:
        return None


@contextmanager
def output_file(path: Path, *, key: str | None = None, mode: int | None = None) -> Iterator[BinaryIO]:
    """Open PATH's replacement for writing; it takes PATH's place when the block ends without an error.

    The new file gets `mode` when given, else the mode of the file it replaces, else the default that the
    umask leaves. `key` names the option the path came from, for error messages.
    """
    target = Path(os.path.realpath(path))
    existing = _kind(target)
    if existing is not None and stat.S_ISDIR(existing):
        raise ConfigError(f"{path} is a directory", key=key, hint="name a file")
    if existing is not None and not stat.S_ISREG(existing):
        with open(target, "wb") as through:
            yield through
        return
    if not target.parent.is_dir():
        raise ConfigError(f"directory {target.parent} does not exist", key=key)
    # A name of its own per writer: two imgctl processes writing the same file never share a partial file.
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    keep = mode if mode is not None else (stat.S_IMODE(existing) if existing is not None else None)
    try:
        # Created 0600 when the mode is set afterwards, so the content is never readable by others meanwhile.
        handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600 if keep is not None
                         else 0o666)
        with os.fdopen(handle, "wb") as out:
            yield out
        if keep is not None:
            os.chmod(partial, keep)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes, *, key: str | None = None, mode: int | None = None) -> None:
    with output_file(path, key=key, mode=mode) as out:
        out.write(data)


def write_text(path: Path, text: str, *, key: str | None = None) -> None:
    write_bytes(path, text.encode(), key=key)
