"""Exceptions a pipeline's own code raises that asyncio treats specially: each is that call's error.

* StopIteration from a sync method (``next(d for d in docs if ...)`` with nothing found): asyncio's future
  refuses it ("StopIteration interacts badly with generators"), so the call hung until its timeout, said
  as "timeout after 60s", and was retried, each attempt waiting the timeout out.
* asyncio.CancelledError raised by the pipeline itself (not the probe being stopped): a BaseException, it
  ended the whole probe (and, out of a test's setup, broke pytest's fixture state)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pytest_ragprobe.engine import Call, Engine, EngineSettings
from pytest_ragprobe.pipeline import PipelineAdapter

# (a StopIteration call waited its timeout out, each attempt)
SETTINGS = EngineSettings(concurrency=2, timeout=20.0, retries=1, backoff=0.001, fail_fast=0)


def run(answer: Callable[..., Any], n: int = 2) -> list[Any]:
    calls = [Call("answer", f"q{i}") for i in range(n)]
    return asyncio.run(Engine(PipelineAdapter(answer), SETTINGS).run(calls))


def first_match(question: str) -> str:
    return next(d for d in ["doc"] if question in d)  # nothing matches: StopIteration


def test_stop_iteration_from_a_sync_pipeline_is_its_error_not_a_timeout() -> None:
    outcomes = run(first_match)
    for o in outcomes:
        assert o.cause is not None and o.cause.startswith("RuntimeError at "), o
        line = first_match.__code__.co_firstlineno + 1
        assert o.cause.endswith(f"test_engine_pipeline_raises.py:{line}"), o.cause  # the pipeline's line
        assert o.error == "RuntimeError: the pipeline raised StopIteration (a next() with nothing left?)"
        assert o.attempts == 1  # a bug, not retried
        assert o.traceback is not None and "in first_match" in o.traceback


def test_a_sync_pipeline_still_returns_what_it_returns() -> None:
    assert [o.value.text for o in run(lambda q: q.upper())] == ["Q0", "Q1"]


def test_cancelled_error_raised_by_the_pipeline_is_its_error() -> None:
    def sync_answer(question: str) -> str:
        raise asyncio.CancelledError()

    async def async_answer(question: str) -> str:
        await asyncio.sleep(0)
        raise asyncio.CancelledError("upstream cancelled")

    for answer, error in ((sync_answer, "CancelledError"), (async_answer, "CancelledError: upstream cancelled")):
        outcomes = run(answer)
        assert [(o.error, o.attempts) for o in outcomes] == [(error, 1)] * 2, outcomes
        assert all(o.cause and o.cause.startswith("CancelledError at ") for o in outcomes)


def test_the_probe_cancelled_from_outside_still_stops() -> None:
    """Ctrl-C (the task cancelled) is not the pipeline's error: the run still ends with CancelledError."""
    started = asyncio.Event()

    async def slow(question: str) -> str:
        started.set()
        await asyncio.sleep(600)
        return question

    async def main() -> None:
        task = asyncio.create_task(Engine(PipelineAdapter(slow), SETTINGS).run([Call("answer", "q")]))
        await started.wait()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return
        raise AssertionError("the run was not cancelled")

    asyncio.run(main())
