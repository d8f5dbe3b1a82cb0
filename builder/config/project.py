"""The project a command works in: its profiles directory, and the clock, environment and git checkout its
profiles are resolved against."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from builder.config.clock import command_time
from builder.config.files import find_profiles_dir
from builder.config.profile import Profile, load_profile
from builder.vcs import Checkout


@dataclass
class Project:
    """Where profiles come from, and the clock, environment and git checkout they are resolved against.

    One per command: `now` is read once from `env` (SOURCE_DATE_EPOCH, else the current time), so every
    `{date}` and the `created` label agree; `checkout` reads git lazily, once, with `env`, for both the git
    placeholders and the provenance labels. A bad SOURCE_DATE_EPOCH stops the command here (exit 2).
    """

    profiles_dir: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    now: datetime = field(init=False)
    checkout: Checkout = field(init=False)

    def __post_init__(self) -> None:
        self.now = command_time(self.env)
        self.checkout = Checkout(self.root, self.env)

    @classmethod
    def locate(cls, explicit: Path | None, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> Project:
        env = dict(os.environ) if env is None else env
        return cls(profiles_dir=find_profiles_dir(cwd or Path.cwd(), explicit, env), env=env)

    @property
    def root(self) -> Path:
        return self.profiles_dir.parent

    def profile(self, name: str, overrides: Sequence[str] = ()) -> Profile:
        return load_profile(
            self.profiles_dir, name, overrides=overrides, env=self.env, now=self.now, git=self.checkout.head
        )
