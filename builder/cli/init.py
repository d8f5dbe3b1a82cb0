"""`imgctl init`: write a Containerfile, a profile and an ignore file for the application in DIRECTORY."""

from __future__ import annotations

from pathlib import Path

import typer

from builder.cli.options import GlobalOptions, global_options

RUNTIME_HELP = "python, nodejs, java, go, php, ruby or dotnet (default: read from the files in DIRECTORY)."


def init_command(
    ctx: typer.Context,
    directory: Path = typer.Argument(Path("."), metavar="[DIRECTORY]",
                                     help="The application's directory: the build context."),
    runtime: str | None = typer.Option(None, "--runtime", metavar="RUNTIME", help=RUNTIME_HELP),
    minimal: bool = typer.Option(False, "--minimal", help="The smallest runtime image (ubi-micro for Go)."),
    name: str | None = typer.Option(None, "--name", metavar="NAME",
                                    help="Profile and image name (default: the directory's name)."),
    force: bool = typer.Option(False, "--force", help="Replace files that exist (otherwise nothing is written)."),
) -> None:
    """Write a Containerfile (UBI, OpenShift-ready), profiles/NAME.toml and a .containerignore for DIRECTORY."""
    from builder.render.scaffold import print_init
    from builder.scaffold.plan import plan_init, write_plan

    options = global_options(ctx)
    plan = plan_init(directory, runtime=runtime, minimal=minimal, name=name, profiles_dir=options.profiles_dir,
                     env=options.env)
    written = write_plan(plan, force=force)
    print_init(plan, written, chosen=runtime is not None, profiles_option=_profiles_option(plan.profiles_dir,
                                                                                        options))


def _profiles_option(profiles_dir: Path, options: GlobalOptions) -> str:
    """What the commands init suggests need to find the profile from here: nothing, or --profiles-dir."""
    from builder.config.files import find_profiles_dir
    from builder.errors import ConfigError

    try:
        found = find_profiles_dir(Path.cwd(), options.profiles_dir, options.env)
    except ConfigError:
        found = None
    return "" if found == profiles_dir else f"--profiles-dir {profiles_dir} "
