"""The command line: parse arguments, call the layers below, render what they return.

`main()` is the one place errors become messages and exit codes. Heavy modules (podman-py, rich
tables, the build machinery) are imported inside the commands that need them, so `imgctl --help` and
`imgctl list` stay fast.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional

import typer

from builder import __version__
from builder.errors import ConfigError, ImgctlError, Interrupted

app = typer.Typer(
    name="imgctl",
    help="Build, label, tag and push container images with Podman, from TOML profiles in profiles/.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass(frozen=True)
class GlobalOptions:
    profiles_dir: Optional[Path]
    url: Optional[str]
    debug: bool


def _version(value: bool) -> None:
    if value:
        typer.echo(f"imgctl {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    profiles_dir: Optional[Path] = typer.Option(
        None, "--profiles-dir", envvar="IMGCTL_PROFILES_DIR", help="Directory of profiles (default: profiles/ found upwards from here)."
    ),
    url: Optional[str] = typer.Option(None, "--url", help="Podman API URL (default: CONTAINER_HOST, the rootless socket, the system socket, else a private service)."),
    debug: bool = typer.Option(False, "--debug", help="Log what imgctl does to stderr, and show tracebacks."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    ctx.obj = GlobalOptions(profiles_dir=profiles_dir, url=url, debug=debug)


def _project(ctx: typer.Context):
    from builder.project import Project

    options: GlobalOptions = ctx.obj
    return Project.locate(options.profiles_dir)


def _overrides(
    sets: List[str],
    *,
    target: Optional[str] = None,
    tags: List[str] = (),  # type: ignore[assignment]
    labels: List[str] = (),  # type: ignore[assignment]
    build_args: List[str] = (),  # type: ignore[assignment]
    no_cache: bool = False,
    pull: Optional[str] = None,
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


SET_HELP = "Override a profile key: KEY=VALUE, KEY+=VALUE appends to a list, TABLE.KEY=VALUE sets one entry."


@app.command("list")
def list_command(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the profiles: name, image, target and tags (templates shown unexpanded)."""
    from builder import render
    from builder.profiles import find_profiles_dir, summarize

    options: GlobalOptions = ctx.obj
    # Only the profiles layer: `list` must stay fast and must not need the build machinery.
    profiles_dir = find_profiles_dir(Path.cwd(), options.profiles_dir, os.environ)
    summaries = summarize(profiles_dir)
    if as_json:
        render.print_json({"profiles_dir": str(profiles_dir), "profiles": [s.to_dict() for s in summaries]})
        return
    from builder.profiles import ProfileProblem

    problems = [s for s in summaries if isinstance(s, ProfileProblem)]
    rows = [
        (
            summary.name,
            summary.image or "(none: a base to extend)",
            summary.target or "-",
            ", ".join(summary.tags),
            summary.description,
        )
        for summary in summaries
        if not isinstance(summary, ProfileProblem)
    ]
    render.print_table(None, ("PROFILE", "IMAGE", "TARGET", "TAGS", "DESCRIPTION"), rows)
    for problem in problems:
        render.print_error(problem.error)
    if problems:
        # Every profile was still listed; the status tells a Makefile or CI job that some are broken.
        raise typer.Exit(ConfigError.exit_code)


@app.command("show")
def show_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Profile name (a file profiles/NAME.toml)."),
    sets: List[str] = typer.Option([], "--set", metavar="KEY=VALUE", help=SET_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one profile fully resolved: extends merged, overrides applied, templates expanded."""
    from builder import render

    profile = _project(ctx).profile(name, sets)
    document = profile.to_dict()
    if as_json:
        render.print_json(document)
        return
    rows = []
    for key, value in document.items():
        if isinstance(value, dict):
            text = "\n".join(f"{k} = {v}" for k, v in value.items()) or "-"
        elif isinstance(value, (list, tuple)):
            text = "\n".join(str(v) for v in value) or "-"
        else:
            text = "-" if value is None or value == "" else str(value)
        rows.append((key, text))
    render.print_table(f"profile {name}", ("KEY", "VALUE"), rows)


@app.command("context")
def context_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Profile name."),
    sets: List[str] = typer.Option([], "--set", metavar="KEY=VALUE", help=SET_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show what a build of NAME would send: every file with its size, totals, largest directories."""
    from builder import project as project_mod
    from builder import render

    profile = _project(ctx).profile(name, sets)
    snap = project_mod.snapshot(profile)
    files = [e for e in snap.entries if e.kind != "dir"]
    largest = snap.largest_dirs(10)
    if as_json:
        render.print_json(
            {
                "profile": profile.name,
                "context": str(snap.root),
                "ignore_file": str(snap.ignore_file) if snap.ignore_file else None,
                "files": [e.path for e in files],
                "sizes": {e.path: e.size for e in files},
                "file_count": snap.file_count,
                "bytes": snap.total_size,
                "excluded": snap.excluded_count,
                "pruned_dirs": list(snap.pruned_dirs),
                "largest_dirs": [{"path": d, "bytes": b, "files": n} for d, b, n in largest],
            }
        )
        return
    out = sys.stdout
    for entry in files:
        suffix = f" -> {entry.link}" if entry.kind == "symlink" else ""
        out.write(f"{render.human_size(entry.size):>10}  {entry.path}{suffix}\n")
    out.write("\n")
    render.print_table(
        "largest directories", ("DIRECTORY", "SIZE", "FILES"), [(d or ".", render.human_size(b), str(n)) for d, b, n in largest]
    )
    decided = str(snap.ignore_file) if snap.ignore_file else "none (everything is sent)"
    out.write(
        f"\ncontext {snap.root}\n"
        f"ignore file: {decided}\n"
        f"sent: {snap.file_count} files, {render.human_size(snap.total_size)}; "
        f"excluded: {snap.excluded_count} paths ({len(snap.pruned_dirs)} directories skipped without reading)\n"
    )


@app.command("build")
def build_command(
    ctx: typer.Context,
    names: List[str] = typer.Argument(..., metavar="NAME...", help="Profile names, built in order."),
    target: Optional[str] = typer.Option(None, "--target", help="Build this stage of the Containerfile."),
    tags: List[str] = typer.Option([], "--tag", "-t", metavar="TAG", help="Add a tag (templates allowed)."),
    labels: List[str] = typer.Option([], "--label", metavar="KEY=VALUE", help="Add or replace a label."),
    build_args: List[str] = typer.Option([], "--build-arg", metavar="KEY=VALUE", help="Add or replace a build argument."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not use cached layers."),
    pull: Optional[str] = typer.Option(None, "--pull", metavar="POLICY", help="Base image pull policy: missing, always, never, newer."),
    sets: List[str] = typer.Option([], "--set", metavar="KEY=VALUE", help=SET_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be sent and run; do not touch the engine."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document with the results."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No build log; print only the image ids."),
) -> None:
    """Build the images of one or more profiles, then label, tag and verify them."""
    from builder import project as project_mod
    from builder import render

    project = _project(ctx)
    overrides = _overrides(sets, target=target, tags=tags, labels=labels, build_args=build_args, no_cache=no_cache, pull=pull)
    # Resolve and plan every profile first: a typo in the third profile should not cost two builds.
    plans = [project_mod.plan(project.profile(name, overrides), project.now) for name in names]

    if dry_run:
        documents = [p.to_dict() for p in plans]
        if as_json:
            render.print_json({"plans": documents})
        else:
            for document in documents:
                render.print_plan(document)
        return

    from builder.build import run_build
    from builder.engine import connect

    options: GlobalOptions = ctx.obj
    live = render.is_interactive(sys.stderr)
    results = []
    with connect(options.url) as engine:
        for plan in plans:
            with render.BuildDisplay(plan.profile.name, live=live, quiet=quiet, prefix=len(plans) > 1) as display:
                results.append(run_build(plan, engine, display.on_event))
    if as_json:
        render.print_json({"images": [r.to_dict() for r in results]})
    elif quiet:
        for result in results:
            sys.stdout.write(result.image_id + "\n")
    else:
        render.print_build_summary(results)


@contextmanager
def _signals_raise() -> Iterator[None]:
    """Ctrl-C and SIGTERM become `Interrupted`, so that every `finally` (private service, sockets) runs.

    Only the first signal raises: a second Ctrl-C while cleanup runs must not cut the cleanup short.
    """
    received: list[int] = []

    def handler(signum: int, frame: object) -> None:
        if received:
            return
        received.append(signum)
        raise Interrupted(f"interrupted by {signal.Signals(signum).name}")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def main(argv: Optional[List[str]] = None) -> None:
    """Console entry point. Click handles usage errors (exit 2); everything else ends here."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("IMGCTL_DEBUG") == "1"
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING, format="imgctl: %(name)s: %(message)s", stream=sys.stderr
    )
    from builder import render

    try:
        with _signals_raise():
            app(args=args, prog_name="imgctl")
    except ImgctlError as error:
        if debug:
            logging.getLogger("imgctl").debug("error details", exc_info=True)
        render.print_error(error)
        sys.exit(error.exit_code)
    except Exception as error:  # a bug: say so plainly, trace only on request
        if debug:
            raise
        sys.stderr.write(
            f"error: internal error: {type(error).__name__}: {error}\nhint: rerun with --debug and report the output\n"
        )
        sys.exit(1)
