"""The stop decisions of the recipes, checked on real interpreters running as PID 1 of a new PID namespace
(`unshare --pid --fork`), which is what they are in a container: the kernel gives PID 1 no default action for
SIGTERM, so only a handler the process installs can end it.

Node.js installs none that exits, hence the preload the Node.js CMD names; Python turns SIGINT (not SIGTERM)
into KeyboardInterrupt, hence STOPSIGNAL SIGINT. Each test reads the process's first line before it signals,
so the handler is known to be in place; the timeouts only bound a failure, they assert no duration.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from builder.scaffold.recipes import NODE_SIGTERM_JS


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def as_pid_one(*command: str) -> Iterator[subprocess.Popen[str]]:
    """Run command as PID 1 of a new PID namespace; yields unshare's process once the command printed a line.
    unshare passes the signals it gets on to its child and exits with the child's status."""
    if shutil.which("unshare") is None or shutil.which(command[0]) is None:
        _unavailable(f"unshare and {command[0]} are needed")
    process = subprocess.Popen(["unshare", "--pid", "--fork", "--kill-child", *command], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if not first:
            _unavailable(f"cannot start a PID namespace here: {process.communicate(timeout=10)[1]}")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _child(process: subprocess.Popen[str]) -> int:
    """The PID (outside the namespace) of unshare's child: the process that is PID 1 inside."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    assert len(children) == 1
    return int(children[0])


NODE_APP = "console.log('ready'); setInterval(() => {}, 1 << 30);"


def test_node_as_pid_one_exits_on_sigterm_with_the_preload(tmp_path: Path) -> None:
    preload = tmp_path / "sigterm.cjs"
    preload.write_text(NODE_SIGTERM_JS + "\n")
    with as_pid_one("node", "--require", str(preload), "-e", NODE_APP) as process:
        os.kill(_child(process), signal.SIGTERM)
        assert process.wait(timeout=30) == 143


def test_node_as_pid_one_ignores_sigterm_without_it() -> None:
    """The control: what the preload is for. Without it the process is still there after SIGTERM."""
    with as_pid_one("node", "-e", NODE_APP) as process:
        child = _child(process)
        os.kill(child, signal.SIGTERM)
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=2)
        os.kill(child, signal.SIGKILL)


def test_the_preload_leaves_sigterm_to_an_application_that_handles_it(tmp_path: Path) -> None:
    preload = tmp_path / "sigterm.cjs"
    preload.write_text(NODE_SIGTERM_JS + "\n")
    app = ("process.on('SIGTERM', () => { console.log('closing'); setTimeout(() => process.exit(0), 50); });"
           + NODE_APP)
    with as_pid_one("node", "--require", str(preload), "-e", app) as process:
        os.kill(_child(process), signal.SIGTERM)
        assert process.wait(timeout=30) == 0  # the application's own exit, after its own cleanup
        assert process.stdout is not None and process.stdout.read().strip() == "closing"


def test_python_as_pid_one_stops_on_its_stop_signal() -> None:
    with as_pid_one(sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(1 << 20)") as process:
        os.kill(_child(process), signal.SIGINT)
        assert process.wait(timeout=30) == 128 + signal.SIGINT
