"""How a push looks: a live table of references on a terminal, plain lines elsewhere, then the digests."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from builder.render.console import console_for, short_ids, warning


class PushDisplay:
    """Shows pushes as they run: a live table (one row per destination tag) on a terminal, plain lines otherwise."""

    def __init__(self, *, live: bool, quiet: bool, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = live and not quiet
        self._rows: dict[str, list[Any]] = {}  # reference -> [state, last line, started]
        self._lock = threading.Lock()  # events come from one thread per destination
        self._live: Any = None

    def __enter__(self) -> PushDisplay:
        if self.live:
            from rich.live import Live

            # Transient: the summary table that follows says the same, once.
            self._live = Live(get_renderable=self._render, console=console_for(self.stream), refresh_per_second=8,
                              transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def on_event(self, event: Any) -> None:
        if event.kind == "warning":
            # Above the live table (which clears itself), or as a plain line: the one warning format.
            with self._lock:
                warning(event.text, self._live.console.file if self._live is not None else self.stream)
            return
        with self._lock:
            row = self._rows.setdefault(event.reference, ["pushing", "", time.monotonic()])
            if event.kind == "line":
                row[1] = event.text
            elif event.kind == "retry":
                row[0], row[1] = "retrying", event.text
            elif event.kind == "done":
                row[0], row[1] = "pushed", event.text
            elif event.kind == "failed":
                row[0], row[1] = "failed", event.text
            if not self.live and not self.quiet and event.kind != "start":
                label = {"line": "", "retry": "retry: ", "done": "pushed ", "failed": "failed: "}[event.kind]
                self.stream.write(f"{event.reference} | {label}{event.text}\n")
                self.stream.flush()

    def _render(self) -> Any:
        from rich.table import Table

        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column("state", no_wrap=True)
        table.add_column("reference", no_wrap=True)
        table.add_column("time", no_wrap=True, justify="right")
        table.add_column("detail", overflow="ellipsis", no_wrap=True)
        styles = {"pushing": "yellow", "retrying": "magenta", "pushed": "green", "failed": "bold red"}
        with self._lock:
            for reference, (state, detail, started) in self._rows.items():
                table.add_row(
                    state,
                    reference,
                    f"{time.monotonic() - started:.1f}s",
                    short_ids(detail),
                    style=styles[state] if state != "pushing" else None,
                )
        return table


def print_push_summary(results: Sequence[Any], stream: TextIO | None = None) -> None:
    """One line per pushed reference: plain text, so a full digest is never wrapped or cut."""
    out = stream or sys.stdout
    pushed = [p for r in results for p in r.pushed]
    width = max((len(p.reference) for p in pushed), default=0)
    for p in pushed:
        retried = f" ({p.attempts} attempts)" if p.attempts > 1 else ""
        out.write(f"pushed {p.reference:<{width}}  {p.seconds:4.1f}s{retried}  {p.digest}\n")
    out.flush()


