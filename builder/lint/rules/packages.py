"""OS112-OS114: what the final image should not carry: remote-login and multi-process tools, build
toolchains, package caches hadolint does not know.

hadolint covers sudo *use* (DL3004), running ssh & co. (DL3001), and the caches of dnf/microdnf (DL3040), yum
(DL3032), zypper (DL3036), apt (DL3009), apk (DL3019), pip (DL3042) and yarn (DL3060). These rules cover
installing the daemons, shipping compilers in the final image (build them in another stage), npm's dev
dependencies and npm's cache.
"""

from __future__ import annotations

import re

from builder.findings.model import Finding
from builder.lint.rules.model import Rule
from builder.lint.rules.view import FinalImage, Step, operands, program, run_commands
from builder.lint.subject import Subject

REMOTE_ACCESS = Rule(
    "OS112", "warning", "An SSH server, sudo or a process supervisor is installed",
    "Remove it: use `oc rsh`/`oc exec` (or `podman exec`) instead of sshd, run one process per container "
    "instead of supervisord, and no sudo (the container runs as an arbitrary non-root UID).",
    source="OpenShift 'Avoid sshd' and 'Avoid multiple processes'",
)
TOOLCHAIN = Rule(
    "OS113", "warning", "The final image ships a build toolchain or development dependencies",
    "Build in a separate stage (FROM ... AS build) and COPY --from=build only the result into a ubi-minimal or "
    "runtime image; for npm use `npm ci --omit=dev`.",
    source="OpenShift 'Reuse images' / UBI minimal and micro images (small images, small attack surface)",
)
NPM_CACHE = Rule(
    "OS114", "info", "npm's cache is left in the image",
    "Add `&& npm cache clean --force` to the same RUN, or use RUN --mount=type=cache,target=/root/.npm.",
    source="OpenShift 'Clean temporary files'",
)
RULES = (REMOTE_ACCESS, TOOLCHAIN, NPM_CACHE)

_MANAGERS = {"dnf": "rpm", "yum": "rpm", "microdnf": "rpm", "tdnf": "rpm", "apt-get": "deb", "apt": "deb",
             "apk": "apk", "zypper": "rpm", "pip": "pip", "pip3": "pip"}
_INSTALL = frozenset({"install", "add", "in", "groupinstall"})
_REMOVE = frozenset({"remove", "erase", "purge", "del", "rm"})
_REMOTE = {"openssh-server": "an SSH server", "dropbear": "an SSH server", "sudo": "sudo",
           "supervisor": "supervisord", "supervisord": "supervisord"}
_APK_REMOTE = {"openssh": "an SSH server"}
_TOOLS = frozenset({"gcc", "gcc-c++", "g++", "clang", "make", "cmake", "automake", "autoconf", "libtool",
                    "build-essential", "maven", "gradle", "golang", "go-toolset", "rust", "cargo", "rust-toolset",
                    "nodejs-devel", "musl-dev", "binutils", "kernel-headers", "java-devel"})
_VERSION = re.compile(r"(?:[=<>~!@].*|-[0-9].*)$")
_NPM_INSTALL = frozenset({"install", "i", "ci", "add"})
_NPM_NO_DEV = ("--omit=dev", "--production", "--only=prod", "--only=production", "--prod")


def check(subject: Subject, image: FinalImage | None) -> list[Finding]:
    findings: list[Finding] = []
    for instruction in subject.document.instructions:
        if instruction.keyword != "RUN":
            continue
        installed = _installed(run_commands(instruction))
        remote = sorted({what for manager, name in installed
                         for what in [_REMOTE.get(name) or (_APK_REMOTE.get(name) if manager == "apk" else None)]
                         if what})
        if remote:
            findings.append(REMOTE_ACCESS.finding(subject, instruction.line,
                                                  f"RUN installs {', '.join(remote)}"))
    if image is not None:
        for step in image.keyword("RUN"):
            findings += _final_run(subject, step)
    return findings


def _final_run(subject: Subject, step: Step) -> list[Finding]:
    findings: list[Finding] = []
    commands = run_commands(step.instruction)
    tools = sorted({name for manager, name in _installed(commands) if _is_tool(manager, name)})
    if tools:
        findings.append(TOOLCHAIN.finding(subject, step.instruction.line,
                                          f"RUN installs {', '.join(tools)} into the final image"))
    npm = [command for command in commands if program(command) == "npm" and len(command) > 1
           and command[1] in _NPM_INSTALL]
    if any(_dev_dependencies(step, command) for command in npm):
        findings.append(TOOLCHAIN.finding(
            subject, step.instruction.line, "npm installs the development dependencies into the final image",
            "Use `npm ci --omit=dev` (or set ENV NODE_ENV=production), or install in a build stage."))
    cached = any(flag.startswith("--mount=") and "type=cache" in flag for flag in step.instruction.flags)
    cleaned = any(program(command) == "npm" and "cache" in command[1:2] and "clean" in command for command in commands)
    if npm and not (cached or cleaned):
        findings.append(NPM_CACHE.finding(subject, step.instruction.line,
                                          "npm install leaves its cache (~/.npm) in the image"))
    return findings


def _dev_dependencies(step: Step, command: list[str]) -> bool:
    if any(word.split("=")[0] in ("--omit", "--only") or word in _NPM_NO_DEV for word in command):
        return False
    if step.values.get("NODE_ENV") == "production":
        return False
    # `npm install express` adds named packages (their dev dependencies are never installed).
    return command[1] == "ci" or not operands(command)[1:]


def _installed(commands: list[list[str]]) -> set[tuple[str, str]]:
    """(manager kind, package name) installed by these commands and not removed again in the same RUN."""
    installed: set[tuple[str, str]] = set()
    removed: set[str] = set()
    virtual: dict[str, set[tuple[str, str]]] = {}
    for command in commands:
        manager = _MANAGERS.get(program(command))
        if manager is None:
            continue
        words = _without_option_values(command)
        names = operands(words)
        if not names:
            continue
        action, packages = names[0], [_VERSION.sub("", name) for name in names[1:]]
        if action in _INSTALL:
            found = {(manager, name) for name in packages if name}
            installed |= found
            group = _option_value(command, ("--virtual", "-t"))
            if manager == "apk" and group:
                virtual[group] = found
        elif action in _REMOVE or (manager == "deb" and action == "remove"):
            removed |= set(packages)
            for name in packages:
                for gone in virtual.get(name, set()):
                    removed.add(gone[1])
    return {(manager, name) for manager, name in installed if name not in removed}


def _without_option_values(command: list[str]) -> list[str]:
    words: list[str] = []
    skip = False
    for word in command:
        if skip:
            skip = False
            continue
        if word in ("--virtual", "-t", "-o", "--setopt", "--enablerepo", "--disablerepo", "--repo", "-c", "--config"):
            skip = True
            continue
        words.append(word)
    return words


def _option_value(command: list[str], names: tuple[str, ...]) -> str | None:
    for index, word in enumerate(command[:-1]):
        if word in names:
            return command[index + 1]
    return None


def _is_tool(manager: str, name: str) -> bool:
    if manager == "pip":
        return False
    if name in _TOOLS:
        return True
    if manager == "rpm":
        return name.endswith("-devel")
    return name.endswith("-dev")

