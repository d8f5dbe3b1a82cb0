"""Everything imgctl shows a person: live build progress, tables, errors, JSON documents.

Results (tables, JSON) go to stdout; progress, logs and errors go to stderr, so `imgctl build --json`
can be piped into `jq` while the log still reaches the terminal. User-supplied text is never read as
rich markup.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from builder.errors import BuildError, ImgctlError


def human_size(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def is_interactive(stream: TextIO, env: dict[str, str] | None = None) -> bool:
    """A live display only on a real terminal, and never in CI (whose logs are files)."""
    env = dict(os.environ) if env is None else env
    if env.get("CI", "").lower() in ("1", "true", "yes") or env.get("TERM") == "dumb":
        return False
    return stream.isatty()


def _console(stream: TextIO):
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


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[str]], stream: TextIO | None = None) -> None:
    from rich.table import Table

    table = Table(title=title, show_edge=False, header_style="bold", pad_edge=False, box=None)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    _console(stream or sys.stdout).print(table)


class BuildDisplay:
    """Shows one build as it runs: a live panel on a terminal, plain log lines otherwise."""

    def __init__(self, profile: str, *, live: bool, quiet: bool, prefix: bool, stream: TextIO | None = None) -> None:
        self.profile = profile
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = live and not quiet
        self.prefix = f"{profile} | " if prefix else ""
        self.started = time.monotonic()
        self._live: Any = None
        self._log: Any = None
        self._phase = "sending the context"

    def __enter__(self) -> BuildDisplay:
        if self.live:
            from rich.live import Live

            self._live = Live(
                get_renderable=self._render,
                console=_console(self.stream),
                refresh_per_second=8,
                transient=True,
            )
            self._live.__enter__()
        elif not self.quiet:
            self._write(f"building profile {self.profile}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def on_event(self, event: Any) -> None:
        self._log = event.log
        if event.kind == "phase":
            self._phase = event.text
            if not self.live and not self.quiet:
                self._write(f"{event.text}")
        elif event.kind == "step":
            self._phase = "building"
        elif event.kind == "line" and not self.live and not self.quiet:
            self._write(event.text)

    def _write(self, text: str) -> None:
        self.stream.write(f"{self.prefix}{text}\n")
        self.stream.flush()

    def _render(self) -> Any:
        from rich.console import Group
        from rich.text import Text

        elapsed = time.monotonic() - self.started
        log = self._log
        header = Text()
        header.append(f"{self.profile}", style="bold cyan")
        step = log.step if log is not None else None
        if step is not None:
            if step.stages > 1:
                header.append(f"  stage {step.stage}/{step.stages}")
            header.append(f"  step {step.number}/{step.steps}")
        header.append(f"  {elapsed:5.1f}s", style="yellow")
        lines = [header]
        current = Text(f"  {step.instruction if step else self._phase}", style="bold", overflow="ellipsis", no_wrap=True)
        lines.append(current)
        if log is not None:
            for line in list(log.step_output)[-6:]:
                lines.append(Text(f"    {line}", style="dim", overflow="ellipsis", no_wrap=True))
        return Group(*lines)


def print_build_summary(results: Sequence[Any], stream: TextIO | None = None) -> None:
    rows = [
        (
            r.profile,
            r.image_id[:12],
            human_size(r.size),
            "\n".join(r.tags),
            f"{r.seconds:.1f}s" + (f" ({r.cached_steps}/{r.steps} steps cached)" if r.steps else ""),
        )
        for r in results
    ]
    print_table(None, ("PROFILE", "IMAGE ID", "SIZE", "TAGS", "TIME"), rows, stream)
