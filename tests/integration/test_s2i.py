"""S2I profiles on a real podman service: a builder image made here (busybox with assemble, run and
save-artifacts behind the scripts-url label), a sample source tree, the generated Containerfile built,
run as UID 1001 and as an arbitrary OpenShift UID, rebuilt incrementally, and skipped when unchanged."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import BASE_IMAGE, PodmanService

pytestmark = pytest.mark.integration

BUILDER = "localhost/imgctl-test/s2i-builder:latest"
OPENSHIFT_USER = "1000680000:0"

# A builder the way UBI's are made: scripts in /usr/libexec/s2i, an app root owned by 1001 and group 0 with
# g=u, numeric USER. busybox images have no /tmp: s2i needs one anyone can write.
BUILDER_FILES = {
    "Containerfile": f"""\
FROM {BASE_IMAGE}
COPY s2i/ /usr/libexec/s2i/
RUN mkdir -p /tmp /opt/app-root/src && chmod 1777 /tmp && chown -R 1001:0 /opt/app-root && chmod -R g=u /opt/app-root
ENV APP_ROOT=/opt/app-root HOME=/opt/app-root/src
WORKDIR /opt/app-root/src
EXPOSE 8080
LABEL io.openshift.s2i.scripts-url="image:///usr/libexec/s2i" io.k8s.description="imgctl's test S2I builder" \
      io.k8s.display-name="busybox S2I" io.openshift.expose-services="8080:http" io.openshift.tags="builder,busybox"
USER 1001
""",
    # The build counter lives in /opt/app-root/cache: save-artifacts hands it to the next build, which counts on.
    "s2i/assemble": """\
#!/bin/sh
set -e
echo "---> installing the source"
cp -Rf /tmp/src/. /opt/app-root/src/
mkdir -p /opt/app-root/cache
if [ -f /tmp/artifacts/cache/count ]; then
  echo "---> restoring build artifacts"
  echo $(( $(cat /tmp/artifacts/cache/count) + 1 )) > /opt/app-root/cache/count
else
  echo 1 > /opt/app-root/cache/count
fi
chmod -R g=u /opt/app-root
""",
    "s2i/run": """\
#!/bin/sh
echo "run: uid=$(id -u) gid=$(id -g) greeting=$GREETING builds=$(cat /opt/app-root/cache/count)"
touch /opt/app-root/src/written-at-run-time && echo "run: app root writable"
[ -n "$ONCE" ] && exit 0
exec /bin/sh /opt/app-root/src/app.sh
""",
    "s2i/save-artifacts": """\
#!/bin/sh
cd /opt/app-root && tar -cf - cache
""",
    "s2i/usage": "#!/bin/sh\necho 'imgctl test builder'\n",
}


def _make_builder(service: PodmanService, workdir: Path) -> None:
    if service.podman("image", "exists", BUILDER, check=False).returncode == 0:
        return
    context = workdir / "s2i-builder"
    for name, text in BUILDER_FILES.items():
        path = context / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if name.startswith("s2i/"):
            path.chmod(0o755)
    service.podman("build", "-q", "-t", BUILDER, str(context))


class Project:
    def __init__(self, service: PodmanService, root: Path, profile: str = "") -> None:
        self.service = service
        self.root = root
        self.image = f"imgctl-it/s2i-{uuid.uuid4().hex[:8]}"
        files = {
            "app/index.html": "<h1>hello</h1>\n",
            # The application the run script hands PID 1 to: it stops cleanly on SIGTERM, as OpenShift asks.
            "app/app.sh": "#!/bin/sh\nhttpd -f -p 8080 -h /opt/app-root/src &\ntrap 'kill $!; exit 0' TERM INT\nwait\n",
            "app/.s2i/environment": '# the greeting\nGREETING=hello $USER "world"\n',
            "profiles/app.toml": f'image = "{self.image}"\nstrategy = "s2i"\nbuilder = "{BUILDER}"\n'
                                 f'context = "app"\n{profile}',
        }
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    @property
    def env(self) -> dict[str, str]:
        return {"XDG_CACHE_HOME": str(self.root / ".cache")}

    def imgctl(self, *args: str) -> str:
        done = self.service.imgctl(*args, cwd=self.root, env=self.env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def build(self, *args: str) -> dict:
        return json.loads(self.imgctl("build", "app", "--json", *args))["images"][0]

    def run(self, *args: str) -> str:
        done = self.service.podman("run", "--rm", "-e", "ONCE=1", *args, f"{self.image}:latest", check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture
def project(podman_service: PodmanService, tmp_path: Path) -> Project:
    _make_builder(podman_service, tmp_path)
    return Project(podman_service, tmp_path / "s2i")


def test_an_s2i_build_runs_assemble_and_its_image_runs_the_run_script_as_1001(project: Project) -> None:
    built = project.build()
    assert built["up_to_date"] is False
    config = project.service.inspect(built["image_id"])["Config"]
    assert config["User"] == "1001"
    assert config["Cmd"] == ["/usr/libexec/s2i/run"]
    assert "GREETING=hello $USER \"world\"" in config["Env"]  # .s2i/environment, nothing expanded
    assert "APP_ROOT=/opt/app-root" in config["Env"]  # the builder's environment, inherited
    labels = config["Labels"]
    assert labels["io.openshift.s2i.build.image"] == BUILDER
    assert labels["io.openshift.s2i.scripts-url"] == "image:///usr/libexec/s2i"  # save-artifacts is found later
    assert labels["io.imgctl.inputs.digest"].startswith("sha256:")

    out = project.run()
    assert "run: uid=1001 gid=0 greeting=hello $USER \"world\" builds=1" in out
    assert "run: app root writable" in out
    # OpenShift's arbitrary UID in group 0 can run it and write where the app writes.
    out = project.run("--user", OPENSHIFT_USER)
    assert "run: uid=1000680000 gid=0" in out
    assert "run: app root writable" in out
    # The source landed where assemble put it, owned by 1001:0 as s2i copies it.
    listing = project.service.podman("run", "--rm", "--entrypoint", "", f"{project.image}:latest",
                                     "ls", "-lna", "/tmp/src", "/opt/app-root/src/index.html").stdout
    assert " 1001 " in listing and "index.html" in listing and ".s2i" in listing
    assert ".imgctl-" not in listing  # the generated Containerfile travels in the tar but is never copied


def test_the_image_serves_as_an_arbitrary_uid_and_stops_on_sigterm(project: Project) -> None:
    project.build()
    service = project.service
    container = service.podman("run", "-d", "--user", OPENSHIFT_USER, f"{project.image}:latest").stdout.strip()
    try:
        processes = ""
        for _ in range(100):  # until the run script has exec'd the application (no clock asserted)
            processes = service.podman("exec", container, "ps", "-o", "pid,args", check=False).stdout
            if "httpd" in processes:
                break
        assert "1 /bin/sh /opt/app-root/src/app.sh" in processes  # run exec'd: the application is PID 1
        page = service.podman("exec", container, "wget", "-qO-", "http://127.0.0.1:8080/index.html").stdout
        assert page == "<h1>hello</h1>\n"
        service.podman("stop", "-t", "30", container)
        state = service.podman("inspect", "--format", "{{.State.ExitCode}}", container).stdout.strip()
        assert state == "0"  # stopped by its own SIGTERM handler, not killed (137) after the grace period
    finally:
        service.podman("rm", "-f", container, check=False)


def test_show_containerfile_prints_what_is_built(project: Project) -> None:
    text = project.imgctl("show", "app", "--containerfile")
    assert text.startswith("# Generated by imgctl")
    assert f"FROM {BUILDER}\n" in text
    assert 'ENV GREETING="hello \\$USER \\"world\\""\n' in text
    assert "COPY --chown=1001:0 . /tmp/src\n" in text
    assert "USER 1001\n# Assemble script sourced from the builder image's scripts-url label\n" \
           "RUN /usr/libexec/s2i/assemble\n" in text
    assert text.rstrip().endswith('CMD ["/usr/libexec/s2i/run"]')


def test_an_unchanged_source_is_skipped_and_a_changed_one_rebuilt(project: Project) -> None:
    first = project.build()
    second = project.build()
    assert second["up_to_date"] is True
    assert second["image_id"] == first["image_id"]
    # .s2i/environment is part of the generated Containerfile, so of the inputs.
    (project.root / "app/.s2i/environment").write_text("GREETING=bonjour\n")
    third = project.build()
    assert third["up_to_date"] is False
    assert "greeting=bonjour" in project.run()


def test_an_incremental_rebuild_restores_the_saved_artifacts(podman_service: PodmanService, tmp_path: Path) -> None:
    _make_builder(podman_service, tmp_path)
    project = Project(podman_service, tmp_path / "inc", "incremental = true\n")
    first = project.build()
    assert "builds=1" in project.run()
    # Nothing changed: the previous image is not an input, so this is skipped, not rebuilt from itself.
    assert project.build()["up_to_date"] is True
    shown = project.imgctl("show", "app", "--containerfile")
    assert f"FROM {first['image_id']} AS cached\n" in shown
    (project.root / "app/index.html").write_text("<h1>changed</h1>\n")
    second = project.build()
    assert second["up_to_date"] is False
    assert "builds=2" in project.run()  # the count came back through save-artifacts
    (project.root / "app/index.html").write_text("<h1>changed again</h1>\n")
    project.build()
    assert "builds=3" in project.run()
    # The restore stage left nothing behind in the image.
    listing = podman_service.podman("run", "--rm", f"{project.image}:latest", "ls", "/tmp").stdout
    assert "artifacts.tar" not in listing


def test_without_a_previous_image_an_incremental_profile_builds_from_scratch(
    podman_service: PodmanService, tmp_path: Path
) -> None:
    _make_builder(podman_service, tmp_path)
    project = Project(podman_service, tmp_path / "fresh", "incremental = true\n")
    shown = project.service.imgctl("show", "app", "--containerfile", cwd=project.root, env=project.env)
    assert shown.returncode == 0, shown.stderr
    assert " AS cached" not in shown.stdout
    assert "no previous image" in shown.stderr


def test_dry_run_and_context_show_what_an_s2i_build_sends(project: Project) -> None:
    plan = json.loads(project.imgctl("build", "app", "--dry-run", "--json"))["plans"][0]
    assert plan["containerfile"] is None
    [member] = plan["tar_extra"]
    assert member.startswith(".imgctl-") and member in plan["build_params"]["excludes"]
    assert any("the Containerfile is generated" in note for note in plan["notes"])
    human = project.imgctl("build", "app", "--dry-run")
    assert "containerfile  generated (strategy = s2i)" in human
    sent = json.loads(project.imgctl("context", "app", "--json"))
    assert sorted(sent["files"]) == [".s2i/environment", "app.sh", "index.html"]  # COPY . /tmp/src reads it all
    assert project.service.podman("image", "exists", f"{project.image}:latest", check=False).returncode == 1


def test_a_builder_that_is_not_there_fails_before_anything_is_sent(project: Project) -> None:
    profile = project.root / "profiles" / "app.toml"
    profile.write_text(profile.read_text().replace(BUILDER, "localhost/imgctl-test/no-such-builder:1"))
    done = project.service.imgctl("build", "app", cwd=project.root, env=project.env)
    assert done.returncode == 5, done.stderr
    assert "the S2I builder image localhost/imgctl-test/no-such-builder:1 is not present locally" in done.stderr
    assert "podman pull" in done.stderr


def test_a_build_pulls_a_builder_it_does_not_have_with_the_registrys_credentials(
    podman_service: PodmanService, registry, tmp_path: Path
) -> None:
    import base64

    _make_builder(podman_service, tmp_path)
    remote = f"{registry.host}/s2i/builder-{uuid.uuid4().hex[:8]}:1"
    podman_service.podman("push", "--tls-verify=false", "--creds", f"{registry.username}:{registry.password}",
                          BUILDER, remote)
    assert podman_service.podman("image", "exists", remote, check=False).returncode == 1
    project = Project(podman_service, tmp_path / "pull", f'[registries."{registry.host}"]\ntls_verify = false\n')
    profile = project.root / "profiles" / "app.toml"
    profile.write_text(profile.read_text().replace(BUILDER, remote))
    # Read-only commands never pull.
    shown = podman_service.imgctl("show", "app", "--containerfile", cwd=project.root, env=project.env)
    assert shown.returncode == 5 and "is not present locally" in shown.stderr
    # Without credentials the registry refuses, and the error names the builder.
    refused = podman_service.imgctl("build", "app", cwd=project.root, env=project.env)
    assert refused.returncode == 5, refused.stderr
    assert f"pulling the S2I builder image {remote} failed" in refused.stderr
    secret = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    auth = tmp_path / "auth.json"
    auth.write_text(json.dumps({"auths": {registry.host: {"auth": secret}}}))
    try:
        built = project.build("--authfile", str(auth))
        assert built["up_to_date"] is False
        assert f"FROM {remote}\n" in project.imgctl("show", "app", "--containerfile")
        assert "run: uid=1001 gid=0" in project.run()
    finally:
        podman_service.podman("rmi", remote, check=False)
