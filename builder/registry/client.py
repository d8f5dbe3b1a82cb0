"""A small client for the registry (distribution) HTTP API: what imgctl itself asks a registry.

imgctl pushes through the podman service, but two questions it answers on its own: "are these credentials
good?" (`check_login`) and "which digest does the registry serve for this tag?" (`manifest_digest`; podman
4.3 reports none after a push, and the local digest differs from the registry's after recompression).
It also adds tags to a manifest the registry already has (`get_manifest` + `put_manifest`, as `crane tag`
and `skopeo copy` between tags of one repository do): every blob is already there, so a tag is one request.

Authentication and retries are the session's (`builder.registry.session`); names are checked with the one
grammar of `builder.oci.refs`, so a tag the profile layer refuses is refused here too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from builder.errors import ConfigError, RegistryError
from builder.oci import refs
from builder.registry.failures import one_line
from builder.registry.session import RegistrySession
from builder.registry.transport import MAX_BODY, finish, read_limited

MANIFEST_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)

_ACCEPT_MANIFESTS = {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}


@dataclass(frozen=True)
class Manifest:
    """A manifest exactly as the registry stores it: the same bytes give the same digest under any tag."""

    body: bytes = field(repr=False)
    media_type: str
    digest: str


class RegistryClient(RegistrySession):
    """Talks to one registry. Not thread-safe: give each thread its own client (they are cheap)."""

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- public operations -----------------------------------------------------------------------

    def check_login(self) -> str:
        """GET /v2/ through the challenge flow; says how access was granted, or raises AuthError."""
        response, how = self._authorized("GET", "/v2/", scope=None, headers={})
        try:
            if response.status_code == 200:
                if how == "basic":
                    return "Basic auth accepted"
                if how == "bearer" and self._credential is not None:
                    return "bearer token accepted"
                return "anonymous access"  # no challenge, or an anonymous token sufficed
            if response.status_code == 404:
                raise RegistryError(
                    f"{self.registry} does not serve the registry API (GET /v2/ answered 404)",
                    hint="check the host and port: is this a container registry?",
                )
            raise self._unexpected(response, "GET /v2/")
        finally:
            finish(response)

    def manifest_digest(self, repository: str, tag: str) -> str | None:
        """The registry's digest for `repository:tag` (repository without the host); None if there is none."""
        _check_repository(repository)
        _check_tag(tag, digest_allowed=True)
        path = f"/v2/{repository}/manifests/{tag}"
        scope = f"repository:{repository}:pull"
        response, _ = self._authorized("HEAD", path, scope=scope, headers=_ACCEPT_MANIFESTS)
        try:
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise self._unexpected(response, f"HEAD {path}")
            digest = response.headers.get("Docker-Content-Digest", "").strip()
        finally:
            finish(response)
        if not digest:
            # Some registries (and proxies) drop the header on HEAD; the digest of the body is the answer.
            fetched = self._get_manifest(path, scope)
            if fetched is None:
                return None
            body, answer = fetched
            digest = answer.get("Docker-Content-Digest", "").strip() or "sha256:" + hashlib.sha256(body).hexdigest()
        if not _is_digest(digest):
            raise RegistryError(
                f"{self.registry} sent an invalid digest for {repository}:{tag}: {one_line(digest, 100)!r}"
            )
        return digest

    def get_manifest(self, repository: str, reference: str) -> Manifest | None:
        """The manifest `repository:reference` names, as stored; None if there is none."""
        _check_repository(repository)
        _check_tag(reference, digest_allowed=True)
        fetched = self._get_manifest(f"/v2/{repository}/manifests/{reference}", f"repository:{repository}:pull")
        if fetched is None:
            return None
        body, answer = fetched
        media_type = answer.get("Content-Type", "").split(";")[0].strip()
        announced = answer.get("Docker-Content-Digest", "").strip()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if announced and announced != digest:
            raise RegistryError(
                f"{self.registry} sent a manifest for {repository}:{reference} that does not match its digest"
            )
        if media_type not in MANIFEST_MEDIA_TYPES:
            raise RegistryError(
                f"{self.registry} sent a manifest of an unknown type for {repository}:{reference}: "
                f"{one_line(media_type, 100)!r}"
            )
        return Manifest(body=body, media_type=media_type, digest=digest)

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        """Store `manifest` under `repository:tag`; returns the digest the registry reports."""
        _check_repository(repository)
        _check_tag(tag, digest_allowed=False)
        path = f"/v2/{repository}/manifests/{tag}"
        response, _ = self._authorized(
            "PUT",
            path,
            scope=f"repository:{repository}:pull,push",
            headers={"Content-Type": manifest.media_type},
            body=manifest.body,
        )
        try:
            if response.status_code not in (200, 201):
                raise self._unexpected(response, f"PUT {path}")
            return response.headers.get("Docker-Content-Digest", "").strip() or manifest.digest
        finally:
            finish(response)

    def _get_manifest(self, path: str, scope: str) -> tuple[bytes, Mapping[str, str]] | None:
        """GET a manifest: its body and the response headers, or None when the registry has none."""
        response, _ = self._authorized("GET", path, scope=scope, headers=_ACCEPT_MANIFESTS)
        try:
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise self._unexpected(response, f"GET {path}")
            return read_limited(response, MAX_BODY), response.headers
        finally:
            finish(response)


def _check_repository(repository: str) -> None:
    """A repository path on the registry (no host): the grammar of `builder.oci.refs`."""
    try:
        refs.validate_repository_path(repository)
    except ValueError as exc:
        first = repository.split("/", 1)[0]
        looks_like_host = "." in first or ":" in first or first == "localhost"
        raise ConfigError(
            str(exc),
            hint=(
                "give the path without the registry host, e.g. team/api"
                if looks_like_host
                else "lower-case letters, digits and separators (. _ __ -), components joined by /"
            ),
        ) from None


def _check_tag(tag: str, *, digest_allowed: bool) -> None:
    try:
        refs.validate_tag(tag)
        return
    except ValueError as exc:
        problem = str(exc)
    if digest_allowed and _is_digest(tag):
        return
    raise ConfigError(
        problem if not digest_allowed else f"{tag!r} is not a valid tag or digest",
        hint="a tag is up to 128 of [A-Za-z0-9_.-], not starting with . or -",
    )


def _is_digest(text: str) -> bool:
    try:
        refs.validate_digest(text)
    except ValueError:
        return False
    return True

