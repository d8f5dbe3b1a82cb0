from __future__ import annotations

from pathlib import Path

from builder.project import Project, base_images_of, sent_snapshot, snapshot


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
