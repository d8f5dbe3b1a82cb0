"""Checking a built image against its plan: every requested label value and every requested name."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from builder.build.plan import BuildPlan
from builder.errors import VerifyError


def verify(
    plan: BuildPlan, labels: Mapping[str, str], repo_tags: Collection[str], ignore: Collection[str] = ()
) -> None:
    """Fail (exit 7) unless the image carries every requested label value and every requested name.

    `ignore` names labels not compared (the creation time of an image found up to date is its own).
    """
    problems = []
    for key, wanted in plan.labels.items():
        if key in ignore:
            continue
        if key not in labels:
            problems.append(f"label {key} is missing")
        elif labels[key] != wanted:
            problems.append(f"label {key} is {labels[key]!r}, expected {wanted!r}")
    for ref in plan.refs:
        if ref not in repo_tags:
            problems.append(f"tag {ref} is missing")
    if problems:
        raise VerifyError(
            "the built image does not match the profile: " + "; ".join(problems),
            hint="rerun with --no-cache; if it persists, report it with the output of --debug",
        )
