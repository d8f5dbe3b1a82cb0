"""`tekton`: a TaskRun of the `buildah` Task that OpenShift Pipelines installs, with the profile's inputs.

The Task is resolved by Tekton's cluster resolver from the `openshift-pipelines` namespace, where OpenShift
Pipelines 1.17+ keeps its tasks (ClusterTasks are gone); its parameters are those of the tektoncd catalog's
buildah task (IMAGE, DOCKERFILE, CONTEXT, TLSVERIFY, BUILD_ARGS, BUILD_EXTRA_ARGS, ...). The task's script
splits BUILD_EXTRA_ARGS on whitespace without any quoting, so a label or target that would not survive that
is refused here rather than built wrongly on the cluster.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from builder.errors import ConfigError
from builder.k8s.document import Request, Source

TASK_NAME = "buildah"
TASK_NAMESPACE = "openshift-pipelines"
# Unquoted in the task's shell script: whitespace splits a value, and glob characters may expand.
_UNSAFE = re.compile(r"[\s*?\[\]]")


def _extra_arg(flag: str, value: str, key: str, request: Request) -> str:
    if _UNSAFE.search(value) or _UNSAFE.search(flag):
        raise ConfigError(
            f"{flag}{value!r} cannot be passed to the buildah task: it splits BUILD_EXTRA_ARGS on whitespace and "
            "expands glob characters",
            file=request.profile.file,
            key=key,
            hint="use a value without spaces or *?[], or render kaniko-job or buildconfig instead",
        )
    return f"{flag}{value}"


def task_run(request: Request) -> tuple[list[dict[str, Any]], list[str]]:
    profile = request.profile
    request.require_containerfile("tekton")
    destinations = request.require_destinations("tekton")
    notes = []
    extra = []
    # The workspace holds whatever checkout was put there, not necessarily the commit rendered: no revision label.
    for key, value in replace(request, source=Source()).labels.items():
        if key not in profile.labels and _UNSAFE.search(value):
            # One of the OCI labels imgctl adds (a description with spaces): left out, not refused.
            notes.append(f"label {key} is left out: the buildah task cannot pass a value with spaces")
            continue
        extra.append(_extra_arg(f"--label={key}=", value, f"labels.{key}", request))
    if profile.target:
        extra.append(_extra_arg("--target=", profile.target, "target", request))
    if profile.platform:
        extra.append(_extra_arg("--platform=", profile.platform[0], "platform", request))
    if profile.no_cache:
        extra.append("--no-cache")
    host = destinations[0].split("/", 1)[0]
    params: list[dict[str, Any]] = [
        {"name": "IMAGE", "value": destinations[0]},
        # The task runs in the source workspace: both paths are relative to the project's checkout there.
        {"name": "DOCKERFILE", "value": f"./{request.containerfile}"},
        {"name": "CONTEXT", "value": request.context},
        {"name": "TLSVERIFY", "value": "true" if profile.registry(host).verify else "false"},
    ]
    if profile.build_args:
        params.append({"name": "BUILD_ARGS", "value": [f"{key}={value}" for key, value in profile.build_args.items()]})
    if extra:
        params.append({"name": "BUILD_EXTRA_ARGS", "value": " ".join(extra)})
    document = {
        "apiVersion": "tekton.dev/v1",
        "kind": "TaskRun",
        "metadata": request.metadata(f"{request.name}-buildah"[:63].rstrip("-")),
        "spec": {
            "taskRef": {
                "resolver": "cluster",
                "params": [
                    {"name": "kind", "value": "task"},
                    {"name": "name", "value": TASK_NAME},
                    {"name": "namespace", "value": TASK_NAMESPACE},
                ],
            },
            "params": params,
            "workspaces": [
                # The project's checkout, e.g. written there by the git-clone task of the same namespace.
                {"name": "source", "persistentVolumeClaim": {"claimName": f"{request.name}-source"}},
                {"name": "dockerconfig", "secret": request.secret_volume()},
            ],
        },
    }
    if len(destinations) > 1:
        notes.append(
            f"the buildah task pushes one reference, {destinations[0]}; not pushed by it: {', '.join(destinations[1:])}"
        )
    if profile.secrets:
        notes.append("build secrets (secrets = ...) are not passed: the buildah task has no parameter for them")
    return [document], notes
