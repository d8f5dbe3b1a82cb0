"""`imgctl build` end to end: the real CLI, a real podman service, images read back with podman itself."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import BASE_IMAGE, PodmanService
from tests.trees import write_tree

pytestmark = pytest.mark.integration




def tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def run_in(service: PodmanService, image: str, *command: str) -> str:
    return service.podman("run", "--rm", image, *command).stdout


MULTI_STAGE = f"""\
FROM {BASE_IMAGE} AS base
ARG GREETING=hello
RUN echo "$GREETING" > /greeting
FROM base AS final
COPY app/ /app/
RUN cat /greeting > /app/greeting.txt
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "proj",
        {
            "Containerfile": MULTI_STAGE,
            "app/main.sh": "echo main\n",
            "profiles/app.toml": (
                'image = "localhost/imgctl-it/app"\n'
                'version = "2.1.0"\n'
                'tags = ["{version}", "{profile}-{env:IT_SUFFIX:-local}"]\n'
                "[labels]\n"
                '"com.example.team" = "platform"\n'
                '"com.example.version" = "{version}"\n'
                "[build_args]\n"
                'GREETING = "bonjour {version}"\n'
            ),
        },
    )


def test_multi_stage_build_with_args_labels_and_templated_tags(podman_service: PodmanService, project: Path) -> None:
    done = podman_service.imgctl("build", "app", "--json", cwd=project / "app", env={"IT_SUFFIX": "ci"})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["images"][0]
    assert result["profile"] == "app"
    assert set(result["tags"]) == {"localhost/imgctl-it/app:2.1.0", "localhost/imgctl-it/app:app-ci"}
    assert result["size"] > 0 and result["seconds"] > 0

    image = podman_service.inspect("localhost/imgctl-it/app:app-ci")
    assert image["Id"].startswith(result["image_id"]) or result["image_id"].startswith(image["Id"])
    assert set(result["tags"]) <= set(image["RepoTags"])
    labels = image["Labels"]
    assert labels["com.example.team"] == "platform"
    assert labels["com.example.version"] == "2.1.0"
    assert labels["org.opencontainers.image.version"] == "2.1.0"
    assert labels["org.opencontainers.image.title"] == "app"
    assert labels["org.opencontainers.image.created"].endswith("Z")
    assert run_in(podman_service, "localhost/imgctl-it/app:2.1.0", "cat", "/app/greeting.txt") == "bonjour 2.1.0\n"


def test_target_stage_only(podman_service: PodmanService, project: Path) -> None:
    done = podman_service.imgctl("build", "app", "--target", "base", "--tag", "base-only", cwd=project)
    assert done.returncode == 0, done.stderr
    out = run_in(podman_service, "localhost/imgctl-it/app:base-only", "ls", "/")
    assert "app" not in out.split()
    assert "greeting" in out.split()


def test_cached_target_gets_the_labels_of_each_build(podman_service: PodmanService, project: Path) -> None:
    """Podman drops --label on a fully cached --target stage; imgctl must still deliver each build's labels."""
    for value in ("one", "two", "one"):
        done = podman_service.imgctl(
            "build", "app", "--target", "base", "--tag", "cached", "--label", f"com.example.run={value}", cwd=project
        )
        assert done.returncode == 0, done.stderr
        labels = podman_service.inspect("localhost/imgctl-it/app:cached")["Labels"]
        assert labels["com.example.run"] == value
    # A label set by an earlier build must not leak into a later cached build that does not ask for it.
    done = podman_service.imgctl("build", "app", "--target", "base", "--tag", "cached", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "com.example.run" not in podman_service.inspect("localhost/imgctl-it/app:cached")["Labels"]


def test_containerfile_outside_the_context_leaves_the_context_untouched(
    podman_service: PodmanService, tmp_path: Path
) -> None:
    root = write_tree(
        tmp_path / "outside",
        {
            "build/Containerfile": f"FROM {BASE_IMAGE}\nCOPY . /src/\n",
            "src/hello.txt": "hi\n",
            "profiles/out.toml": (
                'image = "imgctl-it/outside"\ncontainerfile = "build/Containerfile"\ncontext = "src"\n'
            ),
        },
    )
    before = tree(root / "src")
    done = podman_service.imgctl("build", "out", cwd=root)
    assert done.returncode == 0, done.stderr
    assert tree(root / "src") == before
    listing = run_in(podman_service, "localhost/imgctl-it/outside:latest", "ls", "-a", "/src").split()
    assert sorted(listing) == [".", "..", "hello.txt"]


def test_context_with_symlinks_and_ignored_directories(podman_service: PodmanService, tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "links",
        {
            "Containerfile": f"FROM {BASE_IMAGE}\nCOPY . /ctx/\n",
            ".containerignore": "**/node_modules\n*.log\n!keep.log\ncache/\n",
            "src/app.js": "console.log(1)\n",
            "src/node_modules/dep/index.js": "x\n",
            "node_modules/big/file.bin": "y" * 1000,
            "cache/blob": "z\n",
            "debug.log": "no\n",
            "keep.log": "yes\n",
            "profiles/links.toml": 'image = "imgctl-it/links"\n',
        },
    )
    (root / "src" / "link-to-app.js").symlink_to("app.js")
    outside = tmp_path / "secret-outside.txt"
    outside.write_text("must not travel\n")
    (root / "src" / "escape").symlink_to(outside)
    os.chmod(root / "src" / "app.js", 0o750)

    done = podman_service.imgctl("build", "links", cwd=root)
    assert done.returncode == 0, done.stderr
    image = "localhost/imgctl-it/links:latest"
    files = run_in(podman_service, image, "find", "/ctx").split()
    assert "/ctx/src/app.js" in files and "/ctx/keep.log" in files
    assert not [f for f in files if "node_modules" in f or f.startswith("/ctx/cache") or f == "/ctx/debug.log"]
    assert run_in(podman_service, image, "readlink", "/ctx/src/link-to-app.js").strip() == "app.js"
    assert run_in(podman_service, image, "readlink", "/ctx/src/escape").strip() == str(outside)
    # The link's target outside the context was never read: its content is nowhere in the image.
    grep = podman_service.podman("run", "--rm", image, "grep", "-r", "must not travel", "/ctx", check=False)
    assert grep.returncode == 1 and grep.stdout == ""
    mode = run_in(podman_service, image, "stat", "-c", "%a %u %g", "/ctx/src/app.js").split()
    assert mode == ["750", "0", "0"]


def test_failing_run_step_reports_step_status_and_output(podman_service: PodmanService, tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "fail",
        {
            "Containerfile": f"FROM {BASE_IMAGE}\nRUN echo preparing && echo 'disk on fire' >&2 && exit 3\n",
            "profiles/fail.toml": 'image = "imgctl-it/fail"\n',
        },
    )
    done = podman_service.imgctl("build", "fail", cwd=root)
    assert done.returncode == 5, done.stderr
    assert "exit status 3" in done.stderr
    assert "RUN echo preparing" in done.stderr
    assert "disk on fire" in done.stderr
    assert "Traceback" not in done.stderr


def test_plain_log_streams_while_the_build_runs(podman_service: PodmanService, tmp_path: Path) -> None:
    """The step's first line reaches imgctl's log while the step is still running.

    Decided by state, not by the clock: the RUN step waits in a `sleep` only this test runs, and that
    process must still be alive when its first line is read. The test then ends the sleep itself, so the
    step finishes (and the build succeeds) without waiting for it.
    """
    marker = 900 + os.getpid() % 90  # a sleep only this test runs, to find its process
    root = write_tree(
        tmp_path / "slow",
        {
            "Containerfile": f"FROM {BASE_IMAGE}\nRUN echo first-line && sleep {marker} ; echo second-line\n",
            "profiles/slow.toml": 'image = "imgctl-it/slow"\nno_cache = true\n',
        },
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "builder", "build", "slow"],
        cwd=root,
        env={**podman_service.env, "CONTAINER_HOST": podman_service.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    running_at_first_line = None
    seen_second = False
    try:
        for line in proc.stderr:
            if "first-line" in line and "echo" not in line and running_at_first_line is None:
                running_at_first_line = bool(_processes(f"sleep {marker}"))
                _kill_processes(f"sleep {marker}")
            if "second-line" in line and "echo" not in line:
                seen_second = True
        proc.wait(timeout=60)
    finally:
        _kill_processes(f"sleep {marker}")
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert running_at_first_line is True, "the first line arrived only after the step had ended"
    assert seen_second


def _kill_processes(marker: str) -> None:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            if args == marker:
                os.kill(int(cmdline.parent.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


def test_dry_run_never_touches_the_engine(podman_service: PodmanService, project: Path) -> None:
    done = podman_service.imgctl(
        "build", "app", "--dry-run", "--json", cwd=project, env={"CONTAINER_HOST": "unix:///nonexistent/podman.sock"}
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)["plans"][0]
    assert plan["build_params"]["buildargs"] == json.dumps({"GREETING": "bonjour 2.1.0"})
    assert plan["context"]["files"] == 3  # Containerfile, app/main.sh, profiles/app.toml


def _private_service_processes(marker: str) -> list[str]:
    return [args for args in _processes(marker) if "system service" in args]


def _processes(marker: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended while we looked
            continue
        if marker in args:
            found.append(args)
    return found


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_interrupt_stops_the_private_service_and_leaves_nothing(
    podman_service: PodmanService, tmp_path: Path, sig: int
) -> None:
    if Path("/run/podman/podman.sock").exists() and not os.environ.get("CI"):
        pytest.skip("a system podman socket exists here; imgctl would use it instead of a private service")
    marker = 600 + int(sig)  # a sleep only this test runs, to find its process
    root = write_tree(
        tmp_path / "ctrlc",
        {
            "Containerfile": f"FROM {BASE_IMAGE}\nRUN echo started && sleep {marker}\n",
            "profiles/ctrlc.toml": 'image = "imgctl-it/ctrlc"\nno_cache = true\n',
        },
    )
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**podman_service.env, "TMPDIR": str(tmp)}
    env.pop("CONTAINER_HOST", None)
    containers = _working_containers(podman_service)  # the private service shares the test storage
    proc = subprocess.Popen(
        [sys.executable, "-m", "builder", "build", "ctrlc"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "started" in line and "echo" not in line:
            break
    assert _private_service_processes(str(tmp)), "imgctl should have started a private service:\n" + "".join(seen)
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert proc.returncode == 130
    assert list(tmp.iterdir()) == []
    deadline = time.monotonic() + 10
    while _private_service_processes(str(tmp)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _private_service_processes(str(tmp)) == []
    assert _processes(f"sleep {marker}") == [], "the interrupted RUN step is still running"
    assert _working_containers(podman_service) - containers == set(), "the interrupted build left its working container"


def test_build_secret_is_usable_in_run_and_lands_nowhere(podman_service: PodmanService, tmp_path: Path) -> None:
    secret_value = "s3cr3t-Value-9f1c"
    root = write_tree(
        tmp_path / "secret",
        {
            "Containerfile": (
                f"FROM {BASE_IMAGE}\n"
                "COPY . /ctx/\n"
                # Only a digest of the secret is kept, so the value itself appears in no file or log.
                "RUN --mount=type=secret,id=token sha256sum /run/secrets/token | cut -c1-64 > /checked\n"
            ),
            ".containerignore": "secrets/\n",
            "secrets/token.txt": secret_value,
            "src/a.txt": "a\n",
            "profiles/secret.toml": (
                'image = "imgctl-it/secret"\nno_cache = true\n[secrets]\ntoken = "secrets/token.txt"\n'
            ),
        },
    )
    done = podman_service.imgctl("--debug", "build", "secret", cwd=root)
    assert done.returncode == 0, done.stderr
    assert secret_value not in done.stdout + done.stderr
    image = "localhost/imgctl-it/secret:latest"
    assert run_in(podman_service, image, "cat", "/checked") == hashlib.sha256(secret_value.encode()).hexdigest() + "\n"
    listing = run_in(podman_service, image, "find", "/ctx").split()
    assert sorted(listing) == [
        "/ctx",
        "/ctx/.containerignore",
        "/ctx/Containerfile",
        "/ctx/profiles",
        "/ctx/profiles/secret.toml",
        "/ctx/src",
        "/ctx/src/a.txt",
    ]
    grep = podman_service.podman("run", "--rm", image, "grep", "-r", secret_value, "/ctx", "/checked", check=False)
    assert grep.returncode == 1


def test_isolation_platform_and_pull_policy_reach_the_engine(podman_service: PodmanService, tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "iso",
        {
            "Containerfile": f"FROM {BASE_IMAGE}\nRUN echo isolated > /iso\n",
            "profiles/iso.toml": (
                'image = "imgctl-it/iso"\nisolation = "chroot"\nplatform = "linux/amd64"\npull = "never"\n'
                "no_cache = true\n"
            ),
        },
    )
    done = podman_service.imgctl("build", "iso", cwd=root)
    assert done.returncode == 0, done.stderr
    image = podman_service.inspect("localhost/imgctl-it/iso:latest")
    assert image["Architecture"] == "amd64" and image["Os"] == "linux"
    # pull=never with a base image that does not exist locally must fail instead of trying a registry.
    (root / "Containerfile").write_text("FROM localhost/imgctl-it/does-not-exist:1\n")
    done = podman_service.imgctl("build", "iso", cwd=root)
    assert done.returncode == 5
    assert "does-not-exist" in done.stderr


def test_the_label_step_leaves_layers_and_files_as_plain_podman_build(
    podman_service: PodmanService, tmp_path: Path
) -> None:
    """A final WORKDIR nothing writes into: buildah would create it in the label step; it must not."""
    containerfile = f'FROM {BASE_IMAGE}\nENV HOME=/home/jovyan\nWORKDIR "${{HOME}}"\n'
    root = write_tree(
        tmp_path / "workdir",
        {
            "Containerfile": containerfile,
            "profiles/wd.toml": 'image = "localhost/imgctl-it/workdir"\ntags = ["imgctl"]\n',
        },
    )
    plain_context = write_tree(tmp_path / "plain", {"Containerfile": containerfile})
    podman_service.podman("build", "-q", "-t", "localhost/imgctl-it/workdir:plain", str(plain_context))
    done = podman_service.imgctl("build", "wd", "--label", 'odd=a "quoted" $HOME \\ value', cwd=root)
    assert done.returncode == 0, done.stderr
    ours = podman_service.inspect("localhost/imgctl-it/workdir:imgctl")
    plain = podman_service.inspect("localhost/imgctl-it/workdir:plain")
    assert ours["RootFS"]["Layers"] == plain["RootFS"]["Layers"]
    assert ours["Config"]["WorkingDir"] == plain["Config"]["WorkingDir"] == "/home/jovyan"
    assert ours["Labels"]["odd"] == 'a "quoted" $HOME \\ value'
    files = {
        name: _files(podman_service, f"localhost/imgctl-it/workdir:{name}", tmp_path) for name in ("imgctl", "plain")
    }
    assert files["imgctl"] == files["plain"]
    assert "home/jovyan" not in files["imgctl"] and "home" not in files["imgctl"]


def _files(service: PodmanService, image: str, tmp_path: Path) -> set[str]:
    """Every path in the image's layers, read from `podman save`."""
    import tarfile

    archive = tmp_path / f"{image.rsplit(':', 1)[1]}.tar"
    service.podman("save", "--format", "oci-archive", "-o", str(archive), image)
    names: set[str] = set()
    with tarfile.open(archive) as outer:
        for member in outer.getmembers():
            if member.isfile() and member.name.startswith("blobs/"):
                data = outer.extractfile(member)
                assert data is not None
                try:
                    with tarfile.open(fileobj=data, mode="r:*") as layer:
                        names.update(name.rstrip("/") for name in layer.getnames())
                except tarfile.TarError:
                    continue  # the config and the manifests
    return names


def _working_containers(service: PodmanService) -> set[str]:
    """Every container in the test service's storage, buildah's working containers included."""
    done = subprocess.run(
        ["podman", "ps", "--all", "--external", "--format", "{{.ID}}"],
        env=service.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(done.stdout.split())


def test_a_failing_run_leaves_no_working_container(podman_service: PodmanService, tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "leftover",
        {
            "Containerfile": f"FROM {BASE_IMAGE}\nRUN echo one > /one\nRUN exit 4\n",
            "profiles/leftover.toml": 'image = "imgctl-it/leftover"\nno_cache = true\n',
        },
    )
    before = _working_containers(podman_service)
    done = podman_service.imgctl("build", "leftover", cwd=root)
    assert done.returncode == 5, done.stderr
    assert _working_containers(podman_service) - before == set()
