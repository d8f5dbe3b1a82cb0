"""What an earlier image records about its inputs, read back for `--explain`.

An image imgctl builds now carries only its input digest; the components behind it are found by that digest
in this machine's detail files (builder.inputs.detail). An image from another machine, or one whose detail
was pruned, tells only what its own labels show. Images labelled by earlier versions of imgctl also carry the
components label `io.imgctl.inputs.components`, read here and never written: all of its components when they
fit in 32 KiB, otherwise the context's files and directories below some depth N folded into one "tree:DIR"
component per directory at level N (N = 0 folds the whole context into "tree:").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from builder.inputs.detail import DIGEST_FORM, SHORT, decode
from builder.inputs.digest import counts_as_input, is_path, label_component
from builder.oci.labels import COMPONENTS_LABEL, DIGEST_LABEL

if TYPE_CHECKING:
    from builder.inputs.hashcache import HashCache



class Recorded(Mapping[str, str]):
    """The components of an earlier build (values shortened), as far as this machine knows them.

    `detailed` is False when the image's detail is not on this machine: the components are then only the
    "label:KEY" ones its labels show, and may include labels it inherited from its base image.
    """

    def __init__(self, components: Mapping[str, str], *, detailed: bool) -> None:
        self._components = MappingProxyType(dict(components))
        self.detailed = detailed

    def __getitem__(self, name: str) -> str:
        return self._components[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._components)

    def __len__(self) -> int:
        return len(self._components)


def decode_label(labels: Mapping[str, str], cache: HashCache | None = None) -> Recorded | None:
    """What an image's labels, and with `cache` the detail kept on this machine, say about its inputs.

    None when the image carries no input record at all (built before this feature, or by another tool). An
    old components label whose files were folded is replaced by the detail for its digest, if that is here
    and agrees with the label.
    """
    digest = labels.get(DIGEST_LABEL)
    if not isinstance(digest, str) or not DIGEST_FORM.match(digest):
        digest = None  # a label value never chooses a file name
    legacy = decode(labels.get(COMPONENTS_LABEL))
    detail = cache.recall(digest) if cache is not None and digest is not None else None
    if legacy is not None:
        depth = fold_depth(legacy)
        if depth is None or detail is None:
            return Recorded(legacy, detailed=True)
        refolded = fold(detail, depth)
        if set(refolded) != set(legacy) or not all(same(refolded[name], legacy[name]) for name in legacy):
            return Recorded(legacy, detailed=True)
        return Recorded(detail, detailed=True)
    if detail is not None:
        return Recorded(detail, detailed=True)
    if digest is None:
        return None
    shown = {f"label:{key}": label_component(value) for key, value in labels.items() if counts_as_input(key)}
    return Recorded(shown, detailed=False)


def same(a: str, b: str) -> bool:
    """Whether two values of one component agree, when either may be shortened to a prefix."""
    n = min(len(a), len(b))
    return n > 0 and a[:n] == b[:n]


def fold(components: Mapping[str, str], depth: int) -> dict[str, str]:
    """Files and directories below `depth` levels folded into one "tree:DIR" component per directory, as an
    old components label folded them (so that current inputs compare with such a label)."""
    folded: dict[str, str] = {}
    trees: dict[str, list[str]] = {}
    for name, value in components.items():
        if is_path(name):
            parts = name.partition(":")[2].split("/")
            if len(parts) > depth:
                # Over the short values, so that the local detail files (which keep only those) fold alike.
                trees.setdefault("tree:" + "/".join(parts[:depth]), []).append(f"{len(name)}:{name}{value[:SHORT]}\n")
                continue
        folded[name] = value
    for tree, members in trees.items():
        members.sort()
        folded[tree] = hashlib.sha256("".join(members).encode("utf-8", "surrogatepass")).hexdigest()
    return folded


def fold_depth(components: Mapping[str, str]) -> int | None:
    """The depth an old components label folded its files at; None when it did not fold them."""
    for name in components:
        if name.startswith("tree:"):
            path = name[5:]
            return path.count("/") + 1 if path else 0
    return None
