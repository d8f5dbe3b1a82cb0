"""Writing a file the user named: atomic for regular files, written through for everything else."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from builder.errors import ConfigError
from builder.filewrite import output_file, write_bytes, write_text


def test_a_new_file_is_written_and_no_partial_file_stays(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_text(target, "{}\n")
    assert target.read_text() == "{}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_a_regular_file_is_replaced_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.tar"
    target.write_text("old")
    target.chmod(0o600)
    with pytest.raises(RuntimeError), output_file(target) as out:
        out.write(b"half")
        raise RuntimeError("the export failed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tar"]
    write_text(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_symlink_to_a_character_device_stays_a_link_and_the_device_stays(tmp_path: Path) -> None:
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    write_text(link, "discarded")
    assert link.is_symlink()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_text(fifo, "through the pipe")
    reader.join(timeout=10)
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_symlink_to_a_regular_file_replaces_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("old")
    (tmp_path / "link.txt").symlink_to("real.txt")
    write_text(tmp_path / "link.txt", "new")
    assert (tmp_path / "link.txt").is_symlink()
    assert (tmp_path / "real.txt").read_text() == "new"


def test_a_directory_or_a_missing_parent_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        write_text(tmp_path, "x", key="--output")
    with pytest.raises(ConfigError, match="does not exist"):
        write_text(tmp_path / "missing" / "out", "x", key="--output")


def test_a_new_file_gets_the_default_mode_and_a_private_one_stays_private(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_text(tmp_path / "result.json", "{}")
        write_bytes(tmp_path / "hashes", b"secret-ish", mode=0o600)
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "result.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "hashes").stat().st_mode) == 0o600
