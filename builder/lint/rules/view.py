"""The parts of a Containerfile the rules read: the stages the final image is made of, the variables each of
their instructions sees, the working directory, and the commands inside RUN.

Only `Document` and the stage evaluator (`Plan`, `words`) read the file; this module arranges what they give.
The final image is the target stage (the last one without a target) and the stages it is built on, following
`FROM <stage>` back to an external image: their instructions are what the image carries. Stages reached only
through `COPY --from` contribute files, not users, labels or ports.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from builder.containerfile.document import Instruction
from builder.containerfile.stages import Plan
from builder.containerfile.words import PROXY_ARGS, Environment, Unresolvable, expand
from builder.lint.subject import Subject

_SEPARATORS = frozenset({";", "&&", "||", "|", "&", "(", ")", ";;", "|&"})
_REDIRECTS = frozenset({">", ">>", "<", ">&", "<&", "&>", "&>>", "<<", "<>", ">|"})
_PREFIXES = frozenset({"if", "then", "do", "else", "elif", "while", "until", "!", "time", "{", "}", "sudo",
                       "exec", "nohup", "command"})
SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})


@dataclass(frozen=True)
class Step:
    """One instruction of the final image's stages, with what it sees."""

    instruction: Instruction
    stage: int  # index of its stage in the file
    workdir: str  # the working directory it runs in (for WORKDIR: the one it sets)
    values: Mapping[str, str | None] = field(repr=False)  # variables: None for a value imgctl cannot know

    def expand(self, word: str, *, shell: bool = False) -> str | None:
        """The word after ARG/ENV substitution; None when a variable in it has no knowable value.

        `shell`: a word of a RUN command, where the shell also sees variables imgctl does not know ($HOME, the
        base image's ENV, the script's own): any variable that is not an ARG or ENV of the stage is unknown.
        """
        def lookup(name: str) -> str | None:
            if name in self.values:
                value = self.values[name]
                if value is None:
                    raise Unresolvable(f"${name} is not known")
                return value
            if shell:
                raise Unresolvable(f"${name} is set outside the Containerfile")
            return None

        try:
            return expand(word, lookup, strict=False)
        except Unresolvable:
            return None

    def path(self, word: str, *, shell: bool = False) -> str | None:
        """An expanded path, absolute and normalised against the working directory (None when unknown)."""
        if shell and ("$(" in word or "`" in word or word.startswith("~")):
            return None  # command substitution, the home directory: the shell's, not known here
        value = self.expand(word, shell=shell)
        if not value:
            return None
        return posixpath.normpath(posixpath.join(self.workdir, value))


@dataclass(frozen=True)
class FinalImage:
    """The stages the final image is made of, oldest first, and the external image under them."""

    stages: tuple[int, ...]  # indexes into the file's stages
    base: str | None  # the external base ("scratch" included); None when its name cannot be resolved
    base_line: int  # the FROM line that names it
    from_line: int  # the FROM line of the final stage
    steps: tuple[Step, ...]  # every instruction of those stages, in order (FROM lines excluded)

    @property
    def single_stage(self) -> bool:
        return len(self.stages) == 1

    def keyword(self, *keywords: str) -> Iterator[Step]:
        return (step for step in self.steps if step.instruction.keyword in keywords)


def final_image(subject: Subject) -> FinalImage | None:
    """The final image's stages; None for a file without FROM or whose target stage does not exist."""
    plan = Plan(subject.document.instructions, subject.build_args, subject.target)
    if not plan.stages:
        return None
    final = plan.stages[-1]
    if subject.target is not None:
        named = [stage for stage in plan.stages if stage.name == subject.target]
        if not named:
            return None
        final = named[0]
    chain = [final]
    while True:
        current = chain[-1]
        parent = next((earlier for earlier in plan.stages[: current.index] if earlier.name == current.base), None)
        if parent is None or current.base is None:
            break
        chain.append(parent)
    chain.reverse()
    user = {str(key): str(value) for key, value in subject.build_args.items()}
    env: dict[str, str | None] = {}
    workdir = "/"
    steps: list[Step] = []
    for stage in chain:
        scope = Environment(env={}, env_unknown=None, args=dict(user), allowed=set(PROXY_ARGS),
                            heading=plan.heading, user=user)
        for instruction in stage.body:
            values = _values(scope, env)
            if instruction.keyword == "ARG":
                scope.declare(instruction)
            elif instruction.keyword == "ENV":
                _set_env(instruction, values, env)
            elif instruction.keyword == "WORKDIR" and instruction.args:
                target = Step(instruction, stage.index, workdir, values).path(instruction.args[0])
                workdir = target if target is not None else workdir
            steps.append(Step(instruction, stage.index, workdir, values))
    return FinalImage(stages=tuple(stage.index for stage in chain), base=chain[0].base,
                      base_line=chain[0].from_line.line, from_line=final.from_line.line, steps=tuple(steps))


def _values(scope: Environment, env: Mapping[str, str | None]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for name in scope.allowed:
        try:
            found = scope.arg(name)
        except Unresolvable:
            values[name] = None
            continue
        if found is not None:
            values[name] = found
    values.update(env)  # ENV wins over ARG, as in buildah's Step
    return values


def _set_env(instruction: Instruction, values: Mapping[str, str | None], env: dict[str, str | None]) -> None:
    step = Step(instruction, 0, "/", values)
    pairs = instruction.args
    for name, raw in zip(pairs[::2], pairs[1::2], strict=False):
        key = step.expand(name)
        if key:
            env[key] = step.expand(raw)


# -- commands inside RUN (and CMD/ENTRYPOINT strings run by a shell)

def run_commands(instruction: Instruction) -> list[list[str]]:
    """The simple commands of a RUN: exec form is one command, unless it is `sh -c SCRIPT`."""
    if instruction.json:
        argv = list(instruction.args)
        if len(argv) >= 3 and posixpath.basename(argv[0]) in SHELLS and argv[1] == "-c":
            return shell_commands(argv[2])
        return [argv] if argv else []
    return shell_commands(instruction.args[0]) if instruction.args else []


def shell_commands(script: str) -> list[list[str]]:
    """A shell script's simple commands, split at ; && || | & ( ) and newlines, with their words unquoted.

    Leading keywords (if, then, do, sudo, exec...) and variable assignments are dropped, so the first word is
    the program. Redirections are dropped with their targets. Good enough to find programs and their
    arguments; not a shell.
    """
    found: list[list[str]] = []
    for line in script.split("\n"):
        tokens = _tokens(line)
        current: list[str] = []
        skip = False
        for index, token in enumerate(tokens):
            if skip:
                skip = False
                continue
            if token in _SEPARATORS:
                found.append(current)
                current = []
                continue
            if token in _REDIRECTS:
                skip = True
                continue
            if token.isdigit() and index + 1 < len(tokens) and tokens[index + 1] in _REDIRECTS:
                continue
            if not current and (token in _PREFIXES or _is_assignment(token)):
                continue
            current.append(token)
        found.append(current)
    return [command for command in found if command]


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote: fall back to words
        return line.split()


def _is_assignment(token: str) -> bool:
    name, equals, _ = token.partition("=")
    return bool(equals) and name.isidentifier()


def program(command: list[str]) -> str:
    return posixpath.basename(command[0]) if command else ""


def options(command: list[str], short: str, long: tuple[str, ...] = ()) -> bool:
    """Whether a command has the short option letter (alone or in a bundle like -Rf) or a long one."""
    for word in command[1:]:
        if word == "--":
            break
        if word.startswith("--"):
            if word.split("=", 1)[0] in long:
                return True
        elif word.startswith("-") and short in word[1:]:
            return True
    return False


def operands(command: list[str]) -> list[str]:
    """The words after the program that are not options."""
    words: list[str] = []
    ended = False
    for word in command[1:]:
        if not ended and word == "--":
            ended = True
        elif ended or not word.startswith("-") or word == "-":
            words.append(word)
    return words


def flag_value(instruction: Instruction, name: str) -> str | None:
    """The value of an instruction flag such as --chown=1001:0 (the last one given)."""
    value = None
    for flag in instruction.flags:
        key, equals, rest = flag.partition("=")
        if key == name and equals:
            value = rest
    return value

