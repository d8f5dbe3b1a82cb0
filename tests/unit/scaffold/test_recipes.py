"""The choices a recipe makes from the source tree, and the images it names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from builder.scaffold.detect import RUNTIMES, detect
from builder.scaffold.recipes import UBI_MICRO, UBI_MINIMAL, recipe
from tests.trees import write_tree


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("minimal", [False, True])
def test_images_are_red_hat_ubi9_with_a_pinned_tag(tmp_path: Path, runtime: str, minimal: bool) -> None:
    made = recipe(detect(tmp_path, runtime), tmp_path, minimal=minimal)
    for image in (made.builder_image, made.runtime_image):
        assert re.fullmatch(r"registry\.access\.redhat\.com/ubi9/[a-z0-9-]+:[0-9][0-9.]*", image), image
    assert made.app_dir in {"/opt/app-root/src", "/opt/app-root/app", "/deployments"}


def test_minimal_picks_ubi_micro_for_go_and_says_when_nothing_is_smaller(tmp_path: Path) -> None:
    assert recipe(detect(tmp_path, "go"), tmp_path).runtime_image == UBI_MINIMAL
    assert recipe(detect(tmp_path, "go"), tmp_path, minimal=True).runtime_image == UBI_MICRO
    assert recipe(detect(tmp_path, "go"), tmp_path, minimal=True).minimal_note is None
    node = recipe(detect(tmp_path, "nodejs"), tmp_path, minimal=True)
    assert node.runtime_image.endswith("/nodejs-20-minimal:1")
    assert node.minimal_note is not None and "already the smallest" in node.minimal_note
    assert recipe(detect(tmp_path, "nodejs"), tmp_path).minimal_note is None


def test_node_lock_file_decides_between_ci_and_install(tmp_path: Path) -> None:
    locked = write_tree(tmp_path / "a", {"package.json": "{}", "package-lock.json": "{}", "index.js": ""})
    made = recipe(detect(locked), locked)
    assert made.build[0] == "COPY package.json package-lock.json ./"
    assert made.build[1].startswith("RUN npm ci")
    # buildah fails a COPY of a file that is not there, so without a lock file it is not named at all.
    loose = write_tree(tmp_path / "b", {"package.json": "{}", "index.js": ""})
    made = recipe(detect(loose), loose)
    assert made.build[0] == "COPY package.json ./"
    assert made.build[1].startswith("RUN npm install")
    assert made.notes == ()


def test_node_entry_point_comes_from_package_json_main(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"package.json": '{"main": "dist/server.js"}'})
    made = recipe(detect(root), root)
    assert made.cmd == ("node", "--require", "/opt/app-root/sigterm.cjs", "dist/server.js")
    assert made.notes == ("no dist/server.js: edit the CMD to start your application",)


def test_node_entry_point_comes_from_a_plain_node_start_script(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "a", {"package.json": '{"main": "lib.js", "scripts": {"start": "node server.js"}}',
                                "server.js": ""})
    made = recipe(detect(root), root)
    assert made.cmd[-1] == "server.js" and made.notes == ()
    # A start script that is more than `node FILE` is not guessed at: "main" stands.
    other = write_tree(tmp_path / "b", {"package.json": '{"main": "lib.js", "scripts": {"start": "nodemon app.js"}}',
                                 "lib.js": ""})
    assert recipe(detect(other), other).cmd[-1] == "lib.js"


def test_broken_package_json_falls_back_to_npm_default(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"package.json": "{not json", "index.js": ""})
    assert recipe(detect(root), root).cmd[-1] == "index.js"


def test_python_requirements_or_the_project_itself(tmp_path: Path) -> None:
    reqs = write_tree(tmp_path / "a", {"requirements.txt": "", "pyproject.toml": "", "main.py": ""})
    made = recipe(detect(reqs), reqs)
    assert made.build[0] == "COPY requirements.txt ./" and "-r requirements.txt" in made.build[1]
    assert made.cmd == ("python", "main.py") and made.stop_signal == "SIGINT"
    project = write_tree(tmp_path / "b", {"pyproject.toml": ""})
    made = recipe(detect(project), project)
    assert made.build[0] == "COPY . ." and made.build[1].endswith("pip install --no-cache-dir .")
    assert "no app.py" in made.notes[0]


def test_java_gradle_without_wrapper_is_told(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"build.gradle": ""})
    made = recipe(detect(root), root)
    assert "./gradlew --no-daemon build -x test" in made.build[1] and "build/libs" in made.build[1]
    assert any("gradlew" in note for note in made.notes)
    assert made.builder_user == 185
    maven = write_tree(tmp_path / "m", {"pom.xml": ""})
    assert "mvn -B -DskipTests package" in recipe(detect(maven), maven).build[1]


def test_dotnet_publishes_the_first_project_and_runs_its_dll(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Web.csproj": "", "Api.csproj": ""})
    made = recipe(detect(root), root)
    assert made.cmd == ("dotnet", "/opt/app-root/app/Api.dll")
    assert made.build[0] == "COPY Api.csproj ./"
    assert "several projects (Api.csproj, Web.csproj)" in made.notes[0]


def test_ruby_copies_the_lock_only_when_there_is_one(tmp_path: Path) -> None:
    assert recipe(detect(write_tree(tmp_path / "a", {"Gemfile": ""})), tmp_path / "a").build[0] == "COPY Gemfile ./"
    root = write_tree(tmp_path / "b", {"Gemfile": "", "Gemfile.lock": "", "config.ru": ""})
    made = recipe(detect(root), root)
    assert made.build[0] == "COPY Gemfile Gemfile.lock ./" and made.notes == ()


def test_forced_runtime_without_its_files_is_told(tmp_path: Path) -> None:
    made = recipe(detect(tmp_path, "go"), tmp_path)
    assert made.notes[0].startswith("none of the go build files")
