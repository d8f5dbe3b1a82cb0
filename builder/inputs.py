"""Input digests: a build whose inputs did not change is answered by an image that already exists.

`compute` reduces everything that determines the image to named *components* (the Containerfile, each file
and directory sent, build parameters, labels, base image digests, secret ids) and digests them into one
`Inputs.digest`. That digest is stored on the image as the label `io.imgctl.inputs.digest`; before building,
the caller asks the engine for a local image carrying the same value and, if there is one, only re-tags and
relabels it. `explain` compares the components recorded on an earlier image with the current ones and says in
words why a build was not skipped. What is in the digest, and why, is documented in docs/skipping.md.

File contents are hashed once and then answered from stat data: `HashCache` keeps sha256 sums keyed by
(path, size, mtime_ns, ctime_ns, inode, device) in one JSON file per context root under
$XDG_CACHE_HOME/imgctl. mtimes are part of that key but not of the digest, so touching a file costs a re-hash
and never a rebuild.

The context's files and directories enter the digest through one value, the *context digest*. `HashCache`
also remembers the context digests of the last few walks of each root, keyed by a fingerprint of the walk's
stat data; an unchanged context is then answered without looking up a single file (the per-file components
are worked out only if a build needs them for its labels or for --explain).
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import logging
import marshal
import os
import re
import stat
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence, Tuple

from builder.context import DIR, FILE, SYMLINK, ContextSnapshot
from builder.errors import ConfigError
from builder.build.plan import INJECTED_PREFIX, TIME_VARYING_LABELS, BuildPlan

__all__ = [
    "COMPONENTS_LABEL",
    "DIGEST_LABEL",
    "HashCache",
    "Inputs",
    "NO_CHANGE",
    "cache_dir",
    "compute",
    "decode_label",
    "explain",
]

log = logging.getLogger("imgctl.inputs")

DIGEST_LABEL = "io.imgctl.inputs.digest"
COMPONENTS_LABEL = "io.imgctl.inputs.components"
NO_CHANGE = "the inputs did not change"  # what `explain` says when no component differs
UNKNOWN = "unknown"  # the component value of a base image whose digest the caller could not find

# Changing what goes into a component, or how the digest is framed, must change every digest: bump this.
_SCHEME = b"imgctl-inputs/2\n"
_CONTEXT_SCHEME = b"imgctl-context/1\n"
_FINGERPRINT_SCHEME = b"imgctl-walk/1\n"
_LABEL_VERSION = 1
# Label values above ~64 KB trouble registries and tools; half of that leaves room for everything else.
_LABEL_BUDGET = 32 * 1024
# Component values kept in labels and in the local detail files: 64 bits tell two versions of one file
# apart for --explain, while the full values still decide the digest itself.
_SHORT = 16
_OWN_LABEL_PREFIX = "io.imgctl.inputs."
# Build parameters that do not change what is built. `secrets` is here because it names the random tar
# members; the secret ids are taken from it separately. Any parameter not listed here, and not given a
# component of its own, becomes a "param:NAME" component, so that a new parameter added to the plan later
# is covered by default rather than silently ignored.
_IGNORED_PARAMS = frozenset({"dockerfile", "nocache", "pullpolicy", "excludes", "secrets", "rm", "labels", "t"})
_NAMED_PARAMS = ("target", "platform", "isolation")
_NONCE_NAME = re.compile(re.escape(INJECTED_PREFIX) + r"[0-9A-Za-z]+\.(.+)\Z", re.S)
_DIGEST_FORM = re.compile(r"sha256:[0-9a-f]{64}\Z")

_CHUNK = 1 << 20
# A file whose mtime is this close to the moment it is hashed is not cached: a second write within the same
# timestamp tick (a few ms, but 1 s or 2 s on some file systems) would leave size and mtime unchanged, and
# the stale sum would be trusted ("racy git"). Such a file is simply hashed again next time.
_RACY_NS = 2_000_000_000
_READAHEAD_BYTES = 64 << 20
_ADVISE = getattr(os, "posix_fadvise", None)  # Linux; elsewhere files are simply read in turn
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)

_SHARD_FORMAT = "imgctl-file-hashes"
_SHARD_VERSION = 1
_SHARD_DIR = "file-hashes"
_TREE_FORMAT = "imgctl-context-digests"
_TREE_VERSION = 1
_TREE_DIR = "context-digests"
_TREE_KEEP = 8  # walks remembered per context root: profiles that read different parts of it keep theirs
_DETAIL_DIR = "inputs"
_DETAIL_KEEP = 32  # per-file detail of the last builds with large contexts
_SHARD_MAX_AGE = 60 * 86400  # a context root not built for this long loses its hash file
_TEMP_MAX_AGE = 86400  # temporary files left by a process killed while saving

_Key = Tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, device
_KEY_COLUMNS = ("size", "mtime_ns", "ctime_ns", "inode", "device")
_COLUMNS = ("path", *_KEY_COLUMNS, "sha256")  # the cache file: one list per column, one row per file
_Job = Tuple[str, str, os.stat_result]  # (path relative to the shard's root, absolute path, lstat)


# --------------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """What determines an image, as named components, and the digest over all of them.

    The digest covers the named components (the Containerfile, parameters, labels, bases, ...) and the
    context digest, which covers every "file:" and "dir:" component. Those path components may be worked out
    only when asked for (`components`): an unchanged context is recognised from stat data alone.
    """

    digest: str  # "sha256:<hex>"
    _named: Mapping[str, str] = field(repr=False)  # every component that is not a context path
    _paths: Callable[[], Mapping[str, str]] = field(repr=False, compare=False)

    @classmethod
    def of(cls, components: Mapping[str, str]) -> Inputs:
        paths = {name: value for name, value in components.items() if _is_path(name)}
        named = {name: value for name, value in components.items() if not _is_path(name)}
        return cls._make(named, _context_digest(paths), lambda: paths)

    @classmethod
    def _make(cls, named: Mapping[str, str], context: str, paths: Callable[[], Mapping[str, str]]) -> Inputs:
        # "context" cannot clash with a named component: those are fixed words or "kind:name".
        digest = _digest_of(sorted([*named.items(), ("context", context)]))
        return cls(digest, MappingProxyType(dict(named)), paths)

    @cached_property
    def components(self) -> Mapping[str, str]:
        """name -> 64 hex digits; "base:REF" -> the base's digest, or "unknown". Sorted by name."""
        return MappingProxyType(dict(sorted({**self._named, **self._paths()}.items())))

    @property
    def unknown_bases(self) -> tuple[str, ...]:
        return tuple(name[5:] for name, value in self._named.items() if name.startswith("base:") and value == UNKNOWN)

    @property
    def complete(self) -> bool:
        """False when a base image's digest was unknown: such inputs never match, nor mark, an image."""
        return not self.unknown_bases

    def to_label(self) -> dict[str, str]:
        """Labels for the image: the digest (only when complete) and the components for a later --explain.

        The components label holds every component when it fits in 32 KiB. Otherwise files and directories
        more than N levels deep are folded into one "tree:DIR" component per directory at level N, with the
        largest N that fits (N = 0 folds the whole context into "tree:"); the per-file detail then lives in
        the local cache (`HashCache.remember`). Should even that not fit, the label is left out.
        """
        labels = {}
        if self.complete:
            labels[DIGEST_LABEL] = self.digest
        _, text = self._label_encoding
        if text is not None:
            labels[COMPONENTS_LABEL] = text
        return labels

    @cached_property
    def _full_encoding(self) -> str:
        return _encode(self.components)

    @cached_property
    def _label_encoding(self) -> tuple[int | None, str | None]:
        """(fold depth or None when nothing was folded, the label text or None when nothing fits)."""
        if len(self._full_encoding) <= _LABEL_BUDGET:
            return None, self._full_encoding
        deepest = max((_segments(name) for name in self.components if _is_path(name)), default=0)
        # The encoding grows with the depth, so find the deepest fold that fits by bisection.
        best: tuple[int | None, str | None] = (None, None)
        low, high = 0, max(deepest - 1, 0)
        while low <= high:
            middle = (low + high) // 2
            text = _encode(_fold(self.components, middle))
            if len(text) <= _LABEL_BUDGET:
                best, low = (middle, text), middle + 1
            else:
                high = middle - 1
        return best


def compute(plan: BuildPlan, base_digests: Mapping[str, str | None], cache: HashCache) -> Inputs:
    """The inputs of `plan`. `base_digests` maps each base image reference to its digest, None if unknown.

    Reads the Containerfile, and the content of every context file that the cache cannot answer from its stat
    data (none at all when the cache knows this walk's stat data). Raises ConfigError when a file cannot be
    read or changed since the context was scanned.
    """
    components: dict[str, str] = {"containerfile": _sha(_containerfile_bytes(plan))}
    components.update(_param_components(plan.params))
    secret_ids, secret_members = _secrets(plan.params)
    for secret_id in secret_ids:
        # The id only: the content never leaves the machine, and must not be guessable from a label.
        components[f"secret:{secret_id}"] = _sha(b"secret")
    components.update(_extra_components(plan, skip={plan.dockerfile, *secret_members}))
    for key, value in plan.labels.items():
        if key not in TIME_VARYING_LABELS and not key.startswith(_OWN_LABEL_PREFIX):
            components[f"label:{key}"] = _sha(value.encode("utf-8", "surrogatepass"))
    for ref, digest in base_digests.items():
        components[f"base:{ref}"] = digest or UNKNOWN

    snapshot = plan.snapshot
    root = str(snapshot.root)
    fingerprint = _fingerprint(snapshot)
    context = cache._tree_digest(root, fingerprint) if fingerprint else None
    if context is not None:
        return Inputs._make(components, context, lambda: _context_components(snapshot, cache))
    unsettled = cache.unsettled
    paths = _context_components(snapshot, cache)
    context = _context_digest(paths)
    if fingerprint and cache.unsettled == unsettled:
        # Only when every file's sum is itself cached: a file written too recently to trust its stat data
        # (see _RACY_NS) must be hashed again next time, and so must the walk it is part of.
        cache._note_tree(root, fingerprint, context)
    return Inputs._make(components, context, lambda: paths)


def _fingerprint(snapshot: ContextSnapshot) -> str | None:
    """A digest of the walk's stat data: everything the path components depend on, plus what the per-file
    cache key holds. None when the snapshot carries no stat data (made by hand, not by a walk)."""
    rows: list[tuple[Any, ...]] = []
    add = rows.append
    for entry in snapshot.entries:
        info = entry.lstat
        if info is None:
            return None
        if entry.kind == FILE:
            add((entry.path, entry.mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev))
        elif entry.kind == SYMLINK:
            add((entry.path, entry.mode, entry.link))
        else:
            # A directory's times change whenever anything inside does, ignored files included: leave them out.
            add((entry.path, entry.mode))
    # marshal is the fastest stable serialisation at hand (4 ms for 20,000 rows); another Python version may
    # write other bytes, which costs one miss, never a wrong answer.
    text = _FINGERPRINT_SCHEME + str(snapshot.root).encode("utf-8", "surrogatepass") + b"\0" + marshal.dumps(rows)
    return hashlib.sha256(text).hexdigest()


def _context_digest(paths: Mapping[str, str]) -> str:
    """The digest over the "file:" and "dir:" components."""
    text = "".join([f"{len(name)}:{name}{len(value)}:{value}\n" for name, value in sorted(paths.items())])
    return "sha256:" + hashlib.sha256(_CONTEXT_SCHEME + text.encode("utf-8", "surrogatepass")).hexdigest()


def _containerfile_bytes(plan: BuildPlan) -> bytes:
    # What is sent under the dockerfile name, whichever way it travels; its name is not an input.
    source = plan.extra.get(plan.dockerfile, plan.snapshot.root / plan.dockerfile)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    try:
        return Path(source).read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read the Containerfile: {error.strerror}", file=source) from None


def _context_components(snapshot: ContextSnapshot, cache: HashCache) -> dict[str, str]:
    components: dict[str, str] = {}
    root = str(snapshot.root)
    prefix = root if root.endswith("/") else root + "/"
    jobs: list[_Job] = []
    modes: list[int] = []
    dir_values: dict[int, str] = {}
    lstat, is_regular, add_job, add_mode = os.lstat, stat.S_ISREG, jobs.append, modes.append  # a hot loop
    for entry in snapshot.entries:
        kind, rel = entry.kind, entry.path
        if kind == FILE:
            full = prefix + rel
            info = entry.lstat
            if info is None:
                try:
                    info = lstat(full)
                except OSError as error:
                    raise _unreadable(rel, full, error) from None
            if not is_regular(info.st_mode) or info.st_size != entry.size:
                raise _changed(rel, full)
            add_job((rel, full, info))
            add_mode(entry.mode)
        elif kind == SYMLINK:
            target = (entry.link or "").encode("utf-8", "surrogatepass")
            components["file:" + rel] = _sha(b"symlink %o " % entry.mode + target)
        elif kind == DIR:
            value = dir_values.get(entry.mode)
            if value is None:
                value = dir_values[entry.mode] = _sha(b"dir %o" % entry.mode)
            components["dir:" + rel] = value
    shard = cache._shard(root, whole=True)
    try:
        sums = cache._lookup(shard, jobs, strict=True)
    except OSError as error:
        name = error.filename or root
        rel = name[len(prefix):] if isinstance(name, str) and name.startswith(prefix) else str(name)
        raise _unreadable(rel, name, error) from None
    sha256 = hashlib.sha256
    for (rel, _, _), mode, content in zip(jobs, modes, sums):
        # Symlinks share the "file:" namespace, so that a file replaced by a link reads as "changed".
        components["file:" + rel] = sha256(b"file %o %s" % (mode, content.encode())).hexdigest()
    return components


class _ChangedSinceScan(OSError):
    """A file is not what the walk saw: another file in its place, or another size."""


def _unreadable(rel: str, path: str, error: OSError) -> ConfigError:
    if (isinstance(error, (FileNotFoundError, IsADirectoryError, _ChangedSinceScan))
            or error.errno == getattr(os, "ELOOP", None)):
        return _changed(rel, path)
    return ConfigError(f"cannot read {rel} in the build context: {error.strerror}", file=path,
                       hint="fix its permissions, or exclude it in the ignore file")


def _changed(rel: str, path: str) -> ConfigError:
    return ConfigError(f"{rel} changed while imgctl was reading the build context", file=path,
                       hint="something is writing into the build context; exclude that file or retry")


def _param_components(params: Mapping[str, Any]) -> dict[str, str]:
    components: dict[str, str] = {}
    for name in _NAMED_PARAMS:
        # Always present, unset as "": changing one then reads "the target changed", not added/removed.
        components[name] = _sha(str(params.get(name) or "").encode())
    build_args = params.get("buildargs")
    if build_args:
        values = json.loads(build_args) if isinstance(build_args, str) else build_args
        for key, value in dict(values).items():
            components[f"build_arg:{key}"] = _sha(str(value).encode("utf-8", "surrogatepass"))
    for name, value in params.items():
        if name not in _IGNORED_PARAMS and name not in _NAMED_PARAMS and name != "buildargs":
            components[f"param:{name}"] = _sha(json.dumps(value, sort_keys=True, default=str).encode())
    return components


def _secrets(params: Mapping[str, Any]) -> tuple[list[str], set[str]]:
    """The secret ids, and the tar member names their files travel under."""
    specs = params.get("secrets") or []
    if isinstance(specs, str):
        specs = json.loads(specs)
    ids, members = [], set()
    for spec in specs:
        fields = dict(part.partition("=")[::2] for part in str(spec).split(","))
        if fields.get("id"):
            ids.append(fields["id"])
        if fields.get("src"):
            members.add(fields["src"])
    return ids, members


def _extra_components(plan: BuildPlan, skip: set[str]) -> dict[str, str]:
    """Tar extras other than the Containerfile and secrets, keyed by role: their names are random per run."""
    components = {}
    for name, content in plan.extra.items():
        if name in skip:
            continue
        match = _NONCE_NAME.match(name)
        role = match.group(1) if match else name
        if isinstance(content, (bytes, bytearray, memoryview)):
            data = bytes(content)
        else:
            try:
                data = Path(content).read_bytes()
            except OSError as error:
                raise ConfigError(f"cannot read {content} (for {name!r} in the build context): {error.strerror}",
                                  file=content) from None
        components[f"extra:{role}"] = _sha(data)
    return components


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _digest_of(items: Sequence[tuple[str, str]]) -> str:
    """The digest over (name, value) pairs sorted by name."""
    # Length-prefixed, so that no choice of names and values can make two component sets frame alike.
    # surrogatepass keeps undecodable file names distinct from the characters their bytes would spell.
    text = "".join([f"{len(name)}:{name}{len(value)}:{value}\n" for name, value in items])
    return "sha256:" + hashlib.sha256(_SCHEME + text.encode("utf-8", "surrogatepass")).hexdigest()


# ------------------------------------------------------------------------------------------------ encoding


def _is_path(name: str) -> bool:
    return name.startswith("file:") or name.startswith("dir:")


def _segments(name: str) -> int:
    return name.partition(":")[2].count("/") + 1


def _short(name: str, value: str) -> str:
    return value if name.startswith("base:") else value[:_SHORT]


def _fold(components: Mapping[str, str], depth: int) -> dict[str, str]:
    """Files and directories below `depth` levels folded into one "tree:DIR" component per directory."""
    folded: dict[str, str] = {}
    trees: dict[str, list[str]] = {}
    for name, value in components.items():
        if _is_path(name):
            parts = name.partition(":")[2].split("/")
            if len(parts) > depth:
                # Over the short values, so that the local detail files (which keep only those) fold alike.
                trees.setdefault("tree:" + "/".join(parts[:depth]), []).append(f"{len(name)}:{name}{value[:_SHORT]}\n")
                continue
        folded[name] = value
    for tree, members in trees.items():
        members.sort()
        folded[tree] = _sha("".join(members).encode("utf-8", "surrogatepass"))
    return folded


def _fold_depth(components: Mapping[str, str]) -> int | None:
    for name in components:
        if name.startswith("tree:"):
            path = name[5:]
            return path.count("/") + 1 if path else 0
    return None


def _encode(components: Mapping[str, str]) -> str:
    short = {name: _short(name, value) for name, value in components.items()}
    # ASCII only: undecodable file names travel as \udcXX escapes instead of breaking the API call.
    return json.dumps({"v": _LABEL_VERSION, "c": short}, sort_keys=True, separators=(",", ":"))


def _decode(text: object) -> Mapping[str, str] | None:
    if not isinstance(text, (str, bytes)):
        return None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return _decode_document(document)


def _decode_document(document: object) -> Mapping[str, str] | None:
    if not isinstance(document, dict) or document.get("v") != _LABEL_VERSION:
        return None
    components = document.get("c")
    if not isinstance(components, dict):
        return None
    if not all(isinstance(value, str) and value for value in components.values()):
        return None
    return MappingProxyType(components)


def decode_label(labels: Mapping[str, str], cache: HashCache | None = None) -> Mapping[str, str] | None:
    """The components an image's labels record; None when they are absent or corrupt.

    Values are shortened (see `Inputs.to_label`), which `explain` allows for. With `cache`, a label whose file
    detail was folded is replaced by the detail `HashCache.remember` kept for that digest, if it is still
    there and agrees with the label.
    """
    components = _decode(labels.get(COMPONENTS_LABEL))
    digest = labels.get(DIGEST_LABEL)
    if cache is None or not isinstance(digest, str) or (components is not None and _fold_depth(components) is None):
        return components
    detail = cache.recall(digest)
    if detail is None:
        return components
    if components is not None:
        depth = _fold_depth(components)
        assert depth is not None
        refolded = _fold(detail, depth)
        if set(refolded) != set(components) or not all(_same(refolded[k], components[k]) for k in components):
            return components
    return detail


# ------------------------------------------------------------------------------------------------- explain


_ORDER = {"containerfile": 0, "base": 1, "platform": 2, "target": 3, "isolation": 4, "param": 5, "build_arg": 6,
          "secret": 7, "extra": 8, "label": 9, "dir": 10, "file": 10, "tree": 10}
_TOP_LEVEL = {"containerfile": "the Containerfile", "platform": "the platform", "target": "the target",
              "isolation": "the isolation"}


def explain(previous: Mapping[str, str] | None, current: Inputs, *, limit: int = 10) -> list[str]:
    """Why `current` does not match the earlier build whose components are `previous`, in at most `limit`
    lines plus "and N more". File changes come last, in path order."""
    if previous is None:
        return ["no earlier build of this profile"]
    now = dict(current.components)
    depth = _fold_depth(previous)
    if depth is not None:
        now = _fold(now, depth)
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
        if name in previous and (not _same(previous[name], value) or value == UNKNOWN):
            reasons.append((_rank(name), _reason(name, "changed", previous[name], value)))
    if not reasons:
        return [NO_CHANGE]
    reasons.sort()
    lines = [text for _, text in reasons]
    limit = max(limit, 0)
    if len(lines) > limit:
        return lines[:limit] + [f"and {len(lines) - limit} more"]
    return lines


def _same(a: str, b: str) -> bool:
    # A label keeps only a prefix of each value.
    n = min(len(a), len(b))
    return n > 0 and a[:n] == b[:n]


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


# --------------------------------------------------------------------------------------------------- cache


def cache_dir(env: Mapping[str, str]) -> Path | None:
    """$XDG_CACHE_HOME/imgctl, else ~/.cache/imgctl; None when there is no home to put it in."""
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):  # the XDG spec says to ignore a relative value
        return Path(xdg) / "imgctl"
    home = env.get("HOME")
    if not home:
        try:
            home = str(Path.home())
        except (RuntimeError, KeyError):
            return None
    return Path(home) / ".cache" / "imgctl"


class _Shard:
    """The cached sums of one context root, and what this process did with them.

    Stored as columns rather than one record per file: JSON then yields a handful of long lists of ints
    and strings, which load about twice as fast and give the garbage collector nothing to walk.
    """

    __slots__ = ("root", "prefix", "file", "index", "columns", "seen", "changed", "whole")

    def __init__(self, root: str, file: Path | None, columns: dict[str, list[Any]]) -> None:
        self.root = root
        self.prefix = root if root.endswith("/") else root + "/"
        self.file = file
        self.seen: set[str] = set()  # the paths this process looked up and could answer
        self.whole = False  # compute() looked at the whole context: unused rows are files no longer sent
        self.rebase(columns)

    def rebase(self, columns: dict[str, list[Any]]) -> None:
        """Start from `columns`, as loaded or as just saved."""
        self.columns = columns or {name: [] for name in _COLUMNS}  # appended to; `index` says which row is current
        self.index: dict[str, int] = dict(zip(self.columns["path"], range(len(self.columns["path"]))))
        self.changed = False  # a row was added since

    def add(self, rel: str, key: _Key, content: str) -> None:
        columns = self.columns
        self.index[rel] = len(columns["path"])
        columns["path"].append(rel)
        for name, value in zip(_KEY_COLUMNS, key):
            columns[name].append(value)
        columns["sha256"].append(content)
        self.seen.add(rel)
        self.changed = True

    def needs_write(self) -> bool:
        return self.changed or (self.whole and len(self.seen) != len(self.index))

    def compacted(self) -> dict[str, list[Any]]:
        """Only the current row of each path; only the paths this process used when it saw the whole root."""
        keep = sorted(self.seen) if self.whole else sorted(self.index)
        rows = [self.index[rel] for rel in keep]
        return {name: [column[row] for row in rows] for name, column in self.columns.items()}


class HashCache:
    """sha256 of files keyed by (path, size, mtime_ns, ctime_ns, inode, device); under $XDG_CACHE_HOME/imgctl.

    One JSON file per context root (`file-hashes/<sha256 of the root>.json`), loaded on first use of that
    root, and a small one with the context digests of its last walks (`context-digests/`). A file that cannot
    be read, is not JSON, or is another program's or another version's is ignored and rebuilt. `save`
    replaces files atomically; with concurrent processes the last writer wins. `HashCache(None)` keeps
    everything in memory only.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0
        self.unsettled = 0  # files hashed but not cached (changed while read, or too recently)
        self.bytes_read = 0
        self.tree_hits = 0
        self._shards: dict[str, _Shard] = {}
        self._trees: dict[str, list[list[str]]] = {}  # root -> [[fingerprint, context digest], ...], oldest first
        self._trees_changed: set[str] = set()
        self._details: dict[str, str] = {}  # digest -> full component encoding, written by save()

    @classmethod
    def open(cls, env: Mapping[str, str]) -> HashCache:
        return cls(cache_dir(env))

    def digest(self, path: str | os.PathLike[str], st: os.stat_result) -> str:
        """The sha256 (hex) of the regular file at `path`, whose lstat is `st`. Raises OSError."""
        full = os.path.abspath(os.fspath(path))
        shard = self._shard_of(full)
        return self._lookup(shard, [(full[len(shard.prefix):], full, st)])[0]

    def save(self) -> None:
        """Write what changed. Never raises for an unwritable cache: logs at debug level and carries on."""
        if self.directory is None:
            return
        wrote = False
        for shard in self._shards.values():
            if shard.file is None or not shard.needs_write():
                continue
            columns = shard.compacted()
            document = {"format": _SHARD_FORMAT, "version": _SHARD_VERSION, "root": shard.root, **columns}
            if self._write(shard.file, json.dumps(document, separators=(",", ":")).encode()):
                shard.rebase(columns)
                wrote = True
        if wrote:
            self._prune(self.directory / _SHARD_DIR, max_age=_SHARD_MAX_AGE)
        for root in sorted(self._trees_changed):
            document = {"format": _TREE_FORMAT, "version": _TREE_VERSION, "root": root, "walks": self._trees[root]}
            self._write(self._tree_file(root), json.dumps(document, separators=(",", ":")).encode())
        if self._trees_changed:
            self._trees_changed.clear()
            self._prune(self.directory / _TREE_DIR, max_age=_SHARD_MAX_AGE)
        if self._details:
            for digest, text in self._details.items():
                document = '{"digest":%s,"detail":%s}' % (json.dumps(digest), text)
                self._write(self._detail_file(digest), gzip.compress(document.encode(), mtime=0))
            self._details.clear()
            self._prune(self.directory / _DETAIL_DIR, keep=_DETAIL_KEEP)

    def remember(self, inputs: Inputs) -> None:
        """Keep the per-file components that `inputs.to_label()` had to fold, for a later `decode_label`."""
        depth, text = inputs._label_encoding
        if depth is not None or text is None:
            self._details[inputs.digest] = inputs._full_encoding

    def recall(self, digest: str) -> Mapping[str, str] | None:
        """Components remembered for `digest` (values shortened as in labels), or None."""
        if digest in self._details:
            return _decode(self._details[digest])
        if self.directory is None or not _DIGEST_FORM.match(digest):
            return None  # a label value never chooses a file name
        try:
            document = json.loads(gzip.decompress(self._detail_file(digest).read_bytes()))
        except (OSError, EOFError, zlib.error, ValueError, RecursionError) as error:
            if not isinstance(error, FileNotFoundError):
                log.debug("ignoring the input detail for %s: %s", digest, error)
            return None
        if not isinstance(document, dict) or document.get("digest") != digest:
            return None
        return _decode_document(document.get("detail"))

    # ---- internals, shared with compute()

    def _detail_file(self, digest: str) -> Path:
        assert self.directory is not None
        return self.directory / _DETAIL_DIR / (digest.partition(":")[2] + ".json.gz")

    def _root_file(self, folder: str, root: str) -> Path:
        assert self.directory is not None
        key = hashlib.sha256(root.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self.directory / folder / f"{key}.json"

    def _tree_file(self, root: str) -> Path:
        return self._root_file(_TREE_DIR, root)

    def _walks(self, root: str) -> list[list[str]]:
        walks = self._trees.get(root)
        if walks is None:
            walks = self._trees[root] = _load_walks(self._tree_file(root), root) if self.directory else []
            if walks and self.directory is not None:
                # The walk answers for the file hashes, which are then never read: keep them from aging out.
                _touch_if_old(self._root_file(_SHARD_DIR, root))
        return walks

    def _tree_digest(self, root: str, fingerprint: str) -> str | None:
        """The context digest of the walk with this fingerprint, if one is remembered."""
        for known, digest in self._walks(root):
            if known == fingerprint:
                self.tree_hits += 1
                return digest
        return None

    def _note_tree(self, root: str, fingerprint: str, digest: str) -> None:
        walks = [walk for walk in self._walks(root) if walk[0] != fingerprint]
        walks.append([fingerprint, digest])
        self._trees[root] = walks[-_TREE_KEEP:]
        self._trees_changed.add(root)

    def _shard(self, root: str, *, whole: bool = False) -> _Shard:
        shard = self._shards.get(root)
        if shard is None:
            file = self._root_file(_SHARD_DIR, root) if self.directory is not None else None
            shard = self._shards[root] = _Shard(root, file, _load(file, root) if file else {})
        shard.whole = shard.whole or whole
        return shard

    def _shard_of(self, full: str) -> _Shard:
        # The most specific root already in use; otherwise the file's own directory.
        for root in sorted(self._shards, key=len, reverse=True):
            shard = self._shards[root]
            if full.startswith(shard.prefix):
                return shard
        return self._shard(os.path.dirname(full))

    def _lookup(self, shard: _Shard, jobs: Sequence[_Job], *, strict: bool = False) -> list[str]:
        """The sums of `jobs` (all under shard's root), from the cache where the stat data still agrees.

        `strict`: a file that is no longer the one its lstat describes, or has another size, raises
        `_ChangedSinceScan` instead of being hashed as it is now.
        """
        columns = shard.columns
        sizes, mtimes, ctimes, inodes, devices, sums_column = (columns[name] for name in (*_KEY_COLUMNS, "sha256"))
        find, use = shard.index.get, shard.seen.add
        sums: list[str] = []
        missing: list[int] = []
        for position, (rel, _, info) in enumerate(jobs):
            row = find(rel)
            if (row is not None and sizes[row] == info.st_size and mtimes[row] == info.st_mtime_ns
                    and ctimes[row] == info.st_ctime_ns and inodes[row] == info.st_ino and devices[row] == info.st_dev):
                use(rel)
                sums.append(sums_column[row])
            else:
                missing.append(position)
                sums.append("")
        self.hits += len(jobs) - len(missing)
        self.misses += len(missing)
        if missing:
            for position, (content, key, size) in zip(missing, self._hash([jobs[i] for i in missing], strict)):
                sums[position] = content
                self.bytes_read += size
                if key is not None:
                    shard.add(jobs[position][0], key, content)
                else:
                    self.unsettled += 1
        return sums

    def _hash(self, jobs: list[_Job], strict: bool = False) -> list[tuple[str, _Key | None, int]]:
        results = []
        ahead = ahead_bytes = done_bytes = 0
        prefetch = len(jobs) > 1 and _ADVISE is not None
        for _, full, info in jobs:
            # Ask the kernel to start reading the next files while this one is hashed: measured on 20,000
            # files not in the page cache, 3x faster than reading one file after the other, and faster than
            # hashing on threads (which cost 30 % when the files are cached).
            while prefetch and ahead < len(jobs) and ahead_bytes < done_bytes + _READAHEAD_BYTES:
                _prefetch(jobs[ahead][1], jobs[ahead][2].st_size)
                ahead_bytes += jobs[ahead][2].st_size
                ahead += 1
            results.append(_hash_file(full, info, strict))
            done_bytes += info.st_size
        return results

    def _write(self, target: Path, data: bytes) -> bool:
        try:
            assert self.directory is not None
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # hashes can betray short secrets
            target.parent.mkdir(mode=0o700, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temporary, target)
            except BaseException:
                _unlink(temporary)
                raise
        except OSError as error:
            log.debug("cannot write the cache file %s: %s", target, error)
            return False
        return True

    def _prune(self, directory: Path, *, keep: int | None = None, max_age: float | None = None) -> None:
        now = time.time()
        try:
            with os.scandir(directory) as items:
                found = [(item.stat(follow_symlinks=False).st_mtime, item.path, item.name) for item in items
                         if item.is_file(follow_symlinks=False)]
        except OSError as error:
            log.debug("cannot tidy %s: %s", directory, error)
            return
        found.sort(reverse=True)
        kept = 0
        for mtime, path, name in found:
            if name.endswith(".tmp"):
                if now - mtime > _TEMP_MAX_AGE:
                    _unlink(path)
                continue
            kept += 1
            if (keep is not None and kept > keep) or (max_age is not None and now - mtime > max_age):
                _unlink(path)


def _hash_file(full: str, info: os.stat_result, strict: bool = False) -> tuple[str, _Key | None, int]:
    """(sha256 hex, the key to cache it under or None, bytes read). The key is None when the file changed
    while it was read, is not the file `info` describes, or changed too recently to be trusted later.
    `strict`: a file that is not the one `info` describes, or not of its size, raises _ChangedSinceScan."""
    started = time.time_ns()
    handle = os.open(full, _OPEN_FLAGS)
    try:
        before = os.fstat(handle)
        if not stat.S_ISREG(before.st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file", full)  # replaced since its lstat
        sha = hashlib.sha256()
        size = 0
        while True:
            chunk = os.read(handle, _CHUNK)
            if not chunk:
                break
            sha.update(chunk)
            size += len(chunk)
        after = os.fstat(handle)
    finally:
        os.close(handle)
    if strict and (size != info.st_size or (before.st_ino, before.st_dev) != (info.st_ino, info.st_dev)):
        raise _ChangedSinceScan(errno.ESTALE, "changed since the context was walked", full)
    content = sha.hexdigest()
    key = _key(info)
    if _key(before) != key or _key(after) != key or size != info.st_size or abs(info.st_mtime_ns - started) < _RACY_NS:
        return content, None, size
    return content, key, size


def _prefetch(full: str, size: int) -> None:
    try:
        handle = os.open(full, _OPEN_FLAGS)
    except OSError:
        return  # _hash_file will say what is wrong with it
    try:
        _ADVISE(handle, 0, min(size, _READAHEAD_BYTES), os.POSIX_FADV_WILLNEED)
    except OSError:
        pass
    finally:
        os.close(handle)


def _key(info: os.stat_result) -> _Key:
    # ctime too: `cp -p` or `touch -r` can put new content under an old mtime, but cannot restore a ctime.
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev


def _load(file: Path, root: str) -> dict[str, list[Any]]:
    """The columns of a cache file; empty when it is missing, unreadable, damaged, foreign or another version."""
    found = _read_ours(file, root, _SHARD_FORMAT, _SHARD_VERSION, "the hash cache")
    if found is None:
        return {}
    document, modified = found
    if not _valid_columns(document):
        log.debug("ignoring the hash cache %s: damaged", file)
        return {}
    _touch_if_old(file, modified)
    return {name: document[name] for name in _COLUMNS}


def _load_walks(file: Path, root: str) -> list[list[str]]:
    """The remembered walks of a context-digest file; empty when it is missing, damaged, foreign or old."""
    found = _read_ours(file, root, _TREE_FORMAT, _TREE_VERSION, "the context digests")
    if found is None:
        return []
    document, modified = found
    walks = document.get("walks")
    if not isinstance(walks, list) or not all(
        isinstance(walk, list) and len(walk) == 2 and all(isinstance(x, str) for x in walk) and _DIGEST_FORM.match(walk[1])
        for walk in walks
    ):
        log.debug("ignoring the context digests %s: damaged", file)
        return []
    _touch_if_old(file, modified)
    return [list(walk) for walk in walks[-_TREE_KEEP:]]


def _read_ours(file: Path, root: str, file_format: str, version: int, what: str) -> tuple[dict[str, Any], float] | None:
    """A cache file's JSON document and mtime, when it is this format and version and about `root`."""
    try:
        with open(file, "rb") as source:
            data = source.read()
            modified = os.fstat(source.fileno()).st_mtime
    except FileNotFoundError:
        return None
    except OSError as error:  # a directory in its place, no permission, ...
        log.debug("ignoring %s %s: %s", what, file, error)
        return None
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:
        log.debug("ignoring %s %s: %s", what, file, error)
        return None
    if (not isinstance(document, dict) or document.get("format") != file_format
            or document.get("version") != version or document.get("root") != root):
        log.debug("ignoring %s %s: not ours, or another version", what, file)
        return None
    return document, modified


def _touch_if_old(file: Path, modified: float | None = None) -> None:
    """Mark a cache file that is read but not rewritten as still in use, for HashCache._prune (once a day)."""
    try:
        if time.time() - (file.stat().st_mtime if modified is None else modified) > 86400:
            os.utime(file)
    except OSError:
        pass


def _valid_columns(document: Mapping[str, Any]) -> bool:
    # set(map(type, ...)) runs in C: 20,000 rows are checked in a few milliseconds.
    columns = [document.get(name) for name in _COLUMNS]
    if not all(type(column) is list for column in columns):
        return False
    paths, *numbers, sums = columns
    count = len(paths)
    if any(len(column) != count for column in columns) or count == 0:
        return count == 0 and all(len(column) == 0 for column in columns)
    if set(map(type, paths)) != {str} or len(set(paths)) != count:
        return False
    if any(set(map(type, column)) != {int} for column in numbers):
        return False
    if set(map(type, sums)) != {str} or set(map(len, sums)) != {64}:
        return False
    joined = "".join(sums)
    try:
        bytes.fromhex(joined)  # one C call checks every digit
    except ValueError:
        return False
    return not any(letter in joined for letter in "ABCDEF")  # digests are written in lower case


def _unlink(path: str | Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
