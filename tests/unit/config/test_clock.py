from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from builder.config.clock import command_time
from builder.errors import ConfigError


def test_source_date_epoch_is_the_time() -> None:
    assert command_time({"SOURCE_DATE_EPOCH": "86400"}) == datetime(1970, 1, 2, tzinfo=timezone.utc)
    assert command_time({"SOURCE_DATE_EPOCH": "0"}) == datetime(1970, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("env", [{}, {"SOURCE_DATE_EPOCH": ""}])
def test_unset_or_empty_means_now(env: dict[str, str]) -> None:
    assert abs(command_time(env) - datetime.now(timezone.utc)) < timedelta(seconds=5)


@pytest.mark.parametrize("value", ["soon", "1.5", "1_000", " 5", "99999999999999999999"])
def test_a_bad_value_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        command_time({"SOURCE_DATE_EPOCH": value})
    error = caught.value
    assert error.key == "SOURCE_DATE_EPOCH" and error.exit_code == 2
    assert error.message == f"expected a number of seconds since 1970-01-01 UTC, got {value!r}"
    assert error.hint is not None and "unset it" in error.hint


# --- through the command line: every command resolves profiles with the project's one clock ---------------


def imgctl(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "builder", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **env}
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "Containerfile").write_text("FROM scratch\n")
    (tmp_path / "profiles" / "api.toml").write_text('image = "team/api"\n')
    return tmp_path


def test_show_follows_source_date_epoch(project: Path) -> None:
    done = imgctl("show", "api", "--json", "--set", "tags={date}-{timestamp}", cwd=project, SOURCE_DATE_EPOCH="0")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tags"] == ["19700101-19700101000000"]


def test_dry_run_labels_follow_source_date_epoch(project: Path) -> None:
    done = imgctl(
        "build", "api", "--dry-run", "--json", "--label", "built={timestamp}", cwd=project, SOURCE_DATE_EPOCH="86400"
    )
    assert done.returncode == 0, done.stderr
    labels = json.loads(done.stdout)["plans"][0]["labels"]
    assert labels["built"] == "19700102000000"
    assert labels["org.opencontainers.image.created"] == "1970-01-02T00:00:00Z"  # the same clock


def test_a_bad_source_date_epoch_stops_the_command(project: Path) -> None:
    done = imgctl("show", "api", cwd=project, SOURCE_DATE_EPOCH="soon")
    assert done.returncode == 2
    assert "SOURCE_DATE_EPOCH: expected a number of seconds since 1970-01-01 UTC, got 'soon'" in done.stderr
    assert "hint: unset it" in done.stderr
