"""builder.s2i.source: `.s2i/bin/` and `.s2i/environment` of a source tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.errors import ConfigError
from builder.s2i.source import SourceFacts, read_source


def _script(root: Path, name: str, mode: int = 0o755) -> None:
    path = root / ".s2i" / "bin" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(mode)


def test_a_source_without_s2i_has_nothing_to_say(tmp_path: Path) -> None:
    assert read_source(tmp_path) == SourceFacts()


def test_the_s2i_scripts_in_bin_are_found_and_other_files_ignored(tmp_path: Path) -> None:
    _script(tmp_path, "assemble")
    _script(tmp_path, "save-artifacts")
    _script(tmp_path, "helper.sh")
    (tmp_path / ".s2i" / "bin" / "run").mkdir()  # a directory is no script
    assert read_source(tmp_path).scripts == frozenset({"assemble", "save-artifacts"})


def test_a_script_without_its_x_bit_is_refused_before_the_build(tmp_path: Path) -> None:
    _script(tmp_path, "assemble", 0o644)
    with pytest.raises(ConfigError) as caught:
        read_source(tmp_path)
    assert caught.value.message == ".s2i/bin/assemble is not executable"
    assert caught.value.hint is not None and "chmod +x" in caught.value.hint


def test_the_environment_is_read_as_s2i_reads_it(tmp_path: Path) -> None:
    (tmp_path / ".s2i").mkdir()
    (tmp_path / ".s2i" / "environment").write_text(
        "# comment\n\nAPP_MODULE=app:main\n  SPACED = both sides  \nEMPTY=\nURL=http://x/?a=b\n")
    assert read_source(tmp_path).environment == (
        ("APP_MODULE", "app:main"), ("SPACED", "both sides"), ("EMPTY", ""), ("URL", "http://x/?a=b"))


@pytest.mark.parametrize("line", ["NO_EQUALS", "=value", "TWO WORDS=x"])
def test_a_line_s2i_would_silently_drop_is_refused_with_its_line(tmp_path: Path, line: str) -> None:
    (tmp_path / ".s2i").mkdir()
    path = tmp_path / ".s2i" / "environment"
    path.write_text(f"A=1\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        read_source(tmp_path)
    assert (caught.value.file, caught.value.line) == (path, 2)
    assert caught.value.message == f"expected NAME=VALUE, got {line!r}"


def test_s2iignore_lines_are_read_as_s2i_reads_them(tmp_path: Path) -> None:
    from builder.s2i.source import ignore_patterns

    assert ignore_patterns(tmp_path) == ()
    (tmp_path / ".s2iignore").write_text("# comment\n\n  *.log  \nbuild\n!build/keep.txt\n")
    assert ignore_patterns(tmp_path) == ("*.log", "build", "!build/keep.txt")
