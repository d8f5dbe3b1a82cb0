"""The stage evaluator: which stages a build runs, their variables, and the context paths their instructions
read (COPY/ADD sources, RUN bind mounts, ONBUILD triggers), or why that cannot be known for sure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from builder.containerfile.document import Instruction
from builder.containerfile.patterns import BadPattern, compile_segment, escape_glob, literal_path, source_patterns
from builder.containerfile.words import (
    PLATFORM_ARGS,
    PROXY_ARGS,
    Environment,
    Lookup,
    Unknown,
    Unresolvable,
    expand,
)

_ATOI = re.compile(r"[+-]?[0-9]+")
# Flags that change how sources are written into the image, never which context paths are read. Anything else
# is not understood, and an instruction with it reads "everything".
_COPY_FLAGS = frozenset({"--from", "--chown", "--chmod", "--link", "--parents", "--exclude"})
_ADD_FLAGS = frozenset({"--chown", "--chmod", "--link", "--checksum", "--keep-git-dir", "--exclude"})
_RUN_FLAGS = frozenset({"--mount", "--network", "--security"})


@dataclass(frozen=True)
class Stage:
    index: int
    name: str | None  # the AS name, None for an unnamed stage
    base: str  # the image or stage after FROM, as written after ARG substitution (as written if unresolvable)


@dataclass(frozen=True)
class Source:
    line: int  # 0 for sources imgctl adds itself (symlink targets, kept files)
    instruction: str  # COPY, ADD, RUN (a bind mount), ONBUILD COPY, ..., or "symlink"
    pattern: str  # relative to the context root, '/'-separated, Go filepath.Match syntax ('\\' escapes)


@dataclass(frozen=True)
class ImageFacts:
    """What an external base image adds to a build's reach. Build it with `reach.image_facts`."""

    env: frozenset[str] = frozenset()  # variables its config sets: buildah lets them override ARG values
    onbuild: bool = False  # it may carry ONBUILD triggers, which run in our build and can read the context



@dataclass(frozen=True)
class Evaluation:
    """The sources the stages that run read (None: everything, `reason` says why) and those stages."""

    sources: tuple[Source, ...] | None
    reason: str | None
    stages: tuple[Stage, ...]


class _Fallback(Exception):
    """Reach is everything; str() is the reason."""


@dataclass
class _StageInfo:
    index: int
    alias: str | None
    from_line: Instruction
    body: list[Instruction]
    base: str | None = None  # resolved base, None when unresolvable
    base_problem: str | None = None

    @property
    def name(self) -> str:
        return self.alias if self.alias is not None else str(self.index)



class Plan:
    def __init__(self, instructions: Sequence[Instruction], build_args: Mapping[str, str], target: str | None) -> None:
        self.instructions = instructions
        self.user = {str(key): str(value) for key, value in build_args.items()}
        self.target = target
        self.stages: list[_StageInfo] = []
        heading: list[Instruction] = []
        for instruction in instructions:
            if instruction.keyword == "FROM":
                alias = instruction.args[2] if len(instruction.args) == 3 else None
                self.stages.append(_StageInfo(len(self.stages), alias, instruction, []))
            elif self.stages:
                self.stages[-1].body.append(instruction)
            elif instruction.keyword == "ARG":
                heading.append(instruction)
            # Anything else before the first FROM is dropped by buildah without being run.
        self.heading = self._heading_args(heading)
        for stage in self.stages:
            self._resolve_base(stage)

    # -- stages

    def _heading_args(self, heading: list[Instruction]) -> dict[str, str | Unknown]:
        scope = Environment(env={}, env_unknown=None, args=dict(self.user), allowed=set(PROXY_ARGS),
                             heading={}, user=self.user)
        for instruction in heading:
            scope.declare(instruction)
        if scope.args_unknown is not None:
            return {name: Unknown(scope.args_unknown) for name in scope.allowed}
        return {name: value for name, value in scope.args.items() if name in scope.allowed}

    def _from_lookup(self, name: str) -> str | None:
        # from(): heading args, overridden by the platform builtins, overridden by user args that some
        # `ARG name` line (without a default) declares anywhere in the file.
        if name in self._bare_declared and name in self.user:
            return self.user[name]
        if name in PLATFORM_ARGS:
            raise Unresolvable(f"${name} is set by the build service for its platform")
        value = self.heading.get(name)
        if isinstance(value, Unknown):
            raise Unresolvable(f"${name} {value.reason}")
        return value

    @cached_property
    def _bare_declared(self) -> frozenset[str]:
        # NewStages compares user args with the text after "ARG " of every ARG line (its GlobalAllowedArgs).
        found = set()
        for instruction in self.instructions:
            head, _, rest = instruction.original.partition(" ")
            if head.lower() == "arg" and rest:
                found.add(rest)
        return frozenset(found)

    def _resolve_base(self, stage: _StageInfo) -> None:
        raw = stage.from_line.args[0]
        try:
            stage.base = expand(raw, self._from_lookup)
        except Unresolvable as problem:
            stage.base_problem = f"line {stage.from_line.line}: {stage.from_line.text}: {problem}"

    def _built(self) -> list[_StageInfo]:
        """The stages up to the target (buildah drops the ones after it)."""
        if not self.stages:
            raise _Fallback("the Containerfile has no FROM instruction")
        if self.target is None:
            return self.stages
        for stage in self.stages:
            if stage.name == self.target:
                return self.stages[: stage.index + 1]
        raise _Fallback(f"the target stage {self.target!r} is not in the Containerfile")

    def _needed(self, built: list[_StageInfo]) -> list[_StageInfo]:
        """The target and the stages it depends on, or more: never fewer than buildah builds."""
        names = {stage.name: stage.index for stage in built}
        every = set(range(len(built)))

        def refs(value: str) -> set[int]:
            if any(char in value for char in "$'\"\\"):
                return every
            if _ATOI.fullmatch(value) and 0 <= int(value) < len(built):
                return {int(value)}
            return {names[value]} if value in names else set()

        needs: dict[int, set[int]] = {}
        for stage in built:
            found: set[int] = set()
            if stage.base is None:
                found |= every
            else:
                found |= refs(stage.base)
                try:  # buildah's own dependency scan expands FROM with the build args only
                    found |= refs(expand(stage.from_line.args[0], self.user.get, strict=False))
                except Unresolvable:
                    found |= every
            for instruction in stage.body:
                for inner in (instruction, instruction.trigger):
                    if inner is None:
                        continue
                    for flag in inner.flags:
                        if inner.keyword in ("COPY", "ADD") and flag.startswith("--from="):
                            found |= refs(flag[len("--from="):])
                        elif inner.keyword == "RUN" and flag.startswith("--mount="):
                            for field in flag[len("--mount="):].split(","):
                                if field.startswith("from="):
                                    found |= refs(field[len("from="):])
            needs[stage.index] = found
        wanted = {built[-1].index}
        pending = [built[-1].index]
        while pending:
            for other in needs[pending.pop()]:
                if other not in wanted:
                    wanted.add(other)
                    pending.append(other)
        return [stage for stage in built if stage.index in wanted]

    def _stage_results(self, stages: list[_StageInfo]) -> tuple[Stage, ...]:
        return tuple(Stage(stage.index, stage.alias, stage.base if stage.base is not None
                           else stage.from_line.args[0]) for stage in stages)

    def _stage_base(self, stage: _StageInfo) -> _StageInfo | None:
        """The earlier stage this one is built on, if its base names one (buildah's imageMap)."""
        for earlier in self.stages[: stage.index]:
            if earlier.name == stage.base:
                return earlier
        return None

    def external_bases(self) -> tuple[str, ...]:
        try:
            needed = self._needed(self._built())
        except _Fallback:
            needed = self.stages
        found: list[str] = []
        for stage in needed:
            if stage.base is None or stage.base == "scratch" or self._stage_base(stage) is not None:
                continue
            if stage.base not in found:
                found.append(stage.base)
        return tuple(found)

    # -- what the stages read

    def evaluate(self, images: Mapping[str, ImageFacts] | None) -> Evaluation:
        stages: tuple[Stage, ...] = self._stage_results(self.stages)
        try:
            for instruction in self.instructions:
                for inner in (instruction, instruction.trigger):
                    if inner is not None and inner.heredoc:
                        raise _Fallback(f"line {inner.line}: heredocs are not supported")
            needed = self._needed(self._built())
            stages = self._stage_results(needed)
            sources: list[Source] = []
            finals: dict[int, Environment] = {}
            for stage in needed:
                finals[stage.index] = self._walk_stage(stage, finals, images, sources)
        except _Fallback as everything:
            return Evaluation(None, str(everything), stages)
        unique = tuple(dict.fromkeys(sources))
        return Evaluation(unique, None, stages)

    def _walk_stage(self, stage: _StageInfo, finals: Mapping[int, Environment],
                    images: Mapping[str, ImageFacts] | None, sources: list[Source]) -> Environment:
        if stage.base is None:
            raise _Fallback(stage.base_problem or "a FROM cannot be resolved")
        env: dict[str, str] = {}
        env_unknown: str | None = None
        parent = self._stage_base(stage)
        if parent is not None:
            inherited = finals.get(parent.index)
            if inherited is None:  # not needed by our reckoning but built on: cannot happen, stay safe
                raise _Fallback(f"line {stage.from_line.line}: stage {parent.name} was not analysed")
            env = dict(inherited.env)
            env_unknown = inherited.env_unknown
        elif stage.base != "scratch":
            # Not an earlier stage's name (buildah's imageMap holds only finished stages): an image.
            facts = (images or {}).get(stage.base)
            if facts is None:
                raise _Fallback(f"base image {stage.base} was not inspected: its ENV and ONBUILD triggers could "
                                f"change what the build reads")
            if facts.onbuild:
                raise _Fallback(f"base image {stage.base} may have ONBUILD triggers, which can read any part of "
                                f"the context")
            env = dict.fromkeys(facts.env, f"is set in the environment of base image {stage.base}")
        env.setdefault("PATH", "is set in the build environment")
        scope = Environment(env=env, env_unknown=env_unknown, args=dict(self.user), allowed=set(PROXY_ARGS),
                             heading=self.heading, user=self.user)
        for instruction in stage.body:
            self._step(instruction, scope, sources)
        return scope

    def _step(self, instruction: Instruction, scope: Environment, sources: list[Source]) -> None:
        keyword = instruction.keyword
        if keyword == "ARG":
            scope.declare(instruction)
        elif keyword == "ENV":
            self._set_env(instruction, scope)
        elif keyword in ("COPY", "ADD"):
            self._copy(instruction, scope.lookup, sources, keyword)
        elif keyword == "RUN":
            self._run(instruction, scope.lookup, sources, keyword)
        elif keyword == "ONBUILD" and instruction.trigger is not None:
            trigger = instruction.trigger
            label = f"ONBUILD {trigger.keyword}"

            def later(name: str) -> str | None:
                raise Unresolvable(f"${name} is expanded in the stage that runs the trigger")

            if trigger.keyword in ("COPY", "ADD"):
                self._copy(trigger, later, sources, label)
            elif trigger.keyword == "RUN":
                self._run(trigger, later, sources, label)
            elif trigger.keyword in ("ENV", "ARG"):
                scope.env_unknown = f"an ONBUILD {trigger.keyword} on line {instruction.line} can set it"

    def _set_env(self, instruction: Instruction, scope: Environment) -> None:
        for name in instruction.args[::2]:
            try:
                expanded = expand(name, scope.lookup, strict=False)
            except Unresolvable:
                scope.env_unknown = f"the ENV on line {instruction.line} sets a variable imgctl cannot name"
                continue
            scope.env[expanded] = f"is set by ENV on line {instruction.line} (imgctl does not use ENV values)"

    def _copy(self, instruction: Instruction, lookup: Lookup, sources: list[Source], label: str) -> None:
        def unsure(why: object) -> _Fallback:
            return _Fallback(f"line {instruction.line}: {instruction.text}: {why}")

        allowed = _COPY_FLAGS if instruction.keyword == "COPY" else _ADD_FLAGS
        from_context = True
        for flag in instruction.flags:
            name = flag.split("=", 1)[0]
            if name not in allowed:
                raise unsure(f"the flag {name} is not understood")
            if name == "--from":
                value = flag[len("--from="):]
                try:
                    from_context = expand(value, lookup, strict=False) == ""
                except Unresolvable:
                    from_context = True  # it might expand to nothing, and then the context is read
        if not from_context:
            return
        for raw in instruction.args[:-1]:
            try:
                value = expand(raw, lookup)
            except Unresolvable as problem:
                raise unsure(problem) from None
            if instruction.keyword == "ADD" and value.startswith(("http://", "https://")):
                continue  # downloaded by the build service, not read from the context
            if "\\" in value:
                # buildah 1.28 globs each match again (see Reach.with_links): `dir\*/f` matches the file
                # `dir*/f`, whose name then globs as `dir*/f` and copies `dirx/f` too. The escape only
                # holds for the first glob, so any backslash left after the word sends everything.
                raise unsure(f"the source '{value}' keeps a backslash, but buildah globs each match again, where "
                             f"\\* is a wildcard; imgctl cannot tell exactly what it copies")
            for pattern in source_patterns(value):
                if pattern == "":
                    raise _Fallback(f"line {instruction.line}: {label} {raw} reads the whole context")
                try:
                    for part in pattern.split("/"):
                        compile_segment(part)
                except BadPattern as problem:
                    raise unsure(f"the pattern {value!r} is malformed ({problem})") from None
                sources.append(Source(instruction.line, label, pattern))

    def _run(self, instruction: Instruction, lookup: Lookup, sources: list[Source], label: str) -> None:
        def unsure(why: object) -> _Fallback:
            return _Fallback(f"line {instruction.line}: {instruction.text}: {why}")

        for flag in instruction.flags:
            name = flag.split("=", 1)[0]
            if name not in _RUN_FLAGS:
                raise unsure(f"the flag {name} is not understood")
            if name != "--mount":
                continue
            try:
                spec = expand(flag[len("--mount="):], lookup, strict=False)
            except Unresolvable as problem:
                raise unsure(problem) from None
            fields = spec.split(",")
            kind = "bind"
            for field in fields:
                if field.startswith("type="):
                    kind = field[len("type="):]
            if kind in ("cache", "tmpfs", "secret", "ssh"):
                continue  # none of these reads the build context
            if kind != "bind":
                raise unsure(f"the mount type {kind!r} is not understood")
            if any(field.startswith("from=") and field != "from=" for field in fields):
                continue  # a stage or an image, not the context
            # buildah keeps the last source= it is given; take them all.
            paths = [literal_path(field.partition("=")[2]) for field in fields
                     if field.partition("=")[0] in ("source", "src")] or [""]
            for path in paths:
                if path == "":
                    raise _Fallback(f"line {instruction.line}: {label} --mount=type=bind reads the whole context")
                sources.append(Source(instruction.line, label, escape_glob(path)))
