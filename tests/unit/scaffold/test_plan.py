"""Planning and writing `imgctl init`'s files: all or none, --force, the ignore proposal, where the profile goes,
and that the profile it writes loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.config.profile import load_profile
from builder.errors import ConfigError
from builder.scaffold.detect import RUNTIMES
from builder.scaffold.plan import IGNORE_BASE, check_name, default_name, plan_init, write_plan
from tests.trees import write_tree


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


NODE = {"package.json": "{}", "index.js": "", "node_modules/left-pad/index.js": "x", ".env": "TOKEN=1"}


def test_writes_the_three_files_and_the_profile_loads(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "web", NODE)
    plan = plan_init(root)
    written = write_plan(plan)
    assert [f.path for f in written] == [root / "Containerfile", root / "profiles" / "web.toml",
                                         root / ".containerignore"]
    profile = load_profile(root / "profiles", "web", env={})
    assert profile.containerfile == root / "Containerfile" and profile.context == root
    assert profile.image == "localhost/web" and profile.target == "runtime"
    assert profile.tags == ("0.1.0", "latest")
    assert profile.writable_paths == ("/opt/app-root/src",)
    assert profile.lint.failure_threshold == "warning" and profile.verify.kind == "service"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_every_runtime_profile_loads(tmp_path: Path, runtime: str) -> None:
    write_plan(plan_init(tmp_path, runtime=runtime, name="svc"))
    profile = load_profile(tmp_path / "profiles", "svc", env={})
    assert profile.description.startswith("svc, a ")
    assert len(profile.writable_paths) == 1


def test_ignore_file_starts_from_git_and_profiles_and_adds_the_proposal(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "web", NODE)
    plan = plan_init(root)
    text = next(f.text for f in plan.files if f.kind == "ignore file")
    assert text.startswith(IGNORE_BASE + "profiles/\n")
    assert "**/node_modules\n" in text and "**/.env\n" in text
    assert [rule.pattern for rule in plan.ignore_rules] == ["**/node_modules", "**/.env"]
    # What the Containerfile copies by name is never excluded.
    assert "package.json" not in text


def test_refuses_without_force_and_writes_nothing_at_all(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "web", {**NODE, ".containerignore": "secrets/\n"})
    before = snapshot(root)
    plan = plan_init(root)
    assert [f.kind for f in plan.conflicts] == ["ignore file"]
    with pytest.raises(ConfigError) as raised:
        write_plan(plan)
    assert "refusing to overwrite" in str(raised.value) and str(root / ".containerignore") in str(raised.value)
    assert raised.value.hint is not None and "--force" in raised.value.hint
    assert snapshot(root) == before and not (root / "profiles").exists()


def test_force_replaces_and_keeps_the_users_ignore_lines(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "web", {**NODE, ".containerignore": "secrets/\n", "Containerfile": "FROM scratch\n"})
    written = write_plan(plan_init(root), force=True)
    assert len(written) == 3
    assert (root / "Containerfile").read_text().startswith("# web: a Node.js 20 application")
    ignore = (root / ".containerignore").read_text()
    assert ignore.startswith("secrets/\n") and "**/node_modules" in ignore


def test_running_again_changes_nothing_and_is_no_conflict(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "web", NODE)
    write_plan(plan_init(root))
    before = snapshot(root)
    again = plan_init(root)
    assert again.conflicts == ()
    assert write_plan(again) == ()
    assert snapshot(root) == before


def test_a_failed_write_undoes_the_ones_before_it(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "web", {**NODE, "Containerfile": "FROM scratch\n"})
    # The ignore file is a link into a directory that does not exist: the last write fails.
    (root / ".containerignore").symlink_to(root / "gone" / "ignore")
    before = snapshot(root)
    with pytest.raises(ConfigError):
        write_plan(plan_init(root), force=True)
    assert snapshot(root) == before
    assert not (root / "profiles").exists()  # made by this run, so removed with it


def test_links_out_of_the_project_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("precious\n")
    root = write_tree(tmp_path / "web", NODE)
    (root / "Containerfile").symlink_to(elsewhere)
    with pytest.raises(ConfigError) as raised:
        plan_init(root)
    assert "outside the project" in str(raised.value)
    assert elsewhere.read_text() == "precious\n"
    # Inside the project a link is written through.
    (root / "Containerfile").unlink()
    (root / "docker").mkdir()
    (root / "docker" / "Containerfile").write_text("FROM scratch\n")
    (root / "Containerfile").symlink_to("docker/Containerfile")
    write_plan(plan_init(root), force=True)
    assert (root / "Containerfile").is_symlink()
    assert (root / "docker" / "Containerfile").read_text().startswith("# web: a Node.js 20 application")


def test_profile_goes_to_the_profiles_dir_found_above_with_paths_from_the_root(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    root = write_tree(tmp_path / "services" / "api", {"go.mod": "module api\n"})
    plan = plan_init(root)
    assert plan.profiles_dir == tmp_path / "profiles"
    write_plan(plan)
    profile = load_profile(tmp_path / "profiles", "api", env={})
    assert profile.context == root and profile.containerfile == root / "Containerfile"
    assert "profiles/" not in (root / ".containerignore").read_text()  # not in this context


def test_explicit_profiles_dir_wins(tmp_path: Path) -> None:
    elsewhere = tmp_path / "ops" / "profiles"
    elsewhere.mkdir(parents=True)
    root = write_tree(tmp_path / "api", {"go.mod": ""})
    assert plan_init(root, profiles_dir=elsewhere).profiles_dir == elsewhere
    assert plan_init(root, env={"IMGCTL_PROFILES_DIR": str(elsewhere)}).profiles_dir == elsewhere
    with pytest.raises(ConfigError):
        plan_init(root, profiles_dir=tmp_path / "missing")


def test_a_directory_where_a_file_goes_is_an_error_before_anything_is_written(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "api", {"go.mod": ""})
    (root / "Containerfile").mkdir()
    with pytest.raises(ConfigError):
        plan_init(root)


def test_names() -> None:
    assert default_name(Path("/src/My Cool_App")) == "my-cool_app"
    assert default_name(Path("/src/..."))  == "app"
    assert check_name("api-v2.1") == "api-v2.1"
    for bad in ("", "-x", "a/b", ".hidden", "a b"):
        with pytest.raises(ConfigError):
            check_name(bad)
