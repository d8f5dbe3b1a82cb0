"""builder.cli.verify: which arguments are images, and the flag checks made before any engine is asked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from builder.cli.verify import is_image


@pytest.mark.parametrize("name", ["localhost/app:1", "app:1", "quay.io/x/y", "app@sha256:" + "a" * 64,
                                  "a" * 12, "sha256:" + "b" * 64])
def test_references_and_ids_are_images(name: str) -> None:
    assert is_image(name)


@pytest.mark.parametrize("name", ["api", "web-dev", "deadbeef"])
def test_plain_names_are_profiles(name: str) -> None:
    assert not is_image(name)


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "xml"], "unknown format 'xml'"),
    (["--failure-threshold", "fatal"], "unknown level 'fatal'"),
    (["--kind", "daemon"], "unknown kind 'daemon'"),
    (["--user", "app"], "expected a numeric UID or UID:GID"),
    (["--writable-path", "data"], "expected an absolute path"),
    (["--set", "verify.kind=job"], "--set changes profiles, and only images were named"),
])
def test_bad_flags_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    env = {**os.environ, "CONTAINER_HOST": "unix:///nonexistent"}  # never reached: the flags are checked first
    done = subprocess.run([sys.executable, "-m", "builder", "verify", "localhost/app:1", *args], cwd=tmp_path,
                          capture_output=True, text=True, env=env)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
