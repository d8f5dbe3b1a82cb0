"""`pull-secret`: a `kubernetes.io/dockerconfigjson` Secret with exactly the credentials the profile's push
repositories resolve to (podman's lookup: builder/registry/credentials.py), and nothing else from the auth
files.

The credentials go into the returned document and nowhere else: not into a log record, an error message, a
note or a repr. Errors name registries and files, never a value.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder.errors import AuthError
from builder.k8s.document import Request
from builder.registry.credentials import Credential, login_hint, lookup

# Docker Hub's credentials live under this key in a docker config: the one Kaniko (go-containerregistry) and
# `kubectl create secret docker-registry` use; a "docker.io" key is not found by Kaniko.
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_DOCKER_HUB = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


@dataclass(frozen=True)
class Entry:
    """One `auths` key of the Secret and the credential it holds (whose repr never shows the secret)."""

    key: str  # a registry host, or a repository when one registry needs two different credentials
    credential: Credential


def resolve(request: Request, env: Mapping[str, str], authfile: Path | None = None) -> tuple[list[Entry], list[str]]:
    """The credentials of every push repository, keyed as podman's auth.json keys them; AuthError (exit 3) when a
    repository has none. Returns the entries and the lookup's warnings (e.g. an auth file readable by others)."""
    profile = request.profile
    request.require_destinations("pull-secret")
    found = [lookup(repository, env=env, authfile=authfile) for repository in profile.push]
    missing = [item.reference for item in found if item.credential is None]
    if missing:
        raise AuthError(
            f"no credentials found for {', '.join(missing)}; the Secret would not let the cluster push there",
            hint=f"log in first: {login_hint(missing[0], authfile)}; `imgctl auth check {profile.name}` shows "
                 "where imgctl looked",
        )
    warnings = list(dict.fromkeys(text for item in found for text in item.warnings))
    by_registry: dict[str, list[tuple[str, Credential]]] = {}
    for item in found:
        assert item.credential is not None
        by_registry.setdefault(item.credential.registry, []).append((item.reference, item.credential))
    entries = []
    for registry, group in sorted(by_registry.items()):
        if len({_secret_of(credential) for _, credential in group}) == 1:
            entries.append(Entry(DOCKER_HUB_KEY if registry in _DOCKER_HUB else registry, group[0][1]))
        else:
            # Two repositories of one registry with different credentials (namespaced auth.json keys): keyed by
            # repository, which the kubelet and podman both match most specific first.
            group.sort(key=lambda item: item[0])
            entries += [Entry(reference, credential) for reference, credential in group]
    return entries, warnings


def _secret_of(credential: Credential) -> tuple[str | None, str | None, str | None]:
    return credential.username, credential.password, credential.identity_token


def docker_config(entries: Sequence[Entry]) -> str:
    """The `.dockerconfigjson` value: `auths` with username, password, auth (and identitytoken) per key."""
    auths: dict[str, dict[str, str]] = {}
    for entry in entries:
        credential = entry.credential
        item: dict[str, str] = {}
        if credential.username is not None and credential.password is not None:
            item["username"] = credential.username
            item["password"] = credential.password
            item["auth"] = base64.b64encode(f"{credential.username}:{credential.password}".encode()).decode("ascii")
        if credential.identity_token:
            item["identitytoken"] = credential.identity_token
        auths[entry.key] = item
    return json.dumps({"auths": auths}, separators=(",", ":"))


def secret(request: Request, entries: Sequence[Entry]) -> tuple[list[dict[str, Any]], list[str]]:
    config = docker_config(entries)
    document = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": request.metadata(request.secret_name),
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(config.encode()).decode("ascii")},
    }
    return [document], []
