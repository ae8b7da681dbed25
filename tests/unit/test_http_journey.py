"""A user's HTTP service, seen through the engine: what a refusal with a Retry-After does, and what
the error then says (no real sleeping: ``asyncio.sleep`` is faked, and each retry's wait recorded)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_ragprobe import engine as engine_module
from pytest_ragprobe.engine import Call, Engine, EngineSettings, advice
from pytest_ragprobe.pipeline import PipelineAdapter


class HTTPError(Exception):
    def __init__(self, status: int, retry_after: str | None = None) -> None:
        super().__init__(f"status {status}")
        headers = {"retry-after": retry_after} if retry_after else {}
        self.response = SimpleNamespace(status_code=status, headers=headers, text="down for maintenance",
                                        url="http://svc/answer")


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The retries' waits (``Engine._delay``), with every sleep made instant."""
    recorded: list[float] = []
    real_sleep, real_delay = asyncio.sleep, Engine._delay

    async def fake_sleep(delay: float) -> None:
        await real_sleep(0)

    def delay(self: Engine, attempt: int, failure: Any) -> float:
        recorded.append(real_delay(self, attempt, failure))
        return recorded[-1]

    monkeypatch.setattr(engine_module.asyncio, "sleep", fake_sleep)
    monkeypatch.setattr(Engine, "_delay", delay)
    return recorded


def refusing(status: int, retry_after: str, times: int = 10**9) -> Any:
    seen: dict[str, int] = {}

    async def answer(q: str) -> str:
        seen[q] = seen.get(q, 0) + 1
        if seen[q] <= times:
            raise HTTPError(status, retry_after)
        return q

    answer.seen = seen  # type: ignore[attr-defined]
    return answer


def test_a_503_asking_for_more_than_ragprobe_waits_is_not_retried(waits: list[float]) -> None:
    """A service in maintenance, "503, Retry-After: 3600": each call waited the 60 s cap twice (over 2
    minutes of a probe for nothing, and silently: the error said only "HTTP 503"), retrying into the
    same refusal. As for a 429, it now ends at once, saying what the service asked."""
    answer = refusing(503, "3600")
    settings = EngineSettings(concurrency=1, timeout=60.0, retries=2, fail_fast=0)
    out = asyncio.run(Engine(PipelineAdapter(answer), settings).run([Call("answer", "q0")]))
    assert waits == [] and answer.seen == {"q0": 1}
    assert out[0].attempts == 1 and out[0].error == (
        "HTTP 503 from http://svc/answer: down for maintenance (the service asked to wait 3600 s, more "
        "than the 60 s ragprobe waits for a Retry-After: not retried)"
    )


def test_a_503_asking_for_a_wait_within_the_cap_is_waited_out(waits: list[float]) -> None:
    answer = refusing(503, "45", times=1)
    settings = EngineSettings(concurrency=1, timeout=60.0, retries=2, fail_fast=0)
    out = asyncio.run(Engine(PipelineAdapter(answer), settings).run([Call("answer", "q0")]))
    assert out[0].ok and out[0].attempts == 2
    assert len(waits) == 1 and 45 <= waits[0] <= 54


def test_the_advice_for_a_503_asking_too_long_names_the_option() -> None:
    text = advice("HTTP 503 from http://svc/answer", None, (3600.0, 60.0, 20.0))
    assert text == (
        " (the service asked to wait 3600 s, more than ragprobe waits for a Retry-After (60 s: the longer "
        "of --ragprobe-timeout and 20 s), so those calls were not retried: run again once it is back, or "
        "raise --ragprobe-timeout to 3600 to wait that long)"
    )


def test_a_long_malformed_response_cause_is_the_whole_error() -> None:
    """A malformed body's summary longer than 300 characters: ``error`` was it clipped, so it differed
    from ``cause`` and the probe's error repeated it after "first for '<question>'"."""
    from pytest_ragprobe.adapters import MalformedResponseError
    from pytest_ragprobe.engine import classify

    summary = "expected a JSON object with a string 'answer' or 'text', got JSON keys ['result']; " + "x" * 300
    failure = classify(MalformedResponseError("http://svc/answer", summary, summary), 1.0)
    assert failure.error == failure.cause == f"malformed response from http://svc/answer: {summary}"
    # a detail beyond the summary is still kept (clipped) in the error
    other = classify(MalformedResponseError("http://svc/answer", "detail " * 80, "short"), 1.0)
    assert other.cause == "malformed response from http://svc/answer: short"
    assert other.error.startswith("malformed response from http://svc/answer: detail") and len(other.error) == 300


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_service_not_started_says_connection_refused_and_what_to_check() -> None:
    """The service not started: the error read "Cannot connect to host 127.0.0.1:9 ssl:default [Connect
    call failed ('127.0.0.1', 9)]" (aiohttp's words: "ssl:default" on a plain http URL) and the probe's
    error had no advice. It now says what the OS said, as httpx's own transport does, and what to check."""
    import httpx

    from pytest_ragprobe._transport import AiohttpTransport
    from pytest_ragprobe.engine import classify

    port = _closed_port()

    async def go() -> BaseException:
        async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
            try:
                await client.post(f"http://127.0.0.1:{port}/answer", json={"question": "q"})
            except httpx.ConnectError as exc:
                return exc
        raise AssertionError("connected")

    exc = asyncio.run(go())
    assert str(exc) == f"cannot connect to 127.0.0.1:{port}: Connection refused"
    failure = classify(exc, 60.0)
    assert failure.cause == f"transport error (ConnectError) from http://127.0.0.1:{port}/answer"
    assert failure.error == f"{failure.cause}: cannot connect to 127.0.0.1:{port}: Connection refused"
    assert advice(failure.cause) == (
        " (could not connect: is the service running, and listening at that address?)"
    )
    # a pipeline of the user's own (urllib, a socket) refused: the same advice
    assert advice("ConnectionRefusedError: [Errno 111] Connection refused") == advice(failure.cause)


@pytest.mark.parametrize(
    ("timeout", "asked", "retried"),
    [
        (5.0, "15", True),  # a timeout under max_backoff: a Retry-After up to 20 s is still waited out
        (5.0, "25", False),
        (None, "15", True),  # no timeout (the engine's own users only): max_backoff is the cap, said so
        (None, "25", False),
        (90.0, "85", True),  # a raised --ragprobe-timeout raises the cap with it
    ],
)
def test_the_longest_retry_after_waited_out_is_the_longer_of_the_timeout_and_max_backoff(
    waits: list[float], timeout: float | None, asked: str, retried: bool
) -> None:
    answer = refusing(429, asked, times=1)
    settings = EngineSettings(concurrency=1, timeout=timeout, retries=1, fail_fast=0)
    cap = max(20.0, timeout or 0.0)
    assert settings.longest_wait == cap
    out = asyncio.run(Engine(PipelineAdapter(answer), settings).run([Call("answer", "q0")]))
    if retried:
        assert out[0].ok and len(waits) == 1 and float(asked) <= waits[0] <= 1.2 * float(asked)
    else:  # not silently cut to the cap and asked again: ended at once, saying so
        assert waits == [] and out[0].error == (
            f"HTTP 429 from http://svc/answer: down for maintenance (the service asked to wait {asked} s, "
            f"more than the {cap:g} s ragprobe waits for a Retry-After: not retried)"
        )


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The process's local time zone set to UTC-5/-4 (the dates below must not depend on it)."""
    import time

    if not hasattr(time, "tzset"):
        pytest.skip("no time.tzset")
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("style", ["GMT", "-0000", "asctime"])
def test_a_retry_after_date_is_read_in_gmt_whatever_the_local_time_zone(new_york: Any, style: str) -> None:
    """HTTP dates are GMT. One written "-0000" (``email.utils.formatdate()``'s default) or in asctime form
    has no zone for Python, and was read as local time: off by the machine's UTC offset, 30 s read as
    18030 s (more than ragprobe waits: not retried) or as 0 (retried at once into the same refusal)."""
    import email.utils
    import time

    from pytest_ragprobe.engine import parse_retry_after

    now = 1_800_000_000.0  # a whole second: HTTP dates have no fractions
    text = {
        "GMT": email.utils.formatdate(now + 30, usegmt=True),
        "-0000": email.utils.formatdate(now + 30),
        "asctime": time.asctime(time.gmtime(now + 30)),
    }[style]
    assert parse_retry_after(text, now=now) == 30.0
