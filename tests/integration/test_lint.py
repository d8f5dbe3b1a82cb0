"""`imgctl build` lints first, against a real podman service: warn builds, error refuses, off stays quiet."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import BASE_IMAGE, PodmanService

pytestmark = pytest.mark.integration

IMAGE = "localhost/imgctl-it/linted"
# hadolint: DL3007 (FROM ...:latest) on line 1 and DL3025 (shell-form CMD) on line 3, both warnings.
CONTAINERFILE = f"FROM {BASE_IMAGE}\nRUN echo hi > /hi\nCMD echo hi\n"


@pytest.fixture
def project(tmp_path: Path, hadolint_binary: Path) -> Path:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "Containerfile").write_text(CONTAINERFILE)
    (tmp_path / "profiles" / "app.toml").write_text(f'image = "{IMAGE}"\ntags = ["lint"]\n')
    return tmp_path


def exists(service: PodmanService, ref: str) -> bool:
    return service.podman("image", "exists", ref, check=False).returncode == 0


def test_lint_error_refuses_before_anything_is_built(podman_service: PodmanService, project: Path) -> None:
    podman_service.podman("rmi", "-f", f"{IMAGE}:lint", check=False)
    done = podman_service.imgctl("build", "app", "--lint=error", cwd=project)
    assert done.returncode == 2, done.stderr
    assert "Containerfile:3 DL3025 warning" in done.stderr and "the build was not started" in done.stderr
    assert not exists(podman_service, f"{IMAGE}:lint")


def test_lint_warn_shows_the_findings_and_builds(podman_service: PodmanService, project: Path) -> None:
    done = podman_service.imgctl("build", "app", "--quiet", "--lint=warn", cwd=project)
    assert done.returncode == 0, done.stderr
    assert exists(podman_service, f"{IMAGE}:lint")
    # --quiet keeps stdout to the image id and drops the warn-mode findings; the default shows them on stderr.
    assert "DL3025" not in done.stderr and len(done.stdout.split()) == 1
    shown = podman_service.imgctl("build", "app", "--json", cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert "Containerfile:1 DL3007 warning" in shown.stderr and "building anyway" in shown.stderr
    assert shown.stdout.lstrip().startswith("{")  # the findings never reach the JSON on stdout


def test_lint_off_and_hadolint_pragmas_keep_hadolint_quiet(podman_service: PodmanService, project: Path) -> None:
    done = podman_service.imgctl("build", "app", "--lint", "off", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "DL30" not in done.stderr
    (project / "Containerfile").write_text(
        f"# hadolint ignore=DL3007\nFROM {BASE_IMAGE}\nRUN echo hi > /hi\nCMD [\"echo\", \"hi\"]\n")
    clean = podman_service.imgctl("build", "app", cwd=project)
    assert clean.returncode == 0, clean.stderr
    assert "DL30" not in clean.stderr  # hadolint's pragma holds in the build's lint too
