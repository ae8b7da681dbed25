"""A pipeline whose async client was made on another event loop (an async ragprobe_pipeline fixture of
pytest-asyncio builds it on the test's loop) gets the advice of runner._OTHER_LOOP_ADVICE. aiohttp says it
as "Timeout context manager should be used inside a task" (no task of its loop is running): that error got
no advice, and aiohttp is what many async RAG clients are made with."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from pytest_ragprobe.engine import Call, EngineSettings
from pytest_ragprobe.pipeline import PipelineAdapter
from pytest_ragprobe.runner import _OTHER_LOOP_ADVICE, ProbeContext, ProbeError, RunSettings


def test_an_aiohttp_session_made_on_another_loop_is_explained() -> None:
    other = asyncio.new_event_loop()  # (the test's loop, which pytest-asyncio keeps open for the fixture)

    async def make() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    session = other.run_until_complete(make())

    async def answer(question: str) -> str:
        # (fails before it connects: nothing listens there)
        async with session.post("http://127.0.0.1:9/answer", json={"question": question}) as reply:
            return str(await reply.text())

    try:
        settings = RunSettings(engine=EngineSettings(concurrency=1, timeout=5.0, retries=0, fail_fast=0))
        ctx = ProbeContext(PipelineAdapter(answer), settings)
        asyncio.run(ctx.run_calls([Call("answer", "q")]))
        with pytest.raises(ProbeError) as info:
            ctx.check_error_rate()
    finally:
        other.run_until_complete(session.close())
        other.close()
    message = str(info.value)
    assert "RuntimeError: Timeout context manager should be used inside a task" in message
    assert "most common cause (1x): RuntimeError at " in message and "test_runner_other_loop.py:" in message
    assert _OTHER_LOOP_ADVICE in message
