"""The Containerfile `imgctl init` writes: a recipe (builder.scaffold.recipes) put into the one shape every
runtime shares (docs/init.md, "The Containerfile").

Two stages. The build stage starts from the UBI language image with its compilers and package managers,
runs as that image's build user and leaves the application in known paths. The runtime stage starts from
the smallest UBI image that runs it, copies only those paths, gives the application directory to group 0
with group = owner permissions, and runs as the numeric USER 1001: OpenShift starts the container as a
random UID in group 0, which can then use it. Both base images are build arguments, so an offline machine
or a test can swap in a local stand-in.
"""

from __future__ import annotations

import json

from builder.scaffold.recipes import PORT, USER, Recipe

STAGE = "runtime"  # the profile's target


def containerfile(recipe: Recipe, name: str) -> str:
    lines = [
        f"# {name}: a {recipe.display} application, built into a UBI image that follows the OpenShift image",
        "# guidelines. Written by `imgctl init` (see docs/init.md); edit it freely, imgctl reads it as it is.",
        "#",
        "# The base images are build arguments so that an offline machine can swap in a local stand-in:",
        f"#   imgctl build {name} --build-arg BUILDER_IMAGE=... --build-arg RUNTIME_IMAGE=...",
        f"ARG BUILDER_IMAGE={recipe.builder_image}",
        f"ARG RUNTIME_IMAGE={recipe.runtime_image}",
        "",
        "FROM ${BUILDER_IMAGE} AS build",
        *(f"ARG {key}={value}" for key, value in recipe.build_args),
        "# The builder image's own user, stated so that a stand-in base builds the same way: WORKDIR is created",
        "# for it and the sources are its own, so the build tools can write next to them.",
        f"USER {recipe.builder_user}",
        "WORKDIR /opt/app-root/src",
        *(_owned(step, recipe.builder_user) for step in recipe.build),
        "",
        f"FROM ${{RUNTIME_IMAGE}} AS {STAGE}",
        _labels(recipe, name),
        *_env(recipe),
        "# Root only to copy and to set permissions; the container runs as the USER below.",
        "USER 0",
        f"WORKDIR {recipe.app_dir}",
        *(f"COPY --from=build --chown={USER}:0 {source} {target}" for source, target in recipe.copies),
        "# OpenShift runs the container as a random UID in group 0: what the application writes must belong to",
        "# group 0 and be group-writable (never world-writable).",
        _permissions(recipe),
        f"USER {USER}",
        f"EXPOSE {PORT}",
    ]
    if recipe.stop_signal:
        lines.append(f"STOPSIGNAL {recipe.stop_signal}")
    lines.append(f"CMD {json.dumps(list(recipe.cmd))}")
    return "\n".join(lines) + "\n"


def _owned(step: str, user: int) -> str:
    return step.replace("COPY ", f"COPY --chown={user}:0 ", 1) if step.startswith("COPY ") else step


def _labels(recipe: Recipe, name: str) -> str:
    description = f"{name}, a {recipe.display} application"
    pairs = (
        ("name", name),
        ("summary", description),
        ("description", description),
        ("io.k8s.display-name", name),
        ("io.k8s.description", description),
        ("io.openshift.tags", f"{recipe.runtime},{name}"),
    )
    return "LABEL " + " \\\n      ".join(f"{key}={json.dumps(value)}" for key, value in pairs)


def _env(recipe: Recipe) -> list[str]:
    if not recipe.env:
        return []
    return ["ENV " + " \\\n    ".join(f'{key}="{value}"' for key, value in recipe.env)]


def _permissions(recipe: Recipe) -> str:
    steps = [*recipe.prepare, f"chgrp -R 0 {recipe.app_dir}", f"chmod -R g=u {recipe.app_dir}"]
    return "RUN " + " \\\n && ".join(steps)
