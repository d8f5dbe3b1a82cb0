from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from builder.build.prepare import provenance
from builder.config.files import find_profiles_dir
from builder.config.project import Project
from builder.vcs import Checkout, GitError, GitInfo, read_git, strip_credentials
from tests.git_fixtures import git, make_repo, sha

NO_CI: dict[str, str] = {}  # an env without CI variables, so the host's CI cannot leak into the tests


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A clean checkout on branch `main` with one commit."""
    return make_repo(tmp_path / "repo")


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


# --- read_git -------------------------------------------------------------------------------------------


def test_read_git_clean_branch(repo: Path) -> None:
    assert read_git(repo, NO_CI) == GitInfo(sha=sha(repo), branch="main", tag=None, dirty=False)


def test_read_git_from_a_subdirectory(repo: Path) -> None:
    (repo / "sub").mkdir()
    info = read_git(repo / "sub", NO_CI)
    assert info is not None and info.sha == sha(repo)


def test_read_git_outside_a_checkout(tmp_path: Path) -> None:
    ceiling = {"GIT_CEILING_DIRECTORIES": str(tmp_path)}  # tmp_path may live inside a checkout
    plain = tmp_path / "plain"
    plain.mkdir()
    assert read_git(plain, ceiling) is None


def test_read_git_tag_dirty_and_detached(repo: Path) -> None:
    git(repo, "tag", "v1.0.0")
    git(repo, "tag", "-a", "v1.10.0", "-m", "annotated")
    git(repo, "tag", "v1.9.0")
    info = read_git(repo, NO_CI)
    assert info is not None and info.tag == "v1.10.0"  # highest by version order, not by name
    (repo / "Containerfile").write_text("FROM scratch\nRUN true\n")
    assert read_git(repo, NO_CI).dirty  # type: ignore[union-attr]
    git(repo, "checkout", "-q", "Containerfile")
    (repo / "new-file").write_text("x")
    assert read_git(repo, NO_CI).dirty  # type: ignore[union-attr]  # untracked files reach the context
    (repo / ".gitignore").write_text("new-file\n.gitignore\n")
    assert not read_git(repo, NO_CI).dirty  # type: ignore[union-attr]  # ignored files do not count
    git(repo, "checkout", "-q", "--detach")
    info = read_git(repo, NO_CI)
    assert info is not None and info.branch is None and info.sha == sha(repo)


@pytest.mark.parametrize(
    ("env", "branch"),
    [
        ({}, None),
        ({"GITHUB_HEAD_REF": "feature-x", "GITHUB_REF_NAME": "12/merge"}, "feature-x"),
        ({"GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch"}, "main"),
        ({"GITHUB_REF_NAME": "v1.0", "GITHUB_REF_TYPE": "tag"}, None),  # a tag push is not a branch
        ({"CI_COMMIT_BRANCH": "develop"}, "develop"),
        ({"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "mr-branch", "CI_COMMIT_BRANCH": "x"}, "mr-branch"),
        ({"CI_COMMIT_REF_NAME": "v1.0"}, None),  # GitLab's ref name may be a tag: not used
        ({"GITHUB_HEAD_REF": ""}, None),
    ],
)
def test_detached_head_branch_from_ci_variables(repo: Path, env: dict[str, str], branch: str | None) -> None:
    git(repo, "checkout", "-q", "--detach")
    info = read_git(repo, env)
    assert info is not None and info.branch == branch


def test_ci_variables_do_not_override_a_real_branch(repo: Path) -> None:
    info = read_git(repo, {"CI_COMMIT_BRANCH": "other"})
    assert info is not None and info.branch == "main"


def test_repository_without_commits_is_an_error(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    with pytest.raises(GitError, match="has no commit yet") as caught:
        Checkout(tmp_path, NO_CI).head()
    assert caught.value.hint == "commit once"


def test_git_runs_with_the_given_environment_not_this_process(repo: Path) -> None:
    # templates.read_git used to run git with os.environ whatever env it was given.
    (repo / "sub").mkdir()
    assert read_git(repo / "sub", {}) is not None
    assert read_git(repo / "sub", {"GIT_CEILING_DIRECTORIES": str(repo)}) is None
    other = make_repo(repo.parent / "other")
    git(other, "commit", "-q", "--allow-empty", "-m", "second")
    info = read_git(repo, {"GIT_DIR": str(other / ".git")})  # the work tree is then the current directory
    assert info is not None and info.sha == sha(other) != sha(repo)


# --- Checkout: lazily, once --------------------------------------------------------------------------------


@pytest.fixture
def counted(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose `git` is the real one, writing each of its command lines to a log first."""
    real = shutil.which("git")
    assert real is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "git.log"
    wrapper = bin_dir / "git"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.defpath}"}, log


def runs(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_checkout_runs_nothing_until_asked_and_each_fact_once(repo: Path, counted: tuple[dict[str, str], Path]) -> None:
    env, log = counted
    git(repo, "remote", "add", "origin", "https://ci-token:SECRET@git.example.com/team/api.git")
    checkout = Checkout(repo, env)
    assert runs(log) == []
    assert checkout.commit == sha(repo)
    assert checkout.commit == sha(repo)
    assert len(runs(log)) == 1
    assert checkout.origin == "https://git.example.com/team/api.git"
    assert checkout.origin == "https://git.example.com/team/api.git"
    assert len(runs(log)) == 2


def test_commit_reuses_what_head_read(repo: Path, counted: tuple[dict[str, str], Path]) -> None:
    env, log = counted
    checkout = Checkout(repo, env)
    info = checkout.head()
    assert checkout.head() is info
    read = len(runs(log))
    assert info is not None and checkout.commit == info.sha == sha(repo)
    assert checkout.origin is None  # no remote
    assert len(runs(log)) == read + 1  # only `git remote get-url origin`


def test_outside_a_checkout_provenance_is_unknown(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    checkout = Checkout(plain, {"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert (checkout.commit, checkout.origin) == (None, None)
    assert checkout.head() is None


def test_provenance_without_git_installed_is_unknown(repo: Path) -> None:
    checkout = Checkout(repo, {"PATH": str(repo)})  # no git executable there
    assert (checkout.commit, checkout.origin) == (None, None)


# --- one reader per command: the project's ------------------------------------------------------------------


def _project(repo: Path, env: dict[str, str], tags: str) -> Project:
    (repo / "profiles").mkdir()
    (repo / "profiles" / "api.toml").write_text(f'image = "api"\ntags = {tags}\n')
    return Project(find_profiles_dir(repo, None, env), env=env)


def test_a_command_that_needs_no_git_runs_none(repo: Path, counted: tuple[dict[str, str], Path]) -> None:
    env, log = counted
    project = _project(repo, env, '["{date}"]')
    project.profile("api")
    assert runs(log) == []


def test_placeholders_and_provenance_share_one_read(repo: Path, counted: tuple[dict[str, str], Path]) -> None:
    env, log = counted
    project = _project(repo, env, '["{git_short_sha}"]')
    profile = project.profile("api")
    assert profile.tags == (sha(repo)[:12],)
    project.profile("api")  # a second profile of the same command: git is not read again
    read = runs(log)
    facts = provenance(project)
    assert (facts.revision, facts.source, facts.created) == (sha(repo), None, project.now)
    # The commit comes from what the placeholders read: provenance adds only the origin lookup.
    assert runs(log) == [*read, f"-C {repo} remote get-url origin"]
