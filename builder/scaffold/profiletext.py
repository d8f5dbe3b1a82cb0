"""The profile `imgctl init` writes (profiles/NAME.toml): what `imgctl build NAME` needs, plus the `[lint]` and
`[verify]` defaults written out, so a user sees the knobs where they would turn them."""

from __future__ import annotations

import json

from builder.scaffold.recipes import Recipe
from builder.scaffold.template import STAGE

VERSION = "0.1.0"


def profile_text(recipe: Recipe, name: str, *, context: str, containerfile: str) -> str:
    """`context` and `containerfile` are relative to the project root (the parent of profiles/), '/'-separated."""
    lines = [
        f"# Written by `imgctl init` for {_quote(name)}, a {recipe.display} application (see docs/init.md).",
        "# Paths are relative to the project root: the directory that holds profiles/.",
        f"description = {_quote(f'{name}, a {recipe.display} application')}",
        f"image = {_quote('localhost/' + name.lower())}",
        f"containerfile = {_quote(containerfile)}",
        f"context = {_quote(context)}",
        f"target = {_quote(STAGE)}",
        f"version = {_quote(VERSION)}",
        'tags = ["{version}", "latest"]',
        "# Directories the application writes at run time: lint and verify check that any UID in group 0 can.",
        f"writable_paths = [{_quote(recipe.app_dir)}]",
        "",
        "# Offline, swap the base images for local stand-ins here (or with --build-arg on the command line):",
        "# [build_args]",
        f"# BUILDER_IMAGE = {_quote(recipe.builder_image)}",
        f"# RUNTIME_IMAGE = {_quote(recipe.runtime_image)}",
        "",
        "[lint]",
        "# `imgctl lint` fails on findings at this level or above (error, warning, info, style, none).",
        'failure_threshold = "warning"',
        'policy = "openshift"',
        "",
        "[verify]",
        "# A service stays up until it is stopped, and must stop within `grace` seconds of its stop signal.",
        'kind = "service"',
        "grace = 10",
    ]
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    # A JSON string is a TOML basic string (same escapes, \uXXXX included).
    return json.dumps(text, ensure_ascii=False)
