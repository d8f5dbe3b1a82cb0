"""`imgctl lint [NAME | PATH]...`: hadolint's rules and imgctl's own on profiles' Containerfiles or bare files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from builder.cli.options import SET_OPTION, global_options
from builder.errors import ConfigError

if TYPE_CHECKING:
    from builder.config.project import Project
    from builder.config.sections import LintSettings
    from builder.lint.run import Target

# builder.findings.formats.FORMATS, spelt out here: `imgctl --help` must not import the formats.
FORMATS = ("tty", "json", "sarif", "junit", "gitlab")
THRESHOLDS = ("error", "warning", "info", "style", "none")


def lint_command(
    ctx: typer.Context,
    names: list[str] = typer.Argument(
        None, metavar="[NAME | PATH]...",
        help="Profiles, or Containerfiles (a path with a '/', or a file that is not a profile's name). "
             "None: every profile of the project.",
    ),
    fmt: str = typer.Option("tty", "--format", "-f", metavar="FORMAT",
                            help="tty, json (hadolint's keys plus hint and source), sarif, junit or gitlab "
                                 "(GitLab Code Quality)."),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE",
                                       help="Write the report to FILE instead of stdout (a CI artifact)."),
    config: Path | None = typer.Option(None, "--config", "-c", metavar="FILE",
                                       help="A TOML file of [lint] keys, on top of each profile's [lint]."),
    threshold: str | None = typer.Option(None, "--failure-threshold", "-t", metavar="LEVEL",
                                         help="Exit 1 from this level up: error, warning, info, style, none."),
    sets: list[str] = SET_OPTION,
) -> None:
    """Lint Containerfiles: hadolint's generic rules and imgctl's OpenShift rules, in one report.

    Exit status: 0 no finding at or above the failure threshold, 1 some, 2 bad input (a Containerfile
    imgctl cannot parse, a bad profile or --config file).
    """
    from builder.lint.run import Linter, Session, rule_texts
    from builder.render.lint import ready, show_report

    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}", key="--format", hint="one of: " + ", ".join(FORMATS))
    if threshold is not None and threshold not in THRESHOLDS:
        raise ConfigError(f"unknown level {threshold!r}", key="--failure-threshold",
                          hint="one of: " + ", ".join(THRESHOLDS))
    options = global_options(ctx)
    extra = _extra(config, threshold)
    targets = _targets(ctx, names or [], sets, extra)
    with Session(targets, Linter.find(options.env)) as session:
        ready(fmt)  # hadolint is running: the rendering's imports cost nothing now
        reports = session.finish()
    show_report(reports, fmt, output, rule_texts() if fmt == "sarif" else None)
    if any(report.exit_code for report in reports):
        raise typer.Exit(1)


def _extra(config: Path | None, threshold: str | None) -> dict[str, object]:
    """The keys given besides the profiles': --config's, then --failure-threshold's."""
    from builder.lint import config as lint_config

    extra: dict[str, object] = lint_config.read(config) if config is not None else {}
    if threshold is not None:
        extra["failure_threshold"] = threshold
    return extra


def _targets(ctx: typer.Context, names: list[str], sets: list[str], extra: dict[str, object]) -> list[Target]:
    from builder.config.files import list_profiles
    from builder.config.sections import LintSettings
    from builder.lint.run import file_target, profile_target

    def settings(base: LintSettings) -> LintSettings:
        from builder.lint.config import merged

        return merged(base, extra) if extra else base

    where = _project(ctx, required=not names or any(not _is_path(name) and not Path(name).is_file()
                                                    for name in names))
    if not names:
        assert where is not None
        names = list_profiles(where.profiles_dir)
        if not names:
            raise ConfigError(f"no profiles in {where.profiles_dir}", hint="name a Containerfile: imgctl lint PATH")
    elif sets and all(_is_path(name) or _bare(where, name) for name in names):
        raise ConfigError("--set changes profiles, and only Containerfiles were named", key="--set")
    targets = []
    for name in names:
        if _is_path(name) or _bare(where, name):
            path = Path(name)
            if not path.is_file():
                raise ConfigError(f"no Containerfile {name}", key=name,
                                  hint="a path to a Containerfile, or the name of a profile")
            targets.append(file_target(path, settings(LintSettings())))
        else:
            assert where is not None
            profile = where.profile(name, sets)
            targets.append(profile_target(profile, settings=settings(profile.lint)))
    return targets


def _is_path(name: str) -> bool:
    return "/" in name or "\\" in name


def _bare(where: Project | None, name: str) -> bool:
    """A name that is no profile's but is a file: a Containerfile in the current directory."""
    if where is not None and (where.profiles_dir / f"{name}.toml").is_file():
        return False
    return Path(name).is_file()


def _project(ctx: typer.Context, required: bool) -> Project | None:
    """The project, if there is one: `imgctl lint ./Containerfile` works outside any project."""
    from builder.config.project import Project

    options = global_options(ctx)
    try:
        return Project.locate(options.profiles_dir, env=options.env)
    except ConfigError:
        if required:
            raise
        return None
