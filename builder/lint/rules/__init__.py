"""PLACEHOLDER for imgctl's own OpenShift rules (helper lint-rules writes the real package; the lead takes its
version at merge). Only the interface the runner codes against: `check(subject)` and `CATALOG`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from builder.findings.model import Finding
from builder.lint.subject import Subject


@dataclass(frozen=True)
class Rule:
    code: str
    level: str
    title: str
    hint: str = ""
    extends: str = ""


CATALOG: Mapping[str, Rule] = {}


def check(subject: Subject) -> list[Finding]:
    return []
