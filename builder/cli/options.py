"""What the commands share: the global options, the options of `push` and `build --push`, and flag checks.

Command-line values are turned into the same `--set` overrides or typed options the layers below take, so
one mechanism validates them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from builder.errors import ConfigError

if TYPE_CHECKING:
    from builder.config.project import Project


@dataclass(frozen=True)
class GlobalOptions:
    profiles_dir: Path | None
    url: str | None
    debug: bool
    env: Mapping[str, str]  # the process environment, read once by main()


def global_options(ctx: typer.Context) -> GlobalOptions:
    options = ctx.find_root().obj
    assert isinstance(options, GlobalOptions), "the app callback sets the global options"
    return options


def project(ctx: typer.Context) -> Project:
    from builder.config.project import Project

    options = global_options(ctx)
    return Project.locate(options.profiles_dir, env=options.env)


def overrides(
    sets: Sequence[str],
    *,
    target: str | None = None,
    tags: Sequence[str] = (),
    labels: Sequence[str] = (),
    build_args: Sequence[str] = (),
    no_cache: bool = False,
    pull: str | None = None,
) -> list[str]:
    """Command-line flags as `--set` overrides, so that one mechanism validates them all."""
    result = list(sets)
    if target is not None:
        result.append(f"target={target}")
    result += [f"tags+={tag}" for tag in tags]
    for flag, values, table in (("--label", labels, "labels"), ("--build-arg", build_args, "build_args")):
        for item in values:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise ConfigError(f"expected KEY=VALUE, got {item!r}", key=flag)
            result.append(f"{table}.{key}={value}")
    if no_cache:
        result.append("no_cache=true")
    if pull is not None:
        result.append(f"pull={pull}")
    return result


TO_HELP = "Push to this repository (REGISTRY/PATH, no tag) instead of the profile's push list; repeatable."
TLS_HELP = "--tls-verify=false: skip TLS verification (and allow plain HTTP) for every destination of this run."
CERT_HELP = "Directory with the registries' CA certificates (*.crt), as podman's --cert-dir."
AUTHFILE_HELP = "Credentials file to look in first (default: REGISTRY_AUTH_FILE, then podman's and docker's files)."
RETRIES_HELP = "Retries for transient failures (connection refused/reset, timeouts, HTTP 5xx and 429)."
RETRY_DELAY_HELP = "Base of the exponential backoff between retries (full jitter)."
DIGESTFILE_HELP = "Write the pushed manifest digest to FILE (podman's --digestfile)."
METADATA_HELP = "Write JSON with every pushed reference and its registry digest to FILE."
SET_HELP = "Override a profile key: KEY=VALUE, KEY+=VALUE appends to a list, TABLE.KEY=VALUE sets one entry."

# The push options, shared by `imgctl push` and `imgctl build --push` (podman's spelling).
TO_OPTION = typer.Option([], "--to", metavar="REF", help=TO_HELP)
TLS_VERIFY_OPTION = typer.Option(None, "--tls-verify", metavar="BOOL", help=TLS_HELP)
CERT_DIR_OPTION = typer.Option(None, "--cert-dir", metavar="DIR", help=CERT_HELP)
AUTHFILE_OPTION = typer.Option(None, "--authfile", metavar="FILE", help=AUTHFILE_HELP)
RETRIES_OPTION = typer.Option(3, "--retries", min=0, help=RETRIES_HELP)
RETRY_DELAY_OPTION = typer.Option(1.0, "--retry-delay", min=0.0, metavar="SECONDS", help=RETRY_DELAY_HELP)
DIGESTFILE_OPTION = typer.Option(None, "--digestfile", metavar="FILE", help=DIGESTFILE_HELP)
METADATA_FILE_OPTION = typer.Option(None, "--metadata-file", metavar="FILE", help=METADATA_HELP)
SET_OPTION = typer.Option([], "--set", metavar="KEY=VALUE", help=SET_HELP)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON.")


@dataclass(frozen=True)
class PushFlags:
    """The push options shared by `imgctl push` and `imgctl build --push`, as podman spells them."""

    to: list[str]
    tls_verify: str | None
    cert_dir: Path | None
    authfile: Path | None
    retries: int
    retry_delay: float
    digestfile: Path | None
    metadata_file: Path | None
    env: Mapping[str, str]

    def reject_without_push(self) -> None:
        named = (("--to", self.to), ("--digestfile", self.digestfile), ("--metadata-file", self.metadata_file))
        given = [flag for flag, value in named if value]
        if given:
            raise ConfigError(f"{', '.join(given)} only apply to a push", hint="add --push, or use `imgctl push`")

    def verify(self) -> bool | None:
        if self.tls_verify is None:
            return None
        word = self.tls_verify.strip().lower()
        if word in ("true", "1", "yes"):
            return True
        if word in ("false", "0", "no"):
            return False
        raise ConfigError(f"expected true or false, got {self.tls_verify!r}", key="--tls-verify",
                          hint="--tls-verify=false")

    def destinations(self, profile: Any) -> Any:
        from builder.push.destinations import destinations

        if self.cert_dir is not None and not self.cert_dir.is_dir():
            raise ConfigError(f"{self.cert_dir} is not a directory", key="--cert-dir",
                              hint="a directory holding the registry's CA as *.crt")
        if self.authfile is not None and not self.authfile.is_file():
            raise ConfigError(f"{self.authfile} does not exist", key="--authfile",
                              hint="create it with `podman login --authfile FILE REGISTRY`")
        cert_dir = self.cert_dir.resolve() if self.cert_dir else None
        return destinations(profile, self.to, tls_verify=self.verify(), cert_dir=cert_dir)

    def options(self) -> Any:
        from builder.push.execute import PushOptions

        return PushOptions(retries=self.retries, retry_delay=self.retry_delay, authfile=self.authfile,
                           env=dict(self.env))
