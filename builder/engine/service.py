"""Finding the Podman service to talk to, or starting a private one, and connecting to it.

Discovery follows podman's order (`--url`, `CONTAINER_HOST`, the rootless socket, the system socket); when
nothing answers, a `podman system service` of our own runs on a socket in a fresh temporary directory for
the length of the command.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from builder.engine.podman import Endpoint, PodmanEngine
from builder.errors import EngineError

log = logging.getLogger("imgctl.engine")

INSTALL_HINT = (
    "install podman (Debian/Ubuntu: `sudo apt-get install podman`, Fedora/RHEL: `sudo dnf install podman`), "
    "or point imgctl at a running service with --url or CONTAINER_HOST"
)

# A private service exits by itself after this many idle seconds, so that a SIGKILLed imgctl
# (which cannot run its cleanup) does not leave a service running forever.
PRIVATE_SERVICE_IDLE_SECONDS = 60


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


# Engine settings of the caller's that podman itself reads; none of them may reach the private service.
CALLER_ENGINE_SETTINGS = frozenset(
    {"CONTAINER_HOST", "CONTAINER_CONNECTION", "CONTAINER_SSHKEY", "CONTAINER_PASSPHRASE", "PODMAN_CONNECTIONS_CONF"}
)
DIRECTORY_PREFIX = "imgctl-podman-"
PID_FILE = "service.pid"


def remove_stale_directories(tmp: Path) -> list[Path]:
    """Remove the directories of private services that are gone; returns what was removed.

    Only ours (the prefix, owned by this user, holding a pid file) and only when that pid is no longer a
    `podman system service` on that directory's socket: a directory without a pid file may belong to a
    service that is starting right now, and is left alone.
    """
    removed = []
    uid = os.getuid()
    for directory in tmp.glob(DIRECTORY_PREFIX + "*"):
        try:
            if directory.is_symlink() or not directory.is_dir() or directory.stat().st_uid != uid:
                continue
            pid = int((directory / PID_FILE).read_text().strip())
        except (OSError, ValueError):
            continue
        if _is_service_of(pid, directory):
            continue
        shutil.rmtree(directory, ignore_errors=True)
        log.debug("removed %s: its service (pid %d) is gone", directory, pid)
        removed.append(directory)
    return removed


def _is_service_of(pid: int, directory: Path) -> bool:
    """True while `pid` is a podman service listening in `directory` (a reused pid is someone else)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"service" in args and any(str(directory).encode() in arg for arg in args)


class PrivateService:
    """A `podman system service` of our own, on a socket in a fresh temporary directory.

    Started when no running service answers; stopped (and its directory removed) on every exit path
    by the `connect()` context manager.
    """

    def __init__(self, podman: str, env: Mapping[str, str]) -> None:
        self._podman = podman
        # The service must run locally: a caller's CONTAINER_HOST (which is why we are here: it did not
        # answer) would put podman in remote mode, where `system service URL` is a usage error.
        self._env = {name: value for name, value in env.items() if name not in CALLER_ENGINE_SETTINGS}
        remove_stale_directories(Path(tempfile.gettempdir()))
        self._dir = Path(tempfile.mkdtemp(prefix=DIRECTORY_PREFIX))
        self.socket = self._dir / "podman.sock"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = self._dir / "service.log"
        self._started = 0.0

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 20.0) -> None:
        # buildah keeps its per-build scratch directories in TMPDIR and leaves them behind when the
        # service is stopped mid-build; giving it a TMPDIR inside our directory removes them with it.
        scratch = self._dir / "tmp"
        scratch.mkdir()
        env = {**self._env, "TMPDIR": str(scratch)}
        self._started = time.time() - 1  # the API reports creation times in whole seconds
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
        # Lets a later imgctl remove this directory once the service is gone (after a SIGKILL of imgctl,
        # the service exits on idle but nothing else would remove it).
        (self._dir / PID_FILE).write_text(f"{self._proc.pid}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self._proc.poll()
            if status is not None:
                output = self._log.read_text(errors="replace").strip()
                self.stop()
                raise EngineError(
                    f"`podman system service` exited with status {status}: {output[-800:] or 'no output'}",
                    hint="run `podman info` to see what podman itself reports",
                )
            if self.socket.exists():
                return
            time.sleep(0.01)
        self.stop()
        raise EngineError(f"`podman system service` did not open its socket within {timeout:.0f} s")

    def stop(self, interrupted: bool = False) -> None:
        """Stop the service and remove its directory. `interrupted`: a request may still be running."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            # A build's RUN process lives in a session of its own below the service, and survives the
            # service's exit; when we stop mid-build (Ctrl-C), it must not keep running unseen.
            for pid in _descendants(proc.pid):
                with suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if interrupted:
                self._await_build_cleanup()
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _await_build_cleanup(self, timeout: float = 5.0) -> None:
        """Let a cancelled build remove its working containers (`forcerm`) before the service is stopped.

        The service notices the dropped connection (or the killed RUN step) and cleans up by itself, but a
        SIGTERM before that leaves the working container in storage for good (measured: one per Ctrl-C).
        Only containers created since this service started are waited for: never the user's own.
        """
        engine = PodmanEngine(Endpoint(self.url, "private service"))
        try:
            deadline = time.monotonic() + timeout
            while engine.working_containers(self._started) and time.monotonic() < deadline:
                time.sleep(0.05)
        except EngineError as error:
            log.debug("cannot wait for the build's cleanup: %s", error)
        finally:
            engine.close()


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
def connect(url: str | None, env: Mapping[str, str] | None = None) -> Iterator[PodmanEngine]:
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
        engine = PodmanEngine(endpoint)
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
        raise EngineError(
            f"no Podman service answers at {url}", hint="check the URL, or leave out --url to let imgctl start one"
        )

    podman = shutil.which("podman", path=env.get("PATH"))
    if podman is None:
        raise EngineError("podman is not installed and no Podman service answers", hint=INSTALL_HINT)
    log.debug("no running service (%s); starting a private one", "; ".join(tried))
    service = PrivateService(podman, env)
    interrupted = False
    try:
        service.start()
        engine = PodmanEngine(Endpoint(service.url, "private service"))
        try:
            yield engine
        except BaseException:
            interrupted = True  # Ctrl-C, SIGTERM or an error mid-request: the service may still be working
            raise
        finally:
            engine.close()
    finally:
        service.stop(interrupted=interrupted)
