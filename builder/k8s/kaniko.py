"""`kaniko-job`: a Kubernetes Job that builds the profile with the Kaniko executor, pushing to every destination
(or, with --tar, writing a tarball and pushing nothing).

Kaniko is archived upstream (GoogleContainerTools/kaniko, June 2025). Its last release's image is still the
one every cluster can pull without a subscription; Chainguard's maintained fork publishes source releases but
no free public image. So the default is the last upstream release, pinned, and `--kaniko-image` takes a build
of the fork (docs/render.md).
"""

from __future__ import annotations

import re
from typing import Any

from builder.k8s.document import Request

KANIKO_IMAGE = "gcr.io/kaniko-project/executor:v1.23.2"
# The debug variant carries a busybox shell: what a CI job whose script runs the executor needs.
KANIKO_DEBUG_IMAGE = "gcr.io/kaniko-project/executor:v1.23.2-debug"
DOCKER_CONFIG_DIR = "/kaniko/.docker"  # where the executor reads config.json
OUTPUT_DIR = "/output"
WORKSPACE_DIR = "/workspace"

_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?([^:/]+):(.+)$")  # git@host:group/repo.git


def kaniko_context(git_url: str) -> str | None:
    """Kaniko's git context (`git://HOST/PATH`, cloned over HTTPS) for an origin URL; None for a local path."""
    for scheme in ("https://", "http://", "ssh://", "git://"):
        if git_url.startswith(scheme):
            rest = git_url[len(scheme):]
            rest = rest.split("@", 1)[1] if "@" in rest.split("/", 1)[0] else rest
            host, _, path = rest.partition("/")
            return f"git://{host.split(':', 1)[0] if scheme == 'ssh://' else host}/{path}"
    scp = _SCP_LIKE.match(git_url)
    if scp and not git_url.startswith("/"):
        return f"git://{scp.group(1)}/{scp.group(2)}"
    return None


def executor_args(request: Request, *, kind: str, context: str, tar_path: str | None,
                  dockerfile: str | None = None) -> list[str]:
    """The executor's flags for this profile; shared with the GitLab CI job, which runs the same executor."""
    profile = request.profile
    request.require_containerfile(kind)
    args = [f"--context={context}", f"--dockerfile={dockerfile or request.containerfile_in_context}"]
    if tar_path is None:
        args += [f"--destination={ref}" for ref in request.require_destinations(kind)]
        if not profile.no_cache:
            # Layers cached in <destination>/cache: a registry is there to hold them only when pushing.
            args.append("--cache=true")
    else:
        # The executor names the image in the tarball after --destination, and pushes nothing with --no-push.
        args += [f"--destination={ref}" for ref in profile.refs]
        args += ["--no-push", f"--tar-path={tar_path}"]
    args += [f"--build-arg={key}={value}" for key, value in profile.build_args.items()]
    args += [f"--label={key}={value}" for key, value in request.labels.items()]
    if profile.target:
        args.append(f"--target={profile.target}")
    if profile.platform:
        args.append(f"--custom-platform={profile.platform[0]}")
    if tar_path is None:
        for host in dict.fromkeys(repository.split("/", 1)[0] for repository in profile.push):
            settings = profile.registry(host)
            if settings.insecure:
                args.append(f"--insecure-registry={host}")  # plain HTTP, as registries.conf's insecure allows
            if not settings.verify:
                args.append(f"--skip-tls-verify-registry={host}")
    return args


def job(request: Request) -> tuple[list[dict[str, Any]], list[str]]:
    name = f"{request.name}-kaniko"[:63].rstrip("-")
    mounts: list[dict[str, Any]] = [{"name": "registry-auth", "mountPath": DOCKER_CONFIG_DIR, "readOnly": True}]
    volumes: list[dict[str, Any]] = [{"name": "registry-auth", "secret": request.secret_volume()}]
    git = kaniko_context(request.source.git_url) if request.source.git_url else None
    if git is not None:
        # git://HOST/PATH#REF#COMMIT: an empty REF clones every branch (Kaniko's default is not single-branch),
        # then the commit is checked out, so the cluster builds exactly the commit rendered here.
        context = git + (f"##{request.source.commit}" if request.source.commit else "")
        context_args = [] if request.context == "." else [f"--context-sub-path={request.context}"]
    else:
        # No git origin: the project is expected on a volume (claim <name>-source), e.g. copied there beforehand.
        context = f"dir://{WORKSPACE_DIR}" + ("" if request.context == "." else f"/{request.context}")
        context_args = []
        mounts.append({"name": "source", "mountPath": WORKSPACE_DIR, "readOnly": True})
        volumes.append({"name": "source", "persistentVolumeClaim": {"claimName": f"{request.name}-source"}})
    tar_path = f"{OUTPUT_DIR}/{request.name}.tar" if request.tarball else None
    if tar_path is not None:
        mounts.append({"name": "output", "mountPath": OUTPUT_DIR})
        volumes.append({"name": "output", "persistentVolumeClaim": {"claimName": f"{request.name}-output"}})
    args = executor_args(request, kind="kaniko-job", context=context, tar_path=tar_path)
    args[1:1] = context_args
    container = {
        "name": "kaniko",
        "image": request.builder_image or KANIKO_IMAGE,
        "args": args,
        "volumeMounts": mounts,
    }
    metadata = request.metadata(name)
    notes = []
    if request.profile.secrets:
        notes.append("build secrets (secrets = ...) are not passed: Kaniko has no build secrets")
    document = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            # A failed build is a result to read, not something to retry: the next run would fail the same way.
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": dict(metadata["labels"])},
                "spec": {"restartPolicy": "Never", "containers": [container], "volumes": volumes},
            },
        },
    }
    return [document], notes
