"""Validation of rendered documents against the schemas their projects publish (tests/data/schemas/README.md).

Core kinds go through kubernetes-validate's strict schemas. The Tekton CRD schema and OpenShift's OpenAPI
definitions are made strict the same way here: an object schema that lists `properties` and says nothing
about other keys rejects them, so a misspelt field fails instead of being silently pruned by the API server.

The OpenShift file is the `$ref` closure of BuildConfig and ImageStream in openshift/api's openapi.json:

    defs = json.load(open("openapi/openapi.json"))["definitions"]; walk every "$ref" from
    com.github.openshift.api.build.v1.BuildConfig and com.github.openshift.api.image.v1.ImageStream;
    write {"swagger", "info", "definitions": {name: defs[name] for name in sorted(closure)}}
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

SCHEMAS = Path(__file__).resolve().parents[2] / "data" / "schemas"
KUBERNETES_VERSION = "1.37.0"
_OPENSHIFT_ROOTS = {
    ("build.openshift.io/v1", "BuildConfig"): "com.github.openshift.api.build.v1.BuildConfig",
    ("image.openshift.io/v1", "ImageStream"): "com.github.openshift.api.image.v1.ImageStream",
}
_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def strict(schema: Any) -> Any:
    """A copy in which every object schema with `properties` and no word on other keys forbids them."""
    if isinstance(schema, dict):
        result = {key: strict(value) for key, value in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            result["additionalProperties"] = False
        return result
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


@cache
def _openshift() -> dict[str, Any]:
    document = json.loads((SCHEMAS / "openshift" / "openapi-build-image.json").read_text())
    return {"definitions": strict(document["definitions"])}


@cache
def _tekton_task_run() -> dict[str, Any]:
    # libyaml's loader where PyYAML has it: the pure-Python one takes seconds over this 0.5 MB file.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    crd = yaml.load((SCHEMAS / "tekton" / "300-taskrun.yaml").read_text(), Loader=loader)
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return strict(version["schema"]["openAPIV3Schema"])


@cache
def _gitlab() -> dict[str, Any]:
    return json.loads((SCHEMAS / "gitlab" / "ci.json").read_text())


def _check(schema: dict[str, Any], instance: Any, cls: Any = jsonschema.Draft7Validator) -> None:
    errors = sorted(cls(schema).iter_errors(instance), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def _object_meta(metadata: Any) -> None:
    definitions = _openshift()["definitions"]
    _check({"definitions": definitions, "$ref": f"#/definitions/{_OBJECT_META}"}, metadata, jsonschema.Draft4Validator)


def validate_document(document: dict[str, Any]) -> str:
    """Validate one Kubernetes-style document by its apiVersion and kind; returns which schema was used."""
    key = (document.get("apiVersion"), document.get("kind"))
    if key in (("batch/v1", "Job"), ("v1", "Secret")):
        kubernetes_validate.validate(copy.deepcopy(document), KUBERNETES_VERSION, strict=True)
        return "kubernetes-validate"
    if key == ("tekton.dev/v1", "TaskRun"):
        _check(_tekton_task_run(), document)
        _object_meta(document["metadata"])  # the CRD schema says only `type: object` for metadata
        return "tekton"
    if key in _OPENSHIFT_ROOTS:
        definitions = _openshift()["definitions"]
        _check({"definitions": definitions, "$ref": f"#/definitions/{_OPENSHIFT_ROOTS[key]}"}, document,
               jsonschema.Draft4Validator)
        return "openshift"
    raise AssertionError(f"no schema for {key}")


def validate_gitlab(document: dict[str, Any]) -> None:
    _check(_gitlab(), document)


def validate_text(text: str) -> list[str]:
    """Every document of a rendered YAML text; returns the schema used for each."""
    return [validate_document(document) for document in yaml.safe_load_all(text)]
