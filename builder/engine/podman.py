"""The Podman implementation of `builder.engine.protocol.Engine`: the only module that imports podman-py.

Imported lazily (only by commands that need an engine), and only in part: the engine needs podman-py's
`APIClient` (a requests session that speaks the libpod API) and its errors, not the package's `__init__`, which
builds `PodmanClient` with every domain manager and pulls in rich.progress and a containers.conf reader
(`_podman_api`). This module's top level imports no podman-py at all.

podman-py's high-level `images.build()` returns only after the build has finished and cannot set
`isolation`, `pullpolicy` or `excludes`, so builds go through the low-level `client.api.post("/build")`
with `stream=True`, which hands us the log lines as the service writes them.

Every failure leaves here as an imgctl error carrying the engine's own message: a service that cannot be
reached is `EngineError` (exit 4); an operation a live service refuses (a bad tag, an export that fails)
is `BuildError` (exit 5), because it is a step of making the image that failed, not a missing engine.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import json
import logging
import sys
import types
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

from builder.engine.protocol import (
    BuildParams,
    ContainerSpec,
    ContainerState,
    ExecResult,
    ImageRecord,
    ProcessRecord,
    StreamMessage,
)
from builder.errors import BuildError, ContainerError, EngineError

log = logging.getLogger("imgctl.engine")

# Build parameters the libpod API reads as JSON documents; the plan keeps them typed.
JSON_PARAMS = frozenset({"buildargs", "labels", "secrets", "excludes"})

# What `podman --remote build` sends besides `rm`: remove the working containers of a failed (or cancelled)
# build too. Without it every failed RUN leaves one behind in the service's storage.
ALWAYS_REMOVE = {"forcerm": "true"}


@dataclass(frozen=True)
class Endpoint:
    url: str
    source: str  # where the URL came from, for --debug and error messages


def encode_build_params(params: BuildParams) -> dict[str, str | list[str]]:
    """The plan's typed parameters as the API's query parameters (JSON where the API wants JSON)."""
    encoded: dict[str, str | list[str]] = {}
    for name, value in params.items():
        if isinstance(value, str):
            encoded[name] = value  # already in the API's form (the label step's tag list aside)
        elif isinstance(value, bool):
            encoded[name] = "true" if value else "false"
        elif isinstance(value, int):
            encoded[name] = str(value)
        elif name in JSON_PARAMS:
            encoded[name] = json.dumps(dict(value) if isinstance(value, Mapping) else list(value))
        elif isinstance(value, Mapping):
            encoded[name] = json.dumps(dict(value))
        else:
            encoded[name] = [str(item) for item in value]  # repeated, as `t` is
    return encoded


class PodmanEngine:
    """A connected Podman API service."""

    def __init__(self, endpoint: Endpoint) -> None:
        api_client, self._api_error = _podman_api()
        self.endpoint = endpoint
        # What `podman.PodmanClient(base_url=...)` would make as its `.api`, without the client around it.
        self._api = api_client(base_url=endpoint.url)

    def close(self) -> None:
        self._api.close()

    def clone(self) -> PodmanEngine:
        return PodmanEngine(self.endpoint)

    def ping(self, timeout: float = 3.0) -> bool:
        try:
            response = self._api.get("/_ping", timeout=timeout)
        except Exception as exc:  # any transport failure means "does not answer"
            log.debug("no answer from %s (%s): %s", self.endpoint.url, self.endpoint.source, exc)
            return False
        return bool(response.status_code == 200)

    def version(self) -> str:
        response = self._request("get", "/version", "reading the engine version")
        self._raise_for_status(response, "reading the engine version")
        return str(response.json().get("Version", "unknown"))

    def build(
        self, params: BuildParams, body: bytes | Iterable[bytes], headers: Mapping[str, str] | None = None
    ) -> Iterator[StreamMessage]:
        """Start a build and yield the service's JSON messages as they arrive.

        `body` is the context tar, as bytes or as a generator of chunks; requests sends a generator with
        chunked transfer encoding, so a large context is never held whole in memory or on disk. (A list
        would be taken for form fields: pass a generator.) Closing the generator early (Ctrl-C) closes the
        connection, which cancels the build on the service; `forcerm` then removes its working container.
        """
        request_headers = {"Content-Type": "application/x-tar", **(headers or {})}
        query = {**encode_build_params(params), **ALWAYS_REMOVE}
        response = self._request(
            "post", "/build", "sending the build request", params=query, data=body, headers=request_headers, stream=True
        )
        try:
            if response.status_code != 200:
                raise BuildError(f"the engine refused the build: {_error_text(response)}")
            for raw in response.iter_lines():
                if not raw:
                    continue
                try:
                    yield json.loads(raw)
                except ValueError:
                    yield {"stream": raw.decode("utf-8", "replace") + "\n"}
        finally:
            response.close()

    def push(
        self, source: str, destination: str, *, auth_header: str | None, tls_verify: bool
    ) -> Iterator[StreamMessage]:
        """Push `source` (a local name or id) to `destination` and yield the service's progress messages.

        podman-py's `images.push()` never reads the stream (it returns invented text), and with the
        default `quiet=true` the service reports nothing until the end. With `quiet=false` the real
        progress lines arrive, and a failure arrives as `{"error": ...}` inside an HTTP 200 body.
        """
        headers = {"X-Registry-Auth": auth_header} if auth_header else {}
        params = {"destination": destination, "tlsVerify": "true" if tls_verify else "false", "quiet": "false"}
        response = self._request(
            "post",
            f"/images/{quote(source, safe='')}/push",
            "sending the push request",
            params=params,
            headers=headers,
            stream=True,
        )
        yield from _messages(response)

    def pull(self, ref: str, *, auth_header: str | None, tls_verify: bool, policy: str) -> Iterator[StreamMessage]:
        """Pull `ref` and yield the service's messages; as with push, errors arrive inside an HTTP 200 body."""
        headers = {"X-Registry-Auth": auth_header} if auth_header else {}
        params = {"reference": ref, "policy": policy, "tlsVerify": "true" if tls_verify else "false", "quiet": "false"}
        response = self._request("post", "/images/pull", f"pulling {ref}", params=params, headers=headers,
                                 stream=True)
        yield from _messages(response)

    def save(self, ref: str, fmt: str, out: BinaryIO) -> int:
        """Write the image as an archive (`oci-archive` or `docker-archive`) to the binary file `out`."""
        doing = f"exporting {ref}"
        response = self._request(
            "get", f"/images/{quote(ref, safe='')}/get", doing, params={"format": fmt}, stream=True
        )
        try:
            self._raise_for_status(response, doing)
            written = 0
            try:
                for chunk in response.iter_content(chunk_size=1 << 20):
                    out.write(chunk)
                    written += len(chunk)
            except _transport_errors() as exc:
                raise EngineError(f"the engine at {self.endpoint.url} stopped answering while {doing}: {exc}") from exc
            return written
        finally:
            response.close()

    def inspect_image(self, ref: str) -> ImageRecord | None:
        doing = f"inspecting image {ref}"
        response = self._request("get", f"/images/{quote(ref, safe='')}/json", doing)
        if response.status_code == 404:
            return None
        self._raise_for_status(response, doing)
        return ImageRecord.from_inspect(response.json())

    def images_with_label(self, key: str, value: str) -> list[str]:
        doing = f"listing images labelled {key}"
        filters = json.dumps({"label": [f"{key}={value}"]})
        response = self._request("get", "/images/json", doing, params={"filters": filters})
        self._raise_for_status(response, doing)
        images = sorted(response.json() or [], key=lambda image: image.get("Created", 0), reverse=True)
        return [str(image["Id"]) for image in images]

    def tag(self, image_id: str, repository: str, tag: str) -> None:
        doing = f"tagging {image_id[:12]} as {repository}:{tag}"
        response = self._request(
            "post", f"/images/{quote(image_id, safe='')}/tag", doing, params={"repo": repository, "tag": tag}
        )
        self._raise_for_status(response, doing)

    def remove_image(self, ref: str, force: bool = False) -> None:
        doing = f"removing image {ref}"
        response = self._request("delete", f"/images/{quote(ref, safe='')}", doing, params={"force": force})
        if response.status_code not in (200, 404):
            self._raise_for_status(response, doing)

    # --- containers (imgctl verify) ----------------------------------------------------------------------
    # Raw libpod calls, like the rest of this module: one request each, and the engine's own message in
    # every ContainerError.

    def create_container(self, spec: ContainerSpec) -> str:
        body: dict[str, Any] = {"image": spec.image, "labels": dict(spec.labels)}
        if spec.user:
            body["user"] = spec.user
        if spec.entrypoint is not None:
            body["entrypoint"] = list(spec.entrypoint)
        if spec.command is not None:
            body["command"] = list(spec.command)
        doing = f"creating a container of {spec.image}"
        response = self._request("post", "/containers/create", doing, data=json.dumps(body), headers=_JSON)
        self._raise_for_container(response, doing)
        return str(response.json()["Id"])

    def start_container(self, container_id: str) -> None:
        doing = f"starting container {container_id[:12]}"
        response = self._request("post", f"/containers/{container_id}/start", doing)
        self._raise_for_container(response, doing)

    def container_state(self, container_id: str) -> ContainerState:
        doing = f"inspecting container {container_id[:12]}"
        response = self._request("get", f"/containers/{container_id}/json", doing)
        self._raise_for_container(response, doing)
        state = response.json().get("State") or {}
        running = bool(state.get("Running"))
        return ContainerState(
            status=str(state.get("Status") or ""),
            running=running,
            exit_code=None if running else int(state.get("ExitCode") or 0),
            error=str(state.get("Error") or ""),
        )

    def signal_container(self, container_id: str, signal: str) -> None:
        doing = f"sending {signal} to container {container_id[:12]}"
        response = self._request("post", f"/containers/{container_id}/kill", doing, params={"signal": signal})
        self._raise_for_container(response, doing)

    def exec_in_container(self, container_id: str, argv: Sequence[str], user: str = "") -> ExecResult:
        doing = f"running {argv[0] if argv else '?'} in container {container_id[:12]}"
        body: dict[str, Any] = {"Cmd": list(argv), "AttachStdout": True, "AttachStderr": True}
        if user:
            body["User"] = user
        created = self._request("post", f"/containers/{container_id}/exec", doing, data=json.dumps(body), headers=_JSON)
        self._raise_for_container(created, doing)
        exec_id = str(created.json()["Id"])
        started = self._request(
            "post", f"/exec/{exec_id}/start", doing, data=json.dumps({"Detach": False, "Tty": False}), headers=_JSON
        )
        self._raise_for_container(started, doing)
        output = _demultiplex(started.content)
        inspected = self._request("get", f"/exec/{exec_id}/json", doing)
        self._raise_for_container(inspected, doing)
        code = inspected.json().get("ExitCode")
        return ExecResult(exit_code=int(code) if code is not None else -1, output=output)

    def container_processes(self, container_id: str) -> tuple[ProcessRecord, ...]:
        doing = f"listing the processes of container {container_id[:12]}"
        # Descriptors of `podman top`, read from the host's /proc: works in an image without ps or a shell.
        response = self._request("get", f"/containers/{container_id}/top", doing, params={"ps_args": "pid,comm,args"})
        self._raise_for_container(response, doing)
        rows = response.json().get("Processes") or []
        return tuple(ProcessRecord(pid=str(r[0]), comm=str(r[1]), args=str(r[2])) for r in rows if len(r) >= 3)

    def container_logs(self, container_id: str, tail: int = 5) -> str:
        doing = f"reading the log of container {container_id[:12]}"
        params = {"stdout": "true", "stderr": "true", "tail": str(tail)}
        response = self._request("get", f"/containers/{container_id}/logs", doing, params=params)
        self._raise_for_container(response, doing)
        return _demultiplex(response.content)

    def remove_container(self, container_id: str) -> None:
        doing = f"removing container {container_id[:12]}"
        # The anonymous volumes of the image's VOLUMEs go with it. libpod 4.3 reads `volumes` (seen: with only
        # the documented `v` they stayed behind); `v` is kept for services that read that.
        params = {"force": "true", "volumes": "true", "v": "true", "timeout": "0"}
        response = self._request("delete", f"/containers/{container_id}", doing, params=params)
        if response.status_code != 404:
            self._raise_for_container(response, doing)

    def _raise_for_container(self, response: Any, doing: str) -> None:
        if response.status_code >= 400:
            raise ContainerError(f"the engine refused {doing}: {_error_text(response)}")

    def working_containers(self, since: float) -> list[str]:
        """Ids of buildah working containers in the service's storage created at or after `since` (epoch s).

        Not part of the Engine protocol: only the private service asks, to let an interrupted build's
        cleanup finish before it is stopped.
        """
        doing = "listing working containers"
        response = self._request("get", "/containers/json", doing, params={"all": "true", "external": "true"})
        self._raise_for_status(response, doing)
        found = []
        for container in response.json() or []:
            created = _epoch(str(container.get("Created") or ""))
            if container.get("Command") == ["buildah"] and created is not None and created >= since:
                found.append(str(container.get("Id")))
        return found

    def _request(self, method: str, path: str, doing: str, **kwargs: Any) -> Any:
        """One API call; a service that cannot be reached is `EngineError` (exit 4), with the cause."""
        try:
            return getattr(self._api, method)(path, **kwargs)
        except self._api_error as exc:
            # podman-py wraps transport failures (refused, reset, a socket that went away) in APIError.
            cause = exc.__cause__ or exc
            raise EngineError(f"the engine at {self.endpoint.url} did not answer while {doing}: {cause}") from exc
        except _transport_errors() as exc:
            raise EngineError(f"the engine at {self.endpoint.url} did not answer while {doing}: {exc}") from exc

    def _raise_for_status(self, response: Any, doing: str) -> None:
        if response.status_code >= 400:
            raise BuildError(f"the engine refused {doing}: {_error_text(response)}")


_JSON = {"Content-Type": "application/json"}


def _demultiplex(data: bytes) -> str:
    """The text of an attach stream: frames of an 8-byte header (stream, 0, 0, 0, big-endian length) and
    the payload. Without a TTY both podman and Docker frame output so; anything else is taken as is."""
    chunks = []
    offset = 0
    while offset + 8 <= len(data) and data[offset] in (0, 1, 2) and data[offset + 1 : offset + 4] == b"\0\0\0":
        length = int.from_bytes(data[offset + 4 : offset + 8], "big")
        chunks.append(data[offset + 8 : offset + 8 + length])
        offset += 8 + length
    chunks.append(data[offset:])
    return b"".join(chunks).decode("utf-8", "replace")


def _podman_api() -> tuple[Any, type[Exception]]:
    """podman-py's `APIClient` and `APIError`, imported without first running the `podman` package's `__init__`.

    Python runs a package's `__init__` before any of its modules, and podman-py's imports `PodmanClient` with
    every domain manager and rich.progress: about 50 ms of CPU here, a third of podman-py's import, for
    classes imgctl never uses (measured in alternation, after typer and imgctl's own modules). So `podman`
    enters `sys.modules` as the package not yet run, holding only its path; its modules load as usual, and the
    first use of anything else (`podman.PodmanClient`, by whoever asks) runs the `__init__` then, in place.
    """
    if "podman" not in sys.modules:
        spec = importlib.util.find_spec("podman")
        if spec is not None and spec.loader is not None and spec.submodule_search_locations is not None:
            package = importlib.util.module_from_spec(spec)
            package.__dict__["__getattr__"] = functools.partial(_complete_package, package, spec)
            sys.modules["podman"] = package
    import podman.api.client
    import podman.errors

    return podman.api.client.APIClient, podman.errors.APIError


def _complete_package(package: types.ModuleType, spec: importlib.machinery.ModuleSpec, name: str) -> Any:
    """The not-yet-run package's module `__getattr__` (PEP 562): a submodule is imported; any other name runs the
    package's `__init__` first, once."""
    try:
        return importlib.import_module(f"{package.__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{package.__name__}.{name}":
            raise
    del package.__dict__["__getattr__"]
    assert spec.loader is not None
    spec.loader.exec_module(package)
    return getattr(package, name)


def _transport_errors() -> tuple[type[Exception], ...]:
    import requests

    return (OSError, requests.exceptions.RequestException)


def _error_text(response: Any) -> str:
    """The engine's own message: libpod answers errors as {"cause", "message", "response"}."""
    try:
        body = response.json()
        if isinstance(body, dict):
            return str(body.get("message") or body.get("cause") or body)
    except ValueError:
        pass
    return f"HTTP {response.status_code} {response.text[:500]}"


def _epoch(timestamp: str) -> float | None:
    """Seconds since the epoch of the API's RFC 3339 time ("2026-11-29T13:26:19.410618775Z", or an offset)."""
    import re
    from datetime import datetime

    # Python before 3.11 reads neither nanoseconds nor "Z": drop the fraction, spell out UTC.
    text = re.sub(r"\.\d+", "", timestamp).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def _messages(response: Any) -> Iterator[StreamMessage]:
    """A push or pull answer as messages: errors arrive inside an HTTP 200 body, or as a failing status."""
    try:
        if response.status_code != 200:
            yield {"error": _error_text(response)}
            return
        for raw in response.iter_lines():
            if raw:
                try:
                    yield json.loads(raw)
                except ValueError:
                    yield {"stream": raw.decode("utf-8", "replace")}
    finally:
        response.close()
