"""What the source tree says about its S2I build: override scripts in `.s2i/bin/`, variables in
`.s2i/environment`.

Reads only those two places of the context; every problem is a ConfigError naming the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from builder.errors import ConfigError
from builder.s2i.scripts import SCRIPTS

SCRIPTS_DIR = ".s2i/bin"  # relative to the context, as the generated COPY names it
ENVIRONMENT_FILE = ".s2i/environment"
IGNORE_FILE = ".s2iignore"  # s2i deletes what it names from the source before the build
# Whatever an ENV instruction takes as a name: no '=', no whitespace, not empty.
_NAME = re.compile(r"[^=\s]+\Z")


@dataclass(frozen=True)
class SourceFacts:
    scripts: frozenset[str] = frozenset()  # the S2I scripts `.s2i/bin/` holds (assemble, run, save-artifacts)
    environment: tuple[tuple[str, str], ...] = ()  # `.s2i/environment`, in order


def read_source(context: Path) -> SourceFacts:
    return SourceFacts(scripts=_scripts(context), environment=read_environment(context / ENVIRONMENT_FILE))


def _scripts(context: Path) -> frozenset[str]:
    found = set()
    for name in SCRIPTS:
        path = context / SCRIPTS_DIR / name
        if path.is_file():
            # COPY keeps the mode: a script without its x bit fails in the middle of the build instead of here.
            if not path.stat().st_mode & 0o111:
                raise ConfigError(f"{SCRIPTS_DIR}/{name} is not executable", file=path,
                                  hint=f"chmod +x {SCRIPTS_DIR}/{name} (the build runs it as it is)")
            found.add(name)
    return frozenset(found)


def read_environment(path: Path) -> tuple[tuple[str, str], ...]:
    """NAME=VALUE lines as s2i reads them (both sides trimmed; '#' comments and blank lines skipped).

    s2i silently drops a line it cannot read; imgctl refuses it, so a typo does not lose a variable.
    """
    if not path.is_file():
        return ()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {ENVIRONMENT_FILE}: {error}", file=path) from None
    found = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals or not _NAME.match(name):
            raise ConfigError(f"expected NAME=VALUE, got {raw!r}", file=path, line=number,
                              hint="one variable per line, e.g. APP_MODULE=app:main; '#' starts a comment")
        found.append((name, value.strip()))
    return tuple(found)


def ignore_patterns(context: Path) -> tuple[str, ...]:
    """The `.s2iignore` lines (trimmed; blank lines and '#' comments skipped), for the build's ignore rules."""
    path = context / IGNORE_FILE
    if not path.is_file():
        return ()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {IGNORE_FILE}: {error}", file=path) from None
    lines = (line.strip(" ") for line in text.splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))
