"""builder.inputs.cachefiles: where the cache lives, and its private, atomically replaced files."""

from __future__ import annotations

import os
import time
from pathlib import Path

from builder.inputs.cachefiles import cache_dir, prune, write_private


def test_the_cache_location_follows_xdg(tmp_path: Path) -> None:
    assert cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "imgctl"
    assert cache_dir({"XDG_CACHE_HOME": "relative", "HOME": "/home/u"}) == Path("/home/u/.cache/imgctl")
    assert cache_dir({"HOME": "/home/u"}) == Path("/home/u/.cache/imgctl")


def test_files_are_private_and_replaced_whole(tmp_path: Path) -> None:
    directory = tmp_path / "cache" / "imgctl"
    target = directory / "folder" / "file.json"
    assert write_private(directory, target, b"one") and write_private(directory, target, b"two")
    assert target.read_bytes() == b"two"
    assert (directory.stat().st_mode & 0o777) == (target.parent.stat().st_mode & 0o777) == 0o700
    assert (target.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["file.json"]  # no temporary file left behind
    (tmp_path / "blocked").write_text("a file where a directory should be")
    assert not write_private(tmp_path / "blocked", tmp_path / "blocked" / "f" / "x", b"x")


def test_prune_keeps_the_newest_files_and_old_temporaries_go(tmp_path: Path) -> None:
    now = time.time()
    for index in range(5):
        (tmp_path / f"{index}.json").write_text("x")
        os.utime(tmp_path / f"{index}.json", (now - 100 * index, now - 100 * index))
    for name, age in ((".fresh.imgctl-partial", 10), (".stale.imgctl-partial", 2 * 86400)):
        (tmp_path / name).write_text("x")
        os.utime(tmp_path / name, (now - age, now - age))
    prune(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".fresh.imgctl-partial", "0.json", "1.json"]
    prune(tmp_path, max_age=50)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".fresh.imgctl-partial", "0.json"]
