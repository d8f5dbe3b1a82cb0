"""Where the S2I scripts come from: the source's `.s2i/bin/`, else the builder image's scripts-url label.

Pure: the builder's labels and the names the source provides in, a location inside the image out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SCRIPTS_URL_LABEL = "io.openshift.s2i.scripts-url"
DEPRECATED_SCRIPTS_URL_LABEL = "io.s2i.scripts-url"  # still read by s2i when the new one is missing
DESTINATION_LABEL = "io.openshift.s2i.destination"
DEFAULT_DESTINATION = "/tmp"  # s2i's: where scripts/, src/ and artifacts/ land in the image

ASSEMBLE = "assemble"
RUN = "run"
SAVE_ARTIFACTS = "save-artifacts"
SCRIPTS = (ASSEMBLE, RUN, SAVE_ARTIFACTS)

_IMAGE_SCHEME = "image://"


class Unusable(Exception):
    """The builder image (with this source) cannot make an S2I build; `hint` says what would."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class BuilderFacts:
    """What the generated Containerfile needs to know of the builder image."""

    ref: str  # as the profile names it: the FROM of the generated Containerfile
    scripts_url: str | None  # the label as written; None: the builder has none
    destination: str = DEFAULT_DESTINATION

    @classmethod
    def from_labels(cls, ref: str, labels: Mapping[str, str]) -> BuilderFacts:
        url = labels.get(SCRIPTS_URL_LABEL) or labels.get(DEPRECATED_SCRIPTS_URL_LABEL) or None
        destination = labels.get(DESTINATION_LABEL) or DEFAULT_DESTINATION
        if not destination.startswith("/"):
            raise Unusable(f"the builder image {ref} has {DESTINATION_LABEL}={destination!r}, not an absolute path",
                           "fix the builder image's label, or use another builder")
        return cls(ref=ref, scripts_url=url, destination=destination.rstrip("/") or "/")

    @property
    def scripts_dir(self) -> str | None:
        """The directory inside the builder holding its scripts (an image:// URL), or None."""
        if self.scripts_url and self.scripts_url.startswith(_IMAGE_SCHEME):
            path = self.scripts_url[len(_IMAGE_SCHEME):].rstrip("/")
            return path if path.startswith("/") else None
        return None

    def in_destination(self, name: str) -> str:
        return f"{self.destination.rstrip('/')}/{name}"


def script_path(name: str, builder: BuilderFacts, provided: frozenset[str]) -> str:
    """Where script `name` is inside the image being built: copied from `.s2i/bin/` when the source provides
    it (s2i puts it in <destination>/scripts), else in the builder's image:// directory. Raises Unusable."""
    if name in provided:
        return builder.in_destination(f"scripts/{name}")
    if builder.scripts_dir is not None:
        return f"{builder.scripts_dir}/{name}"
    raise _missing(name, builder)


def has_script(name: str, builder: BuilderFacts, provided: frozenset[str]) -> bool:
    try:
        script_path(name, builder, provided)
    except Unusable:
        return False
    return True


def _missing(name: str, builder: BuilderFacts) -> Unusable:
    url = builder.scripts_url
    in_source = f"put an executable {name} script in the source's .s2i/bin/"
    if url is None:
        return Unusable(
            f"no {name} script: the source has no .s2i/bin/{name} and the builder image {builder.ref} has no "
            f"{SCRIPTS_URL_LABEL} label",
            f"{in_source}, or use a builder image with the label (e.g. {SCRIPTS_URL_LABEL}=image:///usr/libexec/s2i)",
        )
    if url.startswith(_IMAGE_SCHEME):
        return Unusable(f"the builder image {builder.ref} has {SCRIPTS_URL_LABEL}={url!r}: image:// needs an "
                        "absolute path", f"{in_source}, or fix the builder's label (image:///usr/libexec/s2i)")
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme in ("http", "https"):
        return Unusable(
            f"the builder image {builder.ref} points its scripts at {url}: imgctl does not download S2I scripts "
            "(what a URL serves is not pinned, so it could not count towards skipping an unchanged build)",
            f"{in_source}, or use a builder whose scripts are inside it (image://)",
        )
    if scheme == "file":
        return Unusable(
            f"the builder image {builder.ref} points its scripts at {url}: a file:// URL names the machine s2i "
            "runs on, not the image",
            f"{in_source}, or use a builder whose scripts are inside it (image://)",
        )
    return Unusable(f"the builder image {builder.ref} has {SCRIPTS_URL_LABEL}={url!r}, which is not a URL s2i reads",
                    f"{in_source}, or use a builder whose label is image:///PATH")
