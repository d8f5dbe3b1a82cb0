from __future__ import annotations

import pytest

from builder.build.log import BuildLog

ID = "01b5ad421bb6c218956c2b79ff23ca867ee769cd0b248cf703302a76a9c0aa83"


def feed_all(messages: list[dict]) -> BuildLog:
    log = BuildLog(tail_size=3)
    for message in messages:
        log.feed(message)
    return log


def test_multi_stage_steps_cache_and_image_id() -> None:
    log = feed_all(
        [
            {"stream": "[1/2] STEP 1/2: FROM localhost/busybox:latest AS base\n"},
            {"stream": "[1/2] STEP 2/2: RUN echo hello\n"},
            {"stream": "--> Using cache 1806100e43dea2de184617aab1addd92438e5b68e29cf51df52ac3ad3b0a87a6\n"},
            {"stream": "[2/2] STEP 1/3: FROM 1806100e43de AS final\n"},
            {"stream": "[2/2] STEP 2/3: COPY f /f\n"},
            {"stream": "[2/2] COMMIT\n--> 01b5ad421bb\n"},
            {"stream": ID + "\n"},
        ]
    )
    assert log.step is not None
    assert (log.step.stage, log.step.stages, log.step.number, log.step.steps) == (2, 2, 2, 3)
    assert log.step.instruction == "COPY f /f"
    assert log.steps_seen == 4
    assert log.cached_steps == 1
    assert log.image_id == ID
    assert log.error is None


def test_single_stage_has_no_stage_prefix() -> None:
    log = feed_all([{"stream": "STEP 2/5: RUN make\n"}])
    assert log.step is not None
    assert (log.step.stage, log.step.stages, log.step.number, log.step.steps) == (1, 1, 2, 5)
    assert log.step.describe() == "step 2/5: RUN make"


def test_step_output_is_reset_per_step_and_bounded() -> None:
    log = feed_all(
        [{"stream": "STEP 1/2: RUN a\n"}, {"stream": "old\n"}, {"stream": "STEP 2/2: RUN b\n"}]
        + [{"stream": f"line {i}\n"} for i in range(5)]
    )
    assert list(log.step_output) == ["line 2", "line 3", "line 4"]


@pytest.mark.parametrize(
    ("error", "status", "instruction"),
    [
        ('error building at STEP "RUN exit 3": error while running runtime: exit status 3', 3, "RUN b"),
        ("some pull failure: unauthorized", None, "RUN b"),
        ('error building at STEP "RUN echo "a": b": exit status 1', 1, "RUN b"),
    ],
)
def test_errors_give_status_and_failing_instruction(error: str, status: int | None, instruction: str) -> None:
    log = feed_all([{"stream": "STEP 1/1: RUN b\n"}, {"error": error, "errorDetail": {"message": error}}])
    assert log.error == error
    assert log.exit_status == status
    assert log.failed_instruction == instruction


def test_error_detail_used_when_error_is_empty() -> None:
    log = feed_all([{"error": "", "errorDetail": {"message": "boom"}}])
    assert log.error == "boom"


def test_failed_instruction_from_the_error_when_no_step_was_seen() -> None:
    log = feed_all([{"error": 'building at STEP "RUN echo "x" >&2; exit 2": while running runtime: exit status 2'}])
    assert log.failed_instruction == 'RUN echo "x" >&2; exit 2'
    assert log.exit_status == 2
