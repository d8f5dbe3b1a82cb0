"""Planning a build: a resolved profile and a context snapshot become exactly what will be sent.

Pure: no engine, no I/O beyond what the inputs already hold. `--dry-run` prints a plan;
`builder.build.execute` runs one. Parameters stay typed here (build args and labels as mappings, secrets
and excludes as lists); `builder.engine.podman` encodes them for the API.

A build is two API calls. The first builds the Containerfile with no labels and no tags; the second
("label step") is a one-line Containerfile `FROM <id>` that adds the labels and the tags. Podman 4.x
drops `--label` on a fully cached `--target` stage, and labels passed to one build get baked into
cached stage images that later builds reuse (podman#10340, buildah#3370). Keeping labels out of the
cacheable build prevents both.

The label step must not touch the filesystem. buildah runs every instruction (a `LABEL` included, and the
`--label`s it turns into `LABEL` instructions) after making sure the image's WORKDIR exists, and with
`layers=false` it commits the working container as a new layer: a WORKDIR that no instruction had created
became a layer of its own. With `layers=true` a `LABEL` is committed with no layer (buildah's
`stepRequiresLayer`), so the step runs with layers on, `nocache=true` (a cache lookup scans every image in
the store: 0.15 s on a store of 500 images, measured), and all labels in ONE `LABEL` line: each further
instruction would be one more commit. A value that one line cannot carry (a line break) goes through the
API's `labels` instead: buildah adds one `LABEL` instruction per such label, each one more commit (and one
more untagged intermediate image), with the layers kept just the same.
"""

from __future__ import annotations

import secrets as random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.config.profile import Profile
from builder.context.walk import ContextSnapshot
from builder.engine.protocol import BuildParams, ParamValue
from builder.errors import ConfigError
from builder.oci.labels import Provenance, oci_labels

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

# Profile spelling -> the libpod build API's pull policy names.
PULL_POLICIES = {"missing": "missing", "always": "always", "never": "never", "newer": "ifnewer"}

# Names we add to the uploaded context. They are excluded from COPY on the server side and are unlikely
# to collide with a user's file because of the random suffix.
INJECTED_PREFIX = ".imgctl-"


@dataclass(frozen=True)
class BuildPlan:
    profile: Profile
    snapshot: ContextSnapshot
    dockerfile: str  # the Containerfile's name inside the uploaded tar
    extra: Mapping[str, Path | bytes]  # members added to the tar besides the context
    params: BuildParams  # query parameters of the main build call, typed
    labels: Mapping[str, str]  # every label the final image must carry
    refs: tuple[str, ...]  # every name the final image must carry
    notes: tuple[str, ...] = field(default=())
    full_snapshot: ContextSnapshot | None = None  # what the ignore rules keep, before pruning
    # The Containerfile's bytes as this build read (and parsed) them once; None: not read yet.
    containerfile_data: bytes | None = None
    # What the input digest counts as the Containerfile when it is not what is sent: an incremental S2I build's
    # restore stage is no input (docs/s2i.md). None: the Containerfile sent.
    inputs_containerfile: bytes | None = None

    def label_step(
        self, image_id: str, labels: Mapping[str, str] | None = None
    ) -> tuple[dict[str, ParamValue], dict[str, bytes]]:
        """Parameters and tar members of the call that labels and tags the built image (module docstring)."""
        wanted = dict(self.labels if labels is None else labels)
        params: dict[str, ParamValue] = {
            "dockerfile": "Containerfile",
            "t": list(self.refs),
            "layers": "true",
            "nocache": "true",
            "outputformat": OCI_MANIFEST,
            "pullpolicy": "never",
            "rm": "true",
        }
        inline = {key: value for key, value in wanted.items() if _fits_on_a_line(key) and _fits_on_a_line(value)}
        containerfile = f"FROM {image_id}\n"
        if inline:
            containerfile += (
                "LABEL " + " ".join(f"{_quoted(key)}={_quoted(value)}" for key, value in inline.items()) + "\n"
            )
        if len(inline) < len(wanted):
            params["labels"] = {key: value for key, value in wanted.items() if key not in inline}
        return params, {"Containerfile": containerfile.encode()}

    def to_dict(self) -> dict[str, Any]:
        # The API parameters as they are sent: the engine module's encoding (it imports no podman-py).
        from builder.engine.podman import encode_build_params

        snap = self.snapshot
        full = self.full_snapshot or snap
        return {
            "profile": self.profile.name,
            "resolved": self.profile.to_dict(),
            # None: generated (strategy = "s2i"); `imgctl show NAME --containerfile` prints it
            "containerfile": str(self.profile.containerfile) if self.profile.containerfile else None,
            "context": {
                "path": str(snap.root),
                "ignore_file": str(snap.ignore_file) if snap.ignore_file else None,
                "files": snap.file_count,
                "bytes": snap.total_size,
                "excluded": snap.excluded_count,
                "kept_by_ignore_rules": {"files": full.file_count, "bytes": full.total_size},
            },
            "tar_extra": sorted(self.extra),
            "build_params": encode_build_params(self.params),
            "labels": dict(self.labels),
            "tags": list(self.refs),
            "notes": list(self.notes),
        }


def plan_build(
    profile: Profile,
    snapshot: ContextSnapshot,
    provenance: Provenance,
    *,
    nonce: str | None = None,
    full_snapshot: ContextSnapshot | None = None,
    notes: Sequence[str] = (),
    tls_verify: bool = True,
    containerfile: bytes | None = None,
    inputs_containerfile: bytes | None = None,
) -> BuildPlan:
    """`tls_verify` False when a base image comes from a registry the profile marks tls_verify = false.
    `containerfile`: the Containerfile's bytes as already read; a Containerfile outside the context is sent
    as exactly these bytes (a generated one, S2I, always is). `inputs_containerfile`: see BuildPlan."""
    nonce = nonce or random.token_hex(6)
    extra: dict[str, Path | bytes] = {}
    notes = list(notes)
    excluded_names: list[str] = []

    dockerfile = _containerfile_in_context(profile, snapshot)
    if dockerfile is None:
        # Outside the context (or excluded by the ignore rules): upload it under a reserved name and
        # keep that name out of COPY, which is what podman's own remote client does.
        dockerfile = f"{INJECTED_PREFIX}{nonce}.Containerfile"
        if containerfile is not None:
            extra[dockerfile] = containerfile
        elif profile.containerfile is not None:
            extra[dockerfile] = profile.containerfile
        else:
            raise ValueError("an S2I profile is planned with its generated Containerfile")
        excluded_names.append(dockerfile)
        where = "is generated" if profile.containerfile is None else "is outside the context"
        notes.append(f"the Containerfile {where}; it is sent as {dockerfile}")

    secret_specs = []
    for secret_id, source in sorted(profile.secrets.items()):
        # The service moves each secret file out of the context before the build starts, so it never
        # reaches a COPY; it must sit at the top of the tar for that move to work.
        name = f"{INJECTED_PREFIX}{nonce}.secret.{secret_id}"
        extra[name] = source
        secret_specs.append(f"id={secret_id},src={name}")

    params: dict[str, ParamValue] = {
        "dockerfile": dockerfile,
        "layers": "true",
        # Without an explicit OCI format the API builds Docker-format images and never matches the
        # cache that `podman build` (OCI by default) left behind.
        "outputformat": OCI_MANIFEST,
        "pullpolicy": PULL_POLICIES[profile.pull],
        "rm": "true",
        "nocache": "true" if profile.no_cache else "false",
    }
    if profile.target:
        params["target"] = profile.target
    if profile.build_args:
        params["buildargs"] = dict(profile.build_args)
    platforms = _platforms(profile)
    if len(platforms) > 1:
        raise ConfigError(
            "building several platforms in one run is not supported yet",
            file=profile.file,
            key="platform",
            hint="give one platform per profile (or `--set platform=linux/arm64`)",
        )
    if platforms:
        params["platform"] = platforms[0]
    if profile.isolation:
        params["isolation"] = profile.isolation
    if not tls_verify:
        params["tlsVerify"] = "false"
    if secret_specs:
        params["secrets"] = secret_specs
    # Always send our exclusion list: the server then applies exactly the rules we applied (a
    # `<Containerfile>.containerignore` outside the context would otherwise be unknown to it) plus our own
    # injected names.
    params["excludes"] = [*snapshot.rules.patterns, *excluded_names]

    added = oci_labels(provenance, image=profile.image, version=profile.version, description=profile.description)
    labels = {**added, **profile.labels}
    return BuildPlan(
        profile=profile,
        snapshot=snapshot,
        dockerfile=dockerfile,
        extra=extra,
        params=params,
        labels=labels,
        refs=profile.refs,
        notes=tuple(notes),
        full_snapshot=full_snapshot,
        containerfile_data=containerfile,
        inputs_containerfile=inputs_containerfile,
    )


def _containerfile_in_context(profile: Profile, snapshot: ContextSnapshot) -> str | None:
    if profile.containerfile is None:
        return None
    try:
        relative = profile.containerfile.resolve().relative_to(snapshot.root.resolve())
    except ValueError:
        return None
    name = relative.as_posix()
    kept = any(entry.path == name and entry.kind == "file" for entry in snapshot.entries)
    return name if kept else None


def _platforms(profile: Profile) -> list[str]:
    value = profile.platform
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _fits_on_a_line(text: str) -> bool:
    return "\n" not in text and "\r" not in text


def _quoted(text: str) -> str:
    """A Containerfile word that reads back as `text`: inside double quotes, `\\`, `"` and `$` are escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'
