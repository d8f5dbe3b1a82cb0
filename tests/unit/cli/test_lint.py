"""`imgctl lint` as a user runs it: a real subprocess, real files, the real hadolint; every format parsed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

# OASIS's SARIF 2.1.0 schema (errata 01), as published in oasis-tcs/sarif-spec:
# sarif-2.1/schema/sarif-schema-2.1.0.json at e0583813 (2026-03-01); validated with jsonschema (a test extra).
SCHEMA = Path(__file__).resolve().parents[2] / "data" / "sarif-schema-2.1.0.json"
# hadolint: DL3006 (untagged FROM) line 1, DL3003 (cd) line 2, DL3025 (shell-form CMD) line 3; all warnings.
WARNED = "FROM debian\nRUN cd /tmp && echo hi\nCMD echo hi\n"


def imgctl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "builder", *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture
def project(tmp_path: Path, hadolint_binary: Path) -> Path:
    (tmp_path / "profiles").mkdir()
    for name in ("api", "web"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Containerfile").write_text(WARNED)
        (tmp_path / "profiles" / f"{name}.toml").write_text(f'image = "team/{name}"\ncontext = "{name}"\n')
    return tmp_path


def findings(done: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    document = json.loads(done.stdout)
    assert isinstance(document, list)
    return document


def test_findings_at_the_threshold_exit_1_with_hadolints_json_keys(project: Path) -> None:
    done = imgctl("lint", "api", "--format", "json", cwd=project)
    assert done.returncode == 1, done.stderr
    found = findings(done)
    assert {"DL3006", "DL3003", "DL3025"} <= {f["code"] for f in found}
    first = next(f for f in found if f["code"] == "DL3006")
    assert first == {"file": "api/Containerfile", "line": 1, "column": 1, "level": "warning", "code": "DL3006",
                     "message": first["message"], "hint": first["hint"], "source": "hadolint"}


def test_threshold_none_exits_0_and_a_higher_threshold_too(project: Path) -> None:
    assert imgctl("lint", "api", "-t", "none", cwd=project).returncode == 0
    done = imgctl("lint", "api", "--failure-threshold", "error", "--set", "lint.ignore=DL1000", cwd=project)
    assert "DL3006" in done.stdout
    failing = [line for line in done.stdout.splitlines() if " error: " in line]
    assert done.returncode == (1 if failing else 0), done.stdout


def test_the_profiles_lint_table_and_set_change_the_report(project: Path) -> None:
    (project / "profiles" / "api.toml").write_text(
        'image = "team/api"\ncontext = "api"\n[lint]\nignore = ["DL3006"]\n[lint.override]\nDL3025 = "error"\n'
    )
    found = {f["code"]: f["level"] for f in findings(imgctl("lint", "api", "-f", "json", cwd=project))}
    assert "DL3006" not in found and found["DL3025"] == "error"
    found = {f["code"] for f in findings(imgctl("lint", "api", "-f", "json", "--set", "lint.ignore=DL3003",
                                                cwd=project))}
    assert "DL3003" not in found and "DL3006" in found  # --set replaces the profile's list


def test_no_argument_lints_every_profile(project: Path) -> None:
    done = imgctl("lint", cwd=project / "api")
    assert done.returncode == 1
    assert "api/Containerfile (profile api):" in done.stdout and "web/Containerfile (profile web):" in done.stdout
    files = {f["file"] for f in findings(imgctl("lint", "-f", "json", cwd=project))}
    assert files == {"api/Containerfile", "web/Containerfile"}


def test_a_bare_containerfile_needs_no_project(tmp_path: Path, hadolint_binary: Path) -> None:
    (tmp_path / "Containerfile").write_text("FROM debian:12\nCMD echo hi\n")
    done = imgctl("lint", "Containerfile", "-f", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert [(f["file"], f["code"]) for f in findings(done) if f["source"] == "hadolint"] == [
        ("Containerfile", "DL3025")]
    assert imgctl("lint", "./Containerfile", "-t", "none", cwd=tmp_path).returncode == 0


def test_a_path_beats_nothing_and_a_profile_name_beats_a_file(project: Path) -> None:
    (project / "api" / "api").write_text("FROM debian:12\n")  # a file named like the profile
    done = imgctl("lint", "api", "-f", "json", cwd=project / "api")
    assert {f["file"] for f in findings(done)} == {"api/Containerfile"}
    done = imgctl("lint", "./api", "-f", "json", "-t", "none", cwd=project / "api")
    assert done.returncode == 0 and all(f["file"] == "./api" for f in findings(done))


def test_bad_input_exits_2_with_file_and_line(project: Path) -> None:
    (project / "web" / "Containerfile").write_text("FROM debian:12\n\nCOPY onlyone\n")
    done = imgctl("lint", cwd=project)
    assert done.returncode == 2
    assert f"{project / 'web' / 'Containerfile'}:3: COPY requires at least two arguments" in done.stderr
    assert done.stdout == ""  # nothing was linted: no partial report
    assert imgctl("lint", "nosuch", cwd=project).returncode == 2
    assert imgctl("lint", "api", "--format", "xml", cwd=project).returncode == 2
    assert imgctl("lint", "api", "-t", "fatal", cwd=project).returncode == 2


def test_config_file_applies_and_its_errors_name_file_and_line(project: Path) -> None:
    config = project / "lint.toml"
    config.write_text('[lint]\nignore = ["DL3006", "DL3003"]\n')
    found = {f["code"] for f in findings(imgctl("lint", "api", "-f", "json", "--config", str(config), cwd=project))}
    assert not found & {"DL3006", "DL3003"} and "DL3025" in found
    config.write_text('ignore = ["DL3006"]\n\nfailure_threshold = "bad"\n')
    done = imgctl("lint", "api", "-c", str(config), cwd=project)
    assert done.returncode == 2
    assert f"{config}:3: failure_threshold: " in done.stderr


def test_sarif_validates_against_the_sarif_2_1_0_schema(project: Path) -> None:
    try:
        import jsonschema
    except ImportError:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("jsonschema is a test dependency (pip install -e '.[test]')")
        pytest.skip("jsonschema is not installed")
    done = imgctl("lint", "-f", "sarif", cwd=project)
    assert done.returncode == 1
    document = json.loads(done.stdout)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(document)
    results = document["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"DL3006", "DL3025"}
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {
        "api/Containerfile", "web/Containerfile"}


def test_junit_parses_with_a_suite_per_profile(project: Path) -> None:
    done = imgctl("lint", "-f", "junit", cwd=project)
    root = ElementTree.fromstring(done.stdout)
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == [
        "imgctl lint: api/Containerfile (profile api)", "imgctl lint: web/Containerfile (profile web)"]
    assert all(int(suite.get("failures") or 0) >= 3 for suite in suites)


def test_gitlab_code_quality_and_output_file(project: Path) -> None:
    out = project / "reports" / "gl-code-quality.json"
    out.parent.mkdir()
    done = imgctl("lint", "api", "-f", "gitlab", "-o", str(out), cwd=project)
    assert done.returncode == 1 and done.stdout == ""
    issues = json.loads(out.read_text())
    assert {issue["check_name"] for issue in issues} >= {"DL3006", "DL3003", "DL3025"}
    assert all(issue["location"]["path"] == "api/Containerfile" and issue["fingerprint"] for issue in issues)
    tty = project / "report.txt"
    imgctl("lint", "api", "-o", str(tty), cwd=project)
    assert "api/Containerfile:1 DL3006 warning:" in tty.read_text()


def test_build_lints_first_warn_shows_error_refuses_off_skips(project: Path) -> None:
    warned = imgctl("build", "api", "--dry-run", cwd=project)
    assert warned.returncode == 0, warned.stderr
    assert "api/Containerfile:1 DL3006 warning" in warned.stderr and "profile api" in warned.stdout
    refused = imgctl("build", "api", "--dry-run", "--lint=error", cwd=project)
    assert refused.returncode == 2
    assert "DL3006" in refused.stderr and "the build was not started" in refused.stderr
    assert refused.stdout == ""
    skipped = imgctl("build", "api", "--dry-run", "--lint", "off", cwd=project)
    assert skipped.returncode == 0 and "DL3006" not in skipped.stderr
    (project / "profiles" / "api.toml").write_text('image = "team/api"\ncontext = "api"\n[lint]\non_build = "error"\n')
    assert imgctl("build", "api", "--dry-run", cwd=project).returncode == 2
    assert imgctl("build", "api", "--dry-run", "--lint=warn", cwd=project).returncode == 0
    assert imgctl("build", "api", "--dry-run", "--lint=maybe", cwd=project).returncode == 2


def test_the_lint_path_loads_neither_podman_nor_the_progress_display(project: Path) -> None:
    """`imgctl lint` must answer fast: no podman-py, no requests, and no rich (the report is plain text)."""
    probe = (
        "import sys, runpy; sys.argv = ['imgctl', 'lint', 'api', '-f', sys.argv[1]]\n"
        "try:\n    runpy.run_module('builder', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('podman', 'requests', 'urllib3') "
        "or m.startswith(('rich.progress', 'rich.live', 'builder.engine', 'builder.build')))\n"
        "sys.stderr.write('LOADED ' + ' '.join(heavy) + (' rich' if 'rich.console' in sys.modules else '') + '\\n')\n"
    )
    for fmt in ("json", "tty"):
        done = subprocess.run([sys.executable, "-c", probe, fmt], cwd=project, capture_output=True, text=True)
        loaded = next(line for line in done.stderr.splitlines() if line.startswith("LOADED"))
        assert loaded.split()[1:] == [], loaded


def test_imgctl_pragmas_silence_imgctls_rules_and_leave_hadolints(tmp_path: Path, hadolint_binary: Path) -> None:
    base = "FROM registry.access.redhat.com/ubi9/ubi-minimal:9.4\n"
    (tmp_path / "plain").write_text(base + "USER app\nCMD [\"x\"]\n")
    (tmp_path / "pragma").write_text(base + "# imgctl ignore=OS104\nUSER app\nCMD [\"x\"]\n")
    codes = {name: {(f["code"], f["source"]) for f in findings(imgctl("lint", f"./{name}", "-f", "json", cwd=tmp_path))}
             for name in ("plain", "pragma")}
    assert ("OS104", "imgctl") in codes["plain"]  # a non-numeric USER
    assert ("OS104", "imgctl") not in codes["pragma"]
    assert ("DL3066", "hadolint") in codes["pragma"]  # hadolint's own rule stays: `# hadolint ignore=` is its pragma
