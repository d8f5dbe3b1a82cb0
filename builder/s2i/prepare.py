"""An S2I profile's Containerfile, worked out with the engine: the builder image's labels, the previous image
(incremental builds) and the source's `.s2i/`, handed to the pure `generate`.

The result is a `Document` like the one read from a Containerfile: the build prepares, prunes, digests,
labels, tags and pushes it the same way (builder.build.prepare).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from builder.config.profile import Profile
from builder.containerfile.document import Document
from builder.engine.protocol import Engine, ImageRecord
from builder.errors import BuildError, ConfigError
from builder.oci import refs
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


@dataclass(frozen=True)
class Pulling:
    """A build may pull the builder image (under the profile's pull policy), with these credentials' sources."""

    env: Mapping[str, str]
    authfile: Path | None = None


def generated_containerfile(profile: Profile, engine: Engine | None, pulling: Pulling | None = None) -> Generated:
    """Raises ConfigError (the builder cannot build this source), BuildError (no builder image, or its pull
    failed). Without `pulling` (show, context, dry runs) the builder must be in the local store already."""
    if profile.builder is None:
        raise ConfigError('strategy = "s2i" needs a builder image', file=profile.file, key="builder")
    if engine is None:
        raise ConfigError('an S2I profile\'s Containerfile is made from the builder image\'s labels: it needs the '
                          "engine", file=profile.file, key="strategy")
    record = _builder_image(profile, profile.builder, engine, pulling)
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


def _builder_image(profile: Profile, ref: str, engine: Engine, pulling: Pulling | None) -> ImageRecord:
    """The builder as the engine has it, pulled first when the profile's pull policy asks for it: its labels
    must be read before the build, which would otherwise be the one to pull it."""
    record = engine.inspect_image(ref)
    wanted = profile.pull in ("always", "newer") or (record is None and profile.pull == "missing")
    if pulling is not None and wanted and _has_registry(ref):
        _pull(profile, ref, engine, pulling)
        record = engine.inspect_image(ref)
    if record is None:
        why = "pull = \"never\"" if profile.pull == "never" else "imgctl reads its labels before the build"
        raise BuildError(f"the S2I builder image {ref} is not present locally",
                         hint=f"pull it first (podman pull {ref}) or build it; {why}")
    return record


def _has_registry(ref: str) -> bool:
    """Whether a pull could fetch `ref`: a localhost/ or short name (imgctl reads both as local) cannot."""
    repository = refs.split_reference(ref)[0]
    return "/" in repository and refs.registry_of(repository) != refs.LOCAL_DOMAIN


def _pull(profile: Profile, ref: str, engine: Engine, pulling: Pulling) -> None:
    from builder.registry.credentials import lookup  # only when a pull is needed: it reads auth files

    repository = refs.split_reference(ref)[0]
    registry = refs.registry_of(repository)
    credential = lookup(repository, env=pulling.env, authfile=pulling.authfile).credential
    # The libpod pull endpoint reads the profile's words as they are (its "newer" is the build API's "ifnewer").
    for message in engine.pull(ref, auth_header=credential.x_registry_auth() if credential else None,
                               tls_verify=profile.registry(registry).verify, policy=profile.pull):
        if message.get("error"):
            raise BuildError(f"pulling the S2I builder image {ref} failed: {str(message['error']).strip()}",
                             hint="check the name, and the credentials for its registry (`imgctl auth check "
                                  f"{repository}`)")
