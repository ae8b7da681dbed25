"""pytest-ragprobe next to plugins users combine it with, reproduced without them: what they do to a test
(pytest-timeout's signal method: pytest.fail from a SIGALRM handler; code that takes the thread's current
event loop and closes it; pipelines made on another event loop, as an async pytest-asyncio fixture does)."""

from __future__ import annotations

import pytest

FACTS_CONFTEST = """
import asyncio
import pytest
import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(60)]

def answer(question):
    if "controller is compatible with pump" in question:
        return "Controller C-" + question.rsplit("P-", 1)[1].rstrip("?")
    return "Pump P-" + question.rsplit("C-", 1)[1].rstrip("?")
"""


@pytest.mark.xdist_elsewhere
def test_probe_loop_is_not_the_threads_current_loop(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    """The event loop probes run on (kept for the process) was left as the thread's current event loop: a
    later test's legacy ``asyncio.get_event_loop()`` got it, and closing that loop made the next probe an
    ERROR "the pipeline raised RuntimeError: Event loop is closed"."""
    pytester.makeconftest(
        FACTS_CONFTEST
        + """
PROBE_LOOPS = []

async def async_answer(question):
    PROBE_LOOPS.append(asyncio.get_running_loop())
    return answer(question)

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return async_answer
"""
    )
    pytester.makepyfile(
        test_loops="""
import asyncio
import warnings
import pytest_ragprobe as ragprobe
from conftest import FACTS, PROBE_LOOPS

@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_1(ragprobe_result):
    assert PROBE_LOOPS

def test_legacy_loop_user():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:  # no current loop: fine
            return
    assert loop is not PROBE_LOOPS[-1]
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()

@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_2(ragprobe_result):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--ragprobe-no-cache", "-W", "error::RuntimeWarning", *plugin_args)
    result.assert_outcomes(passed=3)


def test_kept_loop_closed_by_a_test_is_replaced(pytester: pytest.Pytester) -> None:
    """Even a test that closes the probes' own loop (taken from a running pipeline) does not break the next
    probe: it gets a fresh loop."""
    pytester.makeconftest(
        FACTS_CONFTEST
        + """
PROBE_LOOPS = []

async def async_answer(question):
    PROBE_LOOPS.append(asyncio.get_running_loop())
    return answer(question)

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return async_answer
"""
    )
    pytester.makepyfile(
        test_closed="""
import pytest_ragprobe as ragprobe
from conftest import FACTS, PROBE_LOOPS

@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_1(ragprobe_result):
    pass

def test_closes_it():
    PROBE_LOOPS[-1].close()

@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_2(ragprobe_result):
    assert PROBE_LOOPS[-1] is not PROBE_LOOPS[0]
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--ragprobe-no-cache", "-W", "error::RuntimeWarning")
    result.assert_outcomes(passed=3)
