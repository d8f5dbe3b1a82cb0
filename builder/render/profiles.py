"""How profiles look: the `list` table (with broken profiles below it) and one resolved profile for `show`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from builder.render.console import line, note, print_error, print_table


def print_profiles(summaries: Sequence[Any], problems: Sequence[Any]) -> None:
    rows = [
        (
            summary.name,
            summary.image or "(none: a base to extend)",
            summary.target or "-",
            ", ".join(summary.tags),
            summary.description,
        )
        for summary in summaries
    ]
    print_table(None, ("PROFILE", "IMAGE", "TARGET", "TAGS", "DESCRIPTION"), rows)
    for problem in problems:
        print_error(problem.error)


def print_profile(name: str, document: Mapping[str, Any]) -> None:
    rows = []
    for key, value in document.items():
        if isinstance(value, dict):
            text = "\n".join(f"{k} = {v}" for k, v in value.items()) or "-"
        elif isinstance(value, (list, tuple)):
            text = "\n".join(str(v) for v in value) or "-"
        else:
            text = "-" if value is None or value == "" else str(value)
        rows.append((key, text))
    print_table(f"profile {name}", ("KEY", "VALUE"), rows)


def print_containerfile(text: str, notes: Sequence[str]) -> None:
    """`imgctl show NAME --containerfile`: the text on stdout, as is (it can be saved and built); notes aside."""
    for item in notes:
        note(item)
    line(text.rstrip("\n"))
