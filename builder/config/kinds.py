"""The small type system of profile values: what a key may hold, how `--set` text becomes a value, and the
message when a value does not fit.

A kind checks a value parsed from TOML (`check`) and parses the text of `--set KEY=TEXT` (`parse`); both raise
`Invalid`, which the caller turns into a `ConfigError` located at the file, line and key path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

KeyPath = tuple[str | int, ...]

# Several platforms in one run would need a manifest list, which the build does not make yet. Every command
# refuses them at the same place (profile validation) so that `imgctl show` never accepts what `build` refuses.
SEVERAL_PLATFORMS = "building several platforms in one run is not supported yet"
SEVERAL_PLATFORMS_HINT = "give one platform per profile (or `--set platform=linux/arm64`)"


class Invalid(Exception):
    """A value that does not fit its kind. `sub` extends the key path (a list index, a table entry)."""

    def __init__(self, message: str, sub: KeyPath = (), hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.sub = sub
        self.hint = hint


def toml_type(value: object) -> str:
    # bool before int: True is an int in Python, but a boolean in TOML and to the user.
    if isinstance(value, bool):
        return "boolean"
    for kind, name in ((int, "integer"), (float, "float"), (str, "string"), (list, "array"), (dict, "table")):
        if isinstance(value, kind):
            return name
    return type(value).__name__.replace("datetime", "date-time")


def did_you_mean(word: str, options: Sequence[str]) -> str:
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
        """Raise Invalid unless `value` (from TOML) fits."""
        raise NotImplementedError

    def parse(self, text: str) -> Any:
        """Turn the text of `--set KEY=TEXT` into a checked value; raise Invalid."""
        raise NotImplementedError

    def check_name(self, name: str) -> None:
        """Raise Invalid unless `name` may be an entry of this table (`--set KEY.NAME=...`)."""
        raise Invalid("not a table")

    def parse_entry(self, name: str, text: str) -> Any:
        """The value of `--set KEY.NAME=TEXT`, once `check_name` accepted NAME; a table of strings keeps TEXT."""
        return text

    def _mismatch(self, value: object, sub: KeyPath = ()) -> Invalid:
        return Invalid(f"expected {self.expected}, got {toml_type(value)}", sub)


@dataclass(frozen=True)
class String(Kind):
    expected: str = "a string"
    pattern: str | None = None  # a full-match regex the string must satisfy
    rule: str = ""  # says what `pattern` wants, after "expected"

    def check(self, value: object) -> None:
        if not isinstance(value, str):
            raise self._mismatch(value)
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise Invalid(f"expected {self.rule}, got {value!r}")

    def parse(self, text: str) -> Any:
        self.check(text)
        return text


@dataclass(frozen=True)
class Boolean(Kind):
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
        raise Invalid(f"expected true or false (or 1/0, yes/no), got {text!r}")


@dataclass(frozen=True)
class Integer(Kind):
    expected: str = "an integer"
    minimum: int | None = None
    maximum: int | None = None

    def check(self, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._mismatch(value)
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            low = "" if self.minimum is None else f" from {self.minimum}"
            high = "" if self.maximum is None else f" to {self.maximum}"
            raise Invalid(f"expected an integer{low}{high}, got {value}")

    def parse(self, text: str) -> Any:
        try:
            value = int(text.strip())
        except ValueError:
            raise Invalid(f"expected an integer, got {text!r}") from None
        self.check(value)
        return value


@dataclass(frozen=True)
class Choice(Kind):
    choices: tuple[str, ...] = ()

    def check(self, value: object) -> None:
        if not isinstance(value, str):
            raise self._mismatch(value)
        if value not in self.choices:
            raise Invalid(f"expected {self.expected}, got {value!r}{did_you_mean(value, self.choices)}")

    def parse(self, text: str) -> Any:
        self.check(text)
        return text


def choice(*choices: str) -> Choice:
    return Choice(expected="one of " + ", ".join(repr(c) for c in choices), choices=choices)


def _split_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


@dataclass(frozen=True)
class StringList(Kind):
    expected: str = "a list of strings"
    shape: str = "list"
    item: String = String()

    def check(self, value: object) -> None:
        if not isinstance(value, list):
            raise self._mismatch(value)
        for index, item in enumerate(value):
            try:
                self.item.check(item)
            except Invalid as invalid:
                raise Invalid(invalid.message, (index,)) from None

    def parse(self, text: str) -> Any:
        items = _split_list(text)
        self.check(items)
        return items


PLATFORM_RULE = "OS/ARCH or OS/ARCH/VARIANT, e.g. 'linux/amd64' or 'linux/arm/v7'"


def platforms_of(value: str | list[str]) -> tuple[str, ...]:
    """The distinct platforms of a `platform` value, in order: a lone string is one platform."""
    return tuple(dict.fromkeys([value] if isinstance(value, str) else value))


@dataclass(frozen=True)
class Platforms(StringList):
    """One platform as a string, or a list naming it (duplicates allowed); several distinct ones are refused."""

    expected: str = "a platform string or a list of them"
    item: String = String(pattern=r"[a-z0-9_]+/[a-z0-9_]+(?:/[a-z0-9_.]+)?", rule=PLATFORM_RULE)

    def check(self, value: object) -> None:
        if isinstance(value, str):
            try:
                super().check([value])
            except Invalid as invalid:  # a lone string has no index to report
                raise Invalid(invalid.message) from None
            return
        super().check(value)
        assert isinstance(value, list)  # super().check let nothing else through
        self.check_count(value)

    @staticmethod
    def check_count(value: str | list[str]) -> None:
        if len(platforms_of(value)) > 1:
            raise Invalid(SEVERAL_PLATFORMS, hint=SEVERAL_PLATFORMS_HINT)


@dataclass(frozen=True)
class StringTable(Kind):
    expected: str = 'a table of strings (NAME = "VALUE")'
    shape: str = "table"
    key_pattern: str = r".+"  # what an entry's name must full-match
    key_rule: str = "a non-empty name"
    values: tuple[str, ...] = ()  # when given, what every entry's value must be one of

    def check(self, value: object) -> None:
        if not isinstance(value, dict):
            raise self._mismatch(value)
        for key, item in value.items():
            self.check_name(key)
            if not isinstance(item, str):
                raise Invalid(f"expected a string, got {toml_type(item)}", (key,))
            self._check_value(key, item)

    def _check_value(self, key: str, item: str) -> None:
        if self.values and item not in self.values:
            wanted = ", ".join(repr(v) for v in self.values)
            raise Invalid(f"expected one of {wanted}, got {item!r}{did_you_mean(item, self.values)}", (key,))

    def parse_entry(self, name: str, text: str) -> Any:
        self._check_value(name, text)
        return text

    def check_name(self, name: str) -> None:
        if not re.fullmatch(self.key_pattern, name):
            raise Invalid(f"{name!r} is not a valid name here: expected {self.key_rule}", (name,))

    def parse(self, text: str) -> Any:
        raise Invalid("a table cannot be set as a whole")


REGISTRY_OPTIONS: Mapping[str, str] = MappingProxyType(
    {"tls_verify": "true or false", "cert_dir": "a directory path", "insecure": "true or false"}
)


@dataclass(frozen=True)
class RegistryTable(Kind):
    """Per-registry settings: `[registries."quay.io"]` with tls_verify, cert_dir, insecure."""

    expected: str = "a table of registry hosts, each a table of settings"
    shape: str = "table"

    def check(self, value: object) -> None:
        if not isinstance(value, dict):
            raise self._mismatch(value)
        for host, options in value.items():
            if not re.fullmatch(r"[A-Za-z0-9.-]+(?::[0-9]+)?", host):
                raise Invalid(f"{host!r} is not a registry host: expected HOST or HOST:PORT", (host,))
            if not isinstance(options, dict):
                raise Invalid(f"expected a table of settings, got {toml_type(options)}", (host,))
            for option, item in options.items():
                wanted = REGISTRY_OPTIONS.get(option)
                if wanted is None:
                    raise Invalid(
                        f"unknown registry setting {option!r}{did_you_mean(option, list(REGISTRY_OPTIONS))}",
                        (host, option),
                        hint="registry settings are: " + ", ".join(REGISTRY_OPTIONS),
                    )
                if (wanted == "a directory path") != isinstance(item, str) or isinstance(item, (dict, list)):
                    raise Invalid(f"expected {wanted}, got {toml_type(item)}", (host, option))

    def check_name(self, name: str) -> None:
        raise Invalid("registry settings cannot be set with --set", hint="use --tls-verify / --cert-dir")

    def parse(self, text: str) -> Any:
        raise Invalid("a table cannot be set as a whole", hint="use --tls-verify / --cert-dir")


@dataclass(frozen=True)
class Section(Kind):
    """A table with a fixed set of entries, each of its own kind: `[lint]`, `[verify]`.

    Merged entry by entry like any table (a child profile's `lint.ignore` replaces its parent's), and
    `--set SECTION.ENTRY=TEXT` parses TEXT with the entry's kind.
    """

    expected: str = "a table"
    shape: str = "table"
    entries: Mapping[str, Kind] = field(default_factory=dict)

    def check(self, value: object) -> None:
        if not isinstance(value, dict):
            raise self._mismatch(value)
        for name, item in value.items():
            self.check_name(name)
            try:
                self.entries[name].check(item)
            except Invalid as invalid:
                raise Invalid(invalid.message, (name, *invalid.sub), invalid.hint) from None

    def check_name(self, name: str) -> None:
        if name not in self.entries:
            raise Invalid(
                f"unknown setting {name!r}{did_you_mean(name, list(self.entries))}",
                (name,),
                hint="settings here are: " + ", ".join(self.entries),
            )

    def parse_entry(self, name: str, text: str) -> Any:
        try:
            return self.entries[name].parse(text)
        except Invalid as invalid:
            raise Invalid(invalid.message, (name, *invalid.sub), invalid.hint) from None

    def parse(self, text: str) -> Any:
        raise Invalid("a table cannot be set as a whole")
