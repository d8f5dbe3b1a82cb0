from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from builder.engine.podman import candidate_endpoints


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
    env = {"PATH": str(tmp_path / "empty-bin"), "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    done = subprocess.run([sys.executable, "-m", "builder", "build", "a"], cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 4, done.stderr
    assert "podman is not installed" in done.stderr
    assert "apt-get install podman" in done.stderr
    assert "Traceback" not in done.stderr
