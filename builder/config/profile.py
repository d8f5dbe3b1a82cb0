"""Resolving a profile: the chain read and merged, `--set` applied, templates expanded, and what only makes sense
on the final values validated (the image name, the tags, the platform, the paths). The result is a `Profile`.

Every error is a `ConfigError` with the file, line and key path that caused it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from builder.config import templates
from builder.config.clock import command_time
from builder.config.files import ProfileFile, absolute, read_chain
from builder.config.kinds import Invalid, KeyPath, Platforms, platforms_of
from builder.config.locate import render_path
from builder.config.merge import Values, each_string, merged, normalized_image, require
from builder.config.schema import SCHEMA, SETTINGS, Setting, fresh
from builder.config.sections import LintSettings, VerifySettings
from builder.errors import ConfigError
from builder.oci import refs
from builder.vcs import Checkout, GitInfo


@dataclass(frozen=True)
class RegistrySettings:
    """How imgctl and the engine talk to one registry."""

    tls_verify: bool = True
    cert_dir: Path | None = None
    insecure: bool = False  # registries.conf's word: plain HTTP and unverified TLS allowed

    @property
    def verify(self) -> bool:
        return self.tls_verify and not self.insecure


@dataclass(frozen=True)
class Profile:
    """A fully resolved profile: merged, overridden, expanded and validated."""

    name: str
    file: Path
    root: Path  # the project root: the directory holding profiles/
    image: str  # normalized repository, e.g. localhost/team/api
    description: str
    containerfile: Path | None  # absolute; None for strategy = "s2i", whose Containerfile is generated
    context: Path  # absolute
    target: str | None
    tags: tuple[str, ...]  # expanded, validated, without duplicates
    labels: dict[str, str]
    build_args: dict[str, str]
    platform: tuple[str, ...]  # empty: the host's platform; never more than one (see __post_init__)
    pull: str
    no_cache: bool
    isolation: str | None
    secrets: dict[str, Path]  # id -> absolute source file
    version: str | None  # expanded
    extends: tuple[str, ...]  # ancestors, nearest first
    raw: dict[str, Any]  # merged values after --set, before expansion; no defaults; its own `extends` only
    push: tuple[str, ...] = ()  # destination repositories, normalized, with a registry host, no tag
    context_pruning: bool = True
    ignore: tuple[str, ...] = ()  # extra ignore patterns, after the ignore file's
    registries: Mapping[str, RegistrySettings] = field(default_factory=dict)  # by registry host
    ignore_dialect: str = "buildah"  # whose ignore-file rules apply: "buildah" (podman's) or "moby" (Docker's)
    writable_paths: tuple[str, ...] = ()  # absolute paths the application writes at run time
    lint: LintSettings = field(default_factory=LintSettings)
    verify: VerifySettings = field(default_factory=VerifySettings)
    strategy: str = "containerfile"  # or "s2i": the Containerfile is generated from the source and `builder`
    builder: str | None = None  # the S2I builder image
    incremental: bool = False  # S2I: restore the previous image's saved artifacts

    def __post_init__(self) -> None:
        # load_profile refuses several platforms with the file and line; this makes it true of every Profile,
        # so no consumer (the build plan) has to handle a case that cannot occur.
        if len(self.platform) > 1:
            raise ValueError(f"a Profile has at most one platform, got {self.platform!r}")

    def registry(self, host: str) -> RegistrySettings:
        return self.registries.get(host, RegistrySettings())

    @property
    def refs(self) -> tuple[str, ...]:
        return tuple(f"{self.image}:{tag}" for tag in self.tags)

    def setting(self, name: str) -> Any:
        """The raw (unexpanded) value of any SCHEMA key, or its default: for keys without a field."""
        if name in self.raw:
            return self.raw[name]
        return fresh(SETTINGS[name].default)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for `imgctl show --json`."""
        return {
            "name": self.name,
            "file": str(self.file),
            "root": str(self.root),
            "image": self.image,
            "description": self.description,
            "containerfile": str(self.containerfile) if self.containerfile else None,
            "context": str(self.context),
            "target": self.target,
            "tags": list(self.tags),
            "refs": list(self.refs),
            "labels": dict(self.labels),
            "build_args": dict(self.build_args),
            "platform": list(self.platform),
            "pull": self.pull,
            "no_cache": self.no_cache,
            "isolation": self.isolation,
            "secrets": {key: str(path) for key, path in self.secrets.items()},
            "version": self.version,
            "extends": list(self.extends),
            "push": list(self.push),
            "context_pruning": self.context_pruning,
            "ignore": list(self.ignore),
            "ignore_dialect": self.ignore_dialect,
            "writable_paths": list(self.writable_paths),
            "lint": self.lint.to_dict(),
            "verify": self.verify.to_dict(),
            "strategy": self.strategy,
            "builder": self.builder,
            "incremental": self.incremental,
            "registries": {
                host: {
                    "tls_verify": r.tls_verify,
                    "cert_dir": str(r.cert_dir) if r.cert_dir else None,
                    "insecure": r.insecure,
                }
                for host, r in self.registries.items()
            },
        }


def load_profile(
    profiles_dir: Path,
    name: str,
    *,
    overrides: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
    git: Callable[[], GitInfo | None] | None = None,
) -> Profile:
    """Read, merge, override, expand and validate profile `name`. Raises ConfigError.

    `env` (default os.environ) feeds {env:...}, the CI branch variables, git and SOURCE_DATE_EPOCH; `now`
    (default: SOURCE_DATE_EPOCH, else the current time) feeds {date} and {timestamp}. `git` describes HEAD
    (default: a `Checkout` of the project root read with `env`); it is called only if a git placeholder is used.
    The project root is the parent of `profiles_dir` as given: a `profiles` symlink is not followed.
    """
    env = os.environ if env is None else env
    profiles_dir = absolute(Path.cwd(), profiles_dir)
    root = profiles_dir.parent
    chain = read_chain(profiles_dir, name, {})
    values = merged(chain, overrides)
    require(values, chain)
    image = normalized_image(values)

    context = templates.TemplateContext(
        profile=name,
        env=env,
        now=now if now is not None else command_time(env),
        root=root,
        git=git if git is not None else Checkout(root, env).head,
    )
    version = _version(values, context)
    context = context.replace(version=version)
    expanded = {
        setting.name: _expand(values, setting, context)
        for setting in SCHEMA
        if setting.templated and setting.name != "version"
    }
    tags = _tags(values, expanded["tags"])
    context_dir = _existing(values, root, ("context",), directory=True)
    containerfile: Path | None
    if values.get("strategy") == "s2i":
        _check_s2i(values)
        containerfile = None  # generated from the source and the builder image at build time (builder.s2i)
    elif "containerfile" in values.values:
        containerfile = _existing(values, root, ("containerfile",), directory=False)
    else:
        containerfile = _default_containerfile(context_dir, chain[0])
    secrets = {
        secret: _existing(values, root, ("secrets", secret), directory=False) for secret in values.get("secrets")
    }
    platform = _platform(values)

    return Profile(
        name=name,
        file=chain[0].path,
        root=root,
        image=image,
        description=values.get("description"),
        containerfile=containerfile,
        context=context_dir,
        target=values.get("target") or None,
        tags=tags,
        labels=expanded["labels"],
        build_args=expanded["build_args"],
        platform=platform,
        pull=values.get("pull"),
        no_cache=values.get("no_cache"),
        isolation=values.get("isolation"),
        secrets=secrets,
        version=version,
        extends=tuple(file.name for file in chain[1:]),
        raw={key: fresh(value) for key, value in values.values.items()},
        push=_push(values),
        registries=MappingProxyType(_registries(values, root)),
        context_pruning=values.get("context_pruning"),
        ignore=tuple(values.get("ignore")),
        ignore_dialect=values.get("ignore_dialect"),
        writable_paths=tuple(dict.fromkeys(values.get("writable_paths"))),
        lint=LintSettings.from_raw(values.get("lint")),
        verify=VerifySettings.from_raw(values.get("verify")),
        strategy=values.get("strategy"),
        builder=values.get("builder"),
        incremental=values.get("incremental"),
    )


def _platform(values: Values) -> tuple[str, ...]:
    """At most one platform. Each file's value and `--set platform=` were checked already; `--set platform+=`
    can still add a second one to the merged value."""
    platform = values.get("platform")
    try:
        Platforms.check_count(platform)
    except Invalid as invalid:
        # Blame whoever added the last item: a `--set platform+=` names itself, a file its line.
        source = values.where(("platform", len(platform) - 1))
        raise source.error(("platform",), invalid.message, invalid.hint) from None
    return platforms_of(platform)


def _push(values: Values) -> tuple[str, ...]:
    """Destination repositories: each must name its registry, and carry no tag (the tags come from tags)."""
    found = []
    for index, text in enumerate(values.get("push")):
        path: KeyPath = ("push", index)
        try:
            repository = refs.validate_repository(text)
        except ValueError as error:
            raise values.where(path).error(path, str(error), 'for example: push = ["quay.io/team/api"]') from None
        local = repository.split("/", 1)[0] == refs.LOCAL_DOMAIN
        if "/" not in repository or local or refs.normalize_repository(repository) != repository:
            raise values.where(path).error(
                path,
                f"{text!r} does not name a registry",
                'write the registry host first, e.g. "quay.io/team/api" or "registry.example.com:5000/api"',
            )
        found.append(repository)
    return tuple(dict.fromkeys(found))


def _registries(values: Values, root: Path) -> dict[str, RegistrySettings]:
    settings = {}
    for host, options in values.get("registries").items():
        cert_dir = None
        if "cert_dir" in options:
            cert_dir = (root / options["cert_dir"]).resolve()
            if not cert_dir.is_dir():
                path: KeyPath = ("registries", host, "cert_dir")
                raise values.where(path).error(
                    path,
                    f"cert_dir directory {cert_dir} does not exist",
                    "a directory of CA certificates (*.crt), as in containers-certs.d(5); relative to the project root",
                )
        settings[host] = RegistrySettings(
            tls_verify=options.get("tls_verify", True), cert_dir=cert_dir, insecure=options.get("insecure", False)
        )
    return settings


def _expand_one(values: Values, path: KeyPath, text: str, context: templates.TemplateContext) -> str:
    try:
        return context.expand(text)
    except templates.TemplateError as error:
        raise values.where(path).error(path, error.message, error.hint) from None


def _version(values: Values, context: templates.TemplateContext) -> str | None:
    """The expanded version. It may use any placeholder but itself: `version = "{git_tag:-0.0.0}"`."""
    raw = values.get("version")
    if not raw:
        return None
    path: KeyPath = ("version",)
    try:
        used = {placeholder.partition(":-")[0] for placeholder in templates.placeholders(raw)}
    except templates.TemplateError as error:
        raise values.where(path).error(path, error.message, error.hint) from None
    if "version" in used:
        raise values.where(path).error(
            path, "version cannot use {version}", 'for example: version = "{git_tag:-0.0.0}"'
        )
    return _expand_one(values, path, raw, context) or None


def _expand(values: Values, setting: Setting, context: templates.TemplateContext) -> Any:
    """A templated setting with every string expanded: a list stays a list, a table a table."""
    strings = [(path, _expand_one(values, path, text, context)) for path, text in each_string(values, setting)]
    if isinstance(values.get(setting.name), dict):
        return {path[1]: text for path, text in strings}
    return [text for _, text in strings]


def _tags(values: Values, expanded: list[str]) -> tuple[str, ...]:
    """Validated tags without duplicates, in order: `--tag latest` on a profile tagging latest is harmless."""
    written = values.get("tags")
    for index, tag in enumerate(expanded):
        try:
            refs.validate_tag(tag)
        except ValueError as error:
            hint = "a tag is the part after ':' in image:tag; the repository comes from image"
            if written[index] != tag:
                hint += f"; {written[index]!r} expanded to {tag!r}"
            if "{git_branch}" in written[index] or "{git_branch:-" in written[index]:
                hint += "; {git_branch_slug} gives the branch in a form that is always a valid tag"
            raise values.where(("tags", index)).error(("tags", index), str(error), hint) from None
    if not expanded:
        raise values.where(("tags",)).error(
            ("tags",), "tags is empty: at least one tag is needed", f"for example: {SETTINGS['tags'].example}"
        )
    return tuple(dict.fromkeys(expanded))


def _check_s2i(values: Values) -> None:
    """strategy = "s2i" needs a builder image; the keys that describe a Containerfile mean nothing with it."""
    builder = values.get("builder")
    if not builder:
        raise values.where(("strategy",)).error(
            ("strategy",), 'strategy = "s2i" needs a builder image',
            f"for example: {SETTINGS['builder'].example}",
        )
    try:
        refs.split_reference(builder)
    except ValueError as error:
        raise values.where(("builder",)).error(
            ("builder",), f"{builder!r} is not an image reference: {error}", SETTINGS["builder"].example
        ) from None
    for key in ("containerfile", "target"):
        if key in values.values:
            raise values.where((key,)).error(
                (key,), f'{key} cannot be used with strategy = "s2i": the Containerfile is generated',
                f'remove {key}, or set strategy = "containerfile"; `imgctl show NAME --containerfile` prints '
                "the generated one",
            )


def _default_containerfile(context_dir: Path, file: ProfileFile) -> Path:
    # Where `podman build CONTEXT` itself looks: in the context, Containerfile first.
    for candidate in (context_dir / "Containerfile", context_dir / "Dockerfile"):
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no Containerfile or Dockerfile in {context_dir}",
        file=file.path,
        key="containerfile",
        hint='set containerfile = "path/to/Containerfile" (relative to the project root)',
    )


def _existing(values: Values, root: Path, path: KeyPath, *, directory: bool) -> Path:
    """Resolve a path setting against the project root and check that it exists."""
    value = values.get(str(path[0]))
    for part in path[1:]:
        value = value[part]
    resolved: Path = (root / value).resolve()
    ok = resolved.is_dir() if directory else resolved.is_file()
    if not ok:
        what = "directory" if directory else "file"
        state = "does not exist" if not resolved.exists() else f"is not a {what}"
        raise values.where(path).error(
            path,
            f"{render_path(path)} {what} {resolved} {state}",
            f"paths in profiles are relative to the project root {root} (the directory holding profiles/)",
        )
    return resolved

