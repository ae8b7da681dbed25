"""Fail-fast and the error rate with an answer cache. Audit repro: a pipeline where some calls raise
ended, run with a cache, as "17 of 160 pipeline calls failed (limit 10%)"; the rerun with the same
cache sent only the 17 that had failed (failures are not cached), the first 5 failed again, and
fail-fast called the service dead: "5 of 148 pipeline calls failed (limit 10%) ... 12 more not
attempted", a rate under the limit given as the reason for the error. A cache hit is a successful
call: the rerun ends as the run without the cache would."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from pytest_ragprobe.engine import Call, Engine, EngineSettings
from pytest_ragprobe.pipeline import PipelineAdapter
from pytest_ragprobe.runner import ProbeContext, ProbeError, RunSettings

SETTINGS = EngineSettings(concurrency=4, timeout=5.0, retries=0, backoff=0.001, fail_fast=5)
FAILING = {2, 5, 9, 13, 17, 21, 30}  # never among the first 5 alone: the first run does not trip
N = 40


def calls(n: int = N) -> list[Call]:
    return [Call("answer", f"q{i}") for i in range(n)]


class Flaky:
    """Fails (the same way) for a fixed set of questions, answers the others; logs real calls. Its
    ``version`` is its cache identity: which questions fail may change between runs (a service
    going down), the answers it gave stay cached."""

    version = "1"

    def __init__(self, failing: set[int] | None = None) -> None:
        self.failing = FAILING if failing is None else failing
        self.asked: list[str] = []

    def __call__(self, q: str) -> str:
        self.asked.append(q)
        if int(q[1:]) in self.failing:
            raise RuntimeError(f"backend exploded on {q}")
        return q.upper()


def run(engine: Engine, batch: list[Call]) -> Any:
    return asyncio.run(engine.run(batch))


def test_a_rerun_with_a_cache_sends_every_call_that_is_not_cached(tmp_path: Path) -> None:
    pipeline = Flaky()
    first = run(Engine(PipelineAdapter(pipeline), SETTINGS, cache_dir=tmp_path), calls())
    assert [i for i, o in enumerate(first) if not o.ok] == sorted(FAILING)
    pipeline.asked.clear()
    engine = Engine(PipelineAdapter(pipeline), SETTINGS, cache_dir=tmp_path)
    second = run(engine, calls())
    # was: the first 5 of the 7 real calls failed, fail-fast tripped and the other 2 were not sent
    assert sorted(pipeline.asked) == sorted(f"q{i}" for i in FAILING)
    assert engine.stats.skipped == 0 and all(o.attempts == 1 for o in second if not o.ok)
    assert [o.ok for o in second] == [o.ok for o in first]
    assert [o.cause for o in second] == [o.cause for o in first]
    assert sum(o.cached for o in second) == N - len(FAILING)


def test_fail_fast_still_trips_when_the_first_calls_are_not_cached_and_fail(tmp_path: Path) -> None:
    """Judged in plan order, a cache hit counting as a success where it stands: when the first 5 calls
    are real and fail the same way, the service is dead (as a run without the cache would find)."""
    dead = Flaky(set())
    run(Engine(PipelineAdapter(dead), SETTINGS, cache_dir=tmp_path), calls()[10:])
    dead.failing, dead.asked = set(range(N)), []
    engine = Engine(PipelineAdapter(dead), SETTINGS, cache_dir=tmp_path)
    out = run(engine, calls())
    assert sorted(dead.asked) == [f"q{i}" for i in range(5)]  # (sent in order, run side by side)
    assert engine.stats.skipped == 5 and [o.attempts for o in out[5:10]] == [0] * 5
    assert all(o.cached and o.ok for o in out[10:])


def test_a_cache_hit_among_the_first_calls_means_fail_fast_cannot_trip(tmp_path: Path) -> None:
    dead = Flaky(set())
    run(Engine(PipelineAdapter(dead), SETTINGS, cache_dir=tmp_path), calls()[3:4])
    dead.failing, dead.asked = set(range(N)), []
    engine = Engine(PipelineAdapter(dead), SETTINGS, cache_dir=tmp_path)
    out = run(engine, calls(12))
    assert len(dead.asked) == 11 and engine.stats.skipped == 0  # as without the cache: q3 answers
    assert out[3].cached and [o.ok for o in out].count(True) == 1


def probe(tmp_path: Path, pipeline: Flaky) -> ProbeContext:
    ctx = ProbeContext(PipelineAdapter(pipeline), RunSettings(engine=SETTINGS, cache_dir=tmp_path))
    asyncio.run(ctx.run_calls(calls()))
    return ctx


def test_the_rerun_error_gives_the_same_numbers_as_the_first_run(tmp_path: Path) -> None:
    messages = []
    for _ in range(2):
        ctx = probe(tmp_path, Flaky())
        with pytest.raises(ProbeError) as info:
            ctx.check_error_rate()
        messages.append(str(info.value))
    assert messages[0].startswith("7 of 40 pipeline calls failed (limit 10%); most common cause (7x): ")
    assert messages[1] == messages[0] and "not attempted" not in messages[1]
    assert (ctx.calls, ctx.cached_calls, ctx.errors, ctx.skipped) == (7, 33, 7, 0)


def test_fail_fast_in_a_later_batch_does_not_cite_a_rate_within_the_limit() -> None:
    """A sequential probe's second look finds the service dead: 5 of 65 calls failed, under the 10%
    limit; the ERROR is fail-fast's, and it says so (it said "(limit 10%)")."""
    pipeline = Flaky(set())
    ctx = ProbeContext(PipelineAdapter(pipeline), RunSettings(engine=SETTINGS))
    asyncio.run(ctx.run_calls(calls(60)))
    ctx.check_error_rate()  # all answered
    pipeline.failing = set(range(1000))
    asyncio.run(ctx.run_calls([Call("answer", f"q{i}") for i in range(100, 140)]))
    with pytest.raises(ProbeError) as info:
        ctx.check_error_rate()
    message = str(info.value)
    assert message.startswith(
        "5 of 65 pipeline calls failed (within the 10% limit, but fail-fast stopped the probe); "
        "most common cause (5x): RuntimeError at "
    )
    assert "limit 10%" not in message
    assert message.endswith("; 35 more not attempted (fail-fast: the 5 calls after the first 60 all failed this way)")


def test_a_long_question_is_clipped_in_the_error_so_the_cause_shows() -> None:
    """A 400-character question was printed twice ("first for '<q>': KeyError: '<q>'"), and report.md's cell
    was cut before the cause."""
    long_q = "Which pump " + "really " * 60 + "fits?"

    def broken(question: str) -> str:
        raise KeyError(question)

    ctx = ProbeContext(PipelineAdapter(broken), RunSettings(engine=SETTINGS))
    asyncio.run(ctx.run_calls([Call("answer", long_q)]))
    with pytest.raises(ProbeError) as info:
        ctx.check_error_rate()
    message = str(info.value)
    short = long_q[:79] + "…"
    assert message.endswith(f"; first for {short!r}: KeyError: '<the question>…")  # (the error was clipped in it)
    assert long_q not in message and len(message) < 400
