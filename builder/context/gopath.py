"""Go's path/filepath and strings helpers, reproduced exactly where Go and Python disagree.

The ignore rules and the Containerfile both have to read paths and globs the way the Go code of the build
service does: `filepath.Clean` (not posixpath.normpath, which keeps a leading "//"), `filepath.Dir`,
`strings.TrimSpace` (Go's unicode.IsSpace set, not str.isspace) and `filepath.Match` as Go 1.19 runs it
(podman 4.3.1 on Debian 12 is built with it). This module is the one home of those rules.
"""

from __future__ import annotations

import re

# Go's strings.TrimSpace trims unicode.IsSpace, which (unlike str.isspace) excludes \x1c-\x1f.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
    "\u2028\u2029\u202f\u205f\u3000"

_DOT_PART = re.compile(r"/\.\.?(?:/|\Z)")


class BadPattern(ValueError):
    """filepath.ErrBadPattern (or another pattern error a Go matcher reports); str() says what is wrong."""


def trim_space(text: str) -> str:
    """strings.TrimSpace."""
    return text.strip(GO_SPACE)


def clean_parts(path: str) -> list[str]:
    """filepath.Clean of path read as relative (a leading '/' is ignored), as components; '..' stay in front."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        else:
            parts.append(part)
    return parts


def clean(path: str) -> str:
    """filepath.Clean: posixpath.normpath differs (it keeps a leading '//')."""
    if not path:
        return "."
    parts = clean_parts(path)
    if path.startswith("/"):
        return "/" + "/".join(part for part in parts if part != "..")  # ".." at the root is the root
    return "/".join(parts) or "."


def dirname(path: str) -> str:
    """filepath.Dir."""
    return clean(path[: path.rfind("/") + 1])


def is_clean(path: str) -> bool:
    """A relative path like "a/b" that Clean leaves alone ("a//b", "./a", "a/", "/a", "a/.." are not)."""
    return ("//" not in path and not path.startswith(("/", "./", "../")) and not path.endswith("/")
            and path not in (".", "..") and _DOT_PART.search(path) is None)


def match(pattern: str, name: str) -> bool:
    """filepath.Match as Go 1.19 runs it; raises BadPattern for a malformed pattern it reads.

    A chunk is checked whole once Match reads it, but the chunks after the first mismatch are never read, so
    Match("a*[", ".") is False while Match("[", ".") is an error.
    """
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return "/" not in name  # a trailing star matches the rest of the name, unless it has a '/'
        rest, ok = _match_chunk(chunk, name)
        if ok and (not rest or pattern):
            name = rest
            continue
        retried = _star_retry(chunk, name, last=not pattern) if star else None
        if retried is None:
            return False  # Go stops here: the chunks after a mismatch are never checked
        name = retried
    return not name


def check_pattern(pattern: str) -> None:
    """Raise what `filepath.Match(pattern, ".")` reports: both Go ignore matchers vet each pattern with it."""
    match(pattern, ".")


def _star_retry(chunk: str, name: str, last: bool) -> str | None:
    """After a star, try the chunk further along the name (never past a '/'); the rest of the name or None."""
    for skip in range(1, len(name) + 1):
        if name[skip - 1] == "/":
            break
        rest, ok = _match_chunk(chunk, name[skip:])
        if ok and not (last and rest):
            return rest
    return None


def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    """Leading stars, then the run up to the next '*' outside [...], then the rest."""
    i = 0
    while i < len(pattern) and pattern[i] == "*":
        i += 1
    star, start, in_range = i > 0, i, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            i += 1
        elif char == "[":
            in_range = True
        elif char == "]":
            in_range = False
        elif char == "*" and not in_range:
            break
        i += 1
    return star, pattern[start:i], pattern[i:]


def _match_chunk(chunk: str, name: str) -> tuple[str, bool]:
    """filepath.matchChunk: does chunk match the start of name (and what is left); raises on bad syntax.

    Once the match has failed the chunk is still read to its end, only to find syntax errors.
    """
    failed = False
    i = 0
    while i < len(chunk):
        failed = failed or not name
        char = chunk[i]
        if char == "[":
            target = None if failed else ord(name[0])
            name = name if failed else name[1:]
            i, matched = _match_class(chunk, i + 1, target)
            failed = failed or not matched
            continue
        if char == "\\":
            i += 1
            if i >= len(chunk):
                raise BadPattern("trailing backslash")
        if not failed:
            failed = (name[0] == "/") if char == "?" else chunk[i] != name[0]
            name = name[1:]
        i += 1
    return ("", False) if failed else (name, True)


def _match_class(chunk: str, i: int, target: int | None) -> tuple[int, bool]:
    negated = i < len(chunk) and chunk[i] == "^"
    if negated:
        i += 1
    matched, ranges = False, 0
    while not (i < len(chunk) and chunk[i] == "]" and ranges > 0):
        low, i = class_escape(chunk, i)
        high = low
        if chunk[i] == "-":
            high, i = class_escape(chunk, i + 1)
        matched = matched or (target is not None and low <= target <= high)
        ranges += 1
    return i + 1, matched != negated


def class_escape(chunk: str, i: int) -> tuple[int, int]:
    """filepath.getEsc: one possibly escaped class character, which must not end the chunk."""
    if i >= len(chunk) or chunk[i] in "-]":
        raise BadPattern("malformed [...] character class")
    if chunk[i] == "\\":
        i += 1
        if i >= len(chunk):
            raise BadPattern("malformed [...] character class")
    if i + 1 >= len(chunk):
        raise BadPattern("unterminated [...] character class")
    return ord(chunk[i]), i + 1
