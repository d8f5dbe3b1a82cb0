"""OS102-OS104: the user the final image runs as.

OpenShift runs a container as an arbitrary UID in group 0 under the restricted SCC, and S2I builder images
without a numeric USER fail unless the builder gets the anyuid SCC. So the final image must set USER itself,
to a non-root, numeric UID. hadolint's DL3002 (root) and DL3066 (non-numeric) look at the last USER of every
stage as written; these look at the final image only, expand build arguments, and count a USER set in the
stages the final stage is built on.
"""

from __future__ import annotations

import re

from builder.findings.model import Finding
from builder.lint.rules.model import Rule
from builder.lint.rules.view import FinalImage, Step
from builder.lint.subject import Subject

NO_USER = Rule(
    "OS102", "error", "The final image sets no USER, so it runs as its base image's user (root for UBI)",
    "Add `USER 1001` (any numeric UID other than 0) after the last RUN of the final stage.",
    source="OpenShift 'Support arbitrary user ids'; preflight RunAsNonRoot",
)
ROOT_USER = Rule(
    "OS103", "error", "The final image runs as root",
    "Make the files the application writes group-0 writable (chgrp -R 0 DIR && chmod -R g=u DIR), then "
    "`USER 1001`.",
    extends="DL3002",
    source="OpenShift 'Support arbitrary user ids' (restricted SCC); preflight RunAsNonRoot",
)
NAMED_USER = Rule(
    "OS104", "warning", "The final image's USER is not a numeric UID",
    "Use the numeric UID, e.g. `USER 1001` (an ARG with a numeric default works too: ARG UID=1001, USER "
    "${UID}).",
    extends="DL3066",
    source="OpenShift 'Support arbitrary user ids': S2I images need a numeric USER (else the anyuid SCC)",
)
RULES = (NO_USER, ROOT_USER, NAMED_USER)

_NUMERIC = re.compile(r"[0-9]+")


def check(subject: Subject, image: FinalImage | None) -> list[Finding]:
    if image is None:
        return []
    users = list(image.keyword("USER"))
    if not users:
        if image.base == "scratch":
            return [NO_USER.finding(subject, image.from_line, "the final image sets no USER: it runs as root")]
        # The base image's user is not visible here (root for UBI and most others); OpenShift wants it stated.
        base = image.base if image.base is not None else "its base image"
        return [NO_USER.finding(subject, image.from_line, f"the final image sets no USER: it runs as the user of "
                                                          f"{base}")]
    return _check_user(subject, users[-1])


def _check_user(subject: Subject, step: Step) -> list[Finding]:
    raw = step.instruction.args[0] if step.instruction.args else ""
    value = step.expand(raw)
    if value is None:
        return []  # a variable imgctl cannot know (e.g. set by the base image): say nothing rather than guess
    user, _, _group = value.partition(":")
    if not user:
        return []  # buildah refuses an empty USER; nothing to add here
    shown = raw if value == raw else f"{raw} (= {value})"
    if user in ("0", "root") or (_NUMERIC.fullmatch(user) and int(user) == 0):
        return [ROOT_USER.finding(subject, step.instruction.line, f"USER {shown} runs the final image as root")]
    if not _NUMERIC.fullmatch(user):
        return [NAMED_USER.finding(subject, step.instruction.line,
                                   f"USER {shown} is not numeric: OpenShift cannot tell it is not root")]
    return []
