"""Secret-free descriptions of what went wrong talking to a registry, and the hint that fits each cause.

A message names the cause ("connection refused", "HTTP 503 (Service Unavailable)", "certificate verify
failed: ...") and never the request's headers or body. The hint says what to check: is the registry
running, the network or proxy, the registry's availability, or the TLS settings (cert_dir, tls_verify).
"""

from __future__ import annotations

import http
import re
import socket
import ssl
from collections.abc import Iterator

import requests
import urllib3.exceptions

from builder.errors import RegistryError


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
        if isinstance(
            cause, (requests.exceptions.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError)
        ) and not isinstance(cause, urllib3.exceptions.NewConnectionError):
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
    if re.search(
        r"wrong.version.number|record.layer.failure|http.request|unknown.protocol|packet.length.too.long",
        str(exc),
        re.I,
    ):
        return RegistryError(
            f"{registry} does not speak TLS on this port ({text})",
            hint=(
                f'if it is a plain-HTTP registry, set tls_verify = false in [registries."{registry}"] '
                "(or --tls-verify=false)"
            ),
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
        return f"{registry} answered {status_text(failure)}: the registry is unavailable; try again later"
    for cause in causes(failure):
        if isinstance(cause, ConnectionRefusedError):
            return f"nothing answers at {registry}: is the registry running, and are the host and port right?"
        if isinstance(cause, socket.gaierror):
            return f"check the registry host name {registry.rsplit(':', 1)[0]!r}, and your DNS"
    return (
        f"the connection to {registry} broke or timed out: check the network, and any proxy or firewall between "
        "you and the registry (HTTPS_PROXY, NO_PROXY), then try again"
    )


