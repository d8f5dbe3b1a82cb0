"""Real git repositories for tests: commits made with a fixed identity and no user or system config."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def make_repo(root: Path) -> Path:
    """A clean checkout at `root` on branch `main` with one commit (a Containerfile)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    (root / "Containerfile").write_text("FROM scratch\n")
    git(root, "add", "Containerfile")
    git(root, "commit", "-q", "-m", "first")
    return root


def sha(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD")
