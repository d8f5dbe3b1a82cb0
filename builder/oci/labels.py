"""Image label keys imgctl reads or writes, and the OCI labels it adds to every image.

The `org.opencontainers.image.*` keys are the OCI image spec's annotations used as labels
(opencontainers/image-spec annotations.md); `io.imgctl.*` are imgctl's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

CREATED = "org.opencontainers.image.created"
TITLE = "org.opencontainers.image.title"
REVISION = "org.opencontainers.image.revision"
SOURCE = "org.opencontainers.image.source"
VERSION = "org.opencontainers.image.version"
DESCRIPTION = "org.opencontainers.image.description"

# The input digest an image was built from (docs/skipping.md); the only imgctl label pushed with an image.
DIGEST_LABEL = "io.imgctl.inputs.digest"
# The per-file detail of the inputs, which imgctl put on images before it moved to the building machine's
# cache: still read from older images, never written.
COMPONENTS_LABEL = "io.imgctl.inputs.components"

# The labels OpenShift's console and generators read (openshift-docs images-create-metadata.adoc), checked by
# `imgctl lint` (OS115) in the Containerfile and by `imgctl verify` (OS203) on the built image.
OPENSHIFT_LABELS = ("io.k8s.description", "io.k8s.display-name", "io.openshift.tags")
# Labels whose values are Kubernetes resource quantities (apimachinery resource.Quantity): a signed decimal
# number with an optional binary, decimal or exponent suffix; ASCII digits only, as Kubernetes parses them.
QUANTITY_LABELS = ("io.openshift.min-memory", "io.openshift.min-cpu")
KUBERNETES_QUANTITY = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?")

# Labels that differ on every build of the same content; neither inputs nor compared on an up-to-date image.
TIME_VARYING_LABELS = frozenset({CREATED})


@dataclass(frozen=True)
class Provenance:
    """Facts about the source that go into OCI labels; gathered by the caller (git, clock)."""

    created: datetime
    revision: str | None = None
    source: str | None = None


def oci_labels(provenance: Provenance, *, image: str, version: str | None = None,
               description: str | None = None) -> dict[str, str]:
    """The `org.opencontainers.image.*` labels imgctl adds unless the profile sets them itself."""
    labels = {
        CREATED: provenance.created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        TITLE: image.rsplit("/", 1)[-1],
    }
    if provenance.revision:
        labels[REVISION] = provenance.revision
    if provenance.source:
        labels[SOURCE] = provenance.source
    if version:
        labels[VERSION] = version
    if description:
        labels[DESCRIPTION] = description
    return labels
