"""Credential helpers: running `docker-credential-NAME get` for one registry host.

Nothing a helper prints goes into an error or a log line: its stdout holds the secret on success, and a
broken helper may print it anywhere.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from builder.errors import AuthError
from builder.registry.authfiles import member, quote

HELPER_TIMEOUT = 30.0  # seconds a docker-credential-NAME helper may take (it may wait for a keyring unlock)
HELPER_PREFIX = "docker-credential-"
TOKEN_USERNAME = "<token>"  # docker-credential-helpers: Secret is then an identity token, not a password
_NOT_FOUND = "credentials not found"  # the stable part of "credentials not found in native keychain"


def run_helper(name: str, server: str, env: Mapping[str, str], host: str, configured: str) -> tuple[str, str] | None:
    """`docker-credential-NAME get` with `server` on stdin; (Username, Secret), or None for "not found".

    Nothing the helper prints goes into an error: its stdout holds the secret on success, and a broken
    helper may print it anywhere.
    """
    import shutil
    import subprocess

    program = HELPER_PREFIX + name
    executable = shutil.which(program, path=env.get("PATH") or os.defpath)
    if executable is None:
        raise AuthError(
            f"credential helper {program} is not on PATH; {configured} names it for {host}",
            hint=f"install {program}, or remove the entry and log in with `podman login {host}`",
        )
    failure: str | None = None
    try:
        done = subprocess.run(
            [executable, "get"],
            input=server.encode(),
            capture_output=True,
            env=dict(env),
            timeout=HELPER_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        failure = f"did not answer within {HELPER_TIMEOUT:g} s"
    except OSError as error:
        failure = f"could not be started ({error.strerror or type(error).__name__})"
    # Raised outside the except blocks: TimeoutExpired carries the partial output, which must not ride
    # along as __context__.
    if failure is not None:
        raise AuthError(f"credential helper {program} {failure} when asked for {host}")

    if done.returncode != 0:
        said = (done.stdout + b"\n" + done.stderr).decode("utf-8", errors="replace").lower()
        if _NOT_FOUND in said:
            return None
        status = f"killed by signal {-done.returncode}" if done.returncode < 0 else f"exit status {done.returncode}"
        raise AuthError(
            f"credential helper {program} failed when asked for {host} ({status}); its output is not shown "
            "because it may contain the secret",
            hint=f"run `printf %s {quote(server)} | {program} get` yourself to see its message",
        )

    answer: Any = None
    try:
        answer, _ = json.JSONDecoder().raw_decode(done.stdout.decode("utf-8", errors="replace").lstrip())
    except ValueError:
        answer = None
    username = member(answer, "Username") if isinstance(answer, dict) else None
    secret = member(answer, "Secret") if isinstance(answer, dict) else None
    if not isinstance(answer, dict) or not isinstance(username or "", str) or not isinstance(secret or "", str):
        raise AuthError(
            f"credential helper {program} answered for {host} with something that is not "
            '{"Username": ..., "Secret": ...} JSON; the answer is not shown because it may contain the secret'
        )
    if not username and not secret:
        return None  # an all-empty answer is "nothing found" to containers/image
    return username or "", secret or ""
