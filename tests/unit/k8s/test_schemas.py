"""The validators themselves: each must reject what its schema forbids, or a passing document proves nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.k8s.schemas import validate_document, validate_gitlab

JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x"},
       "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}}}
TASK_RUN = {"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "metadata": {"name": "x"},
            "spec": {"taskRef": {"name": "buildah"}}}
BUILD_CONFIG = {"apiVersion": "build.openshift.io/v1", "kind": "BuildConfig", "metadata": {"name": "x"},
                "spec": {"strategy": {"type": "Docker", "dockerStrategy": {}}}}
IMAGE_STREAM = {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream", "metadata": {"name": "x"},
                "spec": {"tags": [{"name": "1", "from": {"kind": "DockerImage", "name": "q/x:1"}}]}}


def _with(document: dict[str, Any], path: tuple[str, ...], key: str, value: Any) -> dict[str, Any]:
    import copy

    changed = copy.deepcopy(document)
    target = changed
    for part in path:
        target = target[part]
    target[key] = value
    return changed


@pytest.mark.parametrize(
    ("document", "schema", "path"),
    [
        (JOB, "kubernetes-validate", ("spec",)),
        (TASK_RUN, "tekton", ("spec",)),
        (BUILD_CONFIG, "openshift", ("spec",)),
        (IMAGE_STREAM, "openshift", ("spec",)),
    ],
)
def test_each_validator_accepts_a_minimal_document_and_rejects_a_misspelt_field(
    document: dict[str, Any], schema: str, path: tuple[str, ...]
) -> None:
    assert validate_document(document) == schema
    with pytest.raises(Exception, match=r"backofLimit"):
        validate_document(_with(document, path, "backofLimit", 1))


def test_metadata_of_a_task_run_is_checked_too() -> None:
    with pytest.raises(AssertionError):
        validate_document(_with(TASK_RUN, ("metadata",), "lables", {}))


def test_build_config_requires_its_strategy() -> None:
    broken = _with(BUILD_CONFIG, (), "spec", {"runPolicy": "Serial"})
    with pytest.raises(AssertionError, match="strategy"):
        validate_document(broken)


def test_gitlab_schema_rejects_an_unknown_job_keyword() -> None:
    validate_gitlab({"build": {"script": ["true"]}})
    with pytest.raises(AssertionError):
        validate_gitlab({"build": {"script": ["true"], "scirpt": "x"}})
    with pytest.raises(AssertionError):
        validate_gitlab({"build": {"script": []}})  # script needs at least one line
