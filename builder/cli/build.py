"""`imgctl build`: resolve every profile first, then build, label, tag and verify each (with --verify, also verify
the image itself; with --push, push it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    GlobalOptions,
    PushFlags,
    global_options,
    overrides,
    project,
)

if TYPE_CHECKING:
    from builder.build import prepare
    from builder.build.execute import BuildEvent, BuildResult
    from builder.build.plan import BuildPlan
    from builder.config.profile import Profile
    from builder.engine.protocol import Engine
    from builder.findings.model import Report
    from builder.push.execute import PushResult

IGNORE_HINT_BYTES = 50 * 1000 * 1000


def build_command(
    ctx: typer.Context,
    names: list[str] = typer.Argument(..., metavar="NAME...", help="Profile names, built in order."),
    target: str | None = typer.Option(None, "--target", help="Build this stage of the Containerfile."),
    tags: list[str] = typer.Option([], "--tag", "-t", metavar="TAG", help="Add a tag (templates allowed)."),
    labels: list[str] = typer.Option([], "--label", metavar="KEY=VALUE", help="Add or replace a label."),
    build_args: list[str] = typer.Option([], "--build-arg", metavar="KEY=VALUE",
                                         help="Add or replace a build argument."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not use cached layers."),
    pull: str | None = typer.Option(None, "--pull", metavar="POLICY",
                                    help="Base image pull policy: missing, always, never, newer."),
    sets: list[str] = SET_OPTION,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be sent and run; do not touch the engine."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document with the results."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No build log; print only the image ids."),
    explain: bool = typer.Option(False, "--explain",
                                 help="Say why each image was built rather than found up to date."),
    verify: bool = typer.Option(False, "--verify",
                                help="Verify each built image (imgctl verify); exit 1, pushing nothing, if one fails."),
    push: bool = typer.Option(False, "--push", help="Push every tag to the profile's destinations after the build."),
    to: list[str] = TO_OPTION,
    tls_verify: str | None = TLS_VERIFY_OPTION,
    cert_dir: Path | None = CERT_DIR_OPTION,
    authfile: Path | None = AUTHFILE_OPTION,
    retries: int = RETRIES_OPTION,
    retry_delay: float = RETRY_DELAY_OPTION,
    digestfile: Path | None = DIGESTFILE_OPTION,
    metadata_file: Path | None = METADATA_FILE_OPTION,
) -> None:
    """Build the images of one or more profiles, then label, tag and verify them (and push with --push)."""
    from builder.build import prepare
    from builder.render import build as render_build
    from builder.render.console import line, live_progress, print_json

    where = project(ctx)
    options = global_options(ctx)
    changes = overrides(sets, target=target, tags=tags, labels=labels, build_args=build_args, no_cache=no_cache,
                        pull=pull)
    # Resolve every profile first: a typo in the third profile should not cost two builds.
    profiles = [where.profile(name, changes) for name in names]
    push_flags = PushFlags(to, tls_verify, cert_dir, authfile, retries, retry_delay, digestfile, metadata_file,
                           options.env)
    if not push:
        push_flags.reject_without_push()
    targets = [push_flags.destinations(profile) for profile in profiles] if push else []

    if dry_run:
        # No engine: pruning is decided only where the base images need no inspecting (FROM scratch). An S2I
        # profile's Containerfile is made from its builder image's labels: for those alone the engine is asked
        # (inspect only; nothing is built).
        plans = [prepare.plan(profile, where, _s2i_bases(options, profile)).to_dict() for profile in profiles]
        if as_json:
            print_json({"plans": plans})
        else:
            for plan_document in plans:
                render_build.print_plan(plan_document)
        return

    from builder.build.execute import BuildRun, build_profiles
    from builder.engine.service import connect
    from builder.inputs.hashcache import HashCache
    from builder.render.context import print_large_context_hint

    live = live_progress(options.env)
    run = BuildRun(project=where, cache=HashCache.open(options.env), authfile=authfile)
    hinted: list[str] = []

    def on_plan(plan: BuildPlan) -> None:
        if not hinted and not (quiet or as_json) and _context_is_large(plan):
            print_large_context_hint(plan.profile.name, plan.snapshot.total_size)
            hinted.append(plan.profile.name)

    def on_result(result: BuildResult) -> None:
        if explain and not (quiet or as_json):
            render_build.print_reasons(result)

    @contextmanager
    def display(profile: Profile) -> Iterator[Callable[[BuildEvent], None]]:
        with render_build.BuildDisplay(profile.name, live=live, quiet=quiet, prefix=len(profiles) > 1) as shown:
            yield shown.on_event

    pushed: list[PushResult] = []
    verified: list[Report] = []
    with connect(options.url, options.env) as engine:
        results = build_profiles(engine, profiles, run, display, on_plan=on_plan, on_result=on_result)
        if verify:
            verified = _verify(engine, profiles, results, quiet)
        if push and not any(report.exit_code for report in verified):
            # Only now: the push machinery (the registry client, requests' adapters) costs a plain build nothing.
            from builder.cli.push import push_display, write_push_files
            from builder.push.execute import PushJob, push_profiles

            jobs = [PushJob(p.name, r.image_id, p.tags, tuple(t)) for p, r, t in zip(profiles, results, targets,
                                                                                   strict=True)]
            pushed = push_profiles(engine, jobs, push_flags.options(), push_display(live, quiet))
            write_push_files(push_flags, pushed)
    if as_json:
        document: dict[str, Any] = {"images": [r.to_dict() for r in results]}
        if push:
            document["pushed"] = [p.to_dict() for p in pushed]
        if verify:
            import json

            from builder.findings.formats import to_json

            document["verify"] = json.loads(to_json(verified))
        print_json(document)
    elif quiet:
        for result in results:
            line(result.image_id)
    else:
        render_build.print_build_summary(results)
        if push and pushed:
            from builder.render.push import print_push_summary

            print_push_summary(pushed)
    if any(report.exit_code for report in verified):
        from builder.render.console import warning

        warning("verify failed" + (": nothing was pushed" if push else ""))
        raise typer.Exit(1)


def _verify(engine: Engine, profiles: list[Profile], results: list[BuildResult], quiet: bool) -> list[Report]:
    """`--verify`: each built image, under its profile's [verify] settings; the reports go to stderr."""
    from builder.render.verify import show_build_verify
    from builder.verify.execute import profile_target
    from builder.verify.execute import verify as verify_image

    reports = [verify_image(engine, profile_target(profile, result.image_id))
               for profile, result in zip(profiles, results, strict=True)]
    shown = [report for report in reports if report.exit_code] if quiet else reports
    if shown:
        show_build_verify(shown)
    return reports


def _s2i_bases(options: GlobalOptions, profile: Profile) -> prepare.BaseImages | None:
    """An S2I profile's base images, its generated Containerfile included (inspect only); None for the others."""
    if profile.strategy != "s2i":
        return None
    from builder.build import prepare
    from builder.engine.service import connect

    with connect(options.url, options.env) as engine:
        return prepare.base_images_of(profile, engine)


def _context_is_large(plan: BuildPlan) -> bool:
    """Worth mentioning `imgctl ignore` (once per run): no ignore file, and over 50 MB sent."""
    return plan.snapshot.ignore_file is None and plan.snapshot.total_size > IGNORE_HINT_BYTES
