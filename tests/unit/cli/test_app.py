"""The CLI as a user runs it: a real subprocess, real files; no engine needed for these commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def imgctl(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "builder", *args], cwd=cwd, capture_output=True, text=True, env=env)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "src" / "node_modules" / "dep").mkdir(parents=True)
    (tmp_path / "Containerfile").write_text("FROM scratch\nCOPY src/ /src/\n")
    (tmp_path / ".containerignore").write_text("**/node_modules\n")
    (tmp_path / "src" / "app.py").write_text("print(1)\n")
    (tmp_path / "src" / "node_modules" / "dep" / "x.js").write_text("x" * 5000)
    (tmp_path / "profiles" / "api.toml").write_text('image = "team/api"\nversion = "1.0"\ntags = ["{version}"]\n')
    (tmp_path / "profiles" / "dev.toml").write_text('extends = "api"\ntags = ["dev"]\n[labels]\nenv = "dev"\n')
    return tmp_path


def test_help_lists_every_command(project: Path) -> None:
    done = imgctl("--help", cwd=project)
    assert done.returncode == 0
    for command in ("list", "show", "context", "build"):
        assert command in done.stdout


def test_list_and_show_json(project: Path) -> None:
    listed = json.loads(imgctl("list", "--json", cwd=project / "src").stdout)
    assert [p["name"] for p in listed["profiles"]] == ["api", "dev"]
    assert listed["profiles"][1]["tags"] == ["dev"]
    shown = json.loads(imgctl("show", "dev", "--json", "--set", "labels.team=core", cwd=project).stdout)
    assert shown["image"] == "localhost/team/api"
    assert shown["labels"] == {"env": "dev", "team": "core"}


def test_context_json_lists_relative_files_and_names_the_ignore_file(project: Path) -> None:
    done = imgctl("context", "api", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    # COPY src/ on FROM scratch: only src/ is read (the Containerfile and the ignore file always travel).
    assert sorted(document["files"]) == [".containerignore", "Containerfile", "src/app.py"]
    kept = document["kept_by_ignore_rules"]["files"]
    assert sorted(kept) == [".containerignore", "Containerfile", "profiles/api.toml", "profiles/dev.toml", "src/app.py"]
    assert document["ignore_file"] == str(project / ".containerignore")
    assert "src/node_modules" in document["pruned_dirs"]


def test_context_human_output(project: Path) -> None:
    done = imgctl("context", "api", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "src/app.py" in done.stdout
    assert "node_modules" not in done.stdout.split("ignore file:")[0]
    assert "the ignore rules keep: 5 files" in done.stdout
    assert "sent to the build:     3 files" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("build", "api", "--label", "novalue"), "--label: expected KEY=VALUE, got 'novalue'"),
        (("build", "api", "--pull", "sometimes"), "expected one of 'missing', 'always', 'never', 'newer'"),
        (("build", "apj"), "no profile named 'apj'"),
        (("show", "api", "--set", "tgas=x"), "did you mean 'tags'"),
    ],
)
def test_bad_input_is_exit_2_without_traceback(project: Path, args: tuple[str, ...], message: str) -> None:
    done = imgctl(*args, cwd=project)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_usage_error_is_exit_2(project: Path) -> None:
    done = imgctl("build", cwd=project)
    assert done.returncode == 2
    assert "Missing argument" in done.stderr


def test_dry_run_json_touches_no_engine(project: Path) -> None:
    done = imgctl("--url", "unix:///nonexistent.sock", "build", "api", "--dry-run", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)["plans"][0]
    assert plan["tags"] == ["localhost/team/api:1.0"]
    # FROM scratch needs no engine to decide pruning: only what COPY src/ reads (plus the Containerfile and
    # the ignore file) is sent.
    assert plan["context"]["files"] == 3
    assert plan["context"]["kept_by_ignore_rules"]["files"] == 5


def test_show_containerfile_prints_a_containerfile_profiles_file_as_is(project: Path) -> None:
    done = imgctl("show", "api", "--containerfile", cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "FROM scratch\nCOPY src/ /src/\n"
    shown = json.loads(imgctl("show", "api", "--containerfile", "--json", cwd=project).stdout)
    assert shown == {"profile": "api", "containerfile": "FROM scratch\nCOPY src/ /src/\n", "notes": []}
