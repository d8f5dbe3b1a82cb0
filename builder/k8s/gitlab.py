"""`gitlab-ci`: a GitLab CI job that builds the profile, with Kaniko (pushing, or with --tar a tarball kept as
the job's artifact) or with imgctl itself on rootless podman.

Credentials come from a CI/CD variable of type File, never from the rendered YAML: IMGCTL_DOCKER_CONFIG holds
a `.dockerconfigjson` (what `imgctl render pull-secret` puts in its Secret), IMGCTL_AUTH_FILE an auth.json
for podman. Every value in a script line is shell-quoted, so a label with spaces or a `$` stays as written.
"""

from __future__ import annotations

import shlex
from dataclasses import replace
from typing import Any

from builder.k8s.document import Request, Source
from builder.k8s.kaniko import KANIKO_DEBUG_IMAGE, executor_args
from builder.oci import labels as oci

# Podman's own image, run as its unprivileged `podman` user: rootless podman inside the job container.
PODMAN_IMAGE = "quay.io/podman/stable:v5.2.2"
PROJECT_DIR = "${CI_PROJECT_DIR}"


def _path(relative: str) -> str:
    return PROJECT_DIR if relative == "." else f"{PROJECT_DIR}/{relative}"


def _quote(arg: str) -> str:
    """Shell-quote one executor flag, leaving ${CI_PROJECT_DIR} for the shell to expand."""
    flag, equals, value = arg.partition("=")
    if equals and value.startswith(PROJECT_DIR):
        rest = value[len(PROJECT_DIR):]
        return f'{flag}="{PROJECT_DIR}"' + (shlex.quote(rest) if rest else "")
    return shlex.quote(arg)


def _kaniko(request: Request) -> dict[str, Any]:
    tar_name = f"{request.name}.tar"
    # The job builds the pipeline's commit, not the one checked out when this was rendered: revision and source
    # come from GitLab's variables, expanded by the job's shell (unless the profile sets them itself).
    args = executor_args(
        replace(request, source=Source()),
        kind="gitlab-ci",
        context=_path(request.context),
        tar_path=tar_name if request.tarball else None,
        dockerfile=_path(request.containerfile),
    )
    words = [_quote(arg) for arg in args]
    for key, variable in ((oci.REVISION, "CI_COMMIT_SHA"), (oci.SOURCE, "CI_PROJECT_URL")):
        if key not in request.profile.labels:
            words.append(f'--label={key}="${{{variable}}}"')
    script = [
        "mkdir -p /kaniko/.docker",
        # A File variable holds the path of a file with the value; without it the push has no credentials.
        'if [ -n "${IMGCTL_DOCKER_CONFIG:-}" ]; then cp "${IMGCTL_DOCKER_CONFIG}" /kaniko/.docker/config.json; fi',
        " ".join(["/kaniko/executor", *words]),
    ]
    job: dict[str, Any] = {
        "stage": "build",
        # The debug image has the busybox shell a job script needs; its entrypoint is the executor, so unset it.
        "image": {"name": request.builder_image or KANIKO_DEBUG_IMAGE, "entrypoint": [""]},
        "script": script,
    }
    if request.tarball:
        job["artifacts"] = {"paths": [tar_name], "expire_in": "1 week"}
    return job


def _imgctl(request: Request) -> dict[str, Any]:
    profile = request.profile
    command = ["imgctl", "build", profile.name]
    if not request.tarball:
        request.require_destinations("gitlab-ci")
        command.append("--push")
    script = [" ".join(shlex.quote(word) for word in command)]
    if request.tarball:
        tar_name = f"{request.name}.tar"
        script.append(" ".join(shlex.quote(w) for w in ("imgctl", "save", profile.name, "-o", tar_name)))
    return {
        "stage": "build",
        "image": {"name": PODMAN_IMAGE, "docker": {"user": "podman"}},
        "variables": {"STORAGE_DRIVER": "vfs", "BUILDAH_ISOLATION": "chroot"},
        "before_script": [
            'if [ -n "${IMGCTL_AUTH_FILE:-}" ]; then export REGISTRY_AUTH_FILE="${IMGCTL_AUTH_FILE}"; fi',
            'python3 -m venv "${HOME}/imgctl" && "${HOME}/imgctl/bin/pip" install --quiet .',
            'export PATH="${HOME}/imgctl/bin:${PATH}"',
        ],
        "script": script,
        **({"artifacts": {"paths": [f"{request.name}.tar"], "expire_in": "1 week"}} if request.tarball else {}),
    }


def ci_job(request: Request) -> tuple[list[dict[str, Any]], list[str]]:
    if request.engine == "imgctl":
        job = _imgctl(request)
    else:
        job = _kaniko(request)
    notes = []
    if request.engine != "imgctl" and request.profile.secrets:
        notes.append("build secrets (secrets = ...) are not passed: Kaniko has no build secrets; "
                     "use --engine imgctl")
    return [{"stages": ["build"], f"build-{request.name}": job}], notes
