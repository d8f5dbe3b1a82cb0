"""The HTTP transport to a registry: one requests session, connections that never dump headers, TLS
settings from containers-certs.d(5), bounded body reads, and secret-free descriptions of failures.

TLS follows containers-certs.d(5): `*.crt` files are extra CAs (added to the system ones, as containers/image
does), `NAME.cert` + `NAME.key` a client certificate. Our HTTP connections keep `http.client`'s header dump
off even when someone switched it on for the whole process: it would print the Authorization header.
"""

from __future__ import annotations

import http
import ipaddress
import json
import logging
import os
import re
import socket
import ssl
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters
import requests.utils
import urllib3
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions

from builder.errors import ConfigError, RegistryError

log = logging.getLogger("imgctl.registry")

# Manifests and token responses are small; containers/image caps manifests at 4 MiB. A larger body is
# not what we asked for, and reading it whole would let a broken server hold us.
MAX_BODY = 4 << 20


@dataclass(frozen=True)
class TLSConfig:
    verify: bool = True
    cert_dir: Path | None = None  # containers-certs.d(5) layout: *.crt = CAs; NAME.cert + NAME.key = client cert


# --------------------------------------------------------------------------------------------------
# Describing failures

def describe_failure(exc_or_status: BaseException | int) -> str:
    """A short, secret-free cause: "HTTP 503 (Service Unavailable)", "connection refused", ..."""
    if isinstance(exc_or_status, int):
        return status_text(exc_or_status)
    for cause in causes(exc_or_status):
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
    return one_line(str(exc_or_status)) or type(exc_or_status).__name__


def causes(exc: BaseException) -> Iterator[BaseException]:
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


def status_text(status: int) -> str:
    try:
        return f"HTTP {status} ({http.HTTPStatus(status).phrase})"
    except ValueError:
        return f"HTTP {status}"


def one_line(text: str, limit: int = 300) -> str:
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
# The session


class Transport:
    """One requests session to one registry, with its TLS settings. Not thread-safe (one per client)."""

    def __init__(self, tls: TLSConfig, *, timeout: float) -> None:
        self.tls = tls
        self._timeout = timeout
        self._session = requests.Session()
        # No .netrc credentials, no REQUESTS_CA_BUNDLE replacing cert_dir; proxies are read per request.
        self._session.trust_env = False
        self._session.max_redirects = 5
        adapter = _QuietAdapter(max_retries=0)  # retries are ours, with backoff and a policy (builder.retry)
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
                # Removed on close(), or when the transport is collected if close() is never called.
                self._bundle_cleanup = weakref.finalize(self, _remove_file, bundle)

    @property
    def ca_bundle(self) -> str | None:
        """The file of system CAs plus cert_dir's, while the transport is open; None when not needed."""
        return self._verify if isinstance(self._verify, str) else None

    def close(self) -> None:
        self._session.close()
        if self._bundle_cleanup is not None:
            self._bundle_cleanup()

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        data: Mapping[str, str] | bytes | None,
        auth: tuple[str, str] | None,
    ) -> requests.Response:
        """One request, no retry; the body is left unread (read it with `read_limited`, then `finish`)."""
        verify = self._verify if self.tls.verify else False
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


def tls_error(registry: str, exc: requests.exceptions.SSLError) -> RegistryError:
    """The RegistryError (exit 6) for a failed TLS handshake, with the setting that fixes it as the hint."""
    verify_error = next((c for c in causes(exc) if isinstance(c, ssl.SSLCertVerificationError)), None)
    if verify_error is not None:
        reason = verify_error.verify_message or "certificate verify failed"
        return RegistryError(
            f"the TLS certificate of {registry} is not trusted ({reason})",
            hint=(
                "put the registry's CA certificate (*.crt) in a directory and pass it as cert_dir in the profile's "
                f'[registries."{registry}"] table or with --cert-dir DIR (containers-certs.d layout); '
                "for a test registry only, tls_verify = false (--tls-verify=false) turns verification off"
            ),
        )
    text = describe_failure(exc)
    if re.search(r"wrong.version.number|record.layer.failure|http.request|unknown.protocol|packet.length.too.long", str(exc), re.I):
        return RegistryError(
            f"{registry} does not speak TLS on this port ({text})",
            hint=f'if it is a plain-HTTP registry, set tls_verify = false in [registries."{registry}"] (or --tls-verify=false)',
        )
    return RegistryError(
        f"the TLS handshake with {registry} failed ({text})",
        hint="if the registry wants a client certificate, put NAME.cert + NAME.key in cert_dir",
    )


def unreachable_hint(registry: str, failure: BaseException | int) -> str:
    """What to check when `registry` stayed unreachable: the hint depends on how it failed."""
    if isinstance(failure, int):
        if failure == 429:
            return f"{registry} is rate-limiting these requests; wait a while, then try again"
        return f"{registry} is unavailable ({status_text(failure)}); try again later"
    for cause in causes(failure):
        if isinstance(cause, ConnectionRefusedError):
            return f"nothing answers at {registry}: is the registry running, and are the host and port right?"
        if isinstance(cause, socket.gaierror):
            return f"check the registry host name {registry.rsplit(':', 1)[0]!r}, and your DNS"
    return (
        f"the connection to {registry} broke or timed out: check the network, and any proxy or firewall between "
        "you and the registry (HTTPS_PROXY, NO_PROXY), then try again"
    )


# --------------------------------------------------------------------------------------------------
# Responses


def registry_errors(response: requests.Response) -> str:
    """distribution's `{"errors": [{"code", "message"}]}`, as ": CODE: message; ..."; "" when absent."""
    if response.request is not None and response.request.method == "HEAD":
        return ""
    try:
        body = read_json(response, limit=64 << 10)
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
    return f": {one_line(text, 300)}" if text else ""


def finish(response: requests.Response, limit: int = 64 << 10) -> None:
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


def url_for_message(url: str) -> str:
    """The URL without its query: token requests carry the account name there, and it adds nothing."""
    return url.split("?", 1)[0]


def read_limited(response: requests.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > limit:
            raise RegistryError(f"{url_for_message(response.url)} sent more than {limit} bytes; refusing to read on")
        chunks.append(chunk)
    return b"".join(chunks)


def read_json(response: requests.Response, *, limit: int) -> Any:
    raw = read_limited(response, limit)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise RegistryError(f"{url_for_message(response.url)} sent a body that is not JSON") from exc


def _proxies_for(url: str) -> dict[str, str]:
    """Proxies from the environment, except for loopback hosts (Go's http.ProxyFromEnvironment rule)."""
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return {} if loopback else requests.utils.get_environ_proxies(url)
