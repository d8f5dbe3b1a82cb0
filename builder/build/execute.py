"""What a build does, in order: for each profile, inspect its base images, plan, skip or build, label,
tag and verify; `imgctl build` is this plus rendering.

Never prints: progress goes to the `on_event` callback, which the CLI turns into a live display or
plain lines. Everything here talks to the engine through `builder.engine.protocol.Engine`, so a test can
run it against an engine of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from builder.build.check import verify
from builder.build.log import BuildLog
from builder.build.plan import BuildPlan
from builder.config.profile import Profile
from builder.context.tar import tar_stream
from builder.engine.protocol import Engine, ImageRecord, StreamMessage
from builder.errors import BuildError, VerifyError
from builder.inputs.digest import Inputs, compute
from builder.inputs.explain import NO_CHANGE, explain
from builder.inputs.hashcache import HashCache
from builder.inputs.record import decode_label
from builder.inputs.sent import SentContent
from builder.oci.labels import DIGEST_LABEL, TIME_VARYING_LABELS

if TYPE_CHECKING:
    from builder.config.project import Project
    from builder.containerfile.document import Document

log = logging.getLogger("imgctl.build")


@dataclass(frozen=True)
class BuildEvent:
    """Something a progress display may show. `kind` is "line", "step" or "phase"."""

    kind: str
    log: BuildLog
    text: str = ""


@dataclass(frozen=True)
class BuildResult:
    profile: str
    image_id: str
    tags: tuple[str, ...]
    labels: dict[str, str]
    size: int
    seconds: float
    cached_steps: int = 0
    steps: int = 0
    warnings: tuple[str, ...] = field(default=())
    up_to_date: bool = False
    reasons: tuple[str, ...] = field(default=())  # why it was built, for --explain
    sent_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "image_id": self.image_id,
            "tags": list(self.tags),
            "labels": self.labels,
            "size": self.size,
            "seconds": round(self.seconds, 3),
            "up_to_date": self.up_to_date,
            "reasons": list(self.reasons),
            "sent_bytes": self.sent_bytes,
        }


EventSink = Callable[[BuildEvent], None]


def run_build(
    plan: BuildPlan,
    engine: Engine,
    on_event: EventSink | None = None,
    *,
    cache: HashCache | None = None,
    base_digests: Mapping[str, str | None] | None = None,
    headers: Callable[[], Mapping[str, str] | None] | None = None,
) -> BuildResult:
    """Build `plan` unless an image with the same inputs exists (then only tag it).

    Without a `cache` every build runs (no input digest is computed). `headers` gives the build request's
    extra headers (base-image credentials); it is called only when a build is sent, so an up-to-date image
    costs no credential lookup.

    The image is labelled with the digest of the bytes the build actually received: each file is hashed as
    the tar stream sends it (one read per file), and the digest worked out beforehand only decides whether
    to build. A file rewritten in between therefore labels the image with what it holds; an upload the
    build did not read to its end labels it with no digest at all, so it is never taken as up to date.
    """
    emit = on_event or _ignore
    started = time.monotonic()
    build_log = BuildLog()

    inputs = compute(plan, base_digests or {}, cache) if cache is not None else None
    reasons: list[str] = []
    if inputs is not None and cache is not None:
        if plan.profile.no_cache:
            reasons = ["--no-cache (no_cache = true) always builds"]
        else:
            # The profile's first tag names the previous build: usually the answer, or what to explain against.
            previous = engine.inspect_image(plan.refs[0])
            found = _image_with_inputs(engine, inputs, previous) if inputs.complete else None
            if found is not None:
                emit(
                    BuildEvent("phase", build_log, f"up to date: image {found.id[:12]} has the same inputs; tagging it")
                )
                result = _retag(plan, engine, found, started)
                cache.save()
                return result
            reasons = _why_built(previous, inputs, cache)

    sent = SentContent(plan.snapshot, cache)
    body = tar_stream(plan.snapshot, plan.extra, sink=sent)
    image_id = _follow(engine.build(plan.params, body, headers() if headers else None), build_log, emit)
    labels = dict(plan.labels)
    if inputs is not None:
        inputs = inputs.settled(sent.sums) if sent.complete else None
    if inputs is not None and inputs.complete:
        labels.update(inputs.to_label())

    emit(BuildEvent("phase", build_log, _labelling(len(plan.refs))))
    label_params, label_files = plan.label_step(image_id, labels)
    final_id = _follow(engine.build(label_params, _small_tar(label_files)), BuildLog(), _ignore)

    image = engine.inspect_image(final_id)
    if image is None:
        raise VerifyError(f"the engine reported image {final_id[:12]} but cannot find it")
    verify(plan, image.labels, image.repo_tags)
    if inputs is not None and cache is not None:
        cache.remember(inputs)
        cache.save()
    return BuildResult(
        profile=plan.profile.name,
        image_id=final_id,
        tags=plan.refs,
        labels=dict(image.labels),
        size=image.size,
        seconds=time.monotonic() - started,
        cached_steps=build_log.cached_steps,
        steps=build_log.steps_seen,
        reasons=tuple(reasons),
        sent_bytes=plan.snapshot.total_size,
    )


# Past this many names the label step takes seconds to minutes: containers/storage rewrites its list of
# names for every tag it adds, so tagging is quadratic in podman itself (measured on podman 4.3: 300 names
# 4 s, 1,000 names 98 s; `podman build` with as many -t: 4 s and 96 s). One API call does all of them, so
# the display can only say what is going on and show the clock.
_MANY_NAMES = 100


def _labelling(names: int) -> str:
    if names < _MANY_NAMES:
        return "labelling and tagging"
    return f"labelling and tagging: {names} names (podman's image store adds each one in turn; this takes a while)"


def _ignore(event: BuildEvent) -> None:
    pass


def _image_with_inputs(engine: Engine, inputs: Inputs, previous: ImageRecord | None) -> ImageRecord | None:
    """The local image built from exactly these inputs, or None."""
    if previous is not None and previous.labels.get(DIGEST_LABEL) == inputs.digest:
        return previous  # one inspect, whatever the number of images in the store
    found = engine.images_with_label(DIGEST_LABEL, inputs.digest)
    return engine.inspect_image(found[0]) if found else None


def _retag(plan: BuildPlan, engine: Engine, image: ImageRecord, started: float) -> BuildResult:
    """An image with these inputs exists: give it this build's tags; nothing is uploaded or built."""
    missing = [ref for ref in plan.refs if ref not in image.repo_tags]
    for ref in missing:
        repository, _, tag = ref.rpartition(":")
        engine.tag(image.id, repository, tag)
    if missing:
        found = engine.inspect_image(image.id)
        if found is None:
            raise VerifyError(f"image {image.id[:12]} disappeared while it was being tagged")
        image = found
    # The image keeps the creation time of the build that made it: that is when its content was made.
    verify(plan, image.labels, image.repo_tags, ignore=TIME_VARYING_LABELS)
    return BuildResult(
        profile=plan.profile.name,
        image_id=image.id,
        tags=plan.refs,
        labels=dict(image.labels),
        size=image.size,
        seconds=time.monotonic() - started,
        up_to_date=True,
    )


def _why_built(previous: ImageRecord | None, inputs: Inputs, cache: HashCache) -> list[str]:
    """Compare with the image the profile's first tag names now (the previous build, usually)."""
    if previous is None:
        return explain(None, inputs)
    labels = dict(previous.labels)
    reasons = explain(decode_label(labels, cache), inputs)
    if reasons == [NO_CHANGE] and labels.get(DIGEST_LABEL) != inputs.digest:
        # Every recorded component agrees, so the digest itself is framed differently.
        return ["the earlier image was labelled by another version of imgctl, whose input digest differs"]
    return reasons


def _follow(messages: Iterable[StreamMessage], log: BuildLog, emit: EventSink) -> str:
    for received in messages:
        before = log.steps_seen
        for line in log.feed(dict(received)):
            emit(BuildEvent("line", log, line))
        if log.steps_seen != before:
            emit(BuildEvent("step", log))
        if log.error:
            break
    if log.error:
        step = log.failed_instruction
        status = log.exit_status
        where = f" at {log.step.describe()}" if log.step else ""
        if status is not None:
            # buildah's own text repeats the instruction and the status; ours says it once, plainly.
            message = f"the build failed{where} (exit status {status})"
        else:
            message = f"the build failed{where}: {log.error}"
        raise BuildError(message, step=step, exit_status=status, tail=tuple(log.step_output))
    if not log.image_id:
        raise BuildError("the build ended without reporting an image id", tail=tuple(log.tail))
    return log.image_id


def _small_tar(files: dict[str, bytes]) -> bytes:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# Opens the progress display of one profile's build and hands back where its events go.
DisplayFactory = Callable[[Profile], AbstractContextManager[EventSink]]


@dataclass(frozen=True)
class BuildRun:
    """What every build of one `imgctl build` shares: the project (its clock, environment and checkout), the
    hash cache."""

    project: Project
    cache: HashCache | None = None
    authfile: Path | None = None


def build_profiles(
    engine: Engine,
    profiles: Sequence[Profile],
    run: BuildRun,
    display: DisplayFactory,
    *,
    on_plan: Callable[[BuildPlan], None] | None = None,
    on_result: Callable[[BuildResult], None] | None = None,
    documents: Sequence[Document | None] | None = None,
) -> list[BuildResult]:
    """Build each profile in order: inspect its base images, plan, build (or find it up to date), verify.

    `documents`: the profiles' Containerfiles if they were read already (by the lint before the build), in
    the order of `profiles` (None for one not read: an S2I profile's is generated here); the build uses those
    bytes rather than reading the files again.
    """
    from builder.build import prepare
    from builder.s2i.prepare import Pulling

    results = []
    for index, profile in enumerate(profiles):
        document = documents[index] if documents is not None else None
        bases = prepare.base_images_of(profile, engine, document, pulling=Pulling(run.project.env, run.authfile))
        plan = prepare.plan(profile, run.project, bases, walk_all=False)
        for note in plan.notes:
            log.debug("%s: %s", profile.name, note)
        if on_plan is not None:
            on_plan(plan)
        def headers(profile: Profile = profile, bases: prepare.BaseImages = bases) -> Mapping[str, str] | None:
            header = prepare.build_auth_header(profile, bases, run.project.env, run.authfile)
            return {"X-Registry-Config": header} if header else None

        with display(profile) as on_event:
            result = run_build(plan, engine, on_event, cache=run.cache, base_digests=bases.digests, headers=headers)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
