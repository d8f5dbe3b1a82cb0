"""OS115-OS117: the labels OpenShift's console and Red Hat's certification read.

The labels are those of the final image: LABEL lines of the final stage and the stages it is built on, plus
the labels imgctl itself applies at build (the profile's, `Subject.labels`). Labels of the external base image
are not seen; a label the base sets still counts as missing here, which is why the missing-label rules say
where to add it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from builder.findings.model import Finding
from builder.lint.rules.model import Rule
from builder.lint.rules.view import FinalImage
from builder.lint.subject import Subject
from builder.oci.labels import KUBERNETES_QUANTITY, OPENSHIFT_LABELS, QUANTITY_LABELS

MISSING = Rule(
    "OS115", "info", "A label OpenShift's console shows is missing",
    "Add LABEL io.k8s.display-name=\"...\" io.k8s.description=\"...\" io.openshift.tags=\"tag1,tag2\" to the "
    "final stage (or set them in the profile's [labels]).",
    source="OpenShift 'Image metadata' (images-create-metadata)",
)
MALFORMED = Rule(
    "OS116", "warning", "An OpenShift label has a value OpenShift cannot use",
    "io.openshift.min-memory/min-cpu take Kubernetes quantities (512Mi, 1Gi, 500m, 2); io.openshift.expose-"
    "services lists PORT:NAME pairs of EXPOSEd ports (8080:http); tags are comma-separated words.",
    source="OpenShift 'Image metadata'; S2I image template (expose-services)",
)
CERTIFICATION = Rule(
    "OS117", "error", "A label Red Hat certification requires is missing (policy certification)",
    "Add LABEL name=... vendor=... version=... release=... summary=... description=... maintainer=... to the "
    "final stage (or the profile's [labels]).",
    source="preflight HasRequiredLabel (Red Hat Software Certification Policy Guide)",
)
RULES = (MISSING, MALFORMED, CERTIFICATION)

CERTIFICATION_LABELS = ("name", "vendor", "version", "release", "summary", "description", "maintainer")
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_SERVICE = re.compile(r"([0-9]+)(?:/(tcp|udp|sctp))?:([A-Za-z0-9][A-Za-z0-9._-]*)")
_SCRIPTS_URL = re.compile(r"(?:image|file|https?)://\S+")


@dataclass(frozen=True)
class _Label:
    value: str | None  # None: a variable imgctl cannot know
    line: int | None  # None: set by the profile


def check(subject: Subject, image: FinalImage | None) -> list[Finding]:
    if image is None:
        return []
    labels = _labels(subject, image)
    findings: list[Finding] = []
    absent = [name for name in OPENSHIFT_LABELS if _empty(labels.get(name))]
    if absent:
        findings.append(MISSING.finding(subject, image.from_line,
                                        f"the final image has no {', '.join(absent)} label"))
    if subject.policy == "certification":
        absent = [name for name in CERTIFICATION_LABELS if _empty(labels.get(name))]
        if absent:
            findings.append(CERTIFICATION.finding(subject, image.from_line,
                                                  f"the final image has no {', '.join(absent)} label"))
    for name, label in labels.items():
        if label.value is None:
            continue
        problem = _problem(name, label.value, _exposed(image))
        if problem is not None:
            findings.append(MALFORMED.finding(subject, label.line, f"label {name}={label.value!r}: {problem}"))
    return findings


def _empty(label: _Label | None) -> bool:
    return label is None or label.value == ""


def _labels(subject: Subject, image: FinalImage) -> dict[str, _Label]:
    labels: dict[str, _Label] = {}
    for step in image.keyword("LABEL"):
        args = step.instruction.args
        for raw_name, raw_value in zip(args[::2], args[1::2], strict=False):
            name = step.expand(raw_name)
            if name:
                labels[name] = _Label(step.expand(raw_value), step.instruction.line)
    for name, value in subject.labels.items():
        labels[name] = _Label(value, None)
    return labels


def _exposed(image: FinalImage) -> set[int] | None:
    """The EXPOSEd ports; None when one of them cannot be known."""
    ports: set[int] = set()
    for step in image.keyword("EXPOSE"):
        for word in step.instruction.args:
            value = step.expand(word)
            found = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?(?:/[a-zA-Z]+)?", value or "")
            if found is None:
                return None
            low = int(found.group(1))
            high = int(found.group(2)) if found.group(2) else low
            ports |= set(range(low, min(high, 65535) + 1))
    return ports


def _problem(name: str, value: str, exposed: set[int] | None) -> str | None:
    if name in QUANTITY_LABELS:
        return None if KUBERNETES_QUANTITY.fullmatch(value) else "not a Kubernetes quantity (e.g. 512Mi, 2Gi, 500m)"
    if name in ("io.openshift.tags", "io.openshift.wants"):
        bad = [tag for tag in value.split(",") if not _TAG.fullmatch(tag.strip())]
        return f"{', '.join(repr(tag) for tag in bad)} is not a tag: write word,word" if bad else None
    if name == "io.openshift.non-scalable":
        return None if value in ("true", "false") else "must be true or false"
    if name == "io.openshift.s2i.scripts-url":
        return None if _SCRIPTS_URL.fullmatch(value) else "must be an image://, file:// or http(s):// URL"
    if name == "io.openshift.expose-services":
        return _services(value, exposed)
    return None


def _services(value: str, exposed: set[int] | None) -> str | None:
    for entry in value.split(","):
        found = _SERVICE.fullmatch(entry.strip())
        if found is None:
            return f"{entry.strip()!r} is not PORT[/PROTOCOL]:NAME (e.g. 8080:http)"
        if exposed is not None and int(found.group(1)) not in exposed:
            return f"port {found.group(1)} is not EXPOSEd by the final image"
    return None
