"""The checks that read only the image config (OS201-OS206): user, ports, labels, layers, working dir, command."""

from __future__ import annotations

from collections.abc import Callable

from builder.engine.protocol import ImageRecord
from builder.oci.labels import KUBERNETES_QUANTITY, OPENSHIFT_LABELS, QUANTITY_LABELS
from builder.verify.catalog import Outcome, finding

MAX_LAYERS = 40  # preflight's LayerCountAcceptable


def user_check(image: ImageRecord, subject: str) -> Outcome:
    """OS201: stricter than preflight's RunAsNonRoot, which compares the whole string with "0" and "root"."""
    user = image.user.strip()
    name, _, group = user.partition(":")
    if not user:
        return Outcome("OS201", "no USER", (finding(
            "OS201", subject, "the image sets no USER: it runs as root",
            "add USER 1001 (a numeric UID; OpenShift adds group 0)"),))
    if name in ("0", "root"):
        return Outcome("OS201", f"USER {user}", (finding(
            "OS201", subject, f"USER {user} is root", "USER 1001, with the files it writes owned by group 0"),))
    if not name.isdigit():
        # Kubernetes' runAsNonRoot refuses to start a pod whose image user is a name it cannot check.
        return Outcome("OS201", f"USER {user}", (finding(
            "OS201", subject, f"USER {user} is a name, not a UID: runAsNonRoot cannot check it",
            f"use the numeric UID of {name}", level="warning"),))
    return Outcome("OS201", f"USER {user}" + ("" if group else " (group 0 added by OpenShift)"))


def ports_check(image: ImageRecord, subject: str) -> Outcome:
    """OS202: an arbitrary UID cannot bind below 1024."""
    numbers = []
    findings = []
    for spec in image.exposed_ports:
        port = spec.partition("/")[0]
        if not port.isdigit():
            continue
        numbers.append(port)
        if int(port) < 1024:
            findings.append(finding(
                "OS202", subject, f"exposes privileged port {spec}",
                f"listen on {int(port) + 8000} (as 80 becomes 8080) and EXPOSE that"))
    detail = "exposes " + ", ".join(image.exposed_ports) if numbers else "exposes no port"
    return Outcome("OS202", detail, tuple(findings))


def labels_check(image: ImageRecord, subject: str) -> Outcome:
    """OS203: the labels OpenShift's console and generators read, present and well formed."""
    findings = []
    for key in OPENSHIFT_LABELS:
        if not image.labels.get(key, "").strip():
            state = "is empty" if key in image.labels else "is missing"
            findings.append(finding("OS203", subject, f"label {key} {state}", f'LABEL {key}="..."'))
    tags = image.labels.get("io.openshift.tags", "")
    if tags.strip() and any(not tag.strip() for tag in tags.split(",")):
        findings.append(finding("OS203", subject, f"label io.openshift.tags has an empty item: {tags!r}",
                                "a comma-separated list such as nodejs,nodejs18"))
    for key in QUANTITY_LABELS:
        value = image.labels.get(key)
        # A minimum is not negative, though a quantity may be.
        if value is not None and (not KUBERNETES_QUANTITY.fullmatch(value.strip()) or value.strip()[:1] == "-"):
            findings.append(finding("OS203", subject, f"label {key}={value!r} is not a Kubernetes quantity",
                                    "such as 512Mi or 1Gi (memory), 500m or 2 (cpu)"))
    present = [key for key in (*OPENSHIFT_LABELS, *QUANTITY_LABELS) if key in image.labels]
    return Outcome("OS203", f"{len(present)} of the OpenShift labels set", tuple(findings))


def layers_check(image: ImageRecord, subject: str) -> Outcome:
    """OS204: preflight's LayerCountAcceptable."""
    count = len(image.layers)
    detail = f"{count} layers"
    if count <= MAX_LAYERS:
        return Outcome("OS204", detail)
    return Outcome("OS204", detail, (finding(
        "OS204", subject, f"{count} layers, more than {MAX_LAYERS}",
        "merge RUN steps with && (and COPY what belongs together in one step)"),))


def workdir_check(image: ImageRecord, subject: str) -> Outcome:
    """OS205: an empty working directory is the root, which is absolute."""
    workdir = image.working_dir
    if not workdir or workdir.startswith("/"):
        return Outcome("OS205", f"WORKDIR {workdir or '/ (not set)'}")
    return Outcome("OS205", f"WORKDIR {workdir}", (finding(
        "OS205", subject, f"WORKDIR {workdir} is relative", f"WORKDIR /{workdir.lstrip('./')}"),))


def command_check(image: ImageRecord, subject: str) -> Outcome:
    """OS206: something to run."""
    if image.entrypoint or image.cmd:
        words = [*image.entrypoint, *image.cmd]
        return Outcome("OS206", "runs " + " ".join(words)[:100])
    return Outcome("OS206", "no command", (finding(
        "OS206", subject, "the image has neither CMD nor ENTRYPOINT", 'CMD ["/path/to/server"]'),))


CONFIG_CHECKS: dict[str, Callable[[ImageRecord, str], Outcome]] = {
    "OS201": user_check,
    "OS202": ports_check,
    "OS203": labels_check,
    "OS204": layers_check,
    "OS205": workdir_check,
    "OS206": command_check,
}
