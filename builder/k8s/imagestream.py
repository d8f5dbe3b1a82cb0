"""`imagestream`: an ImageStream whose tags import the image the profile pushes, re-imported on OpenShift's
schedule: what `oc import-image NAME --from=REPOSITORY --all --scheduled` sets up, written down for the tags
the profile pushes rather than every tag the repository happens to hold.
"""

from __future__ import annotations

from typing import Any

from builder.k8s.buildconfig import IMAGE_API_VERSION
from builder.k8s.document import Request


def image_stream(request: Request) -> tuple[list[dict[str, Any]], list[str]]:
    profile = request.profile
    request.require_destinations("imagestream")
    repository = profile.push[0]
    insecure = not profile.registry(repository.split("/", 1)[0]).verify
    tags = []
    for tag in profile.tags:
        policy: dict[str, Any] = {"scheduled": True}
        if insecure:
            policy["insecure"] = True
        tags.append({
            "name": tag,
            "from": {"kind": "DockerImage", "name": f"{repository}:{tag}"},
            "importPolicy": policy,
            # Source: pods pull from the registry the image came from, with the pull Secret, not via OpenShift's.
            "referencePolicy": {"type": "Source"},
        })
    document = {
        "apiVersion": IMAGE_API_VERSION,
        "kind": "ImageStream",
        "metadata": request.metadata(),
        "spec": {"lookupPolicy": {"local": True}, "tags": tags},
    }
    notes = []
    if len(profile.push) > 1:
        notes.append(f"the ImageStream imports from {repository}, the first of the profile's push repositories")
    return [document], notes
