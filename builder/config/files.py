"""Profile files on disk: finding the profiles directory, listing it, reading and checking one TOML file, and
following an `extends` chain.

Every file is checked against the schema as it is read, so an error names the file that holds the bad value
(with `extends`, that may be a parent).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib  # type: ignore[import-not-found]  # a dependency only below 3.11, not installed here

from builder.config.kinds import Invalid, KeyPath, did_you_mean
from builder.config.locate import Source, locate, render_path
from builder.config.schema import SETTINGS
from builder.errors import ConfigError

PROFILES_DIR_NAME = "profiles"
PROFILES_DIR_VARIABLE = "IMGCTL_PROFILES_DIR"
PROFILES_DIR_OPTION = "--profiles-dir"

# Editors on Windows start UTF-8 files with a byte order mark, which TOML does not allow. It sits on line 1,
# so dropping it changes no line number.
_BOM = "\ufeff"


def absolute(cwd: Path, given: Path | str) -> Path:
    """`given` made absolute against `cwd` without following symlinks: the project root is the parent of the
    profiles directory as the user named it (a `profiles` link included), not of where a link points."""
    return Path(os.path.abspath(cwd / given))


def find_profiles_dir(cwd: Path, explicit: Path | None, env: Mapping[str, str]) -> Path:
    """The profiles directory, absolute: `explicit` (--profiles-dir), else $IMGCTL_PROFILES_DIR, else the
    first `profiles/` in `cwd` or one of its parents. Relative paths are relative to `cwd`. The project root
    is always the returned directory's parent."""
    candidates = ((explicit, PROFILES_DIR_OPTION), (env.get(PROFILES_DIR_VARIABLE), PROFILES_DIR_VARIABLE))
    for given, origin in candidates:
        if not given:  # an empty variable counts as unset
            continue
        path = absolute(cwd, given)
        if not path.is_dir():
            raise ConfigError(
                f"{path} is not a directory",
                key=origin,
                hint="point it at the directory that holds the NAME.toml profiles",
            )
        return path
    start = cwd.resolve()
    for directory in (start, *start.parents):
        candidate = directory / PROFILES_DIR_NAME
        if candidate.is_dir():
            return candidate
    raise ConfigError(
        f"no {PROFILES_DIR_NAME}/ directory in {start} or any directory above it",
        hint=f"run imgctl inside a project with a {PROFILES_DIR_NAME}/ directory, or pass --profiles-dir DIR "
        f"or set {PROFILES_DIR_VARIABLE}",
    )


def list_profiles(profiles_dir: Path) -> list[str]:
    """Names of the profiles in `profiles_dir`: stems of its `*.toml` files, sorted.

    Hidden files are skipped: editors leave `.#name.toml` lock files next to the profiles they edit.
    """
    return sorted(
        path.stem for path in profiles_dir.glob("*.toml") if not path.name.startswith(".") and path.is_file()
    )


@dataclass(frozen=True)
class ProfileFile:
    """One profile file, read and checked against the schema."""

    name: str
    path: Path
    text: str
    data: Mapping[str, Any]  # checked against SCHEMA

    @property
    def source(self) -> Source:
        return Source(file=self.path, text=self.text)


_TOML_POSITION = re.compile(r"^(.*) \(at (?:line (\d+), column (\d+)|end of document)\)$", re.DOTALL)
_TOML_HINT = (
    'strings need double quotes (image = "team/api"), lists brackets (tags = ["latest"]), and a key may '
    "appear only once; see https://toml.io"
)


def parse_toml(path: Path, what: str = "the profile") -> tuple[str, dict[str, Any]]:
    """`what` names the file in errors: the lint configuration (`imgctl lint --config`) is read here too."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read {what}: {error.strerror}", file=path) from None
    try:
        text = data.decode("utf-8").removeprefix(_BOM)
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{what} is not valid UTF-8 text",
            file=path,
            line=data.count(b"\n", 0, error.start) + 1,
            hint="save the file as UTF-8",
        ) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # Python < 3.14 keeps the position only in the message: "Invalid value (at line 3, column 8)".
        match = _TOML_POSITION.match(str(error))
        message, line, column = (match.groups() if match else (str(error), None, None))
        if match and line is None:  # "at end of document"
            line = str(text.count("\n") + (0 if text.endswith("\n") else 1))
        where = f" (column {column})" if column else " (at the end of the file)" if match else ""
        raise ConfigError(
            f"invalid TOML: {message}{where}", file=path, line=int(line) if line else None, hint=_TOML_HINT
        ) from None


def _check(path: Path, text: str, data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        setting = SETTINGS.get(key)
        if setting is None:
            raise ConfigError(
                f"unknown key {key!r}{did_you_mean(key, list(SETTINGS))}",
                file=path,
                line=locate(text, (key,)),
                key=render_path((key,)),
                hint="profile keys are: " + ", ".join(sorted(SETTINGS)),
            )
        try:
            setting.kind.check(value)
        except Invalid as invalid:
            where: KeyPath = (key, *invalid.sub)
            raise ConfigError(
                invalid.message,
                file=path,
                line=locate(text, where),
                key=render_path(where),
                hint=invalid.hint or f"for example: {setting.example}",
            ) from None


def _profile_path(profiles_dir: Path, name: str) -> Path | None:
    path = profiles_dir / f"{name}.toml"
    if not name or name.startswith(".") or "/" in name or "\\" in name or not path.is_file():
        return None
    return path


def _read(profiles_dir: Path, name: str, cache: dict[str, ProfileFile], referrer: ProfileFile | None) -> ProfileFile:
    if name in cache:
        return cache[name]
    path = _profile_path(profiles_dir, name)
    if path is None:
        available = list_profiles(profiles_dir)
        suggestion = did_you_mean(name, available)
        hint = (
            f"profiles in {profiles_dir}: {', '.join(available)}"
            if available
            else f"create {profiles_dir / (name + '.toml')}"
        )
        if referrer is not None:
            raise referrer.source.error(
                ("extends",),
                f"extends {name!r}, but there is no {profiles_dir / (name + '.toml')}{suggestion}",
                hint,
            )
        raise ConfigError(f"no profile named {name!r} in {profiles_dir}{suggestion}", hint=hint)
    text, data = parse_toml(path)
    _check(path, text, data)
    cache[name] = ProfileFile(name, path, text, MappingProxyType(data))
    return cache[name]


def read_chain(profiles_dir: Path, name: str, cache: dict[str, ProfileFile]) -> tuple[ProfileFile, ...]:
    """The profile and its ancestors, child first."""
    files = [_read(profiles_dir, name, cache, None)]
    while (parent := files[-1].data.get("extends")) is not None:
        names = [f.name for f in files]
        if parent in names:
            raise files[-1].source.error(
                ("extends",),
                "extends cycle: " + " -> ".join([*names[names.index(parent):], parent]),
                "remove extends from one of these profiles",
            )
        files.append(_read(profiles_dir, parent, cache, files[-1]))
    return tuple(files)

