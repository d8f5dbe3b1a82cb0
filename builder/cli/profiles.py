"""`imgctl list` and `imgctl show`: profiles as written, and one profile fully resolved."""

from __future__ import annotations

from pathlib import Path

import typer

from builder.cli.options import JSON_OPTION, SET_OPTION, global_options, project
from builder.errors import ConfigError


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
) -> None:
    """Show one profile fully resolved: extends merged, overrides applied, templates expanded."""
    from builder.render.console import print_json
    from builder.render.profiles import print_profile

    document = project(ctx).profile(name, sets).to_dict()
    if as_json:
        print_json(document)
    else:
        print_profile(name, document)
