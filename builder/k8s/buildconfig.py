"""`buildconfig`: an OpenShift BuildConfig (Docker strategy, or Source strategy for `strategy = "s2i"`), from a
git source or a binary upload, and the ImageStream it outputs to.

The build goes to the ImageStream's first tag; the profile's other tags are ImageStream tags that follow it.
OpenShift's Docker strategy has no `--target`: a profile with a target is refused rather than built to a
different (the last) stage.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from builder.errors import ConfigError
from builder.k8s.document import Request, Source

API_VERSION = "build.openshift.io/v1"
IMAGE_API_VERSION = "image.openshift.io/v1"


def _source(request: Request) -> dict[str, Any]:
    git = request.source
    if git.git_url and not request.binary:
        source: dict[str, Any] = {"type": "Git", "git": {"uri": git.git_url}}
        if git.commit:
            source["git"]["ref"] = git.commit
    else:
        # `oc start-build NAME --from-dir=.` uploads the project directory; contextDir is read inside it.
        source = {"type": "Binary", "binary": {}}
    if request.context != ".":
        source["contextDir"] = request.context
    return source


def _strategy(request: Request) -> dict[str, Any]:
    profile = request.profile
    env = [{"name": key, "value": value} for key, value in profile.build_args.items()]
    if profile.strategy == "s2i":
        if not profile.builder:
            raise ConfigError(
                'strategy = "s2i" needs the builder image', file=profile.file, key="builder",
                hint='builder = "registry.access.redhat.com/ubi9/python-311"',
            )
        source: dict[str, Any] = {"from": {"kind": "DockerImage", "name": profile.builder}}
        if env:
            source["env"] = env  # S2I has no build args: its assemble script reads the environment
        if profile.incremental:
            source["incremental"] = True
        if profile.pull == "always":
            source["forcePull"] = True
        return {"type": "Source", "sourceStrategy": source}
    if profile.target:
        raise ConfigError(
            "OpenShift's Docker build strategy cannot build a target stage; it would build the last stage instead",
            file=profile.file,
            key="target",
            hint="render kaniko-job or tekton for a target, or make the wanted stage the last one",
        )
    dockerfile = request.containerfile_in_context
    if dockerfile.startswith("../"):
        # OpenShift rejects a dockerfilePath that leaves contextDir.
        raise ConfigError(
            f"the Containerfile {request.containerfile} is outside the context {request.context}, which a "
            "BuildConfig cannot read",
            file=profile.file,
            key="containerfile",
            hint="move the Containerfile into the context, or render kaniko-job or tekton",
        )
    docker: dict[str, Any] = {"dockerfilePath": dockerfile}
    if env:
        docker["buildArgs"] = env
    if profile.no_cache:
        docker["noCache"] = True
    if profile.pull == "always":
        docker["forcePull"] = True
    return {"type": "Docker", "dockerStrategy": docker}


def image_stream(request: Request) -> dict[str, Any]:
    """The ImageStream the BuildConfig outputs to: the first tag is built, the others follow it."""
    tags = request.profile.tags
    stream_tags = [
        {
            "name": tag,
            "from": {"kind": "ImageStreamTag", "name": f"{request.name}:{tags[0]}"},
            "referencePolicy": {"type": "Local"},
        }
        for tag in tags[1:]
    ]
    spec: dict[str, Any] = {"lookupPolicy": {"local": True}}
    if stream_tags:
        spec["tags"] = stream_tags
    return {"apiVersion": IMAGE_API_VERSION, "kind": "ImageStream", "metadata": request.metadata(), "spec": spec}


def build_config(request: Request) -> tuple[list[dict[str, Any]], list[str]]:
    profile = request.profile
    source = _source(request)
    # An upload builds whatever directory `oc start-build` is given: the rendered commit would be a false label.
    labelled = request if source["type"] == "Git" else replace(request, source=Source())
    spec: dict[str, Any] = {
        "runPolicy": "Serial",
        "source": source,
        "strategy": _strategy(request),
        "output": {
            "to": {"kind": "ImageStreamTag", "name": f"{request.name}:{profile.tags[0]}"},
            "imageLabels": [{"name": key, "value": value} for key, value in labelled.labels.items()],
        },
    }
    if profile.platform:
        # A BuildConfig has no platform: the build runs on a node of that architecture instead.
        os_name, _, rest = profile.platform[0].partition("/")
        spec["nodeSelector"] = {"kubernetes.io/os": os_name, "kubernetes.io/arch": rest.split("/", 1)[0]}
    notes = []
    if profile.secrets:
        notes.append("build secrets (secrets = ...) are not rendered: create Secrets and list them in "
                     "spec.source.secrets yourself")
    document = {"apiVersion": API_VERSION, "kind": "BuildConfig", "metadata": request.metadata(), "spec": spec}
    return [document, image_stream(request)], notes
