"""The `serve` fixture: scripted registries (tests/unit/registry/scripted.py), stopped after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

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
