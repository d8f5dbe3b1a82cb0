"""builder.retry: the one retry policy (classification of failures and engine error text, backoff with
full jitter, Retry-After) and the retry loop, with a fake clock: nothing here really sleeps."""

from __future__ import annotations

import email.utils
import socket
import time

import pytest
import requests
import urllib3

from builder.errors import RegistryError
from builder.retry import is_transient, retry_after_seconds, retry_delays

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
        (socket.timeout("timed out"), True),
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


