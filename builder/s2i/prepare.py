"""An S2I profile's Containerfile, worked out with the engine: the builder image's labels, the previous image
(incremental builds) and the source's `.s2i/`, handed to the pure `generate`.

The result is a `Document` like the one read from a Containerfile: the build prepares, prunes, digests,
labels, tags and pushes it the same way (builder.build.prepare).
"""

from __future__ import annotations

from dataclasses import dataclass

from builder.config.profile import Profile
from builder.containerfile.document import Document
from builder.engine.protocol import Engine
from builder.errors import BuildError, ConfigError
from builder.s2i.generate import generate
from builder.s2i.scripts import SAVE_ARTIFACTS, BuilderFacts, Unusable, has_script
from builder.s2i.source import read_source


@dataclass(frozen=True)
class Generated:
    document: Document  # what is built
    # What the input digest counts: the same Containerfile without the restore stage. The previous image is
    # not an input of an incremental build (docs/s2i.md, "Incremental builds and skipping").
    inputs: bytes
    restored_from: str | None  # the id of the image whose artifacts are restored; None: none
    notes: tuple[str, ...] = ()


def generated_containerfile(profile: Profile, engine: Engine | None) -> Generated:
    """Raises ConfigError (the builder cannot build this source), BuildError (no builder image here)."""
    if profile.builder is None:
        raise ConfigError('strategy = "s2i" needs a builder image', file=profile.file, key="builder")
    if engine is None:
        raise ConfigError('an S2I profile\'s Containerfile is made from the builder image\'s labels: it needs the '
                          "engine", file=profile.file, key="strategy")
    record = engine.inspect_image(profile.builder)
    if record is None:
        raise BuildError(f"the S2I builder image {profile.builder} is not present locally",
                         hint=f"pull it first (podman pull {profile.builder}) or build it; imgctl reads its "
                              "labels before the build")
    source = read_source(profile.context)
    notes: list[str] = []
    try:
        builder = BuilderFacts.from_labels(profile.builder, record.labels)
        inputs = generate(builder, source)
        previous = _previous(profile, engine, builder, source.scripts, notes)
        text = generate(builder, source, restore_from=previous) if previous else inputs
    except Unusable as error:
        raise ConfigError(error.message, file=profile.file, key="builder", hint=error.hint) from None
    return Generated(Document.from_text(text), inputs.encode(), previous, tuple(notes))


def _previous(profile: Profile, engine: Engine, builder: BuilderFacts, provided: frozenset[str],
              notes: list[str]) -> str | None:
    """The id of the image to restore artifacts from, or None (with a note saying why not)."""
    if not profile.incremental:
        return None
    if not has_script(SAVE_ARTIFACTS, builder, provided):
        notes.append(f"incremental: no save-artifacts script (source or {builder.ref}): building without")
        return None
    ref = profile.refs[0]  # the previous build, as `s2i build --incremental` takes the output tag
    found = engine.inspect_image(ref)
    if found is None:
        notes.append(f"incremental: no previous image {ref}: building without restoring artifacts")
        return None
    notes.append(f"incremental: restoring the artifacts of {ref} ({found.id[:12]})")
    return found.id
