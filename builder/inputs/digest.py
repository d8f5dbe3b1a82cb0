"""Input digests: a build whose inputs did not change is answered by an image that already exists.

`compute` reduces everything that determines the image to named *components* (the Containerfile, each file
and directory sent, build parameters, labels, base image digests, secret ids) and digests them into one
`Inputs.digest`. That digest is the only thing stored on the image, as the label `io.imgctl.inputs.digest`;
before building, the caller asks the engine for a local image carrying the same value and, if there is one,
only re-tags and relabels it. The components themselves stay on the building machine (`HashCache.remember`,
builder.inputs.detail), for `builder.inputs.explain`. What is in the digest, and why, is documented in
docs/skipping.md.

The context's files and directories enter the digest through one value, the *context digest*. The hash cache
remembers the context digests of the last few walks of each root, keyed by a fingerprint of the walk's stat
data; an unchanged context is then answered without looking up a single file (the per-file components are
worked out only if a build needs them for --explain or for the detail it keeps).
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import re
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

from builder.build.plan import INJECTED_PREFIX, BuildPlan
from builder.context.walk import DIR, FILE, SYMLINK, ContextSnapshot
from builder.engine.protocol import BuildParams
from builder.errors import ConfigError
from builder.inputs.filehash import ChangedSinceScan, FileJob
from builder.inputs.hashcache import HashCache
from builder.oci.labels import DIGEST_LABEL, TIME_VARYING_LABELS

UNKNOWN = "unknown"  # the component value of a base image whose digest the caller could not find
OWN_LABEL_PREFIX = "io.imgctl.inputs."

# Changing what goes into a component, or how the digest is framed, must change every digest: bump this.
# (Where the components are kept, on the image or on this machine, is not part of it: images labelled by an
# imgctl that still put them on the image keep matching.)
_SCHEME = b"imgctl-inputs/2\n"
_CONTEXT_SCHEME = b"imgctl-context/1\n"
_FINGERPRINT_SCHEME = b"imgctl-walk/1\n"
# Build parameters that do not change what is built. `secrets` is here because it names the random tar
# members; the secret ids are taken from it separately. Any parameter not listed here, and not given a
# component of its own, becomes a "param:NAME" component, so that a new parameter added to the plan later
# is covered by default rather than silently ignored.
_IGNORED_PARAMS = frozenset({"dockerfile", "nocache", "pullpolicy", "excludes", "secrets", "rm", "labels", "t"})
_NAMED_PARAMS = ("target", "platform", "isolation")
_NONCE_NAME = re.compile(re.escape(INJECTED_PREFIX) + r"[0-9A-Za-z]+\.(.+)\Z", re.S)


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
    # Which tar members carry which components, for `settled`; None for inputs not worked out from a plan.
    _members: _Members | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, components: Mapping[str, str]) -> Inputs:
        paths = {name: value for name, value in components.items() if is_path(name)}
        named = {name: value for name, value in components.items() if not is_path(name)}
        return cls._make(named, _context_digest(paths), lambda: paths)

    @classmethod
    def _make(cls, named: Mapping[str, str], context: str, paths: Callable[[], Mapping[str, str]],
              members: _Members | None = None) -> Inputs:
        # "context" cannot clash with a named component: those are fixed words or "kind:name".
        digest = _digest_of(sorted([*named.items(), ("context", context)]))
        return cls(digest, MappingProxyType(dict(named)), paths, members)

    @cached_property
    def components(self) -> Mapping[str, str]:
        """name -> 64 hex digits; "base:REF" -> the base's digest, or "unknown". Sorted by name."""
        return MappingProxyType(dict(sorted({**self._named, **self._paths()}.items())))

    @property
    def named(self) -> Mapping[str, str]:
        """The components that are not context paths: known without looking up a single file."""
        return self._named

    @property
    def unknown_bases(self) -> tuple[str, ...]:
        return tuple(name[5:] for name, value in self._named.items() if name.startswith("base:") and value == UNKNOWN)

    @property
    def complete(self) -> bool:
        """False when a base image's digest was unknown: such inputs never match, nor mark, an image."""
        return not self.unknown_bases

    def settled(self, sent: Mapping[str, str]) -> Inputs:
        """These inputs as the bytes that were actually sent make them.

        `sent` maps tar member names to the sha256 (hex) of the bytes sent under them (a `ContentHash` fed by
        the tar writer). A file rewritten between the digest and the upload then changes the digest the image
        is labelled with, instead of leaving a digest of content the image does not hold. Returns `self` when
        every member sent agrees with what was digested. Members not named in `sent` keep their values.
        """
        if self._members is None or not sent:
            return self
        members = self._members
        named = dict(self._named)
        paths: dict[str, str] | None = None
        modes = members.file_modes()
        for member, content in sent.items():
            if member == members.containerfile:
                named["containerfile"] = content
            role = members.extras.get(member)
            if role is not None:
                named[f"extra:{role}"] = content
            mode = modes.get(member)
            if mode is not None:
                if paths is None:
                    paths = dict(self._paths())
                paths["file:" + member] = _file_component(mode, content)
        if named == self._named and (paths is None or paths == self._paths()):
            return self
        final = paths if paths is not None else dict(self._paths())
        return Inputs._make(named, _context_digest(final), lambda: final, members)

    def to_label(self) -> dict[str, str]:
        """Labels for the image: the digest alone, and only when complete.

        The components name the context's files and directories, so they never go on the image (it is pushed
        to registries where anyone who can pull it would read the source tree's layout): they are kept on the
        building machine instead (`HashCache.remember`).
        """
        return {DIGEST_LABEL: self.digest} if self.complete else {}


@dataclass(frozen=True)
class _Members:
    """The tar members whose content is an input: context files, the Containerfile, the extras by role."""

    snapshot: ContextSnapshot
    containerfile: str  # the Containerfile's member name, wherever it comes from
    extras: Mapping[str, str]  # member name -> role, for the extras other than the Containerfile and secrets

    def file_modes(self) -> dict[str, int]:
        return {entry.path: entry.mode for entry in self.snapshot.entries if entry.kind == FILE}


def is_path(name: str) -> bool:
    """Whether a component is a context path ("file:" or "dir:"), covered by the context digest."""
    return name.startswith(("file:", "dir:"))


def label_component(value: str) -> str:
    """The value of the "label:KEY" component of a label with this value."""
    return _sha(value.encode("utf-8", "surrogatepass"))


def counts_as_input(label: str) -> bool:
    """Whether a label the image carries is one of its inputs (a "label:KEY" component)."""
    return label not in TIME_VARYING_LABELS and not label.startswith(OWN_LABEL_PREFIX)


def compute(plan: BuildPlan, base_digests: Mapping[str, str | None], cache: HashCache) -> Inputs:
    """The inputs of `plan`. `base_digests` maps each base image reference to its digest, None if unknown.

    Reads the Containerfile, and the content of every context file that the cache cannot answer from its stat
    data (none at all when the cache knows this walk's stat data). Raises ConfigError when a file cannot be
    read or changed since the context was scanned.
    """
    counted = plan.inputs_containerfile
    components: dict[str, str] = {"containerfile": _sha(counted if counted is not None else _containerfile_bytes(plan))}
    components.update(_param_components(plan.params))
    secret_ids, secret_members = _secrets(plan.params)
    for secret_id in secret_ids:
        # The id only: the content never leaves the machine, and must not be guessable from a label.
        components[f"secret:{secret_id}"] = _sha(b"secret")
    extras = _extra_roles(plan, skip={plan.dockerfile, *secret_members})
    components.update(_extra_components(plan, extras))
    for key, value in plan.labels.items():
        if counts_as_input(key):
            components[f"label:{key}"] = label_component(value)
    for ref, digest in base_digests.items():
        components[f"base:{ref}"] = digest or UNKNOWN

    snapshot = plan.snapshot
    # A Containerfile counted other than as sent (S2I incremental) is generated in memory: nothing to settle.
    members = _Members(snapshot, plan.dockerfile if counted is None else "", MappingProxyType(extras))
    root = str(snapshot.root)
    fingerprint = _fingerprint(snapshot)
    context = cache.context_digest(root, fingerprint) if fingerprint else None
    if context is not None:
        return Inputs._make(components, context, lambda: _context_components(snapshot, cache), members)
    unsettled = cache.unsettled
    paths = _context_components(snapshot, cache)
    context = _context_digest(paths)
    if fingerprint and cache.unsettled == unsettled:
        # Only when every file's sum is itself cached: a file written too recently to trust its stat data
        # must be hashed again next time, and so must the walk it is part of.
        cache.note_context_digest(root, fingerprint, context)
    return Inputs._make(components, context, lambda: paths, members)


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
    # What is sent under the dockerfile name, whichever way it travels; its name is not an input. The plan
    # holds the bytes its build already read; the upload's own sums settle the digest afterwards.
    if plan.containerfile_data is not None:
        return plan.containerfile_data
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
    jobs: list[FileJob] = []
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
    try:
        sums = cache.context_sums(root, jobs)
    except OSError as error:
        name = error.filename or root
        rel = name[len(prefix):] if isinstance(name, str) and name.startswith(prefix) else str(name)
        raise _unreadable(rel, name, error) from None
    for (rel, _, _), mode, content in zip(jobs, modes, sums, strict=True):
        # Symlinks share the "file:" namespace, so that a file replaced by a link reads as "changed".
        components["file:" + rel] = _file_component(mode, content)
    return components


def _file_component(mode: int, content: str) -> str:
    """The "file:PATH" component of a regular file with these permission bits and this sha256 (hex)."""
    return hashlib.sha256(b"file %o %s" % (mode, content.encode())).hexdigest()


def _unreadable(rel: str, path: str, error: OSError) -> ConfigError:
    if (isinstance(error, (FileNotFoundError, IsADirectoryError, ChangedSinceScan))
            or error.errno == getattr(os, "ELOOP", None)):
        return _changed(rel, path)
    return ConfigError(f"cannot read {rel} in the build context: {error.strerror}", file=path,
                       hint="fix its permissions, or exclude it in the ignore file")


def _changed(rel: str, path: str) -> ConfigError:
    return ConfigError(f"{rel} changed while imgctl was reading the build context", file=path,
                       hint="something is writing into the build context; exclude that file or retry")


def _param_components(params: BuildParams) -> dict[str, str]:
    components: dict[str, str] = {}
    for name in _NAMED_PARAMS:
        # Always present, unset as "": changing one then reads "the target changed", not added/removed.
        components[name] = _sha(str(params.get(name) or "").encode())
    build_args = params.get("buildargs")
    if isinstance(build_args, Mapping):  # typed on the plan; JSON only at the engine boundary
        for key, arg in build_args.items():
            components[f"build_arg:{key}"] = _sha(str(arg).encode("utf-8", "surrogatepass"))
    for name, value in params.items():
        if name not in _IGNORED_PARAMS and name not in _NAMED_PARAMS and name != "buildargs":
            components[f"param:{name}"] = _sha(json.dumps(value, sort_keys=True, default=str).encode())
    return components


def _secrets(params: BuildParams) -> tuple[list[str], set[str]]:
    """The secret ids, and the tar member names their files travel under."""
    specs = params.get("secrets") or []
    ids, members = [], set()
    for spec in specs if isinstance(specs, (list, tuple)) else ():
        fields = dict(part.partition("=")[::2] for part in str(spec).split(","))
        if fields.get("id"):
            ids.append(fields["id"])
        if fields.get("src"):
            members.add(fields["src"])
    return ids, members


def _extra_roles(plan: BuildPlan, skip: set[str]) -> dict[str, str]:
    """Tar extras other than the Containerfile and secrets, by member name -> role: names are random per run."""
    roles = {}
    for name in plan.extra:
        if name not in skip:
            match = _NONCE_NAME.match(name)
            roles[name] = match.group(1) if match else name
    return roles


def _extra_components(plan: BuildPlan, roles: Mapping[str, str]) -> dict[str, str]:
    components = {}
    for name, role in roles.items():
        content = plan.extra[name]
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
