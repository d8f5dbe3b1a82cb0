"""Source patterns: Go's filepath.Match per path component, as buildah globs COPY/ADD sources, and the
context-relative paths a source names once buildah has joined and cleaned it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from builder.context.gopath import BadPattern, class_escape, clean_parts

GLOB_META = "*?[\\"
Segment = str | re.Pattern[str]  # a literal component name, or Go's filepath.Match as a regexp
# Where the podman service unpacks an uploaded context: <tmp>/libpod_builderNNN/build (podman 4.3 compat
# handler, extractTarFile); a source can climb out with '..' and name its way back in.
_SERVICE_CONTEXT_DIR = "build"
_SERVICE_ANCHOR_PREFIX = "libpod_builder"  # the name of the directory above it starts with this

WAY, MATCH, BELOW = 1, 2, 3


_ANY_NAME = re.compile(".*", re.DOTALL)


def compile_segment(segment: str) -> Segment:
    """A literal name, or a regexp equal to Go's filepath.Match for one path component."""
    if not any(char in GLOB_META for char in segment):
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
                raise BadPattern("trailing backslash")
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
        code, i = class_escape(segment, i)
        low = high = chr(code)
        if segment[i] == "-":
            code, i = class_escape(segment, i + 1)
            high = chr(code)
        if low <= high:  # Go accepts an empty range, which matches nothing
            ranges.append(f"{re.escape(low)}-{re.escape(high)}")
        count += 1
    if not ranges:
        return ("[\\s\\S]" if negated else "(?!)"), i
    return f"[{'^' if negated else ''}{''.join(ranges)}]", i


def compile_pattern(pattern: str) -> tuple[Segment, ...]:
    """A pattern's components; a malformed one (only in a Reach built by hand) matches any name."""
    segments = []
    for part in pattern.split("/"):
        try:
            segments.append(compile_segment(part))
        except BadPattern:
            segments.append(_ANY_NAME)
    return tuple(segments)


def compile_all(patterns: Iterable[str]) -> list[tuple[Segment, ...]]:
    return [compile_pattern(pattern) for pattern in patterns]


def _segment_matches(segment: Segment, name: str) -> bool:
    if isinstance(segment, str):
        return segment == name
    return segment.fullmatch(name) is not None


def match_relation(segments: Sequence[Segment], parts: Sequence[str]) -> int | None:
    """How a path relates to a pattern: on the way to a match, a match, below a match, or not at all."""
    for segment, part in zip(segments, parts, strict=False):
        if not _segment_matches(segment, part):
            return None
    if len(parts) < len(segments):
        return WAY
    return MATCH if len(parts) == len(segments) else BELOW


def split_path(relpath: str) -> list[str]:
    relpath = relpath.strip("/")
    if relpath in ("", "."):
        return []
    if relpath.startswith("./"):
        relpath = relpath[2:]
    return relpath.split("/")


def escape_glob(path: str) -> str:
    return "".join("\\" + char if char in GLOB_META else char for char in path)


def source_patterns(value: str) -> list[str]:
    """The context-relative patterns a COPY/ADD source reads ('' = the whole context).

    buildah joins the source to the context directory with filepath.Join (lexically: a leading '/' changes
    nothing) and resolves what then lies outside the context inside it (a chroot), so leading '..' are
    dropped. But when the literal components after them name the context directory itself, the join
    re-enters it: the service unpacks the upload into <tmp>/libpod_builderNNN/build, so `../build/x` reads
    `x`. Both readings are kept then.
    """
    parts = clean_parts(value)
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
    if any(char in GLOB_META for name in names for char in name):
        return False
    if names[-1] != _SERVICE_CONTEXT_DIR:
        return False
    return len(names) < 2 or names[-2].startswith(_SERVICE_ANCHOR_PREFIX)


def literal_path(value: str) -> str:
    """A literal path inside the context, as filepath.Clean("/" + value) leaves it, relative."""
    return "/".join(part for part in clean_parts(value) if part != "..")
