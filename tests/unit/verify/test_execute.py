"""builder.verify.execute: one report of every check, with the profile's skips and policy."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from builder.config.sections import VerifySettings
from builder.engine.protocol import ImageRecord
from builder.errors import ConfigError
from builder.findings.model import Report
from builder.verify.catalog import CHECKS
from builder.verify.execute import NO_RUN, Target, verify
from tests.fakes import Behaviour, FakeEngine
from tests.unit.verify.tarfiles import D, F, diff_id, docker_archive, layer_tar

LABELS = {"io.k8s.description": "d", "io.k8s.display-name": "n", "io.openshift.tags": "t"}


def engine_with(user: str = "1001", **fields: object) -> FakeEngine:
    base = layer_tar(F("bin/busybox", 1000, 0o755), D("etc"), F("etc/passwd", 30))
    app = layer_tar(D("app", 0o775, 1001, 0), D("app/data", 0o775, 1001, 0))
    engine = FakeEngine(saved=docker_archive(base, app),
                        behaviours=[Behaviour(writable=frozenset({"/app/data"}))])
    record = ImageRecord(id="a" * 64, repo_tags=("localhost/app:1",), labels=LABELS, user=user,
                         exposed_ports=("8080/tcp",), volumes=("/app/data",), cmd=("/app/server",),
                         working_dir="/app", layers=(diff_id(base), diff_id(app)),
                         layer_history=("COPY busybox", "RUN mkdir /app"))
    engine.add(ImageRecord(**{**record.__dict__, **fields}))
    return engine


def run(engine: FakeEngine, **target: object) -> Report:
    return verify(engine, Target(ref="localhost/app:1", subject="localhost/app:1", **target),  # type: ignore[arg-type]
                  clock=engine.clock, sleep=engine.sleep)


def test_a_good_image_passes_every_check_and_lists_them_all_in_order() -> None:
    engine = engine_with()
    report = run(engine)
    assert report.findings == () and report.exit_code == 0
    assert [check.code for check in report.checks] == list(CHECKS)
    assert report.notes[0].startswith("2 layers, ")
    assert report.notes[1].endswith("COPY busybox")
    assert engine.live_containers() == []


def test_a_root_image_fails_on_its_check_only() -> None:
    report = run(engine_with(user="0:0"))
    assert [f.code for f in report.failing] == ["OS201"]
    assert report.exit_code == 1


def test_skipped_checks_do_not_run_and_show_their_reasons() -> None:
    engine = engine_with(user="0")
    settings = VerifySettings(skip=MappingProxyType({"OS201": "the base image's entrypoint drops root",
                                                     "OS222": "a batch image", "OS299": "typo"}))
    report = run(engine, settings=settings)
    assert report.findings == ()
    assert [(s.code, s.reason) for s in report.skipped] == [
        ("OS201", "the base image's entrypoint drops root"), ("OS222", "a batch image")]
    assert "OS222" not in {c.code for c in report.checks}
    assert any("OS299, which is no check" in note for note in report.notes)
    assert next(iter(engine.containers.values())).signals == []


def test_no_run_starts_nothing_and_skipping_every_layer_check_exports_nothing() -> None:
    engine = engine_with()
    skip = MappingProxyType({"OS210": "x", "OS211": "x", "OS213": "x"})
    report = run(engine, run=False, settings=VerifySettings(skip=skip))
    assert engine.containers == {} and engine.called("save") == []
    assert {s.code: s.reason for s in report.skipped}["OS220"] == NO_RUN
    assert {c.code for c in report.checks} == {"OS201", "OS202", "OS203", "OS204", "OS205", "OS206"}


def test_the_threshold_and_ignore_of_the_settings_and_the_command_line_apply() -> None:
    labels_missing = engine_with(labels={})
    assert run(labels_missing).exit_code == 1  # warnings fail at "warning"
    relaxed = run(engine_with(labels={}), settings=VerifySettings(failure_threshold="error"))
    assert relaxed.exit_code == 0 and relaxed.findings
    ignored = run(engine_with(labels={}), settings=VerifySettings(ignore=("OS203",)))
    assert ignored.findings == ()
    strict = run(engine_with(labels={}), settings=VerifySettings(failure_threshold="error"),
                 failure_threshold="warning")
    assert strict.exit_code == 1


def test_writable_paths_of_the_profile_are_checked_in_the_layers_and_at_run_time() -> None:
    engine = engine_with()
    report = run(engine, writable_paths=("/var/lib/app",))
    assert sorted(f.code for f in report.findings) == ["OS210", "OS221"]


def test_an_image_that_is_not_there_is_bad_input() -> None:
    with pytest.raises(ConfigError, match="no image localhost/app:1"):
        run(FakeEngine())
