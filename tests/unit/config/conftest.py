from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.config.profile_fixtures import Project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    # tmp_path might sit inside somebody's checkout; git must not find it, so git placeholders fail clearly.
    return Project(tmp_path / "project", ceiling=tmp_path)

