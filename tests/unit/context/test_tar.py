"""builder.context.tar: the context streamed as the tar the service unpacks."""

from __future__ import annotations

import io
import os
import tarfile
import tracemalloc
from pathlib import Path

import pytest

from builder.context.tar import tar_stream
from builder.context.walk import scan
from builder.errors import BuildError, ConfigError
from tests.unit.context.conftest import read_tar, rules, write


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



@pytest.mark.parametrize("new_content", [b"", b"print('hi')\n# grew\n"])
def test_a_file_that_changed_size_stops_the_stream(tree: Path, new_content: bytes) -> None:
    snapshot = scan(tree, rules())
    (tree / "src" / "app.py").write_bytes(new_content)
    with pytest.raises(BuildError, match=r"src/app.py changed size \(12 -> ") as caught:
        b"".join(tar_stream(snapshot))
    assert caught.value.exit_code == 5 and "run the build again once it stops changing" in str(caught.value.hint)



def test_a_file_replaced_by_a_symlink_is_not_followed(tree: Path, tmp_path: Path) -> None:
    snapshot = scan(tree, rules())
    target = write(tmp_path / "elsewhere", b"print('no')\n")
    (tree / "src" / "app.py").unlink()
    (tree / "src" / "app.py").symlink_to(target)
    with pytest.raises(BuildError, match=r"src/app\.py changed \(it is no longer a regular file\) while"):
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


@pytest.mark.parametrize("path, link, refused", [
    ("rel", "../../outside", True),
    ("sub/rel", "../../outside", True),
    ("rel", "..", True),
    ("sub/deep/up", "../../../x", True),
    ("rel", "../other/x", True),
    ("sub/ok", "../Containerfile", False),
    ("sub/dot", ".", False),
    ("abs", "/etc/hostname", False),
    ("abs", "/../../etc", False),  # joined under the unpack directory, like every absolute target
    ("rel", "../build/x", False),  # re-enters the service's own unpack directory, .../libpod_builderNNN/build
])
def test_links_out_of_the_context_are_refused_before_anything_is_sent(tmp_path: Path, path: str, link: str,
                                                                      refused: bool) -> None:
    write(tmp_path / "Containerfile", b"FROM scratch\n")
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).symlink_to(link)
    snapshot = scan(tmp_path, rules())
    if not refused:
        assert read_tar(snapshot)[path][0].linkname == link
        return
    with pytest.raises(ConfigError) as caught:
        tar_stream(snapshot)  # raised by the call itself: no chunk exists yet
    assert caught.value.exit_code == 2 and f"symlink {path} -> {link} points outside the build context" in str(
        caught.value)
    assert f"exclude {path} in the ignore file" in str(caught.value.hint)
    assert read_tar(scan(tmp_path, rules(path)))  # excluding it is enough
