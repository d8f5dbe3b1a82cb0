"""Shared helpers of the context tests: real files in temporary directories, and the tar read back."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from builder.context.rules import IgnoreRules
from builder.context.tar import tar_stream
from builder.context.walk import ContextSnapshot


def write(path: Path, data: bytes = b"x", mode: int | None = None, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mode is not None:
        path.chmod(mode)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path



def rules(*patterns: str, dialect: str = "buildah") -> IgnoreRules:
    return IgnoreRules.from_patterns(patterns, dialect=dialect)



def paths(snapshot: ContextSnapshot) -> list[str]:
    return [entry.path for entry in snapshot.entries]



def read_tar(snapshot: ContextSnapshot, **kwargs) -> dict[str, tuple[tarfile.TarInfo, bytes | None]]:
    data = b"".join(tar_stream(snapshot, **kwargs))
    assert len(data) % tarfile.RECORDSIZE == 0
    members = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for member in archive.getmembers():
            content = archive.extractfile(member).read() if member.isfile() else None
            members[member.name] = (member, content)
    return members



@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    write(root / "Containerfile", b"FROM scratch\n")
    write(root / "src" / "app.py", b"print('hi')\n", mode=0o640, mtime=1_600_000_000.75)
    write(root / "src" / "run.sh", b"#!/bin/sh\n", mode=0o755)
    write(root / "node_modules" / "left-pad" / "index.js", b"x" * 1000)
    write(root / "node_modules" / "left-pad" / "deep" / "keep.txt", b"keep")
    write(root / "build" / "out.bin", b"\0" * 5000)
    return root
