"""An async pipeline method that blocks the event loop (``time.sleep``, a sync client inside ``async
def``): asyncio's timeout cannot fire while the loop is held, so such a call used to "succeed" after any
time, with every other call of the probe stalled. The engine now treats a late return as a timeout and
says why (``_blocking``); well-behaved pipelines see no change."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_ragprobe._blocking import METER, SLOW_STEP, LoopBlock, StepMeter, Timed, loop_note
from pytest_ragprobe.engine import Call, Engine, EngineSettings, advice
from pytest_ragprobe.pipeline import PipelineAdapter
from pytest_ragprobe.runner import ProbeContext, ProbeError, RunSettings


def run(engine: Engine, calls: list[Call]) -> Any:
    return asyncio.run(engine.run(calls))


def calls(n: int) -> list[Call]:
    return [Call("answer", f"q{i}") for i in range(n)]


async def blocking(q: str) -> str:
    time.sleep(0.3)  # holds the loop: the 0.1 s timeout below cannot fire meanwhile
    return q.upper()


SHORT = EngineSettings(concurrency=2, timeout=0.1, retries=1, backoff=0.001, max_backoff=0.01, fail_fast=0)


def test_a_call_that_blocked_the_loop_past_its_timeout_is_a_retried_timeout() -> None:
    """Before: both calls came back ok (0.3 s each, one at a time, under a 0.1 s timeout)."""
    engine = Engine(PipelineAdapter(blocking), SHORT)
    out = run(engine, calls(2))
    assert [(o.ok, o.cause, o.attempts, o.cached) for o in out] == [(False, "timeout after 0.1s", 2, False)] * 2
    assert out[0].error is not None and out[0].error.startswith(
        "timeout after 0.1s (returned after 0.3"
    ), out[0].error
    assert out[0].error.endswith("s: the event loop was blocked, so the timeout could not fire)")
    stats = engine.stats
    assert (stats.errors, stats.retries, stats.error_causes) == (2, 2, {"timeout after 0.1s": 2})
    loop = stats.loop
    assert (loop.attempts, loop.slow, loop.late, loop.method, loop.concurrency) == (4, 4, 4, "answer", 2)
    assert loop.longest >= 0.3
    message = loop.message()
    assert message.startswith("the pipeline's async answer() blocks the event loop for up to ")
    assert " s per call (4 of 4 attempts), so the 0.1s timeout (--ragprobe-timeout) could not stop it" in message
    assert message.endswith(
        "use an async client or asyncio.to_thread() in it, or make the method sync (ragprobe runs sync "
        "methods in threads)"
    )


def test_a_late_return_fails_as_a_timeout_does_in_the_probe(tmp_path: Path) -> None:
    """The probe's error rate counts them; its message says why instead of "raise the timeout"."""
    settings = RunSettings(engine=SHORT, cache_dir=tmp_path)
    ctx = ProbeContext(PipelineAdapter(blocking), settings, direct=True)
    asyncio.run(ctx.run_calls(calls(2)))
    assert (ctx.calls, ctx.errors) == (2, 2)
    with pytest.raises(ProbeError) as raised:
        ctx.check_error_rate()
    text = str(raised.value)
    assert "most common cause (2x): timeout after 0.1s (the pipeline's async answer() blocks" in text
    assert "so the 0.1s timeout (timeout=) could not stop it" in text  # check_*: its keyword argument
    assert "raise timeout=" not in text
    # said once: in the cause, not again as a note
    assert ctx.result(kind="reverse", verdict="error", reason=text).notes == []
    assert not list(tmp_path.rglob("answers/**/*.json"))  # nothing cached: a timeout is not an answer


def test_blocking_within_the_timeout_is_a_note_not_an_error() -> None:
    async def slowish(q: str) -> str:
        time.sleep(SLOW_STEP + 0.02)
        return q

    settings = RunSettings(engine=EngineSettings(concurrency=4, timeout=30.0, retries=0))
    ctx = ProbeContext(PipelineAdapter(slowish), settings)
    out = asyncio.run(ctx.run_calls(calls(3)))
    assert [o.value.text for o in out] == ["q0", "q1", "q2"]
    assert ctx.errors == 0
    result = ctx.result(kind="reverse", verdict="pass")
    note = loop_note(result.notes)
    assert note.startswith("the pipeline's async answer() blocks the event loop for up to ")
    assert "(3 of 3 attempts), so the probe's calls ran one at a time, not 3 at once (--ragprobe-concurrency)" in note


def test_a_well_behaved_async_pipeline_is_unchanged(tmp_path: Path) -> None:
    async def answer(q: str) -> str:
        await asyncio.sleep(0.001 * (int(q[1:]) % 5))
        return q.upper()

    settings = EngineSettings(concurrency=4, timeout=2.0, retries=0)
    first = Engine(PipelineAdapter(answer), settings, cache_dir=tmp_path)
    out = run(first, calls(12))
    assert [(o.value.text, o.attempts, o.cached) for o in out] == [(f"Q{i}", 1, False) for i in range(12)]
    assert first.stats.loop.message() == "" and first.stats.loop.late == 0
    again = Engine(PipelineAdapter(answer), settings, cache_dir=tmp_path)
    assert [(o.value.text, o.cached) for o in run(again, calls(12))] == [(f"Q{i}", True) for i in range(12)]


def test_a_sync_pipeline_is_not_measured() -> None:
    def answer(q: str) -> str:
        time.sleep(0.15)  # in a thread: the loop runs on
        return q

    engine = Engine(PipelineAdapter(answer), EngineSettings(concurrency=2, timeout=5.0, retries=0))
    assert all(o.ok for o in run(engine, calls(2)))
    assert engine.stats.loop.attempts == 0 and engine.stats.loop.message() == ""


def test_a_slow_awaiting_call_still_times_out_and_is_not_called_blocking() -> None:
    cancelled: list[str] = []

    async def hangs(q: str) -> str:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(q)  # the cancellation reaches the pipeline's coroutine through Timed
            raise
        return q

    settings = EngineSettings(concurrency=2, timeout=0.05, retries=0, fail_fast=0)
    engine = Engine(PipelineAdapter(hangs), settings)
    out = run(engine, calls(2))
    assert [o.error for o in out] == ["timeout after 0.05s"] * 2
    assert sorted(cancelled) == ["q0", "q1"]
    assert engine.stats.loop.late == 0 and engine.stats.loop.message() == ""
    assert advice("timeout after 0.05s").startswith(" (raise --ragprobe-timeout")


def test_errors_raised_in_the_async_pipeline_keep_their_cause_and_traceback() -> None:
    async def broken(q: str) -> str:
        await asyncio.sleep(0)
        return {"a": "b"}[q]

    out = run(Engine(PipelineAdapter(broken), EngineSettings(retries=0, fail_fast=0)), calls(1))
    assert out[0].cause is not None and out[0].cause.startswith("KeyError at ")
    assert out[0].cause.endswith(f"{Path(__file__).name}:{broken.__code__.co_firstlineno + 2}")
    assert out[0].traceback is not None and "return {\"a\": \"b\"}[q]" in out[0].traceback


def test_timed_is_await_with_steps_measured() -> None:
    async def inner() -> str:
        try:
            await asyncio.sleep(0)
            raise ValueError("x")
        except ValueError:
            await asyncio.sleep(0)
            return "caught"

    meter = StepMeter()

    async def main() -> str:
        return await Timed(inner(), meter, "generate")

    assert asyncio.run(main()) == "caught"
    assert meter.steps == 3 and meter.method == "generate" and not meter.slow


def test_the_meter_is_set_only_inside_an_engine_attempt() -> None:
    seen: list[StepMeter | None] = []

    async def index(documents: list[Any]) -> None:
        seen.append(METER.get())

    async def answer(q: str) -> str:
        seen.append(METER.get())
        return q

    from pytest_ragprobe.pipeline import Pipeline

    adapter = PipelineAdapter(Pipeline(answer=answer, index=index))
    asyncio.run(adapter.index([]))
    run(Engine(adapter, EngineSettings(retries=0)), calls(1))
    assert seen[0] is None and isinstance(seen[1], StepMeter)


def test_one_slow_step_among_many_calls_is_not_a_stall() -> None:
    """A rare slow step (a busy machine, a cold cache) is not reported; most attempts blocking is."""
    block = LoopBlock(concurrency=4)
    fast, slow = StepMeter(), StepMeter()
    fast.add(0.001, "answer")
    slow.add(SLOW_STEP * 2, "answer")
    for meter in [slow] + [fast] * 9:
        block.add(meter, late=False)
    assert not block.stalled and block.message() == ""
    for _ in range(9):
        block.add(slow, late=False)
    assert block.stalled and "(10 of 19 attempts)" in block.message()
    single = LoopBlock(concurrency=1)
    for _ in range(5):
        single.add(slow, late=False)
    assert single.message() == ""  # one call at a time anyway: nothing held up
    single.add(slow, late=True)
    assert "(1 attempt returned after it: counted as timeouts)" in single.message()


def test_check_reverse_warns_of_a_blocking_pass_as_the_mark_does() -> None:
    import pytest_ragprobe as ragprobe
    from pytest_ragprobe.types import RagprobeWarning

    class Catalog:
        async def answer(self, question: str) -> str:
            time.sleep(SLOW_STEP + 0.02)
            return question.rstrip("?").rsplit(" ", 1)[1].translate(str.maketrans("PC", "CP"))

    facts = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(2)]
    result = ragprobe.check_reverse(Catalog(), facts, max_drop=0.99, timeout=30)
    assert result.verdict == "pass" and result.errors == 0
    with pytest.warns(RagprobeWarning, match=r"PASS, but the pipeline's async answer\(\) blocks the event loop"):
        result.assert_ok()
    assert "(concurrency=)" in loop_note(result.notes)  # check_*: its keyword argument



@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_result_in_before_the_deadline_is_not_late_when_the_loop_gets_to_it_late(kind: str) -> None:
    """The pipeline (a sync method's thread, an async one that awaits) returned well within the timeout,
    and the event loop was held before the engine got to the result by something not the pipeline (here a
    stand-in in the adapter; the engine's own work, a GC pause or a busy machine alike: a 1000-call batch
    under a 0.5 s timeout on a loaded machine had ~4% of its calls failed so). On time, as asyncio has it
    (the result was in before the timer), not "returned after ...: the event loop was blocked"."""

    def sync_answer(q: str) -> str:
        time.sleep(0.05)
        return q

    async def async_answer(q: str) -> str:
        await asyncio.sleep(0.05)
        return q

    class HeldAfter(PipelineAdapter):
        async def answer(self, question: str) -> Any:
            value = await super().answer(question)
            time.sleep(0.5)  # the loop, held after the pipeline returned, past the deadline
            return value

    settings = EngineSettings(concurrency=1, timeout=0.3, retries=0, fail_fast=0)
    engine = Engine(HeldAfter(sync_answer if kind == "sync" else async_answer), settings)
    out = run(engine, calls(1))
    assert [(o.ok, o.error) for o in out] == [(True, None)]
    assert engine.stats.loop.late == 0


def test_an_awaitable_handed_back_by_a_sync_method_is_judged_when_awaited() -> None:
    """A sync wrapper that hands back an awaitable that is not a coroutine (not timed): the thread's return
    is not when the pipeline's code returned, the await after it is (here it blocks the loop)."""

    class Blocks:
        def __await__(self) -> Any:
            time.sleep(0.3)
            return "late"
            yield  # (a generator)

    def answer(q: str) -> Blocks:
        return Blocks()

    settings = EngineSettings(concurrency=1, timeout=0.1, retries=0, fail_fast=0)
    out = run(Engine(PipelineAdapter(answer), settings), calls(1))
    assert out[0].error is not None and out[0].error.startswith("timeout after 0.1s (returned after 0.3")


def test_an_awaiting_pipeline_resumed_late_by_a_loaded_loop_is_on_time() -> None:
    """A well-behaved async pipeline: what it awaited was done before its deadline, but the loop, busy
    (here a stand-in callback; many calls in flight alike: 3000 calls of an awaiting pipeline at concurrency
    600 under a 0.5 s timeout had 3-9% of them failed so, none before), resumed its short last step after
    it. Its wake-up came before the timer, so asyncio has it on time; none of its own steps held the loop:
    not "returned after ...: the event loop was blocked"."""

    def resolve_then_hold(future: asyncio.Future[str], q: str) -> None:
        future.set_result(q)  # the pipeline's task is woken (queued before the timeout's timer)...
        time.sleep(0.4)  # ...and the loop is held past its deadline before it gets to run

    async def answer(q: str) -> str:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        loop.call_later(0.1, resolve_then_hold, future, q)
        return await future

    settings = EngineSettings(concurrency=1, timeout=0.3, retries=0, fail_fast=0)
    engine = Engine(PipelineAdapter(answer), settings)
    out = run(engine, calls(1))
    assert [(o.ok, o.error) for o in out] == [(True, None)]
    assert engine.stats.loop.late == 0 and engine.stats.loop.message() == ""
