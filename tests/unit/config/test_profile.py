from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from builder.config.files import find_profiles_dir, list_profiles
from builder.config.locate import locate
from builder.config.profile import Profile, RegistrySettings, load_profile
from builder.config.schema import SCHEMA, Setting, fresh
from builder.config.summary import ProfileProblem, ProfileSummary, load_summary, summarize
from builder.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

NOW = datetime(2024, 3, 5, 7, 8, 9, tzinfo=timezone.utc)
NO_ENV: dict[str, str] = {}


class Project:
    """A project root with profiles/ and a Containerfile, in a tmp dir."""

    def __init__(self, root: Path, ceiling: Path | None = None) -> None:
        self.root = root
        self.git_env = {"GIT_CEILING_DIRECTORIES": str(ceiling)} if ceiling is not None else {}
        self.profiles = root / "profiles"
        self.profiles.mkdir(parents=True)
        (root / "Containerfile").write_text("FROM scratch\n")

    def write(self, name: str, text: str) -> Path:
        path = self.profiles / f"{name}.toml"
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def load(self, name: str, *overrides: str, env: dict[str, str] | None = None, **kwargs: Any) -> Profile:
        # Git runs with the environment the profile is loaded with, so the ceiling travels in it.
        env = {**self.git_env, **(NO_ENV if env is None else env)}
        return load_profile(self.profiles, name, overrides=overrides, env=env, now=NOW, **kwargs)

    def error(self, name: str, *overrides: str, env: dict[str, str] | None = None) -> ConfigError:
        with pytest.raises(ConfigError) as caught:
            self.load(name, *overrides, env=env)
        return caught.value


@pytest.fixture
def project(tmp_path: Path) -> Project:
    # tmp_path might sit inside somebody's checkout; git must not find it, so git placeholders fail clearly.
    return Project(tmp_path / "project", ceiling=tmp_path)


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def assert_error(
    error: ConfigError,
    *,
    file: Path | None,
    line: int | None,
    key: str | None,
    message: str,
    hint: str | None,
) -> None:
    """`message` and `hint` are fragments; file, line and key must match exactly."""
    assert error.file == file, str(error)
    assert error.line == line, str(error)
    assert error.key == key, str(error)
    assert message in error.message, error.message
    if hint is None:
        assert error.hint is None
    else:
        assert error.hint is not None and hint in error.hint, error.hint
    assert error.exit_code == 2


# --- finding profiles -----------------------------------------------------------------------------------


def test_find_profiles_dir_walks_up_from_cwd(project: Project) -> None:
    deep = project.root / "a" / "b"
    deep.mkdir(parents=True)
    assert find_profiles_dir(deep, None, {}) == project.profiles.resolve()
    assert find_profiles_dir(project.root, None, {}) == project.profiles.resolve()


def test_find_profiles_dir_explicit_then_env(project: Project, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "my-profiles"
    other.mkdir(parents=True)
    env = {"IMGCTL_PROFILES_DIR": str(other)}
    assert find_profiles_dir(project.root, None, env) == other
    assert find_profiles_dir(project.root, project.profiles, env) == project.profiles.resolve()
    # relative values are relative to cwd
    assert find_profiles_dir(tmp_path, Path("elsewhere/my-profiles"), {}) == other
    assert find_profiles_dir(tmp_path, None, {"IMGCTL_PROFILES_DIR": "elsewhere/my-profiles"}) == other
    # an empty variable counts as unset
    assert find_profiles_dir(project.root, None, {"IMGCTL_PROFILES_DIR": ""}) == project.profiles.resolve()


@pytest.mark.parametrize(
    ("explicit", "env", "key", "message"),
    [
        ("missing", {}, "--profiles-dir", "--profiles-dir names "),
        (None, {"IMGCTL_PROFILES_DIR": "missing"}, "IMGCTL_PROFILES_DIR", "IMGCTL_PROFILES_DIR names "),
    ],
)
def test_find_profiles_dir_bad_explicit(
    tmp_path: Path, explicit: str | None, env: dict[str, str], key: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        find_profiles_dir(tmp_path, Path(explicit) if explicit else None, env)
    assert_error(
        caught.value, file=None, line=None, key=key, message=message,
        hint="the directory that holds the NAME.toml profiles",
    )
    assert "which is not a directory" in caught.value.message


def test_find_profiles_dir_none_found(tmp_path: Path) -> None:
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    with pytest.raises(ConfigError) as caught:
        find_profiles_dir(lonely, None, {})
    assert_error(
        caught.value, file=None, line=None, key=None,
        message=f"no profiles/ directory in {lonely.resolve()} or any directory above it",
        hint="--profiles-dir DIR or set IMGCTL_PROFILES_DIR",
    )


def test_list_profiles(project: Project) -> None:
    project.write("web", 'image = "web"')
    project.write("api", 'image = "api"')
    project.write(".#api", "lock file")
    (project.profiles / "notes.txt").write_text("x")
    (project.profiles / "dir.toml").mkdir()
    assert list_profiles(project.profiles) == ["api", "web"]


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


# --- extends --------------------------------------------------------------------------------------------


def test_extends_merges_tables_and_replaces_lists(project: Project) -> None:
    project.write(
        "base",
        """
        image = "team/base"
        description = "base"
        tags = ["latest", "base"]
        pull = "always"
        labels = { maintainer = "ops", tier = "base" }
        build_args = { A = "1" }
        """,
    )
    project.write(
        "mid",
        """
        extends = "base"
        image = "team/mid"
        labels = { tier = "mid" }
        build_args = { B = "2" }
        """,
    )
    project.write(
        "leaf",
        """
        extends = "mid"
        tags = ["leaf"]
        no_cache = true
        [labels]
        leaf = "yes"
        """,
    )
    profile = project.load("leaf")
    assert profile.image == "localhost/team/mid"
    assert profile.description == "base"
    assert profile.tags == ("leaf",)
    assert profile.pull == "always"
    assert profile.no_cache is True
    assert profile.labels == {"maintainer": "ops", "tier": "mid", "leaf": "yes"}
    assert profile.build_args == {"A": "1", "B": "2"}
    assert profile.extends == ("mid", "base")
    assert profile.raw["extends"] == "mid"  # the profile's own; not inherited from mid
    assert project.load("base").raw.get("extends") is None
    assert profile.file == (project.profiles / "leaf.toml").resolve()


def test_profile_placeholder_is_the_loaded_profile(project: Project) -> None:
    project.write("base", 'image = "api"\ntags = ["{profile}"]')
    project.write("child", 'extends = "base"')
    assert project.load("child").tags == ("child",)


@pytest.mark.parametrize(
    ("files", "start", "error_file", "chain"),
    [
        ({"a": "b", "b": "a"}, "a", "b", "a -> b -> a"),
        ({"a": "a"}, "a", "a", "a -> a"),
        ({"a": "b", "b": "c", "c": "b"}, "a", "c", "b -> c -> b"),
    ],
)
def test_extends_cycle(project: Project, files: dict[str, str], start: str, error_file: str, chain: str) -> None:
    for name, parent in files.items():
        project.write(name, f'image = "x"\nextends = "{parent}"')
    error = project.error(start)
    assert_error(
        error, file=(project.profiles / f"{error_file}.toml").resolve(), line=2, key="extends",
        message=f"extends cycle: {chain}", hint="remove extends from one of these profiles",
    )
    assert str(error).endswith(f"{error_file}.toml:2: extends: extends cycle: {chain}")


def test_extends_missing_parent(project: Project) -> None:
    project.write("base", 'image = "x"')
    project.write("api", '# comment\nextends = "bsae"\n')
    assert_error(
        project.error("api"), file=(project.profiles / "api.toml").resolve(), line=2, key="extends",
        message=f"extends 'bsae', but there is no {project.profiles.resolve() / 'bsae.toml'} (did you mean 'base'?)",
        hint="profiles in ",
    )


def test_errors_in_a_parent_name_the_parent_file(project: Project) -> None:
    project.write("base", 'image = "api"\ntags = [\n  "ok",\n  "not/ok",\n]\n')
    project.write("child", 'extends = "base"\n')
    assert_error(
        project.error("child"), file=(project.profiles / "base.toml").resolve(), line=4, key="tags[1]",
        message="tag 'not/ok' is not a valid tag", hint="a tag is the part after ':'",
    )


def test_missing_profile(project: Project) -> None:
    project.write("api", 'image = "api"')
    assert_error(
        project.error("apj"), file=None, line=None, key=None,
        message="no profile named 'apj' in", hint="profiles in",
    )
    assert "(did you mean 'api'?)" in project.error("apj").message
    assert "no profile named '../api'" in project.error("../api").message


def test_missing_profile_in_an_empty_directory(project: Project) -> None:
    error = project.error("api")
    assert error.hint is not None and error.hint.startswith("create ")


# --- errors in files ------------------------------------------------------------------------------------

# (profile text, line, key, message fragment, hint fragment); every file lives in profiles/api.toml.
FILE_ERRORS = [
    ('image = "api"\ntgas = ["x"]\n', 2, "tgas", "unknown key 'tgas' (did you mean 'tags'?)", "profile keys are: "),
    ('image = "api"\n\n[build]\nx = 1\n', 3, "build", "unknown key 'build'", "build_args, containerfile"),
    ('image = "api"\ntags = 3\n', 2, "tags", "expected a list of strings, got integer", 'tags = ["latest"'),
    ('image = "api"\ntags = "latest"\n', 2, "tags", "expected a list of strings, got string", "for example"),
    ('image = "api"\ntags = [\n  "a",  # one\n  # two\n  3,\n]\n', 5, "tags[1]",
     "expected a string, got integer", "tags = ["),
    ('image = "api"\ntags = ["a", "b", ["c"]]\n', 2, "tags[2]", "expected a string, got array", "for example"),
    ('image = "api"\nlabels.maintainer = 1\n', 2, "labels.maintainer", "expected a string, got integer",
     "labels = { maintainer"),
    ('image = "api"\n[labels]\nok = "x"\nmaintainer = true\n', 4, "labels.maintainer",
     "expected a string, got boolean", "for example"),
    ('image = "api"\nlabels = { a = "x", b = 2.5 }\n', 2, "labels.b", "expected a string, got float", None),
    ('image = "api"\n[labels]\n"org.opencontainers.image.title" = 1\n', 3,
     'labels."org.opencontainers.image.title"', "expected a string, got integer", None),
    ('image = "api"\nlabels = "x"\n', 2, "labels", 'expected a table of strings (NAME = "VALUE"), got string',
     None),
    ('image = "api"\nno_cache = "yes"\n', 2, "no_cache", "expected true or false, got string", "no_cache = true"),
    ('image = "api"\npull = "alway"\n', 2, "pull",
     "expected one of 'missing', 'always', 'never', 'newer', got 'alway' (did you mean 'always'?)", None),
    ('image = "api"\nisolation = "docker"\n', 2, "isolation", "expected one of 'oci', 'chroot', 'rootless'", None),
    ('image = "api"\nplatform = "amd64"\n', 2, "platform",
     "expected OS/ARCH or OS/ARCH/VARIANT, e.g. 'linux/amd64' or 'linux/arm/v7', got 'amd64'", None),
    ('image = "api"\nplatform = ["linux/amd64",\n  "Linux/arm64"]\n', 3, "platform[1]", "got 'Linux/arm64'", None),
    ('image = "api"\nplatform = 1\n', 2, "platform", "expected a platform string or a list of them, got integer",
     None),
    ("image = 5\n", 1, "image", "expected a string, got integer", 'image = "team/api"'),
    ("image = 1979-05-27\n", 1, "image", "expected a string, got date", None),
    ('image = "api"\nextends = "../x"\n', 2, "extends", "expected the name of another profile", None),
    ('image = "api"\nsecrets = { "a,b" = "x" }\n', 2, 'secrets."a,b"',
     "'a,b' is not a valid name here: expected letters, digits, '_', '.', '-'", None),
    ('image = "api"\n[build_args]\n"A B" = "x"\n', 3, 'build_args."A B"', "expected a name without '=' or spaces",
     None),
    ('image = "api"\nversion = 2\n', 2, "version", "expected a string, got integer", 'version = "1.4.2"'),
]


@pytest.mark.parametrize(("text", "line", "key", "message", "hint"), FILE_ERRORS)
def test_file_errors(project: Project, text: str, line: int, key: str, message: str, hint: str | None) -> None:
    project.write("api", text)
    error = project.error("api")
    assert_error(
        error, file=(project.profiles / "api.toml").resolve(), line=line, key=key, message=message,
        hint=hint or "",
    )
    assert str(error).startswith(f"{error.file}:{line}: {key}: ")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('image = team/api\n', 1, "invalid TOML: Invalid value (column 9)"),
        ('image = "api"\nimage = "x"\n', 2, "invalid TOML: Cannot overwrite a value (column 12)"),
        ('image = "api"\ntags = ["a",\n', 2, "invalid TOML: "),
        ('image = "api', 1, "invalid TOML: Unterminated string (at the end of the file)"),
        ('image = "api"\n[labels\n', 2, "invalid TOML:"),
    ],
)
def test_malformed_toml(project: Project, text: str, line: int, message: str) -> None:
    project.write("api", text)
    assert_error(
        project.error("api"), file=(project.profiles / "api.toml").resolve(), line=line, key=None,
        message=message, hint="strings need double quotes",
    )


def test_not_utf8(project: Project) -> None:
    (project.profiles / "api.toml").write_bytes(b'image = "api"\ndescription = "\xff"\n')
    assert_error(
        project.error("api"), file=(project.profiles / "api.toml").resolve(), line=2, key=None,
        message="not valid UTF-8", hint="save the file as UTF-8",
    )


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


# --- overrides ------------------------------------------------------------------------------------------

OVERRIDES: list[tuple[tuple[str, ...], Callable[[Profile], Any], Any]] = [
    (("tags=a,b",), lambda p: p.tags, ("a", "b")),
    (("tags= a , ,b ",), lambda p: p.tags, ("a", "b")),
    (("tags+=extra",), lambda p: p.tags, ("base", "extra")),
    (("tags=x", "tags+=y", "tags+=z,w"), lambda p: p.tags, ("x", "y", "z", "w")),
    (("labels.org.opencontainers.image.title=API",), lambda p: p.labels,
     {"maintainer": "ops", "org.opencontainers.image.title": "API"}),
    (("labels.maintainer=me",), lambda p: p.labels, {"maintainer": "me"}),
    (("labels.maintainer=",), lambda p: p.labels, {"maintainer": ""}),
    (("build_args.X=1=2",), lambda p: p.build_args, {"X": "1=2"}),
    (("target=runtime",), lambda p: p.target, "runtime"),
    (("target=",), lambda p: p.target, None),
    (("no_cache=true",), lambda p: p.no_cache, True),
    (("no_cache=YES",), lambda p: p.no_cache, True),
    (("no_cache=1", "no_cache=0"), lambda p: p.no_cache, False),
    (("no_cache=no",), lambda p: p.no_cache, False),
    (("pull=newer",), lambda p: p.pull, "newer"),
    (("isolation=oci",), lambda p: p.isolation, "oci"),
    (("platform=linux/amd64,linux/amd64",), lambda p: p.platform, ("linux/amd64",)),
    (("platform+=linux/ppc64le",), lambda p: p.platform, ("linux/ppc64le",)),
    (("image=quay.io/x/y",), lambda p: p.image, "quay.io/x/y"),
    (("version=2.0", "tags={version}"), lambda p: (p.version, p.tags), ("2.0", ("2.0",))),
    (("description=hello",), lambda p: p.description, "hello"),
    (("tags={profile}-{date}",), lambda p: p.tags, ("api-20240305",)),
    ((" tags = spaced",), lambda p: p.tags, ("spaced",)),
]


@pytest.mark.parametrize(("overrides", "get", "expected"), OVERRIDES)
def test_overrides(project: Project, overrides: tuple[str, ...], get: Callable[[Profile], Any], expected: Any) -> None:
    project.write(
        "api",
        """
        image = "api"
        tags = ["base"]
        platform = "linux/ppc64le"
        labels = { maintainer = "ops" }
        """,
    )
    assert get(project.load("api", *overrides)) == expected


def test_tags_append_to_the_default(project: Project) -> None:
    project.write("api", 'image = "api"')
    assert project.load("api", "tags+=v1").tags == ("latest", "v1")


def test_overrides_land_in_raw(project: Project) -> None:
    project.write("api", 'image = "api"\nlabels = { a = "1" }')
    profile = project.load("api", "labels.b={date}", "no_cache=yes")
    assert profile.raw == {"image": "api", "labels": {"a": "1", "b": "{date}"}, "no_cache": True}
    assert profile.labels == {"a": "1", "b": "20240305"}


# (override, key, message fragment, hint fragment): file and line are always None.
OVERRIDE_ERRORS = [
    ("no_cache", None, "--set expects KEY=VALUE, got 'no_cache'", "--set KEY+=VALUE (append to a list)"),
    ("=x", None, "--set expects KEY=VALUE, got '=x'", "--set TABLE.NAME=VALUE"),
    ("no_cach=true", "no_cach", "unknown key 'no_cach' (did you mean 'no_cache'?) (from --set no_cach=true)",
     "profile keys are: "),
    ("extends=base", "extends", "extends cannot be set with --set (from --set extends=base)", "edit extends"),
    ("tags.x=1", "tags", "tags is not a table (from --set tags.x=1)", "use --set tags=VALUE"),
    ("labels=x", "labels", "labels is a table (from --set labels=x)", "--set labels.NAME=VALUE"),
    ("labels.a+=x", "labels", "+= only appends to lists", "use --set labels.a=VALUE"),
    ("target+=x", "target", "+= appends to a list, but target is a string (from --set target+=x)",
     "use --set target=VALUE"),
    ("no_cache=maybe", "no_cache", "expected true or false (or 1/0, yes/no), got 'maybe' (from --set "
     "no_cache=maybe)", "no_cache = true"),
    ("pull=alwys", "pull", "got 'alwys' (did you mean 'always'?)", 'pull = "always"'),
    ("platform=amd64", "platform[0]", "expected OS/ARCH", None),
    ("labels.=x", 'labels.""', "'' is not a valid name here", None),
    ("secrets.a,b=x", 'secrets."a,b"', "is not a valid name here", None),
    # Found after merging, still blamed on the --set item:
    ("tags+=feature/x", "tags[1]", "tag 'feature/x' is not a valid tag: only letters, digits, '_', '.', '-', at "
     "most 128 characters, not starting with '.' or '-' (from --set tags+=feature/x)", "the part after ':'"),
    ("image=Team/api", "image", "must be lowercase", None),
    ("tags=", "tags", "tags is empty: at least one tag is needed (from --set tags=)", None),
    ("containerfile=missing", "containerfile", "does not exist (from --set containerfile=missing)",
     "relative to the project root"),
    ("labels.v={version}", "labels.v", "{version}: no version is set (from --set labels.v={version})",
     "--set version=1.2.3"),
    ("secrets.npmrc=nope", "secrets.npmrc", "does not exist (from --set secrets.npmrc=nope)", None),
]


@pytest.mark.parametrize(("item", "key", "message", "hint"), OVERRIDE_ERRORS)
def test_override_errors(project: Project, item: str, key: str | None, message: str, hint: str | None) -> None:
    project.write("base", 'image = "api"')
    project.write("api", 'extends = "base"\ntags = ["ok"]\n')
    error = project.error("api", item)
    assert_error(error, file=None, line=None, key=key, message=message, hint=hint or "")


def test_an_override_fixes_a_broken_value(project: Project) -> None:
    project.write("api", 'image = "api"\ntags = ["{git_sha}"]\n')
    assert project.load("api", "tags=fixed").tags == ("fixed",)


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


# --- summaries ------------------------------------------------------------------------------------------


def test_summarize_survives_broken_profiles(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write("base", 'image = "team/api"\ndescription = "base"\ntags = ["{git_short_sha}", "latest"]\n')
    project.write("child", 'extends = "base"\ntarget = "dev"\n')
    project.write("broken", 'image = "api"\ntgas = []\n')
    project.write("noimage", 'tags = ["x"]\n')
    project.write("badimage", 'image = "x:1"\n')
    project.write("badtemplate", 'image = "api"\nlabels = { a = "{gti_sha}" }\n')
    project.write("badtag", 'image = "api"\ntags = [\n"a/b"]\n')
    project.write("toml", "image = \n")
    project.write("orphan", 'extends = "gone"\n')
    (project.root / "Containerfile").unlink()  # summaries never look at paths
    monkeypatch.setenv("PATH", "/nonexistent")  # ... nor run git
    result = {entry.name: entry for entry in summarize(project.profiles)}
    assert list(result) == sorted(result)
    assert result["base"] == ProfileSummary(
        name="base", file=(project.profiles / "base.toml").resolve(), image="localhost/team/api",
        description="base", target=None, tags=("{git_short_sha}", "latest"), extends=(),
    )
    assert result["child"] == ProfileSummary(
        name="child", file=(project.profiles / "child.toml").resolve(), image="localhost/team/api",
        description="base", target="dev", tags=("{git_short_sha}", "latest"), extends=("base",),
    )
    problems = {name: entry for name, entry in result.items() if isinstance(entry, ProfileProblem)}
    assert sorted(problems) == ["badimage", "badtag", "badtemplate", "broken", "orphan", "toml"]
    assert (problems["broken"].error.key, problems["broken"].error.line) == ("tgas", 2)
    assert (problems["badimage"].error.key, problems["badimage"].error.line) == ("image", 1)
    assert result["noimage"] == ProfileSummary(  # a base meant to be extended: not a problem for list
        name="noimage", file=(project.profiles / "noimage.toml").resolve(), image=None,
        description="", target=None, tags=("x",), extends=(),
    )
    assert (problems["badtemplate"].error.key, problems["badtemplate"].error.line) == ("labels.a", 2)
    assert "did you mean '{git_sha}'" in problems["badtemplate"].error.message
    assert (problems["badtag"].error.key, problems["badtag"].error.line) == ("tags[0]", 3)
    assert problems["toml"].error.message.startswith("invalid TOML")
    assert problems["orphan"].error.key == "extends"
    assert problems["orphan"].file == (project.profiles / "orphan.toml").resolve()
    documents = [entry.to_dict() for entry in result.values()]
    assert json.loads(json.dumps(documents)) == documents
    assert {frozenset(document) for document in documents} == {frozenset(documents[0])}  # one shape for all
    broken = problems["broken"].to_dict()["error"]
    assert broken["key"] == "tgas" and broken["line"] == 2 and broken["hint"].startswith("profile keys are")
    assert broken["text"] == f"{problems['broken'].file}:2: tgas: unknown key 'tgas' (did you mean 'tags'?)"
    assert result["child"].to_dict()["error"] is None


def test_load_summary_raises(project: Project) -> None:
    project.write("api", 'image = "API"\n')
    with pytest.raises(ConfigError, match="must be lowercase"):
        load_summary(project.profiles, "api")


# --- schema and line finding ----------------------------------------------------------------------------


@pytest.mark.parametrize("setting", SCHEMA, ids=lambda s: s.name)
def test_schema_examples_are_valid(setting: Setting) -> None:
    data = tomllib.loads(setting.example)
    assert list(data) == [setting.name]
    setting.kind.check(data[setting.name])
    if setting.default is not None:
        setting.kind.check(fresh(setting.default))


LOCATE_TEXT = '''\
image = "api"  # 1
description = """
tags = ["in a string"]
"""
tags = [  # 5
  "a",
  # "commented",
  'b', "c,d",
  """multi
line""", "e",
]
labels.dotted = "x"  # 12
labels = { inline = "y" }

[build_args]  # 15
  "quoted.key" = "1"
plain = "2"

[secrets]
x = "y"  # 20
'''


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("image",), 1),
        (("description",), 2),
        (("tags",), 5),
        (("tags", 0), 6),
        (("tags", 1), 8),
        (("tags", 2), 8),
        (("tags", 3), 9),
        (("tags", 4), 10),
        (("tags", 5), None),
        (("labels", "dotted"), 12),
        (("labels", "inline"), 13),
        (("build_args",), 15),
        (("build_args", "quoted.key"), 16),
        (("build_args", "plain"), 17),
        (("build_args", "missing"), 15),
        (("secrets", "x"), 20),
        (("nothing",), None),
    ],
)
def test_locate(path: tuple[str | int, ...], line: int | None) -> None:
    assert locate(LOCATE_TEXT, path) == line


@given(
    st.lists(st.from_regex(r"[a-z0-9.{}_-]{1,12}", fullmatch=True), min_size=1, max_size=6),
    st.lists(st.sampled_from(["", "  # note", "\n  # a comment line"]), min_size=6, max_size=6),
    st.data(),
)
def test_locate_finds_every_item_of_a_multiline_array(items: list[str], comments: list[str], data: Any) -> None:
    header = 'image = "api"\n[labels]\nx = "tags = [ignored]"\n'
    lines = ["tags = ["]
    expected = []
    for item, comment in zip(items, comments):
        lines.extend(comment.split("\n")[1:] if comment.startswith("\n") else [])
        expected.append(len(lines) + 1)
        lines.append(f'  "{item}",' + (comment if not comment.startswith("\n") else ""))
    lines.append("]")
    text = "\n".join(lines) + "\n" + header  # tags first: the header after it opens [labels]
    index = data.draw(st.integers(min_value=0, max_value=len(items) - 1))
    assert tomllib.loads(text)["tags"] == items
    assert locate(text, ("tags", index)) == expected[index]
    assert locate(text, ("labels", "x")) == len(lines) + 3


def test_imports_stay_light() -> None:
    # subprocess and difflib are only needed for git placeholders and error messages.
    code = (
        "import sys; before = set(sys.modules); "
        "import builder.config.profile, builder.config.summary, builder.refs, builder.vcs; "
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
