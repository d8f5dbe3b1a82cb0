"""`imgctl lint` in order: what to lint (profiles or bare files), both engines on each, one report per file.

hadolint runs as a process of its own per Containerfile; they are started first and imgctl's rules run
while they work, so a lint costs about one hadolint run however many rules imgctl adds. Every Containerfile
is parsed before any process starts: one imgctl cannot parse stops the run (exit 2, file:line).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from builder.containerfile.document import Document
from builder.errors import LintError
from builder.findings.model import HADOLINT, IMGCTL, Finding, Report
from builder.lint import hadolint, pragmas
from builder.lint.subject import Subject
from builder.lint.targets import Target, Unlinted, profile_target

if TYPE_CHECKING:
    from builder.config.profile import Profile
    from builder.findings.formats import RuleText
    from builder.lint.cache import LintCache

log = logging.getLogger("imgctl.lint")


@dataclass(frozen=True)
class Linter:
    """Where hadolint is (None: not installed) and the environment its process gets."""

    hadolint: Path | None
    env: Mapping[str, str] = field(default_factory=dict)
    cache: LintCache | None = None  # `imgctl build` only: `imgctl lint` always asks hadolint

    @classmethod
    def find(cls, env: Mapping[str, str], beside: Path | None = None, cache: LintCache | None = None) -> Linter:
        return cls(hadolint.locate(env.get("PATH"), beside), env, cache)


class Session:
    """A lint of several targets: hadolint starts on entering the `with` block, the reports come with `finish`.

    The caller may do other work in between (`imgctl build` connects to the engine while hadolint reads), and
    must leave the `with` block: every process still running is then stopped, also on Ctrl-C.
    Every Containerfile is parsed here first, so one imgctl cannot parse raises ConfigError before any starts.
    """

    def __init__(self, targets: Sequence[Target | Unlinted], linter: Linter, window: int | None = None,
                 rules: Callable[[Subject], Iterable[Finding]] | None = None, tolerant: bool = False) -> None:
        """`tolerant`: an exception in imgctl's own rules (a bug) becomes a note instead of ending the run, so
        that a bug in a rule cannot stop `imgctl build` (`imgctl lint` lets it surface as an internal error)."""
        for target in targets:
            if isinstance(target, Target):
                target.subject.document.instructions  # noqa: B018 - parse now: ConfigError before anything starts
        self.targets = tuple(targets)
        self.linter = linter
        # Processes at once: linting every profile of a large project must not start hundreds of them.
        self.window = window or max(2, os.cpu_count() or 2)
        self.running: dict[int, hadolint.Running | _Known | None] = {}
        self.keys: dict[int, str | None] = {}  # where a fresh answer of hadolint's is cached
        self.rules = rules or _own_rules  # imgctl's rules (builder.lint.rules), or a test's
        self.tolerant = tolerant

    def __enter__(self) -> Session:
        self._launch(0)
        return self

    def __exit__(self, *exc: object) -> None:
        for item in self.running.values():
            if item is not None:
                item.stop()

    def _launch(self, first: int) -> None:
        for index in range(first, min(first + self.window, len(self.targets))):
            target = self.targets[index]
            if isinstance(target, Target):
                self.running[index], self.keys[index] = _start(target, self.linter)

    def finish(self) -> list[Report]:
        """A report per target, in order. A note (hadolint missing or failing) is said once per run."""
        reports = []
        said: set[str] = set()
        for index, target in enumerate(self.targets):
            if isinstance(target, Unlinted):
                policy = target.settings.findings_policy()
                reports.append(Report(tool="lint", subject=target.name, findings=(), policy=policy,
                                      notes=(target.reason,)))
                continue
            if index not in self.running:
                self._launch(index)
            findings, failed = self._own(target.subject)  # while hadolint works on the same file
            item = self.running[index]
            waited = time.monotonic()
            outcome = item.outcome() if item is not None else hadolint.Outcome(note=hadolint.MISSING)
            # What the lint costs a build is this wait: hadolint has had all the time since __enter__.
            log.debug("lint: %s: waited %.3f s for hadolint", target.name, time.monotonic() - waited)
            if self.linter.cache is not None and outcome.note is None:
                self.linter.cache.put(self.keys[index], outcome.findings)
            notes = tuple(note for note in (outcome.note, failed) if note is not None and note not in said)
            said.update(notes)
            kept = pragmas.apply(target.subject.document, [*findings, *outcome.findings])
            policy = target.settings.findings_policy()
            reports.append(Report(tool="lint", subject=target.name, findings=_one_per_problem(policy.apply(kept)),
                                  policy=policy, notes=notes))
        return reports

    def _own(self, subject: Subject) -> tuple[list[Finding], str | None]:
        try:
            return list(self.rules(subject)), None
        except Exception as error:  # a bug in a rule: the build goes on, and says so
            if not self.tolerant:
                raise
            log.debug("imgctl's rules failed on %s", subject.file, exc_info=True)
            return [], (f"imgctl's own rules failed ({type(error).__name__}: {error}); only hadolint's ran. "
                        "This is a bug: rerun with --debug and report it")


def _one_per_problem(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Drop a hadolint finding where an imgctl rule that tightens it (`Rule.extends`) reports the same line:
    one problem, said once, in the stricter words. Done after pragmas and the policy, so a user who ignores
    the imgctl rule still gets hadolint's."""
    from builder.lint.rules import CATALOG

    tightened = {
        (finding.file, finding.line, rule.extends)
        for finding in findings
        if (rule := CATALOG.get(finding.code)) is not None and rule.extends and finding.source == IMGCTL
    }
    return tuple(
        finding
        for finding in findings
        if not (finding.source == HADOLINT and (finding.file, finding.line, finding.code) in tightened)
    )


def lint(targets: Sequence[Target | Unlinted], linter: Linter,
         rules: Callable[[Subject], Iterable[Finding]] | None = None) -> list[Report]:
    """Lint every target (see `Session`)."""
    with Session(targets, linter, rules=rules) as session:
        return session.finish()


class BuildLint:
    """`imgctl build`'s lint: each profile's Containerfile read once (the build takes these Documents), the
    profiles whose mode is not "off" linted, and the build refused where the mode is "error" and it fails."""

    def __init__(self, profiles: Sequence[Profile], mode: str | None, env: Mapping[str, str]) -> None:
        # An S2I profile's Containerfile is generated by the build (with the engine): None here, and not linted.
        self.documents = [Document.read(profile.containerfile) if profile.containerfile is not None else None
                          for profile in profiles]
        self.modes = [mode or profile.lint.on_build for profile in profiles]
        targets = []
        self.checked = []
        for profile, document, chosen in zip(profiles, self.documents, self.modes, strict=True):
            if chosen != "off" and document is not None:
                targets.append(profile_target(profile, document))
                self.checked.append(chosen)
        from builder.lint.cache import LintCache  # hashlib: only the build's lint caches

        linter = Linter.find(env, cache=LintCache.open(env))
        self.session = (Session(targets, linter, window=len(targets) or 1, tolerant=True)
                        if targets else None)
        self.reports: list[Report] | None = None

    def __enter__(self) -> BuildLint:
        if self.session is not None:
            self.session.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.session is not None:
            self.session.__exit__(*exc)

    @property
    def strictest(self) -> str:
        return "error" if "error" in self.checked else "warn" if self.checked else "off"

    def finish(self) -> list[Report]:
        """The reports (waiting for hadolint the first time; the same list after that)."""
        if self.reports is None:
            self.reports = self.session.finish() if self.session is not None else []
        return self.reports

    def refuse(self, reports: Sequence[Report]) -> None:
        """Raise LintError when a profile linted with mode "error" has findings at or above its threshold."""
        failing = [report for report, chosen in zip(reports, self.checked, strict=True)
                   if chosen == "error" and report.exit_code]
        if failing:
            count = sum(len(report.failing) for report in failing)
            names = ", ".join(report.subject for report in failing)
            raise LintError(
                f"lint: {count} finding{'s' if count != 1 else ''} at or above the failure threshold in {names}; "
                "the build was not started",
                hint="fix them, ignore a rule in the profile's [lint] table or with `# imgctl ignore=CODE`, "
                     "or build with --lint=warn",
            )


class _Known:
    """hadolint's answer from the cache: a Running that has already finished."""

    def __init__(self, findings: tuple[Finding, ...]) -> None:
        self.findings = findings

    def outcome(self) -> hadolint.Outcome:
        return hadolint.Outcome(findings=self.findings)

    def stop(self) -> None:
        pass


def _start(target: Target, linter: Linter) -> tuple[hadolint.Running | _Known | None, str | None]:
    """hadolint at work on the target (or its cached answer), and the cache key to store a fresh answer under."""
    if linter.hadolint is None:
        return None, None
    settings = hadolint.Settings(ignore=target.settings.ignore, override=target.settings.override,
                                 trusted_registries=target.settings.trusted_registries)
    data = target.subject.document.data
    key = None
    if linter.cache is not None:
        key = linter.cache.key(linter.hadolint, settings.config(), data)
        known = linter.cache.get(key, target.subject.file)
        if known is not None:
            return _Known(known), None
    return hadolint.start(linter.hadolint, data, settings, target.subject.file, linter.env), key


def _own_rules(subject: Subject) -> list[Finding]:
    from builder.lint import rules

    return list(rules.check(subject))


def rule_texts() -> Mapping[str, RuleText]:
    """imgctl's rules as the formats describe them (SARIF's rule metadata)."""
    from builder.findings.formats import RuleText
    from builder.lint.rules import CATALOG

    return {code: RuleText(title=rule.title, help=rule.hint) for code, rule in CATALOG.items()}
