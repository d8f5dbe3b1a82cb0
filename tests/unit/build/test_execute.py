"""builder.build: the decisions made from what the engine reports (the builds themselves are integration tests)."""

from __future__ import annotations

from builder.build.execute import _image_with_inputs, _why_built
from builder.inputs import COMPONENTS_LABEL, DIGEST_LABEL, HashCache, Inputs

COMPONENTS = {"containerfile": "a" * 64, "file:src/app.py": "b" * 64, "target": "c" * 64}


def image(labels: dict[str, str], image_id: str = "f" * 64) -> dict:
    return {"Id": image_id, "Config": {"Labels": labels}, "RepoTags": ["localhost/app:latest"]}


class Engine:
    """Answers the one call `_image_with_inputs` may make besides what it is given."""

    def __init__(self, images: dict[str, dict]) -> None:
        self.images = images
        self.listed = 0

    def images_with_label(self, key: str, value: str) -> list[str]:
        self.listed += 1
        return [i for i, doc in self.images.items() if doc["Config"]["Labels"].get(key) == value]

    def inspect_image(self, ref: str) -> dict | None:
        return self.images.get(ref)


def test_the_first_tag_answers_without_listing_the_store() -> None:
    inputs = Inputs.of(COMPONENTS)
    previous = image({DIGEST_LABEL: inputs.digest})
    engine = Engine({})
    assert _image_with_inputs(engine, inputs, previous) is previous
    assert engine.listed == 0


def test_an_image_elsewhere_is_found_by_its_label() -> None:
    inputs = Inputs.of(COMPONENTS)
    match = image({DIGEST_LABEL: inputs.digest}, "e" * 64)
    engine = Engine({"e" * 64: match})
    assert _image_with_inputs(engine, inputs, image({DIGEST_LABEL: "sha256:" + "0" * 64})) is match
    assert _image_with_inputs(engine, Inputs.of({**COMPONENTS, "target": "d" * 64}), None) is None
    assert engine.listed == 2


def test_same_components_under_another_digest_blame_the_imgctl_version() -> None:
    inputs = Inputs.of(COMPONENTS)
    labels = {**inputs.to_label(), DIGEST_LABEL: "sha256:" + "0" * 64}
    assert _why_built(image(labels), inputs, HashCache(None)) == [
        "the earlier image was labelled by another version of imgctl, whose input digest differs"
    ]


def test_a_changed_component_is_named() -> None:
    before = Inputs.of(COMPONENTS)
    after = Inputs.of({**COMPONENTS, "file:src/app.py": "9" * 64})
    assert COMPONENTS_LABEL in before.to_label()
    assert _why_built(image(before.to_label()), after, HashCache(None)) == ["src/app.py changed"]
    assert _why_built(None, after, HashCache(None)) == ["no earlier build of this profile"]
