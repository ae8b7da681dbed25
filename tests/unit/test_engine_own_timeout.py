"""A TimeoutError the pipeline raises itself (its HTTP client's timeout, a socket's, one it raises) is its
own error, told apart from ragprobe's --ragprobe-timeout firing.

Was: "timeout after 60s" of a call that failed at once, with the advice to raise --ragprobe-timeout (which
does not set the pipeline's own timeout)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pytest_ragprobe.engine import Call, Engine, EngineSettings, advice
from pytest_ragprobe.pipeline import PipelineAdapter


def run(answer: Callable[..., Any], timeout: float | None = 20.0) -> list[Any]:
    settings = EngineSettings(concurrency=1, timeout=timeout, retries=1, backoff=0.001, fail_fast=0)
    return asyncio.run(Engine(PipelineAdapter(answer), settings).run([Call("answer", "q0")]))


def sync_reader(question: str) -> str:
    raise TimeoutError("reader timed out")


async def async_reader(question: str) -> str:
    await asyncio.sleep(0)
    raise TimeoutError("upstream read timed out")


def test_a_sync_pipelines_own_timeout_is_its_error() -> None:
    line = sync_reader.__code__.co_firstlineno + 1
    for timeout in (20.0, None):  # (without --ragprobe-timeout: "timeout", as if it were ours)
        [o] = run(sync_reader, timeout)
        cause = o.cause
        assert cause.startswith("timeout raised by the pipeline (TimeoutError) at ")
        assert cause.endswith(f"test_engine_own_timeout.py:{line}")  # the pipeline's line (kept from its thread)
        assert o.error == f"{cause}: reader timed out"
        assert o.attempts == 2  # a timeout is worth another attempt, whoever's it is
        assert o.traceback is not None and "in sync_reader" in o.traceback
    assert advice(cause) == " (its own timeout, e.g. its HTTP client's: --ragprobe-timeout does not set it)"
    assert advice(cause, direct=True) == " (its own timeout, e.g. its HTTP client's: timeout= does not set it)"


def test_an_async_pipelines_own_timeout_is_its_error() -> None:
    [o] = run(async_reader)
    line = async_reader.__code__.co_firstlineno + 2
    assert o.cause.startswith("timeout raised by the pipeline (TimeoutError) at ")
    assert o.cause.endswith(f"test_engine_own_timeout.py:{line}")
    assert o.error == f"{o.cause}: upstream read timed out"


def test_ragprobes_own_timeout_is_still_said_as_such() -> None:
    async def slow(question: str) -> str:
        await asyncio.sleep(5)
        return question

    [o] = run(slow, 0.05)
    assert (o.cause, o.error, o.attempts) == ("timeout after 0.05s", "timeout after 0.05s", 2)
    assert advice(o.cause) == (
        " (raise --ragprobe-timeout, or lower --ragprobe-concurrency if the pipeline slows under load)"
    )
