from __future__ import annotations

from pathlib import Path

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
