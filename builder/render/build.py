"""How a build looks: the live display of its steps, the --dry-run plan, --explain, the summary."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from builder.render.console import console_for, human_size, print_table, short_ids


class BuildDisplay:
    """Shows one build as it runs.

    On a terminal: each finished step stays on screen as one line (with its time, or "cached"), and a
    live panel below shows the running step, the elapsed time and its last output lines. Elsewhere (CI,
    pipes): the build log as plain lines, as podman prints it.
    """

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
        self._step: Any = None
        self._step_started = self.started
        self._cached_before = 0

    def __enter__(self) -> BuildDisplay:
        if self.live:
            from rich.live import Live

            self._live = Live(
                get_renderable=self._render,
                console=console_for(self.stream),
                refresh_per_second=8,
                transient=True,
            )
            self._live.__enter__()
        elif not self.quiet:
            self._write(f"building profile {self.profile}")
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._live is not None:
            self._finish_step(failed=exc_type is not None)
            self._live.__exit__(None, None, None)
            self._live = None

    def on_event(self, event: Any) -> None:
        self._log = event.log
        if event.kind == "phase":
            if self.live:
                self._finish_step(failed=False)
            self._phase = event.text
            if not self.live and not self.quiet:
                self._write(f"{event.text}")
        elif event.kind == "step":
            if self.live:
                self._finish_step(failed=False)
                self._step = event.log.step
                self._step_started = time.monotonic()
                self._cached_before = event.log.cached_steps
            self._phase = "building"
        elif event.kind == "line" and not self.live and not self.quiet:
            self._write(event.text)

    def _finish_step(self, *, failed: bool) -> None:
        """Print the step that just ended above the live panel, where it stays."""
        step, self._step = self._step, None
        if step is None or self._live is None:
            return
        from rich.text import Text

        cached = self._log is not None and self._log.cached_steps > self._cached_before
        line = Text()
        line.append("  x " if failed else "  + ", style="bold red" if failed else "green")
        if step.stages > 1:
            line.append(f"[{step.stage}/{step.stages}] ", style="dim")
        line.append(f"{step.number}/{step.steps} ", style="dim")
        line.append(short_ids(step.instruction))
        line.append("  cached" if cached else f"  {time.monotonic() - self._step_started:.1f}s", style="yellow")
        line.no_wrap = True
        line.overflow = "ellipsis"
        self._live.console.print(line)

    def _write(self, text: str) -> None:
        self.stream.write(f"{self.prefix}{text}\n")
        self.stream.flush()

    def _render(self) -> Any:
        from rich.console import Group
        from rich.text import Text

        now = time.monotonic()
        step = self._step
        header = Text()
        header.append(self.profile, style="bold cyan")
        if step is not None:
            if step.stages > 1:
                header.append(f"  stage {step.stage}/{step.stages}")
            header.append(f"  step {step.number}/{step.steps}")
        header.append(f"  {now - self.started:5.1f}s", style="yellow")
        lines = [header]
        if step is not None:
            running = f"  > {short_ids(step.instruction)}  ({now - self._step_started:.1f}s)"
            lines.append(Text(running, style="bold", overflow="ellipsis", no_wrap=True))
            for line in list(self._log.step_output)[-6:]:
                lines.append(Text(f"    {line}", style="dim", overflow="ellipsis", no_wrap=True))
        else:
            lines.append(Text(f"  {self._phase}", style="bold"))
        return Group(*lines)


def print_plan(plan: dict[str, Any], stream: TextIO | None = None) -> None:
    """`imgctl build --dry-run` for a person: what would be sent, and the two API calls."""
    out = stream or sys.stdout
    context = plan["context"]
    out.write(f"profile {plan['profile']} (dry run: nothing is sent)\n")
    out.write(f"  containerfile  {plan['containerfile'] or 'generated (strategy = s2i)'}\n")
    out.write(f"  context        {context['path']}\n")
    out.write(f"  ignore file    {context['ignore_file'] or 'none'}\n")
    out.write(
        f"  would send     {context['files']} files, {human_size(context['bytes'])} "
        f"({context['excluded']} paths excluded)\n"
    )
    for name in plan["tar_extra"]:
        out.write(f"  also sends     {name}\n")
    out.write("  build call     POST /libpod/build\n")
    for key, value in plan["build_params"].items():
        out.write(f"                   {key}={value}\n")
    out.write("  label step     POST /libpod/build  (FROM <built id>)\n")
    for key, value in plan["labels"].items():
        out.write(f"                   label {key}={value}\n")
    for ref in plan["tags"]:
        out.write(f"                   tag {ref}\n")
    for note in plan["notes"]:
        out.write(f"  note           {note}\n")
    out.flush()


def print_reasons(result: Any, stream: TextIO | None = None) -> None:
    """`--explain`: why this image was built, or that it was not."""
    out = stream or sys.stderr
    if result.up_to_date:
        out.write(f"{result.profile}: up to date: an image with the same inputs exists ({result.image_id[:12]})\n")
    else:
        out.write(f"{result.profile}: built because:\n")
        for reason in result.reasons or ("no earlier build to compare with",):
            out.write(f"  - {reason}\n")
    out.flush()


def print_build_summary(results: Sequence[Any], stream: TextIO | None = None) -> None:
    def time_of(r: Any) -> str:
        if r.up_to_date:
            return f"{r.seconds:.1f}s (up to date)"
        return f"{r.seconds:.1f}s" + (f" ({r.cached_steps}/{r.steps} steps cached)" if r.steps else "")

    rows = [(r.profile, r.image_id[:12], human_size(r.size), "\n".join(r.tags), time_of(r)) for r in results]
    print_table(None, ("PROFILE", "IMAGE ID", "SIZE", "TAGS", "TIME"), rows, stream)
