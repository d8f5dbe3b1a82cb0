from __future__ import annotations

import pytest

from builder.lint.rules.base import is_ubi, suggest

UBI = "registry.access.redhat.com/ubi9"
OS101 = ("OS101",)


@pytest.mark.parametrize("reference", [
    "registry.access.redhat.com/ubi9/ubi-minimal:9.4",
    "registry.redhat.io/ubi8/ubi:8.10",
    "registry.access.redhat.com/ubi10/ubi-micro",
    "registry.access.redhat.com/ubi9/nodejs-18-minimal@sha256:" + "a" * 64,
    "registry.access.redhat.com/ubi9:latest",
    "ubi9/ubi-init",
    "REGISTRY.ACCESS.REDHAT.COM/UBI9/UBI",
])
def test_ubi_images(reference: str) -> None:
    assert is_ubi(reference)


@pytest.mark.parametrize("reference", [
    "docker.io/library/ubuntu:22.04", "node:18", "quay.io/ubi9/ubi:9.4", "registry.redhat.io/rhel9/postgresql-15",
    "registry.access.redhat.com/ubuntu/ubi9", "localhost/ubi9-stand-in:1",
])
def test_other_images(reference: str) -> None:
    assert not is_ubi(reference)


@pytest.mark.parametrize(("reference", "expected"), [
    ("node:18-alpine", f"{UBI}/nodejs-18-minimal"),
    ("docker.io/library/node:22.3.0", f"{UBI}/nodejs-22-minimal"),
    ("node", f"{UBI}/nodejs-20-minimal"),
    ("python:3.11-slim", f"{UBI}/python-311"),
    ("python:3.7", f"{UBI}/python-312"),  # no UBI 9 image for it: the newest
    ("eclipse-temurin:17-jre", f"{UBI}/openjdk-17-runtime"),
    ("openjdk:21", f"{UBI}/openjdk-21-runtime"),
    ("php:8.1-apache", f"{UBI}/php-81"),
    ("ruby:3.1", f"{UBI}/ruby-31"),
    ("mcr.microsoft.com/dotnet/aspnet:8.0", f"{UBI}/dotnet-80-runtime"),
    ("nginx:1.22", f"{UBI}/nginx-122"),
    ("alpine:3.20", f"{UBI}/ubi-minimal"),
    ("debian:bookworm-slim", f"{UBI}/ubi-minimal"),
    ("ubuntu:24.04", f"{UBI}/ubi-minimal"),
    ("quay.io/centos/centos:stream9", f"{UBI}/ubi"),
    ("fedora:40", f"{UBI}/ubi"),
    ("gcr.io/distroless/static-debian12", f"{UBI}/ubi-micro"),
    ("busybox", f"{UBI}/ubi-micro"),
    ("example.com/team/custom:1", f"{UBI}/ubi-minimal"),
])
def test_suggestions(reference: str, expected: str) -> None:
    assert suggest(reference) == expected


def test_golang_suggests_micro_and_a_go_toolset_build_stage() -> None:
    assert suggest("golang:1.22").startswith(f"{UBI}/ubi-micro") and "go-toolset" in suggest("golang:1.22")


def test_final_stage_only(lint) -> None:
    text = "FROM node:20 AS build\nRUN true\nFROM registry.access.redhat.com/ubi9/ubi-minimal:9.4\nUSER 1001\n"
    assert lint(text, codes=OS101) == []


def test_follows_stage_references_to_the_external_image(lint, findings) -> None:
    text = ("ARG BASE=docker.io/library/python:3.12\nFROM ${BASE} AS base\nFROM base AS app\nUSER 1001\n"
            "FROM registry.access.redhat.com/ubi9/ubi AS other\n")
    assert lint(text, codes=OS101, target="app") == [("OS101", 2)]
    (found,) = findings(text, codes=OS101, target="app")
    assert "docker.io/library/python:3.12" in found.message and f"{UBI}/python-312" in found.hint


def test_build_args_choose_the_base(lint) -> None:
    text = "ARG BASE=registry.access.redhat.com/ubi9/ubi\nFROM $BASE\nUSER 1001\n"
    assert lint(text, codes=OS101) == []
    assert lint(text, codes=OS101, build_args={"BASE": "alpine:3"}) == [("OS101", 2)]


@pytest.mark.parametrize("text", [
    "FROM scratch\nCOPY app /app\nUSER 1001\n",
    "ARG BASE\nFROM ${BASE}\n",  # an empty, unknowable base: nothing to say
    "FROM $TARGETPLATFORM_IMAGE\n",
])
def test_quiet(lint, text: str) -> None:
    assert lint(text, codes=OS101) == []


def test_unknown_target_is_quiet(lint) -> None:
    assert lint("FROM alpine\n", target="nope") == []
