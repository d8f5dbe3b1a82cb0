from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from builder.engine.service import candidate_endpoints


def urls(url: str | None, env: dict[str, str]) -> list[tuple[str, str]]:
    return [(e.url, e.source) for e in candidate_endpoints(url, env)]


def test_explicit_url_is_the_only_candidate() -> None:
    assert urls("/tmp/x.sock", {"CONTAINER_HOST": "unix:///y"}) == [("unix:///tmp/x.sock", "--url")]


def test_order_is_container_host_then_rootless_then_system() -> None:
    assert urls(None, {"CONTAINER_HOST": "unix:///a.sock", "XDG_RUNTIME_DIR": "/run/user/1000"}) == [
        ("unix:///a.sock", "CONTAINER_HOST"),
        ("unix:///run/user/1000/podman/podman.sock", "rootless socket"),
        ("unix:///run/podman/podman.sock", "system socket"),
    ]


def test_without_runtime_dir_only_the_system_socket() -> None:
    assert urls(None, {}) == [("unix:///run/podman/podman.sock", "system socket")]


def test_missing_podman_is_exit_4_with_an_install_hint(tmp_path: Path) -> None:
    if Path("/run/podman/podman.sock").exists():
        import pytest

        pytest.skip("a system podman socket exists on this machine")
    project = tmp_path / "p"
    (project / "profiles").mkdir(parents=True)
    (project / "Containerfile").write_text("FROM scratch\n")
    (project / "profiles" / "a.toml").write_text('image = "a"\n')
    env = {
        "PATH": str(tmp_path / "empty-bin"),
        "HOME": str(tmp_path),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }  # the code under test, not the installed copy
    done = subprocess.run(
        [sys.executable, "-m", "builder", "build", "a"], cwd=project, env=env, capture_output=True, text=True
    )
    assert done.returncode == 4, done.stderr
    assert "podman is not installed" in done.stderr
    assert "apt-get install podman" in done.stderr
    assert "Traceback" not in done.stderr


def _dead_pid() -> int:
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def test_stale_private_service_directories_are_removed_only_when_their_service_is_gone(tmp_path: Path) -> None:
    from builder.engine.service import DIRECTORY_PREFIX, PID_FILE, remove_stale_directories

    def directory(name: str, pid: int | None) -> Path:
        path = tmp_path / f"{DIRECTORY_PREFIX}{name}"
        (path / "tmp").mkdir(parents=True)
        if pid is not None:
            (path / PID_FILE).write_text(f"{pid}\n")
        return path

    dead = directory("dead", _dead_pid())
    reused = directory("reused", os.getpid())  # alive, but not a service of that directory
    starting = directory("starting", None)  # no pid file yet: a service may be starting right now
    live = directory("live", None)
    service = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "system", "service", f"unix://{live}/podman.sock"]
    )
    try:
        (live / PID_FILE).write_text(f"{service.pid}\n")
        other = tmp_path / "not-ours"
        other.mkdir()
        (other / PID_FILE).write_text(f"{_dead_pid()}\n")
        assert sorted(remove_stale_directories(tmp_path)) == sorted([dead, reused])
        assert not dead.exists() and not reused.exists()
        assert starting.exists() and live.exists() and other.exists()
    finally:
        service.kill()
        service.wait()


def test_stale_directories_of_another_user_are_left_alone(tmp_path: Path) -> None:
    import pytest

    from builder.engine.service import DIRECTORY_PREFIX, PID_FILE, remove_stale_directories

    if os.getuid() != 0:
        pytest.skip("only root can give a directory to another user")
    theirs = tmp_path / f"{DIRECTORY_PREFIX}theirs"
    theirs.mkdir()
    (theirs / PID_FILE).write_text(f"{_dead_pid()}\n")
    os.chown(theirs, 65534, 65534)
    assert remove_stale_directories(tmp_path) == []
    assert theirs.exists()


def test_the_private_service_never_inherits_the_callers_engine_settings(tmp_path: Path) -> None:
    from builder.engine.service import PrivateService

    recorder = tmp_path / "podman"
    seen = tmp_path / "env"
    # A stand-in for podman that records its environment and exits: the service's start fails, as wanted.
    recorder.write_text(f"#!/bin/sh\nenv > {seen}\nexit 3\n")
    recorder.chmod(0o755)
    env = {
        "PATH": "/usr/bin:/bin",
        "CONTAINER_HOST": "unix:///dead.sock",
        "CONTAINER_CONNECTION": "remote",
        "CONTAINER_SSHKEY": "/k",
        "CONTAINERS_CONF": "/etc/c.conf",
    }
    service = PrivateService(str(recorder), env)
    import pytest

    from builder.errors import EngineError

    with pytest.raises(EngineError):
        service.start(timeout=10)
    names = {line.split("=", 1)[0] for line in seen.read_text().splitlines()}
    assert "CONTAINERS_CONF" in names and "TMPDIR" in names
    assert not names & {"CONTAINER_HOST", "CONTAINER_CONNECTION", "CONTAINER_SSHKEY"}
