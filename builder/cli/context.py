"""`imgctl context` (what a build would send) and `imgctl ignore` (a proposed .containerignore)."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

import typer

from builder.cli.options import JSON_OPTION, SET_OPTION, global_options, project
from builder.errors import ConfigError

if TYPE_CHECKING:
    from builder.build.prepare import BaseImages
    from builder.config.profile import Profile

log = logging.getLogger("imgctl.cli")


def context_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Profile name."),
    sets: list[str] = SET_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show what a build of NAME would send: every file with its size, totals, largest directories."""
    from builder.build import prepare
    from builder.render.console import print_json
    from builder.render.context import context_document, print_context

    profile = project(ctx).profile(name, sets)
    bases = _base_images_for_context(ctx, profile)
    kept = prepare.snapshot(profile)
    sent, notes = prepare.sent_snapshot(profile, kept, bases)
    if as_json:
        print_json(context_document(sent, kept, notes, profile.name))
    else:
        print_context(sent, kept, notes)


def _base_images_for_context(ctx: typer.Context, profile: Profile) -> BaseImages:
    """Base image facts for pruning; asks the engine only when the Containerfile has external bases."""
    from builder.build import prepare
    from builder.engine.service import connect
    from builder.errors import EngineError

    options = global_options(ctx)
    if profile.containerfile is None:
        # S2I: the Containerfile itself is made from the builder image's labels; no engine, no answer.
        with connect(options.url, options.env) as engine:
            return prepare.base_images_of(profile, engine)
    offline = prepare.base_images_of(profile, None)
    if offline.facts is not None:
        return offline
    try:
        with connect(options.url, options.env) as engine:
            return prepare.base_images_of(profile, engine, offline.document)
    except EngineError as error:
        log.debug("no engine to inspect the base images: %s", error)
        return offline


def ignore_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Profile whose context gets the .containerignore."),
    write: bool = typer.Option(False, "--write", help="Write the file (shows the diff and asks first)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="With --write: do not ask."),
    sets: list[str] = SET_OPTION,
) -> None:
    """Propose a .containerignore for NAME's context: only rules for what is there, never what the build copies."""
    from builder.build import prepare
    from builder.context.propose import propose
    from builder.render.console import confirm, line
    from builder.render.context import print_proposal

    profile = project(ctx).profile(name, sets)
    needed, warnings = prepare.named_by_containerfile(profile)
    proposal = propose(profile.context, profile.containerfile, needed, profile_patterns=profile.ignore,
                       profile_file=profile.file, dialect=profile.ignore_dialect)
    print_proposal(name, proposal, warnings, write=write)
    if not write or not proposal.changed:
        return
    if not yes:
        if not sys.stdin.isatty():
            raise ConfigError("refusing to write without confirmation: stdin is not a terminal", hint="add --yes")
        if not confirm(f"write {proposal.path}?"):
            raise typer.Exit(1)
    proposal.write()
    line(f"wrote {proposal.path}")
