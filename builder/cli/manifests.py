"""`imgctl render KIND NAME`: the profile as a document a cluster engine or CI runs (builder/k8s)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from builder.cli.options import AUTHFILE_OPTION, SET_OPTION, global_options, project
from builder.errors import ConfigError

if TYPE_CHECKING:
    from builder.config.project import Project

# Which flags apply to which kinds: a flag a kind ignores is an error, not a surprise on the cluster.
_FLAG_KINDS = {
    "--tar": ("kaniko-job", "gitlab-ci"),
    "--kaniko-image": ("kaniko-job", "gitlab-ci"),
    "--engine": ("gitlab-ci",),
    "--binary": ("buildconfig",),
    "--authfile": ("pull-secret",),
}


def render_command(
    ctx: typer.Context,
    kind_name: str = typer.Argument(..., metavar="KIND",
                                    help="kaniko-job, tekton, buildconfig, imagestream, pull-secret or gitlab-ci."),
    name: str = typer.Argument(..., metavar="NAME", help="Profile name."),
    output: str | None = typer.Option(None, "--output", "-o", metavar="FILE",
                                      help="Write to FILE (atomically; a pull-secret with mode 0600); "
                                           "'-' prints to stdout."),
    sets: list[str] = SET_OPTION,
    namespace: str | None = typer.Option(None, "--namespace", "-n", metavar="NS",
                                          help="metadata.namespace of every object."),
    tar: bool = typer.Option(False, "--tar", help="Kaniko: --no-push --tar-path, a tarball instead of a push."),
    kaniko_image: str | None = typer.Option(None, "--kaniko-image", metavar="IMAGE",
                                            help="Another Kaniko executor image (e.g. a build of the "
                                                 "maintained fork); for gitlab-ci one with a shell."),
    engine: str = typer.Option("kaniko", "--engine", metavar="ENGINE",
                               help="gitlab-ci: kaniko, or imgctl on rootless podman."),
    binary: bool = typer.Option(False, "--binary",
                                help="buildconfig: a binary source (oc start-build --from-dir), even with git."),
    authfile: Path | None = AUTHFILE_OPTION,
) -> None:
    """Write the profile as a cluster build (Kaniko Job, Tekton TaskRun, OpenShift BuildConfig), an ImageStream,
    a registry pull Secret or a GitLab CI job. Paths are relative to the project root."""
    from builder.k8s.document import Request, Source
    from builder.k8s.kinds import kind_named, render
    from builder.render.manifests import print_manifest, print_notes, print_written

    kind = kind_named(kind_name)
    given = {"--tar": tar, "--kaniko-image": kaniko_image, "--engine": engine != "kaniko", "--binary": binary,
             "--authfile": authfile}
    for flag, kinds in _FLAG_KINDS.items():
        if given[flag] and kind.name not in kinds:
            raise ConfigError(f"{flag} does not apply to {kind.name}", key=flag,
                              hint=f"{flag} applies to {' and '.join(kinds)}")
    if engine not in ("kaniko", "imgctl"):
        raise ConfigError(f"expected kaniko or imgctl, got {engine!r}", key="--engine")
    if kind.secret and output is None:
        # Printing credentials to a terminal (and its scrollback, and a CI log) must be asked for.
        raise ConfigError(
            f"{kind.name} holds registry credentials; name where they go",
            key="--output",
            hint=f"-o FILE writes it with mode 0600; -o - prints it: imgctl render {kind.name} {name} -o secret.yaml",
        )
    options = global_options(ctx)
    where = project(ctx)
    profile = where.profile(name, sets)
    source = Source(where.checkout.origin, where.checkout.commit)
    request = Request(profile, source, namespace=namespace, tarball=tar, builder_image=kaniko_image, engine=engine,
                      binary=binary)
    rendered = render(kind, request, env=options.env, authfile=authfile)
    notes = list(rendered.notes)
    if source.commit and _dirty(where):
        notes.append(f"the working tree has uncommitted changes; a build from git uses commit {source.commit[:12]}")
    if output is None or output == "-":
        print_manifest(rendered.text)
    else:
        from builder.filewrite import write_bytes

        write_bytes(Path(output), rendered.text.encode(), key="--output", mode=0o600 if kind.secret else None)
        print_written(kind.name, profile.name, output)
    print_notes(notes)


def _dirty(where: Project) -> bool:
    from builder.vcs import GitError

    try:
        head = where.checkout.head()
    except GitError:
        return False
    return bool(head and head.dirty)
