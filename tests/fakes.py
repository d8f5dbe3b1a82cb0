"""An in-memory engine implementing `builder.engine.protocol.Engine`, for unit tests of the orchestration.

It records every call, keeps images as `ImageRecord`s, and answers builds and pushes with scripted stream
messages. A build whose Containerfile is a label step (`FROM <id>` [+ `LABEL ...`]) is carried out: the
new image gets the labels and the tags, the way the service does it.
"""

from __future__ import annotations

import io
import itertools
import re
import shlex
import tarfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from builder.engine.protocol import BuildParams, Engine, ImageRecord, StreamMessage


@dataclass
class Call:
    name: str
    args: tuple[object, ...]


@dataclass
class FakeEngine:
    """`images` by id; `build_script` are the messages of the next main builds (one list per build);
    `push_script` the messages of the next pushes (one list per push; empty: success); `remote` the images
    a pull finds."""

    images: dict[str, ImageRecord] = field(default_factory=dict)
    build_script: list[list[StreamMessage]] = field(default_factory=list)
    push_script: list[list[StreamMessage]] = field(default_factory=list)
    remote: dict[str, ImageRecord] = field(default_factory=dict)  # what `pull` finds, by reference
    calls: list[Call] = field(default_factory=list)
    saved: bytes = b"archive"
    closed: bool = False
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, image: ImageRecord) -> ImageRecord:
        self.images[image.id] = image
        return image

    def new_id(self) -> str:
        return f"{next(self._ids):064x}"

    def called(self, name: str) -> list[tuple[object, ...]]:
        return [call.args for call in self.calls if call.name == name]

    # --- Engine ---------------------------------------------------------------------------------------

    def close(self) -> None:
        self.closed = True

    def clone(self) -> Engine:
        return self  # one in-memory store; the calls land in the same record

    def build(
        self, params: BuildParams, body: bytes | Iterable[bytes], headers: Mapping[str, str] | None = None
    ) -> Iterator[StreamMessage]:
        data = body if isinstance(body, bytes) else b"".join(body)
        self.calls.append(Call("build", (dict(params), dict(headers or {}))))
        label_step = _label_step(data)
        if label_step is None:
            yield from self.build_script.pop(0)
            return
        base_id, labels = label_step
        base = self._find(base_id)
        assert base is not None, f"label step on an unknown image {base_id}"
        labels.update(params.get("labels") or {})  # type: ignore[arg-type]
        tags = params.get("t") or []
        image = self.add(replace(base, id=self.new_id(), labels={**base.labels, **labels}, repo_tags=tuple(tags)))  # type: ignore[arg-type]
        for other in self.images.values():
            if other.id != image.id:
                self.images[other.id] = replace(
                    other, repo_tags=tuple(t for t in other.repo_tags if t not in image.repo_tags)
                )
        yield {"stream": image.id + "\n"}

    def push(
        self, source: str, destination: str, *, auth_header: str | None, tls_verify: bool
    ) -> Iterator[StreamMessage]:
        self.calls.append(Call("push", (source, destination, auth_header, tls_verify)))
        yield from (self.push_script.pop(0) if self.push_script else [{"stream": "Writing manifest\n"}])

    def pull(self, ref: str, *, auth_header: str | None, tls_verify: bool, policy: str) -> Iterator[StreamMessage]:
        """Copies `remote[ref]` into the store (policy "missing" keeps a local one); an unknown ref fails."""
        self.calls.append(Call("pull", (ref, auth_header, tls_verify, policy)))
        if policy == "missing" and self._find(ref) is not None:
            return
        found = self.remote.get(ref)
        if found is None:
            yield {"error": f"initializing source docker://{ref}: manifest unknown"}
            return
        self.add(found)
        yield {"stream": f"Pulled {ref}\n"}
        yield {"id": found.id}

    def save(self, ref: str, fmt: str, out: BinaryIO) -> int:
        self.calls.append(Call("save", (ref, fmt)))
        out.write(self.saved)
        return len(self.saved)

    def inspect_image(self, ref: str) -> ImageRecord | None:
        self.calls.append(Call("inspect_image", (ref,)))
        return self._find(ref)

    def images_with_label(self, key: str, value: str) -> list[str]:
        self.calls.append(Call("images_with_label", (key, value)))
        return [image.id for image in self.images.values() if image.labels.get(key) == value]

    def tag(self, image_id: str, repository: str, tag: str) -> None:
        self.calls.append(Call("tag", (image_id, repository, tag)))
        image = self.images[image_id]
        self.images[image_id] = replace(image, repo_tags=(*image.repo_tags, f"{repository}:{tag}"))

    def remove_image(self, ref: str, force: bool = False) -> None:
        self.calls.append(Call("remove_image", (ref, force)))
        found = self._find(ref)
        if found is not None:
            del self.images[found.id]

    def _find(self, ref: str) -> ImageRecord | None:
        if ref in self.images:
            return self.images[ref]
        return next((image for image in self.images.values() if ref in image.repo_tags), None)


def _label_step(tar: bytes) -> tuple[str, dict[str, str]] | None:
    """(base id, labels) when the tar's Containerfile is a label step, else None."""
    try:
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            member = archive.extractfile("Containerfile")
            text = member.read().decode() if member else ""
    except (tarfile.TarError, KeyError):
        return None
    match = re.fullmatch(r"FROM ([0-9a-f]{64})\n(?:LABEL (.*)\n)?", text)
    if match is None:
        return None
    labels: dict[str, str] = {}
    for word in shlex.split(match[2] or "", posix=True):
        key, _, value = word.partition("=")
        labels[key] = value
    return match[1], labels
