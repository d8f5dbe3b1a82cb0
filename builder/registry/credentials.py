"""Registry credentials, found on the client the way podman 4.3.1 finds them (containers-auth.json(5)).

The podman API service never sees the caller's environment: it ignores REGISTRY_AUTH_FILE and reads its
own process's files. So imgctl resolves credentials itself and sends them with every request
(`X-Registry-Auth` on push, `X-Registry-Config` on build). The rules are those of containers/image v5.23.1
(`pkg/docker/config/config.go`), the version podman 4.3.1 vendors, plus Docker's `credsStore`, which podman
ignores. docs/auth.md explains them for users; comments here point at the Go code they copy.

Secrets (passwords, the base64 `auth` values, identity tokens) never reach a repr, an exception message, a
log record or a warning. Credential helpers' output is never shown, on success or failure, because it may
hold the secret.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.errors import ConfigError
from builder.oci import refs
from builder.registry.authfiles import (
    AuthEntry,
    AuthFile,
    auth_files,
    env_path,
    permission_warning,
    quote,
    read_auth_file,
)
from builder.registry.helpers import HELPER_PREFIX, TOKEN_USERNAME, run_helper

__all__ = [
    "Credential",
    "Lookup",
    "login_hint",
    "lookup",
    "x_registry_config",
]

log = logging.getLogger("imgctl.auth")

_DOCKER_HUB = "docker.io"
# normalizeRegistry() in config.go folds these into one; index.docker.io is the canonical spelling there.
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
# Docker stores Docker Hub credentials in its credsStore under this server URL, not under a host name.
_DOCKER_HUB_SERVER = "https://index.docker.io/v1/"


@dataclass(frozen=True)
class Credential:
    """Credentials for one registry, and where they came from. The secret is never part of repr()/str()."""

    registry: str  # host[:port] the credential is for
    username: str | None
    password: str | None = field(repr=False)
    identity_token: str | None = field(repr=False)
    source: str  # the file path, or "credential helper docker-credential-NAME"
    key: str | None  # the key matched in the file (None for helpers)

    # dataclass keeps a __repr__ the class defines itself; this one cannot show a secret even by accident.
    def __repr__(self) -> str:
        return (
            f"Credential(registry={self.registry!r}, username={self.username!r}, source={self.source!r}, "
            f"key={self.key!r}, secret=<redacted>)"
        )

    __str__ = __repr__

    def x_registry_auth(self) -> str:
        """The `X-Registry-Auth` header value, encoded as podman-py's `encode_auth_header` does.

        The JSON holds `username` and `password` when there are both, and `identitytoken` when there is one:
        the same DockerAuthConfig the podman CLI would build from the same file. (Podman's push endpoint
        uses only username and password; pull and build also use the token.)
        """
        return _encode_header(self._auth_config())

    def basic_auth(self) -> tuple[str, str] | None:
        """(username, password) for HTTP Basic or the token endpoint; None when only a token is known."""
        if self.username is None or self.password is None:
            return None
        return self.username, self.password

    def _auth_config(self) -> dict[str, str]:
        config: dict[str, str] = {}
        if self.username is not None and self.password is not None:
            config["username"] = self.username
            config["password"] = self.password
        if self.identity_token:
            config["identitytoken"] = self.identity_token
        return config


@dataclass(frozen=True)
class Lookup:
    """The outcome of `lookup`: the credential (or None) and a human account of how it was found."""

    reference: str  # what was looked up, normalised: "127.0.0.1:5000/team/api", "docker.io/library/alpine"
    credential: Credential | None
    tried: tuple[str, ...]  # one line per step, in order; never a secret
    warnings: tuple[str, ...]  # things the user should fix: readable auth files, a missing XDG_RUNTIME_DIR


def lookup(
    reference: str,
    *,
    env: Mapping[str, str] | None = None,
    authfile: Path | None = None,
    uid: int | None = None,
) -> Lookup:
    """Find the credentials podman 4.3.1 would use for `reference` (a repository, `host[:port]/path`).

    Raises ValueError for a reference without a registry host (or with a tag or digest), ConfigError
    (exit 2) for an auth file that is missing although named explicitly, unreadable, not JSON, or of the
    wrong shape, and AuthError (exit 3) when a credential helper is missing or fails. Finding nothing is
    not an error: `Lookup.credential` is None and `Lookup.tried` says where imgctl looked.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    normalized, host = _parse_reference(reference)
    search = _Search(normalized, host, environ)
    explicit_reason = (
        "--authfile"
        if authfile is not None
        else "$REGISTRY_AUTH_FILE"
        if env_path(environ, "REGISTRY_AUTH_FILE")
        else None
    )
    runtime_dir = env_path(environ, "XDG_RUNTIME_DIR")
    seen: set[Path] = set()
    for index, (path, legacy) in enumerate(auth_files(environ, authfile, uid)):
        primary = index == 0
        if primary and explicit_reason is not None and not path.exists():
            # podman push stats the --authfile (or its REGISTRY_AUTH_FILE default) first and fails on a miss.
            raise ConfigError(
                f"the auth file named by {explicit_reason} does not exist",
                file=path,
                hint=f"log in with `{login_hint(normalized, path)}`, which creates it",
            )
        if primary and explicit_reason is None and runtime_dir is not None and not runtime_dir.exists():
            # getPathToAuthWithOS: podman warns and skips the primary file rather than failing.
            search.note(f"{path}: not found ($XDG_RUNTIME_DIR directory {runtime_dir} does not exist)")
            search.warn(f"$XDG_RUNTIME_DIR directory {runtime_dir} does not exist; create it or unset XDG_RUNTIME_DIR")
            continue
        # The same file twice (DOCKER_CONFIG/config.json given as --authfile) cannot answer differently.
        identity = Path(os.path.abspath(path))
        if identity in seen:
            search.note(f"{path}: already searched")
            continue
        seen.add(identity)
        content = read_auth_file(path, legacy)
        if content is None:
            search.note(f"{path}: not found")
            continue
        if content.holds_secrets:
            warning = permission_warning(path)
            if warning is not None:
                search.warn(warning)
        credential = search.in_file(content)
        if credential is not None:
            return search.result(credential)
    return search.result(None)


def x_registry_config(lookups: Iterable[Lookup]) -> str:
    """The `X-Registry-Config` header for a build: credentials for pulling its (private) base images.

    A URL-safe base64 JSON map of registry -> {"username", "password"}: podman decodes it with Go's
    base64.URLEncoding, so standard base64 (with '+' and '/') would be rejected. When two repositories of
    one registry resolved to different credentials (namespaced keys), each is keyed by its repository
    instead, which podman 4.3.1 also accepts as an auth.json key. Lookups without a credential, and
    credentials with only an identity token (podman keeps only username and password from this header),
    are left out.

    Returns "" when nothing is left: do not send the header then. Podman answers 400 to an empty value,
    and an empty map would still replace the service's own primary auth file.
    """
    by_registry: dict[str, list[tuple[str, tuple[str, str]]]] = {}
    for found in lookups:
        pair = found.credential.basic_auth() if found.credential is not None else None
        if found.credential is not None and pair is not None:
            by_registry.setdefault(found.credential.registry, []).append((found.reference, pair))
    entries: dict[str, dict[str, str]] = {}
    for registry, group in by_registry.items():
        if len({pair for _, pair in group}) == 1:
            entries[registry] = {"username": group[0][1][0], "password": group[0][1][1]}
        else:
            for reference, (username, password) in group:
                entries[reference] = {"username": username, "password": password}
    if not entries:
        return ""
    return _encode_header(dict(sorted(entries.items())))


def login_hint(reference: str, authfile: Path | None) -> str:
    """The command that stores credentials where `lookup` finds them: `podman login HOST [--authfile FILE]`."""
    _, host = _parse_reference(reference)
    hint = f"podman login {quote(host)}"
    if authfile is not None:
        hint += f" --authfile {quote(str(authfile))}"
    return hint


# --- matching ---------------------------------------------------------------------------------------------


class _Search:
    """The state of one `lookup` call: what is looked up, and the account of it so far."""

    def __init__(self, reference: str, host: str, env: Mapping[str, str]) -> None:
        self.reference = reference
        self.host = host
        self.env = env
        self.tried: list[str] = []
        self.warnings: list[str] = []

    def note(self, line: str) -> None:
        self.tried.append(line)
        log.debug("credentials for %s: %s", self.reference, line)

    def warn(self, line: str) -> None:
        if line not in self.warnings:
            self.warnings.append(line)
            log.debug("credentials for %s: warning: %s", self.reference, line)

    def result(self, credential: Credential | None) -> Lookup:
        if credential is None:
            log.debug("no credentials for %s", self.reference)
        else:
            log.debug("credentials for %s: using %r", self.reference, credential)
        return Lookup(self.reference, credential, tuple(self.tried), tuple(self.warnings))

    def in_file(self, content: AuthFile) -> Credential | None:
        """findCredentialsInFile, then credsStore. None means: go on with the next file."""
        path = content.path
        # 1. credHelpers, by exact host. An entry decides for this file: `auths` is not read for the host,
        #    and a "not found" from the helper moves on to the next file (err is reset to nil in Go).
        helper = content.cred_helpers.get(self.host)
        if helper is not None:
            self.note(f"{path}: credHelpers sends {self.host} to {HELPER_PREFIX}{helper}")
            return self.ask_helper(helper, (self.host,), f'credHelpers."{self.host}" in {path}')

        # 2. Exact keys, most specific first (legacy files know hosts only); 3. the normalised fallback.
        keys = (self.host,) if content.legacy else _keys_most_specific_first(self.reference)
        match = next(((key, content.auths[key]) for key in keys if key in content.auths), None)
        if match is None:
            wanted = _normalize_registry(self.host)
            # Go ranges over a map here, so with several candidates podman picks one at random; the first in
            # the file is the deterministic choice.
            match = next(
                ((key, entry) for key, entry in content.auths.items() if _normalize_key(key, content.legacy) == wanted),
                None,
            )
        if match is None:
            self.note(f"{path}: no key for {self.reference}")
        else:
            # The first matching key decides for this file even when it is unusable: podman does not go on
            # to less specific keys, it goes on to the next file.
            credential = self.decode(content, *match)
            if credential is not None:
                self.note(f'{path}: found key "{match[0]}"')
                return credential

        # 4. Docker's credsStore (imgctl's addition): only when this file's own entries gave nothing, so
        #    imgctl never disagrees with podman where podman finds credentials. An empty `auths` entry is
        #    what `docker login` leaves there when the secret went to the store.
        if content.creds_store is not None:
            name = content.creds_store
            servers: tuple[str, ...] = (self.host,)
            if _normalize_registry(self.host) == _normalize_registry(_DOCKER_HUB):
                servers = (_DOCKER_HUB_SERVER, self.host)
            self.note(f"{path}: credsStore sends {self.host} to {HELPER_PREFIX}{name}")
            return self.ask_helper(name, servers, f"credsStore in {path}")
        return None

    def decode(self, content: AuthFile, key: str, entry: AuthEntry) -> Credential | None:
        """decodeDockerAuth: base64 `user:password`; an entry without that is skipped (token and all)."""
        path = content.path
        bad_base64 = False
        try:
            # Go's base64 decoder skips CR and LF; it is otherwise as strict as validate=True.
            decoded = base64.b64decode(entry.auth.replace("\r", "").replace("\n", ""), validate=True)
        except (binascii.Error, ValueError):
            bad_base64 = True
        if bad_base64:
            # containers/image returns this error and the pull or push fails; so does imgctl.
            raise ConfigError(
                'the "auth" value is not valid base64 (it should be base64 of user:password)',
                file=path,
                key=f'{"" if content.legacy else "auths."}"{key}".auth',
                hint=f"log in again with `{login_hint(self.reference, None)}`, or delete the entry",
            )
        username, colon, password = decoded.decode("utf-8", errors="replace").partition(":")
        if not colon:
            if decoded:
                self.note(f'{path}: key "{key}" has an "auth" value that is not user:password; skipped, as podman does')
            else:
                self.note(
                    f'{path}: key "{key}" has no "auth" value (a credential helper marker?); skipped, as podman does'
                )
            return None
        # strings.Trim(password, "\x00") in Go: NULs go from both ends.
        password = password.strip("\x00")
        token = entry.identity_token or None
        if not username and not password and token is None:
            # An all-empty DockerAuthConfig is "nothing found" to getCredentialsWithHomeDir.
            self.note(f'{path}: key "{key}" holds an empty user and password; skipped, as podman does')
            return None
        return Credential(self.host, username, password, token, str(path), key)

    def ask_helper(self, name: str, servers: tuple[str, ...], configured: str) -> Credential | None:
        program = HELPER_PREFIX + name
        for server in servers:
            answer = run_helper(name, server, self.env, self.host, configured)
            if answer is None:
                self.note(f"credential helper {program}: no credentials for {server}")
                continue
            username, secret = answer
            self.note(f"credential helper {program}: found credentials for {server}")
            if username == TOKEN_USERNAME:
                return Credential(self.host, None, None, secret, f"credential helper {program}", None)
            return Credential(self.host, username, secret, None, f"credential helper {program}", None)
        return None


# --- references and keys ----------------------------------------------------------------------------------


def _parse_reference(reference: str) -> tuple[str, str]:
    """(normalised reference, registry host); ValueError without a host, or with a tag or digest.

    Docker Hub is normalised as podman's reference parser does it, so the keys tried are the ones podman
    tries: index.docker.io/x -> docker.io/library/x.
    """
    refs.validate_repository(reference)
    if refs.normalize_repository(reference) != reference:
        raise ValueError(
            f"repository {reference!r} names no registry host: expected HOST[:PORT]/PATH, "
            "e.g. '127.0.0.1:5000/team/api' or 'docker.io/library/alpine'"
        )
    host, _, path = reference.partition("/")
    if host == "index.docker.io":
        host = _DOCKER_HUB
    if host == _DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return f"{host}/{path}", host


def _keys_most_specific_first(reference: str) -> tuple[str, ...]:
    """authKeysForKey: host/ns/sub/img, host/ns/sub, host/ns, host."""
    keys = [reference]
    while "/" in reference:
        reference = reference.rsplit("/", 1)[0]
        keys.append(reference)
    return tuple(keys)


def _normalize_registry(registry: str) -> str:
    return "index.docker.io" if registry in _DOCKER_HUB_ALIASES else registry


def _normalize_key(key: str, legacy: bool) -> str:
    """normalizeAuthFileKey: a URL key means a whole registry (`https://index.docker.io/v1/`)."""
    stripped = key.removeprefix("http://").removeprefix("https://")
    if legacy or stripped != key:
        stripped = stripped.split("/", 1)[0]
    return _normalize_registry(stripped)


def _encode_header(config: Mapping[str, Any]) -> str:
    # podman-py's encode_auth_header: urlsafe_b64encode(json.dumps(...)), padded; Go decodes URLEncoding.
    return base64.urlsafe_b64encode(json.dumps(config).encode("utf-8")).decode("ascii")
