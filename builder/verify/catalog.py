"""The checks of `imgctl verify`: stable codes, titles, levels and what each reads (docs/verify.md).

Codes are grouped by what a check reads: OS20x the image config, OS21x the layers, OS22x a run of the image.
A code keeps its meaning once published; a retired check's code is not reused.
"""

from __future__ import annotations

from dataclasses import dataclass

from builder.findings.formats import RuleText
from builder.findings.model import Finding

CONFIG, FILESYSTEM, RUN = "config", "filesystem", "run"


@dataclass(frozen=True)
class CheckInfo:
    code: str
    title: str
    level: str  # the level of its findings (a finding may be milder, e.g. a user name instead of a UID)
    reads: str  # CONFIG, FILESYSTEM or RUN
    help: str


CHECKS: dict[str, CheckInfo] = {
    info.code: info
    for info in (
        CheckInfo("OS201", "runs as a non-root user", "error", CONFIG,
                  "USER must be set and not 0 or root, with or without a group (0:0 and root:x fail too)."),
        CheckInfo("OS202", "exposes no privileged port", "error", CONFIG,
                  "An arbitrary UID cannot bind a port below 1024; EXPOSE 8080 rather than 80."),
        CheckInfo("OS203", "carries the OpenShift labels", "warning", CONFIG,
                  "io.k8s.description, io.k8s.display-name and io.openshift.tags non-empty; "
                  "io.openshift.min-memory and min-cpu Kubernetes quantities."),
        CheckInfo("OS204", "has at most 40 layers", "error", CONFIG,
                  "Red Hat certification (preflight LayerCountAcceptable) allows 40; merge RUN steps."),
        CheckInfo("OS205", "has an absolute working directory", "error", CONFIG,
                  "WORKDIR must be an absolute path."),
        CheckInfo("OS206", "has a command", "error", CONFIG,
                  "An image without CMD or ENTRYPOINT cannot be started without one."),
        CheckInfo("OS210", "writable paths suit an arbitrary UID", "error", FILESYSTEM,
                  "WORKDIR, VOLUMEs and writable_paths (and what is under them) owned by group 0 with group "
                  "permissions equal to the owner's: RUN chgrp -R 0 DIR && chmod -R g=u DIR."),
        CheckInfo("OS211", "/etc/passwd and /etc/group are not writable", "error", FILESYSTEM,
                  "Neither may be group- or world-writable: the runtime adds the arbitrary UID itself."),
        CheckInfo("OS213", "wastes little space", "warning", FILESYSTEM,
                  "Files overwritten or deleted in a later layer still take space: remove them in the step "
                  "that made them. Fails below dive's default efficiency (0.9) or above 10 % wasted."),
        CheckInfo("OS220", "starts as an arbitrary UID in group 0", "error", RUN,
                  "Run as verify.user (1000680000:0, as OpenShift does): a service stays up, a job exits 0."),
        CheckInfo("OS221", "writable paths are writable at run time", "error", RUN,
                  "Each VOLUME and writable_paths entry accepts a new file from verify.user."),
        CheckInfo("OS222", "stops on SIGTERM within the grace period", "error", RUN,
                  "PID 1 must exit by itself after the stop signal; a shell that runs the server without "
                  "exec keeps the signal from it."),
    )
}



@dataclass(frozen=True)
class Outcome:
    """What one check found: what it measured (shown for passes too) and its findings."""

    code: str
    detail: str
    findings: tuple[Finding, ...] = ()


def finding(code: str, subject: str, message: str, hint: str = "", level: str | None = None) -> Finding:
    """A finding of check `code` about the image `subject`, at the check's level unless `level` says otherwise."""
    return Finding(code=code, level=level or CHECKS[code].level, message=message, file=subject, hint=hint)


def rule_texts() -> dict[str, RuleText]:
    """The checks as SARIF rule metadata."""
    return {code: RuleText(title=info.title, help=info.help) for code, info in CHECKS.items()}
