"""builder.s2i.prepare: the builder inspected, the previous image found, the Containerfile generated; and the
build's preparation (builder.build.prepare) taking it through the same plan and input digest as any other."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.build.prepare import base_images_of, plan
from builder.config.profile import Profile
from builder.config.project import Project
from builder.engine.protocol import ImageRecord
from builder.errors import BuildError, ConfigError
from builder.inputs.digest import compute
from builder.inputs.hashcache import HashCache
from builder.s2i.prepare import Pulling, generated_containerfile
from tests.fakes import FakeEngine

BUILDER = "localhost/s2i/builder:1"
SCRIPTS = {"io.openshift.s2i.scripts-url": "image:///usr/libexec/s2i"}


def _project(root: Path, profile: str = "") -> Project:
    (root / "profiles").mkdir(parents=True)
    (root / "app" / ".s2i").mkdir(parents=True)
    (root / "app" / "main.py").write_text("print(1)\n")
    (root / "app" / ".s2i" / "environment").write_text("A=1\n")
    (root / "profiles" / "app.toml").write_text(
        f'image = "team/app"\nstrategy = "s2i"\nbuilder = "{BUILDER}"\ncontext = "app"\n{profile}')
    return Project.locate(None, cwd=root, env={})


def _engine(labels: dict[str, str] | None = None, previous: bool = False) -> FakeEngine:
    engine = FakeEngine()
    engine.add(ImageRecord(id="b" * 64, repo_tags=(BUILDER,), labels=SCRIPTS if labels is None else labels,
                           digest="sha256:" + "b" * 64, env=("PATH=/bin",)))
    if previous:
        engine.add(ImageRecord(id="p" * 64, repo_tags=("localhost/team/app:latest",), digest="sha256:" + "c" * 64))
    return engine


def _profile(tmp_path: Path, text: str = "") -> Profile:
    return _project(tmp_path, text).profile("app")


def test_the_containerfile_is_generated_from_the_builders_labels(tmp_path: Path) -> None:
    generated = generated_containerfile(_profile(tmp_path), _engine())
    text = generated.document.text
    assert f"FROM {BUILDER}\n" in text and 'ENV A="1"\n' in text and "RUN /usr/libexec/s2i/assemble\n" in text
    assert generated.inputs == generated.document.data
    assert generated.restored_from is None


def test_a_builder_that_is_not_here_is_a_build_error_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(BuildError) as caught:
        generated_containerfile(_profile(tmp_path), FakeEngine())
    assert caught.value.message == f"the S2I builder image {BUILDER} is not present locally"
    assert caught.value.hint is not None and f"podman pull {BUILDER}" in caught.value.hint


def test_a_builder_without_scripts_is_a_config_error_on_the_builder_key(tmp_path: Path) -> None:
    profile = _profile(tmp_path)
    with pytest.raises(ConfigError) as caught:
        generated_containerfile(profile, _engine(labels={}))
    assert (caught.value.file, caught.value.key) == (profile.file, "builder")
    assert "no assemble script" in caught.value.message


def test_without_an_engine_there_is_no_containerfile(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs the engine"):
        generated_containerfile(_profile(tmp_path), None)


def test_incremental_restores_from_the_image_the_first_tag_names(tmp_path: Path) -> None:
    generated = generated_containerfile(_profile(tmp_path, "incremental = true\n"), _engine(previous=True))
    assert generated.restored_from == "p" * 64
    assert generated.document.text.count("FROM ") == 2
    assert f"FROM {'p' * 64} AS cached\n" in generated.document.text
    assert b" AS cached" not in generated.inputs  # what the digest counts: the build without the restore stage
    assert generated.notes == (f"incremental: restoring the artifacts of localhost/team/app:latest ({'p' * 12})",)


def test_incremental_without_a_previous_image_builds_without(tmp_path: Path) -> None:
    generated = generated_containerfile(_profile(tmp_path, "incremental = true\n"), _engine())
    assert " AS cached" not in generated.document.text
    assert generated.notes == ("incremental: no previous image localhost/team/app:latest: building without "
                               "restoring artifacts",)


def test_incremental_without_save_artifacts_anywhere_builds_without(tmp_path: Path) -> None:
    profile = _profile(tmp_path, "incremental = true\n")
    for name in ("assemble", "run"):
        script = tmp_path / "app" / ".s2i" / "bin" / name
        script.parent.mkdir(exist_ok=True)
        script.write_text("#!/bin/sh\n")
        script.chmod(0o755)
    generated = generated_containerfile(profile, _engine(labels={}, previous=True))
    assert " AS cached" not in generated.document.text
    assert generated.notes == (f"incremental: no save-artifacts script (source or {BUILDER}): building without",)


def test_not_incremental_never_looks_for_a_previous_image(tmp_path: Path) -> None:
    engine = _engine(previous=True)
    generated = generated_containerfile(_profile(tmp_path), engine)
    assert generated.restored_from is None
    assert engine.called("inspect_image") == [(BUILDER,)]


def test_the_plan_sends_the_generated_containerfile_and_the_builder_is_an_input(tmp_path: Path) -> None:
    project = _project(tmp_path)
    profile = project.profile("app")
    bases = base_images_of(profile, _engine())
    built = plan(profile, project, bases)
    assert built.dockerfile.startswith(".imgctl-") and built.dockerfile.endswith(".Containerfile")
    assert built.extra[built.dockerfile] == bases.document.data
    assert built.dockerfile in built.params["excludes"]  # type: ignore[operator]
    assert {entry.path for entry in built.snapshot.entries} >= {"main.py", ".s2i/environment"}
    assert bases.digests == {BUILDER: "sha256:" + "b" * 64}
    inputs = compute(built, bases.digests, HashCache(None))
    assert inputs.named["base:" + BUILDER] == "sha256:" + "b" * 64
    # A changed .s2i/environment changes the generated Containerfile, and so the digest.
    (tmp_path / "app" / ".s2i" / "environment").write_text("A=2\n")
    changed_bases = base_images_of(profile, _engine())
    changed = compute(plan(profile, project, changed_bases), changed_bases.digests, HashCache(None))
    assert changed.digest != inputs.digest
    assert changed.named["containerfile"] != inputs.named["containerfile"]


def test_the_restored_image_is_no_input_of_an_incremental_build(tmp_path: Path) -> None:
    project = _project(tmp_path, "incremental = true\n")
    profile = project.profile("app")
    first_bases = base_images_of(profile, _engine())
    later_bases = base_images_of(profile, _engine(previous=True))
    assert " AS cached" in later_bases.document.text
    assert later_bases.digests == first_bases.digests == {BUILDER: "sha256:" + "b" * 64}
    first = compute(plan(profile, project, first_bases), first_bases.digests, HashCache(None))
    later_plan = plan(profile, project, later_bases)
    later = compute(later_plan, later_bases.digests, HashCache(None))
    assert later.digest == first.digest
    # What was really sent settles nothing about the Containerfile: it was counted without its restore stage.
    assert later.settled({later_plan.dockerfile: "0" * 64}).digest == first.digest
    assert any("restoring the artifacts" in note for note in later_plan.notes)


def _remote_builder() -> ImageRecord:
    return ImageRecord(id="r" * 64, repo_tags=(REMOTE,), labels=SCRIPTS, digest="sha256:" + "d" * 64)


REMOTE = "registry.example.com:5000/s2i/builder:1"


def _remote_profile(tmp_path: Path, text: str = "") -> Profile:
    profile = _profile(tmp_path, text + '[registries."registry.example.com:5000"]\ntls_verify = false\n')
    return Profile(**{**profile.__dict__, "builder": REMOTE})


def test_a_build_pulls_a_missing_builder_with_the_registrys_credentials(tmp_path: Path) -> None:
    import base64
    import json

    auth = tmp_path / "auth.json"
    secret = base64.b64encode(b"u:p").decode()
    auth.write_text(json.dumps({"auths": {"registry.example.com:5000": {"auth": secret}}}))
    engine = FakeEngine(remote={REMOTE: _remote_builder()})
    generated = generated_containerfile(_remote_profile(tmp_path), engine, Pulling(env={}, authfile=auth))
    assert f"FROM {REMOTE}\n" in generated.document.text
    [(ref, header, tls_verify, policy)] = engine.called("pull")
    assert (ref, tls_verify, policy) == (REMOTE, False, "missing")
    assert json.loads(base64.urlsafe_b64decode(str(header))) == {"username": "u", "password": "p"}


def test_a_builder_that_is_here_is_not_pulled_unless_the_policy_says_always(tmp_path: Path) -> None:
    engine = FakeEngine(remote={REMOTE: _remote_builder()})
    engine.add(_remote_builder())
    generated_containerfile(_remote_profile(tmp_path), engine, Pulling(env={}))
    assert engine.called("pull") == []
    generated_containerfile(_remote_profile(tmp_path / "always", 'pull = "always"\n'), engine, Pulling(env={}))
    assert [args[3] for args in engine.called("pull")] == ["always"]


def test_a_failed_pull_is_a_build_error_naming_the_builder(tmp_path: Path) -> None:
    with pytest.raises(BuildError) as caught:
        generated_containerfile(_remote_profile(tmp_path), FakeEngine(), Pulling(env={}))
    assert caught.value.message == (f"pulling the S2I builder image {REMOTE} failed: initializing source "
                                    f"docker://{REMOTE}: manifest unknown")
    assert caught.value.hint is not None and "imgctl auth check registry.example.com:5000/s2i/builder" in \
        caught.value.hint


def test_show_and_dry_runs_never_pull(tmp_path: Path) -> None:
    engine = FakeEngine(remote={REMOTE: _remote_builder()})
    with pytest.raises(BuildError, match="not present locally"):
        generated_containerfile(_remote_profile(tmp_path), engine)
    assert engine.called("pull") == []


def test_pull_never_refuses_a_missing_builder_without_asking(tmp_path: Path) -> None:
    engine = FakeEngine(remote={REMOTE: _remote_builder()})
    with pytest.raises(BuildError) as caught:
        generated_containerfile(_remote_profile(tmp_path, 'pull = "never"\n'), engine, Pulling(env={}))
    assert caught.value.hint is not None and 'pull = "never"' in caught.value.hint
    assert engine.called("pull") == []


def test_the_build_orchestration_builds_once_and_then_skips_an_incremental_profile(tmp_path: Path) -> None:
    """build_profiles, as `imgctl build` runs it: the second run has a previous image to restore from, and its
    inputs are those of the first, so it only tags."""
    from contextlib import contextmanager

    from builder.build.execute import BuildRun, build_profiles

    project = _project(tmp_path, "incremental = true\n")
    engine = _engine()
    engine.build_script = [[{"stream": "STEP 1/9: FROM x\n"}, {"stream": "e" * 64 + "\n"}]]
    engine.add(ImageRecord(id="e" * 64))
    run = BuildRun(project=project, cache=HashCache(None))
    sent: list[str] = []

    @contextmanager
    def display(profile: Profile):  # type: ignore[no-untyped-def]
        yield lambda event: None

    first = build_profiles(engine, [project.profile("app")], run, display,
                           on_plan=lambda p: sent.append(p.extra[p.dockerfile].decode()))  # type: ignore[union-attr]
    [(params, _), _label_step] = engine.called("build")
    assert str(params["dockerfile"]).startswith(".imgctl-") and " AS cached" not in sent[0]
    second = build_profiles(engine, [project.profile("app")], run, display,
                            on_plan=lambda p: sent.append(p.extra[p.dockerfile].decode()))  # type: ignore[union-attr]
    assert f"FROM {first[0].image_id} AS cached\n" in sent[1]  # it would restore from the first build...
    assert second[0].up_to_date and second[0].image_id == first[0].image_id  # ...but nothing changed
    assert len(engine.called("build")) == 2


def test_the_sources_s2iignore_keeps_files_out_of_what_is_sent(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (tmp_path / "app" / "debug.log").write_text("x")
    (tmp_path / "app" / ".s2iignore").write_text("*.log\n")
    profile = project.profile("app")
    built = plan(profile, project, base_images_of(profile, _engine()))
    assert "debug.log" not in {entry.path for entry in built.snapshot.entries}
    assert "*.log" in built.params["excludes"]  # type: ignore[operator]  # the service leaves it out too


def test_a_local_builder_is_never_pulled(tmp_path: Path) -> None:
    engine = FakeEngine(remote={BUILDER: _remote_builder()})
    with pytest.raises(BuildError, match="not present locally"):
        generated_containerfile(_profile(tmp_path), engine, Pulling(env={}))
    assert engine.called("pull") == []
