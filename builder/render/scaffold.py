"""What `imgctl init` shows: what it found, what it wrote and why, and what to run next."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from builder.render.console import line, note

if TYPE_CHECKING:
    from builder.scaffold.plan import InitPlan, PlannedFile


def print_init(plan: InitPlan, written: tuple[PlannedFile, ...], *, chosen: bool, profiles_option: str = "") -> None:
    detection = plan.detection
    if chosen:
        line(f"runtime {detection.runtime} (--runtime)")
    else:
        line(f"runtime {detection.runtime}: found {', '.join(detection.markers)}")
    line(f"  build stage:   {plan.recipe.builder_image}")
    line(f"  runtime stage: {plan.recipe.runtime_image}")
    for planned in plan.files:
        shown = _shown(planned.path)
        if planned not in written:
            line(f"unchanged {shown}")
            continue
        verb = "replaced" if planned.existing is not None else "wrote"
        line(f"{verb} {shown}")
        if planned.kind == "ignore file":
            for rule in plan.ignore_rules:
                line(f"  {rule.pattern}  ({rule.reason})")
    for text in plan.notes:
        note(f"note: {text}")
    run = f"imgctl {profiles_option}"
    line(f"next: {run}show {plan.name}; {run}lint {plan.name}; {run}build {plan.name}")


def _shown(path: Path) -> str:
    """Relative to the current directory when it is below it: what the user typed init in."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative
