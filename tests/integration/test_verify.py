"""`imgctl verify` on real images built here: one that passes everything, and one per failure that fails
exactly its own check. The images run as 1000680000:0 through the fixture's runc containers.conf."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import BASE_IMAGE, PodmanService

pytestmark = pytest.mark.integration

SERVICE_SCRIPT = "trap 'exit 0' TERM\nwhile :; do sleep 1 & wait; done\n"
DEAF_SCRIPT = "trap '' TERM\nwhile :; do sleep 1 & wait; done\n"  # ignores SIGTERM, as PID 1

# The good image; each failing variant changes one part of it.
PARTS = {
    "setup": (
        "RUN echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd && echo 'root:x:0:' > /etc/group"
        " && chmod 644 /etc/passwd /etc/group && mkdir -p /app/data && chgrp -R 0 /app && chmod -R g=u /app"
    ),
    "extra": "",
    "workdir": "/app",
    "expose": "8080",
    "user": "1001:0",
    "script": "run.sh",
}
VARIANTS: dict[str, tuple[dict[str, str], str]] = {
    "root": ({"user": "0:0"}, "OS201"),
    "privileged-port": ({"expose": "80"}, "OS202"),
    "41-layers": ({"extra": "\n".join(f"COPY layer{n} /layers/{n}" for n in range(37))}, "OS204"),
    "workdir-not-group-writable": ({"extra": "RUN mkdir -p /srv/work", "workdir": "/srv/work"}, "OS210"),
    "writable-passwd": ({"setup": PARTS["setup"] + " && chmod 666 /etc/passwd"}, "OS211"),
    "wasted-10mb": ({"extra": "RUN dd if=/dev/zero of=/waste bs=1M count=10\nRUN rm /waste"}, "OS213"),
    "ignores-sigterm": ({"script": "deaf.sh"}, "OS222"),
}


def containerfile(parts: dict[str, str]) -> str:
    return f"""\
FROM {BASE_IMAGE}
COPY {parts["script"]} /app/run.sh
{parts["setup"]}
{parts["extra"]}
WORKDIR {parts["workdir"]}
VOLUME /app/data
EXPOSE {parts["expose"]}
USER {parts["user"]}
LABEL io.k8s.description="a test service" io.k8s.display-name="test" io.openshift.tags="test,busybox"
CMD ["/bin/sh", "/app/run.sh"]
"""


def build(service: PodmanService, workdir: Path, name: str, parts: dict[str, str]) -> str:
    context = workdir / name
    context.mkdir(parents=True)
    (context / "run.sh").write_text(SERVICE_SCRIPT)
    (context / "deaf.sh").write_text(DEAF_SCRIPT)
    for n in range(37):
        (context / f"layer{n}").write_text(f"{n}\n")
    (context / "Containerfile").write_text(containerfile(parts))
    tag = f"localhost/imgctl-verify/{name}:1"
    service.podman("build", "-q", "-t", tag, str(context))
    return tag


@pytest.fixture(scope="module")
def images(podman_service: PodmanService, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    workdir = tmp_path_factory.mktemp("verify-images")
    built = {"good": build(podman_service, workdir, "good", PARTS)}
    for name, (changes, _) in VARIANTS.items():
        built[name] = build(podman_service, workdir, name, {**PARTS, **changes})
    return built


def verify_json(service: PodmanService, *args: str, cwd: Path | None = None) -> tuple[int, list[dict]]:
    done = service.imgctl("verify", "--format", "json", *args, cwd=cwd)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def containers(service: PodmanService) -> list[str]:
    return service.podman("ps", "-a", "--format", "{{.ID}}").stdout.split()


def volumes(service: PodmanService) -> list[str]:
    return service.podman("volume", "ls", "--format", "{{.Name}}").stdout.split()


def test_the_good_image_passes_every_check(podman_service: PodmanService, images: dict[str, str]) -> None:
    code, (report,) = verify_json(podman_service, images["good"], "--grace", "3")
    assert code == 0 and report["passed"], report
    assert report["findings"] == []
    checks = {check["code"]: check["detail"] for check in report["checks"]}
    assert set(checks) == {"OS201", "OS202", "OS203", "OS204", "OS205", "OS206", "OS210", "OS211", "OS213",
                           "OS220", "OS221", "OS222"}
    assert checks["OS220"] == "up as 1000680000:0" and checks["OS221"] == "wrote in /app/data"
    assert checks["OS222"].startswith("stopped ") and "after SIGTERM" in checks["OS222"]
    assert any(note.startswith("layer 3: ") and "COPY" in note for note in report["notes"])
    assert containers(podman_service) == [] and volumes(podman_service) == []


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_each_failing_image_fails_exactly_its_check(
    podman_service: PodmanService, images: dict[str, str], variant: str
) -> None:
    code, (report,) = verify_json(podman_service, images[variant], "--grace", "3")
    expected = VARIANTS[variant][1]
    assert code == 1, report
    assert sorted({finding["code"] for finding in report["findings"]}) == [expected], report["findings"]
    assert containers(podman_service) == [] and volumes(podman_service) == []


def test_the_sigterm_finding_names_the_shell_that_is_pid_1(
    podman_service: PodmanService, images: dict[str, str]
) -> None:
    _, (report,) = verify_json(podman_service, images["ignores-sigterm"], "--grace", "2")
    (finding,) = report["findings"]
    assert "did not stop within 2 s of SIGTERM" in finding["message"]
    assert "PID 1 is a shell, `/bin/sh /app/run.sh`" in finding["message"]


def test_the_wasted_layer_is_named_with_its_step(podman_service: PodmanService, images: dict[str, str]) -> None:
    _, (report,) = verify_json(podman_service, images["wasted-10mb"], "--no-run")
    (finding,) = report["findings"]
    assert "10.5 MB" in finding["message"] and "RUN dd if=/dev/zero of=/waste" in finding["message"]
    assert "discarded by layer" in finding["message"] and "(RUN rm /waste)" in finding["message"]
    assert {skip["code"] for skip in report["skipped"]} == {"OS220", "OS221", "OS222"}


def test_a_profile_with_writable_paths_and_skips_through_build_verify(
    podman_service: PodmanService, tmp_path: Path
) -> None:
    project = tmp_path / "proj"
    (project / "profiles").mkdir(parents=True)
    (project / "run.sh").write_text(SERVICE_SCRIPT)
    (project / "deaf.sh").write_text(DEAF_SCRIPT)
    (project / "Containerfile").write_text(containerfile({**PARTS, "extra": "RUN mkdir -p /var/cache/app"}))
    (project / "profiles" / "svc.toml").write_text(
        'image = "localhost/imgctl-verify/svc"\ntags = ["1"]\nwritable_paths = ["/var/cache/app"]\n'
        '[verify]\ngrace = 3\nskip = { OS203 = "labels come from the release pipeline" }\n'
    )
    done = podman_service.imgctl("build", "svc", "--verify", cwd=project)
    assert done.returncode == 1, done.stderr
    assert "OS210" in done.stderr and "OS221" in done.stderr  # the layers say it, and so does the write
    assert "OS203 skipped: labels come from the release pipeline" in done.stderr
    assert "verify failed" in done.stderr
    fixed = containerfile({**PARTS, "extra": "RUN mkdir -p /var/cache/app && chgrp 0 /var/cache/app"
                                             " && chmod g=u /var/cache/app"})
    (project / "Containerfile").write_text(fixed)
    done = podman_service.imgctl("build", "svc", "--verify", cwd=project)
    assert done.returncode == 0, done.stderr
    code, (report,) = verify_json(podman_service, "svc", "--no-run", cwd=project)
    assert code == 0 and report["subject"] == "localhost/imgctl-verify/svc:1"
    assert [skip["code"] for skip in report["skipped"]] == ["OS203", "OS220", "OS221", "OS222"]
    assert containers(podman_service) == []


def test_an_image_that_is_not_there_is_a_usage_error(podman_service: PodmanService) -> None:
    done = podman_service.imgctl("verify", "localhost/imgctl-verify/none:1")
    assert done.returncode == 2 and "no image localhost/imgctl-verify/none:1" in done.stderr


def test_junit_lists_every_check_as_a_case(podman_service: PodmanService, images: dict[str, str]) -> None:
    done = podman_service.imgctl("verify", images["root"], "--no-run", "--format", "junit")
    assert done.returncode == 1
    assert 'failures="1"' in done.stdout and 'name="OS201 runs as a non-root user"' in done.stdout
    assert done.stdout.count("<skipped") == 3


def test_podman_runs_the_good_image_as_the_arbitrary_uid(
    podman_service: PodmanService, images: dict[str, str]
) -> None:
    # What verify relies on, seen with podman itself: with runc, a UID the image's passwd lacks runs (podman
    # adds the entry to the container's copy of /etc/passwd).
    done = podman_service.podman("run", "--rm", "--user", "1000680000:0", "--entrypoint", "id", images["good"])
    assert done.stdout.split()[:2] == ["uid=1000680000(1000680000)", "gid=0(root)"]


def test_an_image_without_touch_is_told_not_passed(podman_service: PodmanService, tmp_path: Path) -> None:
    # busybox without its applet links: no `touch` (nor `sh`) on PATH, as in a distroless image.
    context = tmp_path / "bare"
    context.mkdir()
    busybox = podman_service.podman("run", "--rm", "--entrypoint", "/bin/busybox", BASE_IMAGE, "which", "busybox")
    assert busybox.stdout.strip() == "/bin/busybox"
    (context / "run.sh").write_text("trap 'exit 0' TERM\nwhile :; do /bin/busybox sleep 1 & wait; done\n")
    (context / "Containerfile").write_text(
        f"FROM {BASE_IMAGE} AS bin\nFROM scratch\nCOPY --from=bin /bin/busybox /bin/busybox\n"
        "COPY --chown=1001:0 run.sh /app/run.sh\nVOLUME /app\nUSER 1001:0\n"
        'CMD ["/bin/busybox", "sh", "/app/run.sh"]\n'
    )
    tag = "localhost/imgctl-verify/bare:1"
    podman_service.podman("build", "-q", "-t", tag, str(context))
    _, (report,) = verify_json(podman_service, tag, "--grace", "3")
    checks = {check["code"] for check in report["checks"]}
    assert "OS221" not in checks and {"OS220", "OS222"} <= checks
    assert any("has no `touch`" in note for note in report["notes"])
    assert containers(podman_service) == [] and volumes(podman_service) == []


def test_a_job_exits_0_and_its_paths_are_tried_by_probe_runs(
    podman_service: PodmanService, images: dict[str, str], tmp_path: Path
) -> None:
    context = tmp_path / "job"
    context.mkdir()
    (context / "Containerfile").write_text(f'FROM {images["good"]}\nCMD ["/bin/sh", "-c", "echo done"]\n')
    tag = "localhost/imgctl-verify/job:1"
    podman_service.podman("build", "-q", "-t", tag, str(context))
    code, (report,) = verify_json(podman_service, tag, "--kind", "job", "--writable-path", "/etc")
    checks = {check["code"]: check["detail"] for check in report["checks"]}
    assert checks["OS220"].startswith("exited 0 in ")
    assert [f["code"] for f in report["findings"]] == ["OS210", "OS221"]  # /etc is root's: 0755
    assert "/etc is not writable by 1000680000:0" in report["findings"][1]["message"]
    assert "OS222 did not run: the job exited by itself" in report["notes"]
    assert code == 1 and containers(podman_service) == [] and volumes(podman_service) == []


def test_ctrl_c_during_the_grace_removes_the_container(podman_service: PodmanService, images: dict[str, str]) -> None:
    env = {**podman_service.env, "CONTAINER_HOST": podman_service.url}
    process = subprocess.Popen([sys.executable, "-m", "builder", "verify", images["ignores-sigterm"], "--grace", "60"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not containers(podman_service):  # the run has started: its container exists
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.1)
        time.sleep(1.5)  # by then, most likely in the grace period after the stop signal
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert "interrupted by SIGINT" in stderr
    assert containers(podman_service) == [] and volumes(podman_service) == []
