"""The layers stacked into the image's filesystem, and what the stacking discards (pure: no engine).

Layers apply in order: a layer's whiteouts first delete from the layers below (`.wh.NAME` the path and what
is under it, `.wh..wh..opq` everything under a directory), then its entries replace what they name. A file
version that a later layer replaces or deletes is wasted: it is still shipped in the layer that added it.

Two measures of waste:
- `wasted`: the bytes of every file version that is not in the final filesystem, with the layer that added
  it and the layer that discarded it. This is what removing a file in the step that made it would save.
- dive's efficiency (wagoodman/dive, filetree/efficiency.go): per path, the smallest size it had in any layer
  over the sum of its sizes in all layers (a deleted file counts 0, a deleted directory what was under it);
  dive's "wasted bytes" sum all the sizes of paths found in two layers or more, over the user layers'
  size (every layer but the first) for its "user wasted percent".
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from builder.verify.archive import DIRECTORY, FILE, Entry, Layer


@dataclass(frozen=True)
class Waste:
    """A file version shipped in layer `added_in` that layer `removed_in` overwrote or deleted."""

    path: str
    size: int
    added_in: int  # layer index, base first
    removed_in: int
    how: str  # "overwritten" or "deleted"


@dataclass
class _Occurrences:
    """dive's per-path record: how often a path appears, the sum of its sizes and the smallest."""

    count: int = 0
    total: int = 0
    smallest: int = -1

    def add(self, size: int) -> None:
        self.count += 1
        self.total += size
        self.smallest = size if self.smallest < 0 else min(self.smallest, size)


@dataclass
class Stack:
    """The final filesystem (path -> entry and the layer it came from) and the waste of getting there."""

    files: dict[str, tuple[Entry, int]] = field(default_factory=dict)
    waste: list[Waste] = field(default_factory=list)
    efficiency: float = 1.0  # dive's score, 0..1
    dive_wasted: int = 0  # dive's wasted bytes
    user_bytes: int = 0  # file bytes of every layer but the first

    @property
    def wasted(self) -> int:
        return sum(item.size for item in self.waste)

    @property
    def user_wasted_ratio(self) -> float:
        """dive's "user wasted percent" as a fraction."""
        return self.dive_wasted / self.user_bytes if self.user_bytes else 0.0

    def entry(self, path: str) -> Entry | None:
        found = self.files.get(path)
        return found[0] if found else None

    def under(self, path: str) -> Iterator[Entry]:
        """The entries at and below `path` in the final filesystem."""
        prefix = path.rstrip("/") + "/"
        for name, (entry, _) in self.files.items():
            if name == path or name.startswith(prefix):
                yield entry


class _Tree:
    """The stacked filesystem with an index of children, so a whiteout removes a subtree without a scan."""

    def __init__(self, files: dict[str, tuple[Entry, int]]) -> None:
        self.files = files
        self.children: dict[str, set[str]] = {}

    def add(self, entry: Entry, layer: int) -> None:
        self.files[entry.path] = (entry, layer)
        path = entry.path
        while path != "/":
            parent = posixpath.dirname(path)
            siblings = self.children.setdefault(parent, set())
            if path in siblings:
                break
            siblings.add(path)
            path = parent

    def remove(self, path: str, keep_root: bool = False) -> list[tuple[Entry, int]]:
        """Remove `path` (or, with `keep_root`, only what is under it); returns the removed entries."""
        removed = []
        pending = list(self.children.pop(path, ()))
        if not keep_root:
            parent = self.children.get(posixpath.dirname(path))
            if parent is not None:
                parent.discard(path)
            if path in self.files:
                removed.append(self.files.pop(path))
        while pending:
            current = pending.pop()
            pending.extend(self.children.pop(current, ()))
            if current in self.files:
                removed.append(self.files.pop(current))
        return removed

    def subtree_bytes(self, path: str) -> int:
        total = 0
        pending = [path]
        while pending:
            current = pending.pop()
            found = self.files.get(current)
            if found:
                total += found[0].size
            pending.extend(self.children.get(current, ()))
        return total


def stack(layers: Sequence[Layer]) -> Stack:
    result = Stack()
    tree = _Tree(result.files)
    seen: dict[str, _Occurrences] = {}

    def discard(removed: list[tuple[Entry, int]], index: int, how: str) -> None:
        for entry, added_in in removed:
            if entry.size:
                result.waste.append(Waste(entry.path, entry.size, added_in, index, how))

    for index, layer in enumerate(layers):
        for path in layer.deleted:
            found = tree.files.get(path)
            size = tree.subtree_bytes(path) if found and found[0].kind == DIRECTORY else 0
            seen.setdefault(path, _Occurrences()).add(size)
            discard(tree.remove(path), index, "deleted")
        for path in layer.opaque:
            discard(tree.remove(path, keep_root=True), index, "deleted")
        for entry in layer.entries:
            seen.setdefault(entry.path, _Occurrences()).add(entry.size)
            old = tree.files.get(entry.path)
            if old is not None:
                if old[0].kind == DIRECTORY and entry.kind != DIRECTORY:
                    discard(tree.remove(entry.path), index, "overwritten")
                elif old[0].kind == FILE:
                    discard([old], index, "overwritten")
            tree.add(entry, index)
    smallest = sum(max(item.smallest, 0) for item in seen.values())
    total = sum(item.total for item in seen.values())
    result.efficiency = smallest / total if total else 1.0
    result.dive_wasted = sum(item.total for item in seen.values() if item.count >= 2)
    result.user_bytes = sum(layer.file_bytes for layer in layers[1:])
    return result
