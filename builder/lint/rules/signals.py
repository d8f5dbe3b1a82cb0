"""OS108-OS109: SIGTERM reaches the application.

OpenShift (the kubelet) stops a pod by sending SIGTERM to PID 1 and SIGKILL after the grace period (30 s).
When PID 1 is a shell that started the application as its child, the shell gets the signal and the
application does not: every stop takes the whole grace period and ends in SIGKILL. A wrapper script must
`exec` the application, or trap TERM, forward it and `wait`. Shell-form CMD/ENTRYPOINT is hadolint's DL3025;
these rules look at what DL3025 cannot see: `["sh", "-c", ...]` in exec form and the scripts themselves.
"""

from __future__ import annotations

import glob
import posixpath
import re
from pathlib import Path

from builder.findings.model import Finding
from builder.lint.rules.model import Rule
from builder.lint.rules.view import SHELLS, FinalImage, Step, flag_value, shell_commands
from builder.lint.subject import Subject

SCRIPT_NO_EXEC = Rule(
    "OS108", "warning", "The entrypoint script starts the application without exec (or trap TERM and wait)",
    "Start the application with `exec`, e.g. `exec \"$@\"` or `exec java -jar app.jar`, so it becomes PID 1 "
    "and receives SIGTERM; or `trap 'kill -TERM $pid' TERM`, start it in the background and `wait`.",
    source="OpenShift 'Use exec in wrapper scripts'; Kubernetes pod termination (TERM, then KILL)",
)
SHELL_WRAPPER = Rule(
    "OS109", "warning", "CMD/ENTRYPOINT runs several commands through `sh -c` without exec for the last one",
    "Write `exec` before the command that starts the application: [\"sh\", \"-c\", \"prepare && exec app\"].",
    extends="DL3025",
    source="OpenShift 'Use exec in wrapper scripts'",
)
RULES = (SCRIPT_NO_EXEC, SHELL_WRAPPER)

_INITS = frozenset({"tini", "dumb-init", "catatonit", "tini-static"})
_EXEC = re.compile(r"(?:^|[;&|({]\s*|\b(?:then|do|else)\s+)exec\s+(?![0-9]*[<>&])\S")
_TRAP_TERM = re.compile(r"(?:^|[;&|]\s*)trap\s.*\b(?:SIG)?TERM\b|(?:^|[;&|]\s*)trap\s.*\s15\b")
_KILL = re.compile(r"\bkill\b")
_WAIT = re.compile(r"(?:^|[;&|({]\s*|\b(?:then|do|else)\s+)wait\b")
_SHELL_SHEBANG = re.compile(r"#!\s*\S*?(?:/|\s|^)(?:env\s+)?(?:ba|da|a|k|z)?sh\b")
_CLOSERS = re.compile(r"(?:fi|done|esac|\}|;;|exit\b.*|return\b.*)$")


def check(subject: Subject, image: FinalImage | None) -> list[Finding]:
    if image is None:
        return []
    entrypoint = _last(image, "ENTRYPOINT")
    cmd = _last(image, "CMD")
    start = entrypoint if entrypoint is not None and entrypoint.instruction.args else cmd
    if start is None or not start.instruction.args:
        return []
    findings: list[Finding] = []
    argv = list(start.instruction.args) if start.instruction.json else ["/bin/sh", "-c", start.instruction.args[0]]
    if start is entrypoint and entrypoint.instruction.json and cmd is not None and cmd.instruction.json:
        argv += list(cmd.instruction.args)
    if start.instruction.json and len(argv) >= 3 and posixpath.basename(argv[0]) in SHELLS and argv[1] == "-c":
        script = argv[2]
        if len(shell_commands(script)) > 1 and not _EXEC.search(script):
            findings.append(SHELL_WRAPPER.finding(
                subject, start.instruction.line,
                f"{start.instruction.keyword} runs `{script}` in a shell that stays PID 1: SIGTERM does not reach "
                f"the application"))
    program = _program(argv)
    if program is not None and subject.context is not None:
        findings += _script(subject, subject.context, image, start, program)
    return findings


def _last(image: FinalImage, keyword: str) -> Step | None:
    found = list(image.keyword(keyword))
    return found[-1] if found else None


def _program(argv: list[str]) -> str | None:
    """The file PID 1 runs, past an init (tini) and a shell (`sh script`, `sh -c "script args"`)."""
    words = list(argv)
    while words and posixpath.basename(words[0]) in _INITS:
        words = [word for word in words[1:] if not word.startswith("-")]
    if len(words) >= 3 and posixpath.basename(words[0]) in SHELLS and words[1] == "-c":
        commands = shell_commands(words[2])
        return commands[-1][0] if commands else None
    if len(words) >= 2 and posixpath.basename(words[0]) in SHELLS and not words[1].startswith("-"):
        return words[1]
    return words[0] if words else None


def _script(subject: Subject, context: Path, image: FinalImage, start: Step, program: str) -> list[Finding]:
    found = _context_file(context, image, start, program)
    if found is None:
        return []
    try:
        text = found.read_bytes()[: 1 << 20].decode("utf-8", errors="replace")
    except OSError:
        return []
    lines = text.split("\n")
    if not (_SHELL_SHEBANG.match(lines[0]) or (found.suffix == ".sh" and not lines[0].startswith("#!"))):
        return []  # a binary, or a python or node script: not a shell wrapper
    body = [(number, line.strip()) for number, line in enumerate(lines, start=1)
            if line.strip() and not line.strip().startswith("#")]
    if not body:
        return []
    if any(_EXEC.search(line) for _, line in body):
        return []
    trap = any(_TRAP_TERM.search(line) for _, line in body)
    kill = any(_KILL.search(line) for _, line in body)
    wait = any(_WAIT.search(line) for _, line in body)
    if trap and kill and wait:
        return []
    commands = [(number, line) for number, line in body if not _CLOSERS.fullmatch(line)]
    number, line = commands[-1] if commands else body[-1]
    if trap and not wait:
        why = "traps TERM but does not `wait` for the application"
    elif trap:
        why = "traps TERM but does not forward it to the application (kill)"
    else:
        why = "starts the application without `exec` and without a TERM trap"
    name = found.relative_to(context.resolve()).as_posix()
    return [SCRIPT_NO_EXEC.finding(
        subject, number, f"{name} (the image's {start.instruction.keyword}) {why}: `{line}` never gets SIGTERM",
        file=_shown(subject, context / name))]


def _shown(subject: Subject, path: Path) -> str:
    """The script's path the way `subject.file` names the Containerfile: relative to the same root when the
    Containerfile's own path shows it (file "app/Containerfile" read from "/project/app/Containerfile" means
    root /project), else as the context path was given."""
    source = subject.document.path
    shown = Path(subject.file)
    if source is not None and source.is_absolute() and not shown.is_absolute() and source.parts[-len(shown.parts):] \
            == shown.parts:
        root = Path(*source.parts[: len(source.parts) - len(shown.parts)])
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return path.resolve().as_posix()
    return path.as_posix()


def _context_file(context: Path, image: FinalImage, start: Step, program: str) -> Path | None:
    """The file of the build context that the image runs as `program`, through the COPY/ADD that put it there."""
    if "/" in program:
        wanted = {posixpath.normpath(posixpath.join(start.workdir, program))}
        named = None
    else:
        wanted = set()
        named = program  # looked up in PATH: any copied file of that name in a bin directory
    for step in reversed(image.steps):
        instruction = step.instruction
        if instruction.keyword not in ("COPY", "ADD") or flag_value(instruction, "--from") or len(instruction.args) < 2:
            continue
        raw_dest = step.expand(instruction.args[-1])
        dest = step.path(instruction.args[-1])
        if dest is None or raw_dest is None:
            continue
        into_dir = raw_dest.endswith("/") or len(instruction.args) > 2
        for source in instruction.args[:-1]:
            value = step.expand(source)
            if not value or value.startswith(("http://", "https://")):
                continue
            for match in _matches(context, value):
                hit = _hit(match, dest, into_dir, wanted, named)
                if hit is not None:
                    return hit
    return None


def _matches(context: Path, source: str) -> list[Path]:
    relative = posixpath.normpath("/" + source).lstrip("/")
    root = context.resolve()
    if glob.has_magic(relative):
        paths = [Path(found) for found in sorted(glob.glob(str(root / relative)))]
    else:
        paths = [root / relative] if relative else [root]
    return [path for path in paths if path.exists() and (path == root or root in path.resolve().parents)]


def _hit(match: Path, dest: str, into_dir: bool, wanted: set[str], named: str | None) -> Path | None:
    if match.is_dir():
        for target in wanted:
            if target.startswith(dest.rstrip("/") + "/"):
                candidate = match / target[len(dest.rstrip("/")) + 1:]
                if candidate.is_file():
                    return candidate
        if named is not None and (match / named).is_file() and dest.rstrip("/").endswith("bin"):
            return match / named
        return None
    places = {posixpath.join(dest, match.name)} | (set() if into_dir else {dest})
    if places & wanted:
        return match
    if named is not None and any(posixpath.basename(place) == named for place in places):
        return match
    return None
