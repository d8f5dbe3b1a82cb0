"""`imgctl push`, `build --push`, `auth check` and `save` against real registries (Debian's docker-registry).

Every credential case is proven by a real push that succeeds or fails as containers-auth.json(5) says.
Faults come from a real proxy in front of the registry; TLS from a CA the fixtures generate.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import tarfile
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.integration.conftest import BASE_IMAGE, PodmanService

pytestmark = pytest.mark.integration


def auth_entry(username: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{username}:{password}".encode()).decode()}


def write_json(path: Path, document: dict, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    path.chmod(mode)
    return path


class Project:
    """A project with one small image built, and a clean credential environment of its own."""

    def __init__(self, service: PodmanService, root: Path, registry_host: str) -> None:
        self.service = service
        self.root = root
        self.registry_host = registry_host
        self.home = root / "home"
        self.runtime = root / "run"
        self.home.mkdir(parents=True)
        self.runtime.mkdir(mode=0o700)
        self.name = f"imgctl-it/push-{uuid.uuid4().hex[:8]}"
        (root / "profiles").mkdir()
        (root / "payload.txt").write_text(f"payload {self.name}\n")
        (root / "Containerfile").write_text(f"FROM {BASE_IMAGE}\nCOPY payload.txt /payload.txt\n")
        self.write_profile()

    def write_profile(self, extra: str = "", tags: str = '["1.0", "latest"]') -> None:
        (self.root / "profiles" / "app.toml").write_text(f'image = "{self.name}"\ntags = {tags}\n{extra}')

    def env(self, **extra: str) -> dict[str, str]:
        # The podman service has a HOME of its own (certs.d); credentials live in this project's dirs.
        env = {
            "XDG_RUNTIME_DIR": str(self.runtime),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "DOCKER_CONFIG": str(self.home / ".docker"),
        }
        env.update(extra)
        return env

    def run(self, *args: str, **extra: str):
        return self.service.imgctl(*args, cwd=self.root, env=self.env(**extra))

    def build(self) -> None:
        done = self.run("build", "app")
        assert done.returncode == 0, done.stderr

    def push(self, repo: str, *args: str, host: str | None = None, **extra: str):
        return self.run(
            "push",
            "app",
            "--to",
            f"{host or self.registry_host}/{repo}",
            "--tls-verify=false",
            "--retry-delay",
            "0.05",
            *args,
            **extra,
        )


def registry_digest(registry, repo: str, tag: str, scheme: str = "http", verify: bool | str = False) -> str | None:
    response = requests.head(
        f"{scheme}://{registry.host}/v2/{repo}/manifests/{tag}",
        auth=(registry.username, registry.password),
        headers={
            "Accept": "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
        },
        verify=verify,
        timeout=10,
    )
    return response.headers.get("Docker-Content-Digest") if response.status_code == 200 else None


@pytest.fixture
def project(podman_service: PodmanService, registry, tmp_path: Path) -> Project:
    built = Project(podman_service, tmp_path / "proj", registry.host)
    built.build()
    return built


def xdg_auth(project: Project, registry, key: str | None = None, password: str | None = None) -> Path:
    return write_json(
        project.runtime / "containers" / "auth.json",
        {"auths": {key or registry.host: auth_entry(registry.username, password or registry.password)}},
    )


def test_push_every_tag_with_proven_digests_and_files(project: Project, registry) -> None:
    xdg_auth(project, registry)
    digestfile = project.root / "digest"
    metadata = project.root / "meta.json"
    done = project.push("team/app", "--json", "--digestfile", str(digestfile), "--metadata-file", str(metadata))
    assert done.returncode == 0, done.stderr
    pushed = json.loads(done.stdout)["pushed"][0]["pushed"]
    assert {p["reference"] for p in pushed} == {f"{registry.host}/team/app:1.0", f"{registry.host}/team/app:latest"}
    for entry in pushed:
        tag = entry["reference"].rsplit(":", 1)[1]
        assert entry["digest"] == registry_digest(registry, "team/app", tag)
        assert entry["reference_with_digest"] == f"{registry.host}/team/app@{entry['digest']}"
    assert digestfile.read_text() == pushed[0]["digest"]
    assert json.loads(metadata.read_text())["pushed"][0]["pushed"] == pushed


def test_later_tags_are_written_in_the_registry_with_the_first_tags_digest(project: Project, registry) -> None:
    xdg_auth(project, registry)
    project.write_profile(tags='["1.0", "1", "latest"]')
    project.build()
    done = project.push("team/three")
    assert done.returncode == 0, done.stderr
    digests = {registry_digest(registry, "team/three", tag) for tag in ("1.0", "1", "latest")}
    assert len(digests) == 1 and None not in digests
    digest = digests.pop()
    assert all(f"{registry.host}/team/three:{tag} | pushed {digest}" in done.stderr for tag in ("1.0", "1", "latest"))
    # The engine pushed the first tag; the other two are one manifest PUT each.
    for tag in ("1", "latest"):
        assert f"{registry.host}/team/three:{tag} | tagged in the registry (the manifest of :1.0)" in done.stderr


def test_build_push_to_several_destinations(podman_service: PodmanService, registry, tmp_path: Path) -> None:
    project = Project(podman_service, tmp_path / "multi", registry.host)
    xdg_auth(project, registry)
    project.write_profile(
        f'push = ["{registry.host}/one/app", "{registry.host}/two/app"]\n'
        f'[registries."{registry.host}"]\ntls_verify = false\n'
    )
    done = project.run("build", "app", "--push", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["images"][0]["profile"] == "app"
    references = {p["reference"] for p in document["pushed"][0]["pushed"]}
    assert references == {f"{registry.host}/{r}/app:{t}" for r in ("one", "two") for t in ("1.0", "latest")}
    for repo in ("one/app", "two/app"):
        assert registry_digest(registry, repo, "latest")


# --- where credentials come from: each rule of containers-auth.json(5), proven by a real push -------------


def test_authfile_flag_wins_over_the_runtime_file(project: Project, registry) -> None:
    xdg_auth(project, registry, password="wrong-password")
    good = write_json(
        project.root / "given.json", {"auths": {registry.host: auth_entry(registry.username, registry.password)}}
    )
    assert project.push("order/a", "--authfile", str(good)).returncode == 0
    assert project.push("order/b", REGISTRY_AUTH_FILE=str(good)).returncode == 0


def test_the_first_file_with_a_key_wins_even_when_wrong(project: Project, registry) -> None:
    xdg_auth(project, registry, password="wrong-password")
    write_json(
        project.home / ".config" / "containers" / "auth.json",
        {"auths": {registry.host: auth_entry(registry.username, registry.password)}},
    )
    done = project.push("order/c")
    assert done.returncode == 3, done.stderr
    assert str(project.runtime / "containers" / "auth.json") in done.stderr
    assert f"podman login {registry.host}" in done.stderr


@pytest.mark.parametrize("where", ["config_home", "docker_config", "dockercfg"])
def test_later_files_are_found(project: Project, registry, where: str) -> None:
    entry = auth_entry(registry.username, registry.password)
    if where == "config_home":
        write_json(project.home / ".config" / "containers" / "auth.json", {"auths": {registry.host: entry}})
    elif where == "docker_config":
        write_json(project.home / ".docker" / "config.json", {"auths": {f"http://{registry.host}/v1/": entry}})
    else:
        write_json(Path(project.service.env["HOME"]) / ".dockercfg", {registry.host: entry})
    try:
        done = project.push(f"files/{where}")
        assert done.returncode == 0, done.stderr
    finally:
        (Path(project.service.env["HOME"]) / ".dockercfg").unlink(missing_ok=True)


def test_most_specific_key_first(project: Project, registry) -> None:
    write_json(
        project.runtime / "containers" / "auth.json",
        {
            "auths": {
                f"{registry.host}/team/app": auth_entry(registry.username, registry.password),
                registry.host: auth_entry(registry.username, "wrong-password"),
            }
        },
    )
    assert project.push("team/app").returncode == 0
    refused = project.push("team/other")
    assert refused.returncode == 3
    assert f"key {registry.host}" in refused.stderr


def helper_script(directory: Path, name: str, username: str, secret: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / f"docker-credential-{name}"
    script.write_text(
        "#!/bin/sh\n"
        '[ "$1" = get ] || exit 1\n'
        "read -r host\n"
        f'printf \'{{"ServerURL":"%s","Username":"{username}","Secret":"{secret}"}}\' "$host"\n'
    )
    script.chmod(0o755)
    return directory


@pytest.mark.parametrize("style", ["credHelpers", "credsStore"])
def test_credential_helpers(project: Project, registry, style: str) -> None:
    bin_dir = helper_script(project.root / "bin", "imgctltest", registry.username, registry.password)
    config = {"credHelpers": {registry.host: "imgctltest"}} if style == "credHelpers" else {"credsStore": "imgctltest"}
    # A wrong auths entry in the same file: the helper must win over it.
    config["auths"] = {registry.host: auth_entry(registry.username, "wrong-password")} if style == "credHelpers" else {}
    write_json(project.home / ".docker" / "config.json", config)
    done = project.push(f"helpers/{style.lower()}", PATH=f"{bin_dir}:{os.environ['PATH']}")
    assert done.returncode == 0, done.stderr


def test_identity_token_entry_next_to_auth(project: Project, registry) -> None:
    entry = {**auth_entry(registry.username, registry.password), "identitytoken": "idtoken-secret-value"}
    write_json(project.runtime / "containers" / "auth.json", {"auths": {registry.host: entry}})
    done = project.push("token/app", "--debug")
    assert done.returncode == 0, done.stderr
    assert "idtoken-secret-value" not in done.stdout + done.stderr


def test_missing_credentials_say_what_was_tried(project: Project, registry) -> None:
    done = project.push("none/app")
    assert done.returncode == 3
    assert registry.host in done.stderr
    assert "no credentials" in done.stderr
    assert str(project.runtime / "containers" / "auth.json") in done.stderr
    assert f"podman login {registry.host}" in done.stderr
    assert "Traceback" not in done.stderr


# --- faults --------------------------------------------------------------------------------------------


def test_503_answers_are_retried(project: Project, registry, make_proxy) -> None:
    xdg_auth(project, registry)
    proxy = make_proxy(registry.host, fail_first=3, status=503)
    write_json(
        project.runtime / "containers" / "auth.json",
        {"auths": {proxy.host: auth_entry(registry.username, registry.password)}},
    )
    done = project.push("faults/503", "--json", "--retries", "5", host=proxy.host)
    assert done.returncode == 0, done.stderr
    assert proxy.failures_sent == 3
    # podman reports the 503 once it gives up; imgctl's own retry then completes the push.
    assert max(p["attempts"] for p in json.loads(done.stdout)["pushed"][0]["pushed"]) >= 2
    assert registry_digest(registry, "faults/503", "latest")


def test_connection_dropped_mid_upload_is_retried(
    podman_service: PodmanService, registry, make_proxy, tmp_path: Path
) -> None:
    project = Project(podman_service, tmp_path / "big", registry.host)
    (project.root / "payload.txt").write_bytes(os.urandom(3 * 1024 * 1024))
    project.build()
    proxy = make_proxy(registry.host, drop_after_bytes=1024 * 1024, drop_times=6)
    write_json(
        project.runtime / "containers" / "auth.json",
        {"auths": {proxy.host: auth_entry(registry.username, registry.password)}},
    )
    done = project.push("faults/drop", "--json", host=proxy.host)
    assert done.returncode == 0, done.stderr
    # containers/image retries some cut uploads by itself and reports others ("use of closed network
    # connection"); imgctl retries those. Either way the push completes and the registry holds the tag.
    assert proxy.drops == 6
    assert registry_digest(registry, "faults/drop", "1.0")


def test_registry_down_is_exit_6_without_a_retry_storm(project: Project, registry, make_proxy) -> None:
    proxy = make_proxy(registry.host)
    host = proxy.host
    proxy.stop()
    xdg_auth(project, registry, key=host)
    started = time.monotonic()
    done = project.push("down/app", "--retries", "2", host=host)
    elapsed = time.monotonic() - started
    assert done.returncode == 6, done.stderr
    assert host in done.stderr
    assert "3 attempts" in done.stderr
    assert elapsed < 60


def test_tls_with_an_unknown_ca(podman_service: PodmanService, tls_registry, tmp_path: Path) -> None:
    project = Project(podman_service, tmp_path / "tls", tls_registry.host)
    project.build()
    xdg_auth(project, tls_registry)
    target = f"{tls_registry.host}/tls/app"
    refused = project.run("push", "app", "--to", target, "--retries", "0")
    assert refused.returncode == 6, refused.stderr
    assert "cert" in refused.stderr.lower()
    accepted = project.run("push", "app", "--to", target, "--cert-dir", str(tls_registry.ca_dir), "--json")
    assert accepted.returncode == 0, accepted.stderr
    # The CA link imgctl placed for the service is gone again.
    assert not (Path(podman_service.env["HOME"]) / ".config" / "containers" / "certs.d" / tls_registry.host).exists()
    unverified = project.run("push", "app", "--to", f"{tls_registry.host}/tls/unverified", "--tls-verify=false")
    assert unverified.returncode == 0, unverified.stderr
    assert registry_digest(
        tls_registry, "tls/app", "latest", scheme="https", verify=str(tls_registry.ca_dir / "ca.crt")
    )


# --- secrets never show -----------------------------------------------------------------------------------


def test_no_secret_in_any_output_with_debug(project: Project, registry) -> None:
    auth_file = xdg_auth(project, registry)
    secrets = [registry.password, json.loads(auth_file.read_text())["auths"][registry.host]["auth"]]
    outputs = []
    for args in (
        ("--debug", "push", "app", "--to", f"{registry.host}/secret/app", "--tls-verify=false"),
        ("--debug", "build", "app", "--push", "--to", f"{registry.host}/secret/app2", "--tls-verify=false"),
        ("--debug", "auth", "check", f"{registry.host}/secret/app", "--tls-verify=false"),
        (
            "--debug",
            "push",
            "app",
            "--to",
            f"{registry.host}/secret/app",
            "--tls-verify=false",
            "--authfile",
            str(project.root / "nope.json"),
        ),
    ):
        done = project.run(*args)
        outputs.append(done.stdout + done.stderr)
    write_json(
        project.runtime / "containers" / "auth.json",
        {"auths": {registry.host: auth_entry(registry.username, registry.password + "x")}},
    )
    done = project.run("--debug", "push", "app", "--to", f"{registry.host}/secret/app", "--tls-verify=false")
    assert done.returncode == 3
    outputs.append(done.stdout + done.stderr)
    service_log = (project.service.root / "service.log").read_text(errors="replace")
    for secret in [*secrets, registry.password + "x"]:
        for output in [*outputs, service_log]:
            assert secret not in output


# --- auth check and save ------------------------------------------------------------------------------------


def test_auth_check_names_the_file_and_key_and_asks_the_registry(project: Project, registry) -> None:
    auth_file = xdg_auth(project, registry)
    auth_file.chmod(0o644)
    done = project.run("auth", "check", f"{registry.host}/check/app", "--tls-verify=false", "--json")
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)["destinations"][0]
    assert row["credentials"] == f"{auth_file} (key {registry.host})"
    assert row["result"].startswith("accepted")
    assert any("readable by other users" in w or "0644" in w for w in row["warnings"])
    xdg_auth(project, registry, password="wrong-password")
    refused = project.run("auth", "check", f"{registry.host}/check/app", "--tls-verify=false")
    assert refused.returncode == 3
    assert "refused" in refused.stdout


@pytest.mark.parametrize(("fmt", "member"), [("oci-archive", "index.json"), ("docker-archive", "manifest.json")])
def test_save_writes_an_archive(project: Project, fmt: str, member: str) -> None:
    output = project.root / f"image-{fmt}.tar"
    done = project.run("save", "app", "-o", str(output), "--format", fmt)
    assert done.returncode == 0, done.stderr
    with tarfile.open(output) as archive:
        assert member in archive.getnames()
    assert not [p for p in project.root.iterdir() if "imgctl-partial" in p.name]
    assert stat.S_ISREG(output.stat().st_mode)


def test_private_base_image_is_pulled_with_client_side_credentials(
    podman_service: PodmanService, registry, tmp_path: Path
) -> None:
    base = f"{registry.host}/private/busybox:1"
    podman_service.podman("tag", BASE_IMAGE, base)
    podman_service.podman("push", "--tls-verify=false", "--creds", f"{registry.username}:{registry.password}", base)
    podman_service.podman("rmi", base)
    project = Project(podman_service, tmp_path / "private", registry.host)
    (project.root / "Containerfile").write_text(f"FROM {base}\nCOPY payload.txt /payload.txt\n")
    project.write_profile(f'[registries."{registry.host}"]\ntls_verify = false\n')
    # Without credentials the service cannot pull the base image: the build fails and says so.
    refused = project.run("build", "app")
    assert refused.returncode == 5, refused.stderr
    assert "unauthorized" in refused.stderr.lower() or "authentication" in refused.stderr.lower()
    # With them only in the caller's runtime auth file (which the service never reads), it works.
    xdg_auth(project, registry)
    done = project.run("build", "app")
    assert done.returncode == 0, done.stderr
    assert registry.password not in done.stdout + done.stderr


def test_save_writes_through_a_fifo_and_a_link_to_a_device(project: Project) -> None:
    """`-o` that is not a regular file is written through, as `podman save -o` does, never replaced."""
    fifo = project.root / "pipe"
    os.mkfifo(fifo)
    received: list[int] = []
    reader = threading.Thread(target=lambda: received.append(len(fifo.read_bytes())), daemon=True)
    reader.start()
    done = project.run("save", "app", "-o", str(fifo))
    reader.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and received and received[0] > 0

    null = project.root / "null"
    null.symlink_to("/dev/null")
    done = project.run("save", "app", "-o", str(null), "--format", "docker-archive")
    assert done.returncode == 0, done.stderr
    assert null.is_symlink() and os.readlink(null) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert not [p for p in project.root.iterdir() if "imgctl-partial" in p.name]


def test_push_of_an_image_never_built_is_exit_7_and_says_build_first(project: Project, registry) -> None:
    project.write_profile(tags='["never-built"]')
    done = project.push("never/app")
    assert done.returncode == 7, done.stderr
    assert "does not exist locally" in done.stderr
    assert "imgctl build app" in done.stderr
