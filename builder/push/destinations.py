"""Where a profile's images go: its push repositories (or `--to`), each with its registry's TLS settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from builder.config.profile import Profile
from builder.errors import ConfigError
from builder.oci import refs


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
        raise ConfigError(
            f"{ref!r} includes a tag or digest", key="--to", hint="the tags come from the profile; drop ':TAG'"
        )
    if (
        "/" not in repository
        or refs.normalize_repository(repository) != repository
        or repository.startswith("localhost/")
    ):
        raise ConfigError(
            f"{ref!r} does not name a registry", key="--to", hint="write the registry host first, e.g. quay.io/team/api"
        )
    return repository
