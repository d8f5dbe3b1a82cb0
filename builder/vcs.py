"""The one git reader: what a command needs to know about the checkout holding the project.

A `Checkout` runs git lazily and at most once per fact: a command that never asks (a profile without git
placeholders, `imgctl show` of it) never spawns git and works outside a checkout; the commit the `{git_sha}`
placeholder read is the one the provenance label reuses. Git runs with the project's environment (the one the
command was given, not necessarily this process's), plus LC_ALL=C because its messages are matched as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# Fixed rather than `git rev-parse --short`, whose length grows with the repository: a tag made today must
# name the same commit in the same way tomorrow. 12 digits keep collisions out of very large repositories.
SHORT_SHA_LENGTH = 12

# CI systems check out a detached HEAD. These say which branch was built, most specific first. Tag names
# (GITHUB_REF_NAME on a tag push, CI_COMMIT_REF_NAME in a tag pipeline) are deliberately not branches.
BRANCH_VARIABLES = (
    "GITHUB_HEAD_REF",  # GitHub Actions, pull_request events: the source branch
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",  # GitLab merge request pipelines
    "CI_COMMIT_BRANCH",  # GitLab branch pipelines
)
_GITHUB_REF_NAME = "GITHUB_REF_NAME"  # GitHub Actions push events, a branch only when GITHUB_REF_TYPE=branch

# Provenance is best effort: a hung credential helper or network filesystem must not hang the build.
_PROVENANCE_TIMEOUT = 10.0


class GitError(Exception):
    """Git is missing, refused to run, or the repository has no commit. `hint` says what to do."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class GitInfo:
    """What the git placeholders need to know about HEAD."""

    sha: str
    branch: str | None
    tag: str | None
    dirty: bool

    @property
    def short_sha(self) -> str:
        return self.sha[:SHORT_SHA_LENGTH]


def _run_git(root: Path, env: Mapping[str, str], *args: str, timeout: float | None = None) -> tuple[int, str, str]:
    import subprocess  # only when git is actually read: keeps imports fast

    # LC_ALL=C: the messages below are matched as text. GIT_OPTIONAL_LOCKS=0: `git status` must not take the
    # index lock while an editor or another git command is working in the same checkout.
    git_env = {**env, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, env=git_env, check=False, timeout=timeout
        )
    except FileNotFoundError:
        raise GitError(
            "git placeholders need the git command, which is not installed (or not on PATH)",
            hint="install git",
        ) from None
    return done.returncode, done.stdout.strip(), done.stderr.strip()


def _ci_branch(env: Mapping[str, str]) -> str | None:
    for variable in BRANCH_VARIABLES:
        if env.get(variable):
            return env[variable]
    if env.get("GITHUB_REF_TYPE") == "branch" and env.get(_GITHUB_REF_NAME):
        return env[_GITHUB_REF_NAME]
    return None


def read_git(root: Path, env: Mapping[str, str]) -> GitInfo | None:
    """Describe HEAD of the checkout containing `root`; None if `root` is not inside a git work tree.

    Git runs with `env`. `branch` is None on a detached HEAD unless a CI variable (BRANCH_VARIABLES, or
    GITHUB_REF_NAME when GITHUB_REF_TYPE=branch) in `env` names the branch. `tag` is a tag pointing exactly at
    HEAD, the highest by version order if there are several. `dirty` is true when tracked files are modified
    or untracked files that are not ignored exist, since both reach the build context. Raises GitError when
    git is missing, the repository has no commit, or git refuses to run.
    """
    code, out, err = _run_git(root, env, "rev-parse", "--is-inside-work-tree")
    if code != 0:
        if "not a git repository" in err:
            return None
        raise GitError(
            f"git failed in {root}: {err or f'exit status {code}'}",
            hint=(
                "for 'dubious ownership': git config --global --add safe.directory <path>"
                if "dubious ownership" in err
                else "run the same git command by hand to see why"
            ),
        )
    if out != "true":  # inside .git itself, or a bare repository
        return None
    code, sha, _ = _run_git(root, env, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if code != 0:
        raise GitError(f"the git repository at {root} has no commit yet", hint="commit once")
    code, branch, _ = _run_git(root, env, "symbolic-ref", "--quiet", "--short", "HEAD")
    code, tags, _ = _run_git(root, env, "tag", "--points-at", "HEAD", "--sort=-version:refname")
    code, status, err = _run_git(root, env, "status", "--porcelain", "--untracked-files=normal")
    if code != 0:
        raise GitError(f"git status failed in {root}: {err}", hint="run git status by hand to see why")
    return GitInfo(
        sha=sha,
        branch=branch or _ci_branch(env),
        tag=tags.splitlines()[0] if tags else None,
        dirty=bool(status),
    )


def strip_credentials(url: str) -> str:
    """A remote URL without any user or password in it: CI clones often embed a token there."""
    parts = urlsplit(url)
    if parts.scheme and parts.netloc and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


class Checkout:
    """The git checkout containing `root`, as one command sees it: each fact read on first use, then kept.

    Nothing runs when the object is made. `head()` is what the git placeholders need (and may fail, with the
    reason); `commit` and `origin` are the provenance labels' values, best effort (None when unknown).
    """

    def __init__(self, root: Path, env: Mapping[str, str]) -> None:
        self.root = root
        self.env = env
        self._head_read = False
        self._head: GitInfo | None = None
        self._head_error: GitError | None = None

    def head(self) -> GitInfo | None:
        """HEAD described (see read_git); None outside a checkout. A failure is remembered and raised again."""
        if not self._head_read:
            try:
                self._head = read_git(self.root, self.env)
            except GitError as error:
                self._head_error = error
            self._head_read = True
        if self._head_error is not None:
            raise self._head_error
        return self._head

    @cached_property
    def commit(self) -> str | None:
        """The full id of HEAD, or None; reuses what `head()` already read instead of running git again."""
        if self._head_read:
            return self._head.sha if self._head is not None else None
        return self._best_effort("rev-parse", "--verify", "--quiet", "HEAD^{commit}")

    @cached_property
    def origin(self) -> str | None:
        """The URL of the `origin` remote without credentials, or None."""
        url = self._best_effort("remote", "get-url", "origin")
        return strip_credentials(url) if url else None

    def _best_effort(self, *args: str) -> str | None:
        import subprocess  # for TimeoutExpired; lazily, like _run_git

        try:
            code, out, _ = _run_git(self.root, self.env, *args, timeout=_PROVENANCE_TIMEOUT)
        except (GitError, OSError, subprocess.TimeoutExpired):
            return None
        return out or None if code == 0 else None
