"""The build context against a real podman service: what podman itself does with a symlink that leads out of
the context, and what imgctl does instead (docs/context.md, "Symlinks")."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import BASE_IMAGE, PodmanService

pytestmark = pytest.mark.integration


def context_with_link_out(tmp_path: Path, containerfile: str) -> Path:
    """<tmp>/proj/ctx holding `rel -> ../../outside`, which names <tmp>/outside."""
    (tmp_path / "outside").write_text("outside the context\n")
    root = tmp_path / "proj" / "ctx"
    (root / "profiles").mkdir(parents=True)
    (root / "Containerfile").write_text(containerfile)
    (root / "a.txt").write_text("hi\n")
    (root / "profiles" / "rel.toml").write_text('image = "imgctl-it/rel"\n')
    (root / "rel").symlink_to("../../outside")
    return root


def test_copy_dot_with_a_relative_link_out_of_the_context(podman_service: PodmanService, tmp_path: Path) -> None:
    root = context_with_link_out(tmp_path, f"FROM {BASE_IMAGE}\nCOPY . /app\n")

    # podman's own CLI reads the directory itself and copies the link as it is...
    local = podman_service.podman("build", "-q", "-t", "localhost/imgctl-it/rel-podman", str(root))
    assert local.returncode == 0, local.stderr
    link = podman_service.podman("run", "--rm", "localhost/imgctl-it/rel-podman", "readlink", "/app/rel")
    assert link.stdout.strip() == "../../outside"
    # ...but its service cannot unpack such a link from an upload: `podman --remote` fails after sending all.
    remote = podman_service.podman("--url", podman_service.url, "build", "-q", str(root), check=False)
    assert remote.returncode != 0 and 'invalid symlink' in remote.stderr and '"../../outside"' in remote.stderr

    # imgctl refuses before uploading, names the link and the fix: bad input (exit 2), not a failed build.
    done = podman_service.imgctl("build", "rel", cwd=root)
    assert done.returncode == 2, done.stderr
    assert "symlink rel -> ../../outside points outside the build context" in done.stderr
    assert "exclude rel in the ignore file" in done.stderr and "Traceback" not in done.stderr

    # The fix it names works.
    (root / ".containerignore").write_text("rel\n")
    done = podman_service.imgctl("build", "rel", cwd=root)
    assert done.returncode == 0, done.stderr
    files = podman_service.podman("run", "--rm", "localhost/imgctl-it/rel:latest", "ls", "-A", "/app").stdout.split()
    assert "a.txt" in files and "rel" not in files


def test_copy_of_the_link_itself(podman_service: PodmanService, tmp_path: Path) -> None:
    root = context_with_link_out(tmp_path, f"FROM {BASE_IMAGE}\nCOPY rel /x\n")

    # podman resolves the link inside the context (a chroot): "/outside" there does not exist. buildah's
    # copier reports that as "no such file or directory", or (its subprocess gone first) as a broken pipe.
    local = podman_service.podman("build", "-q", str(root), check=False)
    assert local.returncode != 0 and 'STEP "COPY rel /x"' in local.stderr, local.stderr

    done = podman_service.imgctl("build", "rel", cwd=root)
    assert done.returncode == 2, done.stderr
    assert "symlink rel -> ../../outside points outside the build context" in done.stderr
