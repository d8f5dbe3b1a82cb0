"""The console entry point and the one error boundary: every error becomes a message and an exit code here.

This module imports only the standard library at load time, so a Ctrl-C in the first milliseconds (while
typer and the rest load) ends the process quietly instead of with a traceback.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# SIGHUP: the terminal closed. It ends a run like Ctrl-C, so the private service and any running step stop too.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_INTERRUPTED = 130


def _exit_at_once(signum: int, frame: FrameType | None) -> None:
    """Before anything is started there is nothing to clean up: leave without a traceback."""
    os.write(2, f"error: interrupted by {signal.Signals(signum).name}\n".encode())
    os._exit(_INTERRUPTED)


@contextmanager
def _signals_raise() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP become `Interrupted`, so that every `finally` (private service, sockets) runs.

    Only the first signal raises: a second Ctrl-C while cleanup runs must not cut the cleanup short.
    """
    from builder.errors import Interrupted

    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if received:
            return
        received.append(signum)
        raise Interrupted(f"interrupted by {signal.Signals(signum).name}")

    previous = {sig: signal.signal(sig, handler) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def main(argv: list[str] | None = None) -> None:
    """Console entry point. Click handles usage errors (exit 2); everything else ends here."""
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _exit_at_once)
    args = list(sys.argv[1:] if argv is None else argv)
    # A short-lived process that builds large lists of small objects (context entries, hashes): the
    # cyclic collector would only rescan them. Objects are still freed by reference counting.
    gc.disable()
    env = dict(os.environ)  # the one read of the environment; everything below is handed this copy
    debug = "--debug" in args or env.get("IMGCTL_DEBUG") == "1"
    if "--debug" in args:
        # Accepted anywhere on the line (`imgctl push app --debug`), as people type it when a run fails.
        args = ["--debug", *(a for a in args if a != "--debug")]
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING, format="imgctl: %(name)s: %(message)s", stream=sys.stderr
    )
    from builder.cli.app import app
    from builder.errors import ImgctlError
    from builder.render.console import print_error

    # urllib3 warns on every unverified HTTPS request; imgctl only makes one when the user asked for
    # tls_verify = false, and says so in --debug.
    warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    try:
        with _signals_raise():
            app(args=args, prog_name="imgctl", obj=env)
    except ImgctlError as error:
        if debug:
            logging.getLogger("imgctl").debug("error details", exc_info=True)
        print_error(error)
        sys.exit(error.exit_code)
    except Exception as error:  # a bug: say so plainly, trace only on request
        if debug:
            raise
        sys.stderr.write(
            f"error: internal error: {type(error).__name__}: {error}\nhint: rerun with --debug and report the output\n"
        )
        sys.exit(1)
    finally:
        # At exit the interpreter runs one last full collection over every object it holds: 35 ms with
        # podman-py, requests and rich loaded (measured), for memory the OS takes back anyway. Frozen
        # objects are left out of it; atexit handlers and stream flushing still run as usual.
        gc.freeze()
