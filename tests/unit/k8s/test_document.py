from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from builder.config.profile import Profile
from builder.errors import ConfigError
from builder.k8s.document import NAME_MAX, Request, Source, dns_name, dump, relative
from tests.unit.k8s.conftest import COMMIT, GIT, SAMPLE


@pytest.mark.parametrize(
    ("profile", "name"),
    [
        ("api", "api"),
        ("API_v2.internal", "api-v2-internal"),
        ("--weird__name--", "weird-name"),
        ("ünïcode", "n-code"),
        ("___", "image"),
    ],
)
def test_dns_names_from_profile_names(profile: str, name: str) -> None:
    assert dns_name(profile) == name


def test_long_names_are_cut_with_a_hash_so_two_long_names_stay_apart() -> None:
    first, second = dns_name("a" * 80 + "-one"), dns_name("a" * 80 + "-two")
    assert len(first) <= NAME_MAX and len(second) <= NAME_MAX
    assert first != second
    assert first == dns_name("a" * 80 + "-one")  # deterministic


def test_paths_are_relative_to_the_project_root(tmp_path: Path) -> None:
    assert relative(tmp_path, tmp_path, "context") == "."
    assert relative(tmp_path, tmp_path / "a" / "b", "context") == "a/b"
    with pytest.raises(ConfigError, match="outside the project root"):
        relative(tmp_path / "project", tmp_path / "elsewhere", "context")


def test_request_paths_destinations_and_labels(sample: Request) -> None:
    assert sample.context == "app"
    assert sample.containerfile == "app/Containerfile"
    assert sample.containerfile_in_context == "Containerfile"
    assert sample.destinations == (
        "quay.io/team/api:1.2.3", "quay.io/team/api:latest",
        "registry.example.com:5000/team/api:1.2.3", "registry.example.com:5000/team/api:latest",
    )
    assert sample.labels == {
        "org.opencontainers.image.title": "api",
        "org.opencontainers.image.revision": COMMIT,
        "org.opencontainers.image.source": GIT.git_url,
        "org.opencontainers.image.version": "1.2.3",
        "org.opencontainers.image.description": "The API",
        "org.example.team": "core",
        "org.example.quoted": "it's $HOME",
    }
    assert sample.metadata() == {
        "name": "api", "namespace": "builds",
        "labels": {"app.kubernetes.io/name": "api", "app.kubernetes.io/managed-by": "imgctl"},
    }


def test_profile_labels_win_over_the_oci_labels(load: Callable[..., Profile]) -> None:
    request = Request(load(), Source(), None)
    assert "org.opencontainers.image.revision" not in request.labels  # no git: nothing to say
    overridden = Request(load(SAMPLE, "labels.org.opencontainers.image.title=custom"))
    assert overridden.labels["org.opencontainers.image.title"] == "custom"


def test_no_push_destinations_is_a_config_error_naming_the_key(load: Callable[..., Profile]) -> None:
    request = Request(load('image = "team/api"\ntags = ["1"]\ncontext = "app"\n'))
    with pytest.raises(ConfigError) as caught:
        request.require_destinations("kaniko-job")
    assert caught.value.key == "push"
    assert "--tar" in (caught.value.hint or "")


TRICKY = {
    "yes": "yes", "no": "NO", "on": "on", "null": "null", "tilde": "~", "float": "1.0", "int": "010",
    "octal": "0o17", "date": "2024-03-05", "colon": "a: b", "hash": "a #b", "lead": "-x", "star": "*x",
    "multi": "line one\nline two\n", "trailing": "spaces \n", "empty": "", "unicode": "héllo ✓",
    "number": 3, "bool": True, "list": ["", "x"], "nested": {"k": [{"a": "b"}]},
}


def test_dump_round_trips_through_a_yaml_parser_with_every_tricky_string() -> None:
    text = dump([TRICKY])
    assert yaml.safe_load(text) == TRICKY
    assert "multi: |" in text  # multi-line strings are literal blocks, readable as written
    assert "'yes': 'yes'" in text and "float: '1.0'" in text  # YAML 1.1 look-alikes stay strings


def test_dump_keeps_the_given_key_order_and_is_deterministic() -> None:
    document = {"z": 1, "a": {"y": 2, "b": 3}}
    text = dump([document])
    assert text == "z: 1\na:\n  y: 2\n  b: 3\n"
    assert dump([document]) == text


def test_several_documents_are_separated() -> None:
    text = dump([{"a": 1}, {"b": 2}])
    assert list(yaml.safe_load_all(text)) == [{"a": 1}, {"b": 2}]
    assert text.startswith("---\n")
