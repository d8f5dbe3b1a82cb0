from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from builder.config.profile import Profile, load_profile
from builder.k8s.document import Request, Source

GOLDEN = Path(__file__).parent / "golden"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
GIT = Source("https://git.example.com/team/api.git", COMMIT)
SAMPLE = """
    image = "team/api"
    description = "The API"
    version = "1.2.3"
    context = "app"
    containerfile = "app/Containerfile"
    tags = ["{version}", "latest"]
    push = ["quay.io/team/api", "registry.example.com:5000/team/api"]
    target = "runtime"
    platform = "linux/arm64"
    [build_args]
    PYTHON = "3.12"
    ENABLE = "yes"
    [labels]
    "org.example.team" = "core"
    "org.example.quoted" = "it's $HOME"
    [registries."registry.example.com:5000"]
    tls_verify = false
"""


# The sample without target and platform: what OpenShift's Docker strategy (no --target) can build.
PLAIN = SAMPLE.replace('    target = "runtime"\n', "").replace('    platform = "linux/arm64"\n', "")


def make_project(root: Path, text: str = SAMPLE, name: str = "api") -> Path:
    (root / "profiles").mkdir(parents=True, exist_ok=True)
    (root / "app").mkdir(exist_ok=True)
    (root / "app" / "Containerfile").write_text("FROM scratch AS runtime\nCOPY . /\n")
    (root / "profiles" / f"{name}.toml").write_text(textwrap.dedent(text).lstrip("\n"))
    return root


@pytest.fixture
def load(tmp_path: Path) -> Callable[..., Profile]:
    """Load a profile from a fresh project; git is never read (no git placeholders, no checkout)."""

    def loader(text: str = SAMPLE, *overrides: str, name: str = "api") -> Profile:
        root = make_project(tmp_path / "project", text, name)
        return load_profile(root / "profiles", name, overrides=overrides, env={},
                            now=datetime(2024, 3, 5, tzinfo=timezone.utc), git=lambda: None)

    return loader


@pytest.fixture
def sample(load: Callable[..., Profile]) -> Request:
    return Request(load(), GIT, namespace="builds")


def golden(name: str, text: str) -> None:
    """Compare with tests/unit/k8s/golden/NAME; IMGCTL_UPDATE_GOLDEN=1 rewrites the file instead."""
    path = GOLDEN / name
    if os.environ.get("IMGCTL_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.read_text() == text, f"{name} differs from the golden file (IMGCTL_UPDATE_GOLDEN=1 rewrites it)"
