"""`imgctl list` and `imgctl show`: profiles as written, and one profile fully resolved."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from builder.cli.options import JSON_OPTION, SET_OPTION, global_options, project
from builder.errors import ConfigError

if TYPE_CHECKING:
    from builder.config.profile import Profile


def list_command(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the profiles: name, image, target and tags (templates shown unexpanded)."""
    from builder.config.files import find_profiles_dir
    from builder.config.summary import ProfileProblem, summarize
    from builder.render.console import print_json
    from builder.render.profiles import print_profiles

    options = global_options(ctx)
    # Only the profiles layer: `list` must stay fast and must not need the build machinery.
    profiles_dir = find_profiles_dir(Path.cwd(), options.profiles_dir, options.env)
    summaries = summarize(profiles_dir)
    if as_json:
        print_json({"profiles_dir": str(profiles_dir), "profiles": [s.to_dict() for s in summaries]})
        return
    problems = [s for s in summaries if isinstance(s, ProfileProblem)]
    print_profiles([s for s in summaries if not isinstance(s, ProfileProblem)], problems)
    if problems:
        # Every profile was still listed; the status tells a Makefile or CI job that some are broken.
        raise typer.Exit(ConfigError.exit_code)


def show_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Profile name (a file profiles/NAME.toml)."),
    sets: list[str] = SET_OPTION,
    as_json: bool = JSON_OPTION,
    containerfile: bool = typer.Option(
        False, "--containerfile",
        help="Print the Containerfile the build uses instead (an S2I profile's is generated: asks the engine)."),
) -> None:
    """Show one profile fully resolved: extends merged, overrides applied, templates expanded."""
    from builder.render.console import print_json
    from builder.render.profiles import print_containerfile, print_profile

    profile = project(ctx).profile(name, sets)
    if containerfile:
        text, notes = _containerfile_of(ctx, profile)
        if as_json:
            print_json({"profile": profile.name, "containerfile": text, "notes": list(notes)})
        else:
            print_containerfile(text, notes)
        return
    document = profile.to_dict()
    if as_json:
        print_json(document)
    else:
        print_profile(name, document)


def _containerfile_of(ctx: typer.Context, profile: Profile) -> tuple[str, tuple[str, ...]]:
    """The Containerfile's text as the build reads it, and notes on how it was made."""
    from builder.containerfile.document import Document

    if profile.containerfile is not None:
        return Document.read(profile.containerfile).text, ()
    from builder.engine.service import connect
    from builder.s2i.prepare import generated_containerfile

    options = global_options(ctx)
    with connect(options.url, options.env) as engine:
        generated = generated_containerfile(profile, engine)
    return generated.document.text, generated.notes
