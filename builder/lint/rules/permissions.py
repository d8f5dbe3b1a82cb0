"""OS105-OS107: files the container writes at run time, and files nobody but root may write.

OpenShift starts the container as an arbitrary UID that is a member of group 0 only. A directory it writes
to must therefore belong to group 0 and give the group the owner's rights (`chgrp -R 0 DIR && chmod -R g=u
DIR`). The same guideline warns not to make /etc/passwd writable (CRI-O adds the arbitrary UID itself), and
world-writable files are never needed for that.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from builder.findings.model import Finding
from builder.lint.rules.model import Rule
from builder.lint.rules.modes import grant
from builder.lint.rules.view import FinalImage, Step, flag_value, operands, options, program, run_commands
from builder.lint.subject import Subject

NOT_GROUP_WRITABLE = Rule(
    "OS105", "warning", "A directory the container writes at run time is not owned by group 0 with g=u rights",
    "After the directory is created and filled: RUN chgrp -R 0 DIR && chmod -R g=u DIR (or COPY "
    "--chown=1001:0 --chmod=775 ... DIR).",
    source="OpenShift 'Support arbitrary user ids'",
)
PASSWD_WRITABLE = Rule(
    "OS106", "error", "/etc/passwd or /etc/group is made writable",
    "Remove the chmod: CRI-O (OpenShift 4) adds the arbitrary UID to /etc/passwd itself; a writable "
    "/etc/passwd lets the process make itself root.",
    source="OpenShift 'Support arbitrary user ids' (WARNING on /etc/passwd)",
)
WORLD_WRITABLE = Rule(
    "OS107", "error", "Files are made writable by everyone (chmod 777, o+w, a+w)",
    "Give the rights to group 0 instead: chgrp -R 0 DIR && chmod -R g=u DIR (the container's user is always "
    "in group 0).",
    source="OpenShift 'Support arbitrary user ids'",
)
RULES = (NOT_GROUP_WRITABLE, PASSWD_WRITABLE, WORLD_WRITABLE)

# Scratch space every base image already makes world-writable with the sticky bit.
_SCRATCH = ("/tmp", "/var/tmp", "/dev/shm", "/run", "/proc", "/sys", "/dev")
_ACCOUNTS = ("/etc/passwd", "/etc/group")
# Directories every image has: a `mkdir -p` of one of them makes nothing new for the application to write.
_SYSTEM = frozenset({"/etc", "/usr", "/usr/local", "/usr/local/bin", "/usr/local/lib", "/usr/bin", "/usr/lib",
                     "/usr/share", "/bin", "/sbin", "/lib", "/lib64", "/var", "/var/lib", "/var/log", "/var/cache",
                     "/opt", "/srv", "/home", "/root", "/mnt", "/media"})


@dataclass(frozen=True)
class _Place:
    path: str
    line: int | None
    why: str
    created: bool  # by a RUN mkdir: only a fix at or after that line reaches it


@dataclass(frozen=True)
class _Fix:
    path: str | None  # None: a path imgctl cannot know ($APP_ROOT of the base image): it may be any of them
    recursive: bool
    line: int
    group: bool  # makes group 0 the owner
    mode: bool  # gives the group write access

    def covers(self, place: _Place) -> bool:
        if place.created and self.line < (place.line or 0):
            return False
        if self.path is None:
            return True
        return self.path == place.path or (self.recursive and _below(place.path, self.path))


def check(subject: Subject, image: FinalImage | None) -> list[Finding]:
    findings: list[Finding] = []
    for instruction in subject.document.instructions:
        if instruction.keyword in ("COPY", "ADD"):
            mode = flag_value(instruction, "--chmod")
            given = grant(mode) if mode else None
            if given is not None and given.other_write and not given.sticky:
                findings.append(WORLD_WRITABLE.finding(
                    subject, instruction.line, f"{instruction.keyword} --chmod={mode} makes the copied files "
                    f"writable by everyone"))
        elif instruction.keyword == "RUN":
            for command in run_commands(instruction):
                if program(command) == "chmod":
                    findings += _chmod(subject, instruction.line, command)
    if image is not None:
        findings += _group_writable(subject, image)
    return findings


def _chmod(subject: Subject, line: int, command: list[str]) -> list[Finding]:
    words = operands(command)
    if len(words) < 2:
        return []
    mode, paths = words[0], words[1:]
    given = grant(mode)
    if given is None:
        return []
    recursive = options(command, "R", ("--recursive",))
    found: list[Finding] = []
    for path in paths:
        normal = posixpath.normpath(path) if path.startswith("/") else path
        exposes = normal in _ACCOUNTS or (recursive and normal in ("/", "/etc"))
        if exposes and (given.group_write or given.other_write):
            found.append(PASSWD_WRITABLE.finding(subject, line, f"chmod {mode} {path} makes /etc/passwd writable "
                                                 f"for {'everyone' if given.other_write else 'group 0'}"))
    if given.other_write and not given.sticky:
        found.append(WORLD_WRITABLE.finding(subject, line,
                                            f"chmod {mode} {' '.join(paths)} makes files writable by everyone"))
    return found


def _group_writable(subject: Subject, image: FinalImage) -> list[Finding]:
    places = _places(subject, image)
    fixes = _fixes(image)
    findings: list[Finding] = []
    reported: list[str] = []
    for place in places:
        if place.path in reported or any(_below(place.path, done) for done in reported):
            continue
        group = any(fix.group and fix.covers(place) for fix in fixes)
        mode = any(fix.mode and fix.covers(place) for fix in fixes)
        if group and mode:
            continue
        missing = ("group 0 ownership and group write access" if not (group or mode)
                   else "group write access (chmod -R g=u)" if group else "group 0 ownership (chgrp -R 0)")
        reported.append(place.path)
        findings.append(NOT_GROUP_WRITABLE.finding(
            subject, place.line, f"{place.path} ({place.why}) lacks {missing}: an arbitrary UID cannot write it",
            f"RUN chgrp -R 0 {place.path} && chmod -R g=u {place.path} (after it is created and filled), or "
            f"COPY --chown=1001:0 --chmod=775 into it."))
    return findings


def _places(subject: Subject, image: FinalImage) -> list[_Place]:
    places: list[_Place] = []
    for step in image.steps:
        keyword = step.instruction.keyword
        if keyword == "WORKDIR":
            places.append(_Place(step.workdir, step.instruction.line, "WORKDIR", created=False))
        elif keyword == "VOLUME":
            for word in step.instruction.args:
                path = step.path(word)
                if path is not None:
                    places.append(_Place(path, step.instruction.line, "VOLUME", created=False))
        elif keyword == "RUN":
            for command in run_commands(step.instruction):
                if program(command) == "mkdir":
                    for word in operands(command):
                        path = step.path(word, shell=True)
                        if path is not None and path not in _SYSTEM:
                            places.append(_Place(path, step.instruction.line, "created by mkdir", created=True))
    for path in subject.writable_paths:
        places.append(_Place(posixpath.normpath(path), image.from_line, "the profile's writable_paths",
                             created=False))
    return [place for place in places
            if place.path != "/" and not any(place.path == s or _below(place.path, s) for s in _SCRATCH)]


def _fixes(image: FinalImage) -> list[_Fix]:
    fixes: list[_Fix] = []
    for step in image.steps:
        instruction = step.instruction
        if instruction.keyword in ("COPY", "ADD") and instruction.args:
            fixes += _copy_fix(step)
        elif instruction.keyword == "RUN":
            for command in run_commands(instruction):
                fixes += _command_fix(step, command)
    return fixes


def _copy_fix(step: Step) -> list[_Fix]:
    owner = step.expand(flag_value(step.instruction, "--chown") or "")
    mode = step.expand(flag_value(step.instruction, "--chmod") or "")
    target = step.path(step.instruction.args[-1])
    given = grant(mode) if mode else None
    if target is None:
        return []
    group = bool(owner) and _group_zero(owner or "")
    writable = given is not None and given.group_write
    if not (group or writable):
        return []
    return [_Fix(target, True, step.instruction.line, group=group, mode=writable)]


def _command_fix(step: Step, command: list[str]) -> list[_Fix]:
    name = program(command)
    words = operands(command)
    if name == "fix-permissions":
        # The sclorg/UBI runtime images' script: chgrp -R 0 and chmod -R g+rw on its argument.
        return [_Fix(step.path(word, shell=True), True, step.instruction.line, group=True, mode=True)
                for word in words[:1]]
    if name not in ("chgrp", "chown", "chmod") or len(words) < 2:
        return []
    recursive = options(command, "R", ("--recursive",))
    first = step.expand(words[0], shell=True) or ""
    if name == "chgrp":
        group, mode = first in ("0", "root"), False
    elif name == "chown":
        group, mode = _group_zero(first), False
    else:
        given = grant(first)
        group, mode = False, given is not None and given.group_write
    if not (group or mode):
        return []
    return [_Fix(step.path(word, shell=True), recursive, step.instruction.line, group=group, mode=mode)
            for word in words[1:]]


def _group_zero(owner: str) -> bool:
    for separator in (":", "."):
        if separator in owner:
            return owner.partition(separator)[2] in ("0", "root")
    return False


def _below(path: str, parent: str) -> bool:
    return parent == "/" or path.startswith(parent.rstrip("/") + "/")
