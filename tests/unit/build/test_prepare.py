from __future__ import annotations

from pathlib import Path

import pytest

from builder.build.prepare import base_images_of, sent_snapshot, snapshot
from builder.config.project import Project


def test_a_fallback_the_files_decide_is_the_reason_given(tmp_path: Path) -> None:
    # `COPY s/?` matches the file `s/*`, which buildah globs again: the whole context is sent, and the notes
    # must say so rather than list the patterns.
    (tmp_path / "profiles").mkdir()
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "*").write_text("star")
    (tmp_path / "s" / "abc").write_text("abc")
    (tmp_path / "Containerfile").write_text("FROM scratch\nCOPY s/? /d/\n")
    (tmp_path / "profiles" / "api.toml").write_text('image = "team/api"\n')
    profile = Project.locate(None, cwd=tmp_path, env={}).profile("api")
    full = snapshot(profile)
    sent, notes = sent_snapshot(profile, full, base_images_of(profile, None))
    assert sent is full
    assert notes[-1] == ("sending the whole context: line 2: COPY s/? matches s/*, which buildah globs again as a "
                         "pattern, so it may copy other files too")


def test_the_profiles_ignore_dialect_decides_what_the_context_keeps(tmp_path: Path) -> None:
    # buildah's rules compile `a+b` as a regexp (one or more a, then b); moby's read the `+` literally.
    (tmp_path / "profiles").mkdir()
    for name in ("aab", "a+b"):
        (tmp_path / name).write_text(name)
    (tmp_path / "Containerfile").write_text("FROM scratch\nCOPY . /\n")
    (tmp_path / ".containerignore").write_text("a+b\n")
    (tmp_path / "profiles" / "podman.toml").write_text('image = "team/api"\n')
    (tmp_path / "profiles" / "docker.toml").write_text('image = "team/api"\nignore_dialect = "moby"\n')
    project = Project.locate(None, cwd=tmp_path, env={})
    kept = {name: {e.path for e in snapshot(project.profile(name)).entries} for name in ("podman", "docker")}
    assert "aab" not in kept["podman"] and "a+b" in kept["podman"]
    assert "aab" in kept["docker"] and "a+b" not in kept["docker"]


def test_the_schema_offers_the_dialects_the_context_layer_knows() -> None:
    from builder.config.schema import IGNORE_DIALECTS
    from builder.context.dialects import DIALECTS

    assert tuple(IGNORE_DIALECTS) == tuple(DIALECTS)


def test_a_build_reads_its_containerfile_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Base images, pruning, the plan and the input digest all use the one Document the build read."""
    import builtins
    import pathlib

    from builder.build.prepare import plan
    from builder.inputs.digest import compute
    from builder.inputs.hashcache import HashCache

    (tmp_path / "profiles").mkdir()
    (tmp_path / "build").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print(1)\n")
    containerfile = tmp_path / "build" / "Containerfile"  # outside the context: sent as an extra member
    containerfile.write_text("FROM scratch\nARG DIR=src\nCOPY $DIR/ /app/\n")
    (tmp_path / "profiles" / "api.toml").write_text(
        'image = "team/api"\ncontext = "src"\ncontainerfile = "build/Containerfile"\n')
    project = Project.locate(None, cwd=tmp_path, env={})
    profile = project.profile("api")

    reads: list[str] = []
    real_open, real_path_open = builtins.open, pathlib.Path.open

    def counting_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(file) == str(containerfile):
            reads.append("open")
        return real_open(file, *args, **kwargs)

    def counting_path_open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(self) == str(containerfile):
            reads.append("Path.open")
        return real_path_open(self, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    monkeypatch.setattr(pathlib.Path, "open", counting_path_open)
    bases = base_images_of(profile, None)
    built = plan(profile, project, bases, walk_all=False)
    compute(built, bases.digests, HashCache(None))
    assert len(reads) == 1, reads
    assert built.extra[built.dockerfile] == containerfile.read_bytes()
