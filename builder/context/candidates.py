"""What `imgctl ignore` may propose: the candidate rules in the order they are tried, and the context's inventory
they are judged against (docs/ignore.md).

Order matters: a rule is proposed only if it excludes something no earlier rule does, so the big directories
come first and `**/*.pem` is not proposed for the certificates inside a virtualenv that `**/.venv` already drops.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from builder.context.dialects import DEFAULT_DIALECT
from builder.context.rules import IgnoreRules
from builder.errors import ConfigError

VCS, DEPENDENCIES, VIRTUALENV, BUILD_OUTPUT, CACHE, EDITOR, LOG, SECRET = (
    "vcs", "dependencies", "virtualenv", "build-output", "cache", "editor", "log", "secret")
CATEGORIES = (VCS, DEPENDENCIES, VIRTUALENV, BUILD_OUTPUT, CACHE, EDITOR, LOG, SECRET)


@dataclass(frozen=True)
class Candidate:
    pattern: str
    category: str
    reason: str
    index: int | None = None  # for a rule naming one path: its inventory index (lets it skip a full pass)


_SECRET_HINT = "if the build needs it, pass it as a build secret"

_VCS_RULES = (
    ("**/.git", "Git data: history the image never needs, and it changes with every commit (cache misses)"),
    ("**/.hg", "Mercurial data: history the image never needs"),
    ("**/.svn", "Subversion data: history the image never needs"),
)
_DEPENDENCY_RULES = (
    ("**/node_modules", "installed npm packages: the image should install its own (npm ci), built for its platform"),
)
_TEST_ENV_RULES = (
    ("**/.venv", "Python virtualenv: tied to this machine's Python and paths; the image should create its own"),
    ("**/.tox", "tox environments: virtualenvs of local test runs"),
    ("**/.nox", "nox environments: virtualenvs of local test runs"),
)
_CACHE_RULES = (
    ("**/__pycache__", "Python bytecode caches: rebuilt on import, and different on every machine"),
    ("**/*.pyc", "compiled Python files: rebuilt on import"),
    ("**/.pytest_cache", "pytest cache: state of local test runs"),
    ("**/.mypy_cache", "mypy cache: state of local type checks"),
    ("**/.ruff_cache", "ruff cache: state of local lint runs"),
)
_EDITOR_RULES = (
    ("**/.idea", "JetBrains IDE settings: local to one machine"),
    ("**/.vscode", "VS Code settings: local to one machine"),
    ("**/*.swp", "Vim swap files: left behind by open editors"),
    ("**/.DS_Store", "macOS Finder metadata"),
)
_LOG_RULES = (
    ("**/*.log", "log files: local output that grows while you work and causes cache misses"),
)
_SECRET_RULES = (
    ("**/.env", f"environment file: usually holds credentials; {_SECRET_HINT}"),
    ("**/.env.*", f"environment files: may hold credentials; {_SECRET_HINT}"),
    ("**/*.pem", f"PEM files: may hold private keys; {_SECRET_HINT}"),
    ("**/id_rsa*", f"SSH keys; {_SECRET_HINT}"),
    ("**/id_ed25519*", f"SSH keys; {_SECRET_HINT}"),
    ("**/*.key", f"private key files; {_SECRET_HINT}"),
    ("**/auth.json", f"registry credentials (podman, buildah, skopeo); {_SECRET_HINT}"),
    ("**/.npmrc", f"npm configuration: often holds registry tokens; {_SECRET_HINT}"),
    ("**/.pypirc", f"PyPI configuration: holds upload credentials; {_SECRET_HINT}"),
    ("**/.netrc", f"netrc: holds login credentials; {_SECRET_HINT}"),
    ("**/.docker/config.json", f"Docker client configuration: holds registry credentials; {_SECRET_HINT}"),
)

# A directory with one of these names is a build output only when its parent holds a file (or, for ".idea",
# a directory) of the tool that makes it: (marker, tool). "*.iml" is any IntelliJ module file.
_OUTPUT_MARKERS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "target": (("pom.xml", "Maven"), ("build.sbt", "sbt"), ("Cargo.toml", "Cargo"), ("project.clj", "Leiningen")),
    "build": (("build.gradle", "Gradle"), ("build.gradle.kts", "Gradle"), ("settings.gradle", "Gradle"),
              ("settings.gradle.kts", "Gradle"), ("setup.py", "setuptools"), ("setup.cfg", "setuptools"),
              ("pyproject.toml", "Python packaging"), ("package.json", "JavaScript"), ("CMakeLists.txt", "CMake")),
    "dist": (("setup.py", "setuptools"), ("setup.cfg", "setuptools"), ("pyproject.toml", "Python packaging"),
             ("package.json", "JavaScript")),
    "out": (("next.config.js", "Next.js"), ("next.config.mjs", "Next.js"), ("next.config.ts", "Next.js"),
            ("*.iml", "IntelliJ"), (".idea", "IntelliJ")),
}


def candidates(inventory: Inventory, own: str | None, settled: Callable[[int], bool],
               dialect: str = DEFAULT_DIALECT) -> Iterator[Candidate]:
    """The candidates in order. Lazy, and `settled` is asked as they are tried, so the hundreds of dist/
    directories inside an excluded node_modules are skipped without building a pattern for each."""
    yield from (Candidate(pattern, VCS, reason) for pattern, reason in _VCS_RULES)
    yield from (Candidate(pattern, DEPENDENCIES, reason) for pattern, reason in _DEPENDENCY_RULES)
    yield from (Candidate(pattern, VIRTUALENV, reason) for pattern, reason in _TEST_ENV_RULES)
    yield from _virtualenvs(inventory, settled, dialect)
    yield from _build_outputs(inventory, own, settled, dialect)
    yield from (Candidate(pattern, CACHE, reason) for pattern, reason in _CACHE_RULES)
    yield from (Candidate(pattern, EDITOR, reason) for pattern, reason in _EDITOR_RULES)
    yield from (Candidate(pattern, LOG, reason) for pattern, reason in _LOG_RULES)
    yield from (Candidate(pattern, SECRET, reason) for pattern, reason in _SECRET_RULES)


def _virtualenvs(inventory: Inventory, settled: Callable[[int], bool], dialect: str) -> Iterator[Candidate]:
    """Directories holding pyvenv.cfg under any other name than .venv ("venv", "env", ...): only that path,
    since a directory merely called "venv" may be source code."""
    for index, path in enumerate(inventory.paths):
        if not inventory.is_dir[index] or path.rpartition("/")[2] == ".venv" or settled(index):
            continue
        if "pyvenv.cfg" in inventory.children.get(path, frozenset()):
            pattern = literal_pattern(path, dialect)
            if pattern is not None:
                name = path.rpartition("/")[2]
                yield Candidate(pattern, VIRTUALENV, f"Python virtualenv ({name}/pyvenv.cfg): tied to this "
                                 "machine's Python and paths; the image should create its own", index)


def _build_outputs(inventory: Inventory, own: str | None, settled: Callable[[int], bool],
                   dialect: str) -> Iterator[Candidate]:
    for index, path in enumerate(inventory.paths):
        parent, _, name = path.rpartition("/")
        if name not in _OUTPUT_MARKERS or not inventory.is_dir[index] or settled(index):
            continue
        if own is not None and own.startswith(path + "/"):
            continue  # the directory holding the Containerfile is where the build's own files live
        marker = _marker(_OUTPUT_MARKERS[name], inventory.children.get(parent, frozenset()))
        pattern = literal_pattern(path, dialect)
        if marker is None or pattern is None:
            continue
        found, tool = marker
        yield Candidate(pattern, BUILD_OUTPUT, f"{tool} build output ({name}/ next to {found}): build it in the "
                         "image, or COPY the files you need", index)


def _marker(markers: tuple[tuple[str, str], ...], siblings: frozenset[str]) -> tuple[str, str] | None:
    for marker, tool in markers:
        if marker.startswith("*"):
            hit = next((name for name in sorted(siblings) if name.endswith(marker[1:])), None)
            if hit is not None:
                return hit, tool
        elif marker in siblings:
            return marker, tool
    return None


# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inventory:
    """Every path of the context, parents before children, with nothing excluded: the candidates are judged
    against all of it. Unreadable directories are listed without their contents (scan reports them)."""

    paths: tuple[str, ...]
    is_dir: tuple[bool, ...]
    children: Mapping[str, frozenset[str]]  # directory ("" for the root) -> names in it

    @classmethod
    def walk(cls, root: Path) -> Inventory:
        found: list[tuple[str, bool]] = []
        children: dict[str, frozenset[str]] = {}
        pending = [""]
        while pending:
            rel = pending.pop()
            try:
                with os.scandir(os.path.join(root, rel) if rel else root) as items:
                    listed = list(items)
            except OSError:
                continue
            children[rel] = frozenset(item.name for item in listed)
            for item in listed:
                child = f"{rel}/{item.name}" if rel else item.name
                try:
                    is_dir = item.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                found.append((child, is_dir))
                if is_dir:
                    pending.append(child)
        # Sorted by components, so that everything below a directory directly follows it.
        found.sort(key=lambda item: item[0].split("/"))
        return cls(tuple(path for path, _ in found), tuple(is_dir for _, is_dir in found), children)

    def below(self, index: int) -> range:
        prefix = self.paths[index] + "/"
        end = index + 1
        while end < len(self.paths) and self.paths[end].startswith(prefix):
            end += 1
        return range(index + 1, end)


# --------------------------------------------------------------------------------------------------------------

# Outside a [...] class these mean something to filepath.Match or to the regexp containers/storage builds
# ('.' and '$' it escapes itself); a backslash makes each of them literal in both.
_SPECIAL = frozenset("\\*?[]+()|{}^")
# Go's strings.TrimSpace would eat these at either end of a pattern; inside a class they survive.
_EDGE_SPACE = frozenset("\t\n\v\f\r \x85\xa0")


def literal_pattern(path: str, dialect: str = DEFAULT_DIALECT) -> str | None:
    """A pattern matching exactly `path` (and what is below it), or None when no pattern line can."""
    if not path or "\n" in path:
        return None
    out = []
    for position, char in enumerate(path):
        if char in _SPECIAL or (position == 0 and char in "!#"):
            out.append("\\" + char)
        elif char in _EDGE_SPACE and position in (0, len(path) - 1):
            out.append(f"[{char}]")
        else:
            out.append(char)
    pattern = "".join(out)
    try:
        matches = IgnoreRules.from_patterns([pattern], dialect=dialect).excluded(path)
    except ConfigError:
        return None
    return pattern if matches else None


