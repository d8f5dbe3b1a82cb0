"""builder.build.check: an image is compared with its plan's labels and names; a profile's built image found."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from builder.build.check import local_image, verify
from builder.engine.protocol import ImageRecord
from builder.errors import VerifyError
from builder.oci.labels import TIME_VARYING_LABELS
from tests.fakes import FakeEngine
from tests.unit.build.test_execute import make_plan
from tests.unit.push.test_execute import profile

NOW = datetime(2026, 11, 24, 12, 30, 5, tzinfo=timezone.utc)


def test_every_label_value_and_tag_present_passes(tmp_path: Path) -> None:
    plan = make_plan(tmp_path)
    verify(plan, {**plan.labels, "extra": "ignored"}, (*plan.refs, "other:tag"))


def test_missing_and_different_values_and_missing_tags_are_each_named(tmp_path: Path) -> None:
    plan = make_plan(tmp_path)
    labels = {k: v for k, v in plan.labels.items() if k != "x"}
    labels["org.opencontainers.image.title"] = "wrong"
    with pytest.raises(VerifyError) as caught:
        verify(plan, labels, plan.refs[:1])
    message = str(caught.value)
    assert "label x is missing" in message
    assert "label org.opencontainers.image.title is 'wrong', expected 'app'" in message
    assert f"tag {plan.refs[1]} is missing" in message
    assert caught.value.exit_code == 7 and caught.value.hint and "--no-cache" in caught.value.hint


def test_ignored_labels_are_not_compared(tmp_path: Path) -> None:
    plan = make_plan(tmp_path)
    labels = {k: v for k, v in plan.labels.items() if k not in TIME_VARYING_LABELS}
    verify(plan, labels, plan.refs, ignore=TIME_VARYING_LABELS)
    with pytest.raises(VerifyError):
        verify(plan, labels, plan.refs)


def test_the_local_image_is_the_one_every_tag_names(tmp_path: Path) -> None:
    engine = FakeEngine()
    engine.add(ImageRecord(id="a" * 64, repo_tags=("localhost/team/app:1", "localhost/team/app:latest")))
    assert local_image(engine, profile(tmp_path)) == "a" * 64


def test_a_missing_local_image_is_a_state_with_exit_7_and_says_build_first(tmp_path: Path) -> None:
    engine = FakeEngine()
    engine.add(ImageRecord(id="a" * 64, repo_tags=("localhost/team/app:1",)))
    with pytest.raises(VerifyError) as caught:
        local_image(engine, profile(tmp_path))
    assert caught.value.exit_code == 7
    assert str(caught.value) == "localhost/team/app:latest does not exist locally"
    assert caught.value.hint == "run `imgctl build app` first"


def test_tags_naming_different_images_are_exit_7(tmp_path: Path) -> None:
    engine = FakeEngine()
    engine.add(ImageRecord(id="a" * 64, repo_tags=("localhost/team/app:1",)))
    engine.add(ImageRecord(id="b" * 64, repo_tags=("localhost/team/app:latest",)))
    with pytest.raises(VerifyError) as caught:
        local_image(engine, profile(tmp_path))
    assert "name different images" in str(caught.value) and caught.value.exit_code == 7
