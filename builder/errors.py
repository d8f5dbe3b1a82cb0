"""The exception tree. Every error a user can cause or meet ends here, with its exit code.

The CLI catches `ImgctlError` in exactly one place (`builder.cli.main`) and prints `str(error)` plus the
hint; nothing below the CLI prints or exits. Exit codes are part of the interface (README, "Exit codes"):

    0  success
    1  unexpected internal error (a bug: rerun with --debug and report it)
    2  bad input: profile, TOML, command-line value, template; a Containerfile `build --lint=error` refuses
    3  registry credentials missing or refused
    4  no container engine: podman missing or the service unreachable
    5  the build itself failed (a step exited non-zero, a base image could not be pulled, ...)
    6  a registry could not be reached or refused the operation
    7  the image was built but does not carry what was asked for (tags, labels)
    8  a container `imgctl verify` needs could not be created, run or removed by the engine
    130 interrupted (Ctrl-C, SIGTERM)
"""

from __future__ import annotations

from pathlib import Path


class ImgctlError(Exception):
    """Base of every error imgctl reports to the user."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(ImgctlError):
    """Bad input: a profile, a TOML file, a template or a command-line value.

    `file`, `line` and `key` locate the problem; `str()` renders them as `file:line: key: message`.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.file = file
        self.line = line
        self.key = key

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}"


class LintError(ImgctlError):
    """`imgctl build --lint=error`: the Containerfile has findings at or above the failure threshold, so the
    build was not started. Bad input, like a bad profile: exit 2 (`imgctl lint` itself exits 1, as hadolint)."""

    exit_code = 2


class AuthError(ImgctlError):
    """Credentials for a registry are missing or were refused."""

    exit_code = 3


class EngineError(ImgctlError):
    """No usable container engine: podman is not installed or its service does not answer."""

    exit_code = 4


class BuildError(ImgctlError):
    """The build ran and failed. `step` is the failing instruction, `tail` its last output lines."""

    exit_code = 5

    def __init__(
        self,
        message: str,
        *,
        step: str | None = None,
        exit_status: int | None = None,
        tail: tuple[str, ...] = (),
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.step = step
        self.exit_status = exit_status
        self.tail = tail


class RegistryError(ImgctlError):
    """A registry could not be reached or refused an operation (other than authentication)."""

    exit_code = 6


class VerifyError(ImgctlError):
    """The image exists but lacks a requested tag or label value."""

    exit_code = 7


class ContainerError(ImgctlError):
    """The engine refused an operation on a container `imgctl verify` started (create, exec, signal, remove).

    A container that starts and then fails is a finding of the image, not this error; this is for the
    engine's own refusals, which say nothing about the image.
    """

    exit_code = 8


class Interrupted(ImgctlError):
    """Ctrl-C or SIGTERM; raised so that every cleanup runs before the process exits."""

    exit_code = 130
