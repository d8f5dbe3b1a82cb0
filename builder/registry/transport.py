"""The HTTP transport to a registry: one requests session, connections that never dump headers, TLS
settings from containers-certs.d(5), and bounded body reads.

TLS follows containers-certs.d(5): `*.crt` files are extra CAs (added to the system ones, as containers/image
does), `NAME.cert` + `NAME.key` a client certificate. Our HTTP connections keep `http.client`'s header dump
off even when someone switched it on for the whole process: it would print the Authorization header.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import tempfile
import weakref
from collections.abc import Mapping
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
from builder.registry.failures import one_line

log = logging.getLogger("imgctl.registry")

# Manifests and token responses are small; containers/image caps manifests at 4 MiB. A larger body is
# not what we asked for, and reading it whole would let a broken server hold us.
MAX_BODY = 4 << 20


@dataclass(frozen=True)
class TLSConfig:
    verify: bool = True
    cert_dir: Path | None = None  # containers-certs.d(5) layout: *.crt = CAs; NAME.cert + NAME.key = client cert


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
            hint=(
                "cert_dir / --cert-dir names a directory holding the registry's CA as *.crt "
                "(containers-certs.d layout)"
            ),
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

