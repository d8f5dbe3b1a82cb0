"""`imgctl push` (what `imgctl build` made, to every destination) and `imgctl save` (to a tarball)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from builder.cli.options import (
    AUTHFILE_OPTION,
    CERT_DIR_OPTION,
    DIGESTFILE_OPTION,
    METADATA_FILE_OPTION,
    RETRIES_OPTION,
    RETRY_DELAY_OPTION,
    SET_OPTION,
    TLS_VERIFY_OPTION,
    TO_OPTION,
    PushFlags,
    global_options,
    project,
)
from builder.errors import ConfigError

if TYPE_CHECKING:
    from builder.push.execute import PushEvent


def push_command(
    ctx: typer.Context,
    names: list[str] = typer.Argument(..., metavar="NAME...", help="Profiles whose built images to push."),
    sets: list[str] = SET_OPTION,
    to: list[str] = TO_OPTION,
    tls_verify: str | None = TLS_VERIFY_OPTION,
    cert_dir: Path | None = CERT_DIR_OPTION,
    authfile: Path | None = AUTHFILE_OPTION,
    retries: int = RETRIES_OPTION,
    retry_delay: float = RETRY_DELAY_OPTION,
    digestfile: Path | None = DIGESTFILE_OPTION,
    metadata_file: Path | None = METADATA_FILE_OPTION,
    as_json: bool = typer.Option(False, "--json",
                                 help="Print one JSON document with every pushed reference and digest."),
    quiet: bool = typer.Option(False, "--quiet", "-q",
                               help="No progress; print only the pushed references with digests."),
) -> None:
    """Push what `imgctl build` made: every tag to every destination, then ask each registry for the digest."""
    from builder.engine.service import connect
    from builder.push.execute import push_built
    from builder.render.console import line, live_progress, print_json
    from builder.render.push import print_push_summary

    options = global_options(ctx)
    where = project(ctx)
    profiles = [where.profile(name, sets) for name in names]
    flags = PushFlags(to, tls_verify, cert_dir, authfile, retries, retry_delay, digestfile, metadata_file,
                      options.env)
    targets = [flags.destinations(profile) for profile in profiles]
    live = live_progress(options.env)
    with connect(options.url, options.env) as engine:
        results = push_built(engine, profiles, targets, flags.options(), push_display(live, quiet or as_json))
    write_push_files(flags, results)
    if as_json:
        print_json({"pushed": [r.to_dict() for r in results]})
    elif quiet:
        for result in results:
            for ref in result.pushed:
                line(ref.with_digest)
    else:
        print_push_summary(results)


def push_display(live: bool, quiet: bool) -> Callable[[str], AbstractContextManager[Callable[[PushEvent], None]]]:
    """Opens the progress display of one profile's push; yields where its events go."""
    from builder.render.push import PushDisplay

    @contextmanager
    def display(profile: str) -> Iterator[Callable[[PushEvent], None]]:
        with PushDisplay(live=live, quiet=quiet) as shown:
            yield shown.on_event

    return display


def write_push_files(flags: PushFlags, results: Sequence[Any]) -> None:
    """--digestfile (podman's format: the digest alone; with several, the first profile's first) and --metadata-file."""
    from builder.filewrite import write_text

    pushed = [ref for result in results for ref in result.pushed]
    if flags.digestfile is not None and pushed:
        write_text(flags.digestfile, pushed[0].digest, key="--digestfile")
    if flags.metadata_file is not None:
        document = json.dumps({"pushed": [r.to_dict() for r in results]}, indent=2) + "\n"
        write_text(flags.metadata_file, document, key="--metadata-file")


def save_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Profile whose built image to save."),
    output: Path = typer.Option(..., "--output", "-o", metavar="FILE", help="The archive to write."),
    fmt: str = typer.Option("oci-archive", "--format", metavar="FORMAT", help="oci-archive or docker-archive."),
    sets: list[str] = SET_OPTION,
) -> None:
    """Write the image `imgctl build` made to a tarball, without a registry (Kaniko's --no-push --tar-path)."""
    from builder.engine.service import connect
    from builder.push.execute import save_image
    from builder.render.console import human_size, note

    if fmt not in ("oci-archive", "docker-archive"):
        raise ConfigError(f"expected oci-archive or docker-archive, got {fmt!r}", key="--format")
    options = global_options(ctx)
    profile = project(ctx).profile(name, sets)
    with connect(options.url, options.env) as engine:
        size = save_image(engine, profile, output, fmt)
    note(f"saved {profile.refs[0]} to {output} ({fmt}, {human_size(size)})")
