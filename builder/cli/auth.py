"""`imgctl auth check`: which credentials each destination uses, and whether its registry accepts them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from builder.cli.options import (
    AUTHFILE_OPTION,
    CERT_DIR_OPTION,
    JSON_OPTION,
    TLS_VERIFY_OPTION,
    PushFlags,
    global_options,
    project,
)
from builder.errors import ConfigError

auth_app = typer.Typer(help="Registry credentials: where imgctl finds them, and whether registries accept them.",
                       no_args_is_help=True)


@auth_app.command("check")
def auth_check_command(
    ctx: typer.Context,
    targets: list[str] = typer.Argument(None, metavar="[NAME|REF]",
                                        help="Profiles (their push destinations) or repositories; "
                                             "default: every profile with push destinations."),
    authfile: Path | None = AUTHFILE_OPTION,
    tls_verify: str | None = TLS_VERIFY_OPTION,
    cert_dir: Path | None = CERT_DIR_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """For each destination: which file and key (or helper) holds its credentials, and whether the registry
    accepts them."""
    from builder.registry.check import check_login, raise_for_failures
    from builder.registry.credentials import lookup
    from builder.registry.transport import TLSConfig
    from builder.render.console import print_json, print_table, warning

    options = global_options(ctx)
    flags = PushFlags([], tls_verify, cert_dir, authfile, 0, 0.0, None, None, options.env)
    destinations = _auth_destinations(ctx, targets or [], flags)
    rows = []
    checks = []
    for destination in destinations:
        found = lookup(destination.repository, env=options.env, authfile=authfile)
        credential = found.credential
        if credential is None:
            where = "none found"
        else:
            where = credential.source + (f" (key {credential.key})" if credential.key else "")
        tls = TLSConfig(verify=destination.verify, cert_dir=destination.cert_dir)
        check = check_login(destination.registry, credential, tls)
        checks.append(check)
        rows.append({"repository": destination.repository, "credentials": where,
                     "user": credential.username if credential else None, "result": check.verdict,
                     "tried": list(found.tried), "warnings": list(found.warnings)})
    if as_json:
        print_json({"destinations": rows})
    else:
        table = [(r["repository"], r["credentials"], r["user"] or "-", r["result"]) for r in rows]
        print_table(None, ("DESTINATION", "CREDENTIALS", "USER", "REGISTRY SAYS"), table)
        for row in rows:
            for text in row["warnings"]:
                warning(text)
    raise_for_failures(checks)


def _auth_destinations(ctx: typer.Context, targets: list[str], flags: PushFlags) -> list[Any]:
    """Repositories named directly, the push destinations of named profiles, or of every profile."""
    from builder.config.files import find_profiles_dir
    from builder.config.summary import ProfileSummary, summarize
    from builder.push.destinations import Destination, checked_repository

    options = global_options(ctx)
    explicit = bool(targets)
    if not explicit:
        profiles_dir = find_profiles_dir(Path.cwd(), options.profiles_dir, options.env)
        targets = [s.name for s in summarize(profiles_dir) if isinstance(s, ProfileSummary)]
    where = None
    found: list[Any] = []
    for target in targets:
        if "/" in target:
            verify = flags.verify() is not False
            found.append(Destination(checked_repository(target), verify=verify, cert_dir=flags.cert_dir))
            continue
        where = where or project(ctx)
        profile = where.profile(target)
        if profile.push:
            found.extend(flags.destinations(profile))
        elif explicit:
            raise ConfigError(f"profile {target} has no push destinations", file=profile.file, key="push")
    if not found:
        raise ConfigError("no push destinations to check", hint="name a repository: imgctl auth check quay.io/team/api")
    return list({d.repository: d for d in found}.values())
