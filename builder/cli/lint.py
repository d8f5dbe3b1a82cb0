"""`imgctl lint [NAME | PATH]...`: hadolint's rules and imgctl's own on profiles' Containerfiles or bare files."""

from __future__ import annotations

from pathlib import Path

import typer

from builder.cli.options import SET_OPTION, global_options, project
from builder.errors import ConfigError

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
    from builder.lint.targets import resolve
    from builder.render.lint import ready, show_report

    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}", key="--format", hint="one of: " + ", ".join(FORMATS))
    if threshold is not None and threshold not in THRESHOLDS:
        raise ConfigError(f"unknown level {threshold!r}", key="--failure-threshold",
                          hint="one of: " + ", ".join(THRESHOLDS))
    options = global_options(ctx)
    extra = _extra(config, threshold)
    targets = resolve(names or [], lambda: project(ctx), sets, extra)
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
