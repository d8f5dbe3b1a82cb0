"""`imgctl render`'s output: the document on stdout, what happened and what it cannot carry on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from builder.render.console import note, warning


def print_manifest(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def print_written(kind: str, profile: str, path: str) -> None:
    note(f"wrote {kind} for {profile} to {path}")


def print_notes(notes: Iterable[str]) -> None:
    for text in notes:
        warning(text)
