"""The build's lint answers an unchanged Containerfile from the cache; any change of bytes, settings or
binary misses."""

from __future__ import annotations

import json
import os
from pathlib import Path

from builder.findings.model import HADOLINT
from builder.lint.cache import LintCache
from builder.lint.run import BuildLint, Linter, Session
from builder.lint.targets import file_target


def test_the_key_covers_bytes_configuration_and_binary(tmp_path: Path) -> None:
    binary = tmp_path / "hadolint"
    binary.write_text("#!/bin/sh\n")
    key = LintCache.key(binary, "{}", b"FROM x\n")
    assert key == LintCache.key(binary, "{}", b"FROM x\n")
    assert key != LintCache.key(binary, "{}", b"FROM y\n")
    assert key != LintCache.key(binary, '{"ignored": ["DL3006"]}', b"FROM x\n")
    os.utime(binary, ns=(1, 1))  # another hadolint (an upgrade in place)
    assert key != LintCache.key(binary, "{}", b"FROM x\n")
    assert LintCache.key(tmp_path / "gone", "{}", b"FROM x\n") is None


def test_a_stored_answer_comes_back_for_the_file_asked_about(tmp_path: Path, hadolint_binary: Path) -> None:
    cache = LintCache(tmp_path / "lint")
    path = tmp_path / "Containerfile"
    path.write_text("FROM debian\n")
    target = file_target(path)
    linter = Linter(hadolint_binary, {}, cache)
    with Session([target], linter, rules=lambda subject: []) as session:
        [first] = session.finish()
    assert [f.code for f in first.findings] == ["DL3006"]
    [entry] = list((tmp_path / "lint").iterdir())
    assert oct(entry.stat().st_mode & 0o777) == "0o600"
    # The next lint reads the entry, not hadolint: an entry rewritten by hand shows it.
    entry.write_text(json.dumps([{"code": "DL3007", "level": "info", "message": "m", "line": 1, "column": 1,
                                  "hint": ""}]))
    with Session([target], linter, rules=lambda subject: []) as session:
        [second] = session.finish()
    assert [(f.code, f.level, f.file, f.source) for f in second.findings] == [("DL3007", "info", str(path), HADOLINT)]
    entry.write_text("not json")  # unusable: hadolint runs again and the entry is rewritten
    with Session([target], linter, rules=lambda subject: []) as session:
        [third] = session.finish()
    assert [f.code for f in third.findings] == ["DL3006"] and json.loads(entry.read_text())[0]["code"] == "DL3006"


def test_no_cache_directory_means_no_cache(tmp_path: Path) -> None:
    cache = LintCache(None)
    cache.put("k", ())
    assert cache.get("k", "f") is None
    assert LintCache.open({"XDG_CACHE_HOME": str(tmp_path)}).directory == tmp_path / "imgctl" / "lint"


def test_the_builds_lint_uses_the_cache_and_imgctl_lint_does_not(tmp_path: Path, hadolint_binary: Path) -> None:
    from builder.config.profile import load_profile

    (tmp_path / "profiles").mkdir()
    (tmp_path / "Containerfile").write_text("FROM debian\n")
    (tmp_path / "profiles" / "app.toml").write_text('image = "team/app"\n')
    profile = load_profile(tmp_path / "profiles", "app", env={})
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": str(hadolint_binary.parent)}
    with BuildLint([profile], "warn", env) as linting:
        linting.finish()
    assert len(list((tmp_path / "cache" / "imgctl" / "lint").iterdir())) == 1
    assert Linter.find(env).cache is None
