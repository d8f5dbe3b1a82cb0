"""builder.inputs.detail: every build's components kept on this machine, keyed by the input digest, bounded."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from builder.inputs.detail import DETAIL_KEEP, DetailStore
from builder.inputs.digest import Inputs, compute
from builder.inputs.explain import NO_DETAIL, explain
from builder.inputs.hashcache import HashCache
from builder.inputs.record import decode_label
from tests.unit.inputs.project import BASE, BASES, Project


def test_a_build_keeps_its_detail_privately_under_its_digest(project: Project) -> None:
    inputs = project.compute()
    assert project.detail_files() == []  # working out the digest alone keeps nothing
    labels = project.built(inputs)
    [file] = project.detail_files()
    assert file.name == inputs.digest.partition(":")[2] + ".json.gz"
    assert (file.stat().st_mode & 0o777) == 0o600 and (file.parent.stat().st_mode & 0o777) == 0o700
    document = json.loads(gzip.decompress(file.read_bytes()))
    assert document["digest"] == inputs.digest
    assert "file:src/app.py" in document["detail"]["c"]
    recorded = project.recorded(labels)
    assert recorded is not None and recorded.detailed and set(recorded) == set(inputs.components)


def test_inputs_with_an_unknown_base_keep_no_detail(project: Project) -> None:
    project.built(project.compute(bases={BASE: None}))
    assert project.detail_files() == []


def test_only_the_last_builds_keep_their_detail(tmp_path: Path) -> None:
    cache = HashCache(tmp_path)
    builds = [Inputs.of({"file:a": f"{index:064x}"}) for index in range(DETAIL_KEEP + 3)]
    for index, inputs in enumerate(builds):
        cache.remember(inputs)
        cache.save()
        file = tmp_path / "inputs" / (inputs.digest.partition(":")[2] + ".json.gz")
        os.utime(file, (1e9 + index, 1e9 + index))  # one build per second, in order
    assert len(list((tmp_path / "inputs").iterdir())) == DETAIL_KEEP
    latest = Inputs.of({"file:a": "f" * 64})
    assert explain(decode_label(builds[0].to_label(), HashCache(tmp_path)), latest) == [NO_DETAIL]
    assert explain(decode_label(builds[-1].to_label(), HashCache(tmp_path)), latest) == ["a changed"]


@pytest.mark.parametrize("damage", ["garbage", "not gzip json", "other digest", "other version", "directory"])
def test_damaged_detail_is_ignored_and_written_again(tmp_path: Path, damage: str) -> None:
    inputs = Inputs.of({"file:a": "0" * 64})
    store = DetailStore(tmp_path)
    store.remember(inputs.digest, lambda: inputs.components)
    store.save()
    file = tmp_path / "inputs" / (inputs.digest.partition(":")[2] + ".json.gz")
    if damage == "garbage":
        file.write_bytes(os.urandom(100))
    elif damage == "not gzip json":
        file.write_bytes(gzip.compress(b"{"))
    elif damage == "other digest":
        other = {"digest": "sha256:" + "1" * 64, "detail": {"v": 1, "c": {}}}
        file.write_bytes(gzip.compress(json.dumps(other).encode()))
    elif damage == "other version":
        file.write_bytes(gzip.compress(json.dumps({"digest": inputs.digest, "detail": {"v": 9, "c": {}}}).encode()))
    else:
        file.unlink()
        file.mkdir()
    assert DetailStore(tmp_path).recall(inputs.digest) is None
    again = DetailStore(tmp_path)
    again.remember(inputs.digest, lambda: inputs.components)
    again.save()  # never raises, not even over a directory
    if damage != "directory":
        assert DetailStore(tmp_path).recall(inputs.digest) == {"file:a": "0" * 16}


def test_memory_only_detail_is_recalled_in_the_same_process() -> None:
    inputs = Inputs.of({"file:a": "0" * 64, f"base:{BASE}": "sha256:" + "ab" * 32})
    store = DetailStore(None)
    assert store.recall(inputs.digest) is None
    store.remember(inputs.digest, lambda: inputs.components)
    store.save()
    assert store.recall(inputs.digest) == {"file:a": "0" * 16, f"base:{BASE}": "sha256:" + "ab" * 32}


def test_a_context_changed_before_the_detail_is_saved_costs_the_detail_never_the_build(project: Project) -> None:
    project.compute()
    cache = project.cache()
    inputs = compute(project.plan(), BASES, cache)
    assert cache.tree_hits == 1  # the per-file components are worked out only when the detail is saved
    for file in project.shard_files():
        file.unlink()  # so that they are read again, as for a file the hash cache does not know
    (project.ctx / "src" / "util.py").unlink()  # while the build ran
    cache.remember(inputs)
    cache.save()
    assert project.detail_files() == []
