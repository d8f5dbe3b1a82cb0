"""builder.verify.config: the checks of the image config, each able to pass and to fail."""

from __future__ import annotations

import pytest

from builder.engine.protocol import ImageRecord
from builder.verify import config

GOOD_LABELS = {"io.k8s.description": "an API", "io.k8s.display-name": "API", "io.openshift.tags": "api,python"}


def image(**fields: object) -> ImageRecord:
    return ImageRecord(id="i" * 64, **fields)  # type: ignore[arg-type]


def codes(outcome: config.Outcome) -> list[tuple[str, str]]:
    return [(finding.code, finding.level) for finding in outcome.findings]


@pytest.mark.parametrize("user", ["", "0", "root", "0:0", "root:x", "0:1001", "root:root", " 0 "])
def test_root_in_any_spelling_and_no_user_fail(user: str) -> None:
    outcome = config.user_check(image(user=user), "app:1")
    assert codes(outcome) == [("OS201", "error")]
    assert outcome.findings[0].file == "app:1"


@pytest.mark.parametrize("user", ["1001", "1001:0", "1000680000:0", "1001:root"])
def test_a_numeric_non_root_uid_passes(user: str) -> None:
    outcome = config.user_check(image(user=user), "app")
    assert outcome.findings == () and user in outcome.detail


def test_a_user_name_is_a_warning_since_run_as_non_root_cannot_check_it() -> None:
    outcome = config.user_check(image(user="app"), "app")
    assert codes(outcome) == [("OS201", "warning")]
    assert "numeric UID" in outcome.findings[0].hint


def test_ports_below_1024_fail_one_finding_each() -> None:
    outcome = config.ports_check(image(exposed_ports=("80/tcp", "8080/tcp", "443/tcp", "1023/udp")), "app")
    assert [f.message for f in outcome.findings] == [
        "exposes privileged port 80/tcp", "exposes privileged port 443/tcp", "exposes privileged port 1023/udp"]
    assert "8080" in outcome.findings[0].hint


def test_unprivileged_or_no_ports_pass() -> None:
    assert config.ports_check(image(exposed_ports=("1024/tcp", "8080/tcp")), "app").findings == ()
    assert config.ports_check(image(), "app").detail == "exposes no port"


def test_labels_present_and_well_formed_pass() -> None:
    labels = {**GOOD_LABELS, "io.openshift.min-memory": "512Mi", "io.openshift.min-cpu": "500m"}
    assert config.labels_check(image(labels=labels), "app").findings == ()


def test_each_missing_or_empty_label_is_a_warning() -> None:
    outcome = config.labels_check(image(labels={"io.k8s.description": " ", "io.openshift.tags": "a"}), "app")
    assert [f.message for f in outcome.findings] == [
        "label io.k8s.description is empty", "label io.k8s.display-name is missing"]
    assert {f.level for f in outcome.findings} == {"warning"}


@pytest.mark.parametrize("value", ["1Gi", "8G", "512Mi", "0.5", "500m", "2", "1e3", "+1Ki"])
def test_kubernetes_quantities_pass(value: str) -> None:
    labels = {**GOOD_LABELS, "io.openshift.min-memory": value}
    assert config.labels_check(image(labels=labels), "app").findings == ()


@pytest.mark.parametrize("value", ["1GB", "lots", "-1Gi", "1 Gi", "", "512mi"])
def test_values_that_are_no_quantity_fail(value: str) -> None:
    labels = {**GOOD_LABELS, "io.openshift.min-cpu": value}
    outcome = config.labels_check(image(labels=labels), "app")
    assert len(outcome.findings) == 1 and "io.openshift.min-cpu" in outcome.findings[0].message


def test_a_tag_list_with_an_empty_item_fails() -> None:
    outcome = config.labels_check(image(labels={**GOOD_LABELS, "io.openshift.tags": "api,,python"}), "app")
    assert "empty item" in outcome.findings[0].message


def test_forty_layers_pass_forty_one_fail() -> None:
    layers = tuple(f"sha256:{n:064x}" for n in range(41))
    assert config.layers_check(image(layers=layers[:40]), "app").findings == ()
    outcome = config.layers_check(image(layers=layers), "app")
    assert codes(outcome) == [("OS204", "error")] and "41 layers" in outcome.findings[0].message


def test_working_dir_relative_fails_unset_and_absolute_pass() -> None:
    assert codes(config.workdir_check(image(working_dir="app"), "x")) == [("OS205", "error")]
    assert config.workdir_check(image(working_dir=""), "x").findings == ()
    assert config.workdir_check(image(working_dir="/opt/app"), "x").findings == ()


def test_an_image_needs_cmd_or_entrypoint() -> None:
    assert codes(config.command_check(image(), "x")) == [("OS206", "error")]
    assert config.command_check(image(cmd=("/bin/server",)), "x").findings == ()
    assert config.command_check(image(entrypoint=("/init",)), "x").findings == ()
