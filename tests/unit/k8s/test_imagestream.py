from __future__ import annotations

from collections.abc import Callable

from builder.config.profile import Profile
from builder.k8s.document import Request, dump
from builder.k8s.imagestream import image_stream
from tests.unit.k8s.conftest import GIT, SAMPLE, golden
from tests.unit.k8s.schemas import validate_text


def test_image_stream_matches_golden_and_validates(sample: Request) -> None:
    documents, notes = image_stream(sample)
    text = dump(documents)
    golden("imagestream.yaml", text)
    assert validate_text(text) == ["openshift"]
    tags = documents[0]["spec"]["tags"]
    # What `oc import-image --scheduled` sets: every tag imported from the pushed image, re-imported on schedule.
    assert [tag["from"] for tag in tags] == [{"kind": "DockerImage", "name": "quay.io/team/api:1.2.3"},
                                             {"kind": "DockerImage", "name": "quay.io/team/api:latest"}]
    assert all(tag["importPolicy"] == {"scheduled": True} for tag in tags)
    assert notes == ["the ImageStream imports from quay.io/team/api, the first of the profile's push repositories"]


def test_an_unverified_registry_is_imported_insecure(load: Callable[..., Profile]) -> None:
    profile = load(SAMPLE, "push=registry.example.com:5000/team/api")
    documents, notes = image_stream(Request(profile, GIT))
    assert all(tag["importPolicy"] == {"scheduled": True, "insecure": True} for tag in documents[0]["spec"]["tags"])
    assert notes == []
    validate_text(dump(documents))
