"""The registry's side of authentication: `WWW-Authenticate` challenges and bearer tokens.

The flow follows distribution's token spec and containers/image (`docker/docker_client.go`): the client asks
without credentials, reads the challenge of the 401, then either repeats with Basic auth or fetches a bearer
token from the challenge's realm. This module parses the challenge, builds the token request and keeps the
tokens; the client sends the requests. Tokens never reach a repr or a log line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# Tokens are renewed this long before they expire, so a request never leaves with a token that dies in
# flight.
TOKEN_EXPIRY_MARGIN = 5.0
DEFAULT_TOKEN_LIFETIME = 60.0  # the token spec's default when `expires_in` is missing
CLIENT_ID = "imgctl"


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
                return [*challenges, Challenge(scheme.group().lower(), params)]
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
                return [*challenges, Challenge(scheme.group().lower(), params)]
            pos = skip(pos, " \t,")
        challenges.append(Challenge(scheme.group().lower(), params))
    return challenges


# --------------------------------------------------------------------------------------------------
# Bearer tokens


@dataclass
class Token:
    value: str = field(repr=False)
    expires: float  # on the client's monotonic clock


@dataclass(frozen=True)
class TokenRequest:
    """The request that fetches a token: a POST of `data` (refresh-token grant) or a GET with `params`."""

    method: str
    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    data: Mapping[str, str] | None = field(default=None, repr=False)
    auth: tuple[str, str] | None = field(default=None, repr=False)


def valid_realm(realm: str) -> bool:
    return re.match(r"^https?://[^/\s]+", realm) is not None


def token_request(
    challenge: Challenge, scope: str | None, *, basic: tuple[str, str] | None, identity_token: str | None
) -> TokenRequest:
    """The token request for `challenge` and `scope`, with the credentials the client holds."""
    realm = challenge.params.get("realm", "")
    params = {"service": challenge.params["service"]} if challenge.params.get("service") else {}
    if scope:
        params["scope"] = scope
    if identity_token:
        # OAuth2 refresh-token grant, as containers/image does for identity tokens (docker login to ACR, ...).
        data = {"grant_type": "refresh_token", "refresh_token": identity_token, "client_id": CLIENT_ID, **params}
        return TokenRequest("POST", realm, data=data)
    if basic is not None:
        params["account"] = basic[0]
    return TokenRequest("GET", realm, params=params, auth=basic)


def token_from_answer(body: object, now: float) -> Token | None:
    """The token in a token server's JSON answer, valid until its lifetime minus a margin; None if none."""
    value = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(value, str) or not value:
        return None
    lifetime = body.get("expires_in")
    if not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool) or lifetime <= 0:
        lifetime = DEFAULT_TOKEN_LIFETIME
    margin = min(TOKEN_EXPIRY_MARGIN, float(lifetime) / 10)
    return Token(value, now + float(lifetime) - margin)


class TokenCache:
    """Tokens by (realm, service, scope), dropped once expired on `clock`."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._tokens: dict[tuple[str, str, str], Token] = {}

    @staticmethod
    def _key(challenge: Challenge, scope: str | None) -> tuple[str, str, str]:
        return (challenge.params.get("realm", ""), challenge.params.get("service", ""), scope or "")

    def get(self, challenge: Challenge, scope: str | None) -> str | None:
        key = self._key(challenge, scope)
        token = self._tokens.get(key)
        if token is not None and token.expires > self._clock():
            return token.value
        self._tokens.pop(key, None)
        return None

    def put(self, challenge: Challenge, scope: str | None, token: Token) -> None:
        self._tokens[self._key(challenge, scope)] = token

    def clear(self) -> None:
        self._tokens.clear()
