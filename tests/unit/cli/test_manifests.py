"""`imgctl render` as a user runs it: a real subprocess, real files, a real auth file with a canary password."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.unit.k8s.conftest import PLAIN, make_project

CANARY = "canary-PASSWORD-c1d2e3"
ROOT = Path(__file__).resolve().parents[3]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    run = tmp_path / "run"
    (run / "containers").mkdir(parents=True)
    auth = run / "containers" / "auth.json"
    auth.write_text(json.dumps({"auths": {
        "quay.io": {"auth": b64(f"alice:{CANARY}")},
        "registry.example.com:5000": {"auth": b64(f"bob:{CANARY}")},
        "docker.io": {"auth": b64("carol:not-the-profiles")},
    }}))
    auth.chmod(0o600)
    (tmp_path / "home").mkdir()
    return {
        "HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": str(run), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT), "GIT_CEILING_DIRECTORIES": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1",
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project", PLAIN.replace("it's $HOME", "it's_$HOME"))


def imgctl(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "builder", *args], cwd=cwd, env=env, capture_output=True, text=True)


def leaks(text: str) -> list[str]:
    forms = [CANARY, b64(f"alice:{CANARY}"), b64(f"bob:{CANARY}"), b64(CANARY)]
    return [form for form in forms if form in text]


def test_unknown_kind_is_exit_2_listing_the_kinds(project: Path, env: dict[str, str]) -> None:
    done = imgctl("render", "kaniko", "api", cwd=project, env=env)
    assert done.returncode == 2
    assert "unknown kind 'kaniko'" in done.stderr
    assert "one of: kaniko-job, tekton, buildconfig, imagestream, pull-secret, gitlab-ci" in done.stderr
    assert "Traceback" not in done.stderr


def test_render_prints_yaml_and_output_writes_the_same_atomically(project: Path, env: dict[str, str]) -> None:
    printed = imgctl("render", "kaniko-job", "api", cwd=project, env=env)
    assert printed.returncode == 0, printed.stderr
    assert yaml.safe_load(printed.stdout)["kind"] == "Job"
    target = project / "out" / "job.yaml"
    target.parent.mkdir()
    target.write_text("old content\n")
    target.chmod(0o640)
    written = imgctl("render", "kaniko-job", "api", "-o", str(target), cwd=project, env=env)
    assert written.returncode == 0, written.stderr
    assert written.stdout == ""
    assert f"wrote kaniko-job for api to {target}" in written.stderr
    assert target.read_text() == printed.stdout
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # a replaced file keeps its mode
    assert sorted(p.name for p in target.parent.iterdir()) == ["job.yaml"]  # no partial file left behind


def test_a_flag_that_does_not_apply_to_the_kind_is_refused(project: Path, env: dict[str, str]) -> None:
    done = imgctl("render", "imagestream", "api", "--tar", cwd=project, env=env)
    assert done.returncode == 2
    assert "--tar does not apply to imagestream" in done.stderr


def test_pull_secret_needs_an_explicit_destination(project: Path, env: dict[str, str]) -> None:
    done = imgctl("render", "pull-secret", "api", cwd=project, env=env)
    assert done.returncode == 2
    assert "holds registry credentials" in done.stderr and "-o -" in done.stderr
    assert done.stdout == "" and not leaks(done.stderr)


def test_pull_secret_file_is_0600_and_the_credentials_are_nowhere_else(project: Path, env: dict[str, str]) -> None:
    target = project / "secret.yaml"
    target.write_text("an older, world-readable file\n")
    target.chmod(0o644)
    done = imgctl("--debug", "render", "pull-secret", "api", "-o", str(target), cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # even where the file it replaces was 0644
    text = target.read_text()
    value = yaml.safe_load(text)["data"][".dockerconfigjson"]
    config = json.loads(base64.b64decode(value))
    assert sorted(config["auths"]) == ["quay.io", "registry.example.com:5000"]  # not docker.io
    assert config["auths"]["quay.io"]["password"] == CANARY
    # --debug logged the lookup (so the check below looks at real output), and never a secret.
    assert "credentials for quay.io/team/api" in done.stderr
    assert not leaks(done.stdout + done.stderr)
    assert value not in done.stdout + done.stderr


def test_pull_secret_to_stdout_only_when_asked_with_dash(project: Path, env: dict[str, str]) -> None:
    done = imgctl("render", "pull-secret", "api", "-o", "-", cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout)["type"] == "kubernetes.io/dockerconfigjson"
    assert not leaks(done.stderr)


def test_failures_after_the_lookup_show_no_credentials(project: Path, env: dict[str, str]) -> None:
    # The credentials are resolved, then writing fails: the error (with --debug, its traceback) names the path only.
    done = imgctl("--debug", "render", "pull-secret", "api", "-o", str(project / "missing" / "s.yaml"),
                  cwd=project, env=env)
    assert done.returncode == 2
    assert "does not exist" in done.stderr
    assert not leaks(done.stdout + done.stderr)
    # A registry without credentials: exit 3, and the one that had them stays unseen.
    auth = Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"
    auth.write_text(json.dumps({"auths": {"quay.io": {"auth": b64(f"alice:{CANARY}")}}}))
    done = imgctl("--debug", "render", "pull-secret", "api", "-o", str(project / "s.yaml"), cwd=project, env=env)
    assert done.returncode == 3
    assert "no credentials found for registry.example.com:5000/team/api" in done.stderr
    assert not leaks(done.stdout + done.stderr)
    assert not (project / "s.yaml").exists()


def test_a_git_checkout_is_built_at_its_commit_from_an_origin_without_credentials(
    tmp_path: Path, env: dict[str, str]
) -> None:
    from tests.git_fixtures import git, make_repo, sha

    repo = make_repo(tmp_path / "repo")
    make_project(repo, PLAIN.replace("it's $HOME", "it's_$HOME"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "profile")
    git(repo, "remote", "add", "origin", f"https://ci-token:{CANARY}@git.example.com/team/api.git")
    commit = sha(repo)
    env = {**env, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CEILING_DIRECTORIES": ""}
    done = imgctl("render", "buildconfig", "api", cwd=repo, env=env)
    assert done.returncode == 0, done.stderr
    config = next(yaml.safe_load_all(done.stdout))
    assert config["spec"]["source"]["git"] == {"uri": "https://git.example.com/team/api.git", "ref": commit}
    assert not leaks(done.stdout + done.stderr)  # the token in the remote URL stays out
    assert "uncommitted changes" not in done.stderr
    (repo / "app" / "new.txt").write_text("not committed\n")
    dirty = imgctl("render", "kaniko-job", "api", cwd=repo, env=env)
    assert f"a build from git uses commit {commit[:12]}" in dirty.stderr
    assert f"--context=git://git.example.com/team/api.git##{commit}" in dirty.stdout


def test_credentials_from_a_helper_reach_the_file_only(project: Path, env: dict[str, str], tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-canary"
    helper.write_text(f'#!/bin/sh\ncat >/dev/null\necho \'{{"Username": "alice", "Secret": "{CANARY}"}}\'\n')
    helper.chmod(0o755)
    auth = Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"
    auth.write_text(json.dumps({"credHelpers": {"quay.io": "canary", "registry.example.com:5000": "canary"}}))
    env = {**env, "PATH": f"{bin_dir}:{env['PATH']}"}
    target = project / "secret.yaml"
    done = imgctl("--debug", "render", "pull-secret", "api", "-o", str(target), cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    assert "credential helper docker-credential-canary" in done.stderr  # --debug did log the lookup
    assert not leaks(done.stdout + done.stderr)
    config = json.loads(base64.b64decode(yaml.safe_load(target.read_text())["data"][".dockerconfigjson"]))
    assert config["auths"]["quay.io"]["password"] == CANARY
