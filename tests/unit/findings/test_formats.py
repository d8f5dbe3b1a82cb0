from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest

from builder.findings.formats import RuleText, render
from builder.findings.model import Check, Finding, Policy, Report, Skipped

FINDINGS = (
    Finding("OS104", "error", "the final stage has no USER", "Containerfile", 5, hint="add USER 1001"),
    Finding("DL3008", "warning", "Pin versions in apt get install", "Containerfile", 3, 1, source="hadolint"),
    Finding("OS122", "info", "no io.openshift.tags label", "Containerfile", None),
)


def lint_report(findings: tuple[Finding, ...] = FINDINGS, threshold: str = "warning") -> Report:
    return Report("lint", "Containerfile", findings, Policy(failure_threshold=threshold), notes=("a note",))


def verify_report() -> Report:
    return Report(
        "verify", "localhost/api:1", (Finding("OS201", "error", "runs as root", "localhost/api:1"),), Policy(),
        checks=(Check("OS201", "non-root user"), Check("OS205", "layer count", "3 layers")),
        skipped=(Skipped("OS222", "a batch job"),),
    )


def test_lint_json_is_a_list_of_hadolint_records() -> None:
    document = json.loads(render([lint_report()], "json"))
    assert [record["code"] for record in document] == ["OS104", "DL3008", "OS122"]
    assert document[1]["source"] == "hadolint" and document[2]["line"] is None


def test_verify_json_holds_the_checks_and_skips() -> None:
    (document,) = json.loads(render([verify_report()], "json"))
    assert document["passed"] is False
    assert [c["code"] for c in document["checks"]] == ["OS201", "OS205"]
    assert document["skipped"] == [{"code": "OS222", "reason": "a batch job"}]


def test_sarif_has_one_run_with_every_rule_and_result() -> None:
    rules = {"OS104": RuleText("final stage runs as root", "Add USER 1001.")}
    document = json.loads(render([lint_report()], "sarif", rules))
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    ids = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert ids["OS104"]["shortDescription"]["text"] == "final stage runs as root"
    assert ids["DL3008"]["helpUri"] == "https://github.com/hadolint/hadolint/wiki/DL3008"
    levels = [(r["ruleId"], r["level"]) for r in run["results"]]
    assert levels == [("OS104", "error"), ("DL3008", "warning"), ("OS122", "note")]
    assert run["results"][1]["locations"][0]["physicalLocation"]["region"] == {"startLine": 3, "startColumn": 1}
    assert "region" not in run["results"][2]["locations"][0]["physicalLocation"]
    assert run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"] == "a note"


@pytest.mark.parametrize(("threshold", "failures"), [("warning", 2), ("error", 1), ("none", 0)])
def test_junit_fails_the_cases_at_the_threshold(threshold: str, failures: int) -> None:
    root = ElementTree.fromstring(render([lint_report(threshold=threshold)], "junit"))
    (suite,) = root.findall("testsuite")
    assert suite.get("tests") == "3"
    assert suite.get("failures") == str(failures) == root.get("failures")
    assert len(suite.findall("testcase/failure")) == failures


def test_junit_lint_without_findings_has_one_passing_case() -> None:
    root = ElementTree.fromstring(render([lint_report(findings=())], "junit"))
    assert [case.get("name") for case in root.iter("testcase")] == ["no findings"]
    assert root.get("failures") == "0"


def test_junit_verify_has_a_case_per_check_and_skip() -> None:
    root = ElementTree.fromstring(render([verify_report()], "junit"))
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert set(cases) == {"OS201 non-root user", "OS205 layer count", "OS222"}
    assert cases["OS201 non-root user"].find("failure") is not None
    assert cases["OS205 layer count"].find("failure") is None
    assert cases["OS222"].find("skipped").get("message") == "a batch job"  # type: ignore[union-attr]


def test_gitlab_code_quality_issues() -> None:
    issues = json.loads(render([lint_report()], "gitlab"))
    assert [(i["check_name"], i["severity"], i["location"]["lines"]["begin"]) for i in issues] == [
        ("OS104", "critical", 5), ("DL3008", "major", 3), ("OS122", "minor", 1),
    ]
    fingerprints = {issue["fingerprint"] for issue in issues}
    assert len(fingerprints) == 3
    assert issues == json.loads(render([lint_report()], "gitlab"))  # stable across runs


def test_unknown_format_is_a_bug() -> None:
    with pytest.raises(ValueError):
        render([lint_report()], "xml")
