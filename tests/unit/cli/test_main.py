"""The entry point: signals at any moment end the run with exit 130 and a message, never a traceback.

Each test runs the real `main()` in a subprocess and delivers the signal at a precise moment (when a given
module is imported), so the result does not depend on timing.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

PROGRAM = textwrap.dedent("""
    import builtins, os, signal, sys
    sys.path.insert(0, {root!r})
    from builder.cli import main as entry

    real_import = builtins.__import__
    sent = []

    def importing(name, *args, **kwargs):
        if name == {module!r} and not sent:
            sent.append(name)
            os.kill(os.getpid(), {signum})
        return real_import(name, *args, **kwargs)

    builtins.__import__ = importing
    entry.main(["list"])
""")


def run_with_signal(tmp_path: Path, module: str, signum: int) -> subprocess.CompletedProcess[str]:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "api.toml").write_text('image = "team/api"\n')
    program = PROGRAM.format(root=str(ROOT), module=module, signum=int(signum))
    return subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_the_cli_loads_exits_130_without_a_traceback(tmp_path: Path, signum: int) -> None:
    done = run_with_signal(tmp_path, "builder.cli.app", signum)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == f"error: interrupted by {signal.Signals(signum).name}"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP])
def test_a_signal_while_a_command_runs_goes_through_the_error_boundary(tmp_path: Path, signum: int) -> None:
    """Raised as Interrupted inside the command, so every cleanup (private service, sockets) runs first."""
    done = run_with_signal(tmp_path, "builder.render.profiles", signum)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert f"error: interrupted by {signal.Signals(signum).name}" in done.stderr
    assert "PROFILE" not in done.stdout  # the command stopped before listing
