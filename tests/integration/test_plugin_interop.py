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

# an async pipeline that records the loop each call runs on
LOOP_CONFTEST = FACTS_CONFTEST + """
PROBE_LOOPS = []

async def async_answer(question):
    PROBE_LOOPS.append(asyncio.get_running_loop())
    return answer(question)

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return async_answer
"""


@pytest.mark.xdist_elsewhere
def test_probe_loop_is_not_the_threads_current_loop(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    """The event loop probes run on (kept for the process) was left as the thread's current event loop: a
    later test's legacy ``asyncio.get_event_loop()`` got it, and closing that loop made the next probe an
    ERROR "the pipeline raised RuntimeError: Event loop is closed"."""
    pytester.makeconftest(LOOP_CONFTEST)
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
    pytester.makeconftest(LOOP_CONFTEST)
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


# pytest-timeout's signal method (timeout_method=signal, the default where SIGALRM exists): a SIGALRM handler
# set around the test's protocol that raises pytest.fail in the main thread, wherever it is (here: inside
# the probe's event loop, in the test's setup).
SIGNAL_TIMEOUT_CONFTEST = """
import signal
import time
import pytest
import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(60)]

def slow_answer(question):
    time.sleep(0.05)
    if "controller is compatible with pump" in question:
        return "Controller C-" + question.rsplit("P-", 1)[1].rstrip("?")
    return "Pump P-" + question.rsplit("C-", 1)[1].rstrip("?")

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return slow_answer

@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    def on_alarm(signum, frame):
        pytest.fail("Timeout (>1.2s) from pytest-timeout.")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 1.2)
    try:
        return (yield)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
"""


def test_probe_stopped_by_a_test_timeout_says_so(pytester: pytest.Pytester) -> None:
    """A probe stopped mid-run by pytest-timeout (signal method) was recorded as "setup failed, the probe
    did not run" with 0 calls, after it had made dozens: the reports and the error now say it was stopped,
    after how many calls, and how to give probe tests a longer timeout."""
    import json

    pytester.makeconftest(SIGNAL_TIMEOUT_CONFTEST)
    pytester.makepyfile(
        test_slow="""
import pytest_ragprobe as ragprobe
from conftest import FACTS

@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_slow(ragprobe_result):
    pass

def test_after():
    pass
"""
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "--ragprobe-no-cache", "--ragprobe-concurrency=2", "--ragprobe-report=rep"
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "E*Failed: Timeout (>1.2s) from pytest-timeout.",
            "E*pytest-ragprobe: stopped while it ran, after * pipeline calls (*s): Timeout (>1.2s) from "
            "pytest-timeout; a probe runs in its test's setup*@pytest.mark.timeout(600)*",
        ]
    )
    assert "the probe did not run" not in result.stdout.str()
    (probe,) = json.loads((pytester.path / "rep" / "report.json").read_text())["probes"]
    assert probe["verdict"] == "error"
    assert probe["calls"] > 0
    assert probe["reason"].startswith(f"stopped while it ran, after {probe['calls']} pipeline calls")


def test_pytest_exit_raised_into_a_probe_ends_the_run(pytester: pytest.Pytester) -> None:
    """pytest.exit() from a signal handler (a CI job's SIGTERM handler, here SIGALRM) while a probe runs ends
    the session, as anywhere else in a test. It is an Exception: it was caught as "the pipeline raised Exit",
    the run went on with the next tests (and their pipeline calls)."""
    pytester.makeconftest(
        SIGNAL_TIMEOUT_CONFTEST.replace(
            'pytest.fail("Timeout (>1.2s) from pytest-timeout.")', 'pytest.exit("the CI job is cancelled")'
        )
    )
    pytester.makepyfile(
        test_slow="""
import pytest_ragprobe as ragprobe
from conftest import FACTS

@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_slow(ragprobe_result):
    pass

def test_after():
    raise AssertionError("ran after pytest.exit")
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--ragprobe-no-cache", "--ragprobe-concurrency=2")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "the CI job is cancelled" in result.stdout.str() + result.stderr.str()
    assert "ran after pytest.exit" not in result.stdout.str()
    assert "the pipeline raised Exit" not in result.stdout.str()


def test_pipeline_made_on_another_loop_is_explained(pytester: pytest.Pytester) -> None:
    """An async ragprobe_pipeline fixture (pytest-asyncio) builds the pipeline on the test's event loop; a
    client, session or lock it makes there fails on the probe's loop with asyncio's "got Future ...
    attached to a different loop": the error says what that means and what to change. (Reproduced with a
    loop of the conftest's own.)"""
    pytester.makeconftest(
        FACTS_CONFTEST
        + """
class Pooled:
    def __init__(self, loop):
        self.loop = loop  # the loop its connection pool was made on

    async def answer(self, question):
        waiter = self.loop.create_future()  # a pool's waiter
        self.loop.call_soon(waiter.set_result, None)
        await waiter
        return answer(question)

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    loop = asyncio.new_event_loop()
    yield Pooled(loop)
    loop.close()
"""
    )
    pytester.makepyfile(
        test_pool="""
import pytest_ragprobe as ragprobe
from conftest import FACTS

@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_pool(ragprobe_result):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--ragprobe-no-cache")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*most common cause (5x): RuntimeError at conftest.py:* (the pipeline uses asyncio objects made on "
            "another event loop: probes run on pytest-ragprobe's own, and an async ragprobe_pipeline fixture "
            "(pytest-asyncio) builds the pipeline on the test's: create its clients, sessions and locks inside "
            "its async methods, on first use, or build it in a sync fixture); first for *"
        ]
    )
    assert "got Future <Future pending> attached to a different loop" in result.stdout.str()  # its traceback
