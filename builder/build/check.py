"""Checking a built image: against its plan (every requested label value and name), and finding the image
an earlier `imgctl build` made for a profile (push, save and verify start from it)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from builder.build.plan import BuildPlan
from builder.config.profile import Profile
from builder.engine.protocol import Engine
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


def local_image(engine: Engine, profile: Profile) -> str:
    """The id of the image `imgctl build` made for `profile`: every one of its tags must name it.

    A missing or inconsistent image is the state of the machine, not bad input: exit 7 (the image lacks a
    tag the profile asks for), with the command that makes it.
    """
    image_ids = {}
    for ref in profile.refs:
        image = engine.inspect_image(ref)
        if image is None:
            time_varying = any(p in str(profile.setting("tags")) for p in ("{date}", "{timestamp}"))
            raise VerifyError(
                f"{ref} does not exist locally",
                hint=(
                    f"run `imgctl build {profile.name}` first"
                    + (
                        "; tags with {date} or {timestamp} change between runs: use `imgctl build --push`"
                        if time_varying
                        else ""
                    )
                ),
            )
        image_ids[ref] = image.id
    if len(set(image_ids.values())) > 1:
        detail = ", ".join(f"{ref} is {image_id[:12]}" for ref, image_id in image_ids.items())
        raise VerifyError(
            f"the tags of profile {profile.name} name different images ({detail})",
            hint=f"run `imgctl build {profile.name}` to tag one image with all of them",
        )
    return next(iter(image_ids.values()))
