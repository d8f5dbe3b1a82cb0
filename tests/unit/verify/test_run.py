"""builder.verify.run: a run as an arbitrary UID on the fake engine's clock; every container is removed."""

from __future__ import annotations

import pytest

from builder.engine.protocol import ContainerSpec, ImageRecord, ProcessRecord
from builder.errors import ContainerError, Interrupted
from builder.verify.run import JOB_LIMIT, LABEL, RunResult, RunSettings, run_checks
from tests.fakes import Behaviour, FakeEngine

ALL = frozenset({"OS220", "OS221", "OS222"})
USER = "1000680000:0"


def run(engine: FakeEngine, writable: list[str] | None = None, *, kind: str = "service", grace: float = 10,
        wanted: frozenset[str] = ALL, image: ImageRecord | None = None) -> RunResult:
    record = engine.add(image or ImageRecord(id="i" * 64, repo_tags=("localhost/app:1",)))
    settings = RunSettings(kind=kind, user=USER, grace=grace, wanted=wanted)
    return run_checks(engine, record, record.id, "localhost/app:1", settings, writable or [],
                      clock=engine.clock, sleep=engine.sleep)


def by_code(result: RunResult) -> dict[str, tuple[str, list[str]]]:
    return {o.code: (o.detail, [f.message for f in o.findings]) for o in result.outcomes}


def test_a_well_behaved_service_passes_all_three_and_is_removed() -> None:
    engine = FakeEngine(behaviours=[Behaviour(writable=frozenset({"/data"}), stops_after=0.3)])
    result = run(engine, ["/data"])
    found = by_code(result)
    assert found == {
        "OS220": (f"up as {USER}", []),
        "OS221": ("wrote in /data", []),
        "OS222": ("stopped 0.3 s after SIGTERM (exit code 0)", []),
    }
    (container,) = engine.containers.values()
    assert container.spec == ContainerSpec(image="i" * 64, user=USER, labels={LABEL: "1"})
    assert container.execs == [(("touch", "/data/.imgctl-verify-probe"), USER)]
    assert container.signals == ["SIGTERM"] and engine.live_containers() == []


def test_a_service_that_exits_at_once_fails_os220_with_its_output_and_the_rest_do_not_run() -> None:
    logs = "boot\nmkdir: /run/x: Permission denied"
    engine = FakeEngine(behaviours=[Behaviour(exits_after=0.1, exit_code=1, logs=logs)])
    result = run(engine, ["/data"])
    (message,) = by_code(result)["OS220"][1]
    assert "exited within 0.5 s with code 1 as 1000680000:0" in message and "Permission denied" in message
    assert set(by_code(result)) == {"OS220"} and "did not stay up" in result.notes[0]
    assert engine.live_containers() == []


def test_a_start_the_runtime_refuses_is_a_finding_of_the_image() -> None:
    engine = FakeEngine(behaviours=[Behaviour(start_error='exec: "/app/server": permission denied')])
    result = run(engine)
    assert "does not start as 1000680000:0" in by_code(result)["OS220"][1][0]
    assert engine.live_containers() == []


def test_a_path_the_user_cannot_write_fails_os221_only() -> None:
    engine = FakeEngine(behaviours=[Behaviour(writable=frozenset({"/data"}))])
    found = by_code(run(engine, ["/data", "/cache"]))
    assert found["OS221"][1] == ["/cache is not writable by 1000680000:0: touch: /cache/.imgctl-verify-probe: "
                                 "Permission denied"]
    assert found["OS220"][1] == [] and found["OS222"][1] == []


def test_an_image_without_touch_says_so_instead_of_passing_os221() -> None:
    engine = FakeEngine(behaviours=[Behaviour(has_touch=False)])
    result = run(engine, ["/data"])
    assert "OS221" not in by_code(result)
    assert any("has no `touch`" in note and "OS210" in note for note in result.notes)


def test_sigterm_ignored_fails_after_the_grace_and_names_a_shell_as_pid_1() -> None:
    shell = (ProcessRecord("1", "sh", "/bin/sh /app/run.sh"), ProcessRecord("7", "server", "server"))
    engine = FakeEngine(behaviours=[Behaviour(stops_after=None, processes=shell)])
    result = run(engine, grace=10)
    detail, (message,) = by_code(result)["OS222"]
    assert detail.startswith("still running 10.0 s after SIGTERM")
    assert "PID 1 is a shell, `/bin/sh /app/run.sh`" in message
    (container,) = engine.containers.values()
    assert container.signals == ["SIGTERM"] and engine.live_containers() == []
    assert 10 <= engine.now < 12  # judged in the grace period, plus the settling of the start


def test_sigterm_ignored_by_a_program_as_pid_1_suggests_an_init() -> None:
    engine = FakeEngine(behaviours=[Behaviour(stops_after=None)])
    (message,) = by_code(run(engine, grace=3))["OS222"][1]
    assert "PID 1 is `/usr/bin/server --port 8080`" in message and "did not stop within 3 s" in message


def test_the_image_stop_signal_is_the_one_sent() -> None:
    engine = FakeEngine()
    image = ImageRecord(id="s" * 64, stop_signal="SIGQUIT")
    assert "after SIGQUIT" in by_code(run(engine, image=image))["OS222"][0]
    assert next(iter(engine.containers.values())).signals == ["SIGQUIT"]


def test_a_skipped_stop_check_sends_no_signal() -> None:
    engine = FakeEngine()
    result = run(engine, wanted=frozenset({"OS220", "OS221"}))
    assert set(by_code(result)) == {"OS220", "OS221"}
    assert next(iter(engine.containers.values())).signals == [] and engine.live_containers() == []


def test_a_job_that_exits_0_passes_and_its_paths_are_tried_by_probe_runs() -> None:
    engine = FakeEngine(behaviours=[Behaviour(exits_after=2.0), Behaviour(writable=frozenset({"/out"})),
                                    Behaviour(writable=frozenset())])
    result = run(engine, ["/out", "/tmp/x"], kind="job")
    found = by_code(result)
    assert found["OS220"] == (f"exited 0 in 2.0 s as {USER}", [])
    assert found["OS221"][1] == ["/tmp/x is not writable by 1000680000:0"]
    probes = [c.spec for c in engine.containers.values()][1:]
    assert [(p.entrypoint, p.command, p.user) for p in probes] == [
        (("touch",), ("/out/.imgctl-verify-probe",), USER), (("touch",), ("/tmp/x/.imgctl-verify-probe",), USER)]
    assert "OS222" not in found and engine.live_containers() == []


def test_a_job_that_fails_or_never_ends_fails_os220() -> None:
    failing = FakeEngine(behaviours=[Behaviour(exits_after=1.0, exit_code=3)])
    assert "exited with code 3" in by_code(run(failing, kind="job"))["OS220"][1][0]
    stuck = FakeEngine(behaviours=[Behaviour(exits_after=None)])
    found = by_code(run(stuck, kind="job"))
    assert f"still running after {JOB_LIMIT:g} s" in found["OS220"][1][0]
    assert found["OS222"][1] == []  # it was stopped by SIGTERM, as a service is


@pytest.mark.parametrize("error", [ContainerError("the engine refused exec"), Interrupted("interrupted by SIGINT")])
def test_the_container_is_removed_when_the_run_is_cut_short(error: Exception) -> None:
    class Breaking(FakeEngine):
        def signal_container(self, container_id: str, signal: str) -> None:
            raise error

    engine = Breaking()
    with pytest.raises(type(error)):
        run(engine)
    assert len(engine.containers) == 1 and engine.live_containers() == []
