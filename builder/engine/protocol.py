"""What imgctl needs from a container engine, as a typed protocol, and the records it answers with.

Build, push and project code depend on this module only; `builder.engine.podman` implements it over the
Podman API, and tests implement it in memory (`tests/fakes.py`). No engine document (`dict[str, Any]`)
crosses this boundary: an image is an `ImageRecord`, a stream message a `StreamMessage`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

# One build API parameter as the plan holds it: a word, a flag, a list (repeated, or a JSON list for the
# keys the API reads as JSON) or a mapping (build args, labels). `builder.engine.podman` encodes it.
ParamValue = str | bool | int | Sequence[str] | Mapping[str, str]
BuildParams = Mapping[str, ParamValue]


@dataclass(frozen=True)
class ImageRecord:
    """One local image, with the fields imgctl reads: naming, labels, size, digest, and the config that
    context pruning needs (environment, ONBUILD triggers, history), plus the layer diff ids."""

    id: str
    repo_tags: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    size: int = 0
    digest: str | None = None
    env: tuple[str, ...] = ()
    onbuild: tuple[str, ...] = ()
    history: tuple[str, ...] | None = None  # `created_by` of each entry; None when the engine reports none
    layers: tuple[str, ...] = ()  # RootFS.Layers: the diff ids, base first
    working_dir: str = ""
    # What `imgctl verify` reads of the config; the OCI spellings, as the engine reports them.
    user: str = ""
    exposed_ports: tuple[str, ...] = ()  # "8080/tcp"
    volumes: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    stop_signal: str = ""  # "" when the image sets none (SIGTERM then)
    layer_history: tuple[str, ...] | None = None  # `created_by` of the history entries that made a layer

    @classmethod
    def from_inspect(cls, document: Mapping[str, Any]) -> ImageRecord:
        """A record from a libpod (or Docker-compatible) image inspect answer."""
        found = document.get("Config")
        config: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        labels = config.get("Labels") or document.get("Labels") or {}
        history = document.get("History")
        entries = [item for item in history if isinstance(item, Mapping)] if isinstance(history, list) else None
        return cls(
            id=str(document.get("Id") or ""),
            repo_tags=tuple(str(tag) for tag in document.get("RepoTags") or ()),
            labels={str(key): str(value) for key, value in dict(labels).items()},
            size=int(document.get("Size") or 0),
            digest=str(document["Digest"]) if document.get("Digest") else None,
            env=tuple(str(item) for item in config.get("Env") or ()),
            onbuild=tuple(str(item) for item in config.get("OnBuild") or ()),
            history=tuple(str(item.get("created_by") or "") for item in entries) if entries is not None else None,
            layers=tuple(str(layer) for layer in (document.get("RootFS") or {}).get("Layers") or ()),
            working_dir=str(config.get("WorkingDir") or ""),
            user=str(config.get("User") or ""),
            exposed_ports=tuple(str(port) for port in config.get("ExposedPorts") or ()),
            volumes=tuple(str(path) for path in config.get("Volumes") or ()),
            cmd=_words(config.get("Cmd")),
            entrypoint=_words(config.get("Entrypoint")),
            stop_signal=str(config.get("StopSignal") or ""),
            layer_history=(
                tuple(str(item.get("created_by") or "") for item in entries if not item.get("empty_layer"))
                if entries is not None
                else None
            ),
        )


def _words(value: object) -> tuple[str, ...]:
    """Cmd and Entrypoint: a list of words; Docker's old configs may hold one string."""
    if isinstance(value, str):
        return (value,)
    return tuple(str(word) for word in value) if isinstance(value, list) else ()


@dataclass(frozen=True)
class ContainerSpec:
    """A container to create: the image, the user it runs as, and optionally another command."""

    image: str
    user: str = ""  # "UID:GID"; "" runs as the image's USER
    entrypoint: tuple[str, ...] | None = None  # None keeps the image's
    command: tuple[str, ...] | None = None  # None keeps the image's CMD
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ContainerState:
    """A container's state as the engine reports it."""

    status: str  # created, running, exited, stopped, ...
    running: bool
    exit_code: int | None = None  # once it has stopped
    error: str = ""  # the runtime's message when the container could not start


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: str  # stdout and stderr, interleaved as they came


@dataclass(frozen=True)
class ProcessRecord:
    """One process in a container, as `podman top` sees it from the host (no tool in the image needed)."""

    pid: str
    comm: str  # the executable's name (/proc/PID/comm)
    args: str  # the full command line


# A build or push stream message as the service sends it: `{"stream": text}`, `{"error": text, ...}`,
# `{"aux": ...}`. Its keys are the service's; `builder.build.log` and `builder.push.execute` read them.
StreamMessage = Mapping[str, Any]


class Engine(Protocol):
    """A connected container engine service."""

    def close(self) -> None: ...

    def clone(self) -> Engine:
        """Another connection to the same service, for work that runs in parallel."""
        ...

    def build(
        self, params: BuildParams, body: bytes | Iterable[bytes], headers: Mapping[str, str] | None = None
    ) -> Iterator[StreamMessage]:
        """Start a build of the tar `body` and yield the service's messages as they arrive."""
        ...

    def push(
        self, source: str, destination: str, *, auth_header: str | None, tls_verify: bool
    ) -> Iterator[StreamMessage]:
        """Push `source` to `destination`; a failure arrives as a message with an "error" key."""
        ...

    def pull(self, ref: str, *, auth_header: str | None, tls_verify: bool, policy: str) -> Iterator[StreamMessage]:
        """Pull `ref` under the libpod pull `policy` (always, missing, newer, never); a failure arrives as a
        message with an "error" key."""
        ...

    def save(self, ref: str, fmt: str, out: BinaryIO) -> int:
        """Write the image as an archive to `out`; returns the number of bytes written."""
        ...

    def inspect_image(self, ref: str) -> ImageRecord | None:
        """The image `ref` names, or None when there is none."""
        ...

    def images_with_label(self, key: str, value: str) -> list[str]:
        """Ids of local images carrying the label key=value, newest first."""
        ...

    def tag(self, image_id: str, repository: str, tag: str) -> None: ...

    def remove_image(self, ref: str, force: bool = False) -> None: ...

    # Containers: what `imgctl verify` runs. Every failure is `ContainerError` (or `EngineError` when the
    # service does not answer); a container that starts and then fails is a state, not an error.

    def create_container(self, spec: ContainerSpec) -> str:
        """Create (not start) a container; returns its id."""
        ...

    def start_container(self, container_id: str) -> None:
        """Start it; a runtime that cannot start the image's process raises `ContainerError` with its message."""
        ...

    def container_state(self, container_id: str) -> ContainerState: ...

    def signal_container(self, container_id: str, signal: str) -> None:
        """Send `signal` ("SIGTERM", "TERM", "15") to the container's PID 1."""
        ...

    def exec_in_container(self, container_id: str, argv: Sequence[str], user: str = "") -> ExecResult:
        """Run `argv` in the running container and wait for it; exit code 126/127 when it cannot be run."""
        ...

    def container_processes(self, container_id: str) -> tuple[ProcessRecord, ...]: ...

    def container_logs(self, container_id: str, tail: int = 5) -> str:
        """The last `tail` lines the container wrote (stdout and stderr)."""
        ...

    def remove_container(self, container_id: str) -> None:
        """Remove it, running or not, with its anonymous volumes; a container already gone is no error."""
        ...
