"""builder.retry: the one retry policy (classification of failures and engine error text, backoff with
full jitter, Retry-After) and the retry loop, with a fake clock: nothing here really sleeps."""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable

import pytest
import requests
import urllib3

from builder.errors import Interrupted, RegistryError
from builder.retry import (
    MAX_RETRY_AFTER,
    Cancellation,
    GiveUp,
    Policy,
    Transient,
    is_transient,
    is_transient_text,
    retry_after_seconds,
    retry_delays,
    run,
)

# --------------------------------------------------------------------------------------------------
# Retry policy


def test_retry_delays_full_jitter_with_fixed_rng() -> None:
    assert list(retry_delays(3, 0.5, lambda: 1.0)) == [0.5, 1.0, 2.0]
    assert list(retry_delays(4, 0.5, lambda: 0.5)) == [0.25, 0.5, 1.0, 2.0]
    assert list(retry_delays(3, 0.5, lambda: 0.0)) == [0.0, 0.0, 0.0]
    assert list(retry_delays(0, 0.5, lambda: 1.0)) == []
    assert list(retry_delays(-1, 0.5, lambda: 1.0)) == []


def test_retry_delays_are_capped_and_lazy() -> None:
    assert list(retry_delays(8, 1.0, lambda: 1.0, cap=10.0)) == [1, 2, 4, 8, 10, 10, 10, 10]
    calls = []

    def rng() -> float:
        calls.append(1)
        return 0.5

    delays = retry_delays(3, 1.0, rng)
    assert calls == []  # nothing drawn until a retry happens
    assert next(delays) == 0.5 and len(calls) == 1


@pytest.mark.parametrize(
    ("failure", "transient"),
    [
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (429, True),
        (408, True),
        (501, False),
        (505, False),
        (200, False),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (True, False),
        (requests.exceptions.ConnectionError("refused"), True),
        (requests.exceptions.ConnectTimeout("slow"), True),
        (requests.exceptions.ReadTimeout("slow"), True),
        (requests.exceptions.ChunkedEncodingError("cut"), True),
        (requests.exceptions.SSLError("certificate verify failed"), False),
        (requests.exceptions.InvalidURL("bad"), False),
        (requests.exceptions.TooManyRedirects("loop"), False),
        (ConnectionRefusedError(111, "refused"), True),
        (ConnectionResetError(104, "reset"), True),
        (BrokenPipeError(32, "pipe"), True),
        (TimeoutError("timed out"), True),
        (TimeoutError("timed out"), True),
        (urllib3.exceptions.ProtocolError("Connection aborted."), True),
        (ValueError("not a network error"), False),
        (RegistryError("wrapped"), False),
    ],
)
def test_is_transient(failure: object, transient: bool) -> None:
    assert is_transient(failure) is transient  # type: ignore[arg-type]


def test_is_transient_accepts_a_response() -> None:
    response = requests.Response()
    response.status_code = 503
    assert is_transient(response)
    response.status_code = 404
    assert not is_transient(response)


def test_retry_after_seconds() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    now = time.time()
    date = email.utils.formatdate(now + 20, usegmt=True)
    assert 18 <= retry_after_seconds(date, now=lambda: now) <= 21  # type: ignore[operator]
    assert retry_after_seconds(email.utils.formatdate(now - 60, usegmt=True), now=lambda: now) == 0.0




def test_retry_after_seconds_reads_ascii_digits_only() -> None:
    # str.isdigit() accepts other scripts' digits, which float() would then read: "٣" is not "3" on the wire.
    assert retry_after_seconds("٣") is None
    assert retry_after_seconds(" 7 ") == 7.0


def test_interruption_is_never_transient() -> None:
    assert not is_transient(Interrupted("interrupted"))
    assert not is_transient(KeyboardInterrupt())
    assert not is_transient(SystemExit(1))


@pytest.mark.parametrize(
    ("text", "transient"),
    [
        ('Put "https://r/v2/": dial tcp 127.0.0.1:5000: connect: connection refused', True),
        ("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer", True),
        ("writing blob: unexpected EOF", True),
        ("received unexpected HTTP status: 503 Service Unavailable", True),
        ("received unexpected HTTP status: 502 Bad Gateway", True),
        ("toomanyrequests: too many requests", True),
        ("net/http: TLS handshake timeout", True),
        ("unauthorized: authentication required", False),
        ("denied: requested access to the resource is denied", False),
        ("x509: certificate signed by unknown authority", False),
        ("manifest unknown", False),
    ],
)
def test_is_transient_text_classifies_the_engines_push_errors(text: str, transient: bool) -> None:
    assert is_transient_text(text) is transient


# --------------------------------------------------------------------------------------------------
# The loop, on a fake clock


class FakeClock:
    """`sleep` that advances a clock instead of waiting; `on_sleep` runs inside the sleep."""

    def __init__(self, on_sleep: Callable[[float], None] | None = None) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.on_sleep is not None:
            self.on_sleep(seconds)
        self.now += seconds


def failing(times: int, failure: Transient, then: object = "done") -> tuple[Callable[[int], object], list[int]]:
    calls: list[int] = []

    def attempt(number: int) -> object:
        calls.append(number)
        return failure if len(calls) <= times else then

    return attempt, calls


def give_up(stop: GiveUp) -> RegistryError:
    asked = f", asked {stop.retry_after:g}" if stop.retry_after else ""
    return RegistryError(f"gave up after {stop.attempts}{asked}")


def test_run_returns_the_first_answer_that_is_not_transient() -> None:
    clock = FakeClock()
    attempt, calls = failing(2, Transient(503))
    assert run(attempt, Policy(retries=3, backoff=0.5, rng=lambda: 1.0, sleep=clock), give_up=give_up) == "done"
    assert calls == [1, 2, 3] and clock.sleeps == [0.5, 1.0]


def test_run_gives_up_after_retries_plus_one_attempts() -> None:
    clock = FakeClock()
    attempt, calls = failing(99, Transient(ConnectionRefusedError()))
    with pytest.raises(RegistryError, match="gave up after 4"):
        run(attempt, Policy(retries=3, rng=lambda: 0.0, sleep=clock), give_up=give_up)
    assert calls == [1, 2, 3, 4] and len(clock.sleeps) == 3


def test_run_waits_at_least_what_retry_after_asks_and_refuses_long_waits() -> None:
    clock = FakeClock()
    retried: list[tuple[int, float]] = []
    attempt, _ = failing(1, Transient(429, retry_after=4.0))
    policy = Policy(retries=2, backoff=0.1, rng=lambda: 1.0, sleep=clock)
    run(attempt, policy, give_up=give_up, on_retry=lambda failure, n, delay: retried.append((n, delay)))
    assert clock.sleeps == [4.0] and retried == [(1, 4.0)]

    clock = FakeClock()
    attempt, calls = failing(1, Transient(503, retry_after=MAX_RETRY_AFTER + 1))
    with pytest.raises(RegistryError, match=f"asked {MAX_RETRY_AFTER + 1:g}"):
        run(attempt, Policy(retries=2, sleep=clock), give_up=give_up)
    assert calls == [1] and clock.sleeps == []


@pytest.mark.parametrize("interruption", [Interrupted("interrupted"), KeyboardInterrupt()])
def test_an_interrupted_backoff_sleep_ends_the_loop_at_once(interruption: BaseException) -> None:
    def interrupt(seconds: float) -> None:
        raise interruption  # Ctrl-C arriving while the loop waits

    attempt, calls = failing(99, Transient(503))
    with pytest.raises(type(interruption)):
        run(attempt, Policy(retries=5, rng=lambda: 1.0, sleep=FakeClock(interrupt)), give_up=give_up)
    assert calls == [1]  # no attempt after the interruption


@pytest.mark.parametrize("interruption", [Interrupted("interrupted"), KeyboardInterrupt()])
def test_an_interruption_inside_an_attempt_is_not_retried(interruption: BaseException) -> None:
    clock = FakeClock()
    calls: list[int] = []

    def attempt(number: int) -> object:
        calls.append(number)
        raise interruption

    with pytest.raises(type(interruption)):
        run(attempt, Policy(retries=5, sleep=clock), give_up=give_up)
    assert calls == [1] and clock.sleeps == []


def test_a_cancellation_ends_a_fake_sleep_and_prevents_the_next_attempt() -> None:
    cancel = Cancellation()
    clock = FakeClock(lambda seconds: cancel.cancel())  # the main thread cancels while the loop waits
    attempt, calls = failing(99, Transient(503))
    with pytest.raises(Interrupted):
        run(attempt, Policy(retries=5, sleep=clock, cancel=cancel), give_up=give_up)
    assert calls == [1] and len(clock.sleeps) == 1


def test_a_cancelled_loop_makes_no_attempt() -> None:
    cancel = Cancellation()
    cancel.cancel()
    attempt, calls = failing(0, Transient(503))
    with pytest.raises(Interrupted):
        run(attempt, Policy(cancel=cancel), give_up=give_up)
    assert calls == []


def test_a_worker_threads_long_backoff_ends_when_the_main_thread_cancels() -> None:
    # The real clock: a worker waits an hour between attempts; cancelling must end the wait at once. The
    # join timeout only keeps a broken implementation from hanging the suite.
    cancel = Cancellation()
    waiting = threading.Event()
    outcome: list[BaseException] = []
    attempt, calls = failing(99, Transient(503))

    def worker() -> None:
        policy = Policy(retries=3, backoff=3600.0, rng=lambda: 1.0, cancel=cancel)
        try:
            run(attempt, policy, give_up=give_up, on_retry=lambda failure, n, delay: waiting.set())
        except BaseException as error:  # the test inspects what ended the loop
            outcome.append(error)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    assert waiting.wait(10)
    cancel.cancel()
    thread.join(10)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Interrupted)
    assert calls == [1]
