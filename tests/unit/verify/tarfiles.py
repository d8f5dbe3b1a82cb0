"""Synthetic layer tars and docker-archives, made with tarfile, for the verify tests."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass


@dataclass(frozen=True)
class F:
    """A member of a layer tar: a file of `size` bytes, a directory (size None) or a link."""

    name: str
    size: int | None = 0
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    symlink: str = ""


def D(name: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> F:
    return F(name, None, mode, uid, gid)


def layer_tar(*members: F) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for member in members:
            info = tarfile.TarInfo(member.name)
            info.mode, info.uid, info.gid = member.mode, member.uid, member.gid
            if member.size is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            elif member.symlink:
                info.type, info.linkname = tarfile.SYMTYPE, member.symlink
                archive.addfile(info)
            else:
                info.size = member.size
                archive.addfile(info, io.BytesIO(b"x" * member.size))
    return buffer.getvalue()


def diff_id(tar: bytes) -> str:
    return "sha256:" + hashlib.sha256(tar).hexdigest()


def docker_archive(*layers: bytes, manifest_first: bool = False) -> bytes:
    """An archive as containers/image writes it: HEX.tar per layer, a config, and manifest.json last."""
    buffer = io.BytesIO()
    names = [diff_id(tar).removeprefix("sha256:") + ".tar" for tar in layers]
    manifest = json.dumps([{"Config": "c.json", "RepoTags": [], "Layers": names}]).encode()

    def add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))

    with tarfile.open(fileobj=buffer, mode="w") as archive:
        if manifest_first:
            add(archive, "manifest.json", manifest)
        for name, tar in zip(names, layers, strict=True):
            add(archive, name, tar)
        add(archive, "c.json", b"{}")
        if not manifest_first:
            add(archive, "manifest.json", manifest)
    return buffer.getvalue()
