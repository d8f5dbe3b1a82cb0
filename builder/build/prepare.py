"""Preparing a build: from a resolved profile to its context snapshot, base images and build plan.

The glue between the pure layers (profile, Containerfile, context, plan) and execution. It reads the file
system (and git through the project's checkout), but never prints; it talks to an engine only to inspect
base images.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from builder.build.plan import BuildPlan, plan_build
from builder.config.profile import Profile
from builder.config.project import Project
from builder.containerfile.document import Document
from builder.containerfile.reach import Reach, base_images, image_facts, prune, reach
from builder.containerfile.stages import ImageFacts, Source
from builder.context.ignorefile import find_ignore_file
from builder.context.rules import IgnoreRules
from builder.context.walk import ContextSnapshot, scan
from builder.oci import refs
from builder.oci.labels import Provenance

if TYPE_CHECKING:
    from builder.s2i.prepare import Pulling


def ignore_rules(profile: Profile) -> tuple[IgnoreRules, Path | None]:
    """The ignore file's rules (the one buildah would pick, read in the profile's dialect), then an S2I source's
    `.s2iignore`, plus the profile's own `ignore` patterns."""
    ignore_file = find_ignore_file(profile.context, profile.containerfile)  # S2I (None): the context's file
    dialect = profile.ignore_dialect
    if ignore_file is not None:
        rules = IgnoreRules.load(ignore_file, dialect=dialect)
    else:
        rules = IgnoreRules.from_patterns((), dialect=dialect)
    if profile.containerfile is None:
        # S2I: s2i leaves out what the source's .s2iignore names; read as more ignore-file lines (docs/s2i.md).
        from builder.s2i.source import IGNORE_FILE, ignore_patterns

        s2i_patterns = ignore_patterns(profile.context)
        if s2i_patterns:
            rules = rules.extended(s2i_patterns, origin=profile.context / IGNORE_FILE)
    if profile.ignore:
        rules = rules.extended(profile.ignore, origin=profile.file)
    return rules, ignore_file


def snapshot(profile: Profile) -> ContextSnapshot:
    """What the ignore rules keep of the context (before any pruning by the Containerfile)."""
    rules, ignore_file = ignore_rules(profile)
    return scan(profile.context, rules, ignore_file)


@dataclass(frozen=True)
class BaseImages:
    """What the engine knows of a build's external base images (empty without an engine)."""

    facts: Mapping[str, ImageFacts] | None  # None: not asked (dry run), so pruning cannot be decided
    digests: Mapping[str, str | None]  # None for an image not present locally
    document: Document  # the Containerfile as this build read it, once: pruning reads the same bytes
    # What the input digest counts as the Containerfile when that is not `document` (an incremental S2I build:
    # its restore stage is no input); None: `document` itself.
    inputs_containerfile: bytes | None = None
    notes: tuple[str, ...] = ()  # how the Containerfile was made (S2I)


def base_images_of(profile: Profile, engine: Any | None, document: Document | None = None, *,
                   pulling: Pulling | None = None) -> BaseImages:
    """Inspect the external base images the build uses: their config decides pruning, their digest skipping.

    `document` is the Containerfile if it has been read already (else it is read here, once for the build; an
    S2I profile's is generated, which needs the engine, and may pull the builder image: `pulling`).
    """
    generated = None
    if document is None:
        if profile.containerfile is None:
            from builder.s2i.prepare import generated_containerfile

            generated = generated_containerfile(profile, engine, pulling)
            document = generated.document
        else:
            document = Document.read(profile.containerfile)
    refs = base_images(document, profile.build_args, profile.target)
    extra: dict[str, Any] = {}
    if generated is not None:
        extra = {"inputs_containerfile": generated.inputs, "notes": generated.notes}
    if engine is None:
        return BaseImages(facts=None if refs else {}, digests=dict.fromkeys(refs), document=document, **extra)
    # The image an incremental S2I build restores artifacts from is no input (docs/s2i.md): it has no digest
    # component, or every build would differ from the one before.
    restored = generated.restored_from if generated is not None else None
    facts: dict[str, ImageFacts] = {}
    digests: dict[str, str | None] = {}
    for ref in refs:
        info = engine.inspect_image(ref)
        if info is None:
            digests[ref] = None  # not pulled yet: the build pulls it; this run sends the whole context
            continue
        facts[ref] = image_facts(info.env, info.onbuild, info.history)
        if ref == restored:
            continue
        # With pull = always/newer the local copy may be stale: its digest proves nothing about the build.
        digests[ref] = info.digest if profile.pull in ("missing", "never") else None
    return BaseImages(facts=facts, digests=digests, document=document, **extra)


def sent_snapshot(profile: Profile, full: ContextSnapshot, bases: BaseImages) -> tuple[ContextSnapshot, list[str]]:
    """What a build sends: the ignore rules' snapshot, pruned to what the Containerfile can read.

    Returns the snapshot and the lines that say why (for --debug and `imgctl context`).
    """
    return _pruned(profile, full, *_reach(profile, bases))


def _pruned(profile: Profile, full: ContextSnapshot, reached: Reach | None,
            why_not: str) -> tuple[ContextSnapshot, list[str]]:
    if reached is None:
        return full, [why_not]
    reached = reached.with_links(full)  # the files can send everything too (symlinks, names buildah globs again)
    return prune(full, reached, _keep(profile, full.root, full.ignore_file)), reached.describe()


def _pruned_walk(profile: Profile, rules: IgnoreRules, ignore_file: Path | None,
                 reached: Reach | None) -> tuple[ContextSnapshot, list[str]] | None:
    """Walk only the directories the Containerfile can read; None when that cannot be decided safely."""
    if reached is None or reached.sources is None:
        return None
    partial = scan(profile.context, rules, ignore_file, descend=reached.could_need_below)
    if reached.with_links(partial).sources != reached.sources:
        return None  # a symlink leads somewhere the walk skipped: walk everything and let prune follow it
    return prune(partial, reached, _keep(profile, partial.root, ignore_file)), reached.describe()


def _reach(profile: Profile, bases: BaseImages) -> tuple[Reach | None, str]:
    """What the Containerfile can read, or None and the reason pruning is not attempted."""
    if not profile.context_pruning:
        return None, "context_pruning = false: sending everything the ignore rules keep"
    if bases.facts is None:
        return None, "pruning needs the base images' configuration from the engine; sending everything"
    return reach(bases.document, profile.build_args, profile.target, images=bases.facts), ""


def _keep(profile: Profile, root: Path, ignore_file: Path | None) -> list[str]:
    """Paths that travel whatever the Containerfile reads: the Containerfile and the ignore file."""
    return [path for path in (_inside(root, profile.containerfile), _inside(root, ignore_file)) if path]


def _inside(root: Path, path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def build_auth_header(profile: Profile, bases: BaseImages, env: Mapping[str, str], authfile: Path | None = None) -> str:
    """X-Registry-Config for the build's base image pulls ("" when no credentials apply).

    The service does not read the caller's auth files, so private base images need their credentials sent.
    """
    repositories = []
    for ref in bases.digests:
        try:
            repository = refs.split_reference(ref)[0]
        except ValueError:
            continue  # buildah will report a bad base image name itself
        if refs.registry_of(repository) == refs.LOCAL_DOMAIN or "/" not in repository:
            continue  # a local or short name: no registry to authenticate against
        repositories.append(repository)
    if not repositories:
        return ""  # FROM scratch or local images: the credential machinery is not even imported (8 ms)
    from builder.registry.credentials import lookup, x_registry_config

    return x_registry_config([lookup(repository, env=env, authfile=authfile) for repository in repositories])


def named_by_containerfile(profile: Profile) -> tuple[Callable[[str, bool], str | None], list[str]]:
    """What `imgctl ignore` must never exclude: the paths a COPY/ADD names (not `COPY .`, which names none).

    Returns the predicate (a reason, or None) and warnings about sources that could not be read literally.
    """
    if profile.containerfile is None:
        # S2I: the generated Containerfile copies the whole source, plus what .s2i/ holds.
        return named_by(None)
    return named_by(Document.read(profile.containerfile))


def named_by(document: Document | None) -> tuple[Callable[[str, bool], str | None], list[str]]:
    """`named_by_containerfile` for a Containerfile not on disk yet (`imgctl init` proposes before it writes);
    None stands for an S2I profile's generated one, which copies the whole source and `.s2i/`."""
    sources: list[Source] = []
    warnings: list[str] = []
    if document is None:
        sources.append(Source(0, "COPY", ".s2i"))
    for instruction in document.instructions if document is not None else ():
        if instruction.keyword not in ("COPY", "ADD") or any(flag.startswith("--from") for flag in instruction.flags):
            continue
        for raw in instruction.args[:-1]:
            if "$" in raw:
                warnings.append(f"line {instruction.line}: {instruction.keyword} {raw} uses a variable; "
                                "check that the proposal keeps what it names")
                continue
            if "://" in raw:
                continue  # ADD of a URL reads nothing from the context
            pattern = raw.strip("/").removeprefix("./").strip("/")
            if pattern in ("", "."):
                continue
            sources.append(Source(instruction.line, instruction.keyword, pattern))
    named = Reach(tuple(sources), None, ())

    def needed(relpath: str, is_dir: bool) -> str | None:
        # As a file: a directory that only leads to a named path (target/ for target/app.jar) is not
        # itself named, so a rule for it stays possible, with an exception for the named path.
        if not named.needs(relpath, False):
            return None
        for source in sources:
            if Reach((source,), None, ()).needs(relpath, False):
                return f"the Containerfile copies it (line {source.line}: {source.instruction} {source.pattern})"
        return "the Containerfile copies it"

    return needed, warnings


def provenance(project: Project) -> Provenance:
    """The command's time and the checkout's commit and origin (git read only now, and only once per command)."""
    return Provenance(created=project.now, revision=project.checkout.commit, source=project.checkout.origin)


def plan(profile: Profile, project: Project, bases: BaseImages | None = None, *, walk_all: bool = True) -> BuildPlan:
    """The build plan. `walk_all` False lets the walk skip directories the build cannot read: faster,
    but then the plan does not know what the ignore rules alone would keep (`full_snapshot` is None)."""
    bases = bases or base_images_of(profile, None)
    # The ignore file and the Containerfile's reach are worked out once, whichever walk follows.
    rules, ignore_file = ignore_rules(profile)
    reached, why_not = _reach(profile, bases)
    quick = None if walk_all else _pruned_walk(profile, rules, ignore_file, reached)
    if quick is not None:
        sent, notes = quick
        full = None
    else:
        full = scan(profile.context, rules, ignore_file)
        sent, notes = _pruned(profile, full, reached, why_not)
    verify = all(profile.registry(_registry(ref)).verify for ref in bases.digests)
    return plan_build(profile, sent, provenance(project), full_snapshot=full, notes=[*bases.notes, *notes],
                      tls_verify=verify, containerfile=bases.document.data,
                      inputs_containerfile=bases.inputs_containerfile)


def _registry(ref: str) -> str:
    try:
        return refs.registry_of(refs.split_reference(ref)[0])
    except ValueError:
        return ""
