"""Pushing built images to registries, and proving what landed.

For every destination repository, the first tag is pushed by the engine (the libpod push endpoint, read as
a stream), with credentials imgctl resolved itself (`builder.auth`). The other tags are then written in the
registry itself: the manifest the first push stored, under each further tag (one request per tag, every blob
is already there). A registry that refuses that gets them pushed by the engine instead. Last, the registry
is asked for the manifest digest of every tag (`builder.registry`). Destinations push in parallel.

Never prints: progress goes to the `on_event` callback.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder import refs
from builder.auth import Credential, Lookup, login_hint, lookup
from builder.engine.podman import Engine
from builder.errors import AuthError, ConfigError, ImgctlError, RegistryError
from builder.profiles import Profile
from builder.registry import RegistryClient, TLSConfig, retry_delays

log = logging.getLogger("imgctl.push")

_AUTH_FAILURE = re.compile(r"unauthorized|authentication required|access to the resource is denied|denied:|\b401\b|\b403\b|forbidden", re.I)
_TRANSIENT = re.compile(
    r"connection refused|connection reset|broken pipe|unexpected EOF|\bEOF\b|i/o timeout|timed out|timeout"
    r"|closed network connection|connection closed|server closed"
    r"|\b50[0-9]\b|\b429\b|too many requests|service unavailable|bad gateway|gateway timeout",
    re.I,
)
_TLS = re.compile(r"x509:|certificate|tls:", re.I)


@dataclass(frozen=True)
class Destination:
    repository: str  # host[:port]/path, no tag
    verify: bool = True
    cert_dir: Path | None = None

    @property
    def registry(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def path(self) -> str:
        return self.repository.split("/", 1)[1]


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
    """`kind`: "start", "line", "retry", "done" or "failed", for one destination reference."""

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


def destinations(
    profile: Profile, to: Sequence[str] = (), *, tls_verify: bool | None = None, cert_dir: Path | None = None
) -> tuple[Destination, ...]:
    """The profile's destinations (or `--to`), with its per-registry settings and the command-line flags."""
    repositories = [checked_repository(ref) for ref in to] if to else list(profile.push)
    if not repositories:
        raise ConfigError(
            f"profile {profile.name} has no push destinations",
            file=profile.file,
            key="push",
            hint='add push = ["quay.io/team/api"] to the profile, or pass --to REGISTRY/REPOSITORY',
        )
    found = []
    for repository in dict.fromkeys(repositories):
        settings = profile.registry(repository.split("/", 1)[0])
        verify = settings.verify if tls_verify is None else tls_verify
        found.append(Destination(repository, verify=verify, cert_dir=cert_dir or settings.cert_dir))
    return tuple(found)


def checked_repository(ref: str) -> str:
    try:
        repository, tag, digest = refs.split_reference(ref)
        refs.validate_repository(repository)
    except ValueError as error:
        raise ConfigError(str(error), key="--to", hint="write REGISTRY/REPOSITORY, e.g. quay.io/team/api") from None
    if tag or digest:
        raise ConfigError(f"{ref!r} includes a tag or digest", key="--to", hint="the tags come from the profile; drop ':TAG'")
    if "/" not in repository or refs.normalize_repository(repository) != repository or repository.startswith("localhost/"):
        raise ConfigError(f"{ref!r} does not name a registry", key="--to", hint="write the registry host first, e.g. quay.io/team/api")
    return repository


def local_image(engine: Engine, profile: Profile) -> str:
    """The id of the image `imgctl build` made for `profile`: every one of its tags must name it."""
    image_ids = {}
    for ref in profile.refs:
        image = engine.inspect_image(ref)
        if image is None:
            time_varying = any(p in str(profile.setting("tags")) for p in ("{date}", "{timestamp}"))
            raise ConfigError(
                f"{ref} does not exist locally",
                key=profile.name,
                hint=(
                    f"run `imgctl build {profile.name}` first"
                    + ("; tags with {date} or {timestamp} change between runs: use `imgctl build --push`" if time_varying else "")
                ),
            )
        image_ids[ref] = image["Id"]
    if len(set(image_ids.values())) > 1:
        detail = ", ".join(f"{ref} is {image_id[:12]}" for ref, image_id in image_ids.items())
        raise ConfigError(
            f"the tags of profile {profile.name} name different images ({detail})",
            key=profile.name,
            hint=f"run `imgctl build {profile.name}` to tag one image with all of them",
        )
    return next(iter(image_ids.values()))


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
    lookups = {d.repository: _credentials(d, options) for d in targets}

    def one(destination: Destination) -> list[PushedRef]:
        return _push_destination(engine, image_id, destination, tags, lookups[destination.repository], options, emit)

    pool = ThreadPoolExecutor(max_workers=max(1, len(targets)), thread_name_prefix="push")
    with ExitStack() as trust:
        # Once per registry, before any thread starts: two destinations on one registry share the link.
        for destination in {d.registry: d for d in targets}.values():
            trust.enter_context(_engine_trusts(destination, options.env))
        return _collect(pool, one, targets, profile, image_id)


def _collect(pool: ThreadPoolExecutor, one: Callable[[Destination], list[PushedRef]], targets: Sequence[Destination], profile: str, image_id: str) -> PushResult:
    try:
        futures = [pool.submit(one, d) for d in targets]
        pushed: list[PushedRef] = []
        errors: list[ImgctlError] = []
        for future in futures:
            try:
                pushed.extend(future.result())
            except ImgctlError as error:
                errors.append(error)
    finally:
        # On Ctrl-C, do not wait here for streams that only end when the service stops.
        pool.shutdown(wait=False, cancel_futures=True)
    if errors:
        # The most telling error decides the exit code: credentials first, then the registry.
        errors.sort(key=lambda e: 0 if isinstance(e, AuthError) else 1)
        raise errors[0]
    return PushResult(profile=profile, image_id=image_id, pushed=tuple(pushed))


def _credentials(destination: Destination, options: PushOptions) -> Lookup:
    found = lookup(destination.repository, env=options.env, authfile=options.authfile)
    for warning in found.warnings:
        log.warning("%s", warning)
    return found


def _push_destination(
    engine: Engine,
    image_id: str,
    destination: Destination,
    tags: Sequence[str],
    found: Lookup,
    options: PushOptions,
    emit: EventSink,
) -> list[PushedRef]:
    """All tags to one repository: the first by the engine (it uploads the blobs), the rest as manifests
    written in the registry, then the registry is asked for every tag's digest."""

    def push(tag: str) -> tuple[int, float]:
        # A connection of its own per stream: several pushes run at once.
        worker = engine.clone()
        try:
            return _push_tag(worker, image_id, destination, tag, found, options, emit)
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
    )
    pushed = []
    try:
        tagged = _tag_in_registry(client, destination, first, rest, emit) if rest else {}
        if tagged is None:
            with ThreadPoolExecutor(max_workers=len(rest), thread_name_prefix="push-tag") as pool:
                outcomes.update(zip(rest, pool.map(push, rest)))
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
) -> tuple[int, float]:
    """Push one tag, retrying transient failures; returns (attempts, seconds)."""
    reference = f"{destination.repository}:{tag}"
    credential: Credential | None = found.credential
    started = time.monotonic()
    delays = retry_delays(options.retries, options.retry_delay, random.random)
    attempt = 0
    while True:
        attempt += 1
        emit(PushEvent(reference, "start", f"attempt {attempt}"))
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
            break
        failure = _classify(error, destination, found, options.authfile)
        if not _TRANSIENT.search(error) or isinstance(failure, AuthError):
            emit(PushEvent(reference, "failed", str(failure)))
            raise failure
        delay = next(delays, None)
        if delay is None:
            emit(PushEvent(reference, "failed", str(failure)))
            raise RegistryError(
                f"pushing {reference} failed after {attempt} attempts: {_short(error)}",
                hint=f"check that {destination.registry} is up and reachable from the podman service",
            )
        emit(PushEvent(reference, "retry", f"{_short(error)}; retrying in {delay:.1f}s"))
        time.sleep(delay)

    return attempt, time.monotonic() - started


def _classify(error: str, destination: Destination, found: Lookup, authfile: Path | None) -> ImgctlError:
    text = _short(error)
    if _AUTH_FAILURE.search(error):
        if found.credential is None:
            tried = "; ".join(found.tried) or "no auth file exists"
            return AuthError(
                f"{destination.registry} refused the push of {destination.repository}: no credentials found ({tried})",
                hint=f"log in first: {login_hint(destination.repository, authfile)}",
            )
        used = found.credential
        where = f"{used.source}" + (f", key {used.key}" if used.key else "")
        return AuthError(
            f"{destination.registry} refused the credentials for {destination.repository} from {where}: {text}",
            hint=f"log in again: {login_hint(destination.repository, authfile)}",
        )
    if _TLS.search(error):
        return RegistryError(
            f"TLS with {destination.registry} failed: {text}",
            hint=(
                f"give the registry's CA with --cert-dir DIR or cert_dir in [registries.\"{destination.registry}\"], "
                "or (for a test registry only) tls_verify = false"
            ),
        )
    return RegistryError(f"pushing to {destination.repository} failed: {text}")


def _short(error: str) -> str:
    """podman nests its causes; the first line carries all of them."""
    return error.strip().splitlines()[0][:500] if error.strip() else "unknown error"


@contextmanager
def _engine_trusts(destination: Destination, env: Mapping[str, str]) -> Iterator[None]:
    """Let the podman service verify `destination` with `cert_dir` for the duration of the push.

    The push endpoint takes no CA directory; the service reads `~/.config/containers/certs.d/HOST/`
    for every TLS connection. When that directory does not exist, a link to `cert_dir` is put there
    and removed afterwards. This works when the service runs as the same user (a private service,
    the user's rootless socket); an existing directory there is the user's and is left alone.
    """
    if destination.cert_dir is None or not destination.verify:
        yield
        return
    home = env.get("HOME") or os.path.expanduser("~")
    link = Path(home) / ".config" / "containers" / "certs.d" / destination.registry
    if link.exists() or link.is_symlink():
        log.debug("%s exists; the service uses it for %s", link, destination.registry)
        yield
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(destination.cert_dir, target_is_directory=True)
    log.debug("linked %s -> %s for the push", link, destination.cert_dir)
    try:
        yield
    finally:
        link.unlink(missing_ok=True)
