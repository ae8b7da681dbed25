"""check_reverse / check_position from a script or notebook: call options, warnings, NumPy arguments,
printing a result, Ctrl-C inside a running event loop, max_drop 0."""

from __future__ import annotations

import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(40)]


def right(question: str) -> str:
    """Right both ways for the facts above."""
    if "pump P-" in question:
        return "C-" + question.rsplit("P-", 1)[1].rstrip("?")
    return "P-" + question.rsplit("C-", 1)[1].rstrip("?")


def test_timeout_retries_and_concurrency_can_be_set_without_a_command_line() -> None:
    # Was: "unknown argument 'timeout'", and a hanging pipeline took 3 minutes (60 s x retries) to error
    # with advice to raise --ragprobe-timeout, an option a script does not have.
    def hang(question: str) -> str:
        time.sleep(5)
        return ""

    start = time.monotonic()
    with pytest.raises(ragprobe.ProbeError) as info:
        ragprobe.check_reverse(hang, FACTS[:4], timeout=0.2, retries=0, concurrency=8)
    assert time.monotonic() - start < 4
    message = str(info.value)
    assert "timeout after 0.2s" in message
    assert "(raise timeout=, or lower concurrency= if the pipeline slows under load)" in message
    assert "--ragprobe-" not in message
    with pytest.raises(ragprobe.MarkArgumentError, match=r"check_position: argument 'retries' must be >= 0"):
        ragprobe.check_position(right, "synthetic:5", retries=-1)
    with pytest.raises(ragprobe.MarkArgumentError, match=r"argument 'timeout' must be in \(0.0, inf\]"):
        ragprobe.check_reverse(right, FACTS, timeout=0)


def test_assert_ok_on_an_inconclusive_direct_result_warns_as_the_mark_does() -> None:
    # Was: no warning, so -W error::pytest_ragprobe.RagprobeInconclusiveWarning let it pass silently.
    r = ragprobe.check_reverse(right, FACTS[:10])
    assert r.verdict == "inconclusive"
    with pytest.warns(ragprobe.RagprobeInconclusiveWarning, match="INCONCLUSIVE") as caught:
        r.assert_ok()
    # a check_* result is in no report: it named report.html and ragprobe_result anyway
    assert str(caught[0].message).endswith("\n  details: result.explain()")
    wrong = ragprobe.check_reverse(lambda q: "no idea", FACTS, max_drop=0.2)
    with pytest.warns(ragprobe.RagprobeWarning, match="PASS, but .*PASS only says"):
        wrong.assert_ok()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ragprobe.check_reverse(right, FACTS).assert_ok()  # a clear PASS: nothing to say


def test_numpy_scalars_are_accepted_as_numbers() -> None:
    # Was: "argument 'n' must be an int, got int64 np.int64(30)" (a value from a config array).
    r = ragprobe.check_reverse(right, FACTS, n=np.int64(30), seed=np.int32(3), max_drop=np.float32(0.1))
    assert r.n == 30 and r.settings["max_drop"] == 0.1  # 0.1, not float32's 0.10000000149011612


def test_a_result_prints_as_its_explanation_and_the_package_lists_its_names() -> None:
    r = ragprobe.check_reverse(right, FACTS)
    assert str(r) == r.explain() and str(r).startswith("ragprobe reverse probe PASS")
    assert repr(r) == "ProbeResult(kind='reverse', verdict='pass', n=40, drop=+0.00)"  # no empty node id
    assert {"check_reverse", "check_position", "Fact", "required_n"} <= set(dir(ragprobe))


def test_max_drop_0_says_no_run_can_pass() -> None:
    # Was: INCONCLUSIVE with no note at all, whatever the number of facts.
    r = ragprobe.check_reverse(right, FACTS, max_drop=0)
    assert r.verdict == "inconclusive"
    assert any(n.startswith("no run can PASS at max_drop 0.00") for n in r.notes), r.notes


# A notebook cell: ipykernel runs it inside an event loop and turns Ctrl-C into KeyboardInterrupt.
NOTEBOOK = """
import asyncio, os, signal, threading, time
import pytest_ragprobe as ragprobe

calls = []
facts = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(60)]

def slow(question):
    calls.append(question)
    if len(calls) == 10:  # Ctrl-C once the probe is well under way
        threading.Timer(0.1, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    time.sleep(0.2)
    return "?"

async def cell():
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        ragprobe.check_reverse(slow, facts)
    except KeyboardInterrupt:
        at = len(calls)
        await asyncio.sleep(1.5)
        print(at, len(calls) - at)

asyncio.run(cell())
"""


def test_ctrl_c_in_a_running_event_loop_stops_the_probe(tmp_path: Path) -> None:
    # Was: control came back, and the probe went on calling the pipeline in the background (48 calls in
    # the 2 s after the interrupt).
    out = subprocess.run(
        [sys.executable, "-c", NOTEBOOK], capture_output=True, text=True, timeout=60, cwd=tmp_path, check=True
    ).stdout.split()
    at, after = int(out[0]), int(out[1])
    assert 10 <= at < 120 and after == 0


def test_a_pipeline_missing_a_capability_is_named_by_the_function_called() -> None:
    # Was: "@ragprobe.position needs the pipeline's `generate` ..." for a check_position call.
    with pytest.raises(ragprobe.PipelineConfigError, match=r"^check_position needs the pipeline's `generate`"):
        ragprobe.check_position(right, "synthetic:5")
    with pytest.raises(ragprobe.PipelineConfigError, match=r"^check_reverse needs the pipeline's `answer`"):
        ragprobe.check_reverse(ragprobe.Pipeline(generate=lambda q, d: ""), FACTS)


def test_pipeline_parts_are_checked_when_it_is_built() -> None:
    # Was: version=3 left out of the identity (so of the cache key), top_k=0 / "5" passed to retrieve().
    assert ragprobe.Pipeline(answer=right, version=3).version == "3"
    assert "@3" in ragprobe.check_reverse(ragprobe.Pipeline(answer=right, version=3), FACTS).pipeline
    for bad, message in (
        ({"top_k": 0}, r"Pipeline\(top_k=...\) must be an int >= 1, got 0"),
        ({"top_k": "5"}, r"Pipeline\(top_k=...\) must be an int >= 1, got '5'"),
        ({"version": ["v2"]}, r"Pipeline\(version=...\) must be a string, got \['v2'\]"),
    ):
        with pytest.raises(ragprobe.PipelineConfigError, match=message):
            ragprobe.Pipeline(answer=right, **bad)


def test_a_match_that_cannot_score_is_refused_before_any_call() -> None:
    # Was: MatchError at scoring, after every pipeline call had been made (and paid for).
    calls: list[str] = []

    def counted(question: str) -> str:
        calls.append(question)
        return right(question)

    with pytest.raises(ragprobe.MarkArgumentError, match=r"argument 'match' must take \(answer, golds\)"):
        ragprobe.check_reverse(counted, FACTS, match=lambda answer: True)
    facts = [*FACTS[:5], ragprobe.Fact(forward={"question": "Which code?", "answer": "a(b"},
                                       reverse={"question": "Which item has code a(b?", "answer": "X"})]
    with pytest.raises(ragprobe.MatchError, match=r"accepted answer 'a\(b' of fact '5', forward question"):
        ragprobe.check_reverse(counted, facts, match="regex")
    assert calls == []


def test_a_result_has_no_truth_value() -> None:
    # Was: `assert ragprobe.check_reverse(...)` passed on a FAIL (a result object is always true).
    result = ragprobe.check_reverse(lambda q: "no idea", FACTS[:30], max_drop=0.1)
    assert result.verdict == "pass"
    with pytest.raises(TypeError, match=r"no truth value \(this one is PASS\): call result.assert_ok\(\)"):
        bool(result)
    fail = ragprobe.check_reverse(lambda q: "C-" + q.rsplit("P-", 1)[1].rstrip("?") if "pump P-" in q else "?",
                                  FACTS, max_drop=0.1)
    assert fail.verdict == "fail" and not fail.passed
    with pytest.raises(TypeError, match="this one is FAIL"):
        assert fail  # the point: a bare assert no longer passes


def test_assert_ok_warns_about_tolerated_failed_calls_as_a_mark_does() -> None:
    # Was: a PASS with 2 of 80 calls failed (a pipeline returning None) was silent under assert_ok().
    def flaky(question: str) -> str | None:
        return None if question.endswith(("P-3?", "P-7?")) else right(question)

    result = ragprobe.check_reverse(flaky, FACTS, max_drop=0.2)
    assert (result.verdict, result.errors) == ("pass", 2)
    with pytest.warns(ragprobe.RagprobeWarning) as caught:
        result.assert_ok()
    texts = [str(w.message) for w in caught]
    assert any(t.startswith("2 of 80 pipeline calls failed (not retried) and were left out of the statistics (n=38)")
               and "most common cause:" in t for t in texts), texts


@pytest.mark.parametrize(
    ("typo", "hint"), [("concurency", "'concurrency'"), ("timout", "'timeout'"), ("retires", "'retries'")]
)
def test_a_misspelt_call_option_gets_its_name_suggested(typo: str, hint: str) -> None:
    # Was: "unknown argument 'concurency' (did you mean 'confidence'?); allowed: confidence, facts, ..." (the
    # list left out timeout, retries, concurrency and max_error_rate; 'timout' got no suggestion at all).
    with pytest.raises(ragprobe.MarkArgumentError) as info:
        ragprobe.check_reverse(right, FACTS, **{typo: 2})
    message = str(info.value)
    assert message.startswith(f"check_reverse: unknown argument '{typo}' (did you mean {hint}?)")
    assert "concurrency" in message.split("allowed: ")[1] and "max_error_rate" in message


def test_an_inconclusive_result_has_its_reason() -> None:
    # Was: result.reason == "" for INCONCLUSIVE (check_* and report.json), while explain() said why.
    result = ragprobe.check_reverse(right, FACTS[:10], max_drop=0.2)
    assert result.verdict == "inconclusive"
    assert result.reason.startswith("drop +0.00, but its one-sided 95% bounds [")
    assert f"  reason: {result.reason}" in result.explain().splitlines()
    assert result.explain().count(result.reason) == 1


def test_a_passing_result_has_its_reason() -> None:
    # Was: result.reason == "" for a PASS (check_* and report.json), while explain() and the reports said why.
    result = ragprobe.check_reverse(right, FACTS, max_drop=0.2)
    assert result.verdict == "pass"
    assert result.reason.startswith("drop +0.00, upper bound +0.")
    assert "≤ max_drop 0.20: reverse accuracy is not more than max_drop below forward" in result.reason
    assert result.explain().count(result.reason) == 1
