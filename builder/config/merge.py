"""Merging an `extends` chain and applying `--set` overrides, remembering where every value came from.

Tables merge entry by entry, everything else (lists included) replaces; overrides apply in order, after the
chain and before templates are expanded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from builder.config.files import ProfileFile
from builder.config.kinds import Invalid, KeyPath, did_you_mean
from builder.config.locate import Source
from builder.config.schema import SCHEMA, SETTINGS, Setting, fresh
from builder.errors import ConfigError
from builder.oci import refs


class Values:
    """The merged settings of one load and where each came from; local to one call."""

    def __init__(self, fallback: Source) -> None:
        self.values: dict[str, Any] = {}
        self.sources: dict[KeyPath, Source] = {}
        self.fallback = fallback  # the profile's own file, for values nobody wrote (defaults)

    def where(self, path: KeyPath) -> Source:
        return self.sources.get(path) or self.sources.get(path[:1]) or self.fallback

    def get(self, name: str) -> Any:
        """The value, or a copy of the schema default."""
        if name in self.values:
            return self.values[name]
        return fresh(SETTINGS[name].default)

    def replace(self, name: str, value: Any, source: Source) -> None:
        self.values[name] = value
        for path in [p for p in self.sources if p[:1] == (name,)]:
            del self.sources[path]
        self.sources[(name,)] = source

    def merge(self, name: str, value: Any, source: Source) -> None:
        if SETTINGS[name].kind.shape != "table":
            self.replace(name, fresh(value), source)
            return
        self.values.setdefault(name, {}).update(value)
        self.sources[(name,)] = source
        for entry in value:
            self.sources[(name, entry)] = source

    def override(self, item: str) -> None:
        source = Source(override=item)
        head, equals, text = item.partition("=")
        if not equals or not head.strip(" +"):
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}", hint=SET_HINT)
        append = head.endswith("+")
        name, dot, entry = head[:-1 if append else None].strip().partition(".")
        setting = SETTINGS.get(name)
        if setting is None:
            raise source.error(
                (name,), f"unknown key {name!r}{did_you_mean(name, list(SETTINGS))}",
                "profile keys are: " + ", ".join(sorted(SETTINGS)),
            )
        if not setting.settable:
            raise source.error((name,), f"{name} cannot be set with --set", f"edit {name} in the profile file")
        kind = setting.kind
        try:
            if dot:
                if kind.shape != "table" or append:
                    what = f"{name} is not a table" if kind.shape != "table" else "+= only appends to lists"
                    raise Invalid(what, hint=f"use --set {name}=VALUE" if kind.shape != "table"
                                   else f"use --set {name}.{entry}=VALUE")
                kind.check_name(entry)
                self.values.setdefault(name, {})[entry] = kind.parse_entry(entry, text)
                self.sources[(name, entry)] = source
            elif append:
                if kind.shape != "list":
                    raise Invalid(f"+= appends to a list, but {name} is {kind.expected}",
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
                    raise Invalid(f"{name} is a table", hint=f"set one entry: --set {name}.NAME=VALUE")
                self.replace(name, kind.parse(text), source)
        except Invalid as invalid:
            raise source.error(
                (name, *invalid.sub), invalid.message, invalid.hint or f"for example: {setting.example}"
            ) from None


SET_HINT = "use --set KEY=VALUE, --set KEY+=VALUE (append to a list) or --set TABLE.NAME=VALUE"


def merged(chain: tuple[ProfileFile, ...], overrides: Sequence[str]) -> Values:
    values = Values(chain[0].source)
    for file in reversed(chain):
        for name, value in file.data.items():
            if SETTINGS[name].inherited or file is chain[0]:
                values.merge(name, value, file.source)
    for item in overrides:
        values.override(item)
    return values


def require(values: Values, chain: tuple[ProfileFile, ...]) -> None:
    for setting in SCHEMA:
        if setting.required and setting.name not in values.values:
            raise ConfigError(
                f"no {setting.name} is set",
                file=chain[0].path,
                key=setting.name,
                hint=f"add {setting.example} to {chain[0].path.name} or to a profile it extends",
            )


def normalized_image(values: Values) -> str:
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


def each_string(values: Values, setting: Setting) -> list[tuple[KeyPath, str]]:
    """Every string in a setting's value with its key path."""
    value = values.get(setting.name)
    if value is None:
        return []
    if isinstance(value, dict):
        return [((setting.name, key), item) for key, item in value.items()]
    if isinstance(value, list):
        return [((setting.name, index), item) for index, item in enumerate(value)]
    return [((setting.name,), value)]


