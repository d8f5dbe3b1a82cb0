"""Fixtures: `serve` (scripted registries, scripted.py, stopped after each test) and `box` (a private
HOME, XDG_RUNTIME_DIR and PATH for the credential tests, sandbox.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.unit.registry.sandbox import Sandbox
from tests.unit.registry.scripted import Handler, ScriptedServer


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(handler: Handler) -> ScriptedServer:
        server = ScriptedServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    (tmp_path / "home").mkdir()
    (tmp_path / "run").mkdir()
    env = {
        "HOME": str(tmp_path / "home"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
    }
    return Sandbox(tmp_path, env)
