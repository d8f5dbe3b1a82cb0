from __future__ import annotations

import pytest

from builder.vcs import strip_credentials


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://gitlab-ci-token:glpat-SECRET@gitlab.example.com/team/api.git", "https://gitlab.example.com/team/api.git"),
        ("https://x-access-token:ghs_SECRET@github.com/o/r", "https://github.com/o/r"),
        ("https://github.com/o/r.git", "https://github.com/o/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("ssh://git@host:2222/o/r.git", "ssh://host:2222/o/r.git"),
    ],
)
def test_strip_credentials(url: str, expected: str) -> None:
    assert strip_credentials(url) == expected
