from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from builder.containerfile.document import Document
from builder.findings.model import Finding
from builder.lint.rules import check
from builder.lint.subject import Subject


def _findings(text: str, *, codes: tuple[str, ...] | None = None, **subject: Any) -> list[Finding]:
    found = check(Subject(Document.from_text(text), "Containerfile", **subject))
    return [finding for finding in found if codes is None or finding.code in codes]


@pytest.fixture
def findings() -> Callable[..., list[Finding]]:
    """imgctl's own findings for a Containerfile given as text (only `codes`, when given)."""
    return _findings


@pytest.fixture
def lint() -> Callable[..., list[tuple[str, int | None]]]:
    """Like `findings`, as (code, line) pairs."""
    def run(text: str, **kwargs: Any) -> list[tuple[str, int | None]]:
        return [(finding.code, finding.line) for finding in _findings(text, **kwargs)]
    return run


@pytest.fixture
def context(tmp_path: Path) -> Path:
    """An empty build context with an ignore file (so OS118 stays quiet)."""
    (tmp_path / ".containerignore").write_text(".git\n")
    return tmp_path
