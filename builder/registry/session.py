"""An authenticated, retried exchange with one registry: the base of `RegistryClient`.

The auth flow follows distribution's token spec and containers/image (`docker/docker_client.go`): ask
without credentials, read the `WWW-Authenticate` challenge of the 401, then either repeat with Basic auth or
fetch a bearer token from the realm and repeat with it (`builder.registry.challenge`). Every exchange goes
through the one retry policy (`builder.retry`) over the transport (`builder.registry.transport`).

Secrets (passwords, identity tokens, bearer tokens) never reach an exception message, a repr or a log line:
debug lines name methods, URLs and status codes only.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
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
from builder.registry.failures import describe_failure, one_line, status_text, tls_error, unreachable_hint
from builder.registry.transport import (
    MAX_BODY,
    TLSConfig,
    Transport,
    finish,
    read_json,
    registry_errors,
    url_for_message,
)

log = logging.getLogger("imgctl.registry")


class CredentialLike(Protocol):
    """What we need of `builder.registry.credentials.Credential`."""

    @property
    def username(self) -> str | None: ...

    @property
    def password(self) -> str | None: ...

    @property
    def identity_token(self) -> str | None: ...

    def basic_auth(self) -> tuple[str, str] | None: ...


class RegistrySession:
    """One registry: its host, credential, TLS settings, tokens and retry policy. Not thread-safe."""

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
        return f"{type(self).__name__}({self.registry!r}, tls_verify={self._tls.verify})"

    def close(self) -> None:
        self._transport.close()
        self._tokens.clear()

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
            request.method,
            request.url,
            params=request.params or None,
            data=request.data,
            auth=request.auth,
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
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str],
        auth: tuple[str, str] | None = None,
        body: bytes | None = None,
    ) -> requests.Response:
        """A request to the registry itself; the first one settles http vs https when TLS is not verified."""
        if self._scheme is None:
            try:
                response = self._exchange(
                    method, f"https://{self._api_host}{path}", headers=headers, auth=auth, data=body
                )
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
        return RegistryError(
            f"{self.registry} answered {what} with {status_text(response.status_code)}{registry_errors(response)}"
        )

