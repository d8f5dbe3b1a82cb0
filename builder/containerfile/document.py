"""One Containerfile, read once: its bytes, its text and its instructions, parsed the way buildah 1.28 does.

podman 4.3 builds with buildah 1.28, which parses with openshift/imagebuilder's copy of the old Docker parser:
lines come from Go's bufio.Scanner (split on "\\n" only, one trailing "\\r" dropped, so a "\\r" inside a
line is whitespace, not a line break), then the escape directive, continuation lines and comments, then
one instruction per logical line. A build reads the file once into a `Document`; the base-image lookup,
pruning (and, once it asks, the input digest) take it from there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from builder.context.gopath import GO_SPACE
from builder.errors import ConfigError

_TOKEN_WHITESPACE = re.compile(r"[\t\v\f\r ]+")
_ESCAPE_DIRECTIVE = re.compile(r"#[ \t]*escape[ \t]*=[ \t]*(.).*")
# Docker's heredoc opener (<<EOF, <<-EOF, <<"EOF"); buildah 1.28 has no heredocs, later versions do.
_HEREDOC = re.compile(r"<<-?[\"']?[A-Za-z_]")
# bufio.MaxScanTokenSize, less the newline: past it bufio.Scanner gives up and buildah builds only the
# instructions before that line.
MAX_LINE = 64 * 1024 - 1


@dataclass(frozen=True)
class Instruction:
    line: int  # first physical line, 1-based
    end_line: int
    keyword: str  # upper case: COPY, FROM, ...
    flags: tuple[str, ...]  # "--from=build" etc., quotes and escapes removed as buildah's parser does
    args: tuple[str, ...]  # as parsed, before variable substitution (see `parse`)
    json: bool  # exec (JSON array) form
    text: str  # the logical line, continuations joined, trimmed
    heredoc: bool = False
    trigger: Instruction | None = None  # the instruction inside ONBUILD
    original: str = ""  # the logical line untrimmed, as buildah records it (it compares ARG lines by it)



@dataclass(frozen=True)
class Document:
    """A Containerfile's bytes as read once; the text and the instructions derive from them on first use."""

    path: Path | None  # for file:line in errors; None for a document built from text
    data: bytes

    @classmethod
    def read(cls, path: Path) -> Document:
        try:
            return cls(path, path.read_bytes())
        except OSError as error:
            raise ConfigError(f"cannot read the Containerfile: {error.strerror}", file=path) from None

    @classmethod
    def from_text(cls, text: str, path: Path | None = None) -> Document:
        return cls(path, text.encode("utf-8", "surrogateescape"))

    @cached_property
    def text(self) -> str:
        # No newline translation (read_text would make a lone "\r" a line break, which it is not to buildah).
        return self.data.decode("utf-8", errors="replace")

    @cached_property
    def instructions(self) -> tuple[Instruction, ...]:
        """See `parse`; raises ConfigError (file:line) for what buildah rejects."""
        return tuple(parse(self.text, self.path))

    @cached_property
    def long_line(self) -> int | None:
        """The number of the first line too long for buildah's line scanner, if there is one."""
        for number, line in enumerate(self.data.split(b"\n"), start=1):
            if len(line) >= MAX_LINE:
                return number
        return None


def parse(text: str, source: Path | None = None) -> list[Instruction]:
    """The Containerfile's instructions, split the way imagebuilder's parser (buildah 1.28) splits them.

    `args` per instruction: COPY/ADD/VOLUME the JSON array or the whitespace-separated words; ARG the words
    (quotes kept); ENV/LABEL name, value, name, value...; RUN/CMD/ENTRYPOINT/SHELL the JSON array or the rest
    of the line; ONBUILD the rest of the line (and `trigger`); others the rest of the line. Raises ConfigError
    (file:line) for what buildah rejects: a bad escape directive, FROM without one or three (AS) arguments,
    ARG without a name, COPY/ADD with fewer than two arguments, ENV without a value, a JSON array of
    non-strings, a forbidden ONBUILD trigger. Unlike buildah, it does so even in stages the build would skip.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if lines:
        lines[0] = lines[0].removeprefix("\ufeff")
    directive = _Directive(source)
    instructions: list[Instruction] = []
    index = 0
    while index < len(lines):
        token = lines[index].lstrip(GO_SPACE)
        directive.check(token, index + 1)
        index += 1
        start = index
        logical, done = directive.trim_continuation("" if token.startswith("#") else token)
        if done and logical == "":
            continue
        while not done and index < len(lines):
            raw = lines[index]
            directive.check(raw, index + 1)
            index += 1
            body = "" if raw.startswith("#") else raw
            stripped = body.lstrip(GO_SPACE)
            if stripped == "" or stripped.startswith("#"):
                continue  # an empty continuation line (buildah warns and skips it)
            part, done = directive.trim_continuation(body)
            logical += part
        instructions.append(_instruction(logical, start, index, directive, source))
    return instructions


class _Directive:
    """The escape directive: only in the lines before anything else, and at most once."""

    def __init__(self, source: Path | None) -> None:
        self.source = source
        self.escape = "\\"
        self.done = False
        self.seen = False
        self._continuation = re.compile(r"\\[ \t]*\Z")

    def check(self, line: str, number: int) -> None:
        if self.done:
            return
        found = _ESCAPE_DIRECTIVE.fullmatch(line.lower())
        if not found:
            self.done = True
            return
        if self.seen:
            raise ConfigError("only one escape parser directive can be used", file=self.source, line=number)
        if found.group(1) not in ("`", "\\"):
            raise ConfigError(f"invalid escape directive {found.group(1)!r}: must be ` or \\",
                              file=self.source, line=number)
        self.seen = True
        self.escape = found.group(1)
        self._continuation = re.compile(re.escape(self.escape) + r"[ \t]*\Z")

    def trim_continuation(self, line: str) -> tuple[str, bool]:
        """The line without its continuation mark, and whether the instruction ends here."""
        found = self._continuation.search(line)
        if found:
            return line[: found.start()], False
        return line, True


def _instruction(line: str, start: int, end: int, directive: _Directive, source: Path | None) -> Instruction:
    def fail(message: str) -> ConfigError:
        return ConfigError(message, file=source, line=start)

    stripped = line.strip(GO_SPACE)
    head = _TOKEN_WHITESPACE.split(stripped, maxsplit=1)
    keyword = head[0].lower()
    rest = ""
    flags: list[str] = []
    if len(head) == 2:
        rest, flags = _extract_flags(head[1])
        rest = rest.strip(GO_SPACE)
    is_json = False
    trigger = None
    if keyword in ("copy", "add", "volume"):
        args, is_json = _json_or_words(rest, fail)
        if keyword != "volume" and len(args) < 2:
            raise fail(f"{keyword.upper()} requires at least two arguments: "
                       f"{keyword.upper()} <source>... <destination>")
    elif keyword in ("from", "expose"):
        args = tuple(_TOKEN_WHITESPACE.split(rest)) if rest else ()
        if keyword == "from" and not (len(args) == 1 or (len(args) == 3 and args[0] and args[1].lower() == "as"
                                                          and args[2])):
            raise fail("FROM requires either one argument, or three: FROM <image> [AS <name>]")
    elif keyword == "arg":
        args = tuple(_parse_words(rest, directive.escape))
        if not args:
            raise fail("ARG requires a name: ARG <name>[=<default>]")
    elif keyword in ("env", "label"):
        args = _name_values(rest, directive.escape, keyword.upper(), fail)
    elif keyword in ("run", "cmd", "entrypoint", "shell"):
        args, is_json = _json_or_rest(rest, fail)
    elif keyword == "onbuild":
        if not rest:
            raise fail("ONBUILD requires an instruction")
        trigger = _instruction(rest, start, end, directive, source)
        if trigger.keyword in ("ONBUILD", "FROM", "MAINTAINER"):
            raise fail(f"{trigger.keyword} isn't allowed as an ONBUILD trigger")
        args = (rest,)
    else:
        args = (rest,) if rest else ()
    heredoc = keyword in ("copy", "add", "run") and _HEREDOC.search(rest) is not None
    return Instruction(line=start, end_line=end, keyword=keyword.upper(), flags=tuple(flags), args=args,
                       json=is_json, text=stripped, heredoc=heredoc, trigger=trigger, original=line)


def _extract_flags(line: str) -> tuple[str, list[str]]:
    """imagebuilder's extractBuilderFlags: leading --words (quotes and backslashes removed) and the rest.

    It walks bytes, so a byte 0x85 or 0xa0 inside a UTF-8 character counts as a space, as it does in Go.
    """
    data = line.encode("utf-8", "surrogateescape")
    words: list[bytes] = []
    in_spaces, in_word, in_quote = 0, 1, 2
    phase, word, quote, blank_ok = in_spaces, b"", 0, False
    pos = 0
    while pos <= len(data):
        char = data[pos] if pos < len(data) else -1
        if phase == in_spaces:
            if pos == len(data):
                break
            if _byte_is_space(char):
                pos += 1
                continue
            if char != 0x2D or pos + 1 == len(data) or data[pos + 1] != 0x2D:
                return data[pos:].decode("utf-8", "surrogateescape"), _decode_all(words)
            phase = in_word
        if pos == len(data):
            if word != b"--" and (blank_ok or word):
                words.append(word)
            break
        if phase == in_word:
            if _byte_is_space(char):
                phase = in_spaces
                if word == b"--":
                    return data[pos:].decode("utf-8", "surrogateescape"), _decode_all(words)
                if blank_ok or word:
                    words.append(word)
                word, blank_ok = b"", False
                pos += 1
                continue
            if char in (0x27, 0x22):
                quote, blank_ok, phase = char, True, in_quote
                pos += 1
                continue
            if char == 0x5C:
                if pos + 1 == len(data):
                    pos += 1
                    continue
                pos += 1
                char = data[pos]
            word += bytes((char,))
            pos += 1
            continue
        # in a quote
        if char == quote:
            phase = in_word
            pos += 1
            continue
        if char == 0x5C:
            if pos + 1 == len(data):
                phase = in_word
                pos += 1
                continue
            pos += 1
            char = data[pos]
        word += bytes((char,))
        pos += 1
    return "", _decode_all(words)


def _byte_is_space(char: int) -> bool:
    return char in (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0)


def _decode_all(words: list[bytes]) -> list[str]:
    return [word.decode("utf-8", "surrogateescape") for word in words]


def _json_array(rest: str, fail: Callable[[str], ConfigError]) -> tuple[str, ...] | None:
    """parseJSON: the first JSON value of a line that starts with '[' (Go ignores what follows it)."""
    text = rest.lstrip(GO_SPACE)
    if not text.startswith("["):
        return None

    def no_constants(name: str) -> None:
        raise ValueError(name)  # NaN and Infinity are not JSON to Go

    try:
        value, _ = json.JSONDecoder(parse_constant=no_constants).raw_decode(text)
    except ValueError:
        return None
    if not all(isinstance(item, str) for item in value):
        raise fail("when using JSON array syntax, arrays must be comprised of strings only")
    return tuple(value)


def _json_or_words(rest: str, fail: Callable[[str], ConfigError]) -> tuple[tuple[str, ...], bool]:
    array = _json_array(rest, fail)
    if array is not None:
        return array, True
    return (tuple(_TOKEN_WHITESPACE.split(rest)) if rest else ()), False


def _json_or_rest(rest: str, fail: Callable[[str], ConfigError]) -> tuple[tuple[str, ...], bool]:
    if not rest:
        return (), False
    array = _json_array(rest, fail)
    if array is not None:
        return array, True
    return (rest,), False


def _parse_words(rest: str, escape: str) -> list[str]:
    """parseWords: words split on spaces outside quotes; quotes and escape tokens are kept in the words."""
    words: list[str] = []
    word = ""
    in_spaces, in_word, in_quote = 0, 1, 2
    phase, quote, blank_ok = in_spaces, "", False
    pos = 0
    while pos <= len(rest):
        char = rest[pos] if pos < len(rest) else ""
        if phase == in_spaces:
            if pos == len(rest):
                break
            if char in GO_SPACE:
                pos += 1
                continue
            phase = in_word
        if pos == len(rest):
            if blank_ok or word:
                words.append(word)
            break
        if phase == in_word:
            if char in GO_SPACE:
                phase = in_spaces
                if blank_ok or word:
                    words.append(word)
                word, blank_ok = "", False
                pos += 1
                continue
            if char in "'\"":
                quote, blank_ok, phase = char, True, in_quote
            if char == escape:
                if pos + 1 == len(rest):
                    pos += 1
                    continue
                word += char
                pos += 1
                char = rest[pos]
            word += char
            pos += 1
            continue
        if char == quote:
            phase = in_word
        if char == escape and quote != "'":
            if pos + 1 == len(rest):
                phase = in_word
                pos += 1
                continue
            pos += 1
            word += char
            char = rest[pos]
        word += char
        pos += 1
    return words


def _name_values(rest: str, escape: str, key: str, fail: Callable[[str], ConfigError]) -> tuple[str, ...]:
    """parseNameVal: `KEY name value` (old form) or `KEY n1=v1 n2=v2`, flattened to (n1, v1, n2, v2...)."""
    words = _parse_words(rest, escape)
    if not words:
        raise fail(f"{key} requires at least one argument")
    if "=" not in words[0]:
        parts = _TOKEN_WHITESPACE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise fail(f"{key} must have two arguments")
        return (parts[0], parts[1])
    flat: list[str] = []
    for word in words:
        if "=" not in word:
            raise fail(f"syntax error - can't find = in {word!r}. Must be of the form: name=value")
        name, _, value = word.partition("=")
        flat += [name, value]
    return tuple(flat)
