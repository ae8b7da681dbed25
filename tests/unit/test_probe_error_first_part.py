"""The "first for '<question>': <error>" part of a probe's error when the question is long: the
question in the error is said as <the question>, and what the error says after it is kept (it was cut
there: "KeyError: '<the question>" lost its closing quote, "no context for '<the question>" the index
it was not found in)."""

from __future__ import annotations

import asyncio

import pytest

from pytest_ragprobe.engine import Call, EngineSettings
from pytest_ragprobe.pipeline import PipelineAdapter
from pytest_ragprobe.runner import ProbeContext, ProbeError, RunSettings

LONG_Q = "Which pump " + "really " * 12 + "fits?"  # (100 characters: the call's error holds all of it)
SHORT = LONG_Q[:79] + "…"


def probe_error(exc: Exception) -> str:
    def broken(question: str) -> str:
        raise exc

    settings = RunSettings(engine=EngineSettings(concurrency=1, timeout=5.0, retries=0, fail_fast=0))
    ctx = ProbeContext(PipelineAdapter(broken), settings)
    asyncio.run(ctx.run_calls([Call("answer", LONG_Q)]))
    with pytest.raises(ProbeError) as info:
        ctx.check_error_rate()
    return str(info.value)


def test_what_the_error_says_after_a_long_question_is_kept() -> None:
    message = probe_error(ValueError(f"no context for {LONG_Q!r} in index 'main'"))
    assert message.endswith(f"; first for {SHORT!r}: ValueError: no context for '<the question>' in index 'main'")
    assert message.count(LONG_Q[:40]) == 1


def test_a_keyerror_on_a_long_question_keeps_its_quotes() -> None:
    assert probe_error(KeyError(LONG_Q)).endswith(f"; first for {SHORT!r}: KeyError: '<the question>'")


def test_a_question_clipped_in_the_error_ends_where_it_was_clipped() -> None:
    # the call's error is clipped at 200 characters, inside the question: nothing after it to keep
    message = probe_error(ValueError("x" * 100 + f" {LONG_Q}"))
    assert message.endswith(f": ValueError: {'x' * 100} <the question>…"), message


def test_a_malformed_reply_names_its_url_once() -> None:
    """The cause and the call's error both begin "malformed response from URL: ", then differ: the
    probe's error said the URL twice ("...got '<html>'; first for 'q': malformed response from URL: not
    JSON ...")."""
    from pytest_ragprobe.adapters import MalformedResponseError

    url = "http://127.0.0.1:9/answer"

    def broken(question: str) -> str:
        raise MalformedResponseError(url, "not JSON (JSONDecodeError): '<html>'", "expected JSON, got '<html>'")

    settings = RunSettings(engine=EngineSettings(concurrency=1, timeout=5.0, retries=0, fail_fast=0))
    ctx = ProbeContext(PipelineAdapter(broken), settings)
    asyncio.run(ctx.run_calls([Call("answer", "q")]))
    with pytest.raises(ProbeError) as info:
        ctx.check_error_rate()
    assert str(info.value).endswith(
        f"most common cause (1x): malformed response from {url}: expected JSON, got '<html>'; first for 'q': "
        "not JSON (JSONDecodeError): '<html>'"
    ), str(info.value)
    # a cause that only begins like the error is not cut out of it ("KeyError at f.py:3" / "KeyError: 'x'")
    assert probe_error(KeyError("x")).endswith(": KeyError: 'x'")
