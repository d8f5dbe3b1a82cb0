"""A real Podman API service for the integration suite, with storage of its own.

The service runs `podman system service` on a socket in a temporary directory, with a containers.conf
(runc, ulimits this machine allows) and a storage.conf (vfs, graph root in the temporary directory) of
our own, so the tests never touch the machine's images or configuration. Base images are made locally
from the static busybox binary, because nothing can be pulled here.

In CI (`CI=true`) a missing podman fails the suite; elsewhere the integration tests are skipped.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

BASE_IMAGE = "localhost/imgctl-test/busybox:latest"
UBI_LIKE_IMAGE = "localhost/ubi9/ubi-minimal:9.4"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"integration tests need podman in CI: {reason}")
    pytest.skip(reason)


def _ping(socket_path: Path) -> bool:
    class UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(2)
            self.sock.connect(str(socket_path))

    try:
        conn = UnixConnection("localhost")
        conn.request("GET", "/_ping")
        return conn.getresponse().status == 200
    except OSError:
        return False


@dataclass
class PodmanService:
    root: Path
    socket: Path
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def podman(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["podman", *args], env=self.env, capture_output=True, text=True, check=check)

    def imgctl(
        self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run the real CLI in a subprocess, the way a user or a Makefile does."""
        run_env = {**self.env, "CONTAINER_HOST": self.url, **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "builder", *args],
            cwd=cwd,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def inspect(self, ref: str) -> dict:
        import json

        return json.loads(self.podman("image", "inspect", ref).stdout)[0]


def write_engine_config(directory: Path) -> dict[str, str]:
    """containers.conf and storage.conf of our own; returns the environment that selects them."""
    directory.mkdir(parents=True, exist_ok=True)
    containers_conf = directory / "containers.conf"
    containers_conf.write_text(
        '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]\n[engine]\nruntime = "runc"\n'
    )
    storage_conf = directory / "storage.conf"
    storage_conf.write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{directory / "storage"}"\nrunroot = "{directory / "run"}"\n'
    )
    env = dict(os.environ)
    env.update(
        CONTAINERS_CONF=str(containers_conf),
        CONTAINERS_STORAGE_CONF=str(storage_conf),
        # Our own runtime dir and home: no socket, auth file or certs.d of the developer's is picked up,
        # and the service reads CA directories from the same HOME as imgctl (see push._engine_trusts).
        XDG_RUNTIME_DIR=str(directory / "xdg-run"),
        HOME=str(directory / "home"),
    )
    for name in ("CONTAINER_HOST", "REGISTRY_AUTH_FILE", "DOCKER_CONFIG", "XDG_CONFIG_HOME"):
        env.pop(name, None)
    (directory / "xdg-run").mkdir(exist_ok=True, mode=0o700)
    (directory / "home").mkdir(exist_ok=True)
    return env


def make_busybox_image(service: PodmanService, tag: str, workdir: Path) -> None:
    busybox = shutil.which("busybox")
    if busybox is None:
        _unavailable("busybox (Debian package busybox-static) is not installed")
    context = workdir / f"base-{tag.replace('/', '_').replace(':', '_')}"
    context.mkdir(parents=True, exist_ok=True)
    shutil.copy(busybox, context / "busybox")
    (context / "Containerfile").write_text(
        'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
    )
    service.podman("build", "-q", "-t", tag, str(context))


@pytest.fixture(scope="session")
def podman_service(tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("podman") is None:
        _unavailable("podman is not installed")
    root = tmp_path_factory.mktemp("podman")
    env = write_engine_config(root / "config")
    sock = root / "podman.sock"
    log = open(root / "service.log", "wb")  # noqa: SIM115 -- the service writes to it until the session ends
    proc = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{sock}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while not (sock.exists() and _ping(sock)):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            _unavailable(f"podman system service did not start: {(root / 'service.log').read_text()[-2000:]}")
        time.sleep(0.02)
    service = PodmanService(root=root, socket=sock, env=env)
    try:
        make_busybox_image(service, BASE_IMAGE, root)
        yield service
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        # vfs layers can hold read-only directories; make them writable so the temp dir can go.
        subprocess.run(["chmod", "-R", "u+rwX", str(root)], check=False)
        shutil.rmtree(root, ignore_errors=True)
