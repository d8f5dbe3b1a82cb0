"""builder.context: scanning real directories and streaming them as a tar."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import builder.context.walk as context_module
from builder.context.walk import DIR, FILE, SYMLINK, ContextSnapshot, scan, tar_stream
from builder.errors import ConfigError
from builder.context.rules import DIALECTS, IgnoreRules


def write(path: Path, data: bytes = b"x", mode: int | None = None, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mode is not None:
        path.chmod(mode)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def rules(*patterns: str, dialect: str = "buildah") -> IgnoreRules:
    return IgnoreRules.from_patterns(patterns, dialect=dialect)


def paths(snapshot: ContextSnapshot) -> list[str]:
    return [entry.path for entry in snapshot.entries]


def read_tar(snapshot: ContextSnapshot, **kwargs) -> dict[str, tuple[tarfile.TarInfo, bytes | None]]:
    data = b"".join(tar_stream(snapshot, **kwargs))
    assert len(data) % tarfile.RECORDSIZE == 0
    members = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for member in archive.getmembers():
            content = archive.extractfile(member).read() if member.isfile() else None
            members[member.name] = (member, content)
    return members


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    write(root / "Containerfile", b"FROM scratch\n")
    write(root / "src" / "app.py", b"print('hi')\n", mode=0o640, mtime=1_600_000_000.75)
    write(root / "src" / "run.sh", b"#!/bin/sh\n", mode=0o755)
    write(root / "node_modules" / "left-pad" / "index.js", b"x" * 1000)
    write(root / "node_modules" / "left-pad" / "deep" / "keep.txt", b"keep")
    write(root / "build" / "out.bin", b"\0" * 5000)
    return root


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


def test_tar_keeps_modes_and_mtimes_and_zeroes_owners(tree: Path) -> None:
    os.chown(tree / "src" / "app.py", 1234, 5678)
    (tree / "src").chmod(0o750)
    members = read_tar(scan(tree, rules()))
    app, content = members["src/app.py"]
    assert content == b"print('hi')\n"
    assert (app.mode, app.mtime, app.size) == (0o640, 1_600_000_000, 12)
    assert members["src/run.sh"][0].mode == 0o755
    assert members["src"][0].isdir() and members["src"][0].mode == 0o750
    for member, _ in members.values():
        assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", "")
    names = list(members)
    assert names.index("src") < names.index("src/app.py")


def test_tar_handles_long_and_non_ascii_names(tmp_path: Path) -> None:
    long_dir = "d" * 120
    write(tmp_path / long_dir / ("f" * 150), b"long")
    write(tmp_path / "données" / "été.txt", b"utf8")
    members = read_tar(scan(tmp_path, rules()))
    assert members[f"{long_dir}/{'f' * 150}"][1] == b"long"
    assert members["données/été.txt"][1] == b"utf8"


def test_extra_members_follow_the_context(tree: Path, tmp_path: Path) -> None:
    secret = write(tmp_path / "secret.env", b"TOKEN=1\n", mode=0o600, mtime=1_500_000_000)
    snapshot = scan(tree, rules("**"))
    assert snapshot.entries == ()
    data = b"".join(tar_stream(snapshot, {".containerfile.abc": b"FROM scratch\n",
                                          "run/secrets/token": secret}))
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        names = archive.getnames()
        assert names == ["run", "run/secrets", ".containerfile.abc", "run/secrets/token"]
        assert archive.extractfile(".containerfile.abc").read() == b"FROM scratch\n"
        token = archive.getmember("run/secrets/token")
        assert (token.mode, token.mtime, token.uid) == (0o600, 1_500_000_000, 0)
        assert archive.extractfile(token).read() == b"TOKEN=1\n"


@pytest.mark.parametrize("name", ["", "/etc/passwd", "../escape", "a/../../b", "./x"])
def test_extra_names_must_stay_inside(tree: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="relative path"):
        tar_stream(scan(tree, rules()), {name: b"x"})


def test_extra_members_do_not_silently_replace_context_files(tree: Path, tmp_path: Path) -> None:
    snapshot = scan(tree, rules())
    with pytest.raises(ConfigError, match="would replace"):
        tar_stream(snapshot, {"Containerfile": b"FROM other\n"})
    with pytest.raises(ConfigError, match="not a regular file"):
        tar_stream(snapshot, {"x": tmp_path})
    with pytest.raises(ConfigError, match="cannot read"):
        tar_stream(snapshot, {"x": tmp_path / "missing"})


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


@pytest.mark.parametrize("new_content", [b"", b"print('hi')\n# grew\n"])
def test_a_file_that_changed_size_stops_the_stream(tree: Path, new_content: bytes) -> None:
    snapshot = scan(tree, rules())
    (tree / "src" / "app.py").write_bytes(new_content)
    with pytest.raises(ConfigError, match=r"src/app.py changed size \(12 -> "):
        b"".join(tar_stream(snapshot))


def test_a_file_replaced_by_a_symlink_is_not_followed(tree: Path, tmp_path: Path) -> None:
    snapshot = scan(tree, rules())
    target = write(tmp_path / "elsewhere", b"print('no')\n")
    (tree / "src" / "app.py").unlink()
    (tree / "src" / "app.py").symlink_to(target)
    with pytest.raises(ConfigError, match="src/app.py"):
        b"".join(tar_stream(snapshot))


def test_memory_stays_bounded_for_a_large_file(tmp_path: Path) -> None:
    big = tmp_path / "ctx" / "big.img"
    big.parent.mkdir()
    with open(big, "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB without using the disk
    snapshot = scan(big.parent, rules())
    chunk_size = 256 * 1024
    tracemalloc.start()
    try:
        largest = total = 0
        for chunk in tar_stream(snapshot, chunk_size=chunk_size):
            largest = max(largest, len(chunk))
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total >= 50 * 1024 * 1024
    assert largest <= 2 * chunk_size
    assert peak < 8 * chunk_size


def test_chunks_have_the_asked_size(tree: Path) -> None:
    chunks = list(tar_stream(scan(tree, rules()), chunk_size=1024))
    assert all(len(chunk) == 1024 for chunk in chunks[:-1]) and 0 < len(chunks[-1]) <= 1024
    with pytest.raises(ValueError):
        tar_stream(scan(tree, rules()), chunk_size=10)


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
