"""What `imgctl list` shows: each profile's raw values, templates unexpanded, nothing read outside profiles/
(no git, no path checks), and a broken profile as a problem rather than an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder.config import templates
from builder.config.files import ProfileFile, absolute, list_profiles, read_chain
from builder.config.merge import each_string, merged, normalized_image
from builder.config.schema import SCHEMA
from builder.errors import ConfigError
from builder.oci import refs


@dataclass(frozen=True)
class ProfileSummary:
    """What `imgctl list` shows: raw values, templates unexpanded, nothing read outside profiles/."""

    name: str
    file: Path
    image: str | None  # normalized; None when no profile of the chain sets one (a base to extend)
    description: str
    target: str | None
    tags: tuple[str, ...]  # as written, e.g. "{git_short_sha}"
    extends: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for `imgctl list --json`; `error` is None (see ProfileProblem.to_dict)."""
        return {
            "name": self.name,
            "file": str(self.file),
            "image": self.image,
            "description": self.description,
            "target": self.target,
            "tags": list(self.tags),
            "extends": list(self.extends),
            "error": None,
        }


@dataclass(frozen=True)
class ProfileProblem:
    """A profile `imgctl list` could not summarize, and why."""

    name: str
    file: Path
    error: ConfigError

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for `imgctl list --json`: the same keys as a summary's, with `error` filled in."""
        return {
            "name": self.name,
            "file": str(self.file),
            "image": None,
            "description": None,
            "target": None,
            "tags": [],
            "extends": [],
            "error": {
                "message": self.error.message,
                "file": None if self.error.file is None else str(self.error.file),
                "line": self.error.line,
                "key": self.error.key,
                "hint": self.error.hint,
                "text": str(self.error),
            },
        }


def load_summary(profiles_dir: Path, name: str) -> ProfileSummary:
    """Summarize profile `name` for `imgctl list`: the chain is read and checked, the image validated and the
    template syntax of templated settings checked, but nothing is expanded, no git runs and no path is
    checked. Raises ConfigError."""
    return _summary(absolute(Path.cwd(), profiles_dir), name, {})


def _summary(profiles_dir: Path, name: str, cache: dict[str, ProfileFile]) -> ProfileSummary:
    chain = read_chain(profiles_dir, name, cache)
    values = merged(chain, ())
    # A profile meant only to be extended may leave image out: not an error until someone builds it.
    image = normalized_image(values) if "image" in values.values else None
    for setting in SCHEMA:
        if not setting.templated:
            continue
        for path, text in each_string(values, setting):
            try:
                used = templates.placeholders(text)
                if setting.name == "tags" and not used:
                    refs.validate_tag(text)
            except ValueError as error:  # TemplateError is a ValueError
                raise values.where(path).error(path, str(error), getattr(error, "hint", None)) from None
    return ProfileSummary(
        name=name,
        file=chain[0].path,
        image=image,
        description=values.get("description"),
        target=values.get("target") or None,
        tags=tuple(values.get("tags")),
        extends=tuple(file.name for file in chain[1:]),
    )


def summarize(profiles_dir: Path) -> list[ProfileSummary | ProfileProblem]:
    """One entry per profile, sorted by name; a broken profile becomes a ProfileProblem, never an exception."""
    profiles_dir = absolute(Path.cwd(), profiles_dir)
    cache: dict[str, ProfileFile] = {}  # parents shared by several profiles are parsed once
    out: list[ProfileSummary | ProfileProblem] = []
    for name in list_profiles(profiles_dir):
        try:
            out.append(_summary(profiles_dir, name, cache))
        except ConfigError as error:
            out.append(ProfileProblem(name, profiles_dir / f"{name}.toml", error))
    return out
