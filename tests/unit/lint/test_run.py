"""A lint run: both engines on each target, the profile's policy over both, a note said once, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.config.profile import Profile, load_profile
from builder.config.sections import LintSettings
from builder.containerfile.document import Document
from builder.errors import ConfigError, LintError
from builder.findings.model import HADOLINT, Finding
from builder.lint.hadolint import MISSING
from builder.lint.run import BuildLint, Linter, Session, lint
from builder.lint.subject import Subject
from builder.lint.targets import Target, file_target, profile_target

TEXT = "FROM debian\n# imgctl ignore=OS900\nUSER app\nUSER 1001\nCMD echo hi\n"


def own_rules(subject: Subject) -> list[Finding]:
    """Stands in for imgctl's rules (another module): one finding per USER line, and one about the file."""
    found = [Finding(code="OS900", level="warning", message="user", file=subject.file, line=instruction.line)
             for instruction in subject.document.instructions if instruction.keyword == "USER"]
    return [*found, Finding(code="OS901", level="info", message="whole file", file=subject.file)]


def target(tmp_path: Path, settings: LintSettings | None = None, text: str = TEXT) -> Target:
    path = tmp_path / "Containerfile"
    path.write_text(text)
    return file_target(path, settings)


def nowhere(tmp_path: Path) -> Linter:
    """hadolint is missing: an empty directory instead of the venv, and an empty PATH."""
    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    return Linter.find({"PATH": str(empty)}, beside=empty)


def test_one_report_holds_both_engines_findings(tmp_path: Path, hadolint_binary: Path) -> None:
    [report] = lint([target(tmp_path)], Linter(hadolint_binary, {"PATH": "/usr/bin"}), rules=own_rules)
    found = {(f.code, f.line, f.source) for f in report.findings}
    assert ("DL3006", 1, HADOLINT) in found and ("DL3025", 5, HADOLINT) in found
    # The imgctl pragma silences OS900 on line 3 only.
    assert ("OS900", 4, "imgctl") in found and ("OS900", 3, "imgctl") not in found
    assert report.notes == () and report.exit_code == 1
    assert report.subject == str(tmp_path / "Containerfile")


def test_the_policy_applies_to_both_engines(tmp_path: Path, hadolint_binary: Path) -> None:
    settings = LintSettings(ignore=("DL3006", "OS901"), override={"DL3025": "error", "OS900": "style"},
                            failure_threshold="error")
    [report] = lint([target(tmp_path, settings)], Linter(hadolint_binary, {}), rules=own_rules)
    levels = {f.code: f.level for f in report.findings}
    assert "DL3006" not in levels and "OS901" not in levels
    assert (levels["DL3025"], levels["OS900"]) == ("error", "style")
    assert [f.code for f in report.failing] == ["DL3025"]


def test_the_threshold_decides_the_exit_code(tmp_path: Path, hadolint_binary: Path) -> None:
    text = "FROM debian:12\nUSER 1001\n"  # hadolint: nothing; own rules: OS900 warning, OS901 info
    codes = {threshold: lint([target(tmp_path, LintSettings(failure_threshold=threshold), text)],
                             Linter(hadolint_binary, {}), rules=own_rules)[0].exit_code
             for threshold in ("error", "warning", "info", "none")}
    assert codes == {"error": 0, "warning": 1, "info": 1, "none": 0}


def test_missing_hadolint_is_said_once_and_imgctls_rules_still_run(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    reports = lint([target(first), target(second)], nowhere(tmp_path), rules=own_rules)
    assert [report.notes for report in reports] == [(MISSING,), ()]
    assert all({f.code for f in report.findings} == {"OS900", "OS901"} for report in reports)


def test_an_unparseable_containerfile_stops_the_run_before_anything_starts(tmp_path: Path) -> None:
    good = target(tmp_path)
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = target(bad_dir, text="FROM x\nCOPY one\n")
    with pytest.raises(ConfigError) as raised:
        Session([good, bad], nowhere(tmp_path))
    assert (raised.value.file, raised.value.line) == (bad_dir / "Containerfile", 2)


def test_more_targets_than_the_window_all_get_reports(tmp_path: Path, hadolint_binary: Path) -> None:
    targets = []
    for index in range(5):
        directory = tmp_path / str(index)
        directory.mkdir()
        targets.append(target(directory, text=f"FROM debian:{index + 10}\nCMD echo {index}\n"))
    with Session(targets, Linter(hadolint_binary, {}), window=2, rules=lambda subject: []) as session:
        reports = session.finish()
    assert [[f.code for f in r.findings] for r in reports] == [["DL3025"]] * 5
    assert [r.subject for r in reports] == [t.subject.file for t in targets]


def profile(tmp_path: Path, lint_table: str = "") -> Profile:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Containerfile").write_text("FROM debian\nCMD echo hi\n")
    (tmp_path / "profiles" / "app.toml").write_text(
        'image = "team/app"\ncontext = "app"\ntarget = "run"\nwritable_paths = ["/data"]\n'
        f'[build_args]\nV = "1"\n{lint_table}'
    )
    return load_profile(tmp_path / "profiles", "app", env={})


def test_a_profiles_subject_carries_its_facts_and_the_documents_bytes(tmp_path: Path) -> None:
    loaded = profile(tmp_path, '[lint]\npolicy = "certification"\ntrusted_registries = ["quay.io"]\n')
    document = Document.from_text("FROM other:1\n", tmp_path / "app" / "Containerfile")
    made = profile_target(loaded, document)
    subject = made.subject
    assert subject.document is document  # the build's Document, not a second read
    assert (subject.file, subject.context, subject.target) == ("app/Containerfile", tmp_path / "app", "run")
    assert (dict(subject.build_args), subject.writable_paths) == ({"V": "1"}, ("/data",))
    assert (subject.policy, subject.trusted_registries) == ("certification", ("quay.io",))
    assert made.name == "app/Containerfile (profile app)"


def test_build_lint_reads_each_containerfile_once_and_refuses_in_error_mode(tmp_path: Path,
                                                                           hadolint_binary: Path) -> None:
    loaded = profile(tmp_path, '[lint]\non_build = "error"\n')
    env = {"PATH": str(hadolint_binary.parent)}
    with BuildLint([loaded], None, env) as linting:
        (tmp_path / "app" / "Containerfile").write_text("FROM debian:12\n")  # the build keeps what was read
        assert linting.documents[0].data == b"FROM debian\nCMD echo hi\n"
        reports = linting.finish()
        with pytest.raises(LintError) as raised:
            linting.refuse(reports)
    assert raised.value.exit_code == 2 and "not started" in raised.value.message
    with BuildLint([loaded], "warn", env) as linting:
        linting.refuse(linting.finish())  # warn: findings, but no refusal
    with BuildLint([loaded], "off", env) as linting:
        assert linting.session is None and linting.finish() == []


def test_a_crashing_rule_is_a_note_in_a_tolerant_session_and_an_error_otherwise(tmp_path: Path) -> None:
    def broken(subject: Subject) -> list[Finding]:
        raise KeyError("oops")

    with Session([target(tmp_path)], nowhere(tmp_path), rules=broken, tolerant=True) as session:
        [report] = session.finish()
    assert report.notes[0] == MISSING and "imgctl's own rules failed (KeyError" in report.notes[1]
    with Session([target(tmp_path)], nowhere(tmp_path), rules=broken) as session, pytest.raises(KeyError):
        session.finish()


def test_build_lint_leaves_an_s2i_profile_to_the_build(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "s2i.toml").write_text(
        'image = "team/s2i"\nstrategy = "s2i"\nbuilder = "registry.example.com/ubi9/python-311"\n')
    s2i = load_profile(tmp_path / "profiles", "s2i", env={})
    with BuildLint([s2i], "error", {}) as linting:
        assert linting.documents == [None]  # generated by the build, with the engine
        assert linting.session is None and linting.finish() == []
        linting.refuse([])


ROOT_USER = "FROM registry.access.redhat.com/ubi9/ubi-minimal:9.4\nUSER root\nCMD [\"sleep\", \"1\"]\n"


def test_a_hadolint_rule_an_imgctl_rule_tightens_is_said_once(tmp_path: Path, hadolint_binary: Path) -> None:
    # OS103 (root in the final image) extends DL3002: on the same line only OS103 is reported.
    [report] = lint([target(tmp_path, text=ROOT_USER)], Linter(hadolint_binary, {}))
    codes = {(f.code, f.line) for f in report.findings}
    assert ("OS103", 2) in codes and ("DL3002", 2) not in codes


def test_ignoring_the_tighter_rule_brings_hadolints_back(tmp_path: Path, hadolint_binary: Path) -> None:
    [report] = lint([target(tmp_path, LintSettings(ignore=("OS103",)), text=ROOT_USER)], Linter(hadolint_binary, {}))
    codes = {(f.code, f.line) for f in report.findings}
    assert ("DL3002", 2) in codes and ("OS103", 2) not in codes
