"""`imgctl init` end to end: the real CLI writes the files, `imgctl build` builds them on a real podman service.

No UBI image can be pulled here, so both base images are swapped through the build arguments the generated
Containerfile declares for that purpose: the runtime stage gets the busybox base of the suite, the build stage
a busybox "toolbox" whose npm, pip, mvn, go, ... are stand-ins (tests/integration/scaffold_tools.py). What
is real: every instruction of the generated file runs (COPY of the sources, the RUN lines of both stages with
their users, the copy between the stages, chgrp/chmod, USER, labels, CMD); what is not: the language tools.
docs/init.md ("How it is tested") says what that does and does not prove.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from builder.scaffold.recipes import NODE_SIGTERM_JS
from tests.integration.conftest import BASE_IMAGE, PodmanService, _unavailable
from tests.integration.scaffold_tools import toolbox_containerfile, write_tools
from tests.trees import write_tree

pytestmark = pytest.mark.integration

TOOLBOX = "localhost/imgctl-test/ubi-toolbox:1"
ARBITRARY_USER = "1000680000:0"

# runtime -> (the application's files, paths the image must hold, paths it must not hold)
APPS: dict[str, tuple[dict[str, str], tuple[str, ...], tuple[str, ...]]] = {
    "python": ({"requirements.txt": "flask==3.0.3\n", "app.py": "print('hi')\n"},
               ("/opt/app-root/venv/lib/site-packages/installed.txt", "/opt/app-root/src/app.py"), ()),
    "nodejs": ({"package.json": '{"name": "demo"}\n', "package-lock.json": "{}\n", "index.js": "\n"},
               ("/opt/app-root/src/node_modules/runtime-dep", "/opt/app-root/src/index.js",
                "/opt/app-root/sigterm.cjs"),
               ("/opt/app-root/src/node_modules/dev-dep",)),
    "java": ({"pom.xml": "<project/>\n", "src/main/java/App.java": "class App {}\n"},
             ("/deployments/app.jar",), ()),
    "go": ({"go.mod": "module demo\n", "main.go": "package main\n"}, ("/opt/app-root/bin/app",), ()),
    "php": ({"composer.json": "{}\n", "index.php": "<?php\n"},
            ("/opt/app-root/src/vendor/autoload.php", "/opt/app-root/src/index.php"), ()),
    "ruby": ({"Gemfile": "source 'https://rubygems.org'\n", "Gemfile.lock": "\n", "config.ru": "run ->(e) {}\n"},
             ("/opt/app-root/src/vendor/bundle/ruby/3.3.0/gems/rack", "/opt/app-root/src/.bundle/config"),
             ("/opt/app-root/src/vendor/bundle/ruby/3.3.0/cache",)),
    "dotnet": ({"Api.csproj": "<Project/>\n", "Program.cs": "\n"}, ("/opt/app-root/app/Api.dll",), ()),
}


@pytest.fixture(scope="module")
def toolbox(podman_service: PodmanService, tmp_path_factory: pytest.TempPathFactory) -> str:
    busybox = shutil.which("busybox")
    if busybox is None:
        _unavailable("busybox (Debian package busybox-static) is not installed")
    context = tmp_path_factory.mktemp("toolbox")
    shutil.copy(busybox, context / "busybox")
    write_tools(context)
    (context / "Containerfile").write_text(toolbox_containerfile())
    podman_service.podman("build", "-q", "-t", TOOLBOX, str(context))
    return TOOLBOX




def _run(service: PodmanService, image: str, script: str) -> subprocess.CompletedProcess[str]:
    return service.podman("run", "--rm", "--user", ARBITRARY_USER, image, "sh", "-c", script, check=False)


@pytest.mark.parametrize("runtime", sorted(APPS))
def test_generated_containerfile_builds_and_suits_an_arbitrary_uid(
        podman_service: PodmanService, toolbox: str, tmp_path: Path, runtime: str) -> None:
    files, present, absent = APPS[runtime]
    project = write_tree(tmp_path / runtime, files)
    done = podman_service.imgctl("init", "--name", f"init-{runtime}", cwd=project)
    assert done.returncode == 0, done.stderr
    assert f"runtime {runtime}: found" in done.stdout

    shown = json.loads(podman_service.imgctl("show", f"init-{runtime}", "--json", cwd=project).stdout)
    built = podman_service.imgctl("build", f"init-{runtime}", "--build-arg", f"BUILDER_IMAGE={toolbox}",
                                  "--build-arg", f"RUNTIME_IMAGE={BASE_IMAGE}", cwd=project)
    assert built.returncode == 0, built.stdout + built.stderr
    image = f"localhost/init-{runtime}:latest"
    try:
        config = podman_service.inspect(image)["Config"]
        assert config["User"] == "1001"
        assert "8080/tcp" in config["ExposedPorts"]
        assert config["Labels"]["io.k8s.display-name"] == f"init-{runtime}"
        assert config["Labels"]["io.openshift.tags"] == f"{runtime},init-{runtime}"
        assert config["Cmd"][0] in ("python", "node", "java", "/opt/app-root/bin/app", "/usr/libexec/s2i/run",
                                    "bundle", "dotnet")
        if runtime == "python":
            assert config["StopSignal"] == "SIGINT"

        for path in present:
            assert _run(podman_service, image, f"test -e {path}").returncode == 0, f"{path} missing"
        for path in absent:
            assert _run(podman_service, image, f"test -e {path}").returncode != 0, f"{path} should be gone"

        if runtime == "nodejs":
            # The preload tests/unit/scaffold/test_stop.py runs as PID 1, as the printf in the RUN wrote it.
            preload = _run(podman_service, image, "cat /opt/app-root/sigterm.cjs")
            assert preload.stdout == NODE_SIGTERM_JS + "\n"

        app_dir = shown["writable_paths"][0]
        # As OpenShift runs it: a UID with no passwd entry, group 0. It writes in the application directory,
        # which belongs to group 0 with the owner's rights, and cannot write what it should not.
        probe = _run(podman_service, image, f"touch {app_dir}/probe && stat -c '%g %A' {app_dir} && "
                                            f"id -u && ! touch /etc/passwd 2>/dev/null")
        assert probe.returncode == 0, probe.stderr
        group, mode, uid = probe.stdout.split()
        assert (group, mode[4:7], uid) == ("0", "rwx", "1000680000")
        assert mode[7:] != "rwx"  # never world-writable
    finally:
        podman_service.podman("rmi", "-f", image, f"localhost/init-{runtime}:0.1.0", check=False)


def test_go_minimal_builds_on_the_micro_stand_in(podman_service: PodmanService, toolbox: str, tmp_path: Path) -> None:
    project = write_tree(tmp_path / "go", APPS["go"][0])
    done = podman_service.imgctl("init", "--minimal", "--name", "init-go-micro", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "ARG RUNTIME_IMAGE=registry.access.redhat.com/ubi9/ubi-micro:" in (project / "Containerfile").read_text()
    built = podman_service.imgctl("build", "init-go-micro", "--build-arg", f"BUILDER_IMAGE={toolbox}",
                                  "--build-arg", f"RUNTIME_IMAGE={BASE_IMAGE}", cwd=project)
    try:
        assert built.returncode == 0, built.stdout + built.stderr
        assert _run(podman_service, "localhost/init-go-micro:latest", "test -x /opt/app-root/bin/app").returncode == 0
    finally:
        podman_service.podman("rmi", "-f", "localhost/init-go-micro:latest", "localhost/init-go-micro:0.1.0",
                              check=False)

