from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from builder.config.files import find_profiles_dir, list_profiles
from builder.config.profile import load_profile
from builder.config.project import Project as CommandProject
from builder.config.summary import load_summary
from builder.errors import ConfigError
from tests.unit.config.profile_fixtures import NOW, Project, assert_error

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover
    pass


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
        ("missing", {}, "--profiles-dir", "missing is not a directory"),
        (None, {"IMGCTL_PROFILES_DIR": "missing"}, "IMGCTL_PROFILES_DIR", "missing is not a directory"),
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
    assert caught.value.message == f"{tmp_path / 'missing'} is not a directory"


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
    ('image = "api"\n\n[build]\nx = 1\n', 3, "build", "unknown key 'build'", "build_args, builder, containerfile"),
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


def test_a_byte_order_mark_is_accepted(project: Project) -> None:
    # Editors on Windows write one; tomllib alone says "Invalid statement (column 1)".
    (project.profiles / "api.toml").write_bytes('\ufeffimage = "api"\ntags = ["x"]\n'.encode())
    assert project.load("api").tags == ("x",)
    assert load_summary(project.profiles, "api").image == "localhost/api"
    (project.profiles / "api.toml").write_bytes('\ufefftgas = ["x"]\n'.encode())
    assert_error(
        project.error("api"), file=(project.profiles / "api.toml").resolve(), line=1, key="tgas",
        message="unknown key 'tgas' (did you mean 'tags'?)", hint="profile keys are:",
    )
    (project.profiles / "api.toml").write_bytes('\ufeffimage = "api"\npull = "alway"\n'.encode())
    assert project.error("api").line == 2  # line numbers unchanged


def test_a_symlinked_profiles_dir_keeps_the_project_root_at_the_link(tmp_path: Path) -> None:
    shared = tmp_path / "shared" / "profiles"
    shared.mkdir(parents=True)
    (shared / "api.toml").write_text('image = "api"\n')
    root = tmp_path / "project"
    root.mkdir()
    (root / "Containerfile").write_text("FROM scratch\n")
    (root / "profiles").symlink_to(shared)
    for found in (
        find_profiles_dir(root, None, {}),
        find_profiles_dir(tmp_path, Path("project/profiles"), {}),
        find_profiles_dir(tmp_path, None, {"IMGCTL_PROFILES_DIR": "project/profiles"}),
    ):
        assert found == root / "profiles"
        profile = load_profile(found, "api", env={}, now=NOW)
        assert (profile.root, profile.context, profile.containerfile) == (root, root, root / "Containerfile")
        assert profile.file == root / "profiles" / "api.toml"
        assert CommandProject(found, env={}).root == root


def imgctl(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "builder", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **env}
    )


@pytest.mark.parametrize("command", [("list",), ("show", "api")])
def test_a_bad_profiles_dir_variable_is_named_as_such(tmp_path: Path, command: tuple[str, ...]) -> None:
    done = imgctl(*command, cwd=tmp_path, IMGCTL_PROFILES_DIR="missing")
    assert done.returncode == 2
    assert f"error: IMGCTL_PROFILES_DIR: {tmp_path / 'missing'} is not a directory" in done.stderr
    assert "--profiles-dir" not in done.stderr
    done = imgctl("--profiles-dir", "gone", *command, cwd=tmp_path, IMGCTL_PROFILES_DIR="missing")
    assert done.returncode == 2
    assert f"error: --profiles-dir: {tmp_path / 'gone'} is not a directory" in done.stderr
