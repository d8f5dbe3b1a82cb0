"""The checks that run the image (OS220-OS222): as an arbitrary UID in group 0, writing, and stopping.

One container does it all for a service: start it as `verify.user`; `touch` a new file in every VOLUME and
writable path from inside it (as that user) while it must stay up for `SETTLE` seconds; read PID 1 from the host
(`podman top`, so the image needs no tools); send the image's stop signal (SIGTERM unless STOPSIGNAL says
otherwise) and wait up to the grace period for it to exit by itself; else it is killed by its removal. A job
must exit 0 by itself instead, and its paths are tried by short runs of `touch` (its own container has ended).

Whatever is created is removed, with its anonymous volumes, in a `finally`: also on a failure or Ctrl-C.
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from builder.engine.protocol import ContainerSpec, ContainerState, Engine, ImageRecord
from builder.errors import ContainerError
from builder.findings.model import Finding
from builder.verify.catalog import Outcome, finding

SETTLE = 0.5  # seconds a service must stay up after its start
JOB_LIMIT = 60.0  # seconds a job may run before it is judged stuck (then stopped like a service)
PROBE_LIMIT = 10.0  # seconds a probe run of `touch` may take
POLL = 0.05
SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "busybox"})
LABEL = "io.imgctl.verify"  # on every container verify creates, to find leftovers of a killed run
PROBE = ".imgctl-verify-probe"
CANNOT_RUN = (126, 127)  # the exit codes of a command that is missing or not executable


@dataclass(frozen=True)
class RunSettings:
    kind: str  # "service" or "job"
    user: str  # "UID:GID"
    grace: float
    wanted: Collection[str]  # the run checks not skipped


@dataclass
class RunResult:
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Run:
    engine: Engine
    image: ImageRecord
    ref: str
    subject: str
    settings: RunSettings
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    result: RunResult = field(default_factory=RunResult)

    def wait(self, container: str, seconds: float) -> ContainerState:
        """The state once it has stopped, or after `seconds` if it is still running."""
        deadline = self.clock() + seconds
        while True:
            state = self.engine.container_state(container)
            if not state.running or self.clock() >= deadline:
                return state
            self.sleep(max(0.0, min(POLL, deadline - self.clock())))

    def report(self, outcome: Outcome) -> None:
        if outcome.code in self.settings.wanted:
            self.result.outcomes.append(outcome)

    def create(self, **overrides: tuple[str, ...]) -> str:
        spec = ContainerSpec(image=self.ref, user=self.settings.user, labels={LABEL: "1"}, **overrides)
        return self.engine.create_container(spec)


def run_checks(
    engine: Engine,
    image: ImageRecord,
    ref: str,
    subject: str,
    settings: RunSettings,
    writable: Sequence[str],
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RunResult:
    """Run the image once (and, for a job with writable paths, once more per path); every container is removed."""
    run = _Run(engine, image, ref, subject, settings, clock, sleep)
    container = run.create()
    try:
        started = clock()
        try:
            engine.start_container(container)
        except ContainerError as exc:
            run.report(Outcome("OS220", "did not start", (finding(
                "OS220", subject, f"does not start as {settings.user}: {exc.message}",
                "the command must exist and be executable by group 0"),)))
            run.result.notes.append("OS221 and OS222 did not run: the container did not start")
            return run.result
        if settings.kind == "job":
            _job(run, container, started, writable)
        else:
            _service(run, container, started, writable)
    finally:
        engine.remove_container(container)
    return run.result


def _exited(run: _Run, container: str, state: ContainerState, what: str) -> Finding:
    log = run.engine.container_logs(container, tail=3).strip()
    shown = f"; its last output: {' | '.join(log.splitlines())}" if log else ""
    return finding("OS220", run.subject, f"{what} with code {state.exit_code} as {run.settings.user}{shown}",
                   "it must run as any UID in group 0: files it reads g+r, files it writes g=u")


def _service(run: _Run, container: str, started: float, writable: Sequence[str]) -> None:
    # The paths are tried while the service settles: a write test needs no more of it than a running PID 1.
    probed: Outcome | None = None
    if "OS221" in run.settings.wanted and run.engine.container_state(container).running:
        try:
            probed = _probe_in(run, container, writable)
        except ContainerError:
            if run.engine.container_state(container).running:
                raise
            # It exited under the probe: reported as OS220 just below.
    state = run.wait(container, max(0.0, started + SETTLE - run.clock()))
    if not state.running:
        took = max(run.clock() - started, SETTLE)  # the probes may have outlasted the settling
        run.report(Outcome("OS220", "exited", (_exited(run, container, state, f"exited within {took:.1f} s"),)))
        run.result.notes.append("OS221 and OS222 did not run: the container did not stay up")
        return
    run.report(Outcome("OS220", f"up as {run.settings.user}"))
    if probed is not None:
        run.report(probed)
    if "OS222" in run.settings.wanted:
        _stop(run, container)


def _job(run: _Run, container: str, started: float, writable: Sequence[str]) -> None:
    state = run.wait(container, JOB_LIMIT)
    took = run.clock() - started
    if state.running:
        run.report(Outcome("OS220", "still running", (finding(
            "OS220", run.subject, f"a job, still running after {JOB_LIMIT:g} s",
            'a job must finish by itself; a server is kind = "service" under [verify]'),)))
        if "OS222" in run.settings.wanted:
            _stop(run, container)
    elif state.exit_code != 0:
        run.report(Outcome("OS220", f"exited {state.exit_code}", (_exited(run, container, state, "exited"),)))
    else:
        run.report(Outcome("OS220", f"exited 0 in {took:.1f} s as {run.settings.user}"))
        run.result.notes.append("OS222 did not run: the job exited by itself")
    if "OS221" in run.settings.wanted:
        _probe_runs(run, writable)


def _no_touch(run: _Run) -> None:
    run.result.notes.append(
        "OS221 did not run: the image has no `touch` to write with (no shell tools); "
        "OS210 checked the same paths' owners and modes in the layers")


def _probe_in(run: _Run, container: str, writable: Sequence[str]) -> Outcome | None:
    """OS221 in the running container: `touch` a new file in each path as the run's user (no shell needed).
    None when the image has no `touch`."""
    findings = []
    for path in writable:
        result = run.engine.exec_in_container(container, ["touch", posixpath.join(path, PROBE)], run.settings.user)
        if result.exit_code in CANNOT_RUN:
            _no_touch(run)
            return None
        if result.exit_code != 0:
            findings.append(_unwritable(run, path, result.output))
    return _probe_outcome(writable, findings)


def _probe_runs(run: _Run, writable: Sequence[str]) -> None:
    """OS221 for a job: a short run of `touch` per path, in a container of its own, removed after."""
    findings = []
    for path in writable:
        probe = run.create(entrypoint=("touch",), command=(posixpath.join(path, PROBE),))
        try:
            try:
                run.engine.start_container(probe)
            except ContainerError:
                _no_touch(run)  # the runtime could not exec `touch`
                return
            state = run.wait(probe, PROBE_LIMIT)
            if state.exit_code in CANNOT_RUN:
                _no_touch(run)
                return
            if state.exit_code != 0:
                findings.append(_unwritable(run, path, run.engine.container_logs(probe, tail=1)))
        finally:
            run.engine.remove_container(probe)
    run.report(_probe_outcome(writable, findings))


def _unwritable(run: _Run, path: str, output: str) -> Finding:
    said = f": {output.strip()}" if output.strip() else ""
    return finding("OS221", run.subject, f"{path} is not writable by {run.settings.user}{said}",
                   f"RUN chgrp -R 0 {path} && chmod -R g=u {path}")


def _probe_outcome(writable: Sequence[str], findings: list[Finding]) -> Outcome:
    detail = f"wrote in {', '.join(writable)}" if writable else "no VOLUME or writable_paths to write in"
    return Outcome("OS221", detail, tuple(findings))


def _stop(run: _Run, container: str) -> None:
    """OS222: the stop signal, then up to the grace period for PID 1 to exit; then the removal kills it."""
    signal = run.image.stop_signal or "SIGTERM"
    sent = run.clock()
    run.engine.signal_container(container, signal)
    state = run.wait(container, run.settings.grace)
    took = run.clock() - sent
    if not state.running:
        run.report(Outcome("OS222", f"stopped {took:.1f} s after {signal} (exit code {state.exit_code})"))
        return
    # No SIGKILL here: the removal that follows kills it at once (force, no timeout). PID 1 is read only now,
    # when there is something to explain, and from the host, so the image needs no `ps`.
    processes = run.engine.container_processes(container)
    pid1 = next((p for p in processes if p.pid == "1"), processes[0] if processes else None)
    command = f"`{pid1.args}`" if pid1 else "unknown"
    if pid1 is not None and posixpath.basename(pid1.comm) in SHELLS:
        why = f"PID 1 is a shell, {command}, that does not pass {signal} on to the process it started"
        hint = "end the script with `exec server ...` (or trap TERM and stop the server), or CMD in exec form"
    else:
        why = f"PID 1 is {command}; as PID 1 a process that sets no handler for {signal} ignores it"
        hint = f"handle {signal} in the program, or run it under an init such as tini"
    run.report(Outcome("OS222", f"still running {took:.1f} s after {signal}", (finding(
        "OS222", run.subject, f"did not stop within {run.settings.grace:g} s of {signal} and would be killed: {why}",
        hint),)))
