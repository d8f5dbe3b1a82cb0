"""The typer application: the global options and the table of commands.

Each command lives in the module of its group and imports what it needs when it runs, so that
`imgctl --help` and `imgctl list` load neither podman-py nor the build machinery.
"""

from __future__ import annotations

from pathlib import Path

import typer

from builder import __version__
from builder.cli import auth, build, context, init, lint, manifests, profiles, push, verify
from builder.cli.options import GlobalOptions

app = typer.Typer(
    name="imgctl",
    help="Build, label, tag and push container images with Podman, from TOML profiles in profiles/.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from builder.render.console import line

        line(f"imgctl {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    profiles_dir: Path | None = typer.Option(
        # No envvar=: find_profiles_dir reads IMGCTL_PROFILES_DIR itself, so errors name where a value came from.
        None, "--profiles-dir",
        help="Directory of profiles (default: IMGCTL_PROFILES_DIR, else profiles/ found upwards from here).",
    ),
    url: str | None = typer.Option(
        None, "--url",
        help="Podman API URL (default: CONTAINER_HOST, the rootless socket, the system socket, "
             "else a private service).",
    ),
    debug: bool = typer.Option(False, "--debug", help="Log what imgctl does to stderr, and show tracebacks."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    # main() hands the environment it read in as the context object; the commands get it from here.
    env = ctx.obj if isinstance(ctx.obj, dict) else {}
    ctx.obj = GlobalOptions(profiles_dir=profiles_dir, url=url, debug=debug, env=env)


app.command("init")(init.init_command)
app.command("list")(profiles.list_command)
app.command("show")(profiles.show_command)
app.command("context")(context.context_command)
app.command("ignore")(context.ignore_command)
app.command("build")(build.build_command)
app.command("lint")(lint.lint_command)
app.command("push")(push.push_command)
app.command("save")(push.save_command)
app.command("render")(manifests.render_command)
app.command("verify")(verify.verify_command)
app.add_typer(auth.auth_app, name="auth")
