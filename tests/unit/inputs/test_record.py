"""builder.inputs.record: what an earlier image records, from its digest label, this machine's detail, or the
components label of an earlier imgctl."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings

from builder.inputs.digest import Inputs, compute
from builder.inputs.explain import NO_CHANGE, explain
from builder.inputs.hashcache import HashCache
from builder.inputs.record import decode_label
from builder.oci.labels import COMPONENTS_LABEL, DIGEST_LABEL
from tests.unit.inputs.project import BASE, BASES, Project, components_strategy, legacy_label, write


@pytest.mark.parametrize("kept", ["detail", "legacy label"])
def test_the_label_round_trips(project: Project, kept: str) -> None:
    result = project.compute()
    if kept == "detail":
        labels = project.built(result)
        assert set(labels) == {DIGEST_LABEL}
        decoded = project.recorded({**labels, "other": "label"})
    else:
        labels = legacy_label(result.components)
        assert set(labels) == {DIGEST_LABEL, COMPONENTS_LABEL}
        decoded = decode_label({**labels, "other": "label"})
    assert labels[DIGEST_LABEL] == result.digest
    assert decoded is not None and decoded.detailed
    assert set(decoded) == set(result.components)
    for name, value in decoded.items():
        assert result.components[name].startswith(value) and len(value) >= 16
    assert decoded[f"base:{BASE}"] == BASES[BASE]  # kept whole, for "moved (a -> b)"
    assert explain(decoded, result) == ["the inputs did not change"]


@pytest.mark.parametrize("labels", [
    {},
    {"org.opencontainers.image.title": "not built by imgctl"},
    {COMPONENTS_LABEL: "not json"},
    {COMPONENTS_LABEL: '{"v":1,"c":{"file:a":"0123'},  # truncated
    {COMPONENTS_LABEL: '{"v":2,"c":{}}'},
    {COMPONENTS_LABEL: '{"v":1,"c":{"file:a":7}}'},
    {COMPONENTS_LABEL: '{"v":1,"c":["file:a"]}'},
    {COMPONENTS_LABEL: "[1, 2]"},
    {COMPONENTS_LABEL: "[" * 100000},
])
def test_absent_or_corrupt_labels_decode_to_none(labels: dict[str, str], tmp_path: Path) -> None:
    assert decode_label(labels) is None
    assert decode_label(labels, HashCache(tmp_path)) is None


def test_a_digest_without_detail_here_is_a_record_without_detail(tmp_path: Path) -> None:
    # An image built on another machine: its digest, and what its own labels show, nothing more.
    labels = {DIGEST_LABEL: "sha256:" + "0" * 64, "team": "core", "org.opencontainers.image.created": "now"}
    for cache in (None, HashCache(tmp_path)):
        recorded = decode_label(labels, cache)
        assert recorded is not None and not recorded.detailed
        assert dict(recorded) == {"label:team": hashlib.sha256(b"core").hexdigest()}
    assert decode_label({**labels, DIGEST_LABEL: "../../etc/passwd"}, HashCache(tmp_path)) is None


def test_an_image_labelled_by_an_earlier_imgctl_still_matches_and_is_explained() -> None:
    components = {"containerfile": "a" * 64, "file:src/app.py": "b" * 64, "dir:src": "c" * 64, "target": "d" * 64,
                  f"base:{BASE}": BASES[BASE]}
    # Exactly what imgctl put on such an image before the components label was dropped.
    labels = {
        DIGEST_LABEL: "sha256:10c914bfc4d627ba4ca11cb883986c07128f3ae0135eba1d91be392511737b91",
        COMPONENTS_LABEL: '{"c":{"base:registry.example.com/ubi9:9.4":"sha256:' + "ab" * 32 + '",'
                          '"containerfile":"aaaaaaaaaaaaaaaa","dir:src":"cccccccccccccccc",'
                          '"file:src/app.py":"bbbbbbbbbbbbbbbb","target":"dddddddddddddddd"},"v":1}',
    }
    # The digest is framed as before, so the image is found up to date by its digest label.
    assert Inputs.of(components).to_label()[DIGEST_LABEL] == labels[DIGEST_LABEL]
    assert explain(decode_label(labels), Inputs.of(components)) == [NO_CHANGE]
    changed = Inputs.of({**components, "file:src/app.py": "e" * 64})
    assert explain(decode_label(labels, HashCache(None)), changed) == ["src/app.py changed"]


def test_a_folded_legacy_label_is_explained_per_tree_and_per_file_with_the_detail(project: Project) -> None:
    for top in range(6):
        for sub in range(10):
            for index in range(30):
                write(project.ctx / f"pkg{top}" / f"mod{sub}" / f"file_with_a_long_name_{index:03}.py", b"x = 1\n")
    cache = project.cache()
    before = compute(project.plan(), BASES, cache)
    labels = legacy_label(before.components, depth=2)
    decoded = decode_label(labels)
    assert decoded is not None
    assert "tree:pkg3/mod4" in decoded and "file:src/app.py" in decoded
    assert "file:pkg3/mod4/file_with_a_long_name_000.py" not in decoded
    cache.remember(before)
    cache.save()

    write(project.ctx / "pkg3" / "mod4" / "file_with_a_long_name_007.py", b"x = 2\n")
    after = project.compute()
    assert explain(decoded, after) == ["files under pkg3/mod4/ changed"]
    detailed = decode_label(labels, project.cache())
    assert detailed is not None
    assert "file:pkg3/mod4/file_with_a_long_name_000.py" in detailed
    assert explain(detailed, after) == ["pkg3/mod4/file_with_a_long_name_007.py changed"]
    # Detail that does not agree with the label is not trusted.
    assert decode_label({**labels, DIGEST_LABEL: "sha256:" + "1" * 64}, project.cache()) == decoded
    assert decode_label({**labels, DIGEST_LABEL: "../../etc/passwd"}, project.cache()) == decoded
    disagreeing = legacy_label({**before.components, "file:pkg3/mod4/extra.py": "f" * 64}, depth=2)
    assert decode_label({**disagreeing, DIGEST_LABEL: before.digest}, project.cache()) == decode_label(disagreeing)


def test_a_legacy_label_folded_to_the_root_is_one_tree() -> None:
    components = {f"file:{index:05}-{'n' * 40}": hashlib.sha256(b"%d" % index).hexdigest() for index in range(3000)}
    components["target"] = "0" * 64
    labels = legacy_label(components, depth=0)
    decoded = decode_label(labels)
    assert decoded is not None
    assert set(decoded) == {"target", "tree:"}
    changed = Inputs.of({**components, "file:00007-" + "n" * 40: "f" * 64})
    assert explain(decoded, changed) == ["files in the build context changed"]




@settings(max_examples=200)
@given(components_strategy)
def test_any_component_set_round_trips_through_the_label(components: dict[str, str]) -> None:
    result = Inputs.of(components)
    cache = HashCache(None)
    cache.remember(result)
    for decoded in (decode_label(result.to_label(), cache), decode_label(legacy_label(components))):
        assert decoded is not None and set(decoded) == set(components)
        assert explain(decoded, result) == ["the inputs did not change"]
