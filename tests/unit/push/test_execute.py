"""builder.push: the decisions that need no engine (the pushes themselves are integration tests)."""

from __future__ import annotations

import pytest

from builder.errors import AuthError, RegistryError
from builder.push.execute import Destination, PushEvent, _tag_in_registry
from builder.registry import MANIFEST_MEDIA_TYPES, Manifest

MANIFEST = Manifest(body=b"{}", media_type=MANIFEST_MEDIA_TYPES[1], digest="sha256:" + "ab" * 32)
DESTINATION = Destination("registry.example.com/team/app")


class Client:
    """Stands in for RegistryClient: serves `manifest` for the first tag; `fail` raises on the Nth put."""

    def __init__(self, manifest: Manifest | None = MANIFEST, fail: int | None = None, error: Exception | None = None) -> None:
        self.manifest = manifest
        self.fail = fail
        self.error = error or RegistryError("registry.example.com answered PUT with 405 Method Not Allowed")
        self.puts: list[str] = []

    def get_manifest(self, repository: str, reference: str) -> Manifest | None:
        assert (repository, reference) == ("team/app", "1.0")
        return self.manifest

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        if self.fail is not None and len(self.puts) == self.fail:
            raise self.error
        self.puts.append(tag)
        return manifest.digest


def test_later_tags_get_the_first_tags_manifest() -> None:
    events: list[PushEvent] = []
    client = Client()
    outcomes = _tag_in_registry(client, DESTINATION, "1.0", ["1", "latest"], events.append)  # type: ignore[arg-type]
    assert client.puts == ["1", "latest"]
    assert outcomes is not None and set(outcomes) == {"1", "latest"}
    assert all(attempts == 1 for attempts, _ in outcomes.values())
    assert [e.text for e in events if e.kind == "line"] == ["tagged in the registry (the manifest of :1.0)"] * 2


@pytest.mark.parametrize("error", [RegistryError("405"), AuthError("denied")])
def test_a_registry_that_refuses_leaves_the_tags_to_the_engine(error: Exception) -> None:
    client = Client(fail=1, error=error)
    assert _tag_in_registry(client, DESTINATION, "1.0", ["1", "latest"], lambda event: None) is None  # type: ignore[arg-type]
    assert client.puts == ["1"]


def test_a_first_tag_the_registry_does_not_serve_leaves_the_tags_to_the_engine() -> None:
    client = Client(manifest=None)
    assert _tag_in_registry(client, DESTINATION, "1.0", ["1"], lambda event: None) is None  # type: ignore[arg-type]
    assert client.puts == []
