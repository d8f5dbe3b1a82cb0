from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml

from builder.config.profile import Profile
from builder.k8s.document import Request, Source, dump
from builder.k8s.kaniko import KANIKO_IMAGE, job, kaniko_context
from tests.unit.k8s.conftest import COMMIT, GIT, PLAIN, SAMPLE, golden
from tests.unit.k8s.schemas import validate_text


def _args(request: Request) -> list[str]:
    documents, _ = job(request)
    return list(documents[0]["spec"]["template"]["spec"]["containers"][0]["args"])


def test_push_variant_matches_golden_and_validates(sample: Request) -> None:
    documents, notes = job(sample)
    text = dump(documents)
    golden("kaniko-job.yaml", text)
    assert validate_text(text) == ["kubernetes-validate"]
    assert notes == []


def test_push_variant_flags(sample: Request) -> None:
    args = _args(sample)
    assert args[:3] == [f"--context=git://git.example.com/team/api.git##{COMMIT}",
                        "--context-sub-path=app", "--dockerfile=Containerfile"]
    destinations = [a for a in args if a.startswith("--destination=")]
    assert destinations == [f"--destination={ref}" for ref in sample.destinations]
    assert "--cache=true" in args and "--target=runtime" in args and "--custom-platform=linux/arm64" in args
    assert "--build-arg=ENABLE=yes" in args and "--label=org.example.quoted=it's $HOME" in args
    # tls_verify = false for that registry, and only for it.
    assert "--skip-tls-verify-registry=registry.example.com:5000" in args
    assert not any("quay.io" in a for a in args if a.startswith("--skip-tls"))
    container = yaml.safe_load(dump(job(sample)[0]))["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == KANIKO_IMAGE
    assert container["volumeMounts"][0] == {"name": "registry-auth", "mountPath": "/kaniko/.docker", "readOnly": True}


def test_tarball_variant_pushes_nothing(sample: Request) -> None:
    request = Request(sample.profile, GIT, namespace="builds", tarball=True)
    documents, _ = job(request)
    text = dump(documents)
    golden("kaniko-job-tar.yaml", text)
    assert validate_text(text) == ["kubernetes-validate"]
    args = _args(request)
    assert "--no-push" in args and "--tar-path=/output/api.tar" in args
    assert "--cache=true" not in args  # no registry to keep cached layers in
    assert [a for a in args if a.startswith("--destination=")] == [
        "--destination=localhost/team/api:1.2.3", "--destination=localhost/team/api:latest"]


def test_without_git_the_context_comes_from_a_volume(load: Callable[..., Profile]) -> None:
    request = Request(load(PLAIN), Source())
    documents, _ = job(request)
    text = dump(documents)
    golden("kaniko-job-dir.yaml", text)
    assert validate_text(text) == ["kubernetes-validate"]
    args = _args(request)
    assert args[0] == "--context=dir:///workspace/app"
    assert not any(a.startswith(("--target", "--custom-platform", "--context-sub-path")) for a in args)


def test_no_cache_and_another_image(load: Callable[..., Profile]) -> None:
    request = Request(load(SAMPLE, "no_cache=true"), GIT, builder_image="registry.example.com/kaniko:fork")
    documents, _ = job(request)
    assert "--cache=true" not in _args(request)
    assert documents[0]["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/kaniko:fork"


def test_build_secrets_are_reported_not_dropped_silently(load: Callable[..., Profile]) -> None:
    profile = load(SAMPLE, "secrets.npmrc=app/Containerfile")
    _, notes = job(Request(profile, GIT))
    assert any("Kaniko has no build secrets" in note for note in notes)


@pytest.mark.parametrize(
    ("url", "context"),
    [
        ("https://github.com/acme/api.git", "git://github.com/acme/api.git"),
        ("https://gitlab.example.com:8443/g/s/api", "git://gitlab.example.com:8443/g/s/api"),
        ("ssh://git@github.com:22/acme/api.git", "git://github.com/acme/api.git"),
        ("git@github.com:acme/api.git", "git://github.com/acme/api.git"),
        ("/srv/git/api.git", None),
    ],
)
def test_kaniko_git_contexts(url: str, context: str | None) -> None:
    assert kaniko_context(url) == context
