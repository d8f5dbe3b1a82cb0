"""Shared by the profile tests: a project in a tmp dir, and one check of a ConfigError's every part."""

from __future__ import annotations

import textwrap
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from builder.config.profile import Profile, load_profile
from builder.errors import ConfigError

NOW = datetime(2024, 3, 5, 7, 8, 9, tzinfo=timezone.utc)
NO_ENV: dict[str, str] = {}


class Project:
    """A project root with profiles/ and a Containerfile, in a tmp dir."""

    def __init__(self, root: Path, ceiling: Path | None = None) -> None:
        self.root = root
        self.git_env = {"GIT_CEILING_DIRECTORIES": str(ceiling)} if ceiling is not None else {}
        self.profiles = root / "profiles"
        self.profiles.mkdir(parents=True)
        (root / "Containerfile").write_text("FROM scratch\n")

    def write(self, name: str, text: str) -> Path:
        path = self.profiles / f"{name}.toml"
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def load(self, name: str, *overrides: str, env: dict[str, str] | None = None, **kwargs: Any) -> Profile:
        # Git runs with the environment the profile is loaded with, so the ceiling travels in it.
        env = {**self.git_env, **(NO_ENV if env is None else env)}
        return load_profile(self.profiles, name, overrides=overrides, env=env, now=NOW, **kwargs)

    def error(self, name: str, *overrides: str, env: dict[str, str] | None = None) -> ConfigError:
        with pytest.raises(ConfigError) as caught:
            self.load(name, *overrides, env=env)
        return caught.value



def assert_error(
    error: ConfigError,
    *,
    file: Path | None,
    line: int | None,
    key: str | None,
    message: str,
    hint: str | None,
) -> None:
    """`message` and `hint` are fragments; file, line and key must match exactly."""
    assert error.file == file, str(error)
    assert error.line == line, str(error)
    assert error.key == key, str(error)
    assert message in error.message, error.message
    if hint is None:
        assert error.hint is None
    else:
        assert error.hint is not None and hint in error.hint, error.hint
    assert error.exit_code == 2

