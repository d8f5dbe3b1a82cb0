"""What one of imgctl's own rules is (for SARIF rule metadata and the docs), and the finding it makes."""

from __future__ import annotations

from dataclasses import dataclass

from builder.findings.model import IMGCTL, Finding
from builder.lint.subject import Subject


@dataclass(frozen=True)
class Rule:
    code: str  # OS1xx: stable, never reused
    level: str  # the default level, one of builder.findings.model.LEVELS
    title: str  # one line: what is wrong
    hint: str  # the fix, the general form (a finding's own hint names its path, port, image...)
    extends: str | None = None  # the hadolint rule this is a stricter OpenShift variant of
    source: str = ""  # the guideline it enforces, for the docs

    def finding(self, subject: Subject, line: int | None, message: str, hint: str | None = None,
                file: str | None = None) -> Finding:
        return Finding(code=self.code, level=self.level, message=message, file=subject.file if file is None else file,
                       line=line, hint=self.hint if hint is None else hint, source=IMGCTL)
