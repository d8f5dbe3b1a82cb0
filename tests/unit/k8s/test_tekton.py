from __future__ import annotations

from collections.abc import Callable

import pytest

from builder.config.profile import Profile
from builder.errors import ConfigError
from builder.k8s.document import Request, dump
from builder.k8s.tekton import task_run
from tests.unit.k8s.conftest import GIT, SAMPLE, golden
from tests.unit.k8s.schemas import validate_text

# The buildah task cannot take the sample's label with a space in it; everything else it can.
TEKTON = SAMPLE.replace('    "org.example.quoted" = "it\'s $HOME"\n', '    "org.example.quoted" = "it\'s_$HOME"\n')


@pytest.fixture
def sample(load: Callable[..., Profile]) -> Request:
    return Request(load(TEKTON), GIT, namespace="builds")


def _params(request: Request) -> dict[str, object]:
    documents, _ = task_run(request)
    return {param["name"]: param["value"] for param in documents[0]["spec"]["params"]}


def test_task_run_matches_golden_and_validates(sample: Request) -> None:
    documents, notes = task_run(sample)
    text = dump(documents)
    golden("tekton.yaml", text)
    assert validate_text(text) == ["tekton"]
    assert documents[0]["spec"]["taskRef"]["params"][1] == {"name": "name", "value": "buildah"}
    # One IMAGE only: the other references are named, not silently dropped.
    assert any("not pushed by it" in note and "registry.example.com:5000/team/api:latest" in note for note in notes)
    # The description has spaces: the buildah task cannot take it, and says so.
    assert any("org.opencontainers.image.description is left out" in note for note in notes)


def test_the_buildah_task_parameters(sample: Request) -> None:
    params = _params(sample)
    assert params["IMAGE"] == "quay.io/team/api:1.2.3"
    assert params["DOCKERFILE"] == "./app/Containerfile"
    assert params["CONTEXT"] == "app"
    assert params["TLSVERIFY"] == "true"
    assert params["BUILD_ARGS"] == ["PYTHON=3.12", "ENABLE=yes"]
    extra = str(params["BUILD_EXTRA_ARGS"]).split(" ")
    assert "--target=runtime" in extra and "--platform=linux/arm64" in extra
    # The workspace's checkout is not known here: no revision claimed for it.
    assert not any("image.revision" in arg or "image.source" in arg for arg in extra)
    assert "--label=org.example.team=core" in extra and "--label=org.example.quoted=it's_$HOME" in extra


def test_tls_verify_follows_the_first_destination(load: Callable[..., Profile]) -> None:
    profile = load(TEKTON, "push=registry.example.com:5000/team/api")
    assert _params(Request(profile, GIT))["TLSVERIFY"] == "false"


def test_a_profile_label_the_task_would_split_is_refused(load: Callable[..., Profile]) -> None:
    profile = load(TEKTON, "labels.team=core team")
    with pytest.raises(ConfigError) as caught:
        task_run(Request(profile, GIT))
    assert caught.value.key == "labels.team"
    assert "splits BUILD_EXTRA_ARGS" in caught.value.message
    assert "kaniko-job" in (caught.value.hint or "")
