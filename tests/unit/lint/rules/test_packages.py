from __future__ import annotations

import pytest

PACKAGES = ("OS112", "OS113", "OS114")
UBI = "FROM registry.access.redhat.com/ubi9/ubi:9.4\n"


@pytest.mark.parametrize(("run", "expected"), [
    ("dnf install -y openssh-server && dnf clean all", [("OS112", 2)]),
    ("microdnf install -y sudo && microdnf clean all", [("OS112", 2)]),
    ("apt-get install -y --no-install-recommends openssh-server=1:9.2", [("OS112", 2)]),
    ("apk add --no-cache openssh", [("OS112", 2)]),
    ("pip install --no-cache-dir supervisor==4.2.5", [("OS112", 2)]),
    ("yum install -y dropbear supervisor && yum clean all", [("OS112", 2)]),
    ("dnf install -y openssh-clients && dnf clean all", []),  # the client is not a server
    ("sudo -u app true", []),  # using sudo is hadolint's DL3004
])
def test_remote_access(lint, run: str, expected: list) -> None:
    assert lint(f"{UBI}RUN {run}\nUSER 1001\n", codes=("OS112",)) == expected


def test_remote_access_in_a_build_stage_too(lint) -> None:
    text = f"{UBI[:-1]} AS build\nRUN dnf install -y sudo\n{UBI}USER 1001\n"
    assert lint(text, codes=("OS112",)) == [("OS112", 2)]


@pytest.mark.parametrize(("run", "expected"), [
    ("dnf install -y gcc make && dnf clean all", [("OS113", 2)]),
    ("dnf install -y python3-devel-3.9.18 && dnf clean all", [("OS113", 2)]),
    ("apt-get install -y build-essential libssl-dev", [("OS113", 2)]),
    ("apt-get -o Dpkg::Use-Pty=0 install -y gcc", [("OS113", 2)]),
    ("apk add --no-cache --virtual .build gcc musl-dev && make && apk del .build", []),
    ("dnf install -y gcc && make && dnf remove -y gcc && dnf clean all", []),
    ("dnf install -y python3 && dnf clean all", []),
    ("npm ci", [("OS113", 2), ("OS114", 2)]),
    ("npm install", [("OS113", 2), ("OS114", 2)]),
    ("npm ci --omit=dev && npm cache clean --force", []),
    ("npm install --production && npm cache clean --force", []),
    ("npm install -g serve@14 && npm cache clean --force", []),
    ("npm ci --omit=dev", [("OS114", 2)]),
])
def test_toolchain_and_npm(lint, run: str, expected: list) -> None:
    assert lint(f"{UBI}RUN {run}\nUSER 1001\n", codes=PACKAGES) == expected


def test_npm_cache_mount_and_node_env(lint) -> None:
    text = f"{UBI}ENV NODE_ENV=production\nRUN --mount=type=cache,target=/root/.npm npm ci\nUSER 1001\n"
    assert lint(text, codes=PACKAGES) == []


def test_toolchain_in_a_build_stage_is_fine(lint) -> None:
    text = f"{UBI[:-1]} AS build\nRUN dnf install -y gcc make && npm ci\n{UBI}COPY --from=build /out /app\n"
    assert lint(text, codes=PACKAGES) == []


def test_toolchain_in_the_stage_the_final_one_is_built_on(lint) -> None:
    text = f"{UBI[:-1]} AS base\nRUN dnf install -y gcc && dnf clean all\nFROM base\nUSER 1001\n"
    assert lint(text, codes=PACKAGES) == [("OS113", 2)]
