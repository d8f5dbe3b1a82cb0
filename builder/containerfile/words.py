"""Shell-word expansion as imagebuilder's ProcessWord does it, with values imgctl may not know, and the
variables a stage's instructions see (ENV over ARG, as buildah's Step looks them up)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from builder.containerfile.document import Instruction

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# imagebuilder's builtinBuildArgs: `ARG TARGETARCH` takes its value from the build service's platform, which
# imgctl does not know, so these are never resolved.
PLATFORM_ARGS = frozenset({"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
                            "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT"})
# imagebuilder's builtinAllowedBuildArgs: usable from --build-arg without an ARG instruction.
PROXY_ARGS = frozenset({"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                         "NO_PROXY", "no_proxy"})



class Unresolvable(Exception):
    """A word whose expansion imgctl cannot know for sure; str() says why."""

    def __init__(self, reason: str, *, syntax: bool = False) -> None:
        super().__init__(reason)
        self.syntax = syntax


@dataclass(frozen=True)
class Unknown:
    """A variable value imgctl cannot know (in a variable table)."""

    reason: str


Lookup = Callable[[str], "str | None"]  # a value, None when unset; raises Unresolvable when unknown


class _Word:
    def __init__(self, text: str, lookup: Lookup, strict: bool) -> None:
        self.text = text
        self.pos = 0
        self.lookup = lookup
        self.strict = strict  # a bare reference to an unset variable is unresolvable (buildah: empty)

    def peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def take(self) -> str | None:
        char = self.peek()
        if char is not None:
            self.pos += 1
        return char

    def process(self, stop: str | None = None) -> str:
        out: list[str] = []
        while (char := self.peek()) is not None:
            if stop is not None and char == stop:
                self.pos += 1
                return "".join(out)
            if char == "'":
                out.append(self._single_quoted())
            elif char == '"':
                out.append(self._double_quoted())
            elif char == "$":
                out.append(self._dollar())
            else:
                self.pos += 1
                if char == "\\":
                    char = self.take()
                    if char is None:
                        break
                out.append(char)
        if stop is not None:
            raise Unresolvable(f"no matching {stop!r}", syntax=True)
        return "".join(out)

    def _single_quoted(self) -> str:
        self.pos += 1
        end = self.text.find("'", self.pos)
        if end < 0:
            raise Unresolvable("unterminated single quote", syntax=True)
        value = self.text[self.pos:end]
        self.pos = end + 1
        return value

    def _double_quoted(self) -> str:
        self.pos += 1
        out: list[str] = []
        while True:
            char = self.peek()
            if char == '"':
                self.pos += 1
                return "".join(out)
            if char is None:
                raise Unresolvable("unterminated double quote", syntax=True)
            if char == "$":
                out.append(self._dollar())
                continue
            self.pos += 1
            if char == "\\":
                following = self.peek()
                if following is None:
                    continue
                if following in '"$\\':
                    char = following
                    self.pos += 1
            out.append(char)

    def _dollar(self) -> str:
        self.pos += 1
        if self.peek() != "{":
            name = self._name()
            return self._value(name, self.strict) if name else "$"
        self.pos += 1
        name = self._name()
        char = self.peek()
        if char == "}":
            self.pos += 1
            return self._value(name, self.strict)
        if char != ":":
            raise Unresolvable(f"missing ':' in ${{{name}...}}", syntax=True)
        self.pos += 1
        modifier = self.take()
        word_problem: Unresolvable | None = None
        try:
            word = self.process("}")
        except Unresolvable as problem:
            if problem.syntax:
                raise
            word, word_problem = "", problem
        value = self._value(name, False)
        if modifier not in ("+", "-"):
            raise Unresolvable(f"unsupported modifier {modifier!r} in ${{{name}:...}}", syntax=True)
        use_word = bool(value) if modifier == "+" else not value
        if not use_word:
            return value if modifier == "-" else ""
        if word_problem is not None:
            raise word_problem
        return word

    def _name(self) -> str:
        name: list[str] = []
        while (char := self.peek()) is not None:
            if not name and _is_digit(char):
                self.pos += 1
                return char
            if not (_is_letter(char) or _is_digit(char) or char == "_"):
                break
            name.append(char)
            self.pos += 1
        return "".join(name)

    def _value(self, name: str, bare: bool) -> str:
        value = self.lookup(name)
        if value is None:
            if bare:
                raise Unresolvable(f"${name} has no value")
            return ""
        return value


def _is_digit(char: str) -> bool:
    return unicodedata.category(char) == "Nd"


def _is_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L")


def expand(word: str, lookup: Lookup, *, strict: bool = True) -> str:
    return _Word(word, lookup, strict).process()


@dataclass
class Environment:
    """A stage's variables as buildah's Step sees them: ENV (the stage's, inherited, the image's) over ARGs."""

    env: dict[str, str]  # name -> where it is set, for the reason text
    env_unknown: str | None
    args: dict[str, str | Unknown]
    allowed: set[str]
    heading: Mapping[str, str | Unknown]
    user: Mapping[str, str]
    args_unknown: str | None = None

    def lookup(self, name: str) -> str | None:
        if self.env_unknown is not None:
            raise Unresolvable(f"${name}: {self.env_unknown}")
        if name in self.env:
            raise Unresolvable(f"${name} {self.env[name]}")
        return self.arg(name)

    def arg(self, name: str) -> str | None:
        if self.args_unknown is not None:
            raise Unresolvable(self.args_unknown)
        if name not in self.allowed or name not in self.args:
            return None
        value = self.args[name]
        if isinstance(value, Unknown):
            raise Unresolvable(f"${name} {value.reason}")
        return value

    def declare(self, instruction: Instruction) -> None:
        """imagebuilder's ARG dispatcher, one word at a time."""
        for raw in instruction.args:
            try:
                word: str | Unknown = expand(raw, self.lookup, strict=False)
            except Unresolvable as problem:
                word = Unknown(f"has a default that cannot be resolved ({problem})")
            if isinstance(word, Unknown):
                name, has_default = raw.partition("=")[0], "=" in raw
                if not _PLAIN_NAME.fullmatch(name):
                    self.args_unknown = f"the ARG on line {instruction.line} cannot be resolved"
                    continue
                value: str | Unknown = word
            elif "=" in word:
                name, _, value = word.partition("=")
                has_default = True
            else:
                name, value, has_default = word, "", False
            if name in PLATFORM_ARGS:
                # Their values come from the service's platform; TARGETPLATFORM=<p> also sets TARGETOS & co.
                for platform_arg in PLATFORM_ARGS if name == "TARGETPLATFORM" else (name,):
                    self.allowed.add(platform_arg)
                    self.args[platform_arg] = Unknown("is set by the build service for its platform")
                continue
            self.allowed.add(name)
            if not has_default and name in self.heading:
                self.args[name] = self.heading[name]
            if name not in self.user and has_default:
                self.args[name] = value
