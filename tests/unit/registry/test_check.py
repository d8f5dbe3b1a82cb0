"""builder.registry.check and `imgctl auth check` against real registries (Debian's docker-registry) and
the fault proxy (tests/registry_fixtures.py): only the registry's own 401/403 is "refused" (exit 3); a
registry that cannot be asked is "unreachable" (exit 6), with the hint for its cause."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from builder.errors import AuthError, RegistryError
from builder.registry.check import LoginCheck, check_login, raise_for_failures
from builder.registry.transport import TLSConfig
from tests.registry_fixtures import Cred, Registry, free_port

ROOT = Path(__file__).resolve().parents[3]
PLAIN = TLSConfig(verify=False)

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def imgctl(tmp_path: Path, host: str, user: str | None, password: str | None, *args: str) -> Run:
    """`imgctl auth check HOST/team/app ARGS` in a clean environment whose runtime auth file holds `user`
    and `password` under the key `host` (the registry itself, or a proxy in front of it)."""
    runtime = tmp_path / "run"
    (runtime / "containers").mkdir(parents=True, exist_ok=True)
    auths = {}
    if user and password:
        auths[host] = {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
    auth_file = runtime / "containers" / "auth.json"
    auth_file.write_text(json.dumps({"auths": auths}))
    auth_file.chmod(0o600)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "XDG_RUNTIME_DIR": str(runtime),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "builder", "auth", "check", f"{host}/team/app", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def assert_no_secret(run: Run, registry: Registry) -> None:
    assert registry.password is not None
    token = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    for text in (run.stdout, run.stderr):
        assert registry.password not in text and token not in text


# --------------------------------------------------------------------------------------------------
# The decision, called directly


def test_good_credentials_are_accepted(registry: Registry) -> None:
    check = check_login(registry.host, Cred(registry.host, registry.username, registry.password), PLAIN)
    assert check.accepted and check.verdict == "accepted: Basic auth accepted"
    raise_for_failures([check])  # nothing to raise


def test_a_wrong_password_is_refused_exit_3(registry: Registry) -> None:
    check = check_login(registry.host, Cred(registry.host, registry.username, "wrong-password"), PLAIN)
    assert isinstance(check.error, AuthError) and check.verdict.startswith("refused: ")
    assert "wrong-password" not in check.verdict
    with pytest.raises(AuthError) as caught:
        raise_for_failures([check])
    assert caught.value.exit_code == 3


def test_a_dead_port_is_unreachable_exit_6() -> None:
    check = check_login(f"127.0.0.1:{free_port()}", None, PLAIN)
    assert isinstance(check.error, RegistryError) and check.verdict.startswith("unreachable: ")
    assert "connection refused" in check.verdict
    assert "is the registry running" in (check.error.hint or "")
    with pytest.raises(RegistryError) as caught:
        raise_for_failures([check])
    assert caught.value.exit_code == 6


def test_a_refusal_decides_over_an_unreachable_registry() -> None:
    unreachable = LoginCheck("a:1", None, RegistryError("down"))
    refused = LoginCheck("b:1", None, AuthError("refused"))
    accepted = LoginCheck("c:1", "anonymous access", None)
    with pytest.raises(AuthError):
        raise_for_failures([unreachable, refused, accepted])
    with pytest.raises(RegistryError):
        raise_for_failures([accepted, unreachable])


# --------------------------------------------------------------------------------------------------
# `imgctl auth check`: the exit code and the hint for each way a registry cannot be asked


def test_cli_accepted_is_exit_0(tmp_path: Path, registry: Registry) -> None:
    done = imgctl(tmp_path, registry.host, registry.username, registry.password, "--tls-verify=false")
    assert done.returncode == 0, done.stderr
    assert "accepted" in done.stdout
    assert_no_secret(done, registry)


def test_cli_refused_is_exit_3(tmp_path: Path, registry: Registry) -> None:
    done = imgctl(tmp_path, registry.host, registry.username, "wrong-password", "--tls-verify=false")
    assert done.returncode == 3, done.stderr
    assert "refused" in done.stdout and "podman login" in done.stderr
    assert "wrong-password" not in done.stdout + done.stderr


def test_cli_dead_port_is_exit_6(tmp_path: Path, registry: Registry) -> None:
    host = f"127.0.0.1:{free_port()}"
    done = imgctl(tmp_path, host, registry.username, registry.password, "--tls-verify=false")
    assert done.returncode == 6, done.stdout + done.stderr
    assert "unreachable" in done.stdout and "refused:" not in done.stdout
    assert "connection refused" in done.stderr
    assert "is the registry running, and are the host and port right?" in done.stderr
    assert_no_secret(done, registry)


def test_cli_reset_connection_is_exit_6(tmp_path: Path, registry: Registry, make_proxy) -> None:
    proxy = make_proxy(registry, drop_after_bytes=0, drop_times=1000)
    done = imgctl(tmp_path, proxy.host, registry.username, registry.password, "--tls-verify=false")
    assert done.returncode == 6, done.stdout + done.stderr
    assert "unreachable" in done.stdout and "connection reset" in done.stderr
    assert "proxy" in done.stderr and "network" in done.stderr
    assert proxy.drops >= 2  # asked again once before giving up
    assert_no_secret(done, registry)


def test_cli_503_is_exit_6(tmp_path: Path, registry: Registry, make_proxy) -> None:
    proxy = make_proxy(registry, fail_first=1000, status=503, fail_tls=False)
    done = imgctl(tmp_path, proxy.host, registry.username, registry.password, "--tls-verify=false")
    assert done.returncode == 6, done.stdout + done.stderr
    assert "unreachable" in done.stdout and "HTTP 503" in done.stderr
    assert "the registry is unavailable; try again later" in done.stderr
    assert proxy.failures_sent == 2  # asked again once before giving up
    assert_no_secret(done, registry)


def test_cli_tls_mismatch_is_exit_6(tmp_path: Path, tls_registry: Registry) -> None:
    # verification on, and the registry's CA not given
    done = imgctl(tmp_path, tls_registry.host, tls_registry.username, tls_registry.password)
    assert done.returncode == 6, done.stdout + done.stderr
    assert "unreachable" in done.stdout and "not trusted" in done.stderr
    assert "cert_dir" in done.stderr and "--tls-verify=false" in done.stderr
    assert_no_secret(done, tls_registry)
