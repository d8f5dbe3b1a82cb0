"""The render layer's common ground: streams, sizes, JSON, tables, errors, warnings and hints.

Results (tables, JSON) go to stdout; progress, logs, warnings and errors go to stderr, so
`imgctl build --json` can be piped into `jq` while the log still reaches the terminal. User-supplied text
is never read as rich markup. Only the render layer (and the error boundary in `builder.cli.main`)
writes to the terminal.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from builder.errors import BuildError, ImgctlError


def human_size(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def is_interactive(stream: TextIO, env: Mapping[str, str] | None = None) -> bool:
    """A live display only on a real terminal, and never in CI (whose logs are files)."""
    env = dict(os.environ) if env is None else env
    if env.get("CI", "").lower() in ("1", "true", "yes") or env.get("TERM") == "dumb":
        return False
    return stream.isatty()


def console_for(stream: TextIO) -> Any:
    from rich.console import Console

    # Piped output is read by scripts and grep: never wrap it at rich's default 80 columns.
    width = None if stream.isatty() else 4000
    return Console(file=stream, markup=False, emoji=False, highlight=False, soft_wrap=False, width=width)


def print_json(document: Any, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    out.write(json.dumps(document, indent=2, sort_keys=False) + "\n")
    out.flush()


def print_error(error: ImgctlError, stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    out.write(f"error: {error}\n")
    if isinstance(error, BuildError) and error.tail:
        out.write("last output of the failing step:\n")
        for line in error.tail:
            out.write(f"  | {line}\n")
    if error.hint:
        out.write(f"hint: {error.hint}\n")
    out.flush()


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[str]],
                stream: TextIO | None = None) -> None:
    from rich.table import Table

    table = Table(title=title, show_edge=False, header_style="bold", pad_edge=False, box=None)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console_for(stream or sys.stdout).print(table)


def short_ids(text: str) -> str:
    """buildah writes `FROM <64-hex id>` for a stage built on another; 12 characters identify it."""
    return re.sub(r"\b([0-9a-f]{12})[0-9a-f]{52}\b", r"\1", text)




def warning(text: str, stream: TextIO | None = None) -> None:
    """Every warning imgctl gives, in one format."""
    out = stream or sys.stderr
    out.write(f"warning: {text}\n")
    out.flush()


def hint(text: str, stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    out.write(f"hint: {text}\n")
    out.flush()


def line(text: str, stream: TextIO | None = None) -> None:
    """One plain line of a result, on stdout (or on `stream`)."""
    out = stream or sys.stdout
    out.write(text + "\n")
    out.flush()


def note(text: str) -> None:
    """One line about what happened, on stderr: stdout stays for results a script reads."""
    line(text, sys.stderr)


def live_progress(env: Mapping[str, str]) -> bool:
    """Whether progress is shown live (on stderr): on a terminal, outside CI."""
    return is_interactive(sys.stderr, env)


def confirm(question: str) -> bool:
    """Ask on the terminal; no is the default."""
    import typer

    return typer.confirm(question, default=False)
