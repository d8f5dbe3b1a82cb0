from __future__ import annotations

import pytest

UBI = "FROM registry.access.redhat.com/ubi9/ubi:9.4\nUSER 1001\n"
OPENSHIFT = 'LABEL io.k8s.display-name="d" io.k8s.description="d" io.openshift.tags="a,b"\n'
LABELS = ("OS115", "OS116", "OS117")


def test_openshift_labels_present(lint) -> None:
    assert lint(f"{UBI}{OPENSHIFT}", codes=LABELS) == []


def test_missing_and_empty_labels(findings) -> None:
    (found,) = findings(f"{UBI}LABEL io.k8s.display-name=\"d\" io.k8s.description=\"\"\n", codes=LABELS)
    assert (found.code, found.line, found.level) == ("OS115", 1, "info")
    assert "io.k8s.description" in found.message and "io.openshift.tags" in found.message
    assert "display-name" not in found.message


def test_labels_of_the_stages_below_and_of_the_profile_count(lint) -> None:
    text = f"FROM registry.access.redhat.com/ubi9/ubi AS base\n{OPENSHIFT}FROM base\nUSER 1001\n"
    assert lint(text, codes=LABELS) == []
    profile = {"io.k8s.display-name": "d", "io.k8s.description": "d", "io.openshift.tags": "a"}
    assert lint(UBI, codes=LABELS, labels=profile) == []


def test_labels_of_other_stages_do_not(lint) -> None:
    text = f"FROM registry.access.redhat.com/ubi9/ubi AS build\n{OPENSHIFT}{UBI}"
    assert lint(text, codes=LABELS) == [("OS115", 3)]


def test_variables_in_labels(lint) -> None:
    text = f"{UBI}ARG TAGS=web\nLABEL io.k8s.display-name=d io.k8s.description=d io.openshift.tags=$TAGS\n"
    assert lint(text, codes=LABELS) == []


@pytest.mark.parametrize(("label", "ok"), [
    ('io.openshift.min-memory="512Mi"', True), ('io.openshift.min-memory="1GB"', False),
    ('io.openshift.min-memory="1.5Gi"', True), ('io.openshift.min-cpu="500m"', True),
    ('io.openshift.min-cpu="2"', True), ('io.openshift.min-cpu="two"', False),
    ('io.openshift.non-scalable="true"', True), ('io.openshift.non-scalable="yes"', False),
    ('io.openshift.s2i.scripts-url="image:///usr/libexec/s2i"', True),
    ('io.openshift.s2i.scripts-url="/usr/libexec/s2i"', False),
    ('io.openshift.wants="mongodb,redis"', True), ('io.openshift.wants="mongodb;redis"', False),
    ('io.openshift.expose-services="8080:http"', True),
    ('io.openshift.expose-services="8080/tcp:http,8443:https"', True),
    ('io.openshift.expose-services="http"', False),
    ('io.openshift.expose-services="9090:metrics"', False),  # not EXPOSEd
])
def test_label_values(lint, label: str, ok: bool) -> None:
    text = f"{UBI}{OPENSHIFT}EXPOSE 8080 8443\nLABEL {label}\n"
    assert lint(text, codes=LABELS) == ([] if ok else [("OS116", 5)])


def test_certification_policy(findings, lint) -> None:
    certified = ('LABEL name=a vendor=b version=1 release=2 summary=s description=d '
                 'maintainer="Team <t@example.com>"\n')
    assert lint(f"{UBI}{OPENSHIFT}{certified}", codes=LABELS, policy="certification") == []
    assert lint(f"{UBI}{OPENSHIFT}", codes=LABELS) == []  # openshift policy: not asked
    (found,) = findings(f"{UBI}{OPENSHIFT}LABEL name=a vendor=b\n", codes=LABELS, policy="certification")
    assert (found.code, found.level) == ("OS117", "error")
    assert "version, release, summary, description, maintainer" in found.message
