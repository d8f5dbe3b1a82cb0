"""The container engine: finding or starting a Podman API service, and talking to it.

This is the only module that imports podman-py. It is imported lazily (only by commands that need an
engine) because `import podman` alone costs about 0.1 s.

podman-py's high-level `images.build()` returns only after the build has finished and cannot set
`isolation`, `pullpolicy` or `excludes`, so builds go through the low-level `client.api.post("/build")`
with `stream=True`, which hands us the log lines as the service writes them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder.errors import BuildError, EngineError, ImgctlError

log = logging.getLogger("imgctl.engine")

INSTALL_HINT = (
    "install podman (Debian/Ubuntu: `sudo apt-get install podman`, Fedora/RHEL: `sudo dnf install podman`), "
    "or point imgctl at a running service with --url or CONTAINER_HOST"
)

# A private service exits by itself after this many idle seconds, so that a SIGKILLed imgctl
# (which cannot run its cleanup) does not leave a service running forever.
PRIVATE_SERVICE_IDLE_SECONDS = 60


@dataclass(frozen=True)
class Endpoint:
    url: str
    source: str  # where the URL came from, for --debug and error messages


def candidate_endpoints(url: str | None, env: Mapping[str, str]) -> list[Endpoint]:
    """The endpoints to try, in podman's order of precedence."""
    if url:
        return [Endpoint(_normalize_url(url), "--url")]
    found: list[Endpoint] = []
    if env.get("CONTAINER_HOST"):
        found.append(Endpoint(_normalize_url(env["CONTAINER_HOST"]), "CONTAINER_HOST"))
    runtime_dir = env.get("XDG_RUNTIME_DIR")
    if runtime_dir:
        found.append(Endpoint(f"unix://{runtime_dir}/podman/podman.sock", "rootless socket"))
    found.append(Endpoint("unix:///run/podman/podman.sock", "system socket"))
    return found


def _normalize_url(url: str) -> str:
    if url.startswith("/"):
        return f"unix://{url}"
    return url


def _socket_path(url: str) -> str | None:
    return url[len("unix://") :] if url.startswith("unix://") else None


class Engine:
    """A connected Podman API service."""

    def __init__(self, endpoint: Endpoint) -> None:
        import podman  # deferred: see the module docstring

        self.endpoint = endpoint
        self._client = podman.PodmanClient(base_url=endpoint.url)

    def close(self) -> None:
        self._client.close()

    def clone(self) -> Engine:
        """Another connection to the same service, for work that runs in parallel."""
        return Engine(self.endpoint)

    def ping(self, timeout: float = 3.0) -> bool:
        try:
            response = self._client.api.get("/_ping", timeout=timeout)
        except Exception as exc:  # any transport failure means "does not answer"
            log.debug("no answer from %s (%s): %s", self.endpoint.url, self.endpoint.source, exc)
            return False
        return response.status_code == 200

    def version(self) -> str:
        response = self._client.api.get("/version")
        self._raise_for_status(response, "reading the engine version")
        return str(response.json().get("Version", "unknown"))

    def build(
        self,
        params: Mapping[str, Any],
        body: bytes | Iterable[bytes],
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Start a build and yield the service's JSON messages as they arrive.

        `body` is the context tar, as bytes or as a generator of chunks; requests sends a generator with
        chunked transfer encoding, so a large context is never held whole in memory or on disk. (A list
        would be taken for form fields: pass a generator.)
        """
        request_headers = {"Content-Type": "application/x-tar", **(headers or {})}
        try:
            response = self._client.api.post(
                "/build", params=dict(params), data=body, headers=request_headers, stream=True
            )
        except ImgctlError:
            raise
        except (OSError, requests_errors()) as exc:
            raise EngineError(f"the engine at {self.endpoint.url} failed during the build request: {exc}") from exc
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
    ) -> Iterator[dict[str, Any]]:
        """Push `source` (a local name or id) to `destination` and yield the service's progress messages.

        podman-py's `images.push()` never reads the stream (it returns invented text), and with the
        default `quiet=true` the service reports nothing until the end. With `quiet=false` the real
        progress lines arrive, and a failure arrives as `{"error": ...}` inside an HTTP 200 body.
        """
        from urllib.parse import quote

        headers = {"X-Registry-Auth": auth_header} if auth_header else {}
        params = {"destination": destination, "tlsVerify": "true" if tls_verify else "false", "quiet": "false"}
        try:
            response = self._client.api.post(
                f"/images/{quote(source, safe='')}/push", params=params, headers=headers, stream=True
            )
        except (OSError, requests_errors()) as exc:
            raise EngineError(f"the engine at {self.endpoint.url} failed during the push request: {exc}") from exc
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

    def save(self, ref: str, fmt: str, out: Any) -> int:
        """Write the image as an archive (`oci-archive` or `docker-archive`) to the binary file `out`."""
        from urllib.parse import quote

        response = self._client.api.get(f"/images/{quote(ref, safe='')}/get", params={"format": fmt}, stream=True)
        try:
            self._raise_for_status(response, f"exporting {ref}")
            written = 0
            for chunk in response.iter_content(chunk_size=1 << 20):
                out.write(chunk)
                written += len(chunk)
            return written
        finally:
            response.close()

    def inspect_image(self, ref: str) -> dict[str, Any] | None:
        from urllib.parse import quote

        response = self._client.api.get(f"/images/{quote(ref, safe='')}/json")
        if response.status_code == 404:
            return None
        self._raise_for_status(response, f"inspecting image {ref}")
        return response.json()

    def images_with_label(self, key: str, value: str) -> list[str]:
        """Ids of local images carrying the label key=value, newest first."""
        filters = json.dumps({"label": [f"{key}={value}"]})
        response = self._client.api.get("/images/json", params={"filters": filters})
        self._raise_for_status(response, f"listing images labelled {key}")
        images = sorted(response.json() or [], key=lambda image: image.get("Created", 0), reverse=True)
        return [str(image["Id"]) for image in images]

    def tag(self, image_id: str, repository: str, tag: str) -> None:
        response = self._client.api.post(f"/images/{image_id}/tag", params={"repo": repository, "tag": tag})
        self._raise_for_status(response, f"tagging {image_id[:12]} as {repository}:{tag}")

    def remove_image(self, ref: str, force: bool = False) -> None:
        from urllib.parse import quote

        response = self._client.api.delete(f"/images/{quote(ref, safe='')}", params={"force": force})
        if response.status_code not in (200, 404):
            self._raise_for_status(response, f"removing image {ref}")

    def _raise_for_status(self, response: Any, doing: str) -> None:
        if response.status_code >= 400:
            raise EngineError(f"the engine failed {doing}: {_error_text(response)}")


def requests_errors() -> type[Exception]:
    import requests

    return requests.exceptions.RequestException


def _error_text(response: Any) -> str:
    try:
        body = response.json()
        if isinstance(body, dict):
            return str(body.get("message") or body.get("cause") or body)
    except ValueError:
        pass
    return f"HTTP {response.status_code} {response.text[:500]}"


class PrivateService:
    """A `podman system service` of our own, on a socket in a fresh temporary directory.

    Started when no running service answers; stopped (and its directory removed) on every exit path
    by the `connect()` context manager.
    """

    def __init__(self, podman: str, env: Mapping[str, str]) -> None:
        self._podman = podman
        self._env = env
        self._dir = Path(tempfile.mkdtemp(prefix="imgctl-podman-"))
        self.socket = self._dir / "podman.sock"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = self._dir / "service.log"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 20.0) -> None:
        # buildah keeps its per-build scratch directories in TMPDIR and leaves them behind when the
        # service is stopped mid-build; giving it a TMPDIR inside our directory removes them with it.
        scratch = self._dir / "tmp"
        scratch.mkdir()
        env = {**self._env, "TMPDIR": str(scratch)}
        with open(self._log, "wb") as out:
            self._proc = subprocess.Popen(
                [self._podman, "system", "service", f"--time={PRIVATE_SERVICE_IDLE_SECONDS}", self.url],
                stdin=subprocess.DEVNULL,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Its own process group: Ctrl-C in the terminal reaches imgctl only, which then stops the
                # service in order instead of both racing to exit.
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                output = self._log.read_text(errors="replace").strip()
                self.stop()
                raise EngineError(
                    f"`podman system service` exited with status {self._proc.returncode if self._proc else '?'}: "
                    f"{output[-800:] or 'no output'}",
                    hint="run `podman info` to see what podman itself reports",
                )
            if self.socket.exists():
                return
            time.sleep(0.01)
        self.stop()
        raise EngineError(f"`podman system service` did not open its socket within {timeout:.0f} s")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            # A build's RUN process lives in a session of its own below the service, and survives the
            # service's exit; when we stop mid-build (Ctrl-C), it must not keep running unseen.
            for pid in _descendants(proc.pid):
                with suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)


def _descendants(root: int) -> list[int]:
    """Every process below `root`, children before parents (read from /proc; empty where there is none)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces and parentheses: the fields we need follow the last ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[int] = []
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found[::-1]


@contextmanager
def connect(url: str | None, env: Mapping[str, str] | None = None) -> Iterator[Engine]:
    """Yield an `Engine` for the first service that answers, or for a private one started for us."""
    env = os.environ if env is None else env
    tried: list[str] = []
    for endpoint in candidate_endpoints(url, env):
        path = _socket_path(endpoint.url)
        if path is not None and not os.path.exists(path):
            log.debug("skipping %s (%s): no socket", endpoint.url, endpoint.source)
            tried.append(f"{endpoint.url} ({endpoint.source}): no socket")
            if endpoint.source == "--url":
                break
            continue
        engine = Engine(endpoint)
        if engine.ping():
            log.debug("using the engine at %s (%s)", endpoint.url, endpoint.source)
            try:
                yield engine
            finally:
                engine.close()
            return
        engine.close()
        tried.append(f"{endpoint.url} ({endpoint.source}): no answer")
        if endpoint.source == "--url":
            break
    if url:
        raise EngineError(f"no Podman service answers at {url}", hint="check the URL, or leave out --url to let imgctl start one")

    podman = shutil.which("podman", path=env.get("PATH"))
    if podman is None:
        raise EngineError("podman is not installed and no Podman service answers", hint=INSTALL_HINT)
    log.debug("no running service (%s); starting a private one", "; ".join(tried))
    service = PrivateService(podman, env)
    try:
        service.start()
        engine = Engine(Endpoint(service.url, "private service"))
        try:
            yield engine
        finally:
            engine.close()
    finally:
        service.stop()
