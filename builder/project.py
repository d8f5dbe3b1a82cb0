"""A project on disk: its profiles directory, resolved profiles, their contexts and build plans.

The glue between the pure layers (profiles, context, plan) and the commands. It reads the file
system and git, but never prints and never talks to an engine.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from builder.context import ContextSnapshot, scan
from builder.ignore import IgnoreRules, find_ignore_file
from builder.plan import BuildPlan, Provenance, plan_build
from builder.profiles import Profile, find_profiles_dir, load_profile


@dataclass
class Project:
    """Where profiles come from, and the clock and environment they are resolved against."""

    profiles_dir: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @classmethod
    def locate(cls, explicit: Path | None, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> Project:
        env = dict(os.environ) if env is None else env
        return cls(profiles_dir=find_profiles_dir(cwd or Path.cwd(), explicit, env), env=env)

    @property
    def root(self) -> Path:
        return self.profiles_dir.parent

    def profile(self, name: str, overrides: Sequence[str] = ()) -> Profile:
        return load_profile(self.profiles_dir, name, overrides=overrides, env=self.env, now=self.now)


def ignore_rules(profile: Profile) -> tuple[IgnoreRules, Path | None]:
    """The ignore file's rules (the one buildah would pick), plus the profile's own `ignore` patterns."""
    ignore_file = find_ignore_file(profile.context, profile.containerfile)
    rules = IgnoreRules.load(ignore_file) if ignore_file is not None else IgnoreRules.from_patterns(())
    if profile.ignore:
        rules = rules.extended(profile.ignore, origin=profile.file)
    return rules, ignore_file


def snapshot(profile: Profile) -> ContextSnapshot:
    """What the ignore rules keep of the context (before any pruning by the Containerfile)."""
    rules, ignore_file = ignore_rules(profile)
    return scan(profile.context, rules, ignore_file)


def provenance(profile: Profile, now: datetime) -> Provenance:
    return Provenance(created=now, revision=_git(profile.root, "rev-parse", "HEAD"), source=_source_url(profile.root))


def plan(profile: Profile, now: datetime) -> BuildPlan:
    return plan_build(profile, snapshot(profile), provenance(profile, now))


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _source_url(root: Path) -> str | None:
    url = _git(root, "remote", "get-url", "origin")
    return strip_credentials(url) if url else None


def strip_credentials(url: str) -> str:
    """A remote URL without any user or password in it: CI clones often embed a token there."""
    parts = urlsplit(url)
    if parts.scheme and parts.netloc and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url
