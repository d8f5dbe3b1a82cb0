from __future__ import annotations

import pytest

from builder.containerfile.document import Document
from builder.lint.rules.view import final_image, operands, options, run_commands, shell_commands
from builder.lint.subject import Subject


@pytest.mark.parametrize(("script", "expected"), [
    ("a && b || c; d | e & f", [["a"], ["b"], ["c"], ["d"], ["e"], ["f"]]),
    ("set -e; X=1 Y=2 dnf install -y gcc", [["set", "-e"], ["dnf", "install", "-y", "gcc"]]),
    ("if [ -f x ]; then sudo chmod 777 /x; fi", [["[", "-f", "x", "]"], ["chmod", "777", "/x"], ["fi"]]),
    ("mkdir -p '/opt/my app' \"/srv\" 2>/dev/null", [["mkdir", "-p", "/opt/my app", "/srv"]]),
    ("echo 'unbalanced", [["echo", "'unbalanced"]]),
    ("a # comment && b", [["a"]]),
    ("exec server --port 8080", [["server", "--port", "8080"]]),
])
def test_shell_commands(script: str, expected: list) -> None:
    assert shell_commands(script) == expected


def test_run_forms() -> None:
    (shell, exec_form, wrapped, empty) = Document.from_text(
        'FROM x\nRUN a && b\nRUN ["chmod", "777", "/x"]\nRUN ["/bin/bash", "-c", "c; d"]\nRUN []\n').instructions[1:]
    assert run_commands(shell) == [["a"], ["b"]]
    assert run_commands(exec_form) == [["chmod", "777", "/x"]]
    assert run_commands(wrapped) == [["c"], ["d"]]
    assert run_commands(empty) == []


def test_options_and_operands() -> None:
    command = ["chmod", "-Rf", "--verbose", "g=u", "--", "-odd-name"]
    assert options(command, "R") and options(command, "v", ("--verbose",)) and not options(command, "x")
    assert operands(command) == ["g=u", "-odd-name"]


def test_final_image_follows_stages_and_tracks_workdir_and_variables() -> None:
    text = ("ARG BASE=registry.access.redhat.com/ubi9/ubi\nFROM $BASE AS base\nENV APP=/opt/app\nWORKDIR $APP\n"
            "FROM alpine AS other\nFROM base\nARG SUB=data\nWORKDIR $SUB\nRUN true\n")
    image = final_image(Subject(Document.from_text(text), "Containerfile"))
    assert image is not None
    assert image.stages == (0, 2) and image.base == "registry.access.redhat.com/ubi9/ubi"
    assert (image.base_line, image.from_line) == (2, 6) and not image.single_stage
    run = next(image.keyword("RUN"))
    assert run.workdir == "/opt/app/data" and run.expand("$APP/$SUB") == "/opt/app/data"
    assert run.path("logs") == "/opt/app/data/logs"


@pytest.mark.parametrize("text", ["", "# only a comment\n", "ARG X=1\n"])
def test_no_stages(text: str) -> None:
    assert final_image(Subject(Document.from_text(text), "Containerfile")) is None


def test_unknown_values_expand_to_none() -> None:
    text = "FROM registry.access.redhat.com/ubi9/ubi\nARG TARGETARCH\nRUN true\n"
    image = final_image(Subject(Document.from_text(text), "Containerfile"))
    assert image is not None
    assert next(image.keyword("RUN")).expand("/opt/$TARGETARCH") is None
