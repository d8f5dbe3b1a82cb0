"""builder.containerfile.reach: the paths a reach needs, base image facts, and pruning a snapshot to it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from builder.containerfile.document import Document
from builder.containerfile.reach import Reach, image_facts, prune, reach
from builder.containerfile.stages import ImageFacts, Source
from builder.context.rules import IgnoreRules
from builder.context.walk import scan

IMAGES = {name: ImageFacts(env=frozenset({"PATH", "HOME"})) for name in ("alpine", "golang:1.22", "img:1", "img")}


def only(*sources: str) -> Reach:
    return Reach(tuple(Source(1, "COPY", pattern) for pattern in sources), None, ())


def test_a_line_buildah_cannot_read_sends_everything() -> None:
    text = "FROM alpine\nLABEL x=" + "y" * 70_000 + "\nFROM alpine\nCOPY a /\n"
    found = reach(Document.from_text(text), {}, None, images=IMAGES)
    assert found.sources is None
    assert found.reason == "line 2 is longer than 64 KiB, where buildah stops reading the Containerfile"


def test_image_facts_reads_env_and_onbuild_history() -> None:
    plain = image_facts(["PATH=/bin", "HOME=/root"], history=["/bin/sh -c #(nop) CMD"])
    assert plain == ImageFacts(env=frozenset({"PATH", "HOME"}), onbuild=False)
    assert image_facts([], history=["/bin/sh -c #(nop) ONBUILD COPY . /app"]).onbuild
    assert image_facts([], onbuild=["COPY . /x"], history=[]).onbuild
    assert image_facts(["A=1"]).onbuild  # no history: cannot rule triggers out


# --------------------------------------------------------------------------------------------------------------
# needs / could_need_below


@pytest.mark.parametrize(
    ("sources", "path", "is_dir", "expected"),
    [
        (["src/*.py"], "src", True, True),  # on the way
        (["src/*.py"], "src", False, False),  # a file cannot be on the way
        (["src/*.py"], "src/a.py", False, True),
        (["src/*.py"], "src/.hidden.py", False, True),  # * matches dotfiles, as in Go
        (["src/*.py"], "src/a.txt", False, False),
        (["src/*.py"], "src/sub/a.py", False, False),  # * does not cross /
        (["src/*.py"], "src/pkg.py/inner.txt", False, True),  # below a match
        (["src/*.py"], "srcx", True, False),
        (["src/*/config.yml"], "src/a", True, True),
        (["src/*/config.yml"], "src/a/config.yml", False, True),
        (["src/*/config.yml"], "src/a/b", True, False),
        (["src/*/config.yml"], "src/a/b/config.yml", False, False),
        (["src"], "src", False, True),  # a file named src
        (["src"], "src", True, True),
        (["src"], "src/deep/er/file", False, True),  # everything below a directory
        (["src"], "srcfile", False, False),
        (["a?c"], "abc", False, True),
        (["a?c"], "ac", False, False),
        (["[a-c]x"], "bx", False, True),
        (["[^a-c]x"], "bx", False, False),
        (["[^a-c]x"], "dx", False, True),
        (["a\\*b"], "a*b", False, True),
        (["a\\*b"], "axb", False, False),
        (["x[1]"], "x1", False, True),  # [1] is a class in Go's glob
        (["x[1]"], "x[1]", False, False),
        ([], "anything", True, False),
        (["lib/a["], "lib/whatever", False, True),  # malformed (only in a hand-built Reach): matches any name
    ],
)
def test_needs(sources: list[str], path: str, is_dir: bool, expected: bool) -> None:
    assert only(*sources).needs(path, is_dir) is expected


@pytest.mark.parametrize(
    ("sources", "directory", "expected"),
    [
        (["src/*/config.yml"], "", True),
        (["src/*/config.yml"], "src", True),
        (["src/*/config.yml"], "src/a", True),
        (["src/*/config.yml"], "src/a/b", False),
        (["src/*/config.yml"], "docs", False),
        (["docs"], "docs/deep/down", True),
        (["a/b/c.txt"], "a", True),
        (["a/b/c.txt"], "a/b", True),
        (["a/b/c.txt"], "a/c", False),
    ],
)
def test_could_need_below(sources: list[str], directory: str, expected: bool) -> None:
    assert only(*sources).could_need_below(directory) is expected


def test_everything_needs_everything() -> None:
    everything = Reach(None, "because", ())
    assert everything.needs("x/y", False) and everything.could_need_below("deep/dir")


# --------------------------------------------------------------------------------------------------------------
# prune


def make_tree(root: Path, files: list[str], links: dict[str, str] | None = None) -> Path:
    for name in files:
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(name)
    for name, target in (links or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / name)
    return root


def pruned_paths(root: Path, text: str, keep: tuple[str, ...] = ("Containerfile",)) -> list[str]:
    snapshot = scan(root, IgnoreRules())
    found = reach(Document.from_text(text), {}, None, images=IMAGES)
    return [entry.path for entry in prune(snapshot, found, keep).entries]


def test_prune_keeps_matches_their_parents_and_the_kept_files(tmp_path: Path) -> None:
    root = make_tree(tmp_path, ["Containerfile", "src/app/main.py", "src/app/util.txt", "src/lib/x.py",
                                "docs/index.md", "node_modules/big/file.js", "empty/", "README"])
    snapshot = scan(root, IgnoreRules())
    found = reach(Document.from_text("FROM alpine\nCOPY src/*/*.py README /app/\n"), {}, None, images=IMAGES)
    pruned = prune(snapshot, found, keep=["Containerfile"])
    assert [entry.path for entry in pruned.entries] == [
        "Containerfile", "README", "src", "src/app", "src/app/main.py", "src/lib", "src/lib/x.py"]
    assert pruned.file_count == 4 and pruned.total_size == sum(
        len(name) for name in ("Containerfile", "README", "src/app/main.py", "src/lib/x.py"))
    # removed: src/app/util.txt, docs (with its file: once), node_modules (once), empty
    assert pruned.excluded_count == snapshot.excluded_count + 4
    assert pruned.pruned_dirs == snapshot.pruned_dirs and pruned.root == snapshot.root


def test_prune_everything_returns_the_snapshot(tmp_path: Path) -> None:
    root = make_tree(tmp_path, ["Containerfile", "a", "b/c"])
    snapshot = scan(root, IgnoreRules())
    assert prune(snapshot, reach(Document.from_text("FROM alpine\nCOPY . /\n"), {}, None, images=IMAGES)) is snapshot


def test_prune_follows_symlinks_the_build_follows(tmp_path: Path) -> None:
    root = make_tree(tmp_path, ["Containerfile", "real/f", "real/g", "other/h", "target.txt", "unrelated/u"],
                     {"ld": "real", "file-link": "/target.txt", "inside/rel": "../other",
                      "copied/link": "../unrelated"})
    text = "FROM alpine\nCOPY ld/f /x/\nCOPY file-link /y\nCOPY inside/rel /z/\nCOPY copied /w/\n"
    assert pruned_paths(root, text) == [
        "Containerfile", "copied", "copied/link", "file-link", "inside", "inside/rel", "ld", "other", "other/h",
        "real", "real/f", "target.txt"]


def test_prune_gives_up_when_a_link_target_depends_on_the_path(tmp_path: Path) -> None:
    # a/b/up -> ../x: through `alias` (-> a/b) buildah resolves alias/../x lexically, i.e. x, not a/x
    root = make_tree(tmp_path, ["Containerfile", "a/b/keep", "a/x", "x", "y"], {"alias": "a/b", "a/b/up": "../x"})
    snapshot = scan(root, IgnoreRules())
    found = reach(Document.from_text("FROM alpine\nCOPY alias/up /dst\n"), {}, None, images=IMAGES)
    assert found.with_links(snapshot).sources is None
    assert "can also be reached through symlink alias" in (found.with_links(snapshot).reason or "")
    assert prune(snapshot, found) is snapshot


def test_prune_with_ignore_rules_only_narrows(tmp_path: Path) -> None:
    root = make_tree(tmp_path, ["Containerfile", ".containerignore", "src/a.py", "src/a.log", "bin/tool"])
    (root / ".containerignore").write_text("*.log\nsrc/*.log\n")
    snapshot = scan(root, IgnoreRules.load(root / ".containerignore"), root / ".containerignore")
    pruned = prune(snapshot, reach(Document.from_text("FROM alpine\nCOPY src /src\n"), {}, None, images=IMAGES),
                   keep=["Containerfile", ".containerignore"])
    assert [entry.path for entry in pruned.entries] == [".containerignore", "Containerfile", "src", "src/a.py"]
    assert pruned.excluded_count == snapshot.excluded_count + 1


def test_prune_sends_everything_when_an_escaped_wildcard_is_a_wildcard_to_buildah(tmp_path: Path) -> None:
    # podman copies dirx/f to /d/f (dir\*/f globs as dir*/f); pruning to the literal dir*/f built another image.
    root = make_tree(tmp_path, ["Containerfile", "dir*/f", "dirx/f", "other"])
    snapshot = scan(root, IgnoreRules())
    found = reach(Document.from_text("FROM alpine\nCOPY dir\\\\*/f /d/\n"), {}, None, images=IMAGES)
    assert prune(snapshot, found, keep=["Containerfile"]) is snapshot


@pytest.mark.parametrize(
    ("files", "containerfile", "reason"),
    [
        # buildah globs s/? (matching s/*), then globs s/* again: podman copies s/abc too
        (["s/*", "s/abc"], "COPY s/? /d/",
         "line 2: COPY s/? matches s/*, which buildah globs again as a pattern, so it may copy other files too"),
        # a[*]b matches the file a*b, which globbed again copies axb and ab as well
        (["a*b", "axb", "ab"], "COPY a[*]b /d/",
         "line 2: COPY a[*]b matches a*b, which buildah globs again as a pattern, so it may copy other files too"),
        (["[x]/f", "x/f"], "ONBUILD COPY */f /d/",
         "line 2: ONBUILD COPY */f matches [x]/f, which buildah globs again as a pattern, so it may copy other "
         "files too"),
    ],
)
def test_prune_sends_everything_when_a_match_is_globbed_again(tmp_path: Path, files: list[str], containerfile: str,
                                                              reason: str) -> None:
    root = make_tree(tmp_path, ["Containerfile", *files, "unrelated"])
    snapshot = scan(root, IgnoreRules())
    found = reach(Document.from_text(f"FROM alpine\n{containerfile}\n"), {}, None, images=IMAGES)
    assert found.sources is not None
    assert found.with_links(snapshot).reason == reason
    assert prune(snapshot, found, keep=["Containerfile"]) is snapshot


def test_names_with_wildcards_that_no_copy_matches_still_prune(tmp_path: Path) -> None:
    root = make_tree(tmp_path, ["Containerfile", "src/a.py", "odd[1]/x", "b*"])
    found = reach(Document.from_text("FROM alpine\nCOPY src /s\nRUN --mount=type=bind,source=b*,target=/m true\n"),
                  {}, None, images=IMAGES)
    assert pruned_paths(root, "FROM alpine\nCOPY src /s\n") == ["Containerfile", "src", "src/a.py"]
    assert found.with_links(scan(root, IgnoreRules())).sources == found.sources  # a mount is not globbed
