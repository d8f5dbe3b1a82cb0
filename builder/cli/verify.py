"""`imgctl verify NAME | IMAGE...`: check built images themselves (config, layers, a run), as OpenShift runs them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from builder.cli.options import SET_OPTION, global_options, project
from builder.errors import ConfigError

if TYPE_CHECKING:
    from builder.config.profile import Profile
    from builder.engine.protocol import Engine
    from builder.verify.execute import Target

# builder.findings.formats.FORMATS and the thresholds, spelt out: `imgctl --help` must not import them.
FORMATS = ("tty", "json", "sarif", "junit", "gitlab")
THRESHOLDS = ("error", "warning", "info", "style", "none")
KINDS = ("service", "job")
_IMAGE_ID = re.compile(r"(sha256:)?[0-9a-f]{12,64}")
_USER = re.compile(r"[0-9]+(:[0-9]+)?")


def verify_command(
    ctx: typer.Context,
    names: list[str] = typer.Argument(
        ..., metavar="NAME | IMAGE...",
        help="Profiles (the image `imgctl build` made), or image references: a name with '/', ':' or '@', "
             "or an image id.",
    ),
    fmt: str = typer.Option("tty", "--format", "-f", metavar="FORMAT",
                            help="tty, json, sarif, junit or gitlab (GitLab Code Quality)."),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE",
                                       help="Write the report to FILE instead of stdout (a CI artifact)."),
    threshold: str | None = typer.Option(None, "--failure-threshold", "-t", metavar="LEVEL",
                                         help="Exit 1 from this level up: error, warning, info, style, none."),
    no_run: bool = typer.Option(False, "--no-run", help="Do not start the image: config and layer checks only."),
    kind: str | None = typer.Option(None, "--kind", metavar="KIND",
                                    help="service (stays up until stopped) or job (exits 0 by itself)."),
    user: str | None = typer.Option(None, "--user", metavar="UID[:GID]",
                                    help="Run as this user (default 1000680000:0, an OpenShift arbitrary UID)."),
    grace: int | None = typer.Option(None, "--grace", min=1, max=600, metavar="SECONDS",
                                     help="Seconds the image has to exit after SIGTERM (default 10)."),
    writable: list[str] = typer.Option([], "--writable-path", metavar="PATH",
                                       help="A directory the application writes (adds to writable_paths)."),
    sets: list[str] = SET_OPTION,
) -> None:
    """Verify built images: non-root user, ports, labels, layers, group-0 writable paths, waste, and a run as an
    arbitrary UID that must stay up, write where it should, and stop on SIGTERM.

    Exit status: 0 no finding at or above the failure threshold, 1 some, 2 bad input, 4 no engine,
    7 a profile's image is not built, 8 the engine refused a container operation.
    """
    from builder.engine.service import connect
    from builder.render.verify import show_report
    from builder.verify.catalog import rule_texts
    from builder.verify.execute import verify

    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}", key="--format", hint="one of: " + ", ".join(FORMATS))
    if threshold is not None and threshold not in THRESHOLDS:
        raise ConfigError(f"unknown level {threshold!r}", key="--failure-threshold",
                          hint="one of: " + ", ".join(THRESHOLDS))
    if kind is not None and kind not in KINDS:
        raise ConfigError(f"unknown kind {kind!r}", key="--kind", hint="service or job")
    if user is not None and not _USER.fullmatch(user):
        raise ConfigError(f"expected a numeric UID or UID:GID, got {user!r}", key="--user", hint="--user 1000680000:0")
    for path in writable:
        if not path.startswith("/"):
            raise ConfigError(f"expected an absolute path, got {path!r}", key="--writable-path")
    images = [name for name in names if is_image(name)]
    if sets and len(images) == len(names):
        raise ConfigError("--set changes profiles, and only images were named", key="--set")
    flags = _flag_sets(kind, user, grace, writable)
    where = project(ctx) if len(images) < len(names) else None
    profiles = {name: where.profile(name, [*sets, *flags]) for name in names if where and not is_image(name)}
    options = global_options(ctx)
    reports = []
    with connect(options.url, options.env) as engine:
        for name in names:
            target = (_image_target(name, kind, user, grace, writable) if name not in profiles
                      else _profile_target(engine, profiles[name]))
            target = _with(target, run=not no_run, failure_threshold=threshold)
            reports.append(verify(engine, target))
    show_report(reports, fmt, output, rule_texts() if fmt == "sarif" else None)
    if any(report.exit_code for report in reports):
        raise typer.Exit(1)


def is_image(name: str) -> bool:
    """An image reference rather than a profile name: profile names have no '/', ':' or '@', and are no ids."""
    return any(mark in name for mark in "/:@") or bool(_IMAGE_ID.fullmatch(name))


def _flag_sets(kind: str | None, user: str | None, grace: int | None, writable: list[str]) -> list[str]:
    """The flags as `--set` overrides of a profile's [verify] table and writable_paths."""
    flags = [f"verify.{key}={value}" for key, value in (("kind", kind), ("user", user), ("grace", grace))
             if value is not None]
    return flags + [f"writable_paths+={path}" for path in writable]


def _image_target(name: str, kind: str | None, user: str | None, grace: int | None, writable: list[str]) -> Target:
    from builder.config.sections import VerifySettings
    from builder.verify.execute import Target

    defaults = VerifySettings()
    settings = VerifySettings(kind=kind or defaults.kind, user=user or defaults.user, grace=grace or defaults.grace)
    return Target(ref=name, subject=name, settings=settings, writable_paths=tuple(writable))


def _profile_target(engine: Engine, profile: Profile) -> Target:
    from builder.build.check import local_image
    from builder.verify.execute import profile_target

    return profile_target(profile, local_image(engine, profile))


def _with(target: Target, *, run: bool, failure_threshold: str | None) -> Target:
    from dataclasses import replace

    return replace(target, run=run, failure_threshold=failure_threshold)
