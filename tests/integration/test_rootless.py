"""`imgctl build --push` as an unprivileged user with rootless podman, the way a GitLab runner works.

`.ci/run` creates the user (IMGCTL_ROOTLESS_USER). The user gets no podman service of ours: imgctl must
start a private rootless one itself. Credentials exist only in `$XDG_RUNTIME_DIR/containers/auth.json`,
where `podman login` puts them for a rootless user.
"""

from __future__ import annotations

import base64
import json
import os
import pwd
import shlex
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"


def _user() -> pwd.struct_passwd:
    name = os.environ.get("IMGCTL_ROOTLESS_USER")
    reason = None
    if not name:
        reason = "IMGCTL_ROOTLESS_USER is not set (.ci/run creates the user and sets it)"
    elif os.geteuid() != 0:
        reason = "running as a user needs root to switch users"
    elif not Path(SYSTEM_PYTHON).exists():
        reason = f"{SYSTEM_PYTHON} is missing"
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the rootless end-to-end test must run in CI: {reason}")
        pytest.skip(reason)
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pytest.fail(f"user {name} does not exist")


def _as_user(
    user: pwd.struct_passwd, env: dict[str, str], command: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    return subprocess.run(
        ["su", "-", user.pw_name, "-c", f"env {assignments} {command}"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _readable_copy(source: Path, target: Path) -> None:
    shutil.copytree(
        source, target, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", ".venv", ".git", "*.pyc")
    )


def test_build_and_push_as_a_rootless_ci_user(registry, tmp_path_factory: pytest.TempPathFactory) -> None:
    user = _user()
    busybox = shutil.which("busybox")
    assert busybox, "busybox-static is needed"
    # A place the user can read: our code, our dependencies, the project to build.
    base = Path(f"/tmp/imgctl-rootless-{os.getpid()}")
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(mode=0o755)
    try:
        _readable_copy(ROOT / "builder", base / "lib" / "builder")
        _readable_copy(Path(sysconfig.get_paths()["purelib"]), base / "site")
        project = base / "project"
        (project / "profiles").mkdir(parents=True)
        shutil.copy(busybox, project / "busybox")
        (project / "Containerfile").write_text(
            "FROM scratch\n"
            "COPY busybox /bin/busybox\n"
            'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
            "RUN echo built-rootless > /hello\n"
        )
        (project / "profiles" / "ci.toml").write_text(
            'image = "imgctl-it/rootless"\n'
            # As in CI runners that run podman in a container: no slirp4netns network for RUN (here
            # /dev/net/tun is root-only), chroot isolation works everywhere.
            'isolation = "chroot"\n'
            'tags = ["ci-{env:CI_JOB_ID}", "latest"]\n'
            f'push = ["{registry.host}/ci/rootless"]\n'
            f'[registries."{registry.host}"]\ntls_verify = false\n'
        )
        subprocess.run(["chmod", "-R", "a+rX", str(base)], check=True)
        subprocess.run(["chown", "-R", user.pw_name, str(project)], check=True)

        runtime_dir = Path(f"/tmp/imgctl-rootless-run-{user.pw_uid}-{os.getpid()}")
        runtime_dir.mkdir(mode=0o700)
        (runtime_dir / "containers").mkdir(mode=0o700)
        token = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
        (runtime_dir / "containers" / "auth.json").write_text(json.dumps({"auths": {registry.host: {"auth": token}}}))
        (runtime_dir / "containers" / "auth.json").chmod(0o600)
        subprocess.run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}", str(runtime_dir)], check=True)

        # The user's own podman configuration: runc and vfs, which work on these machines (ENVIRONMENT.md).
        config = Path(user.pw_dir) / ".config" / "containers"
        config.mkdir(parents=True, exist_ok=True)
        (config / "containers.conf").write_text(
            '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]\n[engine]\nruntime = "runc"\n'
        )
        (config / "storage.conf").write_text('[storage]\ndriver = "vfs"\n')
        subprocess.run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}", str(Path(user.pw_dir) / ".config")], check=True)

        env = {
            "XDG_RUNTIME_DIR": str(runtime_dir),
            "PYTHONPATH": f"{base / 'lib'}:{base / 'site'}",
            "CI": "true",
            "CI_JOB_ID": "4242",
            "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        }
        done = _as_user(user, env, f"sh -c 'cd {project} && {SYSTEM_PYTHON} -m builder build ci --push --json'")
        assert done.returncode == 0, done.stdout + done.stderr
        document = json.loads(done.stdout)
        pushed = {p["reference"]: p["digest"] for p in document["pushed"][0]["pushed"]}
        assert set(pushed) == {f"{registry.host}/ci/rootless:ci-4242", f"{registry.host}/ci/rootless:latest"}

        # The registry itself has both tags, with the digests imgctl reported.
        for reference, digest in pushed.items():
            tag = reference.rsplit(":", 1)[1]
            response = requests.head(
                f"http://{registry.host}/v2/ci/rootless/manifests/{tag}",
                auth=(registry.username, registry.password),
                headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
                timeout=10,
            )
            assert response.status_code == 200
            assert response.headers["Docker-Content-Digest"] == digest
        assert registry.password not in done.stdout + done.stderr
    finally:
        subprocess.run(["chmod", "-R", "u+rwX", str(base)], check=False)
        shutil.rmtree(base, ignore_errors=True)
        for leftover in Path("/tmp").glob(f"imgctl-rootless-run-{user.pw_uid}-{os.getpid()}"):
            shutil.rmtree(leftover, ignore_errors=True)
        # The user's rootless storage is the user's; stop anything of ours still running there.
        subprocess.run(["pkill", "-u", user.pw_name, "-f", "podman system service"], check=False)
