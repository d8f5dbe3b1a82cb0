"""builder.inputs.filehash: one file's sha256, and whether its stat data may answer for it later."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from builder.inputs.filehash import ChangedSinceScan, ContentHash, hash_files, stat_key
from tests.unit.inputs.project import write


def test_files_are_hashed_in_turn_with_the_key_to_cache_them_under(tmp_path: Path) -> None:
    old = write(tmp_path / "old", b"a" * 5000)
    new = write(tmp_path / "new", b"b", when=None)  # written just now
    results = hash_files([("old", str(old), os.lstat(old)), ("new", str(new), os.lstat(new))])
    assert results == [
        (hashlib.sha256(b"a" * 5000).hexdigest(), stat_key(os.lstat(old)), 5000),
        (hashlib.sha256(b"b").hexdigest(), None, 1),  # too recent to trust its stat data later
    ]


def test_strict_hashing_refuses_a_file_that_is_not_what_the_walk_saw(tmp_path: Path) -> None:
    path = write(tmp_path / "f", b"short")
    walked = os.lstat(path)
    write(path, b"longer than before")
    assert hash_files([("f", str(path), walked)])[0][1] is None  # not strict: hashed as it is, not cached
    with pytest.raises(ChangedSinceScan):
        hash_files([("f", str(path), walked)], strict=True)
    path.unlink()
    path.mkdir()
    with pytest.raises(IsADirectoryError):
        hash_files([("f", str(path), os.lstat(path))])


def test_content_fed_by_another_reader_gets_the_same_sum_and_key(tmp_path: Path) -> None:
    path = write(tmp_path / "f", b"x" * 3000)
    walked = os.lstat(path)
    with open(path, "rb") as source:
        hashed = ContentHash(os.fstat(source.fileno()))
        for chunk in iter(lambda: source.read(1000), b""):
            hashed.update(chunk)
        after = os.fstat(source.fileno())
    assert hashed.finish(walked, after) == hash_files([("f", str(path), walked)])[0][:2]
    short = ContentHash(walked)
    short.update(b"x" * 2999)  # a reader that stopped early
    assert short.finish(walked, after)[1] is None
