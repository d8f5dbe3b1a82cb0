"""imgctl builds exactly what `podman build` builds.

Each scenario is shaped like a real project: several stages, wildcards, sources built from ARGs,
`.dockerignore` files with `!` exceptions, `RUN --mount=type=bind`, escaped globs, a final WORKDIR that
nothing writes into. Each is built twice on the same real service: by plain `podman build` with the whole
context (podman reads the directory and the ignore file itself), and by `imgctl build` through its CLI
(pruned context, label step, everything). The two images are then compared file by file (path, type,
mode, owner, size, content, link target), layer list (diff IDs) and the config a container runs with.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.conftest import BASE_IMAGE, PodmanService
from tests.integration.imagefs import diff_ids, differences, image_filesystem

pytestmark = pytest.mark.integration

# Config fields a container runs with; labels are compared apart (imgctl adds its own, by design).
RUN_CONFIG = ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes", "StopSignal")


@dataclass(frozen=True)
class Project:
    name: str
    containerfile: str
    files: dict[str, str]
    ignore: str | None = None  # .dockerignore content
    target: str | None = None
    build_args: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)


NODE_LIKE = Project(
    name="node-like",
    containerfile=f"""\
FROM {BASE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json* ./
RUN mkdir -p node_modules/left-pad && echo 'module.exports=1' > node_modules/left-pad/index.js

FROM deps AS build
ARG APP=web
COPY apps/${{APP}}/ ./app/
COPY lib/*.js ./lib/
RUN cat app/main.js lib/*.js > bundle.js

FROM {BASE_IMAGE} AS runtime
WORKDIR /srv
COPY --from=build /src/bundle.js /src/node_modules ./
COPY public/ ./public/
USER 1001:0
EXPOSE 8080
CMD ["/bin/sh", "-c", "exec httpd -f -p 8080"]
""",
    files={
        "package.json": '{"name": "shop"}\n',
        "package-lock.json": '{"lockfileVersion": 3}\n',
        "apps/web/main.js": "console.log('web')\n",
        "apps/admin/main.js": "console.log('admin')\n",
        "lib/a.js": "a\n",
        "lib/b.js": "b\n",
        "lib/notes.md": "not copied\n",
        "public/index.html": "<h1>shop</h1>\n",
        "public/debug.log": "ignored\n",
        "public/keep.log": "kept by an exception\n",
        "node_modules/huge/index.js": "x" * 5000,
        "README.md": "readme\n",
    },
    ignore="node_modules\n**/*.log\n!public/keep.log\n*.md\n",
    build_args={"APP": "admin"},
)

PYTHON_LIKE = Project(
    name="python-like",
    containerfile=f"""\
FROM {BASE_IMAGE} AS base
ENV APP_HOME=/opt/app
WORKDIR $APP_HOME

FROM base AS test
COPY tests/ ./tests/
RUN ls tests > /tests.txt

FROM base AS runtime
COPY requirements*.txt ./
RUN --mount=type=bind,source=scripts,target=/scripts sh /scripts/setup.sh > setup.out
COPY src/ ./src/
COPY ["config files/", "./config/"]
RUN chgrp -R 0 $APP_HOME && chmod -R g=u $APP_HOME
USER 1001
""",
    files={
        "requirements.txt": "flask\n",
        "requirements-dev.txt": "pytest\n",
        "scripts/setup.sh": "echo set up; ls /scripts\n",
        "src/app/__init__.py": "",
        "src/app/main.py": "print('hi')\n",
        "src/app/__pycache__/main.cpython-311.pyc": "bytecode",
        "tests/test_main.py": "def test(): pass\n",
        "config files/app.ini": "[app]\n",
        ".venv/bin/python": "venv",
        ".git/HEAD": "ref: refs/heads/main\n",
    },
    ignore=".git\n.venv\n**/__pycache__\n",
    target="runtime",
)

GO_LIKE = Project(
    name="go-like",
    containerfile=f"""\
ARG BASE={BASE_IMAGE}
FROM $BASE AS build
WORKDIR /go/src
COPY go.* *.go ./
COPY cmd/ cmd/
COPY internal internal
RUN cat *.go cmd/*/*.go > /binary && chmod 755 /binary

FROM $BASE AS unused
COPY docs/ /docs/

FROM $BASE
COPY --from=build /binary /usr/local/bin/app
COPY x\\?y /escaped/
COPY --chown=1001:0 etc/ /etc/app/
ENV HOME=/home/app
WORKDIR ${{HOME}}
ENTRYPOINT ["/usr/local/bin/app"]
""",
    files={
        "go.mod": "module example.com/app\n",
        "go.sum": "",
        "main.go": "package main\n",
        "util.go": "package main // util\n",
        "cmd/app/app.go": "package app\n",
        "internal/db/db.go": "package db\n",
        "docs/manual.txt": "manual\n",
        "x?y": "literal question mark\n",
        "xay": "wildcard match\n",
        "etc/app.conf": "port=8080\n",
        "etc/sub/extra.conf": "extra\n",
    },
    links={"etc/current.conf": "app.conf"},
)

ESCAPED_GLOBS = Project(
    name="escaped-globs",
    containerfile=f"""\
FROM {BASE_IMAGE}
ARG P='x\\*y'
COPY dir\\\\*/f /d/
COPY $P /p/
""",
    files={
        "dir*/f": "literal-star-dir\n",
        "dirx/f": "dirx\n",
        "x*y": "literal star\n",
        "xzy": "wildcard\n",
        "unrelated.txt": "not read\n",
    },
)

PROJECTS = [NODE_LIKE, PYTHON_LIKE, GO_LIKE, ESCAPED_GLOBS]


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="imgctl-differential-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def write_project(root: Path, project: Project) -> Path:
    context = root / "ctx"
    for relpath, content in project.files.items():
        path = context / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    for relpath, target in project.links.items():
        (context / relpath).symlink_to(target)
    (context / "Containerfile").write_text(project.containerfile)
    if project.ignore is not None:
        (context / ".dockerignore").write_text(project.ignore)
    profile = [f'image = "localhost/differential/{project.name}"', 'context = "ctx"', 'pull = "never"',
               'tags = ["imgctl"]']
    if project.target:
        profile.append(f'target = "{project.target}"')
    if project.build_args:
        profile.append("[build_args]")
        profile += [f'{key} = "{value}"' for key, value in project.build_args.items()]
    (root / "profiles").mkdir()
    (root / "profiles" / f"{project.name}.toml").write_text("\n".join(profile) + "\n")
    return context


@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_imgctl_builds_what_podman_builds(podman_service: PodmanService, workdir: Path, project: Project) -> None:
    context = write_project(workdir, project)
    plain = f"localhost/differential/{project.name}:podman"
    ours = f"localhost/differential/{project.name}:imgctl"
    args = ["build", "--pull=never", "-t", plain, "-f", str(context / "Containerfile")]
    if project.target:
        args += ["--target", project.target]
    for key, value in project.build_args.items():
        args += ["--build-arg", f"{key}={value}"]
    try:
        podman_service.podman(*args, str(context))
        result = podman_service.imgctl("build", project.name, "--no-cache", cwd=workdir)
        assert result.returncode == 0, result.stderr

        plain_fs = image_filesystem(podman_service, plain, workdir)
        ours_fs = image_filesystem(podman_service, ours, workdir)
        assert len(plain_fs) > 5  # the busybox base at least: an empty export would compare equal
        assert differences(plain_fs, ours_fs) == []
        assert len(diff_ids(podman_service, ours)) == len(diff_ids(podman_service, plain))

        plain_config = podman_service.inspect(plain)["Config"]
        ours_config = podman_service.inspect(ours)["Config"]
        assert {k: plain_config.get(k) for k in RUN_CONFIG} == {k: ours_config.get(k) for k in RUN_CONFIG}
        own = dict((plain_config.get("Labels") or {}).items())
        assert own.items() <= (ours_config.get("Labels") or {}).items()
    finally:
        podman_service.podman("rmi", "-f", plain, ours, check=False)


def test_the_comparison_sees_a_difference(podman_service: PodmanService, workdir: Path) -> None:
    """The comparison itself can fail: one changed byte in a copied file is reported at its path."""
    context = write_project(workdir, NODE_LIKE)
    first, second = "localhost/differential/check:one", "localhost/differential/check:two"
    try:
        podman_service.podman("build", "--pull=never", "-t", first, "--build-arg", "APP=admin", str(context))
        (context / "public" / "index.html").write_text("<h1>shoP</h1>\n")
        podman_service.podman("build", "--pull=never", "-t", second, "--build-arg", "APP=admin", str(context))
        found = differences(image_filesystem(podman_service, first, workdir),
                            image_filesystem(podman_service, second, workdir))
        assert [line.split(":")[0] for line in found] == ["/srv/public/index.html"], json.dumps(found)
    finally:
        podman_service.podman("rmi", "-f", first, second, check=False)
