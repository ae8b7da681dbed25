"""Acceptance: an async pipeline that blocks its event loop (``time.sleep`` in an ``async def``, as a sync
HTTP client there does) cannot dodge ``--ragprobe-timeout``: its late answers are timeouts, and the
probe says the method blocks the loop and what to do about it. A well-behaved async pipeline is not
affected."""

from __future__ import annotations

import json

import pytest
from factories import facts_yaml

CONFTEST = """
import asyncio
import time

import pytest

class Catalog:
    def __init__(self, block):
        self.block = block

    async def answer(self, question):
        tail = question.rstrip("?").rsplit(" ", 1)[1]
        if self.block:
            time.sleep({block})  # a sync call inside async def: the event loop stands still
        else:
            await asyncio.sleep(0.01)
        return tail.replace("P-", "C-") if question.startswith("Which controller") else tail.replace("C-", "P-")

@pytest.fixture
def ragprobe_pipeline():
    return Catalog({flag})
"""

TEST = """
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop={max_drop})
def test_rev(ragprobe_result):
    pass
"""

BLOCKS = "the pipeline's async answer() blocks the event loop for up to"
ADVICE = "use an async client or asyncio.to_thread() in it, or make the method sync"


def _run(pytester: pytest.Pytester, block: float | None, *args: str, max_drop: float = 0.10) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST.format(block=block or 0, flag=block is not None))
    pytester.makefile(".yaml", facts=facts_yaml(2))
    pytester.makepyfile(test_a=TEST.format(max_drop=max_drop))
    return pytester.runpytest("-p", "no:xdist", "--ragprobe-no-cache", "--ragprobe-report=rep", *args)


def _probe(pytester: pytest.Pytester) -> dict[str, object]:
    (probe,) = json.loads((pytester.path / "rep" / "report.json").read_text())["probes"]
    assert isinstance(probe, dict)
    return probe


def test_a_blocking_async_pipeline_times_out_and_is_told_why(pytester: pytest.Pytester) -> None:
    """Before: 4 calls of 0.5 s each "succeeded" under a 0.2 s timeout, one at a time, and the probe
    passed or failed on them without a word."""
    result = _run(pytester, 0.5, "--ragprobe-timeout=0.2", "--ragprobe-retries=0")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*4 of 4 pipeline calls failed (limit 10%); most common cause (4x): timeout after 0.2s ("
            f"{BLOCKS} * s per call (4 of 4 attempts), so the 0.2s timeout (--ragprobe-timeout) could not "
            f"stop it (4 attempts returned after it: counted as timeouts) and the probe's other calls waited "
            f"meanwhile: {ADVICE}*; first for 'Which controller works with pump P-*?': timeout after 0.2s "
            "(returned after *s: the event loop was blocked, so the timeout could not fire)",
        ]
    )
    assert "raise --ragprobe-timeout" not in result.stdout.str()  # advice that cannot help here
    probe = _probe(pytester)
    assert probe["verdict"] == "error" and (probe["calls"], probe["errors"]) == (4, 4)
    assert str(probe["error_cause"]).startswith("timeout after 0.2s (4x) (" + BLOCKS)
    assert probe["notes"] == []  # said once, in the cause


def test_blocking_within_the_timeout_is_said_on_a_pass(pytester: pytest.Pytester) -> None:
    """No timeout is missed, but the calls ran one at a time: a PASS that warns."""
    result = _run(pytester, 0.12, "--ragprobe-timeout=30", max_drop=0.99)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            f"*test_a.py::test_rev: PASS, but {BLOCKS} * s per call (4 of 4 attempts), so the probe's calls "
            f"ran one at a time, not 4 at once (--ragprobe-concurrency)*{ADVICE}*",
        ]
    )
    probe = _probe(pytester)
    assert probe["verdict"] == "pass" and probe["errors"] == 0
    (note,) = [n for n in probe["notes"] if isinstance(n, str) and n.startswith(BLOCKS)]  # type: ignore[attr-defined]
    assert "ran one at a time" in note


def test_a_well_behaved_async_pipeline_is_not_affected(pytester: pytest.Pytester) -> None:
    result = _run(pytester, None, "--ragprobe-timeout=0.2", max_drop=0.99)
    result.assert_outcomes(passed=1)
    assert "event loop" not in result.stdout.str()
    probe = _probe(pytester)
    assert (probe["verdict"], probe["calls"], probe["errors"], probe["notes"]) == ("pass", 4, 0, [])
