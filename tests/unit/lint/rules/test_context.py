from __future__ import annotations

from pathlib import Path

import pytest

from builder.containerfile.document import Document
from builder.lint.rules import check
from builder.lint.subject import Subject

TEXT = "FROM registry.access.redhat.com/ubi9/ubi:9.4\nUSER 1001\n"


def _codes(context: Path | None, path: Path | None = None) -> list[tuple[str, int | None]]:
    subject = Subject(Document.from_text(TEXT, path), "Containerfile", context=context)
    return [(f.code, f.line) for f in check(subject) if f.code == "OS118"]


def test_no_ignore_file(tmp_path: Path) -> None:
    assert _codes(tmp_path) == [("OS118", None)]


@pytest.mark.parametrize("name", [".containerignore", ".dockerignore"])
def test_ignore_file_in_the_context(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(".git\n")
    assert _codes(tmp_path) == []


def test_ignore_file_beside_the_containerfile(tmp_path: Path) -> None:
    (tmp_path / "Containerfile.app.containerignore").write_text(".git\n")
    assert _codes(tmp_path, Path("Containerfile.app")) == []


def test_no_context_no_finding() -> None:
    assert _codes(None) == []
