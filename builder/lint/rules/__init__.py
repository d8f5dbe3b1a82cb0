"""imgctl's own lint rules: what the OpenShift image guidelines ask for and hadolint does not check.

`check` runs every rule over a `Subject` and returns the findings unfiltered (no pragmas, ignore lists or
level overrides: the runner applies those). `CATALOG` describes each rule for reports (SARIF rule metadata)
and the docs. Rules that tighten a hadolint rule for OpenShift name it in `Rule.extends`; the others check
what hadolint has no rule for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from builder.findings.model import Finding
from builder.lint.rules import base, context, exposure, labels, packages, permissions, signals, user
from builder.lint.rules.model import Rule
from builder.lint.rules.view import FinalImage, final_image
from builder.lint.subject import Subject

__all__ = ["CATALOG", "Rule", "check"]

_MODULES = (base, user, permissions, signals, exposure, packages, labels, context)
_CHECKS: tuple[Callable[[Subject, FinalImage | None], list[Finding]], ...] = tuple(
    module.check for module in _MODULES)

CATALOG: Mapping[str, Rule] = MappingProxyType({rule.code: rule for module in _MODULES for rule in module.RULES})


def check(subject: Subject) -> list[Finding]:
    """Every finding of imgctl's own rules, in file order (line None first), then by code.

    Raises ConfigError (file:line) for a Containerfile buildah would reject, as reading its instructions does.
    """
    image = final_image(subject)
    findings = [finding for run in _CHECKS for finding in run(subject, image)]
    return sorted(findings, key=lambda f: (f.file != subject.file, f.file, f.line or 0, f.code))
