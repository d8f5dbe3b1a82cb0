"""builder.inputs.hashcache: file hashes keyed by stat data, remembered context digests, and their files."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import builder.inputs.filehash as filehash_module
import builder.inputs.hashcache as hashcache_module
from builder.inputs.digest import compute
from builder.inputs.explain import explain
from builder.inputs.filehash import ContentHash
from builder.inputs.hashcache import HashCache
from tests.unit.inputs.project import BASES, FILES, OLD, PLAN_SCRIPT_IMPORTS, Project, age, file_count, write


def test_cache_counters_and_persistence(project: Project) -> None:
    files = file_count(project)
    total = sum(len(data) for name, data in FILES.items() if name.startswith("ctx/"))
    cold = project.cache()
    project.compute(cache=cold)
    assert (cold.hits, cold.misses, cold.bytes_read) == (0, files, total)
    assert len(project.shard_files()) == 1
    walked = project.cache()
    project.compute(cache=walked)
    # The unchanged walk answers for the whole context: not one file is looked up.
    assert (walked.tree_hits, walked.hits, walked.misses, walked.bytes_read) == (1, 0, 0, 0)
    project.forget_walks()
    warm = project.cache()
    project.compute(cache=warm)
    assert (warm.tree_hits, warm.hits, warm.misses, warm.bytes_read) == (0, files, 0, 0)


def test_the_cache_file_is_private_and_written_only_when_something_changed(project: Project) -> None:
    project.compute()
    [shard] = project.shard_files()
    [walks] = project.walk_files()
    assert (shard.parent.parent.stat().st_mode & 0o777) == 0o700
    assert (shard.stat().st_mode & 0o777) == 0o600
    assert (walks.parent.stat().st_mode & 0o777) == 0o700 and (walks.stat().st_mode & 0o777) == 0o600
    stamp = shard.stat().st_mtime_ns
    os.utime(shard, ns=(stamp - 10**9, stamp - 10**9))
    project.compute()
    assert shard.stat().st_mtime_ns == stamp - 10**9
    (project.ctx / "src" / "util.py").unlink()
    project.compute()
    document = json.loads(shard.read_text())
    assert "src/util.py" not in document["path"]  # pruned with the file
    assert len(document["path"]) == len(document["sha256"]) == file_count(project)


def test_a_recently_written_file_is_not_cached(project: Project) -> None:
    project.compute()
    write(project.ctx / "src" / "app.py", b"print('new')\n", when=None)  # mtime: now
    first = project.cache()
    project.compute(cache=first)
    assert first.misses == 1
    again = project.cache()
    project.compute(cache=again)
    assert again.misses == 1  # a second write in the same timestamp tick would not show


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "wrong version", "foreign", "short column",
                                    "bad number", "duplicate path", "bad digest", "other root", "directory"])
def test_a_damaged_cache_file_is_ignored_and_rebuilt(project: Project, damage: str) -> None:
    reference = project.compute()
    [shard] = project.shard_files()
    text = shard.read_text()
    document = json.loads(text)
    if damage == "garbage":
        shard.write_bytes(os.urandom(300))
    elif damage == "truncated":
        shard.write_text(text[: len(text) // 2])
    elif damage == "empty":
        shard.write_text("")
    elif damage == "wrong version":
        shard.write_text(json.dumps({**document, "version": 99}))
    elif damage == "foreign":
        shard.write_text(json.dumps({"path": ["src/app.py"], "sha256": "whatever"}))
    elif damage == "short column":
        document["inode"].pop()
        shard.write_text(json.dumps(document))
    elif damage == "bad number":
        document["mtime_ns"][0] = "1700000000"
        shard.write_text(json.dumps(document))
    elif damage == "duplicate path":
        document["path"][1] = document["path"][0]
        shard.write_text(json.dumps(document))
    elif damage == "bad digest":
        document["sha256"][0] = "Z" * 64
        shard.write_text(json.dumps(document))
    elif damage == "other root":
        shard.write_text(json.dumps({**document, "root": "/elsewhere"}))
    else:
        shard.unlink()
        shard.mkdir()
    project.forget_walks()
    cache = project.cache()
    assert project.compute(cache=cache).digest == reference.digest
    assert (cache.hits, cache.misses) == (0, file_count(project))
    project.forget_walks()
    rebuilt = project.cache()
    assert project.compute(cache=rebuilt).digest == reference.digest
    if damage == "directory":
        assert rebuilt.hits == 0 and shard.is_dir()  # never deleted, never written over
    else:
        assert rebuilt.hits == file_count(project)


def test_an_unwritable_cache_never_fails_a_build(project: Project, caplog: pytest.LogCaptureFixture) -> None:
    project.cache_home.parent.mkdir(parents=True, exist_ok=True)
    project.cache_home.write_text("a file where the cache directory should be")
    cache = project.cache()
    with caplog.at_level("DEBUG", logger="imgctl.inputs"):
        result = project.compute(cache=cache)
        cache.remember(result)
        cache.save()
    assert result.digest == compute(project.plan(), BASES, HashCache(None)).digest
    assert "cannot write the cache file" in caplog.text


def test_concurrent_processes_leave_a_valid_cache(project: Project) -> None:
    for index in range(200):
        write(project.ctx / "many" / f"{index}.txt", b"%d" % index)
    script = (
        "import os, sys\n"
        + PLAN_SCRIPT_IMPORTS
        + "now = datetime(2026, 11, 24, tzinfo=timezone.utc)\n"
        "profile = load_profile(Path(sys.argv[1]) / 'profiles', 'p', env={}, now=now)\n"
        "for round in range(5):\n"
        "    when = 1e9 + round  # an old, new mtime: a miss that gets cached, so every round writes\n"
        "    os.utime(profile.context / 'src' / 'app.py', (when, when))\n"
        "    cache = HashCache.open({'XDG_CACHE_HOME': sys.argv[2]})\n"
        "    compute(plan_build(profile, snapshot(profile), Provenance(created=now)), {}, cache)\n"
        "    cache.save()\n"
    )
    project.plan()  # writes the profile
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    runs = [subprocess.Popen([sys.executable, "-c", script, str(project.root), str(project.cache_home)], env=env)
            for _ in range(4)]
    assert [run.wait(timeout=120) for run in runs] == [0, 0, 0, 0]
    [shard] = project.shard_files()
    json.loads(shard.read_text())
    assert not [p for p in shard.parent.iterdir() if p.name.endswith(".imgctl-partial")]
    [walks] = project.walk_files()
    json.loads(walks.read_text())
    project.forget_walks()
    cache = project.cache()
    project.compute(cache=cache)
    # src/app.py may miss: another process may have set its times after the last writer read them.
    assert cache.hits >= file_count(project) - 1


# ------------------------------------------------------------------------------- remembered walks


def test_an_unchanged_walk_gives_the_same_inputs_as_reading_every_file(project: Project) -> None:
    project.compute()
    cache = project.cache()
    walked = project.compute(cache=cache)
    assert cache.tree_hits == 1 and (cache.hits, cache.misses) == (0, 0)
    fresh = compute(project.plan(), BASES, HashCache(None))
    assert walked.digest == fresh.digest
    # The per-file components are worked out when asked for, and agree with a full read.
    assert dict(walked.components) == dict(fresh.components)
    assert walked.to_label() == fresh.to_label()


def test_a_touched_file_costs_one_hash_and_no_new_digest(project: Project) -> None:
    reference = project.compute()
    age(project.ctx / "src" / "app.py", OLD - 3600)
    cache = project.cache()
    assert project.compute(cache=cache).digest == reference.digest
    assert (cache.tree_hits, cache.misses, cache.hits) == (0, 1, file_count(project) - 1)
    again = project.cache()
    assert project.compute(cache=again).digest == reference.digest
    assert (again.tree_hits, again.misses) == (1, 0)


def test_a_changed_file_is_seen_even_with_its_old_size_and_mtime(project: Project) -> None:
    reference = project.compute()
    target = project.ctx / "src" / "app.py"
    before = target.stat()
    target.write_bytes(b"print('APP')\n")  # same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # ctime still moves
    cache = project.cache()
    changed = project.compute(cache=cache)
    assert changed.digest != reference.digest and cache.tree_hits == 0
    assert explain(reference.components, changed) == ["src/app.py changed"]


@pytest.mark.parametrize("change", ["added file", "removed file", "mode", "new directory", "symlink target"])
def test_every_change_to_the_walk_misses_the_remembered_digest(project: Project, change: str) -> None:
    (project.ctx / "link").symlink_to("README")
    reference = project.compute()
    if change == "added file":
        write(project.ctx / "src" / "new.py", b"x")
    elif change == "removed file":
        (project.ctx / "src" / "util.py").unlink()
    elif change == "mode":
        (project.ctx / "src" / "util.py").chmod(0o755)
    elif change == "new directory":
        (project.ctx / "empty").mkdir()
    else:
        (project.ctx / "link").unlink()
        (project.ctx / "link").symlink_to("src")
    cache = project.cache()
    assert project.compute(cache=cache).digest != reference.digest
    assert cache.tree_hits == 0


def test_a_walk_with_a_recently_written_file_is_not_remembered(project: Project) -> None:
    project.compute()
    write(project.ctx / "src" / "app.py", b"print('new')\n", when=None)  # mtime: now
    project.compute()
    cache = project.cache()
    project.compute(cache=cache)
    assert cache.tree_hits == 0 and cache.misses == 1


@pytest.mark.parametrize("damage", ["garbage", "wrong version", "other root", "bad digest", "not a list"])
def test_a_damaged_walk_file_is_ignored_and_rebuilt(project: Project, damage: str) -> None:
    reference = project.compute()
    [walks] = project.walk_files()
    document = json.loads(walks.read_text())
    if damage == "garbage":
        walks.write_bytes(os.urandom(200))
    elif damage == "wrong version":
        walks.write_text(json.dumps({**document, "version": 99}))
    elif damage == "other root":
        walks.write_text(json.dumps({**document, "root": "/elsewhere"}))
    elif damage == "bad digest":
        document["walks"][0][1] = "sha256:nothex"
        walks.write_text(json.dumps(document))
    else:
        walks.write_text(json.dumps({**document, "walks": {"a": "b"}}))
    cache = project.cache()
    assert project.compute(cache=cache).digest == reference.digest
    assert cache.tree_hits == 0 and cache.hits == file_count(project)
    again = project.cache()
    assert project.compute(cache=again).digest == reference.digest and again.tree_hits == 1


def test_profiles_reading_different_parts_of_one_context_each_keep_their_walk(project: Project) -> None:
    narrow = 'ignore = ["README"]\n'
    project.compute()
    project.compute(narrow)
    for extra in ("", narrow, ""):
        cache = project.cache()
        project.compute(extra, cache=cache)
        assert cache.tree_hits == 1


def test_only_the_last_walks_are_remembered(project: Project) -> None:
    target = project.ctx / "src" / "app.py"
    for round in range(hashcache_module.TREE_KEEP + 3):
        age(target, OLD - round)  # a new ctime too: every round is a new walk
        project.compute()
    [walks] = project.walk_files()
    assert len(json.loads(walks.read_text())["walks"]) == hashcache_module.TREE_KEEP
    cache = project.cache()
    project.compute(cache=cache)
    assert cache.tree_hits == 1


# ------------------------------------------------------------------------------------ single files


def test_digest_of_a_single_file(tmp_path: Path) -> None:
    path = write(tmp_path / "data.bin", b"abc" * 1000)
    cache = HashCache(tmp_path / "cache")
    assert cache.digest(path, os.lstat(path)) == hashlib.sha256(b"abc" * 1000).hexdigest()
    assert (cache.misses, cache.bytes_read) == (1, 3000)
    cache.save()
    again = HashCache(tmp_path / "cache")
    assert again.digest(path, os.lstat(path)) == hashlib.sha256(b"abc" * 1000).hexdigest()
    assert (again.hits, again.bytes_read) == (1, 0)


def test_a_file_changing_while_it_is_hashed_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "big.bin", b"\0" * (3 << 20))
    before = os.lstat(path)
    real_read = os.read
    calls = []

    def read_and_append(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        if not calls:
            calls.append(n)
            with open(path, "ab") as out:
                out.write(b"more")
        return data

    monkeypatch.setattr(filehash_module.os, "read", read_and_append)
    cache = HashCache(tmp_path / "cache")
    cache.digest(path, before)
    monkeypatch.undo()
    assert calls == [1 << 20]  # streamed in 1 MiB chunks
    cache.save()
    age(path)
    again = HashCache(tmp_path / "cache")
    assert again.digest(path, os.lstat(path)) == hashlib.sha256(b"\0" * (3 << 20) + b"more").hexdigest()
    assert again.misses == 1


def test_a_stale_stat_is_not_cached(tmp_path: Path) -> None:
    path = write(tmp_path / "f", b"one")
    stale = os.lstat(path)
    write(path, b"two")
    cache = HashCache(tmp_path / "cache")
    assert cache.digest(path, stale) == hashlib.sha256(b"two").hexdigest()
    cache.save()
    again = HashCache(tmp_path / "cache")
    again.digest(path, stale)
    assert again.misses == 1


def test_a_file_hashed_as_it_is_read_elsewhere_is_recorded(tmp_path: Path) -> None:
    # What a writer that sends the file anyway does: feed the bytes it sends, then hand over the result.
    path = write(tmp_path / "sent.bin", b"abc" * 1000)
    walked = os.lstat(path)
    cache = HashCache(tmp_path / "cache")
    with open(path, "rb") as source:
        hashed = ContentHash(os.fstat(source.fileno()))
        while chunk := source.read(512):
            hashed.update(chunk)
        after = os.fstat(source.fileno())
    assert cache.record(path, walked, hashed, after) == hashlib.sha256(b"abc" * 1000).hexdigest()
    assert (cache.hits, cache.misses, cache.bytes_read, cache.unsettled) == (0, 0, 0, 0)
    cache.save()
    again = HashCache(tmp_path / "cache")
    assert again.digest(path, os.lstat(path)) == hashlib.sha256(b"abc" * 1000).hexdigest()
    assert (again.hits, again.bytes_read) == (1, 0)


def test_a_file_recorded_with_stat_data_that_moved_is_not_cached(tmp_path: Path) -> None:
    path = write(tmp_path / "sent.bin", b"one")
    walked = os.lstat(path)
    hashed = ContentHash(walked)
    hashed.update(b"one")
    write(path, b"two")  # replaced between the walk and the end of the read: its ctime moved
    cache = HashCache(tmp_path / "cache")
    cache.record(path, walked, hashed, os.lstat(path))
    assert cache.unsettled == 1
    cache.save()
    again = HashCache(tmp_path / "cache")
    assert again.digest(path, os.lstat(path)) == hashlib.sha256(b"two").hexdigest() and again.misses == 1
