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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from builder.engine.protocol import (
    BuildParams,
    ContainerSpec,
    ContainerState,
    Engine,
    ExecResult,
    ImageRecord,
    ProcessRecord,
    StreamMessage,
)
from builder.errors import ContainerError


@dataclass
class Call:
    name: str
    args: tuple[object, ...]


@dataclass
class Behaviour:
    """How a fake container of the next `create_container` behaves, on the fake engine's clock."""

    start_error: str = ""  # start_container raises ContainerError with it
    exits_after: float | None = None  # seconds after the start at which it exits by itself
    exit_code: int = 0
    stops_after: float | None = 0.2  # seconds after a signal at which it exits; None: it ignores signals
    stop_code: int = 0
    writable: frozenset[str] = frozenset()  # directories a `touch` succeeds in
    has_touch: bool = True
    processes: tuple[ProcessRecord, ...] = (ProcessRecord("1", "server", "/usr/bin/server --port 8080"),)
    logs: str = ""


@dataclass
class FakeContainer:
    spec: ContainerSpec
    behaviour: Behaviour
    started: float | None = None
    ends: float | None = None  # when it exits (or exited)
    code: int = 0
    removed: bool = False
    signals: list[str] = field(default_factory=list)
    execs: list[tuple[tuple[str, ...], str]] = field(default_factory=list)


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
    behaviours: list[Behaviour] = field(default_factory=list)  # of the next containers; default Behaviour()
    containers: dict[str, FakeContainer] = field(default_factory=dict)
    now: float = 0.0  # the fake clock the container behaviours follow; `sleep` advances it
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.001)

    def live_containers(self) -> list[str]:
        return [cid for cid, container in self.containers.items() if not container.removed]

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

    def create_container(self, spec: ContainerSpec) -> str:
        self.calls.append(Call("create_container", (spec,)))
        if self._find(spec.image) is None:
            raise ContainerError(f"no such image {spec.image}")
        container_id = "c" + self.new_id()[1:]
        self.containers[container_id] = FakeContainer(spec, self.behaviours.pop(0) if self.behaviours else Behaviour())
        return container_id

    def start_container(self, container_id: str) -> None:
        self.calls.append(Call("start_container", (container_id,)))
        container = self._container(container_id)
        if container.behaviour.start_error:
            raise ContainerError(container.behaviour.start_error)
        container.started = self.now
        after = container.behaviour.exits_after
        if container.spec.entrypoint == ("touch",):  # a probe run
            after = 0.05
            path = (container.spec.command or ("",))[0].rsplit("/", 1)[0]
            container.code = 0 if path in container.behaviour.writable else 1
            if not container.behaviour.has_touch:
                container.code = 127
        else:
            container.code = container.behaviour.exit_code
        container.ends = None if after is None else self.now + after

    def container_state(self, container_id: str) -> ContainerState:
        container = self._container(container_id)
        if container.started is None:
            return ContainerState(status="created", running=False, exit_code=0)
        if container.ends is not None and container.ends <= self.now:
            return ContainerState(status="exited", running=False, exit_code=container.code)
        return ContainerState(status="running", running=True)

    def signal_container(self, container_id: str, signal: str) -> None:
        self.calls.append(Call("signal_container", (container_id, signal)))
        container = self._container(container_id)
        container.signals.append(signal)
        if not self.container_state(container_id).running:
            raise ContainerError(f"container {container_id[:12]} is not running")
        if signal == "SIGKILL":
            container.ends, container.code = self.now, 137
        elif container.behaviour.stops_after is not None:
            container.ends, container.code = self.now + container.behaviour.stops_after, container.behaviour.stop_code

    def exec_in_container(self, container_id: str, argv: Sequence[str], user: str = "") -> ExecResult:
        container = self._container(container_id)
        container.execs.append((tuple(argv), user))
        if not self.container_state(container_id).running:
            raise ContainerError(f"container {container_id[:12]} is not running")
        if argv[0] != "touch" or not container.behaviour.has_touch:
            return ExecResult(127, f'exec: "{argv[0]}": executable file not found in $PATH')
        directory = argv[1].rsplit("/", 1)[0]
        if directory in container.behaviour.writable:
            return ExecResult(0, "")
        return ExecResult(1, f"touch: {argv[1]}: Permission denied")

    def container_processes(self, container_id: str) -> tuple[ProcessRecord, ...]:
        return self._container(container_id).behaviour.processes

    def container_logs(self, container_id: str, tail: int = 5) -> str:
        return "\n".join(self._container(container_id).behaviour.logs.splitlines()[-tail:])

    def remove_container(self, container_id: str) -> None:
        self.calls.append(Call("remove_container", (container_id,)))
        if container_id in self.containers:
            self.containers[container_id].removed = True

    def _container(self, container_id: str) -> FakeContainer:
        container = self.containers.get(container_id)
        if container is None or container.removed:
            raise ContainerError(f"no such container {container_id}")
        return container

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
