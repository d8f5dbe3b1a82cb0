from __future__ import annotations

from collections.abc import Callable

import pytest

from builder.config.profile import Profile
from builder.errors import ConfigError
from builder.k8s.buildconfig import build_config
from builder.k8s.document import Request, Source, dump
from tests.unit.k8s.conftest import COMMIT, GIT, PLAIN, SAMPLE, golden
from tests.unit.k8s.schemas import validate_text

# An S2I profile has no Containerfile of its own: imgctl generates it (and refuses a `containerfile` key).
S2I = PLAIN.replace('    containerfile = "app/Containerfile"\n', "").replace(
    '    version = "1.2.3"\n', '    version = "1.2.3"\n    strategy = "s2i"\n'
                    '    builder = "registry.access.redhat.com/ubi9/python-311"\n    incremental = true\n')


def test_docker_strategy_from_git_matches_golden_and_validates(load: Callable[..., Profile]) -> None:
    documents, _ = build_config(Request(load(PLAIN), GIT, namespace="builds"))
    text = dump(documents)
    golden("buildconfig.yaml", text)
    assert validate_text(text) == ["openshift", "openshift"]
    spec = documents[0]["spec"]
    assert spec["source"] == {"type": "Git", "git": {"uri": GIT.git_url, "ref": COMMIT}, "contextDir": "app"}
    assert spec["strategy"]["dockerStrategy"]["dockerfilePath"] == "Containerfile"
    assert spec["output"]["to"] == {"kind": "ImageStreamTag", "name": "api:1.2.3"}
    # The other tag follows the built one in the ImageStream the build outputs to.
    stream = documents[1]
    assert stream["kind"] == "ImageStream" and stream["metadata"]["name"] == "api"
    assert stream["spec"]["tags"] == [{"name": "latest", "from": {"kind": "ImageStreamTag", "name": "api:1.2.3"},
                                       "referencePolicy": {"type": "Local"}}]


def test_binary_source_without_git_or_on_request(load: Callable[..., Profile]) -> None:
    for request in (Request(load(PLAIN), Source()), Request(load(PLAIN), GIT, binary=True)):
        documents, _ = build_config(request)
        assert documents[0]["spec"]["source"] == {"type": "Binary", "binary": {}, "contextDir": "app"}
        labels = [label["name"] for label in documents[0]["spec"]["output"]["imageLabels"]]
        assert "org.opencontainers.image.revision" not in labels  # an upload is not the rendered commit
        validate_text(dump(documents))


def test_source_strategy_for_s2i_profiles(load: Callable[..., Profile]) -> None:
    documents, _ = build_config(Request(load(S2I), GIT))
    text = dump(documents)
    golden("buildconfig-s2i.yaml", text)
    assert validate_text(text) == ["openshift", "openshift"]
    strategy = documents[0]["spec"]["strategy"]
    assert strategy == {
        "type": "Source",
        "sourceStrategy": {
            "from": {"kind": "DockerImage", "name": "registry.access.redhat.com/ubi9/python-311"},
            "env": [{"name": "PYTHON", "value": "3.12"}, {"name": "ENABLE", "value": "yes"}],
            "incremental": True,
        },
    }


def test_platform_becomes_a_node_selector(load: Callable[..., Profile]) -> None:
    documents, _ = build_config(Request(load(SAMPLE, "target="), GIT))
    assert documents[0]["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64"}
    validate_text(dump(documents))


def test_a_target_is_refused_rather_than_built_to_the_last_stage(load: Callable[..., Profile]) -> None:
    with pytest.raises(ConfigError) as caught:
        build_config(Request(load(SAMPLE), GIT))
    assert caught.value.key == "target"
    assert "last stage" in caught.value.message


def test_a_containerfile_outside_the_context_is_refused(load: Callable[..., Profile]) -> None:
    profile = load(PLAIN, "context=app", "containerfile=app/Containerfile")
    assert build_config(Request(profile, GIT))  # inside: fine
    (profile.root / "Containerfile").write_text("FROM scratch\n")
    outside = load(PLAIN.replace('containerfile = "app/Containerfile"', 'containerfile = "Containerfile"'))
    with pytest.raises(ConfigError) as caught:
        build_config(Request(outside, GIT))
    assert caught.value.key == "containerfile"
