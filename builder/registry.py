"""A small client for the registry (distribution) HTTP API: what imgctl itself asks a registry.

imgctl pushes through the podman service, but two questions it answers on its own: "are these credentials
good?" (`check_login`) and "which digest does the registry serve for this tag?" (`manifest_digest`; podman
4.3 reports none after a push, and the local digest differs from the registry's after recompression).
It also adds tags to a manifest the registry already has (`get_manifest` + `put_manifest`, as `crane tag`
and `skopeo copy` between tags of one repository do): every blob is already there, so a tag is one request.

The auth flow follows distribution's token spec and containers/image (`docker/docker_client.go`): ask
without credentials, read the `WWW-Authenticate` challenge of the 401, then either repeat with Basic auth or
fetch a bearer token from the realm and repeat with it. TLS follows containers-certs.d(5): `*.crt` files are
extra CAs, `NAME.cert` + `NAME.key` a client certificate.

Secrets (passwords, identity tokens, bearer tokens) never reach an exception message, a repr or a log line:
debug lines name methods, URLs and status codes only, and our HTTP connections keep `http.client`'s header
dump off even when someone switched it on for the whole process.
"""

from __future__ import annotations

import email.utils
import hashlib
import http
import ipaddress
import json
import logging
import os
import random
import re
import socket
import ssl
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import requests
import requests.adapters
import requests.utils
import urllib3
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions

from builder.errors import AuthError, ConfigError, ImgctlError, RegistryError

log = logging.getLogger("imgctl.registry")

MANIFEST_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)

_ACCEPT_MANIFESTS = {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}

# The longest Retry-After we wait for. A registry asking for more is in maintenance or rate-limiting us
# hard; sleeping minutes inside one command helps nobody, so we stop and say so.
MAX_RETRY_AFTER = 10.0
# One backoff delay never exceeds this, however many retries are asked for.
MAX_BACKOFF = 30.0
# Manifests and token responses are small; containers/image caps manifests at 4 MiB. A larger body is
# not what we asked for, and reading it whole would let a broken server hold us.
MAX_BODY = 4 << 20
# Tokens are renewed this long before they expire, so a request never leaves with a token that dies in
# flight.
TOKEN_EXPIRY_MARGIN = 5.0
DEFAULT_TOKEN_LIFETIME = 60.0  # the token spec's default when `expires_in` is missing
CLIENT_ID = "imgctl"

# distribution/reference grammar, without the host part
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY_RE = re.compile(rf"^{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_HOST_RE = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?$")

_PERMANENT_5XX = frozenset({501, 505})  # "not implemented" and "version not supported" do not heal


class CredentialLike(Protocol):
    """What we need of `builder.auth.Credential`."""

    @property
    def username(self) -> str | None: ...

    @property
    def password(self) -> str | None: ...

    @property
    def identity_token(self) -> str | None: ...

    def basic_auth(self) -> tuple[str, str] | None: ...


@dataclass(frozen=True)
class TLSConfig:
    verify: bool = True
    cert_dir: Path | None = None  # containers-certs.d(5) layout: *.crt = CAs; NAME.cert + NAME.key = client cert


@dataclass(frozen=True)
class Challenge:
    """One challenge of a `WWW-Authenticate` header; `scheme` is lower-case, parameter names too."""

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# WWW-Authenticate


_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BARE_VALUE_RE = re.compile(r"[^,\s]*")


def parse_www_authenticate(header: str) -> list[Challenge]:
    """Parse an RFC 7235 `WWW-Authenticate` value into its challenges.

    Tolerant of what registries send in practice (unquoted URLs, stray spaces and commas, several
    challenges in one header). A malformed tail ends the parse instead of raising: what came before it is
    still a usable answer. token68 credentials (`Negotiate abc==`) are not supported; registries use
    `Basic` and `Bearer` with parameters.
    """
    challenges: list[Challenge] = []
    end = len(header)

    def skip(i: int, chars: str) -> int:
        while i < end and header[i] in chars:
            i += 1
        return i

    pos = skip(0, " \t,")
    # Every round of both loops consumes at least one character or stops: bounded by the length.
    while pos < end:
        scheme = _TOKEN_RE.match(header, pos)
        if scheme is None:
            break
        pos = skip(scheme.end(), " \t")
        params: dict[str, str] = {}
        while pos < end:
            name = _TOKEN_RE.match(header, pos)
            if name is None:
                return challenges + [Challenge(scheme.group().lower(), params)]
            after = skip(name.end(), " \t")
            if after >= end or header[after] != "=":
                break  # a token without "=": the scheme of the next challenge
            pos = skip(after + 1, " \t")
            if pos < end and header[pos] == '"':
                chars: list[str] = []
                pos += 1
                while pos < end and header[pos] != '"':
                    if header[pos] == "\\" and pos + 1 < end:
                        pos += 1
                    chars.append(header[pos])
                    pos += 1
                pos += 1  # the closing quote (or past the end, when it is missing)
                value = "".join(chars)
            else:
                bare = _BARE_VALUE_RE.match(header, pos)
                value = bare.group() if bare else ""
                pos = bare.end() if bare else pos
            params[name.group().lower()] = value
            pos = skip(pos, " \t")
            if pos < end and header[pos] != ",":
                return challenges + [Challenge(scheme.group().lower(), params)]
            pos = skip(pos, " \t,")
        challenges.append(Challenge(scheme.group().lower(), params))
    return challenges


# --------------------------------------------------------------------------------------------------
# Retry policy, shared with the push code


def is_transient(exc_or_status: BaseException | int | requests.Response) -> bool:
    """True for failures worth retrying: connection refused or reset, timeouts, HTTP 5xx, 408 and 429.

    Never 401/403/404 (retrying cannot change the answer), nor TLS errors (a certificate does not become
    trusted by asking again), nor 501/505.
    """
    if isinstance(exc_or_status, requests.Response):
        exc_or_status = exc_or_status.status_code
    if isinstance(exc_or_status, bool):
        return False
    if isinstance(exc_or_status, int):
        status = exc_or_status
        return status in (408, 429) or (500 <= status <= 599 and status not in _PERMANENT_5XX)
    exc = exc_or_status
    # TLS first: requests' SSLError is a ConnectionError, and ssl.SSLError an OSError.
    if isinstance(exc, (requests.exceptions.SSLError, ssl.SSLError, urllib3.exceptions.SSLError)):
        return False
    if isinstance(exc, ImgctlError):
        return False  # already classified (and, for RegistryError, already retried): no retry storm
    return isinstance(
        exc,
        (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.ProtocolError,
            urllib3.exceptions.TimeoutError,
            urllib3.exceptions.NewConnectionError,
            ConnectionError,  # refused, reset, aborted, broken pipe
            TimeoutError,  # socket.timeout too
        ),
    )


def retry_delays(retries: int, backoff: float, rng: Callable[[], float], *, cap: float = MAX_BACKOFF) -> Iterator[float]:
    """The waits before retry 1..`retries`: exponential backoff with full jitter.

    Full jitter (`backoff * 2**attempt * rng()`, rng in [0, 1)) spreads clients that failed together, so
    they do not return together. Exactly `retries` values: an exhausted iterator means "give up".
    """
    for attempt in range(max(0, retries)):
        yield min(cap, backoff * (2**attempt)) * rng()


def retry_after_seconds(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """A `Retry-After` header in seconds (it may be a number or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now())


def describe_failure(exc_or_status: BaseException | int) -> str:
    """A short, secret-free cause: "HTTP 503 (Service Unavailable)", "connection refused", ..."""
    if isinstance(exc_or_status, int):
        return _status_text(exc_or_status)
    for cause in _causes(exc_or_status):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"certificate verify failed: {cause.verify_message}"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset by peer"
        if isinstance(cause, BrokenPipeError):
            return "connection closed during the request (broken pipe)"
        if isinstance(cause, (requests.exceptions.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError)) and not isinstance(
            cause, urllib3.exceptions.NewConnectionError
        ):
            return "timed out connecting"
        if isinstance(cause, (requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError)):
            return "timed out waiting for an answer"
        if isinstance(cause, socket.gaierror):
            return f"host name not resolved ({cause.strerror})"
        if type(cause).__name__ == "RemoteDisconnected":
            return "connection closed without an answer"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {cause.reason or cause}"
    return _one_line(str(exc_or_status)) or type(exc_or_status).__name__


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it wraps: __cause__/__context__, urllib3's `reason`, requests' first arg. Bounded."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 32:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (
            getattr(current, "reason", None),
            current.__cause__,
            current.__context__,
            *(a for a in getattr(current, "args", ()) if isinstance(a, BaseException)),
        ):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def _status_text(status: int) -> str:
    try:
        return f"HTTP {status} ({http.HTTPStatus(status).phrase})"
    except ValueError:
        return f"HTTP {status}"


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------------
# Transport: connections that never dump headers


class _QuietHTTPConnection(urllib3.connection.HTTPConnection):
    # `http.client.HTTPConnection.debuglevel = 1` (a common "debug requests" recipe) prints every header,
    # Authorization included, to stdout. Our own class attribute wins over the base class's.
    debuglevel = 0


class _QuietHTTPSConnection(urllib3.connection.HTTPSConnection):
    debuglevel = 0


class _QuietHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _QuietHTTPConnection


class _QuietHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _QuietHTTPSConnection


class _QuietAdapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().init_poolmanager(*args, **kwargs)
        # A new dict: urllib3's default mapping is shared by every PoolManager in the process.
        self.poolmanager.pool_classes_by_scheme = {"http": _QuietHTTPPool, "https": _QuietHTTPSPool}

    def proxy_manager_for(self, proxy, **proxy_kwargs):  # type: ignore[no-untyped-def]
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = {"http": _QuietHTTPPool, "https": _QuietHTTPSPool}
        return manager


# --------------------------------------------------------------------------------------------------
# containers-certs.d


@dataclass(frozen=True)
class _CertDirContents:
    cas: tuple[Path, ...]
    client_cert: tuple[Path, Path] | None


def _read_cert_dir(cert_dir: Path) -> _CertDirContents:
    if not cert_dir.is_dir():
        raise ConfigError(
            f"{cert_dir} is not a directory",
            key="cert_dir",
            hint="cert_dir / --cert-dir names a directory holding the registry's CA as *.crt (containers-certs.d layout)",
        )
    cas: list[Path] = []
    certs: dict[str, Path] = {}
    keys: dict[str, Path] = {}
    try:
        entries = sorted(cert_dir.iterdir())
    except OSError as exc:
        raise ConfigError(f"cannot read {cert_dir}: {exc.strerror}", key="cert_dir") from exc
    for entry in entries:
        if not entry.is_file():
            continue
        if entry.suffix == ".crt":
            cas.append(entry)
        elif entry.suffix == ".cert":
            certs[entry.stem] = entry
        elif entry.suffix == ".key":
            keys[entry.stem] = entry
    # containers/image refuses half pairs, and so do we: a lone .cert is usually a CA named wrongly.
    for stem in sorted(set(certs) ^ set(keys)):
        have, missing = (certs[stem], f"{stem}.key") if stem in certs else (keys[stem], f"{stem}.cert")
        raise ConfigError(
            f"{have} has no matching {missing} in {cert_dir}",
            key="cert_dir",
            hint="a client certificate is a NAME.cert + NAME.key pair; CA certificates use the extension .crt",
        )
    pairs = sorted(set(certs) & set(keys))
    if len(pairs) > 1:
        # requests presents one client certificate; Go would offer the one the server's CA list picks.
        log.debug("%s holds %d client certificates; using %s.cert", cert_dir, len(pairs), pairs[0])
    client = (certs[pairs[0]], keys[pairs[0]]) if pairs else None
    return _CertDirContents(tuple(cas), client)


def _write_ca_bundle(cas: tuple[Path, ...]) -> str:
    """System CAs (the ones requests trusts by default) plus `cas`, in one file; returns its path.

    containers/image adds cert_dir CAs to the system pool, it does not replace it: do the same.
    """
    parts: list[bytes] = []
    default_bundle = requests.utils.DEFAULT_CA_BUNDLE_PATH
    try:
        parts.append(Path(default_bundle).read_bytes())
    except OSError as exc:
        log.debug("cannot read the default CA bundle %s: %s", default_bundle, exc)
    for ca in cas:
        try:
            data = ca.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read {ca}: {exc.strerror}", key="cert_dir") from exc
        if b"-----BEGIN CERTIFICATE-----" not in data:
            log.debug("%s holds no PEM certificate; ignored", ca)
            continue
        parts.append(data)
    fd, path = tempfile.mkstemp(prefix="imgctl-ca-", suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(b"\n".join(part.rstrip(b"\n") + b"\n" for part in parts))
    except BaseException:
        os.unlink(path)
        raise
    return path


def _remove_file(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# --------------------------------------------------------------------------------------------------
# The client


@dataclass(frozen=True)
class Manifest:
    """A manifest exactly as the registry stores it: the same bytes give the same digest under any tag."""

    body: bytes = field(repr=False)
    media_type: str
    digest: str


@dataclass
class _Token:
    value: str = field(repr=False)
    expires: float  # on the client's monotonic clock


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
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        registry = registry.strip().rstrip("/")
        if not _HOST_RE.match(registry):
            raise ConfigError(f"{registry!r} is not a registry host", hint="expected HOST or HOST:PORT, without scheme or path")
        self.registry = registry
        # docker.io is a name, not a server: its API lives at registry-1.docker.io (as in containers/image).
        self._api_host = "registry-1.docker.io" if registry in ("docker.io", "index.docker.io") else registry
        self._credential = credential
        self._tls = tls
        self._retries = max(0, retries)
        self._timeout = timeout
        self._backoff = backoff
        self._sleep = sleep
        self._rng = rng
        self._clock = clock
        # None until the first answer tells us; with verify on it is always https.
        self._scheme: str | None = "https" if tls.verify else None
        self._basic_known = False  # the registry answered a Basic challenge before: send credentials at once
        self._bearer: Challenge | None = None  # the last Bearer challenge: realm and service for new scopes
        self._tokens: dict[tuple[str, str, str], _Token] = {}

        self._session = requests.Session()
        # No .netrc credentials, no REQUESTS_CA_BUNDLE replacing cert_dir; proxies are read per request.
        self._session.trust_env = False
        self._session.max_redirects = 5
        adapter = _QuietAdapter(max_retries=0)  # retries are ours, with backoff and a policy
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._verify: bool | str = tls.verify
        self._bundle_cleanup: weakref.finalize | None = None
        if tls.cert_dir is not None:
            contents = _read_cert_dir(Path(tls.cert_dir))
            if contents.client_cert:
                self._session.cert = (str(contents.client_cert[0]), str(contents.client_cert[1]))
            if tls.verify and contents.cas:
                bundle = _write_ca_bundle(contents.cas)
                self._verify = bundle
                # Removed on close(), or when the client is collected if close() is never called.
                self._bundle_cleanup = weakref.finalize(self, _remove_file, bundle)

    def __repr__(self) -> str:
        return f"RegistryClient({self.registry!r}, tls_verify={self._tls.verify})"

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()
        self._tokens.clear()
        if self._bundle_cleanup is not None:
            self._bundle_cleanup()

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
            _finish(response)

    def manifest_digest(self, repository: str, tag: str) -> str | None:
        """The registry's digest for `repository:tag` (repository without the host); None if there is none."""
        _check_repository(repository)
        if not (_TAG_RE.match(tag) or _DIGEST_RE.match(tag)):
            raise ConfigError(f"{tag!r} is not a valid tag or digest", hint="a tag is up to 128 of [A-Za-z0-9_.-], not starting with . or -")
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
            _finish(response)
        if not digest:
            # Some registries (and proxies) drop the header on HEAD; the digest of the body is the answer.
            fetched = self._get_manifest(path, scope)
            if fetched is None:
                return None
            body, answer = fetched
            digest = answer.get("Docker-Content-Digest", "").strip() or "sha256:" + hashlib.sha256(body).hexdigest()
        if not _DIGEST_RE.match(digest):
            raise RegistryError(f"{self.registry} sent an invalid digest for {repository}:{tag}: {_one_line(digest, 100)!r}")
        return digest

    def get_manifest(self, repository: str, reference: str) -> Manifest | None:
        """The manifest `repository:reference` names, as stored; None if there is none."""
        _check_repository(repository)
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
            raise RegistryError(f"{self.registry} sent a manifest of an unknown type for {repository}:{reference}: {_one_line(media_type, 100)!r}")
        return Manifest(body=body, media_type=media_type, digest=digest)

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        """Store `manifest` under `repository:tag`; returns the digest the registry reports."""
        _check_repository(repository)
        if not _TAG_RE.match(tag):
            raise ConfigError(f"{tag!r} is not a valid tag", hint="a tag is up to 128 of [A-Za-z0-9_.-], not starting with . or -")
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
            _finish(response)

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
            token = self._cached_token(self._bearer, scope)
            if token is None:
                token = self._fetch_token(self._bearer, scope)
                token_is_fresh = True
            extra, how = {"Authorization": f"Bearer {token}"}, "bearer"

        response = self._request(method, path, headers={**headers, **extra}, auth=auth, body=body)
        # Each round answers one challenge; a registry cannot make us go round more than this.
        for _ in range(3):
            if response.status_code == 403:
                _finish(response)
                raise self._refused(path, denied=True)
            if response.status_code != 401:
                return response, how
            header = response.headers.get("WWW-Authenticate", "")
            _finish(response)
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
        _finish(response)
        raise self._refused(path)

    def _basic_credentials(self) -> tuple[str, str] | None:
        if self._credential is None:
            return None
        return self._credential.basic_auth()

    def _cached_token(self, challenge: Challenge, scope: str | None) -> str | None:
        key = (challenge.params.get("realm", ""), challenge.params.get("service", ""), scope or "")
        token = self._tokens.get(key)
        if token is not None and token.expires > self._clock():
            return token.value
        self._tokens.pop(key, None)
        return None

    def _fetch_token(self, challenge: Challenge, scope: str | None, *, force: bool = False) -> str:
        realm = challenge.params.get("realm", "")
        service = challenge.params.get("service", "")
        key = (realm, service, scope or "")
        if not force and (cached := self._cached_token(challenge, scope)):
            return cached
        if not re.match(r"^https?://[^/\s]+", realm):
            raise RegistryError(f"{self.registry} named an invalid token realm: {_one_line(realm, 100)!r}")
        params = {"service": service} if service else {}
        if scope:
            params["scope"] = scope
        credential = self._credential
        identity_token = credential.identity_token if credential is not None else None
        if identity_token:
            # OAuth2 refresh-token grant, as containers/image does for identity tokens (docker login to ACR, ...).
            data = {"grant_type": "refresh_token", "refresh_token": identity_token, "client_id": CLIENT_ID, **params}
            response = self._exchange("POST", realm, data=data, what="token request")
        else:
            basic = self._basic_credentials()
            if basic is not None:
                params["account"] = basic[0]
            response = self._exchange("GET", realm, params=params, auth=basic, what="token request")
        try:
            if response.status_code in (401, 403):
                raise self._refused("token", token_server=realm)
            if response.status_code != 200:
                raise RegistryError(
                    f"the token server of {self.registry} ({_url_for_message(realm)}) answered "
                    f"{_status_text(response.status_code)}{_registry_errors(response)}"
                )
            body = _read_json(response, limit=MAX_BODY)
        finally:
            _finish(response)
        value = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise RegistryError(f"the token server of {self.registry} ({_url_for_message(realm)}) sent no token")
        lifetime = body.get("expires_in")
        if not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool) or lifetime <= 0:
            lifetime = DEFAULT_TOKEN_LIFETIME
        margin = min(TOKEN_EXPIRY_MARGIN, float(lifetime) / 10)
        self._tokens[key] = _Token(value, self._clock() + float(lifetime) - margin)
        log.debug("token for %s scope %s valid %ss", self.registry, scope or "-", lifetime)
        return value

    def _refused(self, path: str, *, denied: bool = False, token_server: str | None = None) -> AuthError:
        credential = self._credential
        where = f" ({_url_for_message(token_server)})" if token_server else ""
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
        delays = retry_delays(self._retries, self._backoff, self._rng)
        label = f"{what or method} {_url_for_message(url)}"
        attempt = 0
        # Bounded: retry_delays yields `retries` values, and each attempt is bounded by `timeout`.
        while True:
            attempt += 1
            failure: BaseException | int
            retry_after: float | None = None
            try:
                response = self._send(method, url, headers=headers, params=params, data=data, auth=auth)
            except requests.exceptions.SSLError as exc:
                raise self._tls_error(exc) from exc
            except (requests.exceptions.RequestException, OSError) as exc:
                if not is_transient(exc):
                    raise RegistryError(f"registry {self.registry}: {label} failed: {describe_failure(exc)}") from exc
                failure = exc
                log.debug("%s %s: %s (attempt %d)", method, _url_for_message(url), describe_failure(exc), attempt)
            else:
                log.debug("%s %s -> %d (attempt %d)", method, _url_for_message(url), response.status_code, attempt)
                if not is_transient(response.status_code):
                    return response
                failure = response.status_code
                if response.status_code in (429, 503):
                    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                _finish(response)
            delay = next(delays, None)
            if delay is None:
                raise RegistryError(
                    f"registry {self.registry}: {label} failed after {attempt} attempt{'s' if attempt > 1 else ''}: "
                    f"{describe_failure(failure)}",
                    hint=f"check that {self.registry} is up and reachable, then try again",
                ) from (failure if isinstance(failure, BaseException) else None)
            if retry_after is not None:
                if retry_after > MAX_RETRY_AFTER:
                    raise RegistryError(
                        f"registry {self.registry}: {label} answered {describe_failure(failure)} and asked to retry "
                        f"after {retry_after:.0f} s",
                        hint="the registry is rate-limiting or in maintenance; try again later",
                    )
                delay = max(delay, retry_after)
            log.debug("retrying %s %s in %.2f s", method, _url_for_message(url), delay)
            self._sleep(delay)

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        data: Mapping[str, str] | bytes | None,
        auth: tuple[str, str] | None,
    ) -> requests.Response:
        verify = self._verify if self._tls.verify else False
        # With verify off, urllib3 warns (InsecureRequestWarning). Silencing it here would mean changing
        # the process-wide warning filters from worker threads; the CLI decides that once, at startup.
        return self._session.request(
            method,
            url,
            headers=dict(headers or {}),
            params=params,
            data=data,
            auth=auth,
            verify=verify,
            proxies=_proxies_for(url),
            timeout=self._timeout,
            allow_redirects=method in ("GET", "HEAD"),
            stream=True,  # bodies are read with a size limit, never whole by requests
        )

    def _tls_error(self, exc: requests.exceptions.SSLError) -> RegistryError:
        verify_error = next((c for c in _causes(exc) if isinstance(c, ssl.SSLCertVerificationError)), None)
        if verify_error is not None:
            reason = verify_error.verify_message or "certificate verify failed"
            return RegistryError(
                f"the TLS certificate of {self.registry} is not trusted ({reason})",
                hint=(
                    "put the registry's CA certificate (*.crt) in a directory and pass it as cert_dir in the profile's "
                    f'[registries."{self.registry}"] table or with --cert-dir DIR (containers-certs.d layout); '
                    "for a test registry only, tls_verify = false turns verification off"
                ),
            )
        text = describe_failure(exc)
        if re.search(r"wrong.version.number|record.layer.failure|http.request|unknown.protocol|packet.length.too.long", str(exc), re.I):
            return RegistryError(
                f"{self.registry} does not speak TLS on this port ({text})",
                hint=f'if it is a plain-HTTP registry, set tls_verify = false in [registries."{self.registry}"] (or --tls-verify=false)',
            )
        return RegistryError(
            f"the TLS handshake with {self.registry} failed ({text})",
            hint="if the registry wants a client certificate, put NAME.cert + NAME.key in cert_dir",
        )

    def _unexpected(self, response: requests.Response, what: str) -> RegistryError:
        return RegistryError(f"{self.registry} answered {what} with {_status_text(response.status_code)}{_registry_errors(response)}")

    def _get_manifest(self, path: str, scope: str) -> tuple[bytes, Mapping[str, str]] | None:
        """GET a manifest: its body and the response headers, or None when the registry has none."""
        response, _ = self._authorized("GET", path, scope=scope, headers=_ACCEPT_MANIFESTS)
        try:
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise self._unexpected(response, f"GET {path}")
            return _read_limited(response, MAX_BODY), response.headers
        finally:
            _finish(response)


# --------------------------------------------------------------------------------------------------
# helpers


def _check_repository(repository: str) -> None:
    if not _REPOSITORY_RE.match(repository) or len(repository) > 255:
        first = repository.split("/", 1)[0]
        looks_like_host = "." in first or ":" in first or first == "localhost"
        raise ConfigError(
            f"{repository!r} is not a valid repository path",
            hint=(
                "give the path without the registry host, e.g. team/api"
                if looks_like_host
                else "lower-case letters, digits and separators (. _ __ -), components joined by /"
            ),
        )


def _finish(response: requests.Response, limit: int = 64 << 10) -> None:
    """Read what is left of a small body, then close: a fully read response returns its connection to
    the pool (one TCP and TLS handshake per client, not per request); a large one is cut instead."""
    try:
        size = 0
        for chunk in response.iter_content(chunk_size=16384):
            size += len(chunk)
            if size > limit:
                break
    except (requests.exceptions.RequestException, OSError, RuntimeError):
        pass  # already consumed, or the connection broke: closing is all that is left
    response.close()


def _proxies_for(url: str) -> dict[str, str]:
    """Proxies from the environment, except for loopback hosts (Go's http.ProxyFromEnvironment rule)."""
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return {} if loopback else requests.utils.get_environ_proxies(url)


def _url_for_message(url: str) -> str:
    """The URL without its query: token requests carry the account name there, and it adds nothing."""
    return url.split("?", 1)[0]


def _read_limited(response: requests.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > limit:
            raise RegistryError(f"{_url_for_message(response.url)} sent more than {limit} bytes; refusing to read on")
        chunks.append(chunk)
    return b"".join(chunks)


def _read_json(response: requests.Response, *, limit: int) -> object:
    raw = _read_limited(response, limit)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise RegistryError(f"{_url_for_message(response.url)} sent a body that is not JSON") from exc


def _registry_errors(response: requests.Response) -> str:
    """distribution's `{"errors": [{"code", "message"}]}`, as ": CODE: message; ..."; "" when absent."""
    if response.request is not None and response.request.method == "HEAD":
        return ""
    try:
        body = _read_json(response, limit=64 << 10)
    except RegistryError:
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    parts = []
    for item in errors[:3]:
        if isinstance(item, dict):
            parts.append(": ".join(str(item[k]) for k in ("code", "message") if item.get(k)))
    text = "; ".join(p for p in parts if p)
    return f": {_one_line(text, 300)}" if text else ""
