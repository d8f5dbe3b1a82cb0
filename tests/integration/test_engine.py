"""builder.engine against a real podman service: failures become imgctl errors with the engine's own
message, and the private service (its environment, its leftovers)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builder.engine.podman import Endpoint, PodmanEngine
from builder.errors import BuildError, EngineError
from tests.integration.conftest import BASE_IMAGE, PodmanService
from tests.trees import write_tree

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(podman_service: PodmanService):
    engine = PodmanEngine(Endpoint(podman_service.url, "test"))
    try:
        yield engine
    finally:
        engine.close()


def test_a_refused_tag_is_exit_5_with_the_engines_message(engine: PodmanEngine) -> None:
    image = engine.inspect_image(BASE_IMAGE)
    assert image is not None
    with pytest.raises(BuildError) as caught:
        engine.tag(image.id, "localhost/Not A Valid/Name", "x")
    assert caught.value.exit_code == 5
    assert str(caught.value).startswith(f"the engine refused tagging {image.id[:12]} as localhost/Not A Valid/Name:x: ")
    assert "invalid" in str(caught.value).lower()


def test_a_missing_image_is_none_and_its_export_is_refused(engine: PodmanEngine) -> None:
    assert engine.inspect_image("localhost/imgctl-it/never-built:1") is None
    with pytest.raises(BuildError) as caught:
        engine.save("localhost/imgctl-it/never-built:1", "oci-archive", io.BytesIO())
    assert "never-built" in str(caught.value) and caught.value.exit_code == 5


def test_an_engine_that_went_away_is_exit_4_for_every_call(tmp_path: Path) -> None:
    # A socket file nobody listens on: what a crashed service leaves behind.
    import socket

    path = tmp_path / "dead.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.close()
    gone = PodmanEngine(Endpoint(f"unix://{path}", "test"))
    calls = [
        lambda: gone.inspect_image(BASE_IMAGE),
        lambda: gone.tag("a" * 64, "localhost/x", "1"),
        lambda: gone.images_with_label("a", "b"),
        lambda: gone.save(BASE_IMAGE, "oci-archive", io.BytesIO()),
        lambda: gone.remove_image("localhost/x:1"),
        lambda: list(gone.build({"dockerfile": "Containerfile"}, b"")),
        lambda: list(gone.push("a", "localhost:1/x:1", auth_header=None, tls_verify=False)),
    ]
    for call in calls:
        with pytest.raises(EngineError) as caught:
            call()
        assert caught.value.exit_code == 4
        assert f"the engine at unix://{path} did not answer" in str(caught.value)
    gone.close()


def _no_system_socket() -> None:
    if Path("/run/podman/podman.sock").exists() and not os.environ.get("CI"):
        pytest.skip("a system podman socket exists here; imgctl would use it instead of a private service")


def small_project(root: Path, run: str = "RUN echo built") -> Path:
    return write_tree(
        root,
        {
            "Containerfile": f"FROM {BASE_IMAGE}\n{run}\n",
            "profiles/small.toml": 'image = "imgctl-it/small"\nno_cache = true\n',
        },
    )


def test_a_dead_container_host_falls_back_to_a_private_service(podman_service: PodmanService, tmp_path: Path) -> None:
    _no_system_socket()
    root = small_project(tmp_path / "dead-host")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    # A CONTAINER_HOST whose socket exists but does not answer: tried, then the private service is started.
    dead = tmp_path / "dead.sock"
    import socket

    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(dead))
    listener.close()
    done = podman_service.imgctl(
        "build", "small", cwd=root, env={"CONTAINER_HOST": f"unix://{dead}", "TMPDIR": str(tmp)}
    )
    assert done.returncode == 0, done.stderr
    assert "accepts at most" not in done.stderr
    assert list(tmp.iterdir()) == []


def _service_pids(directory: Path) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes()
        except OSError:
            continue
        if str(directory).encode() in args and b"service" in args.split(b"\0"):
            found.append(int(cmdline.parent.name))
    return found


def test_the_directory_of_a_sigkilled_run_is_removed_by_the_next_one(
    podman_service: PodmanService, tmp_path: Path
) -> None:
    _no_system_socket()
    marker = 700 + os.getpid() % 90
    root = small_project(tmp_path / "killed", f"RUN echo started && sleep {marker}")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**podman_service.env, "TMPDIR": str(tmp)}
    env.pop("CONTAINER_HOST", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "builder", "build", "small"], cwd=root, env=env, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "started" in line and "echo" not in line:
            break
    proc.kill()  # SIGKILL: no cleanup runs
    proc.wait(timeout=30)
    (stale,) = list(tmp.iterdir())
    # The service would exit on its own after its idle time; end it (and the RUN step) now instead.
    for pid in _service_pids(stale):
        try:
            os.killpg(pid, signal.SIGKILL)  # the service leads a session of its own, with its helpers
        except ProcessLookupError:
            pass
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes().replace(b"\0", b" ").strip() == f"sleep {marker}".encode():
                os.kill(int(cmdline.parent.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue
    deadline = time.monotonic() + 10
    while _service_pids(stale) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stale.exists()

    later = small_project(tmp_path / "later")
    done = subprocess.run(
        [sys.executable, "-m", "builder", "build", "small"],
        cwd=later,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert not stale.exists()
    assert list(tmp.iterdir()) == []
