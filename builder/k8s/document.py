"""What every rendered document shares: the request, the names, the paths a cluster sees, and the YAML.

Rendering is pure: a `Request` (the resolved profile plus what the command line and git said) goes in, plain
dicts come out, and `dump` turns them into YAML. The same request always gives the same bytes: mappings keep
the order the code (or the profile) gave them, nothing reads the clock, and nothing depends on this machine's
absolute paths, because a cluster sees a git checkout or an uploaded directory, not this machine.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder.config.profile import Profile
from builder.errors import ConfigError
from builder.oci import labels as oci

# Kubernetes object names (DNS-1123 subdomain) may be 253 characters, but a Job's name becomes a pod label
# value (at most 63), and OpenShift derives build pod names from a BuildConfig's; 63 fits every kind here.
NAME_MAX = 63
_NOT_DNS = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class Source:
    """Where the cluster gets the source: the origin remote (never with credentials) at one commit, or nothing,
    in which case the documents expect the directory to be uploaded or mounted."""

    git_url: str | None = None
    commit: str | None = None


@dataclass(frozen=True)
class Request:
    profile: Profile
    source: Source = Source()
    namespace: str | None = None
    tarball: bool = False  # kaniko-job, gitlab-ci: --no-push --tar-path instead of pushing
    builder_image: str | None = None  # kaniko-job, gitlab-ci: another Kaniko executor image
    engine: str = "kaniko"  # gitlab-ci: "kaniko" or "imgctl" (rootless podman)
    binary: bool = False  # buildconfig: binary source (`oc start-build --from-dir`) even with a git origin

    @property
    def name(self) -> str:
        return dns_name(self.profile.name)

    @property
    def secret_name(self) -> str:
        """The registry Secret every document mounts; `imgctl render pull-secret` writes it."""
        return dns_name(f"{self.profile.name}-registry")

    def secret_volume(self) -> dict[str, Any]:
        """The registry Secret as a volume holding `config.json`, where Kaniko and buildah read credentials."""
        return {"secretName": self.secret_name, "items": [{"key": ".dockerconfigjson", "path": "config.json"}]}

    def metadata(self, name: str | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name or self.name}
        if self.namespace:
            meta["namespace"] = self.namespace
        meta["labels"] = {"app.kubernetes.io/name": self.name, "app.kubernetes.io/managed-by": "imgctl"}
        return meta

    @property
    def context(self) -> str:
        """The context directory relative to the project root ("." for the root itself)."""
        return relative(self.profile.root, self.profile.context, "context")

    @property
    def containerfile(self) -> str:
        """The Containerfile relative to the project root."""
        return relative(self.profile.root, self.profile.containerfile, "containerfile")

    @property
    def containerfile_in_context(self) -> str:
        """The Containerfile relative to the context directory, as Kaniko and buildah resolve it."""
        return Path(os.path.relpath(self.profile.containerfile, self.profile.context)).as_posix()

    @property
    def destinations(self) -> tuple[str, ...]:
        """Every image reference a push writes: each push repository with each tag, in profile order."""
        return tuple(f"{repository}:{tag}" for repository in self.profile.push for tag in self.profile.tags)

    def require_destinations(self, kind: str) -> tuple[str, ...]:
        if not self.profile.push:
            raise ConfigError(
                f"{kind} pushes the image, and profile {self.profile.name} has no push destinations",
                file=self.profile.file,
                key="push",
                hint='add push = ["quay.io/team/api"] to the profile' + (
                    ", or render the tarball variant with --tar" if kind in ("kaniko-job", "gitlab-ci") else ""),
            )
        return self.destinations

    @property
    def labels(self) -> dict[str, str]:
        """The labels a cluster build sets: the OCI labels imgctl adds to every image, less the build time
        (a rendered document is reused for many builds), then the profile's own, which win."""
        profile = self.profile
        found = {oci.TITLE: profile.image.rsplit("/", 1)[-1]}
        if self.source.commit:
            found[oci.REVISION] = self.source.commit
        if self.source.git_url:
            found[oci.SOURCE] = self.source.git_url
        if profile.version:
            found[oci.VERSION] = profile.version
        if profile.description:
            found[oci.DESCRIPTION] = profile.description
        found.update(profile.labels)
        return found


def dns_name(text: str) -> str:
    """A DNS-1123 label from a profile name: lowercase, runs of other characters as one '-'.

    A name cut to NAME_MAX gets a short hash of the whole name, so two long profile names sharing a prefix
    still give two objects.
    """
    name = _NOT_DNS.sub("-", text.lower()).strip("-") or "image"
    if len(name) > NAME_MAX:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        name = f"{name[: NAME_MAX - 9].rstrip('-')}-{digest}"
    return name


def relative(root: Path, path: Path, key: str) -> str:
    """`path` relative to the project root, with '/': what a checkout of the project has at that place."""
    try:
        inside = path.relative_to(root)
    except ValueError:
        raise ConfigError(
            f"{key} {path} is outside the project root {root}",
            key=key,
            hint="a cluster sees the project's checkout only; keep the context and Containerfile inside it",
        ) from None
    return inside.as_posix() or "."


def dump(documents: Sequence[Mapping[str, Any]]) -> str:
    """YAML for humans: block style, keys in the order given, multi-line strings as literal blocks, no line
    folding; several documents separated by `---`. PyYAML quotes every string a YAML 1.1 reader (Kubernetes'
    sigs.k8s.io/yaml, GitLab's Psych) would take for something else ("yes", "1.0", "null")."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def string(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    Dumper.add_representer(str, string)
    return yaml.dump_all(
        [dict(document) for document in documents],
        Dumper=Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=4096,
        explicit_start=len(documents) > 1,
    )
