"""Reading the build service's message stream: which stage and step is running, its output, the result.

Pure: it is fed the decoded JSON messages of `/libpod/build` one at a time and keeps the state a
progress display and an error report need. Buildah prefixes step lines with `[stage/stages]` only when
the Containerfile has more than one stage, writes `--> Using cache <id>` for cached steps and ends a
successful build with the bare image id.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

_STEP = re.compile(r"^(?:\[(?P<stage>\d+)/(?P<stages>\d+)\] )?STEP (?P<step>\d+)/(?P<steps>\d+): (?P<instruction>.*)$")
_IMAGE_ID = re.compile(r"^[0-9a-f]{64}$")
_EXIT_STATUS = re.compile(r"exit status (\d+)")
_FAILED_STEP = re.compile(r'STEP "(?P<step>.*)": ')


@dataclass(frozen=True)
class Step:
    stage: int
    stages: int
    number: int
    steps: int
    instruction: str

    def describe(self) -> str:
        stage = f"stage {self.stage}/{self.stages}, " if self.stages > 1 else ""
        return f"{stage}step {self.number}/{self.steps}: {self.instruction}"


@dataclass
class BuildLog:
    """State of one build as its messages arrive. `feed()` returns the text lines a plain log shows."""

    tail_size: int = 12
    step: Step | None = None
    steps_seen: int = 0
    cached_steps: int = 0
    image_id: str | None = None
    error: str | None = None
    tail: deque[str] = field(default_factory=deque)
    step_output: deque[str] = field(default_factory=deque)

    def feed(self, message: dict[str, object]) -> list[str]:
        if "error" in message:
            detail = message.get("errorDetail")
            text = message.get("error") or (detail.get("message") if isinstance(detail, dict) else None)
            self.error = str(text or "unknown build error").strip()
            return []
        text = message.get("stream")
        if not isinstance(text, str):
            return []
        lines = list(text.rstrip("\n").split("\n"))
        for line in lines:
            self._line(line)
        return lines

    def _line(self, line: str) -> None:
        match = _STEP.match(line)
        if match:
            self.step = Step(
                stage=int(match["stage"] or 1),
                stages=int(match["stages"] or 1),
                number=int(match["step"]),
                steps=int(match["steps"]),
                instruction=match["instruction"],
            )
            self.steps_seen += 1
            self.step_output.clear()
        elif line.startswith("--> Using cache "):
            self.cached_steps += 1
        elif _IMAGE_ID.match(line):
            self.image_id = line
        elif not line.startswith("--> "):
            self.step_output.append(line)
            while len(self.step_output) > self.tail_size:
                self.step_output.popleft()
        self.tail.append(line)
        while len(self.tail) > self.tail_size:
            self.tail.popleft()

    @property
    def exit_status(self) -> int | None:
        if self.error is None:
            return None
        found = _EXIT_STATUS.findall(self.error)
        return int(found[-1]) if found else None

    @property
    def failed_instruction(self) -> str | None:
        """The instruction that failed: the step running when the error came, else the one buildah names."""
        if self.step is not None:
            return self.step.instruction
        match = _FAILED_STEP.search(self.error or "")
        return match["step"] if match else None
