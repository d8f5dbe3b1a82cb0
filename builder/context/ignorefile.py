"""Which ignore file a build reads, and how each dialect reads its lines into patterns.

buildah reads the file with ``imagebuilder.ParseIgnore``: lines split on ``\\n``, a line that is empty or starts
with ``#`` is dropped, ``/`` is trimmed from both ends, nothing else. moby (docker, BuildKit) reads it with
``ignorefile.ReadAll``: a UTF-8 BOM and a trailing ``\\r`` dropped, comments, then Go's TrimSpace and Clean.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from builder.context.dialects import MOBY
from builder.context.gopath import clean, trim_space


def file_lines(text: str, dialect: str) -> Iterator[tuple[int, str]]:
    """(line number, pattern) for each line of an ignore file that holds a pattern, as the dialect reads it."""
    return _moby_file_lines(text) if dialect == MOBY else _buildah_file_lines(text)


def entry_patterns(entry: str, dialect: str) -> list[str]:
    """The patterns one entry of a list (a profile's `ignore`) holds, read like one line of an ignore file."""
    if dialect == MOBY:
        pattern = _moby_file_line(entry)
        return [] if pattern is None else [pattern]
    return [pattern for _, pattern in _buildah_file_lines(entry)]


def _buildah_file_lines(text: str) -> Iterator[tuple[int, str]]:
    """imagebuilder.ParseIgnore: no whitespace trimming before the '#' test, '/' trimmed at both ends."""
    for number, line in enumerate(text.split("\n"), 1):
        if not line or line[0] == "#":
            continue
        line = line.strip("/")
        if line:
            yield number, line


def _moby_file_line(line: str) -> str | None:
    """moby ignorefile.ReadAll for one line (its bufio.Scanner already dropped a trailing '\\r')."""
    if line.endswith("\r"):
        line = line[:-1]
    if line.startswith("#"):
        return None
    pattern = trim_space(line)
    if not pattern:
        return None
    invert = pattern[0] == "!"
    if invert:
        pattern = trim_space(pattern[1:])
    if pattern:
        pattern = clean(pattern)
        if len(pattern) > 1 and pattern[0] == "/":
            pattern = pattern[1:]
    return "!" + pattern if invert else pattern


def _moby_file_lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.split("\n"), 1):
        if number == 1 and line.startswith("\ufeff"):
            line = line[1:]
        pattern = _moby_file_line(line)
        if pattern is not None:
            yield number, pattern



def find_ignore_file(context: Path, containerfile: Path | None) -> Path | None:
    """The ignore file buildah 1.28 (pkg/parse ContainerIgnoreFile) reads for this build, or None.

    Order, verified in buildah v1.28.2 and main: beside the Containerfile, `<containerfile>.containerignore` and
    then `<containerfile>.dockerignore`, where **the .dockerignore wins when both exist** (buildah tests them
    in that order and the second overwrites the first); otherwise `<context>/.containerignore`, and only if that
    does not exist `<context>/.dockerignore`. A relative containerfile is joined to the context directory, as
    buildah does (seen with podman 4.3.1: `podman build -f Cf ctx` reads ./Cf, or ctx/Cf when there is none,
    but always looks for ctx/Cf.containerignore, never ./Cf.containerignore).

    The file is the same whatever the dialect: the build service picks it; the dialect only reads it.
    `containerfile` None (a generated one, S2I): only the context's files apply.
    """
    chosen = None
    if containerfile is not None and not Path(containerfile).is_absolute():
        containerfile = Path(context) / containerfile
    for suffix in (".containerignore", ".dockerignore") if containerfile is not None else ():
        candidate = Path(f"{containerfile}{suffix}")
        if _stat_succeeds(candidate):
            chosen = candidate
    if chosen is not None:
        return chosen
    for name in (".containerignore", ".dockerignore"):
        candidate = Path(context) / name
        if not _does_not_exist(candidate):
            return candidate  # even if unreadable: buildah then fails, and IgnoreRules.load raises
    return None


def _stat_succeeds(path: Path) -> bool:
    """Beside the Containerfile buildah uses os.Stat: any error (missing, dangling link, EACCES) means no."""
    try:
        os.stat(path)
    except OSError:
        return False
    return True


def _does_not_exist(path: Path) -> bool:
    """In the context it reads the file and moves on only on ENOENT (a dangling link included)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False
