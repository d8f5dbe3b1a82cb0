"""Read an image's filesystem back from the engine's own export, for comparing two images file by file.

`podman image save --format oci-archive` writes the layers; they are applied here in order with their
whiteouts, so what is compared is the image as a container would see it, not any list imgctl made.
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import tarfile
from pathlib import Path
from typing import BinaryIO

from tests.integration.conftest import PodmanService

# path -> (type, mode, uid, gid, size, sha256 of the content, link target[, mtime of a regular file])
Tree = dict[str, tuple]


def image_filesystem(service: PodmanService, image: str, workdir: Path) -> Tree:
    archive = workdir / f"export-{hashlib.sha256(image.encode()).hexdigest()[:12]}.tar"
    service.podman("image", "save", "--format", "oci-archive", "-o", str(archive), image)
    try:
        with open(archive, "rb") as data:
            return layers_tree(data)
    finally:
        archive.unlink()


def diff_ids(service: PodmanService, image: str) -> list[str]:
    return list(service.inspect(image)["RootFS"]["Layers"])


def differences(left: Tree, right: Tree) -> list[str]:
    """The paths whose entries differ, each with both sides, sorted."""
    lines = []
    for path in sorted(left.keys() | right.keys()):
        if left.get(path) != right.get(path):
            lines.append(f"{path}: {left.get(path)} != {right.get(path)}")
    return lines


def layers_tree(archive: BinaryIO, *, mtimes: bool = False) -> Tree:
    """The flattened filesystem of an OCI archive's first image. With `mtimes`, regular files' entries end
    with their mtime (directories and links get the build's clock, so theirs are never compared)."""
    tree: Tree = {}
    with tarfile.open(fileobj=archive) as outer:
        def blob(digest: str) -> bytes:
            member = outer.extractfile("blobs/" + digest.replace(":", "/"))
            assert member is not None, digest
            return member.read()

        index_member = outer.extractfile("index.json")
        assert index_member is not None
        index = json.loads(index_member.read())
        manifest = json.loads(blob(index["manifests"][0]["digest"]))
        for layer in manifest["layers"]:
            with tarfile.open(fileobj=io.BytesIO(blob(layer["digest"])), mode="r:*") as layer_tar:
                for member in layer_tar:
                    _apply(tree, layer_tar, member, mtimes)
    return tree


def _apply(tree: Tree, layer: tarfile.TarFile, member: tarfile.TarInfo, mtimes: bool) -> None:
    path = posixpath.normpath("/" + member.name)
    parent, name = posixpath.split(path)
    if name == ".wh..wh..opq":
        for other in [p for p in tree if p.startswith(parent.rstrip("/") + "/")]:
            del tree[other]
        return
    if name.startswith(".wh."):
        gone = posixpath.join(parent, name[4:])
        for other in [p for p in tree if p == gone or p.startswith(gone + "/")]:
            del tree[other]
        return
    if member.islnk():
        tree[path] = tree[posixpath.normpath("/" + member.linkname)]
        return
    digest = ""
    if member.isfile():
        handle = layer.extractfile(member)
        digest = hashlib.sha256(handle.read() if handle else b"").hexdigest()
    kind = "file" if member.isfile() else "dir" if member.isdir() else "link" if member.issym() else str(member.type)
    entry = (kind, member.mode, member.uid, member.gid, member.size, digest, member.linkname)
    tree[path] = (*entry, int(member.mtime) if kind == "file" else None) if mtimes else entry
