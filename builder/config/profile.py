"""Build profiles: `profiles/NAME.toml` files, their inheritance, `--set` overrides and validation.

A profile is read in five steps, each reporting errors as `ConfigError` with the file, line and key path
that caused them:

1. parse each file of the `extends` chain and check every key against `SCHEMA`;
2. merge the chain, parent first: tables merge entry by entry, everything else (lists included) replaces;
3. apply `--set` overrides in order;
4. expand templates (`builder.config.templates`) in the settings marked `templated`;
5. validate what only makes sense on the final values: the image name, the tags, the paths.

`SCHEMA` is the one place that says which keys exist and what they hold; a new key is a new row there (plus,
if it needs more than its raw value, a field on `Profile`). Settings without a field are still reachable
through `Profile.raw` and `Profile.setting()`.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Sequence, Union

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

from builder import refs
from builder.config import templates
from builder.errors import ConfigError

__all__ = [
    "PROFILES_DIR_NAME",
    "PROFILES_DIR_VARIABLE",
    "SCHEMA",
    "Kind",
    "Profile",
    "ProfileProblem",
    "ProfileSummary",
    "RegistrySettings",
    "Setting",
    "find_profiles_dir",
    "list_profiles",
    "load_profile",
    "load_summary",
    "summarize",
]

PROFILES_DIR_NAME = "profiles"
PROFILES_DIR_VARIABLE = "IMGCTL_PROFILES_DIR"

_KeyPath = tuple[Union[str, int], ...]


# --------------------------------------------------------------------------------------------------- kinds


class _Invalid(Exception):
    """A value that does not fit its kind. `sub` extends the key path (a list index, a table entry)."""

    def __init__(self, message: str, sub: _KeyPath = (), hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.sub = sub
        self.hint = hint


def _toml_type(value: object) -> str:
    # bool before int: True is an int in Python, but a boolean in TOML and to the user.
    if isinstance(value, bool):
        return "boolean"
    for kind, name in ((int, "integer"), (float, "float"), (str, "string"), (list, "array"), (dict, "table")):
        if isinstance(value, kind):
            return name
    return type(value).__name__.replace("datetime", "date-time")


def _did_you_mean(word: str, options: Sequence[str]) -> str:
    import difflib  # only on error paths: keeps imports fast

    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


@dataclass(frozen=True)
class Kind:
    """What a setting may hold. `shape` decides merging and `--set` syntax:

    - "scalar": replaced by a child profile and by `--set KEY=VALUE`;
    - "list": replaced by a child and by `--set KEY=A,B`, extended by `--set KEY+=C`;
    - "table": merged entry by entry, `--set KEY.ENTRY=VALUE` sets one entry.
    """

    expected: str  # completes "expected ...", e.g. "a list of strings"
    shape: str = "scalar"

    def check(self, value: object) -> None:
        """Raise _Invalid unless `value` (from TOML) fits."""
        raise NotImplementedError

    def parse(self, text: str) -> Any:
        """Turn the text of `--set KEY=TEXT` into a checked value; raise _Invalid."""
        raise NotImplementedError

    def _mismatch(self, value: object, sub: _KeyPath = ()) -> _Invalid:
        return _Invalid(f"expected {self.expected}, got {_toml_type(value)}", sub)


@dataclass(frozen=True)
class _String(Kind):
    expected: str = "a string"
    pattern: str | None = None  # a full-match regex the string must satisfy
    rule: str = ""  # says what `pattern` wants, after "expected"

    def check(self, value: object) -> None:
        if not isinstance(value, str):
            raise self._mismatch(value)
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise _Invalid(f"expected {self.rule}, got {value!r}")

    def parse(self, text: str) -> Any:
        self.check(text)
        return text


@dataclass(frozen=True)
class _Boolean(Kind):
    expected: str = "true or false"

    def check(self, value: object) -> None:
        if not isinstance(value, bool):
            raise self._mismatch(value)

    def parse(self, text: str) -> Any:
        word = text.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise _Invalid(f"expected true or false (or 1/0, yes/no), got {text!r}")


@dataclass(frozen=True)
class _Choice(Kind):
    choices: tuple[str, ...] = ()

    def check(self, value: object) -> None:
        if not isinstance(value, str):
            raise self._mismatch(value)
        if value not in self.choices:
            raise _Invalid(f"expected {self.expected}, got {value!r}{_did_you_mean(value, self.choices)}")

    def parse(self, text: str) -> Any:
        self.check(text)
        return text


def _choice(*choices: str) -> _Choice:
    return _Choice(expected="one of " + ", ".join(repr(c) for c in choices), choices=choices)


def _split_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


@dataclass(frozen=True)
class _StringList(Kind):
    expected: str = "a list of strings"
    shape: str = "list"
    item: _String = _String()

    def check(self, value: object) -> None:
        if not isinstance(value, list):
            raise self._mismatch(value)
        for index, item in enumerate(value):
            try:
                self.item.check(item)
            except _Invalid as invalid:
                raise _Invalid(invalid.message, (index,)) from None

    def parse(self, text: str) -> Any:
        items = _split_list(text)
        self.check(items)
        return items


_PLATFORM_RULE = "OS/ARCH or OS/ARCH/VARIANT, e.g. 'linux/amd64' or 'linux/arm/v7'"


@dataclass(frozen=True)
class _Platforms(_StringList):
    """One platform as a string, or several as a list (a multi-platform build)."""

    expected: str = "a platform string or a list of them"
    item: _String = _String(pattern=r"[a-z0-9_]+/[a-z0-9_]+(?:/[a-z0-9_.]+)?", rule=_PLATFORM_RULE)

    def check(self, value: object) -> None:
        if not isinstance(value, str):
            super().check(value)
            return
        try:
            super().check([value])
        except _Invalid as invalid:  # a lone string has no index to report
            raise _Invalid(invalid.message) from None


@dataclass(frozen=True)
class _StringTable(Kind):
    expected: str = 'a table of strings (NAME = "VALUE")'
    shape: str = "table"
    key_pattern: str = r".+"  # what an entry's name must full-match
    key_rule: str = "a non-empty name"

    def check(self, value: object) -> None:
        if not isinstance(value, dict):
            raise self._mismatch(value)
        for key, item in value.items():
            self.check_name(key)
            if not isinstance(item, str):
                raise _Invalid(f"expected a string, got {_toml_type(item)}", (key,))

    def check_name(self, name: str) -> None:
        if not re.fullmatch(self.key_pattern, name):
            raise _Invalid(f"{name!r} is not a valid name here: expected {self.key_rule}", (name,))

    def parse(self, text: str) -> Any:
        raise _Invalid("a table cannot be set as a whole")


_REGISTRY_OPTIONS: Mapping[str, str] = MappingProxyType(
    {"tls_verify": "true or false", "cert_dir": "a directory path", "insecure": "true or false"}
)


@dataclass(frozen=True)
class _RegistryTable(Kind):
    """Per-registry settings: `[registries."quay.io"]` with tls_verify, cert_dir, insecure."""

    expected: str = "a table of registry hosts, each a table of settings"
    shape: str = "table"

    def check(self, value: object) -> None:
        if not isinstance(value, dict):
            raise self._mismatch(value)
        for host, options in value.items():
            if not re.fullmatch(r"[A-Za-z0-9.-]+(?::[0-9]+)?", host):
                raise _Invalid(f"{host!r} is not a registry host: expected HOST or HOST:PORT", (host,))
            if not isinstance(options, dict):
                raise _Invalid(f"expected a table of settings, got {_toml_type(options)}", (host,))
            for option, item in options.items():
                wanted = _REGISTRY_OPTIONS.get(option)
                if wanted is None:
                    raise _Invalid(
                        f"unknown registry setting {option!r}{_did_you_mean(option, list(_REGISTRY_OPTIONS))}",
                        (host, option),
                        hint="registry settings are: " + ", ".join(_REGISTRY_OPTIONS),
                    )
                if (wanted == "a directory path") != isinstance(item, str) or isinstance(item, (dict, list)):
                    raise _Invalid(f"expected {wanted}, got {_toml_type(item)}", (host, option))

    def check_name(self, name: str) -> None:
        raise _Invalid("registry settings cannot be set with --set", hint="use --tls-verify / --cert-dir")

    def parse(self, text: str) -> Any:
        raise _Invalid("a table cannot be set as a whole", hint="use --tls-verify / --cert-dir")


@dataclass(frozen=True)
class RegistrySettings:
    """How imgctl and the engine talk to one registry."""

    tls_verify: bool = True
    cert_dir: Path | None = None
    insecure: bool = False  # registries.conf's word: plain HTTP and unverified TLS allowed

    @property
    def verify(self) -> bool:
        return self.tls_verify and not self.insecure


@dataclass(frozen=True)
class Setting:
    """One row of the profile schema."""

    name: str
    kind: Kind
    default: Any  # immutable; copied before use
    example: str  # a TOML line, shown in hints
    help: str
    required: bool = False
    templated: bool = False  # placeholders are expanded in its string values, after merge and overrides
    settable: bool = True  # may be changed with --set
    inherited: bool = True  # a child profile receives its parent's value


_NO_ENTRIES: Mapping[str, str] = MappingProxyType({})

SCHEMA: tuple[Setting, ...] = (
    Setting("image", _String(), None, 'image = "team/api"',
            "repository to tag the image in; no domain means localhost/", required=True),
    Setting("description", _String(), "", 'description = "The public API"', "shown by `imgctl list`"),
    Setting("extends", _String(pattern=r"[^./\\][^/\\]*", rule="the name of another profile (its file stem)"),
            None, 'extends = "base"', "inherit every setting of another profile", settable=False, inherited=False),
    Setting("version", _String(), None, 'version = "1.4.2"', "the value of {version}", templated=True),
    Setting("containerfile", _String(), None, 'containerfile = "docker/api.Containerfile"',
            "relative to the project root; default: Containerfile, else Dockerfile, in the context"),
    Setting("context", _String(), ".", 'context = "services/api"', "build context, relative to the project root"),
    Setting("target", _String(), None, 'target = "runtime"', "the stage of a multi-stage Containerfile"),
    Setting("tags", _StringList(), ("latest",), 'tags = ["latest", "{git_short_sha}"]',
            "tags (the part after ':') given to the image", templated=True),
    Setting("labels", _StringTable(), _NO_ENTRIES, 'labels = { maintainer = "team@example.com" }',
            "image labels", templated=True),
    Setting("build_args", _StringTable(key_pattern=r"[^=\s]+", key_rule="a name without '=' or spaces"),
            _NO_ENTRIES, 'build_args = { PYTHON_VERSION = "3.12" }', "ARG values", templated=True),
    Setting("platform", _Platforms(), (), 'platform = "linux/amd64"',
            "target platform(s); a list builds several; default: the host's"),
    Setting("pull", _choice("missing", "always", "never", "newer"), "missing", 'pull = "always"',
            "when to pull base images"),
    Setting("no_cache", _Boolean(), False, "no_cache = true", "build every step without the layer cache"),
    Setting("isolation", _choice("oci", "chroot", "rootless"), None, 'isolation = "chroot"',
            "how RUN steps are isolated; default: podman's"),
    Setting("secrets", _StringTable(key_pattern=r"[A-Za-z0-9_.-]+", key_rule="letters, digits, '_', '.', '-'"),
            _NO_ENTRIES, 'secrets = { npmrc = "secrets/npmrc" }',
            "build secrets: id = source file, relative to the project root"),
    Setting("push", _StringList(), (), 'push = ["quay.io/team/api"]',
            "repositories (with registry, without tag) that `imgctl push` sends every tag to"),
    Setting("context_pruning", _Boolean(), True, "context_pruning = false",
            "send only the context paths the Containerfile can read (on top of the ignore rules)"),
    Setting("ignore", _StringList(), (), 'ignore = ["*.log", "docs/"]',
            "extra ignore patterns for this profile, applied after the ignore file; the file is not changed"),
    Setting("registries", _RegistryTable(), _NO_ENTRIES,
            'registries = { "registry.example.com:5000" = { tls_verify = false } }',
            "per-registry settings: tls_verify, cert_dir, insecure"),
)

_SETTINGS: Mapping[str, Setting] = MappingProxyType({setting.name: setting for setting in SCHEMA})


# --------------------------------------------------------------------------------------------- locations

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_KEY_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED_KEY = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_TABLE_LINE = re.compile(rf"\s*\[\[?\s*({_DOTTED_KEY})\s*\]")
_KEY_LINE = re.compile(rf"\s*({_DOTTED_KEY})\s*=")


def _render(path: _KeyPath) -> str:
    """`labels.maintainer`, `labels."org.opencontainers.image.title"`, `tags[2]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _BARE_KEY.fullmatch(part) else '"' + part.replace('"', '\\"') + '"'
            out += f".{text}" if out else text
    return out


def _key_parts(dotted: str) -> tuple[str, ...]:
    parts = []
    for match in re.finditer(_KEY_PART, dotted):
        part = match.group(0)
        if part[0] == '"':
            part = part[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        elif part[0] == "'":
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


def _skip_string(text: str, i: int) -> int:
    """Index just past the TOML string starting at text[i]."""
    quote = text[i]
    delimiter = quote * 3 if text.startswith(quote * 3, i) else quote
    j = i + len(delimiter)
    while j < len(text):
        if quote == '"' and text[j] == "\\":
            j += 2
            continue
        if text.startswith(delimiter, j):
            return j + len(delimiter)
        j += 1
    return j


def _element_line(text: str, i: int, index: int) -> int | None:
    """Line of item `index` of the TOML array starting after position `i` (just past a key's '=')."""
    while i < len(text) and text[i] in " \t":
        i += 1
    if text[i : i + 1] != "[":
        return text.count("\n", 0, i) + 1 if index == 0 else None  # a single value (platform = "...")
    depth, count, expecting = 0, 0, True
    while i < len(text):
        char = text[i]
        if char == "#":
            end = text.find("\n", i)
            i = len(text) if end == -1 else end
            continue
        if char in " \t\r\n":
            i += 1
            continue
        if depth == 1 and char == ",":
            count, expecting = count + 1, True
            i += 1
            continue
        if depth == 1 and char == "]":
            return None
        if depth == 1 and expecting:
            if count == index:
                return text.count("\n", 0, i) + 1
            expecting = False
        if char in "\"'":
            i = _skip_string(text, i)
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        i += 1
    return None


def _locate(text: str | None, path: _KeyPath) -> int | None:
    """Best-effort line number of `path` in TOML `text`: a scan, not a parser.

    Finds `key = ...` under the right `[table]` header, dotted keys (`labels.maintainer = ...`), entries of
    inline tables (the line of the table) and items of arrays. Returns None when unsure.
    """
    if text is None:
        return None
    keys: list[str] = []
    index: int | None = None
    for part in path:
        if isinstance(part, int):
            index = part
            break
        keys.append(part)
    target = tuple(keys)
    table: tuple[str, ...] = ()
    fallback: int | None = None
    open_string: str | None = None
    offset = 0
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        start, offset = offset, offset + len(line)
        if open_string is not None:
            if open_string in line:
                open_string = None
            continue
        header = _TABLE_LINE.match(line)
        key = None if header else _KEY_LINE.match(line)
        if header:
            table = _key_parts(header.group(1))
            if table == target:
                return number
            if target[: len(table)] == table and fallback is None:
                fallback = number
        elif key:
            full = table + _key_parts(key.group(1))
            if full == target:
                return number if index is None else _element_line(text, start + key.end(), index)
            if target[: len(full)] == full:  # an inline table holding the entry
                fallback = number
        for delimiter in ('"""', "'''"):
            if line.count(delimiter) % 2 == 1:
                open_string = delimiter
    return fallback if index is None else None


@dataclass(frozen=True)
class _Source:
    """Where a value came from: a profile file, or one `--set` item."""

    file: Path | None = None
    text: str | None = None
    override: str | None = None

    def error(self, path: _KeyPath, message: str, hint: str | None) -> ConfigError:
        key = _render(path) if path else None
        if self.override is not None:
            return ConfigError(f"{message} (from --set {self.override})", key=key, hint=hint)
        return ConfigError(message, file=self.file, line=_locate(self.text, path), key=key, hint=hint)


# ------------------------------------------------------------------------------------------------ files


def find_profiles_dir(cwd: Path, explicit: Path | None, env: Mapping[str, str]) -> Path:
    """The profiles directory, absolute: `explicit` (--profiles-dir), else $IMGCTL_PROFILES_DIR, else the
    first `profiles/` in `cwd` or one of its parents. Relative paths are relative to `cwd`. The project root
    is always the returned directory's parent."""
    candidates = ((explicit, "--profiles-dir"), (env.get(PROFILES_DIR_VARIABLE), PROFILES_DIR_VARIABLE))
    for given, origin in candidates:
        if not given:  # an empty variable counts as unset
            continue
        path = (cwd / Path(given)).resolve()
        if not path.is_dir():
            raise ConfigError(
                f"{origin} names {path}, which is not a directory",
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
class _File:
    name: str
    path: Path
    text: str
    data: Mapping[str, Any]  # checked against SCHEMA

    @property
    def source(self) -> _Source:
        return _Source(file=self.path, text=self.text)


_TOML_POSITION = re.compile(r"^(.*) \(at (?:line (\d+), column (\d+)|end of document)\)$", re.DOTALL)
_TOML_HINT = (
    'strings need double quotes (image = "team/api"), lists brackets (tags = ["latest"]), and a key may '
    "appear only once; see https://toml.io"
)


def _parse_toml(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read the profile: {error.strerror}", file=path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            "the profile is not valid UTF-8 text",
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
        setting = _SETTINGS.get(key)
        if setting is None:
            raise ConfigError(
                f"unknown key {key!r}{_did_you_mean(key, list(_SETTINGS))}",
                file=path,
                line=_locate(text, (key,)),
                key=_render((key,)),
                hint="profile keys are: " + ", ".join(sorted(_SETTINGS)),
            )
        try:
            setting.kind.check(value)
        except _Invalid as invalid:
            where: _KeyPath = (key, *invalid.sub)
            raise ConfigError(
                invalid.message,
                file=path,
                line=_locate(text, where),
                key=_render(where),
                hint=invalid.hint or f"for example: {setting.example}",
            ) from None


def _profile_path(profiles_dir: Path, name: str) -> Path | None:
    path = profiles_dir / f"{name}.toml"
    if not name or name.startswith(".") or "/" in name or "\\" in name or not path.is_file():
        return None
    return path


def _read(profiles_dir: Path, name: str, cache: dict[str, _File], referrer: _File | None) -> _File:
    if name in cache:
        return cache[name]
    path = _profile_path(profiles_dir, name)
    if path is None:
        available = list_profiles(profiles_dir)
        suggestion = _did_you_mean(name, available)
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
    text, data = _parse_toml(path)
    _check(path, text, data)
    cache[name] = _File(name, path, text, MappingProxyType(data))
    return cache[name]


def _chain(profiles_dir: Path, name: str, cache: dict[str, _File]) -> tuple[_File, ...]:
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


# ------------------------------------------------------------------------------------------- merging


def _copy(value: Any) -> Any:
    if isinstance(value, (dict, MappingProxyType)):
        return dict(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    return value


class _Values:
    """The merged settings of one load and where each came from; local to one call."""

    def __init__(self, fallback: _Source) -> None:
        self.values: dict[str, Any] = {}
        self.sources: dict[_KeyPath, _Source] = {}
        self.fallback = fallback  # the profile's own file, for values nobody wrote (defaults)

    def where(self, path: _KeyPath) -> _Source:
        return self.sources.get(path) or self.sources.get(path[:1]) or self.fallback

    def get(self, name: str) -> Any:
        """The value, or a copy of the schema default."""
        if name in self.values:
            return self.values[name]
        return _copy(_SETTINGS[name].default)

    def replace(self, name: str, value: Any, source: _Source) -> None:
        self.values[name] = value
        for path in [p for p in self.sources if p[:1] == (name,)]:
            del self.sources[path]
        self.sources[(name,)] = source

    def merge(self, name: str, value: Any, source: _Source) -> None:
        if _SETTINGS[name].kind.shape != "table":
            self.replace(name, _copy(value), source)
            return
        self.values.setdefault(name, {}).update(value)
        self.sources[(name,)] = source
        for entry in value:
            self.sources[(name, entry)] = source

    def override(self, item: str) -> None:
        source = _Source(override=item)
        head, equals, text = item.partition("=")
        if not equals or not head.strip(" +"):
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}", hint=_SET_HINT)
        append = head.endswith("+")
        name, dot, entry = head[:-1 if append else None].strip().partition(".")
        setting = _SETTINGS.get(name)
        if setting is None:
            raise source.error(
                (name,), f"unknown key {name!r}{_did_you_mean(name, list(_SETTINGS))}",
                "profile keys are: " + ", ".join(sorted(_SETTINGS)),
            )
        if not setting.settable:
            raise source.error((name,), f"{name} cannot be set with --set", f"edit {name} in the profile file")
        kind = setting.kind
        try:
            if dot:
                if kind.shape != "table" or append:
                    what = f"{name} is not a table" if kind.shape != "table" else "+= only appends to lists"
                    raise _Invalid(what, hint=f"use --set {name}=VALUE" if kind.shape != "table"
                                   else f"use --set {name}.{entry}=VALUE")
                assert isinstance(kind, (_StringTable, _RegistryTable))
                kind.check_name(entry)
                self.values.setdefault(name, {})[entry] = text
                self.sources[(name, entry)] = source
            elif append:
                if kind.shape != "list":
                    raise _Invalid(f"+= appends to a list, but {name} is {kind.expected}",
                                   hint=f"use --set {name}=VALUE")
                current = self.get(name)
                current = [current] if isinstance(current, str) else list(current)
                added = kind.parse(text)
                self.values[name] = current + added
                self.sources.setdefault((name,), source)
                for index in range(len(current), len(current) + len(added)):
                    self.sources[(name, index)] = source
            else:
                if kind.shape == "table":
                    raise _Invalid(f"{name} is a table", hint=f"set one entry: --set {name}.NAME=VALUE")
                self.replace(name, kind.parse(text), source)
        except _Invalid as invalid:
            raise source.error(
                (name, *invalid.sub), invalid.message, invalid.hint or f"for example: {setting.example}"
            ) from None


_SET_HINT = "use --set KEY=VALUE, --set KEY+=VALUE (append to a list) or --set TABLE.NAME=VALUE"


def _merged(chain: tuple[_File, ...], overrides: Sequence[str]) -> _Values:
    values = _Values(chain[0].source)
    for file in reversed(chain):
        for name, value in file.data.items():
            if _SETTINGS[name].inherited or file is chain[0]:
                values.merge(name, value, file.source)
    for item in overrides:
        values.override(item)
    return values


def _require(values: _Values, chain: tuple[_File, ...]) -> None:
    for setting in SCHEMA:
        if setting.required and setting.name not in values.values:
            raise ConfigError(
                f"no {setting.name} is set",
                file=chain[0].path,
                key=setting.name,
                hint=f"add {setting.example} to {chain[0].path.name} or to a profile it extends",
            )


def _image(values: _Values) -> str:
    """The normalized repository; `image` must be set."""
    image = values.values["image"]
    try:
        return refs.normalize_repository(image)
    except ValueError as error:
        last = image.rsplit("/", 1)[-1]
        hint = (
            f'image is the repository only: move the tag to tags = ["{last.split(":", 1)[1]}"]'
            if ":" in last and "@" not in image
            else 'for example: image = "team/api" or image = "registry.example.com/team/api"'
        )
        raise values.where(("image",)).error(("image",), str(error), hint) from None


def _each_string(values: _Values, setting: Setting) -> list[tuple[_KeyPath, str]]:
    """Every string in a setting's value with its key path."""
    value = values.get(setting.name)
    if value is None:
        return []
    if isinstance(value, dict):
        return [((setting.name, key), item) for key, item in value.items()]
    if isinstance(value, list):
        return [((setting.name, index), item) for index, item in enumerate(value)]
    return [((setting.name,), value)]


# ------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Profile:
    """A fully resolved profile: merged, overridden, expanded and validated."""

    name: str
    file: Path
    root: Path  # the project root: the directory holding profiles/
    image: str  # normalized repository, e.g. localhost/team/api
    description: str
    containerfile: Path  # absolute
    context: Path  # absolute
    target: str | None
    tags: tuple[str, ...]  # expanded, validated, without duplicates
    labels: dict[str, str]
    build_args: dict[str, str]
    platform: tuple[str, ...]  # empty: the host's platform
    pull: str
    no_cache: bool
    isolation: str | None
    secrets: dict[str, Path]  # id -> absolute source file
    version: str | None  # expanded
    extends: tuple[str, ...]  # ancestors, nearest first
    raw: dict[str, Any]  # merged values after --set, before expansion; no defaults; its own `extends` only
    push: tuple[str, ...] = ()  # destination repositories, normalized, with a registry host, no tag
    context_pruning: bool = True
    ignore: tuple[str, ...] = ()  # extra ignore patterns, after the ignore file's
    registries: Mapping[str, RegistrySettings] = field(default_factory=dict)  # by registry host

    def registry(self, host: str) -> RegistrySettings:
        return self.registries.get(host, RegistrySettings())

    @property
    def refs(self) -> tuple[str, ...]:
        return tuple(f"{self.image}:{tag}" for tag in self.tags)

    def setting(self, name: str) -> Any:
        """The raw (unexpanded) value of any SCHEMA key, or its default: for keys without a field."""
        if name in self.raw:
            return self.raw[name]
        return _copy(_SETTINGS[name].default)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for `imgctl show --json`."""
        return {
            "name": self.name,
            "file": str(self.file),
            "root": str(self.root),
            "image": self.image,
            "description": self.description,
            "containerfile": str(self.containerfile),
            "context": str(self.context),
            "target": self.target,
            "tags": list(self.tags),
            "refs": list(self.refs),
            "labels": dict(self.labels),
            "build_args": dict(self.build_args),
            "platform": list(self.platform),
            "pull": self.pull,
            "no_cache": self.no_cache,
            "isolation": self.isolation,
            "secrets": {key: str(path) for key, path in self.secrets.items()},
            "version": self.version,
            "extends": list(self.extends),
            "push": list(self.push),
            "context_pruning": self.context_pruning,
            "ignore": list(self.ignore),
            "registries": {
                host: {"tls_verify": r.tls_verify, "cert_dir": str(r.cert_dir) if r.cert_dir else None, "insecure": r.insecure}
                for host, r in self.registries.items()
            },
        }


@dataclass(frozen=True)
class ProfileSummary:
    """What `imgctl list` shows: raw values, templates unexpanded, nothing read outside profiles/."""

    name: str
    file: Path
    image: str | None  # normalized; None when no profile of the chain sets one (a base to extend)
    description: str
    target: str | None
    tags: tuple[str, ...]  # as written, e.g. "{git_short_sha}"
    extends: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for `imgctl list --json`; `error` is None (see ProfileProblem.to_dict)."""
        return {
            "name": self.name,
            "file": str(self.file),
            "image": self.image,
            "description": self.description,
            "target": self.target,
            "tags": list(self.tags),
            "extends": list(self.extends),
            "error": None,
        }


@dataclass(frozen=True)
class ProfileProblem:
    """A profile `imgctl list` could not summarize, and why."""

    name: str
    file: Path
    error: ConfigError

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for `imgctl list --json`: the same keys as a summary's, with `error` filled in."""
        return {
            "name": self.name,
            "file": str(self.file),
            "image": None,
            "description": None,
            "target": None,
            "tags": [],
            "extends": [],
            "error": {
                "message": self.error.message,
                "file": None if self.error.file is None else str(self.error.file),
                "line": self.error.line,
                "key": self.error.key,
                "hint": self.error.hint,
                "text": str(self.error),
            },
        }


def _now(env: Mapping[str, str]) -> datetime:
    # Reproducible builds (reproducible-builds.org) pin "now" with SOURCE_DATE_EPOCH; {date} and {timestamp}
    # end up in labels, which are part of the image, so they follow it.
    epoch = env.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return datetime.now(timezone.utc)
    try:
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise ConfigError(
            f"expected a number of seconds since 1970-01-01 UTC, got {epoch!r}",
            key="SOURCE_DATE_EPOCH",
            hint="unset it, or set it to e.g. $(git log -1 --format=%ct)",
        ) from None


def load_profile(
    profiles_dir: Path,
    name: str,
    *,
    overrides: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Profile:
    """Read, merge, override, expand and validate profile `name`. Raises ConfigError.

    `env` (default os.environ) feeds {env:...}, the CI branch variables and SOURCE_DATE_EPOCH; `now`
    (default: SOURCE_DATE_EPOCH, else the current time) feeds {date} and {timestamp}. Git is run only if a
    git placeholder is used.
    """
    env = os.environ if env is None else env
    profiles_dir = profiles_dir.resolve()
    root = profiles_dir.parent
    chain = _chain(profiles_dir, name, {})
    values = _merged(chain, overrides)
    _require(values, chain)
    image = _image(values)

    context = templates.TemplateContext(
        profile=name, env=env, now=now if now is not None else _now(env), root=root
    )
    version = _version(values, context)
    context = context.replace(version=version)
    expanded = {
        setting.name: _expand(values, setting, context)
        for setting in SCHEMA
        if setting.templated and setting.name != "version"
    }
    tags = _tags(values, expanded["tags"])
    context_dir = _existing(values, root, ("context",), directory=True)
    containerfile = (
        _existing(values, root, ("containerfile",), directory=False)
        if "containerfile" in values.values
        else _default_containerfile(context_dir, chain[0])
    )
    secrets = {
        secret: _existing(values, root, ("secrets", secret), directory=False) for secret in values.get("secrets")
    }
    platform = values.get("platform")
    platforms = [platform] if isinstance(platform, str) else platform

    return Profile(
        name=name,
        file=chain[0].path,
        root=root,
        image=image,
        description=values.get("description"),
        containerfile=containerfile,
        context=context_dir,
        target=values.get("target") or None,
        tags=tags,
        labels=expanded["labels"],
        build_args=expanded["build_args"],
        platform=tuple(dict.fromkeys(platforms)),
        pull=values.get("pull"),
        no_cache=values.get("no_cache"),
        isolation=values.get("isolation"),
        secrets=secrets,
        version=version,
        extends=tuple(file.name for file in chain[1:]),
        raw={key: _copy(value) for key, value in values.values.items()},
        push=_push(values),
        registries=MappingProxyType(_registries(values, root)),
        context_pruning=values.get("context_pruning"),
        ignore=tuple(values.get("ignore")),
    )


def _push(values: _Values) -> tuple[str, ...]:
    """Destination repositories: each must name its registry, and carry no tag (the tags come from tags)."""
    found = []
    for index, text in enumerate(values.get("push")):
        path: _KeyPath = ("push", index)
        try:
            repository = refs.validate_repository(text)
        except ValueError as error:
            raise values.where(path).error(path, str(error), 'for example: push = ["quay.io/team/api"]') from None
        if "/" not in repository or repository.split("/", 1)[0] == refs.LOCAL_DOMAIN or refs.normalize_repository(repository) != repository:
            raise values.where(path).error(
                path,
                f"{text!r} does not name a registry",
                'write the registry host first, e.g. "quay.io/team/api" or "registry.example.com:5000/api"',
            )
        found.append(repository)
    return tuple(dict.fromkeys(found))


def _registries(values: _Values, root: Path) -> dict[str, RegistrySettings]:
    settings = {}
    for host, options in values.get("registries").items():
        cert_dir = None
        if "cert_dir" in options:
            cert_dir = (root / options["cert_dir"]).resolve()
            if not cert_dir.is_dir():
                path: _KeyPath = ("registries", host, "cert_dir")
                raise values.where(path).error(
                    path,
                    f"cert_dir directory {cert_dir} does not exist",
                    "a directory of CA certificates (*.crt), as in containers-certs.d(5); relative to the project root",
                )
        settings[host] = RegistrySettings(
            tls_verify=options.get("tls_verify", True), cert_dir=cert_dir, insecure=options.get("insecure", False)
        )
    return settings


def _expand_one(values: _Values, path: _KeyPath, text: str, context: templates.TemplateContext) -> str:
    try:
        return context.expand(text)
    except templates.TemplateError as error:
        raise values.where(path).error(path, error.message, error.hint) from None


def _version(values: _Values, context: templates.TemplateContext) -> str | None:
    """The expanded version. It may use any placeholder but itself: `version = "{git_tag:-0.0.0}"`."""
    raw = values.get("version")
    if not raw:
        return None
    path: _KeyPath = ("version",)
    try:
        used = {placeholder.partition(":-")[0] for placeholder in templates.placeholders(raw)}
    except templates.TemplateError as error:
        raise values.where(path).error(path, error.message, error.hint) from None
    if "version" in used:
        raise values.where(path).error(
            path, "version cannot use {version}", 'for example: version = "{git_tag:-0.0.0}"'
        )
    return _expand_one(values, path, raw, context) or None


def _expand(values: _Values, setting: Setting, context: templates.TemplateContext) -> Any:
    """A templated setting with every string expanded: a list stays a list, a table a table."""
    strings = [(path, _expand_one(values, path, text, context)) for path, text in _each_string(values, setting)]
    if isinstance(values.get(setting.name), dict):
        return {path[1]: text for path, text in strings}
    return [text for _, text in strings]


def _tags(values: _Values, expanded: list[str]) -> tuple[str, ...]:
    """Validated tags without duplicates, in order: `--tag latest` on a profile tagging latest is harmless."""
    written = values.get("tags")
    for index, tag in enumerate(expanded):
        try:
            refs.validate_tag(tag)
        except ValueError as error:
            hint = "a tag is the part after ':' in image:tag; the repository comes from image"
            if written[index] != tag:
                hint += f"; {written[index]!r} expanded to {tag!r}"
            if "{git_branch}" in written[index] or "{git_branch:-" in written[index]:
                hint += "; {git_branch_slug} gives the branch in a form that is always a valid tag"
            raise values.where(("tags", index)).error(("tags", index), str(error), hint) from None
    if not expanded:
        raise values.where(("tags",)).error(
            ("tags",), "tags is empty: at least one tag is needed", f"for example: {_SETTINGS['tags'].example}"
        )
    return tuple(dict.fromkeys(expanded))


def _default_containerfile(context_dir: Path, file: _File) -> Path:
    # Where `podman build CONTEXT` itself looks: in the context, Containerfile first.
    for candidate in (context_dir / "Containerfile", context_dir / "Dockerfile"):
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no Containerfile or Dockerfile in {context_dir}",
        file=file.path,
        key="containerfile",
        hint='set containerfile = "path/to/Containerfile" (relative to the project root)',
    )


def _existing(values: _Values, root: Path, path: _KeyPath, *, directory: bool) -> Path:
    """Resolve a path setting against the project root and check that it exists."""
    value = values.get(str(path[0]))
    for part in path[1:]:
        value = value[part]
    resolved: Path = (root / value).resolve()
    ok = resolved.is_dir() if directory else resolved.is_file()
    if not ok:
        what = "directory" if directory else "file"
        state = "does not exist" if not resolved.exists() else f"is not a {what}"
        raise values.where(path).error(
            path,
            f"{_render(path)} {what} {resolved} {state}",
            f"paths in profiles are relative to the project root {root} (the directory holding profiles/)",
        )
    return resolved


# ------------------------------------------------------------------------------------------- summaries


def load_summary(profiles_dir: Path, name: str) -> ProfileSummary:
    """Summarize profile `name` for `imgctl list`: the chain is read and checked, the image validated and the
    template syntax of templated settings checked, but nothing is expanded, no git runs and no path is
    checked. Raises ConfigError."""
    return _summary(profiles_dir.resolve(), name, {})


def _summary(profiles_dir: Path, name: str, cache: dict[str, _File]) -> ProfileSummary:
    chain = _chain(profiles_dir, name, cache)
    values = _merged(chain, ())
    # A profile meant only to be extended may leave image out: not an error until someone builds it.
    image = _image(values) if "image" in values.values else None
    for setting in SCHEMA:
        if not setting.templated:
            continue
        for path, text in _each_string(values, setting):
            try:
                used = templates.placeholders(text)
                if setting.name == "tags" and not used:
                    refs.validate_tag(text)
            except ValueError as error:  # TemplateError is a ValueError
                raise values.where(path).error(path, str(error), getattr(error, "hint", None)) from None
    return ProfileSummary(
        name=name,
        file=chain[0].path,
        image=image,
        description=values.get("description"),
        target=values.get("target") or None,
        tags=tuple(values.get("tags")),
        extends=tuple(file.name for file in chain[1:]),
    )


def summarize(profiles_dir: Path) -> list[ProfileSummary | ProfileProblem]:
    """One entry per profile, sorted by name; a broken profile becomes a ProfileProblem, never an exception."""
    profiles_dir = profiles_dir.resolve()
    cache: dict[str, _File] = {}  # parents shared by several profiles are parsed once
    out: list[ProfileSummary | ProfileProblem] = []
    for name in list_profiles(profiles_dir):
        try:
            out.append(_summary(profiles_dir, name, cache))
        except ConfigError as error:
            out.append(ProfileProblem(name, profiles_dir / f"{name}.toml", error))
    return out
