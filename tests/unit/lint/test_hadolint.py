"""hadolint run for real on small Containerfiles, and its JSON translated into findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builder.findings.model import HADOLINT
from builder.lint.hadolint import MISSING, Settings, locate, run, translate

# DL3006 (untagged FROM, warning) on line 1; DL3003 (cd, warning) and SC2164 on line 2; DL3025 (shell-form CMD).
TEXT = b"FROM debian\nRUN cd /tmp && echo hi\nCMD echo hi\n"
ENV = {"PATH": "/usr/bin:/bin"}


def codes(outcome_findings: object) -> set[str]:
    return {finding.code for finding in outcome_findings}  # type: ignore[attr-defined]


def test_findings_carry_the_file_name_and_hadolint_as_source(hadolint_binary: Path) -> None:
    outcome = run(hadolint_binary, TEXT, Settings(), "app/Containerfile", ENV)
    assert outcome.note is None
    assert {"DL3006", "DL3003", "DL3025"} <= codes(outcome.findings)
    first = next(f for f in outcome.findings if f.code == "DL3006")
    assert (first.file, first.line, first.level, first.source) == ("app/Containerfile", 1, "warning", HADOLINT)
    assert first.hint.endswith("/wiki/DL3006")


def test_an_ignored_rule_disappears(hadolint_binary: Path) -> None:
    outcome = run(hadolint_binary, TEXT, Settings(ignore=("DL3006", "DL3025")), "f", ENV)
    assert "DL3006" not in codes(outcome.findings)
    assert "DL3025" not in codes(outcome.findings)
    assert "DL3003" in codes(outcome.findings)


def test_an_override_changes_the_level_and_turns_on_a_rule_hadolint_keeps_off(hadolint_binary: Path) -> None:
    outcome = run(hadolint_binary, TEXT, Settings(override={"DL3006": "error", "DL3057": "info"}), "f", ENV)
    levels = {finding.code: finding.level for finding in outcome.findings}
    assert levels["DL3006"] == "error"
    assert levels["DL3057"] == "info"  # HEALTHCHECK missing: off unless a level is given


def test_trusted_registries_feed_dl3026(hadolint_binary: Path) -> None:
    text = b"FROM docker.io/library/debian:12\nFROM quay.io/team/base:1\n"
    outcome = run(hadolint_binary, text, Settings(trusted_registries=("quay.io",)), "f", ENV)
    assert [(f.code, f.line) for f in outcome.findings if f.code == "DL3026"] == [("DL3026", 1)]
    assert "DL3026" not in codes(run(hadolint_binary, text, Settings(), "f", ENV).findings)


def test_hadolint_pragmas_keep_working(hadolint_binary: Path) -> None:
    text = b"# hadolint global ignore=DL3025\nFROM debian\n# hadolint ignore=DL3003,SC2164\nRUN cd /tmp\nCMD x\n"
    found = codes(run(hadolint_binary, text, Settings(), "f", ENV).findings)
    assert "DL3006" in found
    assert not found & {"DL3003", "SC2164", "DL3025"}


def test_the_bytes_given_are_linted_not_the_file(hadolint_binary: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Containerfile").write_text("FROM debian\n")  # would give DL3006
    monkeypatch.chdir(tmp_path)
    outcome = run(hadolint_binary, b"FROM debian:12\n", Settings(), "Containerfile", ENV)
    assert outcome.findings == ()


def test_a_developers_hadolint_configuration_changes_nothing(hadolint_binary: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".hadolint.yaml").write_text("ignored: [DL3006]\n")
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / "hadolint.yaml").write_text("ignored: [DL3003]\n")
    monkeypatch.chdir(tmp_path)
    env = {**ENV, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / ".config"),
           "HADOLINT_IGNORE": "DL3025", "HADOLINT_FAILURE_THRESHOLD": "error"}
    assert {"DL3006", "DL3003", "DL3025"} <= codes(run(hadolint_binary, TEXT, Settings(), "f", env).findings)


def test_hadolints_parse_error_is_a_finding(hadolint_binary: Path) -> None:
    outcome = run(hadolint_binary, b"FROM debian:12\nFROOM x\n", Settings(), "f", ENV)
    assert [(f.code, f.level, f.line) for f in outcome.findings] == [("DL1000", "error", 2)]
    assert "\n" not in outcome.findings[0].message


def test_missing_hadolint_is_a_note(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert locate(str(empty), beside=empty) is None
    outcome = run(locate(str(empty), beside=empty), TEXT, Settings(), "f", ENV)
    assert (outcome.findings, outcome.note) == ((), MISSING)


def test_locate_prefers_the_binary_beside_python(tmp_path: Path) -> None:
    beside, on_path = tmp_path / "venv", tmp_path / "path"
    for directory in (beside, on_path):
        directory.mkdir()
        (directory / "hadolint").write_text("#!/bin/sh\n")
        (directory / "hadolint").chmod(0o755)
    assert locate(str(on_path), beside=beside) == beside / "hadolint"
    assert locate(str(on_path), beside=tmp_path) == on_path / "hadolint"
    assert locate(None, beside=tmp_path) is None


def test_a_hadolint_that_fails_is_a_note_not_a_crash(tmp_path: Path) -> None:
    broken = tmp_path / "hadolint"
    broken.write_text("#!/bin/sh\necho 'segmentation fault' >&2\nexit 3\n")
    broken.chmod(0o755)
    outcome = run(broken, TEXT, Settings(), "f", ENV)
    assert outcome.findings == ()
    assert outcome.note is not None and "exit status 3" in outcome.note and "segmentation fault" in outcome.note


def test_translate_maps_stdin_names_and_unknown_levels() -> None:
    out = json.dumps([{"code": "DL3000", "column": 2, "file": "-", "level": "weird", "line": 4, "message": "m"}])
    [finding] = translate(out.encode(), b"", 0, "Containerfile").findings
    assert (finding.file, finding.level, finding.column) == ("Containerfile", "error", 2)
    assert translate(b"not json", b"", 0, "f").note is not None


def test_config_is_hadolints_yaml() -> None:
    config = json.loads(Settings(ignore=("DL3008",), override={"DL3006": "error", "SC2086": "style"},
                                 trusted_registries=("quay.io",)).config())
    assert config == {"ignored": ["DL3008"], "override": {"error": ["DL3006"], "style": ["SC2086"]},
                      "failure-threshold": "none", "trustedRegistries": ["quay.io"]}


def test_stop_kills_and_reaps_a_process_whose_outcome_was_never_read(hadolint_binary: Path) -> None:
    from builder.lint.hadolint import start

    running = start(hadolint_binary, TEXT, Settings(), "f", ENV)
    running.stop()
    assert running.process.returncode is not None
    assert running.process.stdout is not None and running.process.stdout.closed
