"""One `imgctl verify` of one image: the config checks, the layer checks, the run checks, in one report.

What a profile's `[verify]` skips is not run at all (a skipped run check saves its container time), and is
listed in the report with the profile's reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from builder.config.profile import Profile
from builder.config.sections import VerifySettings
from builder.engine.protocol import Engine, ImageRecord
from builder.errors import ConfigError
from builder.findings.model import Check, Finding, Report, Skipped
from builder.verify import config, filesystem
from builder.verify.archive import image_layers
from builder.verify.catalog import CHECKS, FILESYSTEM, RUN, Outcome
from builder.verify.run import RunSettings, run_checks
from builder.verify.stack import stack

log = logging.getLogger("imgctl.verify")
NO_RUN = "--no-run: the image was not started"
_T = TypeVar("_T")


@dataclass(frozen=True)
class Target:
    """An image to verify, the name reports give it, and the settings of its profile (defaults for a bare
    image reference)."""

    ref: str
    subject: str
    settings: VerifySettings = field(default_factory=VerifySettings)
    writable_paths: tuple[str, ...] = ()
    run: bool = True
    failure_threshold: str | None = None  # the command line's, over the profile's


def profile_target(profile: Profile, ref: str, *, run: bool = True, failure_threshold: str | None = None) -> Target:
    """The target for a profile's image `ref` (its id, or a tag), reported under the profile's first tag."""
    return Target(ref=ref, subject=profile.refs[0], settings=profile.verify, writable_paths=profile.writable_paths,
                  run=run, failure_threshold=failure_threshold)


def skipped_checks(target: Target) -> dict[str, str]:
    """code -> reason, for the checks that will not run."""
    skip = {code: reason for code, reason in target.settings.skip.items() if code in CHECKS}
    if not target.run:
        for code, info in CHECKS.items():
            if info.reads == RUN:
                skip.setdefault(code, NO_RUN)
    return skip


def verify(
    engine: Engine,
    target: Target,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Report:
    image = engine.inspect_image(target.ref)
    if image is None:
        raise ConfigError(f"no image {target.ref} in the engine's storage",
                          hint="build it first, or name it as `podman images` lists it")
    skip = skipped_checks(target)
    wanted = [code for code in CHECKS if code not in skip]
    outcomes: list[Outcome] = []
    notes: list[str] = [
        f"[verify] skip names {code}, which is no check of imgctl verify (see docs/verify.md)"
        for code in target.settings.skip
        if code not in CHECKS
    ]
    outcomes += [config.CONFIG_CHECKS[code](image, target.subject) for code in wanted if code in config.CONFIG_CHECKS]
    # The layers are read while the container runs: the export and the run are both mostly waiting.
    layers = (_InThread(engine, lambda clone: _layer_checks(clone, image, target, wanted))
              if any(CHECKS[code].reads == FILESYSTEM for code in wanted) else None)
    run_wanted = [code for code in wanted if CHECKS[code].reads == RUN]
    run_notes: list[str] = []
    if run_wanted:
        settings = RunSettings(kind=target.settings.kind, user=target.settings.user,
                               grace=float(target.settings.grace), wanted=frozenset(run_wanted))
        writable = [*image.volumes, *target.writable_paths]
        began = time.monotonic()
        result = run_checks(engine, image, image.id, target.subject, settings, list(dict.fromkeys(writable)),
                            clock=clock, sleep=sleep)
        log.debug("%s: the run checks took %.2f s", target.subject, time.monotonic() - began)
        outcomes += result.outcomes
        run_notes = result.notes
    if layers is not None:
        layer_outcomes, layer_notes = layers.result()
        outcomes += layer_outcomes
        notes += layer_notes
    notes += run_notes
    return _report(target, outcomes, skip, notes)


class _InThread(Generic[_T]):
    """`work` on a connection of its own (`Engine.clone`) in a thread; `result()` waits for it.

    If the caller leaves without asking (an error, Ctrl-C), the thread only reads an export and ends with
    the process: it starts nothing that would need removing.
    """

    def __init__(self, engine: Engine, work: Callable[[Engine], _T]) -> None:
        self._engine = engine.clone()
        self._outcome: list[_T] = []
        self._failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(work,), name="imgctl-layers", daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[Engine], _T]) -> None:
        try:
            self._outcome.append(work(self._engine))
        except BaseException as exc:  # handed to the caller's thread
            self._failure.append(exc)

    def result(self) -> _T:
        self._thread.join()
        self._engine.close()
        if self._failure:
            raise self._failure[0]
        return self._outcome[0]


def _layer_checks(
    engine: Engine, image: ImageRecord, target: Target, wanted: list[str]
) -> tuple[list[Outcome], list[str]]:
    began = time.monotonic()
    layers = image_layers(engine, image.id, image.layers)
    stacked = stack(layers)
    log.debug("%s: %d layers read and stacked in %.2f s", target.subject, len(layers), time.monotonic() - began)
    sizes = filesystem.layer_sizes(image, layers, stacked)
    checks = {
        "OS210": lambda: filesystem.group_check(image, stacked, target.writable_paths, target.subject),
        "OS211": lambda: filesystem.passwd_check(stacked, target.subject),
        "OS213": lambda: filesystem.waste_check(stacked, sizes, target.subject),
    }
    return [checks[code]() for code in wanted if code in checks], filesystem.layer_notes(sizes)


def _report(target: Target, outcomes: list[Outcome], skip: dict[str, str], notes: list[str]) -> Report:
    policy = target.settings.findings_policy()
    if target.failure_threshold is not None:
        policy = type(policy)(ignore=policy.ignore, override=policy.override,
                              failure_threshold=target.failure_threshold)
    findings: list[Finding] = [item for outcome in outcomes for item in outcome.findings]
    order = list(CHECKS)
    checks = tuple(
        Check(outcome.code, CHECKS[outcome.code].title, outcome.detail)
        for outcome in sorted(outcomes, key=lambda outcome: order.index(outcome.code))
    )
    skipped = tuple(Skipped(code, reason) for code, reason in sorted(skip.items()))
    return Report(tool="verify", subject=target.subject, findings=tuple(policy.apply(findings)), policy=policy,
                  checks=checks, skipped=skipped, notes=tuple(notes))
