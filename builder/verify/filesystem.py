"""The checks that read the image's layers (OS210, OS211, OS213), and the size of each layer with its step."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from builder.engine.protocol import ImageRecord
from builder.verify.archive import DIRECTORY, SYMLINK, Entry, Layer
from builder.verify.catalog import Outcome, finding
from builder.verify.stack import Stack

# dive's CI defaults (`lowestEfficiency`, `highestUserWastedPercent`).
LOWEST_EFFICIENCY = 0.9
HIGHEST_USER_WASTED = 0.1
# Below this the waste is a few rewritten configuration files, whatever the ratios say of a tiny image.
WASTE_FLOOR = 1 << 20
SHOWN = 3  # offending files named in a finding; the rest are counted


@dataclass(frozen=True)
class LayerSize:
    """One layer: its size, the step that made it, and the bytes of it that later layers discarded."""

    index: int
    diff_id: str
    size: int  # bytes of the layer tar, as `podman history` counts them
    created_by: str  # the history entry's step, "" when the image has no history for it
    wasted: int  # bytes it added that a later layer overwrote or deleted


def human(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"  # unreachable; mypy wants a return


def writable_targets(image: ImageRecord, writable_paths: Sequence[str]) -> list[str]:
    """WORKDIR (unless it is the root), the VOLUMEs and the profile's writable paths, each once."""
    paths = [image.working_dir] if image.working_dir not in ("", "/") else []
    paths += [*image.volumes, *writable_paths]
    return list(dict.fromkeys(posixpath.normpath(path) for path in paths if path.startswith("/")))


def _g_equals_u(entry: Entry) -> bool:
    return (entry.mode >> 3) & 7 == (entry.mode >> 6) & 7


def _mode(entry: Entry) -> str:
    return f"{entry.uid}:{entry.gid} {entry.mode & 0o7777:04o}"


def group_check(image: ImageRecord, stack: Stack, writable_paths: Sequence[str], subject: str) -> Outcome:
    """OS210: OpenShift's `chgrp -R 0 DIR && chmod -R g=u DIR` on every path the process writes: the path and
    the directories under it owned by group 0, with group permissions equal to the owner's."""
    targets = writable_targets(image, writable_paths)
    findings = []
    for target in targets:
        root = stack.entry(target)
        if root is None:
            findings.append(finding(
                "OS210", subject, f"{target} is not in the image",
                f"create it: RUN mkdir -p {target} && chgrp -R 0 {target} && chmod -R g=u {target}"))
            continue
        # The path itself, and every directory under it: where the program may create files. The files
        # already there may stay read-only to it (its own code); OS221 tries an actual write.
        bad = [entry for entry in stack.under(target) if (entry.path == target or entry.kind == DIRECTORY)
               and entry.kind != SYMLINK and (entry.gid != 0 or not _g_equals_u(entry))]
        if bad:
            named = ", ".join(f"{entry.path} ({_mode(entry)})" for entry in bad[:SHOWN])
            more = f" and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
            findings.append(finding(
                "OS210", subject, f"{target}: not group 0 with g=u: {named}{more}",
                f"RUN chgrp -R 0 {target} && chmod -R g=u {target} (or COPY --chown=UID:0 --chmod=g=u)"))
    detail = f"checked {', '.join(targets)}" if targets else "no WORKDIR, VOLUME or writable_paths to check"
    return Outcome("OS210", detail, tuple(findings))


def passwd_check(stack: Stack, subject: str) -> Outcome:
    """OS211: the runtime writes the arbitrary UID's entry itself; a writable passwd lets the process be anyone."""
    findings = []
    states = []
    for path in ("/etc/passwd", "/etc/group"):
        entry = stack.entry(path)
        if entry is None:
            states.append(f"{path} absent")
            continue
        states.append(f"{path} {entry.mode & 0o777:03o}")
        if entry.kind != SYMLINK and entry.mode & 0o022:
            findings.append(finding("OS211", subject, f"{path} is writable by its group or others ({_mode(entry)})",
                                    f"RUN chmod go-w {path}"))
    return Outcome("OS211", ", ".join(states), tuple(findings))


def layer_sizes(image: ImageRecord, layers: Sequence[Layer], stack: Stack) -> list[LayerSize]:
    """Each layer with the step that made it: the history entries that made a layer, in order (the others,
    ENV, LABEL and the like, are empty layers and skipped)."""
    history = image.layer_history if image.layer_history and len(image.layer_history) == len(layers) else None
    wasted = [0] * len(layers)
    for item in stack.waste:
        wasted[item.added_in] += item.size
    return [
        LayerSize(index, layer.diff_id, layer.tar_size, step_text(history[index]) if history else "", wasted[index])
        for index, layer in enumerate(layers)
    ]


def step_text(created_by: str) -> str:
    """buildah's and Docker's `created_by` as the instruction: "/bin/sh -c #(nop) COPY ..." -> "COPY ..."."""
    text = " ".join(created_by.split())
    if text.startswith("/bin/sh -c #(nop) "):
        return text[len("/bin/sh -c #(nop) "):]
    if text.startswith("/bin/sh -c "):
        return "RUN " + text[len("/bin/sh -c "):]
    return text


def waste_check(stack: Stack, sizes: Sequence[LayerSize], subject: str) -> Outcome:
    """OS213: dive's CI rules with their defaults, over a floor of 1 MiB."""
    detail = (f"{human(stack.wasted)} wasted; efficiency {stack.efficiency:.1%} (dive), "
              f"user wasted {stack.user_wasted_ratio:.1%}")
    poor = stack.efficiency < LOWEST_EFFICIENCY or stack.user_wasted_ratio > HIGHEST_USER_WASTED
    if not poor or max(stack.wasted, stack.dive_wasted) < WASTE_FLOOR:
        return Outcome("OS213", detail)
    by_pair: dict[tuple[int, int], int] = {}
    for item in stack.waste:
        by_pair[(item.added_in, item.removed_in)] = by_pair.get((item.added_in, item.removed_in), 0) + item.size
    worst = sorted(by_pair.items(), key=lambda pair: -pair[1])[:SHOWN]
    blame = "; ".join(
        f"{human(size)} added by layer {added + 1} ({_short(sizes[added].created_by)}), "
        f"discarded by layer {removed + 1} ({_short(sizes[removed].created_by)})"
        for (added, removed), size in worst
    )
    biggest = sorted(stack.waste, key=lambda item: -item.size)[:SHOWN]
    files = ", ".join(f"{item.path} ({human(item.size)}, {item.how})" for item in biggest)
    return Outcome("OS213", detail, (finding(
        "OS213", subject, f"{human(stack.wasted)} of files are shipped but not in the image: {blame}",
        f"delete them in the step that makes them (largest: {files})"),))


def _short(step: str) -> str:
    return step if len(step) <= 60 else step[:57] + "..."


def layer_notes(sizes: Sequence[LayerSize]) -> list[str]:
    """The size table as report notes, one line per layer, so every output format carries it."""
    total = sum(size.size for size in sizes)
    lines = [f"{len(sizes)} layers, {human(total)}:"]
    for size in sizes:
        wasted = f" ({human(size.wasted)} discarded later)" if size.wasted else ""
        lines.append(f"layer {size.index + 1}: {human(size.size)}{wasted} {_short(size.created_by) or '(no history)'}")
    return lines
