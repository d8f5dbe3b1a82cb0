"""Pushing built images to registries, and proving what landed.

For every destination repository, the first tag is pushed by the engine (the libpod push endpoint, read as
a stream), with credentials imgctl resolved itself (`builder.registry.credentials`). The other tags are then
written in the registry itself: the manifest the first push stored, under each further tag (one request per
tag, every blob is already there). A registry that refuses that gets them pushed by the engine instead.
Last, the registry is asked for the manifest digest of every tag (`builder.registry.client`). Destinations
push in parallel.

Never prints: progress goes to the `on_event` callback. Talks to the engine through
`builder.engine.protocol.Engine` only, so a test can run every step against an engine of its own.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from builder.build.check import local_image
from builder.config.profile import Profile
from builder.engine.protocol import Engine
from builder.errors import AuthError, ImgctlError, Interrupted, RegistryError
from builder.filewrite import output_file
from builder.push.classify import classify, short
from builder.push.destinations import Destination
from builder.push.trust import engine_trusts
from builder.registry.client import RegistryClient
from builder.registry.credentials import Credential, Lookup, lookup
from builder.registry.transport import TLSConfig
from builder.retry import Cancellation, GiveUp, Policy, Transient, is_transient_text, run

log = logging.getLogger("imgctl.push")
T = TypeVar("T")


@dataclass(frozen=True)
class PushedRef:
    reference: str  # host/path:tag
    digest: str
    attempts: int
    seconds: float

    @property
    def with_digest(self) -> str:
        return f"{self.reference.rsplit(':', 1)[0]}@{self.digest}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "digest": self.digest,
            "reference_with_digest": self.with_digest,
            "attempts": self.attempts,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class PushResult:
    profile: str
    image_id: str
    pushed: tuple[PushedRef, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "image_id": self.image_id, "pushed": [p.to_dict() for p in self.pushed]}


@dataclass(frozen=True)
class PushEvent:
    """`kind`: "start", "line", "retry", "done" or "failed", for one destination reference; or "warning",
    about the destination's credentials (an auth file others can read), with the repository as `reference`."""

    reference: str
    kind: str
    text: str = ""


@dataclass(frozen=True)
class PushOptions:
    retries: int = 3
    retry_delay: float = 1.0
    authfile: Path | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


EventSink = Callable[[PushEvent], None]


def push_image(
    engine: Engine,
    profile: str,
    image_id: str,
    tags: Sequence[str],
    targets: Sequence[Destination],
    options: PushOptions,
    on_event: EventSink | None = None,
) -> PushResult:
    emit = on_event or (lambda event: None)
    lookups = {d.repository: _credentials(d, options, emit) for d in targets}
    cancel = Cancellation()

    def one(destination: Destination) -> list[PushedRef]:
        found = lookups[destination.repository]
        return _push_destination(engine, image_id, destination, tags, found, options, emit, cancel)

    with ExitStack() as trust:
        # Once per registry, before any thread starts: two destinations on one registry share the link.
        for destination in {d.registry: d for d in targets}.values():
            trust.enter_context(engine_trusts(destination, options.env))
        outcomes = in_parallel([partial(one, d) for d in targets], cancel)
    pushed: list[PushedRef] = []
    errors: list[ImgctlError] = []
    for outcome in outcomes:
        if isinstance(outcome, ImgctlError):
            errors.append(outcome)
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            pushed.extend(outcome)
    if errors:
        # The most telling error decides the exit code: credentials first, then the registry.
        errors.sort(key=lambda e: 0 if isinstance(e, AuthError) else 1)
        raise errors[0]
    return PushResult(profile=profile, image_id=image_id, pushed=tuple(pushed))


def in_parallel(calls: Sequence[Callable[[], T]], cancel: Cancellation) -> list[T | BaseException]:
    """Run each call on a thread of its own; their results (or exceptions) in order.

    The threads are daemons and the wait is interruptible: on Ctrl-C (Interrupted in this, the main thread)
    `cancel` stops every retry loop at its next wait or attempt, and the command goes on to stop the private
    service and exit at once. It does not wait for a push stream that only ends when the service does, and
    a daemon thread does not hold the process at exit the way a ThreadPoolExecutor's workers would.
    """
    results: list[T | BaseException] = [Interrupted("not finished")] * len(calls)

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            results[index] = call()
        except BaseException as error:  # handed to the caller, which decides what it means
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, call), daemon=True, name=f"push-{i}")
               for i, call in enumerate(calls)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        cancel.cancel()
    return results


def _credentials(destination: Destination, options: PushOptions, emit: EventSink) -> Lookup:
    found = lookup(destination.repository, env=options.env, authfile=options.authfile)
    for warning in found.warnings:
        emit(PushEvent(destination.repository, "warning", warning))
    return found


def _push_destination(
    engine: Engine,
    image_id: str,
    destination: Destination,
    tags: Sequence[str],
    found: Lookup,
    options: PushOptions,
    emit: EventSink,
    cancel: Cancellation,
) -> list[PushedRef]:
    """All tags to one repository: the first by the engine (it uploads the blobs), the rest as manifests
    written in the registry, then the registry is asked for every tag's digest."""

    def push(tag: str) -> tuple[int, float]:
        # A connection of its own per stream: several pushes run at once.
        worker = engine.clone()
        try:
            return _push_tag(worker, image_id, destination, tag, found, options, emit, cancel)
        finally:
            worker.close()

    first, rest = tags[0], list(tags[1:])
    outcomes = {first: push(first)}
    client = RegistryClient(
        destination.registry,
        found.credential,
        TLSConfig(verify=destination.verify, cert_dir=destination.cert_dir),
        retries=options.retries,
        backoff=options.retry_delay,
        cancel=cancel,
    )
    pushed = []
    try:
        tagged = _tag_in_registry(client, destination, first, rest, emit) if rest else {}
        if tagged is None:
            for tag, outcome in zip(rest, in_parallel([partial(push, tag) for tag in rest], cancel), strict=True):
                if isinstance(outcome, BaseException):
                    raise outcome
                outcomes[tag] = outcome
        else:
            outcomes.update(tagged)
        for tag in tags:
            reference = f"{destination.repository}:{tag}"
            digest = client.manifest_digest(destination.path, tag)
            if digest is None:
                emit(PushEvent(reference, "failed", "missing from the registry"))
                raise RegistryError(
                    f"{reference} is missing from the registry after the push reported success",
                    hint="the registry may be dropping manifests (quota, retention policy, a proxy); check its logs",
                )
            emit(PushEvent(reference, "done", digest))
            attempts, seconds = outcomes[tag]
            pushed.append(PushedRef(reference=reference, digest=digest, attempts=attempts, seconds=seconds))
    finally:
        client.close()
    return pushed


def _tag_in_registry(
    client: RegistryClient, destination: Destination, first: str, rest: Sequence[str], emit: EventSink
) -> dict[str, tuple[int, float]] | None:
    """Write the manifest the first push stored under each tag in `rest`; (attempts, seconds) per tag.

    What `podman push` of those tags would do, minus asking about every blob again: the manifest bytes are
    the registry's own, so every tag gets the first tag's digest. None when the registry will not (the
    engine then pushes those tags); a tag written before that is simply written again.
    """
    try:
        manifest = client.get_manifest(destination.path, first)
        if manifest is None:
            return None
        outcomes = {}
        for tag in rest:
            reference = f"{destination.repository}:{tag}"
            emit(PushEvent(reference, "start", "tagging in the registry"))
            started = time.monotonic()
            client.put_manifest(destination.path, tag, manifest)
            emit(PushEvent(reference, "line", f"tagged in the registry (the manifest of :{first})"))
            outcomes[tag] = (1, time.monotonic() - started)
        return outcomes
    except ImgctlError as error:
        log.debug("cannot tag in %s (%s); the engine pushes the other tags", destination.registry, error)
        return None


def _push_tag(
    engine: Engine,
    image_id: str,
    destination: Destination,
    tag: str,
    found: Lookup,
    options: PushOptions,
    emit: EventSink,
    cancel: Cancellation | None = None,
) -> tuple[int, float]:
    """Push one tag, retrying transient failures (the one policy of `builder.retry`); returns (attempts,
    seconds). `cancel` ends the retries at once."""
    reference = f"{destination.repository}:{tag}"
    credential: Credential | None = found.credential
    started = time.monotonic()
    attempts = 0

    def attempt(number: int) -> Transient | None:
        nonlocal attempts
        attempts = number
        emit(PushEvent(reference, "start", f"attempt {number}"))
        error = None
        for message in engine.push(
            image_id,
            reference,
            auth_header=credential.x_registry_auth() if credential else None,
            tls_verify=destination.verify,
        ):
            if message.get("error"):
                error = str(message["error"]).strip()
                break
            text = message.get("stream")
            if isinstance(text, str) and text.strip():
                emit(PushEvent(reference, "line", text.strip()))
        if error is None:
            return None
        failure = classify(error, destination, found, options.authfile)
        if not is_transient_text(error) or isinstance(failure, AuthError):
            emit(PushEvent(reference, "failed", str(failure)))
            raise failure
        return Transient(EnginePushFailed(error))

    def give_up(why: GiveUp) -> RegistryError:
        error = short(str(why.failure.cause))
        emit(PushEvent(reference, "failed", error))
        return RegistryError(
            f"pushing {reference} failed after {why.attempts} attempts: {error}",
            hint=f"check that {destination.registry} is up and reachable from the podman service",
        )

    def on_retry(failure: Transient, number: int, delay: float) -> None:
        emit(PushEvent(reference, "retry", f"{short(str(failure.cause))}; retrying in {delay:.1f}s"))

    policy = Policy(retries=options.retries, backoff=options.retry_delay, cancel=cancel or Cancellation())
    run(attempt, policy, give_up=give_up, on_retry=on_retry)
    return attempts, time.monotonic() - started


class EnginePushFailed(Exception):
    """The engine's own text for a failed push (it arrives inside an HTTP 200 body)."""


# Opens the progress display of one profile's push and hands back where its events go.
PushDisplayFactory = Callable[[str], AbstractContextManager[EventSink]]


@dataclass(frozen=True)
class PushJob:
    """One profile's image and where it goes."""

    profile: str
    image_id: str
    tags: tuple[str, ...]
    targets: tuple[Destination, ...]


def push_profiles(
    engine: Engine, jobs: Sequence[PushJob], options: PushOptions, display: PushDisplayFactory
) -> list[PushResult]:
    """Push each profile's image in turn (its destinations in parallel)."""
    results = []
    for job in jobs:
        with display(job.profile) as on_event:
            results.append(push_image(engine, job.profile, job.image_id, job.tags, job.targets, options, on_event))
    return results


def push_built(
    engine: Engine,
    profiles: Sequence[Profile],
    targets: Sequence[Sequence[Destination]],
    options: PushOptions,
    display: PushDisplayFactory,
) -> list[PushResult]:
    """`imgctl push`: find what `imgctl build` made for every profile first, then push them in order."""
    images = [local_image(engine, profile) for profile in profiles]
    jobs = [PushJob(p.name, i, p.tags, tuple(t)) for p, i, t in zip(profiles, images, targets, strict=True)]
    return push_profiles(engine, jobs, options, display)


def save_image(engine: Engine, profile: Profile, output: Path, fmt: str) -> int:
    """`imgctl save`: write the image `imgctl build` made to `output`; returns the bytes written.

    A regular file (or a new one) is replaced only by a complete archive; anything else (a FIFO, a device, a
    link to /proc/self/fd/1) is written through, as `podman save -o` does (`builder.filewrite`).
    """
    local_image(engine, profile)
    with output_file(output, key="--output") as out:
        return engine.save(profile.refs[0], fmt, out)
