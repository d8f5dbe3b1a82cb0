"""The layers of an image, read from the engine's `docker-archive` export as it streams, without unpacking.

The export is read from a pipe while the engine writes it in a thread, and each layer tar inside it is read
member by member (tarfile's stream mode): memory holds one record per file of the image, never a layer's
content, and nothing goes to disk. A docker-archive is used because its layers are uncompressed tars named
by their diff id (an OCI archive would be gzip-compressed, only to be decompressed here).
"""

from __future__ import annotations

import json
import os
import posixpath
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, BinaryIO

from builder.engine.protocol import Engine
from builder.errors import EngineError

DIRECTORY, FILE, SYMLINK, HARDLINK, OTHER = "d", "f", "l", "h", "o"
OPAQUE = ".wh..wh..opq"  # a directory whose lower layers' content is hidden
WHITEOUT = ".wh."  # .wh.NAME: NAME of a lower layer is deleted


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of a layer: its absolute path, kind, mode bits, owner and size (0 but for regular files)."""

    path: str
    kind: str
    mode: int
    uid: int
    gid: int
    size: int
    target: str = ""  # of a symbolic link


@dataclass
class Layer:
    """One layer tar: its entries, and the paths its whiteouts delete or make opaque."""

    diff_id: str
    tar_size: int = 0
    entries: list[Entry] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)

    @property
    def file_bytes(self) -> int:
        return sum(entry.size for entry in self.entries)


def read_layer(diff_id: str, stream: IO[bytes], tar_size: int = 0) -> Layer:
    """The entries and whiteouts of one uncompressed layer tar, read in one pass."""
    layer = Layer(diff_id=diff_id, tar_size=tar_size)
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in archive:
            path = posixpath.normpath("/" + member.name)  # "./etc/x", "etc/x" and "/etc/x" alike
            parent, name = posixpath.split(path)
            if name == OPAQUE:
                layer.opaque.append(parent)
            elif name.startswith(WHITEOUT):
                layer.deleted.append(posixpath.join(parent, name[len(WHITEOUT):]))
            else:
                layer.entries.append(_entry(path, member))
    return layer


def _entry(path: str, member: tarfile.TarInfo) -> Entry:
    if member.isdir():
        kind = DIRECTORY
    elif member.isreg():
        kind = FILE
    elif member.issym():
        kind = SYMLINK
    elif member.islnk():
        kind = HARDLINK
    else:
        kind = OTHER
    return Entry(path, kind, member.mode, member.uid, member.gid, member.size if kind == FILE else 0,
                 member.linkname if kind in (SYMLINK, HARDLINK) else "")


def read_archive(stream: BinaryIO) -> dict[str, Layer]:
    """The layers of a docker-archive stream by diff id ("sha256:HEX"), in one pass over it."""
    layers: dict[str, Layer] = {}
    names: dict[str, str] = {}  # archive member name -> diff id, from manifest.json when it names them otherwise
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in archive:
            if member.isfile() and member.name.endswith(".tar"):
                content = archive.extractfile(member)
                assert content is not None  # a regular file
                diff_id = _diff_id(member.name)
                layers[member.name] = read_layer(diff_id, content, member.size)
            elif member.name == "manifest.json":
                content = archive.extractfile(member)
                assert content is not None
                names = _manifest_names(content.read())
    return {names.get(name, layer.diff_id): layer for name, layer in layers.items()}


def _diff_id(name: str) -> str:
    """containers/image names each layer of a docker-archive after its diff id: HEX.tar (or HEX/layer.tar)."""
    stem = name.removesuffix(".tar").removesuffix("/layer")
    return "sha256:" + posixpath.basename(stem)


def _manifest_names(document: bytes) -> dict[str, str]:
    """Member name -> diff id from the config's rootfs order, when the manifest lists the layers."""
    try:
        manifest = json.loads(document)
        return {name: _diff_id(name) for name in manifest[0].get("Layers") or ()}
    except (ValueError, LookupError, AttributeError):
        return {}


def image_layers(engine: Engine, ref: str, diff_ids: tuple[str, ...]) -> list[Layer]:
    """The layers of image `ref` in `diff_ids` order (a layer used twice appears twice)."""
    with _exported(engine, ref) as stream:
        by_id = read_archive(stream)
    missing = [diff_id for diff_id in diff_ids if diff_id not in by_id]
    if missing:
        raise EngineError(f"the export of {ref} lacks layer {missing[0]}",
                          hint="the engine wrote an archive imgctl cannot read: report it with --debug output")
    return [by_id[diff_id] for diff_id in diff_ids]


@contextmanager
def _exported(engine: Engine, ref: str) -> Iterator[BinaryIO]:
    """The engine's docker-archive of `ref` as a readable stream, written by a thread into a pipe.

    Leaving early (an error, Ctrl-C) closes the reading end: the writer's next write fails, its export is
    abandoned, and the thread ends; its error is then of no interest. An error of the writer (the engine
    refused the export, or stopped answering) is raised here, also when it cut the archive short.
    """
    read_fd, write_fd = os.pipe()
    reader = os.fdopen(read_fd, "rb")
    writer = os.fdopen(write_fd, "wb")
    failure: list[BaseException] = []

    def export() -> None:
        try:
            engine.save(ref, "docker-archive", writer)
        except BaseException as exc:  # handed to the reading thread
            failure.append(exc)
        finally:
            try:
                writer.close()
            except OSError:
                pass  # the reader went away

    thread = threading.Thread(target=export, name="imgctl-export", daemon=True)
    thread.start()
    try:
        yield reader
        while reader.read(1 << 16):
            pass  # the tar's trailing padding: the writer must finish, not meet a closed pipe
    except (tarfile.TarError, EOFError) as exc:
        # Taken before the reader closes: a writer that failed first cut the archive short, and that is the
        # error to report; one that fails after the close only met the closed pipe.
        failed_first = list(failure)
        reader.close()
        thread.join()
        if failed_first:
            raise failed_first[0] from exc
        raise EngineError(f"the export of {ref} could not be read: {exc}") from exc
    finally:
        reader.close()
        thread.join()
    if failure:
        raise failure[0]
