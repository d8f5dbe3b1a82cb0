"""builder.context.walk: scanning real directories (read back through the tar where that shows more)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import builder.context.walk as context_module
from builder.context.dialects import DIALECTS
from builder.context.tar import tar_stream
from builder.context.walk import DIR, FILE, SYMLINK, scan
from builder.errors import ConfigError
from tests.unit.context.conftest import paths, read_tar, rules, write


def test_scan_keeps_everything_without_rules(tree: Path) -> None:
    snapshot = scan(tree, rules())
    assert paths(snapshot) == [
        "Containerfile", "build", "build/out.bin", "node_modules", "node_modules/left-pad",
        "node_modules/left-pad/deep", "node_modules/left-pad/deep/keep.txt", "node_modules/left-pad/index.js",
        "src", "src/app.py", "src/run.sh"]
    assert snapshot.root == tree and snapshot.ignore_file is None
    assert snapshot.file_count == 6
    assert snapshot.total_size == 13 + 12 + 10 + 1000 + 4 + 5000
    assert snapshot.excluded_count == 0 and snapshot.pruned_dirs == ()
    app = next(entry for entry in snapshot.entries if entry.path == "src/app.py")
    assert (app.kind, app.size, app.mode, app.mtime, app.link) == (FILE, 12, 0o640, 1_600_000_000.75, None)
    assert next(entry for entry in snapshot.entries if entry.path == "src").kind == DIR


@pytest.mark.parametrize("dialect", DIALECTS)
def test_excluded_dirs_are_pruned_without_being_read(tree: Path, dialect: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tree / "node_modules" / "locked"
    write(locked / "secret", b"s")
    locked.chmod(0)
    listed: list[str] = []
    real_scandir = os.scandir

    def spy(path):
        listed.append(os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(context_module.os, "scandir", spy)
    try:
        snapshot = scan(tree, rules("**/node_modules", "build", dialect=dialect), Path(".containerignore"))
    finally:
        locked.chmod(0o755)
    assert paths(snapshot) == ["Containerfile", "src", "src/app.py", "src/run.sh"]
    assert snapshot.pruned_dirs == ("build", "node_modules")
    assert snapshot.excluded_count == 2
    assert snapshot.ignore_file == Path(".containerignore")
    assert not any("node_modules" in path or "build" in path for path in listed)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_exception_re_includes_a_file_deep_inside_an_excluded_dir(tree: Path, dialect: str) -> None:
    snapshot = scan(tree, rules("node_modules", "!node_modules/left-pad/deep/keep.txt", dialect=dialect))
    assert paths(snapshot) == [
        "Containerfile", "build", "build/out.bin", "node_modules", "node_modules/left-pad",
        "node_modules/left-pad/deep", "node_modules/left-pad/deep/keep.txt", "src", "src/app.py", "src/run.sh"]
    assert snapshot.pruned_dirs == ()
    assert snapshot.excluded_count == 1  # index.js; its directories are kept as parents of keep.txt
    members = read_tar(snapshot)
    assert members["node_modules/left-pad/deep"][0].isdir()
    assert members["node_modules/left-pad/deep/keep.txt"][1] == b"keep"


def test_excluded_dirs_walked_for_nothing_count_once(tree: Path) -> None:
    snapshot = scan(tree, rules("node_modules", "!node_modules/*/nothing-here"))
    assert "node_modules" not in paths(snapshot)
    # "deep" cannot hold a */nothing-here, so it is pruned (1); index.js (1); then left-pad and node_modules,
    # walked for the exception but found to hold nothing kept (1 each).
    assert snapshot.pruned_dirs == ("node_modules/left-pad/deep",)
    assert snapshot.excluded_count == 4


def test_symlinks_are_stored_never_followed(tree: Path, tmp_path: Path) -> None:
    outside = write(tmp_path / "outside" / "secret.txt", b"do not read")
    (tree / "inside-link").symlink_to("src/app.py")
    (tree / "outside-link").symlink_to(outside)
    (tree / "dir-link").symlink_to(tmp_path / "outside")
    (tree / "dangling").symlink_to("/no/such/file")
    snapshot = scan(tree, rules())
    by_path = {entry.path: entry for entry in snapshot.entries}
    assert by_path["outside-link"].kind == SYMLINK and by_path["outside-link"].link == str(outside)
    assert by_path["dir-link"].kind == SYMLINK and by_path["dir-link"].size == 0
    assert not any(path.startswith("dir-link/") for path in by_path)
    members = read_tar(snapshot)
    for name, target in [("inside-link", "src/app.py"), ("outside-link", str(outside)),
                         ("dir-link", str(tmp_path / "outside")), ("dangling", "/no/such/file")]:
        member = members[name][0]
        assert member.issym() and member.linkname == target and member.size == 0
    assert b"do not read" not in b"".join(tar_stream(snapshot))


def test_special_files_are_skipped(tree: Path) -> None:
    os.mkfifo(tree / "src" / "pipe")
    snapshot = scan(tree, rules())
    assert snapshot.skipped_special == ("src/pipe",)
    assert "src/pipe" not in paths(snapshot)
    assert "src/pipe" not in read_tar(snapshot)
    assert scan(tree, rules("src/pipe")).skipped_special == ()


def test_unreadable_file_is_a_config_error(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tree / "src" / "app.py").chmod(0)
    # Root reads anything, so ask os.access the way an ordinary user would get it answered.
    monkeypatch.setattr(context_module.os, "access", lambda path, mode: not str(path).endswith("app.py"))
    with pytest.raises(ConfigError) as caught:
        scan(tree, rules())
    assert "src/app.py" in str(caught.value) and caught.value.exit_code == 2
    assert len(scan(tree, rules("**/*.py")).entries) > 0  # excluded: never checked


def test_unreadable_directory_is_a_config_error(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_scandir = os.scandir

    def refuse(path):
        if os.fspath(path).endswith("build"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(context_module.os, "scandir", refuse)
    with pytest.raises(ConfigError, match="cannot read directory build"):
        scan(tree, rules())
    scan(tree, rules("build"))  # pruned, so never listed


def test_largest_dirs(tmp_path: Path) -> None:
    write(tmp_path / "node_modules" / "big" / "a.js", b"x" * 3000)
    write(tmp_path / "node_modules" / "big" / "lib" / "b.js", b"x" * 2000)
    write(tmp_path / "node_modules" / "small" / "c.js", b"x" * 100)
    write(tmp_path / "src" / "main.py", b"x" * 500)
    write(tmp_path / "README", b"x" * 10000)
    snapshot = scan(tmp_path, rules())
    assert snapshot.largest_dirs() == [
        ("node_modules", 5100, 3), ("node_modules/big", 5000, 2), ("src", 500, 1), ("node_modules/small", 100, 1)]
    assert snapshot.largest_dirs(n=1) == [("node_modules", 5100, 3)]
    assert snapshot.largest_dirs(depth=3)[2] == ("node_modules/big/lib", 2000, 1)


def test_scan_rejects_a_missing_context(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        scan(tmp_path / "missing", rules())


NAMES = ["a", "b", "node_modules", "keep.txt", ".git", "x.py"]
PATTERNS = ["a", "b", "node_modules", "**/node_modules", "*.py", "!keep.txt", "!**/keep.txt", "!a/b", "*",
            "!*/x.py", ".git", "**/b/**", "!node_modules/a"]
trees = st.recursive(
    st.none(), lambda children: st.dictionaries(st.sampled_from(NAMES), children, min_size=1, max_size=3),
    max_leaves=12).filter(lambda tree: isinstance(tree, dict))


def build_tree(root: Path, tree: dict) -> set[str]:
    created = set()
    for name, child in tree.items():
        path = root / name
        if child is None:
            path.write_bytes(name.encode())
            created.add(name)
        else:
            path.mkdir()
            created.add(name)
            created |= {f"{name}/{below}" for below in build_tree(path, child)}
    return created


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])
@given(tree=trees, patterns=st.lists(st.sampled_from(PATTERNS), max_size=4), dialect=st.sampled_from(DIALECTS))
def test_scan_matches_brute_force(tmp_path_factory: pytest.TempPathFactory, tree: dict, patterns: list[str],
                                  dialect: str) -> None:
    root = tmp_path_factory.mktemp("ctx")
    created = build_tree(root, tree)
    got = rules(*patterns, dialect=dialect)
    kept_files = {path for path in created if (root / path).is_file() and not got.excluded(path)}
    kept_dirs = {path for path in created if (root / path).is_dir() and
                 (not got.excluded(path) or any(kept.startswith(path + "/") for kept in kept_files))}
    snapshot = scan(root, got)
    assert set(paths(snapshot)) == kept_files | kept_dirs
    assert {entry.path for entry in snapshot.entries if entry.kind == FILE} == kept_files
    members = read_tar(snapshot)
    assert set(members) == kept_files | kept_dirs
    for path in kept_files:
        assert members[path][1] == (root / path).read_bytes()
    assert stat.S_ISDIR((root).stat().st_mode)


def test_scan_follows_the_rules_dialect(tmp_path: Path) -> None:
    write(tmp_path / "a+b")
    write(tmp_path / "aab")
    assert paths(scan(tmp_path, rules("a+b"))) == ["a+b"]  # buildah: "+" is a regexp operator
    assert paths(scan(tmp_path, rules("a+b", dialect="moby"))) == ["aab"]  # moby: a plain name
    assert scan(tmp_path, rules("a+b", dialect="moby")).rules.dialect == "moby"
