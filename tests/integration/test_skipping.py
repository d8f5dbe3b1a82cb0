"""Skipping builds whose inputs did not change, on a real podman service; and `imgctl ignore` end to end."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import BASE_IMAGE, PodmanService

pytestmark = pytest.mark.integration


class Project:
    def __init__(self, service: PodmanService, root: Path, files: dict[str, str], profile: str) -> None:
        self.service = service
        self.root = root
        self.image = f"imgctl-it/skip-{uuid.uuid4().hex[:8]}"
        for name, text in {**files, "profiles/app.toml": f'image = "{self.image}"\n' + profile}.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    @property
    def env(self) -> dict[str, str]:
        return {"XDG_CACHE_HOME": str(self.root / ".cache")}

    def build(self, *args: str) -> dict:
        done = self.service.imgctl("build", "app", "--json", *args, cwd=self.root, env=self.env)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["images"][0]

    def explain(self, *args: str) -> str:
        done = self.service.imgctl("build", "app", "--explain", *args, cwd=self.root, env=self.env)
        assert done.returncode == 0, done.stderr
        return done.stderr


CONTAINERFILE = f"""\
FROM {BASE_IMAGE} AS base
ARG FLAVOUR=plain
RUN echo "$FLAVOUR" > /flavour
FROM base AS final
COPY src/ /app/src/
"""


@pytest.fixture
def project(podman_service: PodmanService, tmp_path: Path) -> Project:
    return Project(
        podman_service,
        tmp_path / "skip",
        {"Containerfile": CONTAINERFILE, "src/a.txt": "a\n", "src/b.txt": "b\n", "big/blob.bin": "x" * 10000,
         ".cache/.keep": ""},
        'context_pruning = true\n[build_args]\nFLAVOUR = "plain"\n[labels]\nteam = "core"\n',
    )


def test_unchanged_inputs_are_up_to_date_and_send_nothing(project: Project) -> None:
    first = project.build()
    assert first["up_to_date"] is False
    assert first["sent_bytes"] > 0
    second = project.build()
    assert second["up_to_date"] is True
    assert second["sent_bytes"] == 0
    assert second["image_id"] == first["image_id"]
    # Touching a file changes its mtime, not its content: still up to date.
    (project.root / "src" / "a.txt").touch()
    assert project.build()["up_to_date"] is True
    # Files the Containerfile never reads are not inputs either.
    (project.root / "big" / "blob.bin").write_text("changed")
    assert project.build()["up_to_date"] is True
    # --no-cache always builds.
    assert project.build("--no-cache")["up_to_date"] is False


def test_an_image_is_found_by_its_inputs_when_its_tag_has_moved(project: Project) -> None:
    first = project.build()
    tag = f"localhost/{project.image}:latest"
    # The first tag no longer names the build: the image is found by its input-digest label instead.
    project.service.podman("tag", BASE_IMAGE, tag)
    again = project.build("--tag", "extra")
    assert again["up_to_date"] is True and again["image_id"] == first["image_id"]
    tags = json.loads(project.service.podman("image", "inspect", first["image_id"]).stdout)[0]["RepoTags"]
    assert tag in tags and f"localhost/{project.image}:extra" in tags


@pytest.mark.parametrize(
    ("change", "args", "reason"),
    [
        (lambda root: (root / "src" / "a.txt").write_text("A\n"), (), "src/a.txt changed"),
        (lambda root: (root / "src" / "c.txt").write_text("c\n"), (), "src/c.txt was added"),
        (lambda root: (root / "src" / "b.txt").unlink(), (), "src/b.txt was removed"),
        (lambda root: (root / "src" / "a.txt").chmod(0o600), (), "src/a.txt"),
        (lambda root: None, ("--build-arg", "FLAVOUR=spicy"), "FLAVOUR"),
        (lambda root: None, ("--target", "base"), "target"),
        (lambda root: None, ("--label", "team=edge"), "team"),
        (
            lambda root: (root / "Containerfile").write_text(CONTAINERFILE + "ENV MODE=prod\n"),
            (),
            "Containerfile",
        ),
    ],
)
def test_each_input_change_rebuilds_and_explains(project: Project, change, args: tuple[str, ...], reason: str) -> None:
    project.build()
    change(project.root)
    explained = project.explain(*args)
    assert "built because" in explained
    assert reason in explained
    # And once built, the same inputs are up to date again.
    assert project.build(*args)["up_to_date"] is True


def test_the_image_carries_only_the_digest_and_explain_needs_the_local_detail(project: Project) -> None:
    project.build()
    labels = project.service.inspect(f"localhost/{project.image}:latest")["Config"]["Labels"]
    # The image travels to registries: the build context's layout stays on the building machine.
    assert "io.imgctl.inputs.components" not in labels
    assert labels["io.imgctl.inputs.digest"].startswith("sha256:")
    assert not [value for value in labels.values() if "a.txt" in value or "src/" in value]
    assert list((project.root / ".cache" / "imgctl" / "inputs").glob("*.json.gz"))

    (project.root / "src" / "a.txt").write_text("A\n")
    explained = project.explain()
    assert "src/a.txt changed" in explained and "built elsewhere" not in explained

    # Another machine, or a pruned cache: no detail for the previous image's digest.
    shutil.rmtree(project.root / ".cache" / "imgctl")
    (project.root / "src" / "b.txt").write_text("B\n")
    explained = project.explain()
    assert ("the previous image was built elsewhere (or its detail was pruned from this machine's cache): "
            "imgctl cannot say which input changed") in explained
    assert "b.txt" not in explained
    # That build kept its detail here again: the next change is named.
    (project.root / "src" / "b.txt").write_text("bb\n")
    assert "src/b.txt changed" in project.explain()


def test_a_moved_base_image_rebuilds(podman_service: PodmanService, tmp_path: Path) -> None:
    base = f"localhost/imgctl-it/base-{uuid.uuid4().hex[:8]}:1"
    context = tmp_path / "base"
    context.mkdir()
    (context / "Containerfile").write_text(f"FROM {BASE_IMAGE}\nRUN echo one > /version\n")
    podman_service.podman("build", "-q", "-t", base, str(context))
    files = {"Containerfile": f"FROM {base}\nCOPY f /f\n", "f": "f\n"}
    project = Project(podman_service, tmp_path / "moved", files, "")
    project.build()
    assert project.build()["up_to_date"] is True
    (context / "Containerfile").write_text(f"FROM {BASE_IMAGE}\nRUN echo two > /version\n")
    podman_service.podman("build", "-q", "-t", base, str(context))
    explained = project.explain()
    assert f"base image {base}" in explained


def test_pruned_build_sends_only_what_copy_reads(project: Project) -> None:
    (project.root / "big" / "more.bin").write_text("y" * 50000)
    result = project.build()
    # src/ (4 bytes) plus the Containerfile; big/ never travels.
    assert result["sent_bytes"] < 1000
    done = project.service.imgctl("context", "app", "--json", cwd=project.root)
    document = json.loads(done.stdout)
    assert "big/more.bin" in document["kept_by_ignore_rules"]["files"]
    assert "big/more.bin" not in document["files"]
    # With pruning off, everything the ignore rules keep is sent again.
    off = project.build("--set", "context_pruning=false")
    assert off["sent_bytes"] > 50000


SAMPLES = {
    "python": (
        {
            "Containerfile": f"FROM {BASE_IMAGE}\nCOPY app/ /srv/app/\nCOPY requirements.txt /srv/\n"
                             "COPY config/.env /srv/.env\n",
            "app/main.py": "print('hi')\n",
            "app/__pycache__/main.cpython-311.pyc": "bytecode",
            "requirements.txt": "requests\n",
            "config/.env": "MODE=prod\n",
            ".env": "SECRET=1\n",
            ".venv/pyvenv.cfg": "home = /usr\n",
            ".venv/lib/site.py": "x" * 5000,
            ".pytest_cache/v/cache": "{}",
            "setup.py": "",
            "dist/pkg.whl": "w" * 3000,
        },
        ["/srv/app/main.py", "/srv/requirements.txt", "/srv/.env"],
        # app/__pycache__ is not junk here: COPY app/ copies it, and imgctl ignore never drops what is copied.
        [".env", ".venv/lib/site.py", ".pytest_cache/v/cache", "dist/pkg.whl"],
    ),
    "node": (
        {
            "Containerfile": f"FROM {BASE_IMAGE}\nCOPY package.json /srv/\nCOPY src/ /srv/src/\n"
                             "COPY .npmrc /srv/.npmrc\n",
            "package.json": "{}\n",
            "src/index.js": "console.log(1)\n",
            ".npmrc": "registry=https://registry.example\n",
            "node_modules/left-pad/index.js": "x" * 5000,
            "src/node_modules/dep/index.js": "y" * 500,
            "build/bundle.js": "z" * 2000,
            "npm-debug.log": "log\n",
        },
        ["/srv/package.json", "/srv/src/index.js", "/srv/.npmrc"],
        ["node_modules/left-pad/index.js", "build/bundle.js", "npm-debug.log"],
    ),
    "java": (
        {
            "Containerfile": f"FROM {BASE_IMAGE}\nCOPY target/app.jar /srv/app.jar\n"
                             "COPY src/main/resources/ /srv/resources/\n",
            "pom.xml": "<project/>\n",
            "target/app.jar": "jar" * 100,
            "target/classes/A.class": "c" * 100,
            "src/main/resources/app.properties": "a=1\n",
            ".idea/workspace.xml": "<x/>\n",
            "id_rsa": "-----BEGIN KEY-----\n",
        },
        ["/srv/app.jar", "/srv/resources/app.properties"],
        ["target/classes/A.class", ".idea/workspace.xml", "id_rsa"],
    ),
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_generated_ignore_file_keeps_what_the_build_needs(podman_service: PodmanService, tmp_path: Path,
                                                          kind: str) -> None:
    files, expected, junk = SAMPLES[kind]
    project = Project(podman_service, tmp_path / kind, files, "context_pruning = false\n")
    written = podman_service.imgctl("ignore", "app", "--write", "--yes", cwd=project.root)
    assert written.returncode == 0, written.stderr
    ignore_file = project.root / ".containerignore"
    assert ignore_file.exists()
    text = ignore_file.read_text()
    assert "# added by imgctl ignore" in text
    result = project.build()
    image = f"localhost/{project.image}:latest"
    listing = podman_service.podman("run", "--rm", image, "find", "/srv").stdout.split()
    for path in expected:
        assert path in listing, f"{path} missing from the image; .containerignore was:\n{text}"
    # The junk is gone from what was sent.
    context = json.loads(podman_service.imgctl("context", "app", "--json", cwd=project.root).stdout)
    sent = set(context["files"])
    assert sent.isdisjoint(junk), f"sent despite the generated rules: {sorted(sent & set(junk))}"
    assert result["up_to_date"] is False
