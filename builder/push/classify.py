"""Sorting the engine's push errors: they arrive as text inside an HTTP 200 body, so they are sorted by
their text into credentials (exit 3), TLS (exit 6 with a cert_dir hint) and the rest (exit 6). Whether one is
worth another attempt is the retry policy's call (`builder.retry.is_transient_text`)."""

from __future__ import annotations

import re
from pathlib import Path

from builder.errors import AuthError, ImgctlError, RegistryError
from builder.push.destinations import Destination
from builder.registry.credentials import Lookup, login_hint

_AUTH_FAILURE = re.compile(
    r"unauthorized|authentication required|access to the resource is denied|denied:|\b401\b|\b403\b|forbidden", re.I
)
_TLS = re.compile(r"x509:|certificate|tls:", re.I)


def classify(error: str, destination: Destination, found: Lookup, authfile: Path | None) -> ImgctlError:
    text = short(error)
    if _AUTH_FAILURE.search(error):
        if found.credential is None:
            tried = "; ".join(found.tried) or "no auth file exists"
            return AuthError(
                f"{destination.registry} refused the push of {destination.repository}: no credentials found ({tried})",
                hint=f"log in first: {login_hint(destination.repository, authfile)}",
            )
        used = found.credential
        where = f"{used.source}" + (f", key {used.key}" if used.key else "")
        return AuthError(
            f"{destination.registry} refused the credentials for {destination.repository} from {where}: {text}",
            hint=f"log in again: {login_hint(destination.repository, authfile)}",
        )
    if _TLS.search(error):
        return RegistryError(
            f"TLS with {destination.registry} failed: {text}",
            hint=(
                f'give the registry\'s CA with --cert-dir DIR or cert_dir in [registries."{destination.registry}"], '
                "or (for a test registry only) tls_verify = false"
            ),
        )
    return RegistryError(f"pushing to {destination.repository} failed: {text}")


def short(error: str) -> str:
    """podman nests its causes; the first line carries all of them."""
    return error.strip().splitlines()[0][:500] if error.strip() else "unknown error"
