"""OS101: the final image is built on a Red Hat Universal Base Image, or says which one to use instead.

OpenShift runs any image, but Red Hat supports (and certifies, preflight's BasedOnUbi) only images built on
UBI. The suggestion maps the common community bases to their UBI counterparts: the language runtime images
(`ubi9/nodejs-20-minimal`, `ubi9/python-311`, ...) or one of the four base variants.
"""

from __future__ import annotations

import re

from builder.findings.model import Finding
from builder.lint.rules.model import Rule
from builder.lint.rules.view import FinalImage
from builder.lint.subject import Subject
from builder.oci.refs import registry_of

NOT_UBI = Rule(
    "OS101", "warning", "The final image is not built on a Red Hat Universal Base Image (UBI)",
    "Build the final stage FROM registry.access.redhat.com/ubi9/<image>: ubi, ubi-minimal, ubi-micro, ubi-init, "
    "or a runtime image such as ubi9/nodejs-20-minimal or ubi9/python-311.",
    source="Red Hat certification (preflight BasedOnUbi); OpenShift 'Reuse images'",
)
RULES = (NOT_UBI,)

UBI_REGISTRIES = ("registry.access.redhat.com", "registry.redhat.io")
UBI = "registry.access.redhat.com/ubi9"
_UBI_REPOSITORY = re.compile(r"ubi[0-9]+(?:-[a-z]+)?(?:/.+)?")
_VERSION = re.compile(r"[0-9]+(?:\.[0-9]+)?")

# community image -> (UBI runtime image pattern, versions UBI 9 ships, the default version)
_RUNTIMES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "node": ("nodejs-{}-minimal", ("18", "20", "22"), "20"),
    "python": ("python-{}", ("39", "311", "312"), "312"),
    "openjdk": ("openjdk-{}-runtime", ("11", "17", "21"), "21"),
    "eclipse-temurin": ("openjdk-{}-runtime", ("11", "17", "21"), "21"),
    "amazoncorretto": ("openjdk-{}-runtime", ("11", "17", "21"), "21"),
    "maven": ("openjdk-{}", ("11", "17", "21"), "21"),
    "php": ("php-{}", ("80", "81", "82"), "82"),
    "ruby": ("ruby-{}", ("30", "31", "33"), "33"),
    "perl": ("perl-{}", ("532", "536"), "536"),
    "nginx": ("nginx-{}", ("120", "122", "124"), "124"),
    "httpd": ("httpd-{}", ("24",), "24"),
    "aspnet": ("dotnet-{}-runtime", ("60", "80", "90"), "80"),
    "runtime": ("dotnet-{}-runtime", ("60", "80", "90"), "80"),
    "sdk": ("dotnet-{}", ("60", "80", "90"), "80"),
}
_GO = ("golang", "go")
_MINIMAL = ("alpine", "debian", "ubuntu", "buildpack-deps", "amazonlinux", "opensuse", "leap", "photon")
_FULL = ("centos", "fedora", "rockylinux", "almalinux", "oraclelinux", "rhel", "stream9", "stream8")
_MICRO = ("busybox", "distroless", "static", "static-debian12", "base", "cc", "wolfi-base", "chainguard")


def check(subject: Subject, image: FinalImage | None) -> list[Finding]:
    if image is None or image.base is None or image.base == "scratch" or is_ubi(image.base):
        return []
    return [NOT_UBI.finding(subject, image.base_line,
                            f"base image {image.base} is not a Red Hat UBI image",
                            f"Use FROM {suggest(image.base)} (or another image from {UBI}/).")]


def _split(reference: str) -> tuple[str | None, str, str]:
    """(registry or None, repository path, tag or '') without validating: FROM may name anything."""
    name = reference.partition("@")[0]
    tag = ""
    if name.rfind(":") > name.rfind("/"):
        name, _, tag = name.rpartition(":")
    registry = registry_of(name)
    if registry == "localhost" and not name.startswith("localhost/"):
        return None, name, tag
    return registry, name.partition("/")[2], tag


def is_ubi(reference: str) -> bool:
    """A UBI image from Red Hat's registries, or a short name (`ubi9/ubi-minimal`) podman resolves to one."""
    registry, path, _ = _split(reference.lower())
    return (registry is None or registry in UBI_REGISTRIES) and _UBI_REPOSITORY.fullmatch(path) is not None


def suggest(reference: str) -> str:
    """The UBI 9 image closest to a community base image."""
    _, path, tag = _split(reference.lower())
    name = path.rsplit("/", 1)[-1]
    if name in _RUNTIMES:
        pattern, versions, default = _RUNTIMES[name]
        return f"{UBI}/{pattern.format(_pick(tag, versions, default))}"
    if name in _GO:
        return f"{UBI}/ubi-micro (build in a {UBI}/go-toolset stage, copy the static binary)"
    if name in _MICRO or "distroless" in path:
        return f"{UBI}/ubi-micro"
    if name in _FULL:
        return f"{UBI}/ubi"
    if name in _MINIMAL:
        return f"{UBI}/ubi-minimal"
    return f"{UBI}/ubi-minimal"


def _pick(tag: str, versions: tuple[str, ...], default: str) -> str:
    found = _VERSION.match(tag.lstrip("v"))
    if found is None:
        return default
    major, _, minor = found.group(0).partition(".")
    for candidate in (major + minor, major, major + "0"):
        if candidate in versions:
            return candidate
    return default
