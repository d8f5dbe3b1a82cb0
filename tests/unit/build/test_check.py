"""builder.build.check: an image is compared with its plan's labels and names."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from builder.build.check import verify
from builder.errors import VerifyError
from builder.oci.labels import TIME_VARYING_LABELS
from tests.unit.build.test_execute import make_plan

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
