"""The machine-readable documents of a lint or verify run: JSON, SARIF 2.1.0, JUnit XML and GitLab Code Quality.

One document holds every report of the run and both engines' findings (hadolint's and imgctl's). The terminal
form is the render layer's (`builder.render.findings`). Each function returns text; nothing here prints.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.etree import ElementTree

from builder import __version__
from builder.findings.model import HADOLINT, Finding, Report

FORMATS = ("tty", "json", "sarif", "junit", "gitlab")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


@dataclass(frozen=True)
class RuleText:
    """What a report says about a rule besides its findings: SARIF's rule metadata."""

    title: str
    help: str = ""
    help_uri: str = ""


def render(reports: Sequence[Report], fmt: str, rules: Mapping[str, RuleText] | None = None) -> str:
    """The document for `fmt` (one of FORMATS but "tty"), ending with a newline."""
    rules = rules or {}
    if fmt == "json":
        return to_json(reports)
    if fmt == "sarif":
        return to_sarif(reports, rules)
    if fmt == "junit":
        return to_junit(reports)
    if fmt == "gitlab":
        return to_gitlab(reports)
    raise ValueError(f"no document format {fmt!r}")


def json_document(reports: Sequence[Report]) -> object:
    """lint: a list of findings with hadolint's keys (plus hint and source), so hadolint's consumers read it.
    verify: a list of reports, each with its image, verdict, checks, skipped checks and findings."""
    if all(report.tool == "lint" for report in reports):
        return [finding.to_json() for report in reports for finding in report.findings]
    return [
        {
            "subject": report.subject,
            "tool": report.tool,
            "passed": report.exit_code == 0,
            "findings": [finding.to_json() for finding in report.findings],
            "checks": [{"code": c.code, "title": c.title, "detail": c.detail} for c in report.checks],
            "skipped": [{"code": s.code, "reason": s.reason} for s in report.skipped],
            "notes": list(report.notes),
        }
        for report in reports
    ]


def to_json(reports: Sequence[Report]) -> str:
    return json.dumps(json_document(reports), indent=2) + "\n"


_SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note", "style": "note"}


def help_uri(code: str) -> str:
    if code.startswith("DL"):
        return f"https://github.com/hadolint/hadolint/wiki/{code}"
    if code.startswith("SC"):
        return f"https://www.shellcheck.net/wiki/{code}"
    return ""


def _sarif_result(finding: Finding) -> dict[str, object]:
    location: dict[str, object] = {"artifactLocation": {"uri": finding.file}}
    if finding.line is not None:
        region: dict[str, int] = {"startLine": max(finding.line, 1)}
        if finding.column:
            region["startColumn"] = finding.column
        location["region"] = region
    result: dict[str, object] = {
        "ruleId": finding.code,
        "level": _SARIF_LEVELS[finding.level],
        "message": {"text": finding.message + (f" (hint: {finding.hint})" if finding.hint else "")},
        "locations": [{"physicalLocation": location}],
        "properties": {"source": finding.source, "severity": finding.level},
    }
    return result


def to_sarif(reports: Sequence[Report], rules: Mapping[str, RuleText]) -> str:
    """One run whose driver is imgctl; hadolint's rules are among its rules, with their own help pages."""
    findings = [finding for report in reports for finding in report.findings]
    codes = sorted({finding.code for finding in findings})
    descriptors = []
    for code in codes:
        text = rules.get(code)
        first = next(f for f in findings if f.code == code)
        descriptor: dict[str, object] = {
            "id": code,
            "shortDescription": {"text": text.title if text else first.message},
            "properties": {"source": first.source},
        }
        uri = (text.help_uri if text else "") or help_uri(code)
        if uri:
            descriptor["helpUri"] = uri
        if text and text.help:
            descriptor["help"] = {"text": text.help}
        descriptors.append(descriptor)
    notes = [note for report in reports for note in report.notes]
    run: dict[str, object] = {
        "tool": {
            "driver": {
                "name": "imgctl",
                "version": __version__,
                "rules": descriptors,
            }
        },
        "results": [_sarif_result(finding) for finding in findings],
    }
    if notes:
        run["invocations"] = [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [{"level": "note", "message": {"text": note}} for note in notes],
            }
        ]
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def _where(finding: Finding) -> str:
    return f"{finding.file}:{finding.line}" if finding.line is not None else finding.file


def _finding_text(finding: Finding) -> str:
    text = f"{_where(finding)} {finding.code} {finding.level}: {finding.message}"
    return text + (f"\nhint: {finding.hint}" if finding.hint else "")


def _case(suite: ElementTree.Element, report: Report, name: str, findings: Sequence[Finding]) -> bool:
    """One test case; it fails when one of its findings is at or above the threshold. Returns whether it failed."""
    case = ElementTree.SubElement(suite, "testcase", classname=report.subject, name=name)
    failing = [finding for finding in findings if report.policy.fails(finding)]
    if failing:
        failure = ElementTree.SubElement(case, "failure", message=failing[0].message, type=failing[0].level)
        failure.text = "\n".join(_finding_text(finding) for finding in failing)
    elif findings:
        ElementTree.SubElement(case, "system-out").text = "\n".join(_finding_text(f) for f in findings)
    return bool(failing)


def _suite(suites: ElementTree.Element, report: Report) -> tuple[int, int]:
    """lint: a case per finding, or one passing case when there is none. verify: a case per check run, plus a
    skipped case per check the profile skipped. Returns (cases, failures)."""
    suite = ElementTree.SubElement(suites, "testsuite", name=f"imgctl {report.tool}: {report.subject}")
    results: list[bool] = []
    if report.checks:
        by_code: dict[str, list[Finding]] = {}
        for finding in report.findings:
            by_code.setdefault(finding.code, []).append(finding)
        checked = {check.code for check in report.checks}
        for check in report.checks:
            results.append(_case(suite, report, f"{check.code} {check.title}", by_code.get(check.code, [])))
        for code, findings in by_code.items():  # a finding of no listed check still gets its case
            if code not in checked:
                results.append(_case(suite, report, code, findings))
    else:
        results = [_case(suite, report, f"{f.code} {_where(f)}", [f]) for f in report.findings]
        if not results:
            results.append(_case(suite, report, "no findings", []))
    for skip in report.skipped:
        case = ElementTree.SubElement(suite, "testcase", classname=report.subject, name=skip.code)
        ElementTree.SubElement(case, "skipped", message=skip.reason)
    cases, failures = len(results) + len(report.skipped), sum(results)
    suite.attrib.update(tests=str(cases), failures=str(failures), errors="0", skipped=str(len(report.skipped)))
    return cases, failures


def to_junit(reports: Sequence[Report]) -> str:
    """JUnit XML, a test suite per report, as CI systems (GitLab, Jenkins) show test results."""
    suites = ElementTree.Element("testsuites", name=f"imgctl {reports[0].tool if reports else 'lint'}")
    counts = [_suite(suites, report) for report in reports]
    suites.attrib.update(tests=str(sum(c for c, _ in counts)), failures=str(sum(f for _, f in counts)))
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


# GitLab Code Quality severities: info, minor, major, critical, blocker.
_GITLAB_SEVERITY = {"error": "critical", "warning": "major", "info": "minor", "style": "info"}


def to_gitlab(reports: Sequence[Report]) -> str:
    """GitLab's Code Quality report (a Code Climate subset): a list of issues with a stable fingerprint."""
    issues = []
    for report in reports:
        for finding in report.findings:
            identity = f"{finding.source}\0{finding.code}\0{finding.file}\0{finding.line}\0{finding.message}"
            issues.append(
                {
                    "description": finding.message + (f" (hint: {finding.hint})" if finding.hint else ""),
                    "check_name": finding.code,
                    "fingerprint": hashlib.sha256(identity.encode()).hexdigest()[:32],
                    "severity": _GITLAB_SEVERITY[finding.level],
                    "location": {"path": finding.file, "lines": {"begin": finding.line or 1}},
                    "categories": ["Bug Risk" if finding.level == "error" else "Style"],
                    "engine_name": finding.source if finding.source == HADOLINT else "imgctl",
                }
            )
    return json.dumps(issues, indent=2) + "\n"
