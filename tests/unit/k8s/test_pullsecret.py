from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from builder.config.profile import Profile
from builder.errors import AuthError
from builder.k8s.document import Request, dump
from builder.k8s.kinds import BY_NAME, render
from builder.k8s.pullsecret import resolve, secret
from tests.unit.k8s.conftest import GIT, SAMPLE, golden
from tests.unit.k8s.schemas import validate_text

CANARY = "canary-PASSWORD-7f3a9c"
OTHER = "other-PASSWORD-unrelated"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def leaks(text: str) -> list[str]:
    """Every form in which the canary could show: plain, in a base64 `auth`, in the base64 Secret value."""
    return [form for form in (CANARY, b64(f"alice:{CANARY}"), b64(CANARY)) if form in text]


def auth_env(tmp_path: Path, auths: dict[str, Any]) -> dict[str, str]:
    run = tmp_path / "run"
    (run / "containers").mkdir(parents=True)
    (run / "containers" / "auth.json").write_text(json.dumps({"auths": auths}))
    (run / "containers" / "auth.json").chmod(0o600)
    (tmp_path / "home").mkdir()
    return {"HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": str(run), "PATH": "/usr/bin:/bin"}


AUTHS = {
    "quay.io": {"auth": b64(f"alice:{CANARY}")},
    "registry.example.com:5000": {"auth": b64("bob:bob-pass")},
    # Not the profile's: must stay out of the Secret.
    "docker.io": {"auth": b64(f"carol:{OTHER}")},
    "ghcr.io": {"auth": b64(f"dave:{OTHER}")},
}


def _decoded(text: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    return dict(json.loads(base64.b64decode(document["data"][".dockerconfigjson"])))


def test_secret_matches_golden_validates_and_holds_only_the_profiles_registries(
    sample: Request, tmp_path: Path
) -> None:
    env = auth_env(tmp_path, AUTHS)
    rendered = render(BY_NAME["pull-secret"], sample, env=env)
    golden("pull-secret.yaml", rendered.text)
    assert validate_text(rendered.text) == ["kubernetes-validate"]
    document = yaml.safe_load(rendered.text)
    assert document["type"] == "kubernetes.io/dockerconfigjson"
    assert document["metadata"]["name"] == "api-registry"
    assert _decoded(rendered.text) == {
        "auths": {
            "quay.io": {"username": "alice", "password": CANARY, "auth": b64(f"alice:{CANARY}")},
            "registry.example.com:5000": {"username": "bob", "password": "bob-pass", "auth": b64("bob:bob-pass")},
        }
    }
    assert OTHER not in base64.b64decode(document["data"][".dockerconfigjson"]).decode()
    # The rendered object's repr (a traceback, a debugger) never shows the secret.
    assert not leaks(repr(rendered))


def test_namespaced_credentials_of_one_registry_are_keyed_by_repository(
    load: Callable[..., Profile], tmp_path: Path
) -> None:
    env = auth_env(tmp_path, {"quay.io/team/api": {"auth": b64(f"alice:{CANARY}")},
                              "quay.io": {"auth": b64("bob:bob-pass")}})
    profile = load(SAMPLE, "push=quay.io/team/api", "push+=quay.io/other/api")
    entries, _ = resolve(Request(profile, GIT), env)
    assert [entry.key for entry in entries] == ["quay.io/other/api", "quay.io/team/api"]
    assert not leaks(repr(entries))


def test_one_credential_for_two_repositories_is_one_registry_key(load: Callable[..., Profile], tmp_path: Path) -> None:
    env = auth_env(tmp_path, AUTHS)
    profile = load(SAMPLE, "push=quay.io/team/api", "push+=quay.io/other/api")
    entries, _ = resolve(Request(profile, GIT), env)
    assert [entry.key for entry in entries] == ["quay.io"]


def test_identity_tokens_are_carried(load: Callable[..., Profile], tmp_path: Path) -> None:
    env = auth_env(tmp_path, {"quay.io": {"auth": b64("alice:pw"), "identitytoken": "tok-123"}})
    profile = load(SAMPLE, "push=quay.io/team/api")
    documents, _ = secret(Request(profile, GIT), resolve(Request(profile, GIT), env)[0])
    assert _decoded(dump(documents))["auths"]["quay.io"]["identitytoken"] == "tok-123"


def test_a_registry_without_credentials_is_an_auth_error_that_shows_no_secret(
    sample: Request, tmp_path: Path
) -> None:
    env = auth_env(tmp_path, {"quay.io": {"auth": b64(f"alice:{CANARY}")}})
    with pytest.raises(AuthError) as caught:
        render(BY_NAME["pull-secret"], sample, env=env)
    error = caught.value
    assert error.exit_code == 3
    assert "registry.example.com:5000/team/api" in error.message
    assert "podman login registry.example.com:5000" in (error.hint or "")
    assert not leaks(f"{error} {error.hint} {error!r} {error.__context__!r} {error.__cause__!r}")


def test_docker_hub_is_keyed_as_kaniko_and_kubectl_expect(load: Callable[..., Profile], tmp_path: Path) -> None:
    env = auth_env(tmp_path, {"docker.io": {"auth": b64("alice:pw")}})
    profile = load(SAMPLE, "push=docker.io/team/api")
    entries, _ = resolve(Request(profile, GIT), env)
    assert [entry.key for entry in entries] == ["https://index.docker.io/v1/"]
