"""THE retry policy: what is worth retrying, how long to wait, and the loop that does it.

Two kinds of failure reach imgctl: our own HTTP requests to a registry fail with an exception or a status,
and the engine's push fails with a line of *text* (podman reports registry errors inside a 200 stream).
Both are classified here, so a push and a manifest request agree on what "transient" means.

Waits are exponential backoff with full jitter, raised to what a `Retry-After` header asks for, and
refused outright when it asks for more than `MAX_RETRY_AFTER`. The loop (`run`) catches nothing: an
`Interrupted` or `KeyboardInterrupt` raised by an attempt or by a sleep ends it at once. A loop running in
a worker thread cannot receive the signal itself; a shared `Cancellation` makes its sleeps end (and raise
`Interrupted`) the moment the main thread cancels it.

`requests` and `urllib3` are imported only when an exception is classified, so importing this module costs
nothing (build and push import it).
"""

from __future__ import annotations

import email.utils
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from builder.errors import ImgctlError, Interrupted

# The longest Retry-After we wait for. A registry asking for more is in maintenance or rate-limiting us
# hard; sleeping minutes inside one command helps nobody, so we stop and say so.
MAX_RETRY_AFTER = 10.0
# One backoff delay never exceeds this, however many retries are asked for.
MAX_BACKOFF = 30.0

_PERMANENT_5XX = frozenset({501, 505})  # "not implemented" and "version not supported" do not heal

# What podman's push error text says when the registry or the network failed in a way that may heal.
_TRANSIENT_TEXT = re.compile(
    r"connection refused|connection reset|broken pipe|unexpected EOF|\bEOF\b|i/o timeout|timed out|timeout"
    r"|closed network connection|connection closed|server closed"
    r"|\b50[0-9]\b|\b429\b|too many requests|service unavailable|bad gateway|gateway timeout",
    re.I,
)

T = TypeVar("T")


# --------------------------------------------------------------------------------------------------
# Classification


def is_transient_status(status: int) -> bool:
    """True for HTTP 408, 429 and 5xx except 501/505: a later identical request may succeed."""
    if isinstance(status, bool):
        return False
    return status in (408, 429) or (500 <= status <= 599 and status not in _PERMANENT_5XX)


def is_transient(exc_or_status: BaseException | int | object) -> bool:
    """True for failures worth retrying: connection refused or reset, timeouts, HTTP 5xx, 408 and 429.

    Accepts an exception, a status code, or anything with an integer `status_code` (a requests Response).
    Never 401/403/404 (retrying cannot change the answer), nor TLS errors (a certificate does not become
    trusted by asking again), nor 501/505, nor an `ImgctlError` (already classified: `Interrupted` among
    them), nor a `BaseException` that is not an `Exception` (Ctrl-C, exit).
    """
    status = getattr(exc_or_status, "status_code", exc_or_status)
    if isinstance(status, int):
        return is_transient_status(status)
    if not isinstance(exc_or_status, Exception) or isinstance(exc_or_status, ImgctlError):
        return False
    exc = exc_or_status
    import ssl

    import requests
    import urllib3

    # TLS first: requests' SSLError is a ConnectionError, and ssl.SSLError an OSError.
    if isinstance(exc, (requests.exceptions.SSLError, ssl.SSLError, urllib3.exceptions.SSLError)):
        return False
    return isinstance(
        exc,
        (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.ProtocolError,
            urllib3.exceptions.TimeoutError,
            urllib3.exceptions.NewConnectionError,
            ConnectionError,  # refused, reset, aborted, broken pipe
            TimeoutError,  # socket.timeout too
        ),
    )


def is_transient_text(message: str) -> bool:
    """True when an engine's error text (podman's push error) names a failure that may heal."""
    return _TRANSIENT_TEXT.search(message) is not None


# --------------------------------------------------------------------------------------------------
# Waiting


def retry_delays(
    retries: int, backoff: float, rng: Callable[[], float], *, cap: float = MAX_BACKOFF
) -> Iterator[float]:
    """The waits before retry 1..`retries`: exponential backoff with full jitter.

    Full jitter (`backoff * 2**attempt * rng()`, rng in [0, 1)) spreads clients that failed together, so
    they do not return together. Exactly `retries` values: an exhausted iterator means "give up".
    """
    for attempt in range(max(0, retries)):
        yield min(cap, backoff * (2**attempt)) * rng()


def retry_after_seconds(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """A `Retry-After` header in seconds (it may be a number or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    # str.isdigit() is also true for other scripts' digits ("٣"); the header is ASCII.
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now())


class Cancellation:
    """Set once, from any thread; every retry loop given it stops at its next sleep or attempt.

    Needed for loops in worker threads: the signal (and the `Interrupted` the CLI raises for it) reaches the
    main thread only, and a worker sleeping in `time.sleep` would retry on for its whole schedule.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise `Interrupted` if cancelled."""
        if self._event.is_set():
            raise Interrupted("interrupted")

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`, or raise `Interrupted` as soon as the cancellation is set."""
        if self._event.wait(max(0.0, seconds)):
            raise Interrupted("interrupted")


# --------------------------------------------------------------------------------------------------
# The loop


@dataclass(frozen=True)
class Transient:
    """An attempt's failure that may heal: `cause` is the exception or HTTP status; `retry_after` the
    registry's `Retry-After` in seconds, when it sent one."""

    cause: BaseException | int
    retry_after: float | None = None


@dataclass(frozen=True)
class GiveUp:
    """Why `run` stopped retrying: retries exhausted, or (`retry_after` set) the registry asked for a wait
    longer than `MAX_RETRY_AFTER`."""

    failure: Transient
    attempts: int
    retry_after: float | None = None


@dataclass(frozen=True)
class Policy:
    """How many retries and how to wait.

    `sleep` None is the real clock: `cancel.sleep` when there is a cancellation, else `time.sleep` (which the
    signal handler's exception ends in the main thread). A given `sleep` (a test's fake clock) is used as
    is, with the cancellation checked on both sides of it.
    """

    retries: int = 3
    backoff: float = 0.5
    cap: float = MAX_BACKOFF
    max_retry_after: float = MAX_RETRY_AFTER
    rng: Callable[[], float] = field(default=random.random)
    sleep: Callable[[float], None] | None = None
    cancel: Cancellation | None = None


def run(
    attempt: Callable[[int], T | Transient],
    policy: Policy,
    *,
    give_up: Callable[[GiveUp], BaseException],
    on_retry: Callable[[Transient, int, float], None] | None = None,
) -> T:
    """Call `attempt(n)` (n = 1, 2, ...) until it returns something other than a `Transient`.

    A `Transient` is retried after a backoff delay, at most `policy.retries` times; then the exception
    `give_up` builds is raised. `on_retry(failure, attempt, delay)` runs before each wait. Nothing is
    caught here: an exception from `attempt`, `on_retry` or the sleep (Ctrl-C above all) propagates at once.
    """
    delays = retry_delays(policy.retries, policy.backoff, policy.rng, cap=policy.cap)
    number = 0
    # Bounded: retry_delays yields `retries` values.
    while True:
        number += 1
        if policy.cancel is not None:
            policy.cancel.check()
        outcome = attempt(number)
        if not isinstance(outcome, Transient):
            return outcome
        delay = next(delays, None)
        if delay is None:
            raise give_up(GiveUp(outcome, number))
        if outcome.retry_after is not None:
            if outcome.retry_after > policy.max_retry_after:
                raise give_up(GiveUp(outcome, number, outcome.retry_after))
            delay = max(delay, outcome.retry_after)
        if on_retry is not None:
            on_retry(outcome, number, delay)
        _wait(policy, delay)


def _wait(policy: Policy, delay: float) -> None:
    cancel = policy.cancel
    if policy.sleep is None:
        if cancel is not None:
            cancel.sleep(delay)
        else:
            time.sleep(delay)
        return
    if cancel is not None:
        cancel.check()
    policy.sleep(delay)
    if cancel is not None:
        cancel.check()
