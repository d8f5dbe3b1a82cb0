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

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from builder.containerfile.document import Document
from builder.containerfile.patterns import (
    BELOW,
    GLOB_META,
    MATCH,
    WAY,
    Segment,
    compile_all,
    compile_pattern,
    escape_glob,
    literal_path,
    match_relation,
    split_path,
)
from builder.containerfile.stages import ImageFacts, Plan, Source, Stage
from builder.context.walk import FILE, SYMLINK, ContextSnapshot

_ONBUILD_HISTORY = re.compile(r"(?:^|\(nop\)\s*)onbuild\s", re.IGNORECASE)
# Symlink chains can grow the list of sources without end (`a -> a/b`); past these, send everything.
_MAX_SOURCES = 4096
_MAX_DEPTH = 256


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
        parts = split_path(relpath)
        if not parts:
            return True
        for segments in self._matchers:
            relation = match_relation(segments, parts)
            if relation is not None and (relation != WAY or is_dir):
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
        again = self._globbed_again(snapshot)
        if again is not None:
            return Reach(None, again, self.stages)
        links = {entry.path: entry.link or "" for entry in snapshot.entries if entry.kind == SYMLINK}
        if not links:
            return self
        sources = list(self.sources)
        seen = {source.pattern for source in sources}
        targets: dict[str, str] = {}
        pending = list(sources)  # each source is matched against the links once
        while pending:
            source = pending.pop()
            segments = compile_pattern(source.pattern)
            for path, link in links.items():
                parts = path.split("/")
                relation = match_relation(segments, parts)
                if relation is None or relation == BELOW:
                    continue
                target = targets.setdefault(path, _resolve_link(path, link))
                if not target and relation == MATCH:
                    return Reach(None, f"symlink {path} leads to the context root", self.stages)
                rest = source.pattern.split("/")[len(parts):]
                pattern = "/".join([escape_glob(target)] * bool(target) + rest)
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

    def _globbed_again(self, snapshot: ContextSnapshot) -> str | None:
        """Why the build may read more than these patterns match, if it may.

        buildah 1.28 globs a COPY/ADD source, then globs each match again as a pattern and copies what that
        matches (`COPY s/?` with files `s/*` and `s/abc` copies both; `COPY a[*]b` copies `axb`). A match whose
        path holds *, ?, [ or \\ can therefore stand for other files: rare enough to send everything then.
        """
        odd = [entry.path for entry in snapshot.entries if any(char in GLOB_META for char in entry.path)]
        if not odd or self.sources is None:
            return None
        for source in self.sources:
            if not source.instruction.endswith(("COPY", "ADD")):
                continue  # bind mounts, symlink targets and kept files are not globbed
            segments = compile_pattern(source.pattern)
            for path in odd:
                if match_relation(segments, path.split("/")) == MATCH:
                    where = f"line {source.line}: " if source.line else ""
                    return (f"{where}{source.instruction} {source.pattern} matches {path}, which buildah globs "
                            f"again as a pattern, so it may copy other files too")
        return None

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
    def _matchers(self) -> tuple[tuple[Segment, ...], ...]:
        return tuple(compile_all(source.pattern for source in self.sources or ()))


def reach(document: Document, build_args: Mapping[str, str], target: str | None, *,
          images: Mapping[str, ImageFacts] | None = None) -> Reach:
    """What a build of this Containerfile can read from its context.

    `images` maps each external base image the build uses (as `base_images` names them) to its facts; a base
    image missing from it (or `images` None) makes the answer "everything", because its environment and
    ONBUILD triggers are unknown. ConfigError for a malformed Containerfile (see `document.parse`).
    """
    instructions = document.instructions
    if document.long_line is not None:
        return Reach(None, f"line {document.long_line} is longer than 64 KiB, where buildah stops reading the "
                           f"Containerfile", ())
    found = Plan(instructions, build_args, target or None).evaluate(images)
    return Reach(found.sources, found.reason, found.stages)


def base_images(document: Document, build_args: Mapping[str, str], target: str | None = None) -> tuple[str, ...]:
    """The external base images of the stages the build runs: not stage names, not scratch; substituted.

    Bases whose ARG substitution cannot be resolved are left out. Inspect these and pass `image_facts` of
    each to `reach`.
    """
    return Plan(document.instructions, build_args, target or None).external_bases()


def image_facts(env: Iterable[str], onbuild: Sequence[str] = (), history: Sequence[str] | None = None) -> ImageFacts:
    """ImageFacts of an external base image: its config's `Env` ("K=V" items), `OnBuild` triggers, and the
    `created_by` of each history entry (None when the engine reports no history).

    Podman 4.3 reports no ONBUILD triggers in either inspect even when an image has them, so the image's
    history is read as well: an ONBUILD entry there (or no history at all) counts as "may have triggers".
    That also flags images built *from* an ONBUILD image, whose triggers have already run: a known
    false alarm, which costs a full-context upload, never a wrong image.
    """
    names = frozenset(str(item).split("=", 1)[0] for item in env)
    triggers = bool(onbuild) or history is None or any(_ONBUILD_HISTORY.search(entry.strip()) for entry in history)
    return ImageFacts(env=names, onbuild=triggers)


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
    kept_paths = Reach(tuple(Source(0, "keep", escape_glob(path)) for path in keep_paths), None, ())
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



def _keep_paths(keep: Iterable[str]) -> list[str]:
    if isinstance(keep, str):
        raise TypeError("keep must be a list of paths, not one string")
    return [literal_path(path) for path in keep]


def _resolve_link(path: str, link: str) -> str:
    """Where a symlink in the context leads, resolved inside the context (a chroot): '' for the root."""
    if link.startswith("/"):
        return literal_path(link)
    parent = path.rpartition("/")[0]
    return literal_path(f"{parent}/{link}" if parent else link)


def _path_dependent_link(links: Mapping[str, str], targets: Mapping[str, str]) -> str | None:
    """A followed link whose relative '..' target depends on the path it is reached by, if there is one."""
    for path in targets:
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
