"""Errors raised in the pipeline's own code are grouped by type and place, not by message: a message
often names the question, and then no two calls shared a cause and fail-fast never tripped."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from pytest_ragprobe.engine import Call, Engine, EngineSettings
from pytest_ragprobe.pipeline import PipelineAdapter

HERE = os.path.relpath(__file__) if os.path.abspath(__file__).startswith(os.getcwd() + os.sep) else (
    os.path.basename(__file__)
)
SETTINGS = EngineSettings(concurrency=8, retries=2, backoff=0.001, max_backoff=0.01, fail_fast=5)


def run(answer: Any, n: int = 40) -> tuple[Engine, list[Any]]:
    engine = Engine(PipelineAdapter(answer), SETTINGS)
    return engine, asyncio.run(engine.run([Call("answer", f"q{i}") for i in range(n)]))


def lookup(q: str) -> str:
    return {"oops": "1"}[q]  # KeyError: 'q0', 'q1', ...


LOOKUP_LINE = lookup.__code__.co_firstlineno + 1


def test_a_key_error_naming_the_question_trips_fail_fast_and_keeps_its_traceback() -> None:
    """Audit repro: ``def helper(q): return {"oops": 1}[q]`` sent all 40 calls ("40 of 40 pipeline
    calls failed ... most common cause (1x): KeyError: 'Which controller ...'"), with no traceback
    anywhere."""
    made: list[str] = []

    def answer(q: str) -> str:
        made.append(q)
        return lookup(q)

    engine, out = run(answer)
    cause = f"KeyError at {HERE}:{LOOKUP_LINE}"
    assert len(made) == 5 and engine.stats.skipped == 35  # was 40 and 0
    assert all(o.cause == cause for o in out) and engine.stats.error_causes == {cause: 40}
    assert [o.error for o in out[:5]] == [f"KeyError: 'q{i}'" for i in range(5)]  # as Python says it
    assert all(o.attempts == 1 for o in out[:5])  # not retried: a bug, not a transient failure
    tb = out[0].traceback
    assert tb is not None and tb.startswith("Traceback (most recent call last):\n")
    assert tb.endswith("KeyError: 'q0'\n")
    assert f'line {LOOKUP_LINE}, in lookup\n    return {{"oops": "1"}}[q]' in tb
    assert "in answer\n    return lookup(q)" in tb
    assert "pytest_ragprobe" not in tb and "asyncio" not in tb and "concurrent" not in tb
    assert all(o.traceback is None for o in out[5:])  # not attempted: nothing raised


def test_a_message_that_varies_per_call_trips_fail_fast_like_one_that_does_not() -> None:
    """``raise ValueError(f"no context for {question}")`` was never the same cause twice."""
    counts: dict[str, int] = {}

    async def varying(q: str) -> str:
        counts["varying"] = counts.get("varying", 0) + 1
        raise ValueError(f"no context for {q}")

    async def fixed(q: str) -> str:
        counts["fixed"] = counts.get("fixed", 0) + 1
        raise RuntimeError("db down")

    _, out = run(varying)
    run(fixed)
    assert counts == {"varying": 5, "fixed": 5}  # was 40 and 5
    line = varying.__code__.co_firstlineno + 2
    assert {o.cause for o in out} == {f"ValueError at {HERE}:{line}"}
    assert out[3].error == "ValueError: no context for q3"


def test_different_places_are_different_causes() -> None:
    """Two bugs are two causes (and fail-fast, which needs one, does not trip)."""

    async def answer(q: str) -> str:
        if int(q[1:]) % 2:
            raise KeyError(q)
        raise KeyError(q)

    engine, out = run(answer, 20)
    first = answer.__code__.co_firstlineno
    odd, even = f"KeyError at {HERE}:{first + 2}", f"KeyError at {HERE}:{first + 3}"
    assert [o.cause for o in out] == [even, odd] * 10
    assert engine.stats.skipped == 0 and all(o.attempts == 1 for o in out)


def test_an_error_raised_in_a_library_is_placed_at_the_pipeline_line_that_called_it() -> None:
    """The innermost frame of the pipeline's own code, not the standard library's (json/decoder.py)."""

    def answer(q: str) -> str:
        return str(json.loads(q))

    engine, out = run(answer, 10)
    line = answer.__code__.co_firstlineno + 1
    assert out[0].cause == f"JSONDecodeError at {HERE}:{line}"
    assert out[0].error == "JSONDecodeError: Expecting value: line 1 column 1 (char 0)"
    tb = out[0].traceback or ""
    assert "json.loads(q)" in tb and tb.endswith("json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n")
    assert engine.stats.skipped == 5


def test_a_bug_that_raises_is_told_apart_by_its_question_even_when_it_refuses_attributes() -> None:
    """The question was set as an attribute on the exception: one that refuses attributes (a frozen
    dataclass, __slots__) named none. The probe's context keeps it instead, with the calls made."""
    from dataclasses import dataclass

    import pytest

    from pytest_ragprobe.runner import context_for

    @dataclass(frozen=True)
    class FrozenTypeError(TypeError):
        code: int = 1

    def pipeline(question: str) -> str:
        if question == "q3":
            raise FrozenTypeError()
        return "a"

    ctx = context_for(pipeline, "check_reverse", concurrency=1)
    with pytest.raises(FrozenTypeError):
        asyncio.run(ctx.run_calls([Call("answer", f"q{i}") for i in range(6)]))
    assert ctx.fatal_question == "q3"
    assert ctx.calls == 4  # q0..q2 answered, q3 raised: made, and counted


def test_the_first_for_part_does_not_repeat_the_causes_hint() -> None:
    """A pipeline returning a tuple: the ERROR said "(an (answer, documents) pair? return
    ragprobe.Answer(...))" in its cause and again in its "first for" part."""
    import pytest

    import pytest_ragprobe as ragprobe
    from pytest_ragprobe.runner import ProbeError, _without_shared_hint

    facts = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(5)]
    with pytest.raises(ProbeError) as info:
        ragprobe.check_reverse(lambda q: ("C-1", []), facts)
    text = str(info.value)
    assert text.count("an (answer, documents) pair?") == 1, text
    # the cause once, then the value it was given (as for a value without a hint: "got int; first for
    # '...': 42"): was "got tuple (...hint...); first for '...': <the cause again>, got tuple: ('C-1', [])"
    assert text.count("expected str or ragprobe.Answer, got tuple") == 1, text
    assert "got tuple (an (answer, documents) pair? " in text
    assert "?': ('C-1', []); 5 more not attempted" in text  # the value is still shown
    # only a hint both end with is left out; nested parentheses are one hint
    assert _without_shared_hint("w: bad, got int: 5 (x (y) z)", "w: bad, got int (x (y) z)") == "w: bad, got int: 5"
    assert _without_shared_hint("w: bad, got int: 5 (other)", "w: bad, got int (x)") == "w: bad, got int: 5 (other)"
    assert _without_shared_hint("KeyError: 'a'", "KeyError at rag.py:9") == "KeyError: 'a'"
