"""The command line: parse arguments, call the layers below, render what they return.

`main()` is the one place errors become messages and exit codes. Heavy modules (podman-py, rich
tables, the build machinery) are imported inside the commands that need them, so `imgctl --help` and
`imgctl list` stay fast.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, List, Optional

import typer

from builder import __version__
from builder.errors import ConfigError, ImgctlError, Interrupted

log = logging.getLogger("imgctl.cli")

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
_TO_OPTION = typer.Option([], "--to", metavar="REF", help=TO_HELP)
_TLS_VERIFY_OPTION = typer.Option(None, "--tls-verify", metavar="BOOL", help=TLS_HELP)
_CERT_DIR_OPTION = typer.Option(None, "--cert-dir", metavar="DIR", help=CERT_HELP)
_AUTHFILE_OPTION = typer.Option(None, "--authfile", metavar="FILE", help=AUTHFILE_HELP)
_RETRIES_OPTION = typer.Option(3, "--retries", min=0, help=RETRIES_HELP)
_RETRY_DELAY_OPTION = typer.Option(1.0, "--retry-delay", min=0.0, metavar="SECONDS", help=RETRY_DELAY_HELP)
_DIGESTFILE_OPTION = typer.Option(None, "--digestfile", metavar="FILE", help=DIGESTFILE_HELP)
_METADATA_FILE_OPTION = typer.Option(None, "--metadata-file", metavar="FILE", help=METADATA_HELP)


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
    bases = _base_images_for_context(ctx, profile)
    full = project_mod.snapshot(profile)
    snap, notes = project_mod.sent_snapshot(profile, full, bases)
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
                "kept_by_ignore_rules": {
                    "files": [e.path for e in full.entries if e.kind != "dir"],
                    "file_count": full.file_count,
                    "bytes": full.total_size,
                },
                "excluded": snap.excluded_count,
                "pruned_dirs": list(snap.pruned_dirs),
                "largest_dirs": [{"path": d, "bytes": b, "files": n} for d, b, n in largest],
                "pruning": notes,
            }
        )
        return
    out = sys.stdout
    for entry in files:
        suffix = f" -> {entry.link}" if entry.kind == "symlink" else ""
        out.write(f"{render.human_size(entry.size):>10}  {entry.path}{suffix}\n")
    out.write("\n")
    render.print_table(
        "largest directories sent", ("DIRECTORY", "SIZE", "FILES"), [(d or ".", render.human_size(b), str(n)) for d, b, n in largest]
    )
    decided = str(snap.ignore_file) if snap.ignore_file else "none"
    out.write(
        f"\ncontext {snap.root}\n"
        f"ignore file: {decided}\n"
        f"the ignore rules keep: {full.file_count} files, {render.human_size(full.total_size)} "
        f"({full.excluded_count} paths excluded, {len(full.pruned_dirs)} directories skipped without reading)\n"
        f"sent to the build:     {snap.file_count} files, {render.human_size(snap.total_size)}\n"
    )
    for note in notes:
        out.write(f"  {note}\n")


def _base_images_for_context(ctx: typer.Context, profile: Any) -> Any:
    """Base image facts for pruning; asks the engine only when the Containerfile has external bases."""
    from builder import project as project_mod

    offline = project_mod.base_images_of(profile, None)
    if offline.facts is not None:
        return offline
    from builder.engine.service import connect
    from builder.errors import EngineError

    options: GlobalOptions = ctx.obj
    try:
        with connect(options.url) as engine:
            return project_mod.base_images_of(profile, engine)
    except EngineError as error:
        log.debug("no engine to inspect the base images: %s", error)
        return offline


@app.command("ignore")
def ignore_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Profile whose context gets the .containerignore."),
    write: bool = typer.Option(False, "--write", help="Write the file (shows the diff and asks first)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="With --write: do not ask."),
    sets: List[str] = typer.Option([], "--set", metavar="KEY=VALUE", help=SET_HELP),
) -> None:
    """Propose a .containerignore for NAME's context: only rules for what is there, never what the build copies."""
    from builder import project as project_mod
    from builder import render
    from builder.ignorefile import propose

    profile = _project(ctx).profile(name, sets)
    needed, warnings = project_mod.named_by_containerfile(profile)
    proposal = propose(profile.context, profile.containerfile, needed, profile_patterns=profile.ignore, profile_file=profile.file)
    out = sys.stdout
    for warning in (*warnings, *proposal.warnings):
        sys.stderr.write(f"warning: {warning}\n")
    if not proposal.changed:
        out.write(f"{proposal.path}: nothing to add\n")
    else:
        for rule in proposal.added:
            example = f" (e.g. {rule.matched[0]})" if rule.matched else ""
            out.write(f"+ {rule.pattern:<28} {rule.category}: {rule.reason}{example}\n")
    for line in proposal.kept:
        out.write(f"  {line}\n")
    if proposal.before and proposal.after:
        (files_before, bytes_before), (files_after, bytes_after) = proposal.before, proposal.after
        out.write(
            f"context: {files_before} files, {render.human_size(bytes_before)} now; "
            f"{files_after} files, {render.human_size(bytes_after)} with the proposal\n"
        )
    if not write or not proposal.changed:
        if proposal.changed:
            out.write(f"run `imgctl ignore {name} --write` to write {proposal.path}\n")
        return
    out.write(proposal.diff())
    if not yes:
        if not sys.stdin.isatty():
            raise ConfigError("refusing to write without confirmation: stdin is not a terminal", hint="add --yes")
        if not typer.confirm(f"write {proposal.path}?", default=False):
            raise typer.Exit(1)
    proposal.write()
    out.write(f"wrote {proposal.path}\n")


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
    explain: bool = typer.Option(False, "--explain", help="Say why each image was built rather than found up to date."),
    push: bool = typer.Option(False, "--push", help="Push every tag to the profile's destinations after the build."),
    to: List[str] = _TO_OPTION,
    tls_verify: Optional[str] = _TLS_VERIFY_OPTION,
    cert_dir: Optional[Path] = _CERT_DIR_OPTION,
    authfile: Optional[Path] = _AUTHFILE_OPTION,
    retries: int = _RETRIES_OPTION,
    retry_delay: float = _RETRY_DELAY_OPTION,
    digestfile: Optional[Path] = _DIGESTFILE_OPTION,
    metadata_file: Optional[Path] = _METADATA_FILE_OPTION,
) -> None:
    """Build the images of one or more profiles, then label, tag and verify them (and push with --push)."""
    from builder import project as project_mod
    from builder import render

    project = _project(ctx)
    overrides = _overrides(sets, target=target, tags=tags, labels=labels, build_args=build_args, no_cache=no_cache, pull=pull)
    # Resolve every profile first: a typo in the third profile should not cost two builds.
    profiles = [project.profile(name, overrides) for name in names]
    push_flags = _PushFlags(to, tls_verify, cert_dir, authfile, retries, retry_delay, digestfile, metadata_file)
    if not push:
        push_flags.reject_without_push()
    targets = [push_flags.destinations(profile) for profile in profiles] if push else []

    if dry_run:
        # No engine: pruning is decided only where the base images need no inspecting (FROM scratch).
        documents = [project_mod.plan(profile, project.now).to_dict() for profile in profiles]
        if as_json:
            render.print_json({"plans": documents})
        else:
            for document in documents:
                render.print_plan(document)
        return

    from builder.build.execute import BuildRun, build_profiles
    from builder.engine.service import connect
    from builder.inputs import HashCache
    from builder.push.execute import PushJob, push_profiles

    options: GlobalOptions = ctx.obj
    live = render.is_interactive(sys.stderr)
    run = BuildRun(now=project.now, env=os.environ, cache=HashCache.open(os.environ), authfile=authfile)
    hinted: list[bool] = []

    def on_plan(plan: Any) -> None:
        if not hinted and not (quiet or as_json):
            hinted.extend([True] if _suggest_ignore_file(plan) else [])

    def on_result(result: Any) -> None:
        if explain and not (quiet or as_json):
            render.print_reasons(result)

    @contextmanager
    def display(profile: Any) -> Iterator[Any]:
        with render.BuildDisplay(profile.name, live=live, quiet=quiet, prefix=len(profiles) > 1) as shown:
            yield shown.on_event

    pushed = []
    with connect(options.url) as engine:
        results = build_profiles(engine, profiles, run, display, on_plan=on_plan, on_result=on_result)
        if push:
            jobs = [PushJob(p.name, r.image_id, p.tags, tuple(t)) for p, r, t in zip(profiles, results, targets)]
            pushed = push_profiles(engine, jobs, push_flags.options(), _push_display(live, quiet))
    if push:
        push_flags.write_files(pushed)
    if as_json:
        document: dict[str, Any] = {"images": [r.to_dict() for r in results]}
        if push:
            document["pushed"] = [p.to_dict() for p in pushed]
        render.print_json(document)
    elif quiet:
        for result in results:
            sys.stdout.write(result.image_id + "\n")
    else:
        render.print_build_summary(results)
        if push:
            render.print_push_summary(pushed)


IGNORE_HINT_BYTES = 50 * 1000 * 1000


def _suggest_ignore_file(plan: Any) -> bool:
    """Mention `imgctl ignore` (once per run) when a context without an ignore file sends over 50 MB."""
    if plan.snapshot.ignore_file is not None or plan.snapshot.total_size <= IGNORE_HINT_BYTES:
        return False
    from builder.render import human_size

    sys.stderr.write(
        f"hint: the context of {plan.profile.name} has no .containerignore and sends {human_size(plan.snapshot.total_size)}; "
        f"`imgctl ignore {plan.profile.name}` proposes one\n"
    )
    return True


@app.command("push")
def push_command(
    ctx: typer.Context,
    names: List[str] = typer.Argument(..., metavar="NAME...", help="Profiles whose built images to push."),
    sets: List[str] = typer.Option([], "--set", metavar="KEY=VALUE", help=SET_HELP),
    to: List[str] = _TO_OPTION,
    tls_verify: Optional[str] = _TLS_VERIFY_OPTION,
    cert_dir: Optional[Path] = _CERT_DIR_OPTION,
    authfile: Optional[Path] = _AUTHFILE_OPTION,
    retries: int = _RETRIES_OPTION,
    retry_delay: float = _RETRY_DELAY_OPTION,
    digestfile: Optional[Path] = _DIGESTFILE_OPTION,
    metadata_file: Optional[Path] = _METADATA_FILE_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document with every pushed reference and digest."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress; print only the pushed references with digests."),
) -> None:
    """Push what `imgctl build` made: every tag to every destination, then ask each registry for the digest."""
    from builder import render
    from builder.engine.service import connect
    from builder.push.execute import push_built

    project = _project(ctx)
    profiles = [project.profile(name, sets) for name in names]
    flags = _PushFlags(to, tls_verify, cert_dir, authfile, retries, retry_delay, digestfile, metadata_file)
    targets = [flags.destinations(profile) for profile in profiles]
    options: GlobalOptions = ctx.obj
    live = render.is_interactive(sys.stderr)
    with connect(options.url) as engine:
        results = push_built(engine, profiles, targets, flags.options(), _push_display(live, quiet or as_json))
    flags.write_files(results)
    if as_json:
        render.print_json({"pushed": [r.to_dict() for r in results]})
    elif quiet:
        for result in results:
            for ref in result.pushed:
                sys.stdout.write(ref.with_digest + "\n")
    else:
        render.print_push_summary(results)


def _push_display(live: bool, quiet: bool) -> Any:
    """Opens the progress display of one profile's push; yields where its events go."""
    from builder import render

    @contextmanager
    def display(profile: str) -> Iterator[Any]:
        with render.PushDisplay(live=live, quiet=quiet) as shown:
            yield shown.on_event

    return display


@app.command("save")
def save_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Profile whose built image to save."),
    output: Path = typer.Option(..., "--output", "-o", metavar="FILE", help="The archive to write."),
    fmt: str = typer.Option("oci-archive", "--format", metavar="FORMAT", help="oci-archive or docker-archive."),
    sets: List[str] = typer.Option([], "--set", metavar="KEY=VALUE", help=SET_HELP),
) -> None:
    """Write the image `imgctl build` made to a tarball, without a registry (Kaniko's --no-push --tar-path)."""
    from builder import render
    from builder.engine.service import connect
    from builder.push.execute import save_image

    if fmt not in ("oci-archive", "docker-archive"):
        raise ConfigError(f"expected oci-archive or docker-archive, got {fmt!r}", key="--format")
    if not output.parent.is_dir():
        raise ConfigError(f"directory {output.parent} does not exist", key="--output")
    profile = _project(ctx).profile(name, sets)
    options: GlobalOptions = ctx.obj
    with connect(options.url) as engine:
        size = save_image(engine, profile, output, fmt)
    sys.stderr.write(f"saved {profile.refs[0]} to {output} ({fmt}, {render.human_size(size)})\n")


auth_app = typer.Typer(help="Registry credentials: where imgctl finds them, and whether registries accept them.", no_args_is_help=True)
app.add_typer(auth_app, name="auth")


@auth_app.command("check")
def auth_check_command(
    ctx: typer.Context,
    targets: List[str] = typer.Argument(None, metavar="[NAME|REF]", help="Profiles (their push destinations) or repositories; default: every profile with push destinations."),
    authfile: Optional[Path] = _AUTHFILE_OPTION,
    tls_verify: Optional[str] = _TLS_VERIFY_OPTION,
    cert_dir: Optional[Path] = _CERT_DIR_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """For each destination: which file and key (or helper) holds its credentials, and whether the registry accepts them."""
    from builder import render
    from builder.auth import lookup
    from builder.errors import AuthError, RegistryError
    from builder.registry import RegistryClient, TLSConfig

    flags = _PushFlags([], tls_verify, cert_dir, authfile, 0, 0.0, None, None)
    destinations = _auth_destinations(ctx, targets or [], flags)
    rows = []
    failed = False
    for destination in destinations:
        found = lookup(destination.repository, env=os.environ, authfile=authfile)
        credential = found.credential
        if credential is None:
            where = "none found"
        else:
            where = credential.source + (f" (key {credential.key})" if credential.key else "")
        client = RegistryClient(destination.registry, credential, TLSConfig(verify=destination.verify, cert_dir=destination.cert_dir), retries=1, backoff=0.2)
        try:
            verdict = "accepted: " + client.check_login()
        except (AuthError, RegistryError) as error:
            verdict = f"refused: {error}"
            failed = True
        finally:
            client.close()
        rows.append({"repository": destination.repository, "credentials": where, "user": credential.username if credential else None, "result": verdict, "tried": list(found.tried), "warnings": list(found.warnings)})
    if as_json:
        render.print_json({"destinations": rows})
    else:
        render.print_table(None, ("DESTINATION", "CREDENTIALS", "USER", "REGISTRY SAYS"), [(r["repository"], r["credentials"], r["user"] or "-", r["result"]) for r in rows])
        for row in rows:
            for warning in row["warnings"]:
                sys.stderr.write(f"warning: {warning}\n")
    if failed:
        raise typer.Exit(3)


def _auth_destinations(ctx: typer.Context, targets: List[str], flags: "_PushFlags") -> list[Any]:
    """Repositories named directly, the push destinations of named profiles, or of every profile."""
    from builder.profiles import ProfileSummary, find_profiles_dir, summarize
    from builder.push.destinations import Destination, checked_repository

    options: GlobalOptions = ctx.obj
    explicit = bool(targets)
    if not explicit:
        profiles_dir = find_profiles_dir(Path.cwd(), options.profiles_dir, os.environ)
        targets = [s.name for s in summarize(profiles_dir) if isinstance(s, ProfileSummary)]
    project = None
    found: list[Any] = []
    for target in targets:
        if "/" in target:
            verify = flags.verify() is not False
            found.append(Destination(checked_repository(target), verify=verify, cert_dir=flags.cert_dir))
            continue
        project = project or _project(ctx)
        profile = project.profile(target)
        if profile.push:
            found.extend(flags.destinations(profile))
        elif explicit:
            raise ConfigError(f"profile {target} has no push destinations", file=profile.file, key="push")
    if not found:
        raise ConfigError("no push destinations to check", hint="name a repository: imgctl auth check quay.io/team/api")
    return list({d.repository: d for d in found}.values())


@dataclass(frozen=True)
class _PushFlags:
    """The push options shared by `imgctl push` and `imgctl build --push`, as podman spells them."""

    to: List[str]
    tls_verify: Optional[str]
    cert_dir: Optional[Path]
    authfile: Optional[Path]
    retries: int
    retry_delay: float
    digestfile: Optional[Path]
    metadata_file: Optional[Path]

    def reject_without_push(self) -> None:
        given = [flag for flag, value in (("--to", self.to), ("--digestfile", self.digestfile), ("--metadata-file", self.metadata_file)) if value]
        if given:
            raise ConfigError(f"{', '.join(given)} only apply to a push", hint="add --push, or use `imgctl push`")

    def verify(self) -> Optional[bool]:
        if self.tls_verify is None:
            return None
        word = self.tls_verify.strip().lower()
        if word in ("true", "1", "yes"):
            return True
        if word in ("false", "0", "no"):
            return False
        raise ConfigError(f"expected true or false, got {self.tls_verify!r}", key="--tls-verify", hint="--tls-verify=false")

    def destinations(self, profile: Any) -> Any:
        from builder.push.destinations import destinations

        if self.cert_dir is not None and not self.cert_dir.is_dir():
            raise ConfigError(f"{self.cert_dir} is not a directory", key="--cert-dir", hint="a directory holding the registry's CA as *.crt")
        if self.authfile is not None and not self.authfile.is_file():
            raise ConfigError(f"{self.authfile} does not exist", key="--authfile", hint="create it with `podman login --authfile FILE REGISTRY`")
        return destinations(profile, self.to, tls_verify=self.verify(), cert_dir=self.cert_dir.resolve() if self.cert_dir else None)

    def options(self) -> Any:
        from builder.push.execute import PushOptions

        return PushOptions(retries=self.retries, retry_delay=self.retry_delay, authfile=self.authfile, env=dict(os.environ))

    def write_files(self, results: Any) -> None:
        from builder import render

        pushed = [ref for result in results for ref in result.pushed]
        if self.digestfile is not None and pushed:
            # podman's format: the digest alone. With several references, the first profile's first one.
            _write_atomic(self.digestfile, pushed[0].digest)
        if self.metadata_file is not None:
            import json

            _write_atomic(self.metadata_file, json.dumps({"pushed": [r.to_dict() for r in results]}, indent=2) + "\n")


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and a rename, so a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.imgctl-tmp")
    temporary.write_text(text)
    temporary.replace(path)


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
    # A short-lived process that builds large lists of small objects (context entries, hashes): the
    # cyclic collector would only rescan them. Objects are still freed by reference counting.
    gc.disable()
    debug = "--debug" in args or os.environ.get("IMGCTL_DEBUG") == "1"
    if "--debug" in args:
        # Accepted anywhere on the line (`imgctl push app --debug`), as people type it when a run fails.
        args = ["--debug", *(a for a in args if a != "--debug")]
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING, format="imgctl: %(name)s: %(message)s", stream=sys.stderr
    )
    from builder import render

    # urllib3 warns on every unverified HTTPS request; imgctl only makes one when the user asked for
    # tls_verify = false, and says so in --debug.
    warnings.filterwarnings("ignore", message="Unverified HTTPS request")
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
    finally:
        # At exit the interpreter runs one last full collection over every object it holds: 35 ms with
        # podman-py, requests and rich loaded (measured), for memory the OS takes back anyway. Frozen
        # objects are left out of it; atexit handlers and stream flushing still run as usual.
        gc.freeze()
