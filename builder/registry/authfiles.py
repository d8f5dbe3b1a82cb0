"""Auth files: where podman 4.3.1 looks for them, and what one holds (containers-auth.json(5)).

The locations and the parsing follow containers/image v5.23.1 (`pkg/docker/config/config.go`), the
version podman 4.3.1 vendors. Errors name the file and the key, never a value: every value may be a secret.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.errors import ConfigError


def auth_files(env: Mapping[str, str], authfile: Path | None = None, uid: int | None = None) -> list[tuple[Path, bool]]:
    """The auth files in lookup order, as (path, legacy_format); Linux rules of podman 4.3.1.

    The first file is the *primary* one, exactly one of: `authfile`, `$REGISTRY_AUTH_FILE`,
    `$XDG_RUNTIME_DIR/containers/auth.json`, `/run/containers/<uid>/auth.json`. An explicit file *replaces*
    the runtime-dir file (getPathToAuthWithOS returns one path) but not the fallbacks after it: those are
    still read in 4.3.1 (containers/image stopped reading them for explicit files in v5.24, podman 4.4).
    An empty variable counts as unset, as os.Getenv() == "" does in Go.
    """
    uid = os.getuid() if uid is None else uid
    files: list[tuple[Path, bool]] = []
    explicit = authfile if authfile is not None else env_path(env, "REGISTRY_AUTH_FILE")
    runtime_dir = env_path(env, "XDG_RUNTIME_DIR")
    if explicit is not None:
        files.append((explicit, False))
    elif runtime_dir is not None:
        files.append((runtime_dir / "containers" / "auth.json", False))
    else:
        files.append((Path(f"/run/containers/{uid}/auth.json"), False))

    home = home_dir(env, uid)
    config_home = env_path(env, "XDG_CONFIG_HOME") or (home / ".config" if home is not None else None)
    if config_home is not None:
        files.append((config_home / "containers" / "auth.json", False))
    docker_config = env_path(env, "DOCKER_CONFIG") or (home / ".docker" if home is not None else None)
    if docker_config is not None:
        files.append((docker_config / "config.json", False))
    if home is not None:
        files.append((home / ".dockercfg", True))
    return files


@dataclass(frozen=True)
class AuthEntry:
    """One `auths` value. Both fields are secret material."""

    auth: str = field(repr=False)
    identity_token: str = field(repr=False)


@dataclass(frozen=True)
class AuthFile:
    path: Path
    legacy: bool
    auths: dict[str, AuthEntry] = field(repr=False)  # in file order
    cred_helpers: dict[str, str]
    creds_store: str | None
    holds_secrets: bool


def read_auth_file(path: Path, legacy: bool) -> AuthFile | None:
    """Parse one auth file; None if it does not exist (readJSONFile treats only ENOENT as absent)."""
    problem: str | None = None
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        problem = error.strerror or type(error).__name__
    if problem is not None:
        raise ConfigError(f"cannot read this auth file: {problem}", file=path)

    # Go's json replaces invalid UTF-8 instead of failing, so a stray byte in a password does not break podman.
    text = raw.decode("utf-8", errors="replace")
    syntax: tuple[str, int, int] | None = None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        # Keep only position and reason: the exception also carries the whole document, secrets included,
        # so it must not become the __context__ of what we raise.
        syntax = (error.msg, error.lineno, error.colno)
    if syntax is not None:
        message, line, column = syntax
        raise ConfigError(
            f"not valid JSON: {message} (column {column}); the content is not shown because it holds credentials",
            file=path,
            line=line,
        )

    if legacy:
        # ~/.dockercfg: a bare map host -> {"auth": ...}, no "auths" wrapper and no helpers.
        auths = _entries(path, data, "")
        return AuthFile(path, True, auths, {}, None, _holds_secrets(auths))
    if data is None:  # Go unmarshals `null` into an empty struct without complaint
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"expected a JSON object at the top level, found {json_type(data)}", file=path)
    auths = _entries(path, member(data, "auths"), "auths")
    helpers = _cred_helpers(path, member(data, "credHelpers"))
    store = member(data, "credsStore")
    if store is not None and not isinstance(store, str):
        raise ConfigError(f"expected a helper name (a string), found {json_type(store)}", file=path, key="credsStore")
    if store:
        check_helper_name(path, "credsStore", store)
    return AuthFile(path, False, auths, helpers, store or None, _holds_secrets(auths))


def _entries(path: Path, value: Any, where: str) -> dict[str, AuthEntry]:
    prefix = f"{where}." if where else ""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"expected a JSON object, found {json_type(value)}", file=path, key=where or None)
    entries: dict[str, AuthEntry] = {}
    for key, entry in value.items():
        if entry is None:  # Go: a zero dockerAuthConfig, i.e. an entry with no auth
            entry = {}
        if not isinstance(entry, dict):
            raise ConfigError(f"expected a JSON object, found {json_type(entry)}", file=path, key=f'{prefix}"{key}"')
        fields = {}
        for name in ("auth", "identitytoken"):
            item = member(entry, name)
            if item is not None and not isinstance(item, str):
                raise ConfigError(
                    f"expected a string, found {json_type(item)}", file=path, key=f'{prefix}"{key}".{name}'
                )
            fields[name] = item or ""
        entries[key] = AuthEntry(fields["auth"], fields["identitytoken"])
    return entries


def _cred_helpers(path: Path, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"expected a JSON object, found {json_type(value)}", file=path, key="credHelpers")
    helpers: dict[str, str] = {}
    for host, name in value.items():
        where = f'credHelpers."{host}"'
        if name is not None and not isinstance(name, str):
            raise ConfigError(f"expected a helper name (a string), found {json_type(name)}", file=path, key=where)
        name = name or ""
        check_helper_name(path, where, name)  # refuses the empty name a JSON null gives
        helpers[host] = name
    return helpers


def check_helper_name(path: Path, where: str, name: str) -> None:
    # The name is appended to "docker-credential-" and looked up on PATH; a '/' would make it a path.
    if not name or "/" in name or "\0" in name:
        raise ConfigError(
            f"{name!r} is not a credential helper name (expected e.g. 'pass' for docker-credential-pass)",
            file=path,
            key=where,
        )


def member(obj: dict[str, Any], name: str) -> Any:
    """obj[name], matching the key case-insensitively when there is no exact match, as Go's json does."""
    if name in obj:
        return obj[name]
    folded = name.lower()
    found = None
    for key, value in obj.items():
        if key.lower() == folded:
            found = value  # Go keeps the last of several case variants
    return found


def _holds_secrets(auths: Mapping[str, AuthEntry]) -> bool:
    return any(entry.auth or entry.identity_token for entry in auths.values())


def json_type(value: Any) -> str:
    # Names the type only: the value may be a secret.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def permission_warning(path: Path) -> str | None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & 0o044:
        return None
    return f"{path} is readable by other users (mode {mode:04o}); run chmod 600 {quote(str(path))}"


def env_path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name)
    return Path(value) if value else None


def home_dir(env: Mapping[str, str], uid: int) -> Path | None:
    """$HOME, else the password database's home of `uid` (homedir.Get() does the same)."""
    home = env.get("HOME")
    if home:
        return Path(home)
    try:
        import pwd

        return Path(pwd.getpwuid(uid).pw_dir)
    except (ImportError, KeyError):
        return None


def quote(text: str) -> str:
    return shlex.quote(text)
