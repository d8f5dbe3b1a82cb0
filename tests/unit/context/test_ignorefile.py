"""builder.context.ignorefile: which ignore file a build reads (buildah 1.28 pkg/parse.ContainerIgnoreFile) and
how each dialect reads its lines (imagebuilder.ParseIgnore; moby ignorefile_test.go)."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.context.dialects import DIALECTS
from builder.context.ignorefile import _moby_file_lines, find_ignore_file
from builder.context.rules import IgnoreRules
from builder.errors import ConfigError


def rules(*patterns: str, dialect: str = "buildah") -> IgnoreRules:
    return IgnoreRules.from_patterns(patterns, dialect=dialect)



def test_moby_ignorefile_read_all() -> None:
    content = "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! "
    assert [line for _, line in _moby_file_lines(content)] == [
        "test1", "test2", "a/file/here", "lastfile", "!inverted/abs/path", "!", "!"]
    with pytest.raises(ConfigError) as caught:
        IgnoreRules.parse(content, Path(".dockerignore"), dialect="moby")
    assert (caught.value.file, caught.value.line) == (Path(".dockerignore"), 8)
    assert str(caught.value).startswith(".dockerignore:8: ")



@pytest.mark.parametrize("dialect", DIALECTS)
def test_comments_blank_lines_and_slashes(dialect: str) -> None:
    text = "# a comment\n\n   \n/build/\nlogs/\n/tmp/*.log\n!/tmp/keep.log\nnode_modules\r\n"
    got = IgnoreRules.parse(text, dialect=dialect)
    assert got.patterns == ("build", "logs", "tmp/*.log", "!tmp/keep.log", "node_modules")
    assert got.excluded("build") and got.excluded("build/x/y") and got.excluded("logs/a")
    assert got.excluded("tmp/a.log") and not got.excluded("tmp/keep.log") and not got.excluded("tmp/a.txt")
    assert got.excluded("node_modules/x")  # the CRLF line's "\r" is whitespace to both
    assert not got.excluded("a/build") and not got.excluded("# a comment")



def test_buildah_file_quirks() -> None:
    # imagebuilder.ParseIgnore tests '#' before trimming spaces and trims '/' before the matcher trims spaces.
    got = IgnoreRules.parse("  # not a comment\n /abs\n\ufeffbom\n")
    assert got.patterns == ("# not a comment", "/abs", "\ufeffbom")
    assert got.excluded("# not a comment")
    assert not got.excluded("abs")  # "/abs" can never match a relative path
    assert not got.excluded("bom")



def test_moby_file_quirks() -> None:
    got = IgnoreRules.parse("\ufeffbom\n  # a comment?\n /abs\n!  spaced\n", dialect="moby")
    assert got.patterns == ("bom", "# a comment?", "abs", "!spaced")
    assert got.excluded("bom") and got.excluded("abs")



def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x\n")
    return path



def test_find_ignore_file_order(tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    containerfile = tmp_path / "build" / "Containerfile"
    touch(containerfile)
    context.mkdir()
    assert find_ignore_file(context, containerfile) is None
    docker = touch(context / ".dockerignore")
    assert find_ignore_file(context, containerfile) == docker
    container = touch(context / ".containerignore")
    assert find_ignore_file(context, containerfile) == container  # .containerignore wins in the context
    beside = touch(tmp_path / "build" / "Containerfile.containerignore")
    assert find_ignore_file(context, containerfile) == beside  # beside the Containerfile wins over both
    beside_docker = touch(tmp_path / "build" / "Containerfile.dockerignore")
    # buildah quirk: it checks .containerignore then .dockerignore and the second overwrites the first.
    assert find_ignore_file(context, containerfile) == beside_docker



def test_find_ignore_file_dangling_link_counts_as_missing(tmp_path: Path) -> None:
    (tmp_path / ".containerignore").symlink_to(tmp_path / "nowhere")
    docker = touch(tmp_path / ".dockerignore")
    assert find_ignore_file(tmp_path, tmp_path / "Containerfile") == docker


def test_a_relative_containerfile_is_looked_up_in_the_context(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # podman 4.3.1, `podman build -f Cf ctx` run where ./Cf and ./Cf.containerignore exist: the Containerfile
    # is ./Cf, but the ignore file read is ctx/Cf.containerignore (or ctx/.containerignore), never ./Cf's.
    context = tmp_path / "ctx"
    touch(tmp_path / "Cf")
    touch(tmp_path / "Cf.containerignore")
    fallback = touch(context / ".containerignore")
    monkeypatch.chdir(tmp_path)
    assert find_ignore_file(context, Path("Cf")) == fallback
    beside = touch(context / "Cf.containerignore")
    assert find_ignore_file(context, Path("Cf")) == beside
