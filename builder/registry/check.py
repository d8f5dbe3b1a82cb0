"""The verdict of `imgctl auth check` for one registry: accepted, refused, or unreachable.

Only the registry's own 401/403 means "refused" (exit 3, the credentials are at fault). A registry that
cannot be asked (nothing listening, a reset connection, a 5xx, a TLS mismatch) is "unreachable" (exit 6):
the credentials may be fine, and logging in again would not help. Each such error carries the hint for
its cause (see `builder.registry.failures`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from builder.errors import AuthError, RegistryError
from builder.registry.client import RegistryClient
from builder.registry.session import CredentialLike
from builder.registry.transport import TLSConfig

# `auth check` asks once more after a transient failure, quickly: it answers a question, it pushes nothing.
CHECK_RETRIES = 1
CHECK_BACKOFF = 0.2


@dataclass(frozen=True)
class LoginCheck:
    """One registry's answer. `error` is None when accepted; an AuthError when refused (401/403); a
    RegistryError when the registry could not be asked."""

    registry: str
    how: str | None  # "Basic auth accepted", "bearer token accepted", "anonymous access"
    error: AuthError | RegistryError | None

    @property
    def accepted(self) -> bool:
        return self.error is None

    @property
    def verdict(self) -> str:
        """The REGISTRY SAYS column: `accepted: ...`, `refused: ...` or `unreachable: ...`. Never a secret."""
        if self.error is None:
            return f"accepted: {self.how}"
        if isinstance(self.error, AuthError):
            return f"refused: {self.error}"
        return f"unreachable: {self.error}"


def check_login(
    registry: str,
    credential: CredentialLike | None,
    tls: TLSConfig,
    *,
    retries: int = CHECK_RETRIES,
    backoff: float = CHECK_BACKOFF,
) -> LoginCheck:
    """Ask `registry` whether it accepts `credential` (GET /v2/ through the challenge flow).

    Refusals and unreachable registries are returned, not raised, so every destination gets its row;
    `raise_for_failures` turns them into the exit code afterwards. A bad cert_dir still raises ConfigError.
    """
    with RegistryClient(registry, credential, tls, retries=retries, backoff=backoff) as client:
        try:
            return LoginCheck(registry, client.check_login(), None)
        except (AuthError, RegistryError) as error:
            return LoginCheck(registry, None, error)


def raise_for_failures(checks: Sequence[LoginCheck]) -> None:
    """Raise the error that decides the exit code: the first refusal (AuthError, exit 3), else the first
    unreachable registry (RegistryError, exit 6). A refusal wins because it is certain: the credentials
    must change whatever the other registries say."""
    refused = next((c.error for c in checks if isinstance(c.error, AuthError)), None)
    if refused is not None:
        raise refused
    unreachable = next((c.error for c in checks if c.error is not None), None)
    if unreachable is not None:
        raise unreachable
