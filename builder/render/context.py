"""How a build context looks: `imgctl context` (what is sent and why) and `imgctl ignore` (the proposal)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from builder.render.console import human_size, print_table, warning


def print_context(sent: Any, kept: Any, notes: Sequence[str]) -> None:
    """Every file sent with its size, the largest directories, then the totals of both walks."""
    out = sys.stdout
    for entry in sent.entries:
        if entry.kind == "dir":
            continue
        suffix = f" -> {entry.link}" if entry.kind == "symlink" else ""
        out.write(f"{human_size(entry.size):>10}  {entry.path}{suffix}\n")
    out.write("\n")
    largest = [(d or ".", human_size(b), str(n)) for d, b, n in sent.largest_dirs(10)]
    print_table("largest directories sent", ("DIRECTORY", "SIZE", "FILES"), largest)
    decided = str(sent.ignore_file) if sent.ignore_file else "none"
    out.write(
        f"\ncontext {sent.root}\n"
        f"ignore file: {decided}\n"
        f"the ignore rules keep: {kept.file_count} files, {human_size(kept.total_size)} "
        f"({kept.excluded_count} paths excluded, {len(kept.pruned_dirs)} directories skipped without reading)\n"
        f"sent to the build:     {sent.file_count} files, {human_size(sent.total_size)}\n"
    )
    for note in notes:
        out.write(f"  {note}\n")
    out.flush()


def context_document(sent: Any, kept: Any, notes: Sequence[str], profile: str) -> dict[str, Any]:
    files = [e for e in sent.entries if e.kind != "dir"]
    return {
        "profile": profile,
        "context": str(sent.root),
        "ignore_file": str(sent.ignore_file) if sent.ignore_file else None,
        "files": [e.path for e in files],
        "sizes": {e.path: e.size for e in files},
        "file_count": sent.file_count,
        "bytes": sent.total_size,
        "kept_by_ignore_rules": {
            "files": [e.path for e in kept.entries if e.kind != "dir"],
            "file_count": kept.file_count,
            "bytes": kept.total_size,
        },
        "excluded": sent.excluded_count,
        "pruned_dirs": list(sent.pruned_dirs),
        "largest_dirs": [{"path": d, "bytes": b, "files": n} for d, b, n in sent.largest_dirs(10)],
        "pruning": list(notes),
    }


def print_proposal(name: str, proposal: Any, warnings: Sequence[str], *, write: bool) -> None:
    """The rules `imgctl ignore` would add, what it kept and why, the sizes before and after."""
    out = sys.stdout
    for text in (*warnings, *proposal.warnings):
        warning(text)
    if not proposal.changed:
        out.write(f"{proposal.path}: nothing to add\n")
    else:
        for rule in proposal.added:
            example = f" (e.g. {rule.matched[0]})" if rule.matched else ""
            out.write(f"+ {rule.pattern:<28} {rule.category}: {rule.reason}{example}\n")
    for line in proposal.kept:
        out.write(f"  {line}\n")
    if proposal.before and proposal.after:
        (files_before, bytes_before), (files_after, bytes_after) = proposal.before, proposal.after
        out.write(
            f"context: {files_before} files, {human_size(bytes_before)} now; "
            f"{files_after} files, {human_size(bytes_after)} with the proposal\n"
        )
    if proposal.changed and not write:
        out.write(f"run `imgctl ignore {name} --write` to write {proposal.path}\n")
    if proposal.changed and write:
        out.write(proposal.diff())
    out.flush()


def print_large_context_hint(profile: str, size: int) -> None:
    sys.stderr.write(
        f"hint: the context of {profile} has no .containerignore and sends {human_size(size)}; "
        f"`imgctl ignore {profile}` proposes one\n"
    )
    sys.stderr.flush()
