"""Which runtime a directory holds, read from the build files at its top level (docs/init.md, "Detection").

Only the directory itself is looked at, never below it: a `package.json` deep in a Java project's frontend
must not make it a Node.js project. Finding nothing, or files of several runtimes, is an error that lists
what was found and says how to choose (`--runtime`).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from builder.errors import ConfigError

RUNTIMES = ("python", "nodejs", "java", "go", "php", "ruby", "dotnet")

# The files that mark a runtime, as glob patterns on the names at the top of the directory.
MARKERS: dict[str, tuple[str, ...]] = {
    "python": ("requirements.txt", "pyproject.toml"),
    "nodejs": ("package.json",),
    "java": ("pom.xml", "build.gradle", "build.gradle.kts"),
    "go": ("go.mod",),
    "php": ("composer.json",),
    "ruby": ("Gemfile",),
    "dotnet": ("*.csproj",),
}


@dataclass(frozen=True)
class Detection:
    runtime: str
    markers: tuple[str, ...]  # the marker files of that runtime found at the top of the directory


def markers_found(directory: Path) -> dict[str, tuple[str, ...]]:
    """Runtime -> the marker files present (sorted), for every runtime that has at least one."""
    if not directory.is_dir():
        raise ConfigError(f"{directory} is not a directory", hint="run imgctl init in the application's directory")
    names = sorted(entry.name for entry in directory.iterdir() if entry.is_file())
    found = {}
    for runtime, patterns in MARKERS.items():
        hits = tuple(name for name in names if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns))
        if hits:
            found[runtime] = hits
    return found


def detect(directory: Path, runtime: str | None = None) -> Detection:
    """The runtime named by `--runtime` (with whatever markers it has), else the only one the files show."""
    found = markers_found(directory)
    if runtime is not None:
        if runtime not in RUNTIMES:
            raise ConfigError(f"unknown runtime {runtime!r}", key="--runtime", hint="one of " + ", ".join(RUNTIMES))
        return Detection(runtime, found.get(runtime, ()))
    choose = "choose one with --runtime " + "|".join(RUNTIMES)
    if not found:
        expected = ", ".join(pattern for patterns in MARKERS.values() for pattern in patterns)
        raise ConfigError(f"cannot tell the runtime of {directory}: none of {expected} is there", hint=choose)
    if len(found) > 1:
        listed = "; ".join(f"{name}: {', '.join(files)}" for name, files in found.items())
        raise ConfigError(f"cannot tell the runtime of {directory}: files of several runtimes are there ({listed})",
                          hint=choose)
    (name, files), = found.items()
    return Detection(name, files)
