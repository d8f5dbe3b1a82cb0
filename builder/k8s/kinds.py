"""The kinds `imgctl render` knows, and rendering one: the request in, YAML text and notes out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.errors import ConfigError
from builder.k8s.document import Request, dump

Documents = tuple[list[dict[str, Any]], list[str]]


@dataclass(frozen=True)
class Kind:
    name: str
    summary: str
    secret: bool = False  # holds credentials: written 0600, printed only on request


KINDS = (
    Kind("kaniko-job", "Kubernetes Job running the Kaniko executor (--tar: no push, a tarball)"),
    Kind("tekton", "Tekton TaskRun of OpenShift Pipelines' buildah task"),
    Kind("buildconfig", "OpenShift BuildConfig (Docker or S2I strategy) and its ImageStream"),
    Kind("imagestream", "OpenShift ImageStream importing the pushed tags, re-imported on a schedule"),
    Kind("pull-secret", "kubernetes.io/dockerconfigjson Secret with the profile's registry credentials", secret=True),
    Kind("gitlab-ci", "GitLab CI job building with Kaniko (--tar: artifact) or imgctl on rootless podman"),
)
BY_NAME = {kind.name: kind for kind in KINDS}


@dataclass(frozen=True)
class Rendered:
    kind: Kind
    text: str = field(repr=False)  # may hold credentials (pull-secret)
    notes: tuple[str, ...] = ()  # what the document cannot carry, for the user to know


def kind_named(name: str) -> Kind:
    kind = BY_NAME.get(name)
    if kind is None:
        raise ConfigError(
            f"unknown kind {name!r}",
            key="KIND",
            hint="one of: " + ", ".join(kind.name for kind in KINDS),
        )
    return kind


def render(kind: Kind, request: Request, *, env: Mapping[str, str] | None = None,
           authfile: Path | None = None) -> Rendered:
    """Render one kind. Only pull-secret reads anything (the auth files and credential helpers, via `env`)."""
    from builder.k8s import buildconfig, gitlab, imagestream, kaniko, tekton

    builders: dict[str, Callable[[Request], Documents]] = {
        "kaniko-job": kaniko.job,
        "tekton": tekton.task_run,
        "buildconfig": buildconfig.build_config,
        "imagestream": imagestream.image_stream,
        "gitlab-ci": gitlab.ci_job,
    }
    if kind.name == "pull-secret":
        from builder.k8s import pullsecret

        entries, warnings = pullsecret.resolve(request, {} if env is None else env, authfile)
        documents, notes = pullsecret.secret(request, entries)
        notes = [*warnings, *notes]
    else:
        documents, notes = builders[kind.name](request)
    return Rendered(kind, dump(documents), tuple(notes))
