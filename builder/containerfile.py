"""What a build can read from its context, and a context cut down to exactly that.

Through the Podman API every build uploads its context, and most of it is usually never read. `reach` reads
the Containerfile the way podman 4.3 / buildah 1.28 (imagebuilder's parser and evaluator) do and lists the
context paths the build can read; `prune` keeps only those entries of a `ContextSnapshot` (plus the targets of
symlinks the build follows). The rule is one-sided: imgctl may send more than the build reads, never less,
so the image is identical file for file to a build from the whole context. Whenever something cannot be
decided for sure, `reach` answers "everything" and says why (`Reach.reason`).

What reads the context (buildah 1.28):
* COPY/ADD without ``--from`` (or with a ``--from`` that expands to nothing). Sources are expanded like a shell
  word (quotes, ``\\`` escapes, ``$VAR``, ``${VAR}``, ``${VAR:-word}``, ``${VAR:+word}``), joined to the context
  directory (``..`` cannot leave it) and globbed with Go's ``filepath.Glob``; a match that is a symlink is
  followed, a directory is copied whole. ``ADD http(s)://...`` downloads instead.
* ``RUN --mount=type=bind`` without ``from=``: the mounted part of the uploaded context (all of it without
  ``source=``), exactly as uploaded; the command can list it.
* ONBUILD triggers of a base image, which run at the start of the stage built on it; they can read anything.
Stages the target does not depend on (through FROM, ``COPY --from``, ``RUN --mount=from=``) are skipped
(``skipunusedstages``, on by default), so their sources are not needed.

Variables: buildah expands COPY sources with the stage's ARG values *and its environment*, and the
environment wins: ENV instructions, the ENV of earlier stages it is built on and the ENV of the base image.
imgctl resolves ARG values only. A source that uses a variable set by ENV, or by the base image's
environment, or a variable with no value at all, is unresolvable and the whole context is sent. That is why
`reach` must be told about each external base image (`ImageFacts`, from the engine's inspect: its ENV names
and whether it may carry ONBUILD triggers); without that it falls back to the whole context.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from builder.context.walk import FILE, SYMLINK, ContextSnapshot
from builder.errors import ConfigError

# Go's unicode.IsSpace (strings.TrimSpace, bytes.TrimLeftFunc); str.isspace also counts \x1c-\x1f.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
    "\u2028\u2029\u202f\u205f\u3000"
_TOKEN_WHITESPACE = re.compile(r"[\t\v\f\r ]+")
_ESCAPE_DIRECTIVE = re.compile(r"#[ \t]*escape[ \t]*=[ \t]*(.).*")
# Docker's heredoc opener (<<EOF, <<-EOF, <<"EOF"); buildah 1.28 has no heredocs, later versions do.
_HEREDOC = re.compile(r"<<-?[\"']?[A-Za-z_]")
_GLOB_META = "*?[\\"
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ATOI = re.compile(r"[+-]?[0-9]+")
_ONBUILD_HISTORY = re.compile(r"(?:^|\(nop\)\s*)onbuild\s", re.IGNORECASE)

# imagebuilder's builtinBuildArgs: `ARG TARGETARCH` takes its value from the build service's platform, which
# imgctl does not know, so these are never resolved.
_PLATFORM_ARGS = frozenset({"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
                            "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT"})
# imagebuilder's builtinAllowedBuildArgs: usable from --build-arg without an ARG instruction.
_PROXY_ARGS = frozenset({"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                         "NO_PROXY", "no_proxy"})
# Flags that change how sources are written into the image, never which context paths are read. Anything else
# is not understood, and an instruction with it reads "everything".
_COPY_FLAGS = frozenset({"--from", "--chown", "--chmod", "--link", "--parents", "--exclude"})
_ADD_FLAGS = frozenset({"--chown", "--chmod", "--link", "--checksum", "--keep-git-dir", "--exclude"})
_RUN_FLAGS = frozenset({"--mount", "--network", "--security"})
# Symlink chains can grow the list of sources without end (`a -> a/b`); past these, send everything.
_MAX_SOURCES = 4096
_MAX_DEPTH = 256
_MAX_LINE = 64 * 1024 - 1  # bufio.MaxScanTokenSize, less the newline
_Segment = str | re.Pattern[str]  # a literal component name, or Go's filepath.Match as a regexp
# Where the podman service unpacks an uploaded context: <tmp>/libpod_builderNNN/build (podman 4.3 compat
# handler, extractTarFile); a source can climb out with '..' and name its way back in.
_SERVICE_CONTEXT_DIR = "build"
_SERVICE_ANCHOR_PREFIX = "libpod_builder"  # symlink chains could grow the list without end; past this, send everything


# --------------------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Stage:
    index: int
    name: str | None  # the AS name, None for an unnamed stage
    base: str  # the image or stage after FROM, as written after ARG substitution (as written if unresolvable)


@dataclass(frozen=True)
class Source:
    line: int  # 0 for sources imgctl adds itself (symlink targets, kept files)
    instruction: str  # COPY, ADD, RUN (a bind mount), ONBUILD COPY, ..., or "symlink"
    pattern: str  # relative to the context root, '/'-separated, Go filepath.Match syntax ('\\' escapes)


@dataclass(frozen=True)
class ImageFacts:
    """What an external base image adds to a build's reach. Build it with `image_facts` from an inspect."""

    env: frozenset[str] = frozenset()  # variables its config sets: buildah lets them override ARG values
    onbuild: bool = False  # it may carry ONBUILD triggers, which run in our build and can read the context


@dataclass(frozen=True)
class Reach:
    """The context paths a build can read. `sources` None means everything, and `reason` says why."""

    sources: tuple[Source, ...] | None
    reason: str | None
    stages: tuple[Stage, ...]  # the stages the build runs, in order (as far as known when it falls back)

    def needs(self, relpath: str, is_dir: bool) -> bool:
        """Could the build read this path (relative, '/'-separated)?

        True when it matches a source, lies below a match, or is a directory on the way to a possible match
        (pass is_dir=True for a symlink too: it may stand for a directory). The root is always needed.
        Symlinks inside the context can lead anywhere: `with_links` (which `prune` applies) adds their targets.
        """
        if self.sources is None:
            return True
        parts = _split(relpath)
        if not parts:
            return True
        for segments in self._matchers:
            relation = _relation(segments, parts)
            if relation is not None and (relation != _WAY or is_dir):
                return True
        return False

    def could_need_below(self, reldir: str) -> bool:
        """False when nothing below reldir can be read (so a walker may skip it), ignoring symlinks."""
        return self.needs(reldir, True)

    def with_links(self, snapshot: ContextSnapshot) -> Reach:
        """This reach plus what the snapshot's symlinks lead to when the build follows them.

        Buildah follows a symlink that a source matches (`COPY link /x` copies the target) or that a source
        passes through (`COPY dir/file` with `dir` a link), resolving it inside the context; it copies links
        found below a copied directory as links. A relative target with ``..`` is resolved against the path
        the link was reached by (not its real location), so when a link can also be reached through another
        link the result is "everything".
        """
        if self.sources is None:
            return self
        links = {entry.path: entry.link or "" for entry in snapshot.entries if entry.kind == SYMLINK}
        if not links:
            return self
        sources = list(self.sources)
        seen = {source.pattern for source in sources}
        targets: dict[str, str] = {}
        pending = list(sources)  # each source is matched against the links once
        while pending:
            source = pending.pop()
            segments = _compile_pattern(source.pattern)
            for path, link in links.items():
                parts = path.split("/")
                relation = _relation(segments, parts)
                if relation is None or relation == _BELOW:
                    continue
                target = targets.setdefault(path, _resolve_link(path, link))
                if not target and relation == _MATCH:
                    return Reach(None, f"symlink {path} leads to the context root", self.stages)
                rest = source.pattern.split("/")[len(parts):]
                pattern = "/".join([_escape_glob(target)] * bool(target) + rest)
                if pattern.count("/") >= _MAX_DEPTH:
                    return Reach(None, f"symlink {path} leads too deep to follow", self.stages)
                if pattern not in seen:
                    seen.add(pattern)
                    found = Source(0, "symlink", pattern)
                    sources.append(found)
                    pending.append(found)
            if len(sources) > _MAX_SOURCES:
                return Reach(None, "symlinks lead to too many paths to follow", self.stages)
        problem = _path_dependent_link(links, targets)
        if problem:
            return Reach(None, problem, self.stages)
        return Reach(tuple(sources), self.reason, self.stages)

    def describe(self) -> list[str]:
        """Lines for --debug: the stages that run, then what is sent and why."""
        lines = []
        for stage in self.stages:
            name = f" AS {stage.name}" if stage.name else ""
            lines.append(f"stage {stage.index}: FROM {stage.base}{name}")
        if self.sources is None:
            lines.append(f"sending the whole context: {self.reason}")
            return lines
        lines.append(f"sending only what the Containerfile can read ({len(self.sources)} source patterns):")
        for source in self.sources:
            where = f"line {source.line} " if source.line else ""
            lines.append(f"  {where}{source.instruction} {source.pattern}")
        return lines

    @cached_property
    def _matchers(self) -> tuple[tuple[_Segment, ...], ...]:
        return tuple(_compile_all(self.sources or ()))


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


# --------------------------------------------------------------------------------------------------------------
# Public functions


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
        token = lines[index].lstrip(_GO_SPACE)
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
            stripped = body.lstrip(_GO_SPACE)
            if stripped == "" or stripped.startswith("#"):
                continue  # an empty continuation line (buildah warns and skips it)
            part, done = directive.trim_continuation(body)
            logical += part
        instructions.append(_instruction(logical, start, index, directive, source))
    return instructions


def reach(text: str, build_args: Mapping[str, str], target: str | None, containerfile: Path | None = None,
          *, images: Mapping[str, ImageFacts] | None = None) -> Reach:
    """What a build of this Containerfile can read from its context.

    `images` maps each external base image the build uses (as `base_images` names them) to its facts; a base
    image missing from it (or `images` None) makes the answer "everything", because its environment and
    ONBUILD triggers are unknown. ConfigError for a malformed Containerfile (see `parse`).
    """
    instructions = parse(text, containerfile)
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line.encode("utf-8", "surrogateescape")) >= _MAX_LINE:
            # bufio.Scanner gives up there and buildah silently builds only the instructions before it
            return Reach(None, f"line {number} is longer than 64 KiB, where buildah stops reading the "
                               f"Containerfile", ())
    return _Plan(instructions, build_args, target or None).reach(images)


def base_images(text: str, build_args: Mapping[str, str], target: str | None = None) -> tuple[str, ...]:
    """The external base images of the stages the build runs: not stage names, not scratch; substituted.

    Bases whose ARG substitution cannot be resolved are left out. Inspect these and pass `image_facts` of
    each to `reach`.
    """
    plan = _Plan(parse(text), build_args, target or None)
    return plan.external_bases()


def image_facts(inspect: Mapping[str, Any]) -> ImageFacts:
    """ImageFacts from the engine's image inspect (libpod or Docker-compatible; the whole answer or its Config).

    Podman 4.3 reports no ONBUILD triggers in either inspect even when an image has them, so the image's
    history is read as well: an ONBUILD entry there (or no history at all) counts as "may have triggers".
    That also flags images built *from* an ONBUILD image, whose triggers have already run: a known
    false alarm, which costs a full-context upload, never a wrong image.
    """
    config = inspect.get("Config") if isinstance(inspect.get("Config"), Mapping) else inspect
    env = frozenset(str(item).split("=", 1)[0] for item in (config.get("Env") or ()))
    history = inspect.get("History")
    onbuild = bool(config.get("OnBuild")) or not isinstance(history, list) or any(
        isinstance(item, Mapping) and _ONBUILD_HISTORY.search(str(item.get("created_by") or "").strip())
        for item in history)
    return ImageFacts(env=env, onbuild=onbuild)


def prune(snapshot: ContextSnapshot, reach: Reach, keep: Iterable[str] = ()) -> ContextSnapshot:
    """A snapshot holding only what `reach` (with the symlinks it follows) needs, plus `keep`.

    `keep` names paths that must travel whatever the Containerfile says (the Containerfile itself, the ignore
    file); their parent directories come with them. `excluded_count` grows by what pruning removed, a removed
    directory counting once with its contents; `pruned_dirs` still lists only directories never read.
    """
    full = reach.with_links(snapshot)
    keep_paths = _keep_paths(keep)
    if full.sources is None or "" in keep_paths:
        return snapshot
    kept_paths = Reach(tuple(Source(0, "keep", _escape_glob(path)) for path in keep_paths), None, ())
    kept = []
    removed: set[str] = set()
    for entry in snapshot.entries:
        is_dir = entry.kind != FILE
        if full.needs(entry.path, is_dir) or kept_paths.needs(entry.path, is_dir):
            kept.append(entry)
        else:
            removed.add(entry.path)
    newly_excluded = sum(1 for path in removed if path.rpartition("/")[0] not in removed)
    return ContextSnapshot(
        root=snapshot.root,
        entries=tuple(kept),
        ignore_file=snapshot.ignore_file,
        rules=snapshot.rules,
        excluded_count=snapshot.excluded_count + newly_excluded,
        pruned_dirs=snapshot.pruned_dirs,
        skipped_special=snapshot.skipped_special,
    )


# --------------------------------------------------------------------------------------------------------------
# Parsing (imagebuilder dockerfile/parser)


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

    stripped = line.strip(_GO_SPACE)
    head = _TOKEN_WHITESPACE.split(stripped, maxsplit=1)
    keyword = head[0].lower()
    rest, flags = "", ()
    if len(head) == 2:
        rest, flags = _extract_flags(head[1])
        rest = rest.strip(_GO_SPACE)
    is_json = False
    trigger = None
    if keyword in ("copy", "add", "volume"):
        args, is_json = _json_or_words(rest, fail)
        if keyword != "volume" and len(args) < 2:
            raise fail(f"{keyword.upper()} requires at least two arguments: {keyword.upper()} <source>... <destination>")
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
    text = rest.lstrip(_GO_SPACE)
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
            if char in _GO_SPACE:
                pos += 1
                continue
            phase = in_word
        if pos == len(rest):
            if blank_ok or word:
                words.append(word)
            break
        if phase == in_word:
            if char in _GO_SPACE:
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


# --------------------------------------------------------------------------------------------------------------
# Word expansion (imagebuilder shell_parser.go ProcessWord), with values that may be unknown


class _Unresolvable(Exception):
    """A word whose expansion imgctl cannot know for sure; str() says why."""

    def __init__(self, reason: str, *, syntax: bool = False) -> None:
        super().__init__(reason)
        self.syntax = syntax


@dataclass(frozen=True)
class _Unknown:
    """A variable value imgctl cannot know (in a variable table)."""

    reason: str


Lookup = Callable[[str], "str | None"]  # a value, None when unset; raises _Unresolvable when unknown


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
            raise _Unresolvable(f"no matching {stop!r}", syntax=True)
        return "".join(out)

    def _single_quoted(self) -> str:
        self.pos += 1
        end = self.text.find("'", self.pos)
        if end < 0:
            raise _Unresolvable("unterminated single quote", syntax=True)
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
                raise _Unresolvable("unterminated double quote", syntax=True)
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
            raise _Unresolvable(f"missing ':' in ${{{name}...}}", syntax=True)
        self.pos += 1
        modifier = self.take()
        word_problem: _Unresolvable | None = None
        try:
            word = self.process("}")
        except _Unresolvable as problem:
            if problem.syntax:
                raise
            word, word_problem = "", problem
        value = self._value(name, False)
        if modifier not in ("+", "-"):
            raise _Unresolvable(f"unsupported modifier {modifier!r} in ${{{name}:...}}", syntax=True)
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
                raise _Unresolvable(f"${name} has no value")
            return ""
        return value


def _is_digit(char: str) -> bool:
    return unicodedata.category(char) == "Nd"


def _is_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L")


def _expand(word: str, lookup: Lookup, *, strict: bool = True) -> str:
    return _Word(word, lookup, strict).process()


# --------------------------------------------------------------------------------------------------------------
# Patterns (Go path/filepath Match and Glob, per path component)


_WAY, _MATCH, _BELOW = 1, 2, 3


class _BadPattern(Exception):
    pass


_ANY_NAME = re.compile(".*", re.DOTALL)


def _compile_segment(segment: str) -> _Segment:
    """A literal name, or a regexp equal to Go's filepath.Match for one path component."""
    if not any(char in _GLOB_META for char in segment):
        return segment
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "\\":
            if i + 1 >= len(segment):
                raise _BadPattern("trailing backslash")
            out.append(re.escape(segment[i + 1]))
            i += 2
        elif char == "[":
            regexp, i = _character_class(segment, i + 1)
            out.append(regexp)
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out), re.DOTALL)


def _character_class(segment: str, i: int) -> tuple[str, int]:
    negated = i < len(segment) and segment[i] == "^"
    if negated:
        i += 1
    ranges: list[str] = []
    count = 0
    while True:
        if i < len(segment) and segment[i] == "]" and count > 0:
            i += 1
            break
        low, i = _class_char(segment, i)
        high = low
        if segment[i] == "-":
            high, i = _class_char(segment, i + 1)
        if low <= high:  # Go accepts an empty range, which matches nothing
            ranges.append(f"{re.escape(low)}-{re.escape(high)}")
        count += 1
    if not ranges:
        return ("[\\s\\S]" if negated else "(?!)"), i
    return f"[{'^' if negated else ''}{''.join(ranges)}]", i


def _class_char(segment: str, i: int) -> tuple[str, int]:
    """filepath.getEsc: one possibly escaped class character, which must not end the pattern."""
    if i >= len(segment) or segment[i] in "-]":
        raise _BadPattern("malformed character class")
    if segment[i] == "\\":
        i += 1
        if i >= len(segment):
            raise _BadPattern("malformed character class")
    if i + 1 >= len(segment):
        raise _BadPattern("unterminated character class")
    return segment[i], i + 1


def _compile_pattern(pattern: str) -> tuple[_Segment, ...]:
    """A pattern's components; a malformed one (only in a Reach built by hand) matches any name."""
    segments = []
    for part in pattern.split("/"):
        try:
            segments.append(_compile_segment(part))
        except _BadPattern:
            segments.append(_ANY_NAME)
    return tuple(segments)


def _compile_all(sources: Iterable[Source]) -> list[tuple[_Segment, ...]]:
    return [_compile_pattern(source.pattern) for source in sources]


def _segment_matches(segment: _Segment, name: str) -> bool:
    if isinstance(segment, str):
        return segment == name
    return segment.fullmatch(name) is not None


def _relation(segments: Sequence[_Segment], parts: Sequence[str]) -> int | None:
    """How a path relates to a pattern: on the way to a match, a match, below a match, or not at all."""
    for segment, part in zip(segments, parts):
        if not _segment_matches(segment, part):
            return None
    if len(parts) < len(segments):
        return _WAY
    return _MATCH if len(parts) == len(segments) else _BELOW


def _split(relpath: str) -> list[str]:
    relpath = relpath.strip("/")
    if relpath in ("", "."):
        return []
    if relpath.startswith("./"):
        relpath = relpath[2:]
    return relpath.split("/")


def _escape_glob(path: str) -> str:
    return "".join("\\" + char if char in _GLOB_META else char for char in path)


def _go_clean_parts(path: str) -> list[str]:
    """filepath.Clean of a relative path, as components ('..' kept at the front)."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        else:
            parts.append(part)
    return parts


def _source_patterns(value: str) -> list[str]:
    """The context-relative patterns a COPY/ADD source reads ('' = the whole context).

    buildah joins the source to the context directory with filepath.Join (lexically: a leading '/' changes
    nothing) and resolves what then lies outside the context inside it (a chroot), so leading '..' are
    dropped. But when the literal components after them name the context directory itself, the join
    re-enters it: the service unpacks the upload into <tmp>/libpod_builderNNN/build, so `../build/x` reads
    `x`. Both readings are kept then.
    """
    parts = _go_clean_parts(value)
    above = 0
    while above < len(parts) and parts[above] == "..":
        above += 1
    patterns = ["/".join(parts[above:])]
    again = parts[above:2 * above]
    if above and len(again) == above and _names_context_dir(again):
        patterns.append("/".join(parts[2 * above:]))
    return patterns


def _names_context_dir(names: list[str]) -> bool:
    """Could these literal names be the last components of the service's context directory?"""
    if any(char in _GLOB_META for name in names for char in name):
        return False
    if names[-1] != _SERVICE_CONTEXT_DIR:
        return False
    return len(names) < 2 or names[-2].startswith(_SERVICE_ANCHOR_PREFIX)


def _literal_path(value: str) -> str:
    """A literal path inside the context, as filepath.Clean("/" + value) leaves it, relative."""
    return "/".join(part for part in _go_clean_parts(value) if part != "..")


def _keep_paths(keep: Iterable[str]) -> list[str]:
    if isinstance(keep, str):
        raise TypeError("keep must be a list of paths, not one string")
    return [_literal_path(path) for path in keep]


def _resolve_link(path: str, link: str) -> str:
    """Where a symlink in the context leads, resolved inside the context (a chroot): '' for the root."""
    if link.startswith("/"):
        return _literal_path(link)
    parent = path.rpartition("/")[0]
    return _literal_path(f"{parent}/{link}" if parent else link)


def _path_dependent_link(links: Mapping[str, str], targets: Mapping[str, str]) -> str | None:
    """A followed link whose relative '..' target depends on the path it is reached by, if there is one."""
    for path, target in targets.items():
        link = links[path]
        if link.startswith("/") or ".." not in link.split("/"):
            continue
        parent = path.rpartition("/")[0]
        for other, other_target in targets.items():
            below = not other_target or parent == other_target or parent.startswith(other_target + "/")
            if other != path and below:
                return (f"symlink {path} (-> {link}) can also be reached through symlink {other}, and buildah "
                        f"resolves '..' in its target against the path it was reached by")
    return None


# --------------------------------------------------------------------------------------------------------------
# The build: stages, the ones that run, their variables and sources


class _Fallback(Exception):
    """Reach is everything; str() is the reason."""


@dataclass
class _StageInfo:
    index: int
    alias: str | None
    from_line: Instruction
    body: list[Instruction]
    base: str | None = None  # resolved base, None when unresolvable
    base_problem: str | None = None

    @property
    def name(self) -> str:
        return self.alias if self.alias is not None else str(self.index)


@dataclass
class _Environment:
    """A stage's variables as buildah's Step sees them: ENV (the stage's, inherited, the image's) over ARGs."""

    env: dict[str, str]  # name -> where it is set, for the reason text
    env_unknown: str | None
    args: dict[str, str | _Unknown]
    allowed: set[str]
    heading: Mapping[str, str | _Unknown]
    user: Mapping[str, str]
    args_unknown: str | None = None

    def lookup(self, name: str) -> str | None:
        if self.env_unknown is not None:
            raise _Unresolvable(f"${name}: {self.env_unknown}")
        if name in self.env:
            raise _Unresolvable(f"${name} {self.env[name]}")
        return self.arg(name)

    def arg(self, name: str) -> str | None:
        if self.args_unknown is not None:
            raise _Unresolvable(self.args_unknown)
        if name not in self.allowed or name not in self.args:
            return None
        value = self.args[name]
        if isinstance(value, _Unknown):
            raise _Unresolvable(f"${name} {value.reason}")
        return value

    def declare(self, instruction: Instruction) -> None:
        """imagebuilder's ARG dispatcher, one word at a time."""
        for raw in instruction.args:
            try:
                word: str | _Unknown = _expand(raw, self.lookup, strict=False)
            except _Unresolvable as problem:
                word = _Unknown(f"has a default that cannot be resolved ({problem})")
            if isinstance(word, _Unknown):
                name, has_default = raw.partition("=")[0], "=" in raw
                if not _PLAIN_NAME.fullmatch(name):
                    self.args_unknown = f"the ARG on line {instruction.line} cannot be resolved"
                    continue
                value: str | _Unknown = word
            elif "=" in word:
                name, _, value = word.partition("=")
                has_default = True
            else:
                name, value, has_default = word, "", False
            if name in _PLATFORM_ARGS:
                # Their values come from the service's platform; TARGETPLATFORM=<p> also sets TARGETOS & co.
                for platform_arg in _PLATFORM_ARGS if name == "TARGETPLATFORM" else (name,):
                    self.allowed.add(platform_arg)
                    self.args[platform_arg] = _Unknown("is set by the build service for its platform")
                continue
            self.allowed.add(name)
            if not has_default and name in self.heading:
                self.args[name] = self.heading[name]
            if name not in self.user and has_default:
                self.args[name] = value


class _Plan:
    def __init__(self, instructions: list[Instruction], build_args: Mapping[str, str], target: str | None) -> None:
        self.instructions = instructions
        self.user = {str(key): str(value) for key, value in build_args.items()}
        self.target = target
        self.stages: list[_StageInfo] = []
        heading: list[Instruction] = []
        for instruction in instructions:
            if instruction.keyword == "FROM":
                alias = instruction.args[2] if len(instruction.args) == 3 else None
                self.stages.append(_StageInfo(len(self.stages), alias, instruction, []))
            elif self.stages:
                self.stages[-1].body.append(instruction)
            elif instruction.keyword == "ARG":
                heading.append(instruction)
            # Anything else before the first FROM is dropped by buildah without being run.
        self.heading = self._heading_args(heading)
        for stage in self.stages:
            self._resolve_base(stage)

    # -- stages

    def _heading_args(self, heading: list[Instruction]) -> dict[str, str | _Unknown]:
        scope = _Environment(env={}, env_unknown=None, args=dict(self.user), allowed=set(_PROXY_ARGS),
                             heading={}, user=self.user)
        for instruction in heading:
            scope.declare(instruction)
        if scope.args_unknown is not None:
            return {name: _Unknown(scope.args_unknown) for name in scope.allowed}
        return {name: value for name, value in scope.args.items() if name in scope.allowed}

    def _from_lookup(self, name: str) -> str | None:
        # from(): heading args, overridden by the platform builtins, overridden by user args that some
        # `ARG name` line (without a default) declares anywhere in the file.
        if name in self._bare_declared and name in self.user:
            return self.user[name]
        if name in _PLATFORM_ARGS:
            raise _Unresolvable(f"${name} is set by the build service for its platform")
        value = self.heading.get(name)
        if isinstance(value, _Unknown):
            raise _Unresolvable(f"${name} {value.reason}")
        return value

    @cached_property
    def _bare_declared(self) -> frozenset[str]:
        # NewStages compares user args with the text after "ARG " of every ARG line (its GlobalAllowedArgs).
        found = set()
        for instruction in self.instructions:
            head, _, rest = instruction.original.partition(" ")
            if head.lower() == "arg" and rest:
                found.add(rest)
        return frozenset(found)

    def _resolve_base(self, stage: _StageInfo) -> None:
        raw = stage.from_line.args[0]
        try:
            stage.base = _expand(raw, self._from_lookup)
        except _Unresolvable as problem:
            stage.base_problem = f"line {stage.from_line.line}: {stage.from_line.text}: {problem}"

    def _built(self) -> list[_StageInfo]:
        """The stages up to the target (buildah drops the ones after it)."""
        if not self.stages:
            raise _Fallback("the Containerfile has no FROM instruction")
        if self.target is None:
            return self.stages
        for stage in self.stages:
            if stage.name == self.target:
                return self.stages[: stage.index + 1]
        raise _Fallback(f"the target stage {self.target!r} is not in the Containerfile")

    def _needed(self, built: list[_StageInfo]) -> list[_StageInfo]:
        """The target and the stages it depends on, or more: never fewer than buildah builds."""
        names = {stage.name: stage.index for stage in built}
        every = set(range(len(built)))

        def refs(value: str) -> set[int]:
            if any(char in value for char in "$'\"\\"):
                return every
            if _ATOI.fullmatch(value) and 0 <= int(value) < len(built):
                return {int(value)}
            return {names[value]} if value in names else set()

        needs: dict[int, set[int]] = {}
        for stage in built:
            found: set[int] = set()
            if stage.base is None:
                found |= every
            else:
                found |= refs(stage.base)
                try:  # buildah's own dependency scan expands FROM with the build args only
                    found |= refs(_expand(stage.from_line.args[0], self.user.get, strict=False))
                except _Unresolvable:
                    found |= every
            for instruction in stage.body:
                for inner in (instruction, instruction.trigger):
                    if inner is None:
                        continue
                    for flag in inner.flags:
                        if inner.keyword in ("COPY", "ADD") and flag.startswith("--from="):
                            found |= refs(flag[len("--from="):])
                        elif inner.keyword == "RUN" and flag.startswith("--mount="):
                            for field in flag[len("--mount="):].split(","):
                                if field.startswith("from="):
                                    found |= refs(field[len("from="):])
            needs[stage.index] = found
        wanted = {built[-1].index}
        pending = [built[-1].index]
        while pending:
            for other in needs[pending.pop()]:
                if other not in wanted:
                    wanted.add(other)
                    pending.append(other)
        return [stage for stage in built if stage.index in wanted]

    def _stage_results(self, stages: list[_StageInfo]) -> tuple[Stage, ...]:
        return tuple(Stage(stage.index, stage.alias, stage.base if stage.base is not None
                           else stage.from_line.args[0]) for stage in stages)

    def _stage_base(self, stage: _StageInfo) -> _StageInfo | None:
        """The earlier stage this one is built on, if its base names one (buildah's imageMap)."""
        for earlier in self.stages[: stage.index]:
            if earlier.name == stage.base:
                return earlier
        return None

    def external_bases(self) -> tuple[str, ...]:
        try:
            needed = self._needed(self._built())
        except _Fallback:
            needed = self.stages
        found: list[str] = []
        for stage in needed:
            if stage.base is None or stage.base == "scratch" or self._stage_base(stage) is not None:
                continue
            if stage.base not in found:
                found.append(stage.base)
        return tuple(found)

    # -- reach

    def reach(self, images: Mapping[str, ImageFacts] | None) -> Reach:
        stages: tuple[Stage, ...] = self._stage_results(self.stages)
        try:
            for instruction in self.instructions:
                for inner in (instruction, instruction.trigger):
                    if inner is not None and inner.heredoc:
                        raise _Fallback(f"line {inner.line}: heredocs are not supported")
            needed = self._needed(self._built())
            stages = self._stage_results(needed)
            sources: list[Source] = []
            finals: dict[int, _Environment] = {}
            for stage in needed:
                finals[stage.index] = self._walk_stage(stage, finals, images, sources)
        except _Fallback as everything:
            return Reach(None, str(everything), stages)
        unique = tuple(dict.fromkeys(sources))
        return Reach(unique, None, stages)

    def _walk_stage(self, stage: _StageInfo, finals: Mapping[int, _Environment],
                    images: Mapping[str, ImageFacts] | None, sources: list[Source]) -> _Environment:
        if stage.base is None:
            raise _Fallback(stage.base_problem or "a FROM cannot be resolved")
        env: dict[str, str] = {}
        env_unknown: str | None = None
        parent = self._stage_base(stage)
        if parent is not None:
            inherited = finals.get(parent.index)
            if inherited is None:  # not needed by our reckoning but built on: cannot happen, stay safe
                raise _Fallback(f"line {stage.from_line.line}: stage {parent.name} was not analysed")
            env = dict(inherited.env)
            env_unknown = inherited.env_unknown
        elif stage.base != "scratch":
            # Not an earlier stage's name (buildah's imageMap holds only finished stages): an image.
            facts = (images or {}).get(stage.base)
            if facts is None:
                raise _Fallback(f"base image {stage.base} was not inspected: its ENV and ONBUILD triggers could "
                                f"change what the build reads")
            if facts.onbuild:
                raise _Fallback(f"base image {stage.base} may have ONBUILD triggers, which can read any part of "
                                f"the context")
            env = {name: f"is set in the environment of base image {stage.base}" for name in facts.env}
        env.setdefault("PATH", "is set in the build environment")
        scope = _Environment(env=env, env_unknown=env_unknown, args=dict(self.user), allowed=set(_PROXY_ARGS),
                             heading=self.heading, user=self.user)
        for instruction in stage.body:
            self._step(instruction, scope, sources)
        return scope

    def _step(self, instruction: Instruction, scope: _Environment, sources: list[Source]) -> None:
        keyword = instruction.keyword
        if keyword == "ARG":
            scope.declare(instruction)
        elif keyword == "ENV":
            self._set_env(instruction, scope)
        elif keyword in ("COPY", "ADD"):
            self._copy(instruction, scope.lookup, sources, keyword)
        elif keyword == "RUN":
            self._run(instruction, scope.lookup, sources, keyword)
        elif keyword == "ONBUILD" and instruction.trigger is not None:
            trigger = instruction.trigger
            label = f"ONBUILD {trigger.keyword}"

            def later(name: str) -> str | None:
                raise _Unresolvable(f"${name} is expanded in the stage that runs the trigger")

            if trigger.keyword in ("COPY", "ADD"):
                self._copy(trigger, later, sources, label)
            elif trigger.keyword == "RUN":
                self._run(trigger, later, sources, label)
            elif trigger.keyword in ("ENV", "ARG"):
                scope.env_unknown = f"an ONBUILD {trigger.keyword} on line {instruction.line} can set it"

    def _set_env(self, instruction: Instruction, scope: _Environment) -> None:
        for name in instruction.args[::2]:
            try:
                expanded = _expand(name, scope.lookup, strict=False)
            except _Unresolvable:
                scope.env_unknown = f"the ENV on line {instruction.line} sets a variable imgctl cannot name"
                continue
            scope.env[expanded] = f"is set by ENV on line {instruction.line} (imgctl does not use ENV values)"

    def _copy(self, instruction: Instruction, lookup: Lookup, sources: list[Source], label: str) -> None:
        def unsure(why: object) -> _Fallback:
            return _Fallback(f"line {instruction.line}: {instruction.text}: {why}")

        allowed = _COPY_FLAGS if instruction.keyword == "COPY" else _ADD_FLAGS
        from_context = True
        for flag in instruction.flags:
            name = flag.split("=", 1)[0]
            if name not in allowed:
                raise unsure(f"the flag {name} is not understood")
            if name == "--from":
                value = flag[len("--from="):]
                try:
                    from_context = _expand(value, lookup, strict=False) == ""
                except _Unresolvable:
                    from_context = True  # it might expand to nothing, and then the context is read
        if not from_context:
            return
        for raw in instruction.args[:-1]:
            try:
                value = _expand(raw, lookup)
            except _Unresolvable as problem:
                raise unsure(problem) from None
            if instruction.keyword == "ADD" and value.startswith(("http://", "https://")):
                continue  # downloaded by the build service, not read from the context
            for pattern in _source_patterns(value):
                if pattern == "":
                    raise _Fallback(f"line {instruction.line}: {label} {raw} reads the whole context")
                try:
                    for part in pattern.split("/"):
                        _compile_segment(part)
                except _BadPattern as problem:
                    raise unsure(f"the pattern {value!r} is malformed ({problem})") from None
                sources.append(Source(instruction.line, label, pattern))

    def _run(self, instruction: Instruction, lookup: Lookup, sources: list[Source], label: str) -> None:
        def unsure(why: object) -> _Fallback:
            return _Fallback(f"line {instruction.line}: {instruction.text}: {why}")

        for flag in instruction.flags:
            name = flag.split("=", 1)[0]
            if name not in _RUN_FLAGS:
                raise unsure(f"the flag {name} is not understood")
            if name != "--mount":
                continue
            try:
                spec = _expand(flag[len("--mount="):], lookup, strict=False)
            except _Unresolvable as problem:
                raise unsure(problem) from None
            fields = spec.split(",")
            kind = "bind"
            for field in fields:
                if field.startswith("type="):
                    kind = field[len("type="):]
            if kind in ("cache", "tmpfs", "secret", "ssh"):
                continue  # none of these reads the build context
            if kind != "bind":
                raise unsure(f"the mount type {kind!r} is not understood")
            if any(field.startswith("from=") and field != "from=" for field in fields):
                continue  # a stage or an image, not the context
            # buildah keeps the last source= it is given; take them all.
            paths = [_literal_path(field.partition("=")[2]) for field in fields
                     if field.partition("=")[0] in ("source", "src")] or [""]
            for path in paths:
                if path == "":
                    raise _Fallback(f"line {instruction.line}: {label} --mount=type=bind reads the whole context")
                sources.append(Source(instruction.line, label, _escape_glob(path)))
