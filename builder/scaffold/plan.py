"""`imgctl init` as a plan and its execution: every file worked out first (the Containerfile, the profile,
the ignore file `imgctl ignore` would propose for them), then written all or none.

Nothing is written when any file that would change exists already, unless `force`: the refusal names every
such file at once. Each file is replaced atomically (builder.filewrite); when one write fails, the files
written before it get their old content back (or are removed, and so is a profiles/ directory this run made),
so a failed init leaves the directory as it found it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from builder.config.files import PROFILES_DIR_NAME, PROFILES_DIR_VARIABLE, find_profiles_dir
from builder.context.propose import Proposal, Rule
from builder.errors import ConfigError
from builder.filewrite import write_bytes
from builder.scaffold.detect import Detection, detect
from builder.scaffold.profiletext import profile_text
from builder.scaffold.recipes import Recipe, recipe
from builder.scaffold.template import containerfile

CONTAINERFILE = "Containerfile"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Where every generated ignore file starts: OS125 asks for .git to be excluded even before there is one.
IGNORE_BASE = "# written by imgctl init: never part of the image\n**/.git\n"


@dataclass(frozen=True)
class PlannedFile:
    path: Path
    kind: str  # "Containerfile", "profile", "ignore file"
    text: str
    existing: bytes | None  # what is there now; None: nothing

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8", "surrogateescape")

    @property
    def changes(self) -> bool:
        return self.existing != self.data

    @property
    def conflicts(self) -> bool:
        """There is a file, and init would change it."""
        return self.existing is not None and self.changes


@dataclass(frozen=True)
class InitPlan:
    directory: Path  # the application, and the build context
    name: str
    detection: Detection  # the runtime, and the files that showed it
    recipe: Recipe
    profiles_dir: Path
    files: tuple[PlannedFile, ...]
    ignore_rules: tuple[Rule, ...]  # what the ignore proposal added, with its reasons
    notes: tuple[str, ...]

    @property
    def conflicts(self) -> tuple[PlannedFile, ...]:
        return tuple(planned for planned in self.files if planned.conflicts)


def plan_init(directory: Path, *, runtime: str | None = None, minimal: bool = False, name: str | None = None,
              profiles_dir: Path | None = None, env: Mapping[str, str] | None = None) -> InitPlan:
    """Work out every file; read the directory, write nothing. Raises ConfigError (unknown runtime, bad name)."""
    directory = Path(os.path.abspath(directory))
    detection = detect(directory, runtime)
    name = check_name(name) if name is not None else default_name(directory)
    made = recipe(detection, directory, minimal=minimal)
    profiles = _profiles_dir(directory, profiles_dir, env or {})
    root = profiles.parent
    text = containerfile(made, name)
    context = _relative(directory, root)
    profile = profile_text(made, name, context=context,
                           containerfile=CONTAINERFILE if context == "." else f"{context}/{CONTAINERFILE}")
    proposal = _ignore_proposal(directory, text, profiles)
    files = (
        _planned(directory / CONTAINERFILE, "Containerfile", text, directory, root),
        _planned(profiles / f"{name}.toml", "profile", profile, root),
        _planned(proposal.path, "ignore file", proposal.text, directory, root),
    )
    notes = made.notes + ((made.minimal_note,) if made.minimal_note else ()) + proposal.warnings
    return InitPlan(directory=directory, name=name, detection=detection, recipe=made, profiles_dir=profiles,
                    files=files, ignore_rules=proposal.added, notes=notes)


def write_plan(plan: InitPlan, *, force: bool = False) -> tuple[PlannedFile, ...]:
    """Write the files that change; returns them. ConfigError, having written nothing, when a file exists
    without `force`, or when any write fails (the ones before it are undone)."""
    if plan.conflicts and not force:
        listed = ", ".join(str(planned.path) for planned in plan.conflicts)
        raise ConfigError(f"refusing to overwrite {listed}; nothing was written",
                          hint="add --force to replace them (the ignore file keeps your lines, imgctl's go below)")
    made_dir = not plan.profiles_dir.exists()
    done: list[PlannedFile] = []
    try:
        plan.profiles_dir.mkdir(parents=True, exist_ok=True)
        for planned in plan.files:
            if not planned.changes:
                continue
            if not force and _read(planned.path) is not None:
                raise ConfigError(f"{planned.path} appeared while imgctl init was writing", file=planned.path,
                                  hint="run imgctl init again")
            write_bytes(planned.path, planned.data, key=planned.kind)
            done.append(planned)
    except OSError as error:
        _undo(done, plan.profiles_dir if made_dir else None)
        raise ConfigError(f"cannot write {error.filename or 'the files'}: {error.strerror or error}; "
                          "nothing was written") from None
    except BaseException:
        # ConfigError, and Ctrl-C (Interrupted) too: what was written is taken back before the error is shown.
        _undo(done, plan.profiles_dir if made_dir else None)
        raise
    return tuple(done)


def default_name(directory: Path) -> str:
    """The directory's name made into a profile name: "My App" -> "my-app"; "app" when nothing is left."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", directory.name.lower()).lstrip("._-").rstrip("-")
    return slug or "app"


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ConfigError(f"{name!r} cannot name a profile", key="--name",
                          hint="letters, digits, '.', '_' and '-', starting with a letter or digit")
    return name


def _profiles_dir(directory: Path, explicit: Path | None, env: Mapping[str, str]) -> Path:
    """--profiles-dir, else $IMGCTL_PROFILES_DIR, else the profiles/ found upwards as every command finds it,
    else a new profiles/ in the directory itself."""
    if explicit is not None or env.get(PROFILES_DIR_VARIABLE):
        return find_profiles_dir(directory, explicit, env)
    try:
        return find_profiles_dir(directory, None, env)
    except ConfigError:
        return directory / PROFILES_DIR_NAME


def _relative(directory: Path, root: Path) -> str:
    return os.path.relpath(directory, os.path.abspath(root)).replace(os.sep, "/")


def _ignore_proposal(directory: Path, text: str, profiles: Path) -> Proposal:
    """What `imgctl ignore` would propose for this Containerfile, starting from IGNORE_BASE (plus profiles/ when
    it lies in the context: the image never needs imgctl's own settings)."""
    from builder.build.prepare import named_by
    from builder.containerfile.document import Document
    from builder.context.propose import propose

    base = IGNORE_BASE
    inside = _relative(profiles, directory)
    if inside != "." and not inside.startswith("../"):
        base += f"{inside}/\n"
    needed, _ = named_by(Document.from_text(text, directory / CONTAINERFILE))
    return propose(directory, directory / CONTAINERFILE, needed, base=base)


def _planned(path: Path, kind: str, text: str, *roots: Path) -> PlannedFile:
    _refuse_outside_link(path, roots)
    return PlannedFile(path=path, kind=kind, text=text, existing=_read(path))


def _refuse_outside_link(path: Path, roots: tuple[Path, ...]) -> None:
    """A symlink is written through (a Containerfile linked to docker/Containerfile is fine), but only when it
    stays in the project: a cloned repository must not make `init --force` overwrite a file elsewhere."""
    if not path.is_symlink():
        return
    target = Path(os.path.realpath(path))
    if any(target == root or root in target.parents for root in (Path(os.path.realpath(r)) for r in roots)):
        return
    raise ConfigError(f"{path} is a symlink to {target}, outside the project; imgctl init does not write there",
                      file=path, hint="replace the link with a regular file, or point it inside the project")


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a directory", file=path, hint="move it away, imgctl init writes a file there") \
            from None
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}", file=path) from None


def _undo(done: list[PlannedFile], made_dir: Path | None) -> None:
    for planned in reversed(done):
        try:
            if planned.existing is None:
                planned.path.unlink(missing_ok=True)
            else:
                write_bytes(planned.path, planned.existing)
        except OSError:
            pass  # best effort: the error being raised says what failed first
    if made_dir is not None:
        try:
            made_dir.rmdir()
        except OSError:
            pass
