"""What `imgctl lint` looks at: profiles (their Containerfile, facts and [lint] settings) or bare Containerfiles,
from the names on the command line."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from builder.config.schema import LINT_ON_BUILD
from builder.config.sections import LintSettings
from builder.containerfile.document import Document
from builder.errors import ConfigError
from builder.lint.subject import Subject

if TYPE_CHECKING:
    from builder.config.profile import Profile
    from builder.config.project import Project


@dataclass(frozen=True)
class Target:
    """One Containerfile to lint, what is known about its image, and the settings that judge it."""

    subject: Subject
    settings: LintSettings
    profile: str | None = None  # several profiles may share a Containerfile: the report names which one

    @property
    def name(self) -> str:
        return f"{self.subject.file} (profile {self.profile})" if self.profile else self.subject.file


@dataclass(frozen=True)
class Unlinted:
    """A profile with no Containerfile to lint (S2I: imgctl generates it at build time); its report says why."""

    profile: str
    settings: LintSettings
    reason: str

    @property
    def name(self) -> str:
        return f"profile {self.profile}"


S2I_REASON = ("an S2I profile: imgctl generates its Containerfile from the builder image when it builds; "
              "there is no file of the project's to lint")


def profile_target(profile: Profile, document: Document | None = None,
                   settings: LintSettings | None = None) -> Target | Unlinted:
    """A profile's Containerfile (`document`: as the build read it; else read now, once) and its facts."""
    settings = settings or profile.lint
    if profile.containerfile is None:
        return Unlinted(profile.name, settings, S2I_REASON)
    document = document if document is not None else Document.read(profile.containerfile)
    subject = Subject(
        document=document,
        file=_shown(profile.containerfile, profile.root),
        context=profile.context,
        target=profile.target,
        build_args=MappingProxyType(dict(profile.build_args)),
        writable_paths=profile.writable_paths,
        policy=settings.policy,
        trusted_registries=settings.trusted_registries,
        labels=MappingProxyType(dict(profile.labels)),
    )
    return Target(subject, settings, profile.name)


def file_target(path: Path, settings: LintSettings | None = None, shown: str | None = None) -> Target:
    """A bare Containerfile: no profile, so no context or build arguments; the default settings. `shown`: the
    path as the user wrote it (`./Dockerfile`), which findings repeat."""
    settings = settings or LintSettings()
    subject = Subject(document=Document.read(path), file=shown or str(path), policy=settings.policy,
                      trusted_registries=settings.trusted_registries)
    return Target(subject, settings)


def _shown(path: Path, root: Path) -> str:
    """Relative to the project root, as CI annotations (SARIF, GitLab) expect; absolute when outside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def resolve(names: Sequence[str], project: Callable[[], Project], sets: Sequence[str] = (),
            extra: Mapping[str, Any] | None = None) -> list[Target | Unlinted]:
    """The targets `names` mean (none: every profile). A name with a '/' is a path; otherwise a profile when
    profiles/NAME.toml exists, else a file of that name. `project` locates the project (raising ConfigError
    without one); it is called only when a profile is involved, so bare paths work outside any project.
    `extra`: [lint] keys on top of each target's (--config, --failure-threshold)."""
    from builder.lint.config import merged

    def settings(base: LintSettings) -> LintSettings:
        return merged(base, dict(extra)) if extra else base

    where = None
    words = [name for name in names if not _is_path(name)]
    if not names or words:
        try:
            where = project()
        except ConfigError:
            if not names or not all(Path(word).is_file() for word in words):
                raise  # a profile is needed: say why there is no project
    if not names:
        from builder.config.files import list_profiles

        assert where is not None
        names = list_profiles(where.profiles_dir)
        if not names:
            raise ConfigError(f"no profiles in {where.profiles_dir}", hint="name a Containerfile: imgctl lint PATH")
    elif sets and all(_is_path(name) or _bare(where, name) for name in names):
        raise ConfigError("--set changes profiles, and only Containerfiles were named", key="--set")
    found: list[Target | Unlinted] = []
    for name in names:
        if _is_path(name) or _bare(where, name):
            path = Path(name)
            if not path.is_file():
                raise ConfigError(f"no Containerfile {name}", key=name,
                                  hint="a path to a Containerfile, or the name of a profile")
            found.append(file_target(path, settings(LintSettings()), shown=name))
        else:
            assert where is not None
            profile = where.profile(name, sets)
            found.append(profile_target(profile, settings=settings(profile.lint)))
    return found


def _is_path(name: str) -> bool:
    return "/" in name or "\\" in name


def _bare(where: Project | None, name: str) -> bool:
    """A name that is no profile's but is a file: a Containerfile in the current directory."""
    if where is not None and (where.profiles_dir / f"{name}.toml").is_file():
        return False
    return Path(name).is_file()


def check_mode(mode: str | None) -> None:
    """`imgctl build --lint MODE`."""
    if mode is not None and mode not in LINT_ON_BUILD:
        raise ConfigError(f"unknown lint mode {mode!r}", key="--lint", hint="one of: " + ", ".join(LINT_ON_BUILD))
