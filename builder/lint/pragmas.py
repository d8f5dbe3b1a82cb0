"""`# imgctl ignore=OS104,OS106` (the next instruction) and `# imgctl global ignore=OS121` (the whole file).

They work as hadolint's own pragmas do, for imgctl's findings. hadolint's findings stay under hadolint's
`# hadolint ignore=` pragmas, which hadolint applies itself: a Containerfile then means the same to a plain
`hadolint` run in another pipeline as to `imgctl lint`. Other comment lines (a hadolint pragma, say) may sit
between an imgctl pragma and its instruction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from builder.containerfile.document import Document
from builder.findings.model import IMGCTL, Finding

# Codes as hadolint accepts them after `ignore=`: separated by commas, spaces allowed; a trailing `# why` too.
_PRAGMA = re.compile(r"#\s*imgctl\s+(global\s+)?ignore\s*=\s*([A-Za-z0-9]+(?:\s*,\s*[A-Za-z0-9]+)*)")


@dataclass(frozen=True)
class Pragmas:
    whole_file: frozenset[str] = frozenset()
    by_line: dict[int, frozenset[str]] = field(default_factory=dict)  # instruction's first line -> codes

    def silences(self, finding: Finding, spans: Iterable[tuple[int, int]]) -> bool:
        if finding.code in self.whole_file:
            return True
        if finding.line is None:
            return False
        return any(start <= finding.line <= end and finding.code in self.by_line.get(start, ())
                   for start, end in spans)


def read(document: Document) -> Pragmas:
    """The pragmas of a Containerfile. Raises ConfigError where the Containerfile itself does not parse."""
    instructions = document.instructions
    starts = sorted(instruction.line for instruction in instructions)
    whole: set[str] = set()
    by_line: dict[int, set[str]] = {}
    for number, text in enumerate(document.text.split("\n"), start=1):
        found = _PRAGMA.match(text.strip())
        if not found:
            continue
        codes = {code.strip().upper() for code in found.group(2).split(",")}
        if found.group(1):
            whole |= codes
            continue
        following = next((start for start in starts if start > number), None)
        if following is not None:
            by_line.setdefault(following, set()).update(codes)
    return Pragmas(frozenset(whole), {line: frozenset(codes) for line, codes in by_line.items()})


def apply(document: Document, findings: Iterable[Finding]) -> list[Finding]:
    """imgctl's findings less those its pragmas silence; hadolint's pass through (hadolint applied its own)."""
    findings = list(findings)
    if "imgctl" not in document.text:
        return findings  # the common case costs one substring search
    pragmas = read(document)
    spans = [(instruction.line, instruction.end_line) for instruction in document.instructions]
    return [finding for finding in findings
            if finding.source != IMGCTL or not pragmas.silences(finding, spans)]
