"""builder.s2i.scripts: the builder's labels, and where each script is found."""

from __future__ import annotations

import pytest

from builder.s2i.scripts import BuilderFacts, Unusable, has_script, script_path


def test_the_current_label_wins_over_the_deprecated_one() -> None:
    facts = BuilderFacts.from_labels("b", {"io.s2i.scripts-url": "image:///old",
                                           "io.openshift.s2i.scripts-url": "image:///new"})
    assert facts.scripts_dir == "/new"
    assert BuilderFacts.from_labels("b", {"io.s2i.scripts-url": "image:///old"}).scripts_dir == "/old"


def test_without_labels_nothing_is_known_and_the_destination_is_tmp() -> None:
    facts = BuilderFacts.from_labels("b", {})
    assert (facts.scripts_url, facts.scripts_dir, facts.destination) == (None, None, "/tmp")


def test_a_relative_destination_is_refused() -> None:
    with pytest.raises(Unusable, match="not an absolute path"):
        BuilderFacts.from_labels("b", {"io.openshift.s2i.destination": "opt/s2i"})


def test_the_source_wins_over_the_builder_script_by_script() -> None:
    facts = BuilderFacts("b", "image:///usr/libexec/s2i")
    assert script_path("assemble", facts, frozenset({"assemble"})) == "/tmp/scripts/assemble"
    assert script_path("run", facts, frozenset({"assemble"})) == "/usr/libexec/s2i/run"


def test_has_script_answers_without_raising() -> None:
    assert has_script("save-artifacts", BuilderFacts("b", "image:///s2i"), frozenset()) is True
    assert has_script("save-artifacts", BuilderFacts("b", "https://x/s2i"), frozenset()) is False
    assert has_script("save-artifacts", BuilderFacts("b", None), frozenset({"save-artifacts"})) is True
