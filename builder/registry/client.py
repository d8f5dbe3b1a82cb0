"""A small client for the registry (distribution) HTTP API: what imgctl itself asks a registry.

imgctl pushes through the podman service, but two questions it answers on its own: "are these credentials
good?" (`check_login`) and "which digest does the registry serve for this tag?" (`manifest_digest`; podman
4.3 reports none after a push, and the local digest differs from the registry's after recompression).
It also adds tags to a manifest the registry already has (`get_manifest` + `put_manifest`, as `crane tag`
and `skopeo copy` between tags of one repository do): every blob is already there, so a tag is one request.

The challenge flow and tokens are in `builder.registry.challenge`, the session and TLS in
`builder.registry.transport`, the retry policy in `builder.retry`; names are checked with the one grammar
of `builder.oci.refs`.

Secrets (passwords, identity tokens, bearer tokens) never reach an exception message, a repr or a log line:
debug lines name methods, URLs and status codes only.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import requests

from builder import retry
from builder.errors import AuthError, ConfigError, RegistryError
from builder.oci import refs
from builder.registry.challenge import (
    Challenge,
    TokenCache,
    parse_www_authenticate,
    token_from_answer,
    token_request,
    valid_realm,
)
from builder.registry.transport import (
    MAX_BODY,
    TLSConfig,
    Transport,
    describe_failure,
    finish,
    one_line,
    read_json,
    read_limited,
    registry_errors,
    status_text,
    tls_error,
    unreachable_hint,
    url_for_message,
)

log = logging.getLogger("imgctl.registry")

MANIFEST_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)

_ACCEPT_MANIFESTS = {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}


class CredentialLike(Protocol):
    """What we need of `builder.registry.credentials.Credential`."""

    @property
    def username(self) -> str | None: ...

    @property
    def password(self) -> str | None: ...

    @property
    def identity_token(self) -> str | None: ...

    def basic_auth(self) -> tuple[str, str] | None: ...


@dataclass(frozen=True)
class Manifest:
    """A manifest exactly as the registry stores it: the same bytes give the same digest under any tag."""

    body: bytes = field(repr=False)
    media_type: str
    digest: str


class RegistryClient:
    """Talks to one registry. Not thread-safe: give each thread its own client (they are cheap)."""

    def __init__(
        self,
        registry: str,
        credential: CredentialLike | None,
        tls: TLSConfig,
        *,
        retries: int = 3,
        timeout: float = 30.0,
        backoff: float = 0.5,
        sleep: Callable[[float], None] | None = None,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
        cancel: retry.Cancellation | None = None,
    ) -> None:
        registry = registry.strip().rstrip("/")
        try:
            refs.validate_domain(registry)
        except ValueError:
            raise ConfigError(
                f"{registry!r} is not a registry host", hint="expected HOST or HOST:PORT, without scheme or path"
            ) from None
        self.registry = registry
        # docker.io is a name, not a server: its API lives at registry-1.docker.io (as in containers/image).
        self._api_host = "registry-1.docker.io" if registry in ("docker.io", "index.docker.io") else registry
        self._credential = credential
        self._tls = tls
        # `sleep` None: the real clock, interruptible (by the signal in the main thread, by `cancel` anywhere).
        self._policy = retry.Policy(retries=max(0, retries), backoff=backoff, rng=rng, sleep=sleep, cancel=cancel)
        self._clock = clock
        # None until the first answer tells us; with verify on it is always https.
        self._scheme: str | None = "https" if tls.verify else None
        self._basic_known = False  # the registry answered a Basic challenge before: send credentials at once
        self._bearer: Challenge | None = None  # the last Bearer challenge: realm and service for new scopes
        self._tokens = TokenCache(clock)
        self._transport = Transport(tls, timeout=timeout)

    def __repr__(self) -> str:
        return f"RegistryClient({self.registry!r}, tls_verify={self._tls.verify})"

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()
        self._tokens.clear()

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
            raise RegistryError(f"{self.registry} sent an invalid digest for {repository}:{tag}: {one_line(digest, 100)!r}")
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
            raise RegistryError(f"{self.registry} sent a manifest for {repository}:{reference} that does not match its digest")
        if media_type not in MANIFEST_MEDIA_TYPES:
            raise RegistryError(f"{self.registry} sent a manifest of an unknown type for {repository}:{reference}: {one_line(media_type, 100)!r}")
        return Manifest(body=body, media_type=media_type, digest=digest)

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        """Store `manifest` under `repository:tag`; returns the digest the registry reports."""
        _check_repository(repository)
        _check_tag(tag, digest_allowed=False)
        path = f"/v2/{repository}/manifests/{tag}"
        response, _ = self._authorized(
            "PUT", path, scope=f"repository:{repository}:pull,push",
            headers={"Content-Type": manifest.media_type}, body=manifest.body,
        )
        try:
            if response.status_code not in (200, 201):
                raise self._unexpected(response, f"PUT {path}")
            return response.headers.get("Docker-Content-Digest", "").strip() or manifest.digest
        finally:
            finish(response)

    # ---- auth ------------------------------------------------------------------------------------

    def _authorized(
        self, method: str, path: str, *, scope: str | None, headers: Mapping[str, str], body: bytes | None = None
    ) -> tuple[requests.Response, str]:
        """Send a request, answering the registry's challenges; returns the response and how we got in.

        `how` is "anonymous", "basic" or "bearer". Raises AuthError for 401/403 we cannot get past.
        """
        auth: tuple[str, str] | None = None
        extra: dict[str, str] = {}
        how = "anonymous"
        token_is_fresh = False
        if self._basic_known and (creds := self._basic_credentials()):
            auth, how = creds, "basic"
        elif self._bearer is not None:
            # The realm is known from an earlier challenge: get the token for this scope up front.
            token = self._tokens.get(self._bearer, scope)
            if token is None:
                token = self._fetch_token(self._bearer, scope)
                token_is_fresh = True
            extra, how = {"Authorization": f"Bearer {token}"}, "bearer"

        response = self._request(method, path, headers={**headers, **extra}, auth=auth, body=body)
        # Each round answers one challenge; a registry cannot make us go round more than this.
        for _ in range(3):
            if response.status_code == 403:
                finish(response)
                raise self._refused(path, denied=True)
            if response.status_code != 401:
                return response, how
            header = response.headers.get("WWW-Authenticate", "")
            finish(response)
            challenges = parse_www_authenticate(header)
            bearer = next((c for c in challenges if c.scheme == "bearer"), None)
            basic = next((c for c in challenges if c.scheme == "basic"), None)
            if bearer is not None and bearer.params.get("realm"):
                if how == "bearer" and token_is_fresh:
                    raise self._refused(path, denied=bearer.params.get("error") == "insufficient_scope")
                # A cached token the registry no longer takes (revoked, clock skew): forget it, get another.
                self._bearer = bearer
                token = self._fetch_token(bearer, bearer.params.get("scope") or scope, force=True)
                token_is_fresh = True
                extra, auth, how = {"Authorization": f"Bearer {token}"}, None, "bearer"
            elif basic is not None:
                if how == "basic":
                    raise self._refused(path)
                creds = self._basic_credentials()
                if creds is None:
                    raise self._refused(path)
                self._basic_known = True
                extra, auth, how = {}, creds, "basic"
            else:
                raise AuthError(
                    f"{self.registry} answered 401 to {method} {path} without a challenge imgctl understands"
                    + (f" ({', '.join(sorted({c.scheme for c in challenges}))})" if challenges else ""),
                )
            response = self._request(method, path, headers={**headers, **extra}, auth=auth, body=body)
        finish(response)
        raise self._refused(path)

    def _basic_credentials(self) -> tuple[str, str] | None:
        if self._credential is None:
            return None
        return self._credential.basic_auth()

    def _fetch_token(self, challenge: Challenge, scope: str | None, *, force: bool = False) -> str:
        realm = challenge.params.get("realm", "")
        if not force and (cached := self._tokens.get(challenge, scope)):
            return cached
        if not valid_realm(realm):
            raise RegistryError(f"{self.registry} named an invalid token realm: {one_line(realm, 100)!r}")
        credential = self._credential
        request = token_request(
            challenge,
            scope,
            basic=self._basic_credentials(),
            identity_token=credential.identity_token if credential is not None else None,
        )
        response = self._exchange(
            request.method, request.url, params=request.params or None, data=request.data, auth=request.auth,
            what="token request",
        )
        try:
            if response.status_code in (401, 403):
                raise self._refused("token", token_server=realm)
            if response.status_code != 200:
                raise RegistryError(
                    f"the token server of {self.registry} ({url_for_message(realm)}) answered "
                    f"{status_text(response.status_code)}{registry_errors(response)}"
                )
            body = read_json(response, limit=MAX_BODY)
        finally:
            finish(response)
        token = token_from_answer(body, self._clock())
        if token is None:
            raise RegistryError(f"the token server of {self.registry} ({url_for_message(realm)}) sent no token")
        self._tokens.put(challenge, scope, token)
        log.debug("token for %s scope %s valid until %.0f", self.registry, scope or "-", token.expires)
        return token.value

    def _refused(self, path: str, *, denied: bool = False, token_server: str | None = None) -> AuthError:
        credential = self._credential
        where = f" ({url_for_message(token_server)})" if token_server else ""
        if credential is None:
            return AuthError(
                f"{self.registry} requires credentials{where}, and none were found",
                hint=f"log in first: podman login {self.registry}",
            )
        user = credential.username or ("an identity token" if credential.identity_token else "unknown user")
        source = getattr(credential, "source", None)
        origin = f" from {source}" if source else ""
        if denied:
            return AuthError(
                f"{self.registry} denied {user!s}{origin} access to {path}",
                hint="the credentials are valid but lack permission; check the repository name and your rights on it",
            )
        return AuthError(
            f"{self.registry}{where} refused the credentials of {user!s}{origin}",
            hint=f"log in again: podman login {self.registry}",
        )

    # ---- HTTP ------------------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, headers: Mapping[str, str], auth: tuple[str, str] | None = None,
        body: bytes | None = None,
    ) -> requests.Response:
        """A request to the registry itself; the first one settles http vs https when TLS is not verified."""
        if self._scheme is None:
            try:
                response = self._exchange(method, f"https://{self._api_host}{path}", headers=headers, auth=auth, data=body)
            except RegistryError as exc:
                if not isinstance(exc.__cause__, requests.exceptions.SSLError):
                    raise
                # Like containers/image for insecure registries: no TLS spoken there, so plain HTTP.
                log.debug("%s does not speak TLS; using http", self.registry)
                self._scheme = "http"
            else:
                self._scheme = "https"
                return response
        return self._exchange(method, f"{self._scheme}://{self._api_host}{path}", headers=headers, auth=auth, data=body)

    def _exchange(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | bytes | None = None,
        auth: tuple[str, str] | None = None,
        what: str | None = None,
    ) -> requests.Response:
        """One HTTP exchange with the retry policy. Returns any non-transient response; raises RegistryError."""
        label = f"{what or method} {url_for_message(url)}"

        def attempt(number: int) -> requests.Response | retry.Transient:
            try:
                response = self._transport.send(method, url, headers=headers, params=params, data=data, auth=auth)
            except requests.exceptions.SSLError as exc:
                raise tls_error(self.registry, exc) from exc
            except (requests.exceptions.RequestException, OSError) as exc:
                if not retry.is_transient(exc):
                    raise RegistryError(
                        f"registry {self.registry}: {label} failed: {describe_failure(exc)}",
                        hint=unreachable_hint(self.registry, exc),
                    ) from exc
                log.debug("%s %s: %s (attempt %d)", method, url_for_message(url), describe_failure(exc), number)
                return retry.Transient(exc)
            log.debug("%s %s -> %d (attempt %d)", method, url_for_message(url), response.status_code, number)
            if not retry.is_transient_status(response.status_code):
                return response
            retry_after = None
            if response.status_code in (429, 503):
                retry_after = retry.retry_after_seconds(response.headers.get("Retry-After"))
            finish(response)
            return retry.Transient(response.status_code, retry_after)

        def give_up(stop: retry.GiveUp) -> RegistryError:
            cause = stop.failure.cause
            if stop.retry_after is not None:
                return RegistryError(
                    f"registry {self.registry}: {label} answered {describe_failure(cause)} and asked to retry "
                    f"after {stop.retry_after:.0f} s",
                    hint="the registry is rate-limiting or in maintenance; try again later",
                )
            error = RegistryError(
                f"registry {self.registry}: {label} failed after {stop.attempts} "
                f"attempt{'s' if stop.attempts > 1 else ''}: {describe_failure(cause)}",
                hint=unreachable_hint(self.registry, cause),
            )
            error.__cause__ = cause if isinstance(cause, BaseException) else None
            return error

        def on_retry(failure: retry.Transient, number: int, delay: float) -> None:
            log.debug("retrying %s %s in %.2f s", method, url_for_message(url), delay)

        return retry.run(attempt, self._policy, give_up=give_up, on_retry=on_retry)

    def _unexpected(self, response: requests.Response, what: str) -> RegistryError:
        return RegistryError(f"{self.registry} answered {what} with {status_text(response.status_code)}{registry_errors(response)}")

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
