"""Why a build was not skipped: the components of an earlier build compared with the current ones, in words.

Reasons come in a fixed order (the Containerfile, base images, platform, target, isolation, other build
parameters, build args, secrets, extra files, labels, then files in path order), at most `limit` of them
and then "and N more". The wording of each is listed in docs/skipping.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from builder.inputs.digest import UNKNOWN, Inputs
from builder.inputs.record import Recorded, fold, fold_depth, same

NO_CHANGE = "the inputs did not change"  # what `explain` says when no component differs
NO_EARLIER_BUILD = "no earlier build of this profile"
_ELSEWHERE = "the previous image was built elsewhere (or its detail was pruned from this machine's cache)"
NO_DETAIL = f"{_ELSEWHERE}: imgctl cannot say which input changed"
NO_OTHER_DETAIL = f"{_ELSEWHERE}: imgctl cannot say which other input changed"

_ORDER = {"containerfile": 0, "base": 1, "platform": 2, "target": 3, "isolation": 4, "param": 5, "build_arg": 6,
          "secret": 7, "extra": 8, "label": 9, "dir": 10, "file": 10, "tree": 10}
_TOP_LEVEL = {"containerfile": "the Containerfile", "platform": "the platform", "target": "the target",
              "isolation": "the isolation"}


def explain(previous: Mapping[str, str] | None, current: Inputs, *, limit: int = 10) -> list[str]:
    """Why `current` does not match the earlier build whose components are `previous`, in at most `limit`
    lines plus "and N more". File changes come last, in path order.

    When `previous` is a `Recorded` without detail (the earlier image was built on another machine, or its
    detail was pruned here), the first line says so, and only what can be told without it follows.
    """
    if previous is None:
        return [NO_EARLIER_BUILD]
    if isinstance(previous, Recorded) and not previous.detailed:
        return _without_detail(previous, current, limit)
    now = dict(current.components)
    depth = fold_depth(previous)
    if depth is not None:
        now = fold(now, depth)
    reasons: list[tuple[tuple[int, str], str]] = []
    added = [name for name in now if name not in previous]
    removed = [name for name in previous if name not in now]
    retyped = _retyped(added, removed)
    for name in added:
        if name not in retyped:
            reasons.append((_rank(name), _reason(name, "added", None, now[name])))
    for name in removed:
        if name not in retyped:
            reasons.append((_rank(name), _reason(name, "removed", previous[name], None)))
    for name, text in retyped.items():
        if text:
            reasons.append((_rank(name), text))
    for name, value in now.items():
        if name in previous and (not same(previous[name], value) or value == UNKNOWN):
            reasons.append((_rank(name), _reason(name, "changed", previous[name], value)))
    if not reasons:
        return [NO_CHANGE]
    return _limited(reasons, limit)


def _without_detail(previous: Recorded, current: Inputs, limit: int) -> list[str]:
    """What can be told from the earlier image's labels and the current inputs alone: the labels that differ
    (never "removed": the image may have inherited a label from its base) and the bases with no digest."""
    reasons: list[tuple[tuple[int, str], str]] = []
    for name, value in current.named.items():
        if name.startswith("label:"):
            if name not in previous:
                reasons.append((_rank(name), _reason(name, "added", None, value)))
            elif not same(previous[name], value):
                reasons.append((_rank(name), _reason(name, "changed", previous[name], value)))
        elif name.startswith("base:") and value == UNKNOWN:
            reasons.append((_rank(name), _reason(name, "changed", None, value)))
    if not reasons:
        return [NO_DETAIL]
    return [NO_OTHER_DETAIL, *_limited(reasons, limit)]


def _limited(reasons: list[tuple[tuple[int, str], str]], limit: int) -> list[str]:
    reasons.sort()
    lines = [text for _, text in reasons]
    limit = max(limit, 0)
    if len(lines) > limit:
        return [*lines[:limit], f"and {len(lines) - limit} more"]
    return lines


def _rank(name: str) -> tuple[int, str]:
    kind, _, rest = name.partition(":")
    return _ORDER.get(kind, 11), rest or kind


def _retyped(added: Sequence[str], removed: Sequence[str]) -> dict[str, str]:
    """A path that was a directory and is now a file (or the reverse): one reason instead of two."""
    gone = set(removed)
    found: dict[str, str] = {}
    for name in added:
        kind, _, path = name.partition(":")
        other = {"file": "dir", "dir": "file"}.get(kind)
        if other and f"{other}:{path}" in gone:
            was, now = ("a directory", "a file") if kind == "file" else ("a file", "a directory")
            found[name] = f"{_show(path)} changed from {was} to {now}"
            found[f"{other}:{path}"] = ""
    return found


def _reason(name: str, how: str, old: str | None, new: str | None) -> str:
    kind, _, rest = name.partition(":")
    shown = _show(rest)
    if kind == "file":
        return f"{shown} {'changed' if how == 'changed' else 'was ' + how}"
    if kind == "dir":
        return f"directory {shown} changed its permissions" if how == "changed" else f"directory {shown} was {how}"
    if kind == "tree":
        where = f"under {shown}/" if rest else "in the build context"
        return f"files {where} changed" if how == "changed" else f"{shown}/ was {how}"
    if kind == "base":
        if new == UNKNOWN:
            return f"the digest of base image {shown} is unknown (it is not present locally)"
        if how == "changed":
            return f"base image {shown} moved ({_digest_short(old)} -> {_digest_short(new)})"
        return f"base image {shown} was {how}"
    if kind in _TOP_LEVEL and not rest:
        return f"{_TOP_LEVEL[kind]} {'changed' if how == 'changed' else 'was ' + how}"
    subject = {"build_arg": "build arg", "label": "label", "secret": "secret", "param": "build parameter",
               "extra": "extra build-context file"}.get(kind)
    if subject is None:
        subject, shown = "input", _show(name)
    return f"{subject} {shown} {'changed' if how == 'changed' else 'was ' + how}"


def _digest_short(value: str | None) -> str:
    if not value:
        return "none"
    algorithm, colon, hexdigits = value.partition(":")
    return f"{algorithm}:{hexdigits[:12]}.." if colon and len(hexdigits) > 12 else value


def _show(text: str) -> str:
    return text if text.isprintable() else repr(text)
