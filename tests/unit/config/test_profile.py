from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from builder.config.profile import Profile, RegistrySettings, load_profile
from builder.config.summary import ProfileProblem, summarize
from builder.errors import ConfigError
from tests.git_fixtures import git
from tests.unit.config.profile_fixtures import NO_ENV, NOW, Project, assert_error

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover
    pass


# --- a plain profile ------------------------------------------------------------------------------------


def test_defaults(project: Project) -> None:
    file = project.write("api", 'image = "team/api"')
    profile = project.load("api")
    root = project.root.resolve()
    assert profile == Profile(
        name="api",
        file=file.resolve(),
        root=root,
        image="localhost/team/api",
        description="",
        containerfile=root / "Containerfile",
        context=root,
        target=None,
        tags=("latest",),
        labels={},
        build_args={},
        platform=(),
        pull="missing",
        no_cache=False,
        isolation=None,
        secrets={},
        version=None,
        extends=(),
        raw={"image": "team/api"},
    )
    assert profile.refs == ("localhost/team/api:latest",)
    assert profile.setting("tags") == ["latest"]
    assert profile.setting("image") == "team/api"


def test_every_key(project: Project) -> None:
    (project.root / "services" / "api").mkdir(parents=True)
    (project.root / "docker").mkdir()
    (project.root / "docker" / "api.Containerfile").write_text("FROM scratch\n")
    (project.root / "secrets").mkdir()
    (project.root / "secrets" / "npmrc").write_text("token")
    project.write(
        "api",
        """
        image = "quay.io/team/api"
        description = "The API"
        version = "1.4.2"
        containerfile = "docker/api.Containerfile"
        context = "services/api"
        target = "runtime"
        tags = ["{version}", "latest", "{version}"]
        platform = ["linux/arm/v7", "linux/arm/v7"]
        pull = "always"
        no_cache = true
        isolation = "chroot"

        [labels]
        "org.opencontainers.image.version" = "{version}"
        built = "{date}"

        [build_args]
        PROFILE = "{profile}"

        [secrets]
        npmrc = "secrets/npmrc"
        """,
    )
    profile = project.load("api")
    root = project.root.resolve()
    assert profile.image == "quay.io/team/api"
    assert profile.description == "The API"
    assert profile.version == "1.4.2"
    assert profile.containerfile == root / "docker" / "api.Containerfile"
    assert profile.context == root / "services" / "api"
    assert profile.target == "runtime"
    assert profile.tags == ("1.4.2", "latest")  # duplicates dropped, order kept
    assert profile.refs == ("quay.io/team/api:1.4.2", "quay.io/team/api:latest")
    assert profile.platform == ("linux/arm/v7",)  # duplicates dropped
    assert (profile.pull, profile.no_cache, profile.isolation) == ("always", True, "chroot")
    assert profile.labels == {"org.opencontainers.image.version": "1.4.2", "built": "20240305"}
    assert profile.build_args == {"PROFILE": "api"}
    assert profile.secrets == {"npmrc": root / "secrets" / "npmrc"}
    assert profile.raw["tags"] == ["{version}", "latest", "{version}"]  # before expansion
    data = profile.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["refs"] == ["quay.io/team/api:1.4.2", "quay.io/team/api:latest"]
    assert data["secrets"] == {"npmrc": str(root / "secrets" / "npmrc")}
    assert data["platform"] == ["linux/arm/v7"]


def test_platform_as_a_string(project: Project) -> None:
    project.write("api", 'image = "api"\nplatform = "linux/arm64/v8"')
    assert project.load("api").platform == ("linux/arm64/v8",)


def test_paths_resolve_against_the_project_root_not_cwd(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "Containerfile").write_text("FROM wrong\n")
    monkeypatch.chdir(elsewhere)
    project.write("api", 'image = "api"\ncontainerfile = "Containerfile"')
    profile = load_profile(Path(os.path.relpath(project.profiles, elsewhere)), "api", env=NO_ENV, now=NOW)
    assert profile.containerfile == project.root.resolve() / "Containerfile"
    assert profile.root == project.root.resolve()


def test_default_containerfile_is_looked_up_in_the_context(project: Project) -> None:
    service = project.root / "svc"
    service.mkdir()
    (service / "Dockerfile").write_text("FROM scratch\n")
    project.write("svc", 'image = "svc"\ncontext = "svc"')
    assert project.load("svc").containerfile == service.resolve() / "Dockerfile"
    (service / "Containerfile").write_text("FROM scratch\n")
    assert project.load("svc").containerfile == service.resolve() / "Containerfile"


def test_dockerfile_fallback_at_the_root(project: Project) -> None:
    (project.root / "Containerfile").unlink()
    (project.root / "Dockerfile").write_text("FROM scratch\n")
    project.write("api", 'image = "api"')
    assert project.load("api").containerfile == project.root.resolve() / "Dockerfile"


def test_absolute_paths_are_kept(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "outside.Containerfile"
    outside.write_text("FROM scratch\n")
    project.write("api", f'image = "api"\ncontainerfile = "{outside}"')
    assert project.load("api").containerfile == outside.resolve()


def test_empty_target_and_version_mean_unset(project: Project) -> None:
    project.write("api", 'image = "api"\ntarget = ""\nversion = ""\ntags = ["{version:-dev}"]')
    profile = project.load("api")
    assert (profile.target, profile.version, profile.tags) == (None, None, ("dev",))


def test_description_is_not_a_template(project: Project) -> None:
    project.write("api", 'image = "api"\ndescription = "uses {braces} freely"')
    assert project.load("api").description == "uses {braces} freely"


def test_profile_placeholder_is_the_loaded_profile(project: Project) -> None:
    project.write("base", 'image = "api"\ntags = ["{profile}"]')
    project.write("child", 'extends = "base"')
    assert project.load("child").tags == ("child",)


# (profile text, env, line, key, message fragment, hint fragment): errors found after merging.
VALUE_ERRORS = [
    ('description = "no image"\n', {}, None, "image", "no image is set", 'add image = "team/api" to api.toml'),
    ('# c\nimage = "Team/api"\n', {}, 2, "image", "path component 'Team' must be lowercase", 'image = "team/api"'),
    ('image = "team/api:1.0"\n', {}, 1, "image", "includes a tag (':1.0')", 'move the tag to tags = ["1.0"]'),
    ('image = "api"\ntags = ["ok", "{env:BRANCH}"]\n', {"BRANCH": "feature/x"}, 2, "tags[1]",
     "tag 'feature/x' is not a valid tag: only letters, digits, '_', '.', '-', at most 128 characters, not "
     "starting with '.' or '-'", "'{env:BRANCH}' expanded to 'feature/x'"),
    ('image = "api"\ntags = ["registry/api:1"]\n', {}, 2, "tags[0]", "is not a valid tag",
     "the repository comes from image"),
    ('image = "api"\ntags = []\n', {}, 2, "tags", "tags is empty: at least one tag is needed", "tags = ["),
    ('image = "api"\ntags = ["{git_shaa}"]\n', {}, 2, "tags[0]",
     "unknown placeholder {git_shaa} (did you mean '{git_sha}'?)", "placeholders are {git_sha}"),
    ('image = "api"\ntags = ["{git_sha}"]\n', {}, 2, "tags[0]", "{git_sha}: ", "{git_sha:-unknown}"),
    ('image = "api"\n\n[labels]\nversion = "{version}"\n', {}, 4, "labels.version",
     "{version}: no version is set", "--set version=1.2.3"),
    ('image = "api"\nbuild_args = { TOKEN = "{env:TOKEN}" }\n', {}, 2, "build_args.TOKEN",
     "{env:TOKEN}: environment variable TOKEN is not set", "{env:TOKEN:-VALUE}"),
    ('image = "api"\nlabels = { x = "a}b" }\n', {}, 2, "labels.x", "single '}'", "write '}}'"),
    ('image = "api"\nversion = "v{version}"\n', {}, 2, "version", "version cannot use {version}",
     'version = "{git_tag:-0.0.0}"'),
    ('image = "api"\nversion = "{env:NOPE}"\n', {}, 2, "version", "environment variable NOPE is not set", None),
    ('image = "api"\ncontainerfile = "nope/Containerfile"\n', {}, 2, "containerfile",
     "containerfile file {root}/nope/Containerfile does not exist", "relative to the project root {root}"),
    ('image = "api"\ncontext = "ctx"\n', {}, 2, "context", "context directory {root}/ctx does not exist",
     "relative to the project root"),
    ('image = "api"\ncontext = "Containerfile"\n', {}, 2, "context",
     "context directory {root}/Containerfile is not a directory", None),
    ('image = "api"\ncontainerfile = "profiles"\n', {}, 2, "containerfile", "is not a file", None),
    ('image = "api"\n[secrets]\nnpmrc = "secrets/npmrc"\n', {}, 3, "secrets.npmrc",
     "secrets.npmrc file {root}/secrets/npmrc does not exist", "relative to the project root"),
    ('image = "api"\ncontext = "empty"\n', {}, None, "containerfile",
     "no Containerfile or Dockerfile in {root}/empty", 'set containerfile = "path/to/Containerfile"'),
]


@pytest.mark.parametrize(("text", "env", "line", "key", "message", "hint"), VALUE_ERRORS)
def test_value_errors(
    project: Project, text: str, env: dict[str, str], line: int | None, key: str, message: str, hint: str | None
) -> None:
    (project.root / "empty").mkdir()
    project.write("api", text)
    root = str(project.root.resolve())
    error = project.error("api", env=env)
    assert_error(
        error, file=(project.profiles / "api.toml").resolve(), line=line, key=key,
        message=message.replace("{root}", root), hint=(hint or "").replace("{root}", root),
    )


# --- templates with a real checkout ---------------------------------------------------------------------


@pytest.fixture
def repo_project(project: Project) -> Project:
    git(project.root, "init", "-q", "-b", "main")
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "init")
    return project


def test_git_placeholders_in_tags_labels_and_build_args(repo_project: Project) -> None:
    project = repo_project
    project.write(
        "api",
        """
        image = "api"
        version = "{git_tag:-0.0.0}"
        tags = ["{git_short_sha}{git_dirty}", "{git_branch}", "{version}"]
        labels = { revision = "{git_sha}" }
        build_args = { VERSION = "{version}" }
        """,
    )
    sha = git(project.root, "rev-parse", "HEAD")
    profile = project.load("api")  # profiles/api.toml is untracked: the checkout is dirty
    assert profile.tags == (f"{sha[:12]}-dirty", "main", "0.0.0")
    assert profile.labels == {"revision": sha}
    assert profile.version == "0.0.0"
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "profile")
    git(project.root, "tag", "v3.1.0")
    sha = git(project.root, "rev-parse", "HEAD")
    profile = project.load("api")
    assert profile.tags == (sha[:12], "main", "v3.1.0")
    assert profile.build_args == {"VERSION": "v3.1.0"}


def test_detached_head_uses_ci_branch(repo_project: Project) -> None:
    project = repo_project
    project.write("api", 'image = "api"\ntags = ["{git_branch}"]\n')
    git(project.root, "checkout", "-q", "--detach")
    assert project.load("api", env={"CI_COMMIT_BRANCH": "release"}).tags == ("release",)
    error = project.error("api", env={})
    assert_error(
        error, file=(project.profiles / "api.toml").resolve(), line=2, key="tags[0]",
        message="{git_branch}: HEAD (", hint="{git_branch:-detached}",
    )


def test_an_untaggable_branch_points_at_the_slug(repo_project: Project) -> None:
    project = repo_project
    project.write("api", 'image = "api"\ntags = ["{git_branch}"]\n')
    git(project.root, "checkout", "-q", "-b", "feature/x")
    error = project.error("api")
    assert_error(
        error, file=(project.profiles / "api.toml").resolve(), line=2, key="tags[0]",
        message="tag 'feature/x' is not a valid tag", hint="{git_branch_slug} gives the branch",
    )
    project.write("api", 'image = "api"\ntags = ["{git_branch_slug}"]\n')
    assert project.load("api").tags == ("feature-x",)


def test_git_is_not_run_without_git_placeholders(project: Project) -> None:
    project.write("api", 'image = "api"\ntags = ["{date}"]\n')
    # git cannot run with this PATH (git runs with the profile's environment): any call would fail
    assert project.load("api", env={"PATH": "/nonexistent"}).tags == ("20240305",)


def test_source_date_epoch(project: Project) -> None:
    project.write("api", 'image = "api"\ntags = ["{timestamp}"]\n')
    profile = load_profile(project.profiles, "api", env={"SOURCE_DATE_EPOCH": "86400"})
    assert profile.tags == ("19700102000000",)
    explicit = load_profile(project.profiles, "api", env={"SOURCE_DATE_EPOCH": "86400"}, now=NOW)
    assert explicit.tags == ("20240305070809",)
    with pytest.raises(ConfigError) as caught:
        load_profile(project.profiles, "api", env={"SOURCE_DATE_EPOCH": "soon"})
    assert_error(
        caught.value, file=None, line=None, key="SOURCE_DATE_EPOCH",
        message="expected a number of seconds since 1970-01-01 UTC, got 'soon'", hint="unset it",
    )


def test_imports_stay_light() -> None:
    # subprocess and difflib are only needed for git placeholders and error messages.
    code = (
        "import sys; before = set(sys.modules); "
        "import builder.config.profile, builder.config.summary, builder.oci.refs, builder.vcs; "
        "heavy = {'podman', 'rich', 'typer', 'subprocess', 'difflib'} & (set(sys.modules) - before); "
        "print(sorted(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- push and registries (issue 4)


def _push_project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "profiles").mkdir(exist_ok=True)
    (tmp_path / "Containerfile").write_text("FROM scratch\n")
    (tmp_path / "profiles" / "p.toml").write_text('image = "api"\n' + text)
    return tmp_path / "profiles"


def test_push_destinations_and_registry_settings(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    profiles_dir = _push_project(
        tmp_path,
        'push = ["quay.io/team/api", "registry.example.com:5000/ns/api", "quay.io/team/api"]\n'
        '[registries."registry.example.com:5000"]\ntls_verify = false\ncert_dir = "certs"\n'
        '[registries."quay.io"]\ninsecure = true\n',
    )
    profile = load_profile(profiles_dir, "p", env={})
    assert profile.push == ("quay.io/team/api", "registry.example.com:5000/ns/api")
    local = profile.registry("registry.example.com:5000")
    assert (local.tls_verify, local.cert_dir, local.verify) == (False, tmp_path / "certs", False)
    assert profile.registry("quay.io").verify is False
    assert profile.registry("ghcr.io") == RegistrySettings()
    assert profile.to_dict()["registries"]["quay.io"]["insecure"] is True


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ('push = ["team/api"]\n', "push[0]", "does not name a registry"),
        ('push = ["quay.io/team/api:1.0"]\n', "push[0]", "tag"),
        ('push = "quay.io/team/api"\n', "push", "expected a list of strings"),
        ('[registries."quay.io"]\ntls_verfy = false\n', 'registries."quay.io".tls_verfy', "did you mean 'tls_verify'"),
        ('[registries."quay.io"]\ntls_verify = "no"\n', 'registries."quay.io".tls_verify', "expected true or false"),
        ('[registries."quay.io"]\ncert_dir = "missing"\n', 'registries."quay.io".cert_dir', "does not exist"),
    ],
)
def test_push_and_registry_errors(tmp_path: Path, text: str, key: str, message: str) -> None:
    profiles_dir = _push_project(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_profile(profiles_dir, "p", env={})
    assert caught.value.key == key
    assert message in str(caught.value)
    assert caught.value.file == profiles_dir / "p.toml"


# --- one platform per build (every command agrees) ---------------------------------------------------------

SEVERAL = "building several platforms in one run is not supported yet"


def test_several_platforms_are_refused_at_the_line_that_asks(project: Project) -> None:
    project.write("api", 'image = "api"\nplatform = ["linux/amd64",\n  "linux/arm64"]\n')
    assert_error(
        project.error("api"), file=(project.profiles / "api.toml").resolve(), line=2, key="platform",
        message=SEVERAL, hint="give one platform per profile",
    )
    # `imgctl list` shows the same problem, so show, list and build agree.
    [problem] = summarize(project.profiles)
    assert isinstance(problem, ProfileProblem) and problem.error.message == SEVERAL


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ('image = "api"\n', "platform=linux/amd64,linux/arm64"),
        ('image = "api"\nplatform = "linux/amd64"\n', "platform+=linux/arm64"),
        ('image = "api"\nplatform = ["linux/amd64"]\n', "platform+=linux/arm64"),
    ],
)
def test_several_platforms_from_set_are_refused(project: Project, text: str, item: str) -> None:
    project.write("api", text)
    assert_error(
        project.error("api", item), file=None, line=None, key="platform",
        message=f"{SEVERAL} (from --set {item})", hint="give one platform per profile",
    )


def test_a_profile_cannot_hold_several_platforms(project: Project) -> None:
    project.write("api", 'image = "api"\nplatform = "linux/amd64"\n')
    profile = project.load("api")
    with pytest.raises(ValueError, match="at most one platform"):
        dataclasses.replace(profile, platform=("linux/amd64", "linux/arm64"))


# --- ignore_dialect ----------------------------------------------------------------------------------------


def test_ignore_dialect(project: Project) -> None:
    project.write("api", 'image = "api"\n')
    assert project.load("api").ignore_dialect == "buildah"  # what podman applies
    assert project.load("api").to_dict()["ignore_dialect"] == "buildah"
    assert project.load("api", "ignore_dialect=moby").ignore_dialect == "moby"
    project.write("base", 'image = "api"\nignore_dialect = "moby"\n')
    project.write("child", 'extends = "base"\n')
    assert project.load("child").ignore_dialect == "moby"
    project.write("api", 'image = "api"\nignore_dialect = "docker"\n')
    assert_error(
        project.error("api"), file=(project.profiles / "api.toml").resolve(), line=2, key="ignore_dialect",
        message="expected one of 'buildah', 'moby', got 'docker'", hint='ignore_dialect = "moby"',
    )


# --- the [lint] and [verify] tables ---------------------------------------------------------------------


def test_lint_and_verify_tables_are_typed_with_defaults(project: Project) -> None:
    project.write("api", 'image = "api"\n[lint]\nignore = ["DL3008"]\noverride = { OS106 = "error" }\n'
                         '[verify]\nkind = "job"\ngrace = 3\nskip = { OS222 = "a batch job" }\n')
    profile = project.load("api")
    assert profile.lint.ignore == ("DL3008",)
    assert dict(profile.lint.override) == {"OS106": "error"}
    lint = profile.lint
    assert (lint.failure_threshold, lint.policy, lint.on_build) == ("warning", "openshift", "warn")
    assert (profile.verify.kind, profile.verify.grace, profile.verify.user) == ("job", 3, "1000680000:0")
    assert dict(profile.verify.skip) == {"OS222": "a batch job"}
    policy = profile.lint.findings_policy()
    assert policy.ignore == frozenset({"DL3008"}) and policy.failure_threshold == "warning"


def test_a_child_replaces_one_lint_entry_and_keeps_the_others(project: Project) -> None:
    project.write("base", 'image = "api"\n[lint]\nignore = ["DL3008"]\nfailure_threshold = "error"\n')
    project.write("api", 'extends = "base"\n[lint]\nignore = ["OS106"]\n')
    profile = project.load("api")
    assert (profile.lint.ignore, profile.lint.failure_threshold) == (("OS106",), "error")


def test_set_parses_a_lint_entry_with_its_kind(project: Project) -> None:
    project.write("api", 'image = "api"\n')
    profile = project.load("api", "lint.ignore=DL3008,OS104", "verify.grace=4")
    assert profile.lint.ignore == ("DL3008", "OS104") and profile.verify.grace == 4


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        ('image = "api"\n[lint]\nignor = []\n', 3, "lint.ignor", "unknown setting 'ignor' (did you mean 'ignore'?)"),
        ('image = "api"\n[lint]\nignore = ["DL 3008"]\n', 3, "lint.ignore[0]", "expected a rule code"),
        ('image = "api"\n[lint]\noverride = { DL3008 = "fatal" }\n', 3, "lint.override.DL3008", "got 'fatal'"),
        ('image = "api"\n[verify]\ngrace = 0\n', 3, "verify.grace", "from 1 to 600, got 0"),
        ('image = "api"\n[verify]\nuser = "app"\n', 3, "verify.user", "UID or UID:GID"),
        ('image = "api"\nwritable_paths = ["data"]\n', 2, "writable_paths[0]", "an absolute path"),
    ],
)
def test_lint_and_verify_errors_name_file_line_and_key(
    project: Project, text: str, line: int, key: str, message: str
) -> None:
    project.write("api", text)
    error = project.error("api")
    assert error.line == line and error.key == key, str(error)
    assert message in error.message


# --- strategy = "s2i" -------------------------------------------------------------------------------------


def test_an_s2i_profile_has_no_containerfile_and_needs_none(project: Project) -> None:
    (project.root / "Containerfile").unlink()
    project.write("app", 'image = "team/app"\nstrategy = "s2i"\nbuilder = "ubi9/python-311"\nincremental = true\n')
    profile = project.load("app")
    assert profile.containerfile is None
    assert (profile.strategy, profile.builder, profile.incremental) == ("s2i", "ubi9/python-311", True)
    assert profile.to_dict()["containerfile"] is None


def test_an_s2i_profile_without_a_builder_is_refused_at_its_strategy_line(project: Project) -> None:
    project.write("app", 'image = "team/app"\nstrategy = "s2i"\n')
    assert_error(project.error("app"), file=(project.profiles / "app.toml").resolve(), line=2, key="strategy",
                 message='strategy = "s2i" needs a builder image', hint='builder = "registry.access.redhat.com/')


def test_an_s2i_builder_must_be_an_image_reference(project: Project) -> None:
    project.write("app", 'image = "team/app"\nstrategy = "s2i"\nbuilder = "Not An Image"\n')
    assert_error(project.error("app"), file=(project.profiles / "app.toml").resolve(), line=3, key="builder",
                 message="'Not An Image' is not an image reference", hint="builder = ")


@pytest.mark.parametrize("key, line", [("containerfile", 'containerfile = "Containerfile"'),
                                       ("target", 'target = "runtime"')])
def test_an_s2i_profile_refuses_the_keys_of_a_containerfile(project: Project, key: str, line: str) -> None:
    project.write("app", f'image = "team/app"\nstrategy = "s2i"\nbuilder = "ubi9/python-311"\n{line}\n')
    assert_error(project.error("app"), file=(project.profiles / "app.toml").resolve(), line=4, key=key,
                 message=f'{key} cannot be used with strategy = "s2i"', hint="--containerfile")


def test_a_containerfile_profile_ignores_the_s2i_keys_it_does_not_use(project: Project) -> None:
    project.write("api", 'image = "team/api"\nbuilder = "ubi9/python-311"\n')
    assert project.load("api").containerfile == project.root.resolve() / "Containerfile"
