"""builder.inputs.explain: why a build was not skipped, with and without the earlier build's detail."""

from __future__ import annotations

from builder.inputs.digest import Inputs, compute
from builder.inputs.explain import NO_DETAIL, NO_OTHER_DETAIL, explain
from builder.inputs.record import decode_label
from builder.oci.labels import Provenance
from tests.unit.inputs.project import BASE, BASES, NOW, Project, write


def test_explain_without_an_earlier_build(project: Project) -> None:
    assert explain(None, project.compute()) == ["no earlier build of this profile"]


def test_explain_orders_reasons_and_stops_at_the_limit(project: Project) -> None:
    before = project.compute()
    for index in range(15):
        write(project.ctx / "gen" / f"f{index:02}.txt", b"x")
    write(project.root / "build" / "Containerfile", b"FROM scratch\n")
    after = project.compute('target = "t"\n')
    lines = explain(before.components, after, limit=4)
    assert lines == ["the Containerfile changed", "the target changed", "directory gen was added",
                     "gen/f00.txt was added", "and 14 more"]
    assert len(explain(before.components, after, limit=100)) == 18


def test_explain_shows_unprintable_names_quoted() -> None:
    before = Inputs.of({"file:a\nb": "0" * 64})
    after = Inputs.of({"file:a\nb": "1" * 64})
    assert explain(before.components, after) == ["'a\\nb' changed"]


# ------------------------------------------------------------------------ an earlier build from elsewhere


def image_labels(project: Project, inputs_of: Inputs, **plan_labels: str) -> dict[str, str]:
    """The labels an image built with `inputs_of` carries: the profile's, its base's, and the input digest."""
    plan = project.plan()
    return {"vendor": "from the base image", **plan.labels, **plan_labels, **inputs_of.to_label()}


def test_without_the_detail_it_says_so_plainly(project: Project) -> None:
    before = project.compute()
    labels = image_labels(project, before)
    write(project.ctx / "src" / "app.py", b"print('changed')\n")
    after = project.compute()
    assert explain(decode_label(labels, project.cache()), after) == [
        "the previous image was built elsewhere (or its detail was pruned from this machine's cache): "
        "imgctl cannot say which input changed"
    ]
    assert explain(decode_label(labels, project.cache()), after) == [NO_DETAIL]
    # With the detail on this machine, the same image names the file.
    project.built(before)
    assert explain(decode_label(labels, project.cache()), after) == ["src/app.py changed"]


def test_without_the_detail_it_still_gives_what_the_labels_and_current_inputs_show(project: Project) -> None:
    before = project.compute()
    labels = image_labels(project, before)
    after = project.compute(provenance=Provenance(created=NOW, revision="def"), bases={BASE: None})
    assert explain(decode_label(labels, project.cache()), after) == [
        NO_OTHER_DETAIL,
        f"the digest of base image {BASE} is unknown (it is not present locally)",
        "label org.opencontainers.image.revision changed",
    ]
    # A label the profile adds reads "added"; one the image has but the profile does not is never "removed"
    # (the image may have it from its base).
    project.profile_text = project.profile_text.replace('x = "y"', 'x = "y"\nw = "v"')
    added = project.compute()
    assert explain(decode_label(labels), added) == [NO_OTHER_DETAIL, "label w was added"]
    assert explain(decode_label(labels), added, limit=0) == [NO_OTHER_DETAIL, "and 1 more"]


def test_without_the_detail_nothing_is_read_from_the_context(project: Project) -> None:
    before = project.compute()
    labels = image_labels(project, before)
    cache = project.cache()
    after = compute(project.plan(), BASES, cache)
    assert cache.tree_hits == 1
    assert explain(decode_label(labels, cache), after) == [NO_DETAIL]
    assert (cache.hits, cache.misses) == (0, 0)
