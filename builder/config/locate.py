"""Where a profile value came from, and the line of a TOML key: error messages say `FILE:LINE: KEY: ...`.

`locate` is a best-effort scan of the TOML text, not a parser: tomllib keeps no positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from builder.config.kinds import KeyPath
from builder.errors import ConfigError

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_KEY_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED_KEY = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_TABLE_LINE = re.compile(rf"\s*\[\[?\s*({_DOTTED_KEY})\s*\]")
_KEY_LINE = re.compile(rf"\s*({_DOTTED_KEY})\s*=")


def render_path(path: KeyPath) -> str:
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


def locate(text: str | None, path: KeyPath) -> int | None:
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
class Source:
    """Where a value came from: a profile file, or one `--set` item."""

    file: Path | None = None
    text: str | None = None
    override: str | None = None

    def error(self, path: KeyPath, message: str, hint: str | None) -> ConfigError:
        key = render_path(path) if path else None
        if self.override is not None:
            return ConfigError(f"{message} (from --set {self.override})", key=key, hint=hint)
        return ConfigError(message, file=self.file, line=locate(self.text, path), key=key, hint=hint)

