"""Acceptance: a pipeline that raises a BaseException other than Ctrl-C and sys.exit() (a custom BaseException
subclass, GeneratorExit, asyncio.CancelledError), in a call or in its ``index()``, is that probe's error, said
as what it raised and where, and the tests after it run normally, as pytest has such an exception raised in
a test. Let out of the probe's setup, it broke pytest's fixture state: every later test of the session errored
with a bare AssertionError from pytest's fixtures.py, the probe read "stopped while it ran", and a
GeneratorExit from a call read "internal error in pytest-ragprobe: RuntimeError: coroutine ignored
GeneratorExit", blaming ragprobe."""

from __future__ import annotations

import json

import pytest

CONFTEST = """
import asyncio

import pytest

class Abort(BaseException):
    pass

def boom():
    {raise_it}

class Rag:
    def __init__(self):
        self.pages = []
        self.once = True

    {async_}def index(self, documents):
        if {in_index} and self.once:
            self.once = False
            boom()
        self.pages = [d.text for d in documents]

    {async_}def answer(self, question):
        if not {in_index} and self.once:
            self.once = False
            boom()
        tail = question.rstrip("?").rsplit(" ", 1)[1]
        return next((page for page in self.pages if tail in page), "")

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return Rag()
"""

TESTS = """
import pytest
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="synthetic:4", max_drop=0.2)
def test_1_raises(ragprobe_result):
    pass

@ragprobe.reverse(facts="synthetic:4", max_drop=0.2)
def test_2_after(ragprobe_result):
    pass

@pytest.fixture
def other():
    yield "set up"

def test_3_plain(other):
    assert other == "set up"
"""

RAISED = {
    "Abort": ('raise Abort("stop here")', "Abort: stop here", "conftest.Abort: stop here"),
    "GeneratorExit": ("raise GeneratorExit", "GeneratorExit", "GeneratorExit"),
    "CancelledError": ("raise asyncio.CancelledError", "CancelledError", "asyncio.exceptions.CancelledError"),
}


def _run(pytester: pytest.Pytester, raised: str, where: str, kind: str, *args: str) -> tuple[pytest.RunResult, dict]:
    conftest = CONFTEST.format(
        raise_it=RAISED[raised][0], async_="async " if kind == "async" else "", in_index=where == "index"
    )
    pytester.makeconftest(conftest)
    pytester.makepyfile(test_probes=TESTS)
    result = pytester.runpytest(
        "-p", "no:randomly", "--ragprobe-no-cache", "--ragprobe-concurrency=1", "--ragprobe-report=out", *args
    )
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    return result, {p["nodeid"].rsplit("::", 1)[1]: p for p in report["probes"]}


def _line(pytester: pytest.Pytester, text: str) -> int:
    return (pytester.path / "conftest.py").read_text().splitlines().index(text) + 1


@pytest.mark.parametrize("kind", ["async", "sync"])
@pytest.mark.parametrize("raised", list(RAISED))
def test_a_base_exception_from_index_is_that_probes_error(pytester: pytest.Pytester, raised: str, kind: str) -> None:
    result, probes = _run(pytester, raised, "index", kind, "-p", "no:xdist")
    result.assert_outcomes(errors=1, passed=2)
    said = f"the pipeline raised {RAISED[raised][1]}"
    line = _line(pytester, f"    {RAISED[raised][0]}")
    result.stdout.fnmatch_lines([
        f"pytest-ragprobe: {said}",
        f'*conftest.py", line {line}, in boom',
        f"*{RAISED[raised][2]}",
    ])
    result.stdout.no_fnmatch_line("*AssertionError*")
    result.stdout.no_fnmatch_line("*stopped while it ran*")
    assert (probes["test_1_raises"]["verdict"], probes["test_1_raises"]["reason"]) == ("error", said)
    assert (probes["test_2_after"]["verdict"], probes["test_2_after"]["errors"]) == ("inconclusive", 0)


@pytest.mark.parametrize("kind", ["async", "sync"])
@pytest.mark.parametrize("raised", ["Abort", "GeneratorExit"])
def test_a_base_exception_from_a_call_is_that_calls_error(pytester: pytest.Pytester, raised: str, kind: str) -> None:
    """As a call that raises CancelledError (an SDK's) is: counted as the call's error, never retried."""
    result, probes = _run(pytester, raised, "answer", kind, "-p", "no:xdist")
    result.assert_outcomes(errors=1, passed=2)
    line = _line(pytester, f"    {RAISED[raised][0]}")
    cause = f"{raised} at conftest.py:{line}"
    result.stdout.fnmatch_lines([
        f"pytest-ragprobe: 1 of 8 pipeline calls failed (limit 10%); most common cause (1x): {cause}; "
        f"first for '*': {RAISED[raised][1]}",
        "The first call that failed this way raised:",
        f'*conftest.py", line {line}, in boom',
    ])
    result.stdout.no_fnmatch_line("*AssertionError*")
    result.stdout.no_fnmatch_line("*internal error*")
    probe = probes["test_1_raises"]
    assert (probe["verdict"], probe["calls"], probe["errors"], probe["retries"]) == ("error", 8, 1, 0)
    assert (probes["test_2_after"]["verdict"], probes["test_2_after"]["errors"]) == ("inconclusive", 0)


@pytest.mark.parametrize("raised", ["Abort", "CancelledError"])
def test_under_xdist_too(pytester: pytest.Pytester, raised: str) -> None:
    result, probes = _run(pytester, raised, "index", "async", "-n", "2", "--dist", "loadfile")
    result.assert_outcomes(errors=1, passed=2)
    assert probes["test_1_raises"]["reason"] == f"the pipeline raised {RAISED[raised][1]}"
    assert (probes["test_2_after"]["verdict"], probes["test_2_after"]["errors"]) == ("inconclusive", 0)


OUTSIDE_CONFTEST = """
import sys
import time
import pytest
import pytest_ragprobe as ragprobe

sys.path.insert(0, "lib/site-packages")  # (a library's code: not the pipeline's own)
import stopper

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(60)]

def slow_answer(question):
    time.sleep(0.05)
    if "controller is compatible with pump" in question:
        return "Controller C-" + question.rsplit("P-", 1)[1].rstrip("?")
    return "Pump P-" + question.rsplit("C-", 1)[1].rstrip("?")

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return slow_answer

@pytest.fixture
def other():
    yield "set up"

@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    stopper.arm(1.2 if item.name == "test_slow" else 0)
    try:
        return (yield)
    finally:
        stopper.arm(0)
"""

STOPPER = """
import signal

class Stop(BaseException):
    pass

def on_alarm(signum, frame):
    raise Stop("stopped by a library's alarm")

def arm(seconds):
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
"""


def test_a_base_exception_raised_into_the_run_from_outside_fails_only_that_probe(pytester: pytest.Pytester) -> None:
    """Raised by a library's signal handler while the event loop waited (no frame of the pipeline's own): the
    probe says it was stopped, as for pytest-timeout's pytest.fail, and the tests after it run."""
    pytester.makeconftest(OUTSIDE_CONFTEST)
    (pytester.path / "lib" / "site-packages").mkdir(parents=True)
    (pytester.path / "lib" / "site-packages" / "stopper.py").write_text(STOPPER)
    pytester.makepyfile(
        test_slow="""
import pytest_ragprobe as ragprobe
from conftest import FACTS

@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_slow(ragprobe_result):
    pass

def test_after(other):
    assert other == "set up"
"""
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-p", "no:xdist", "--ragprobe-no-cache", "--ragprobe-concurrency=2"
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["pytest-ragprobe: stopped while it ran, after * pipeline calls (*s): stopped by a library's alarm"]
    )
    result.stdout.no_fnmatch_line("*AssertionError*")


FIXTURE_CONFTEST = """
import sys
import pytest

class Abort(BaseException):
    pass

@pytest.fixture
def ragprobe_pipeline():
    {raise_it}

@pytest.fixture
def other():
    yield "set up"
"""

DEPENDENCY_CONFTEST = """
import sys
import pytest

@pytest.fixture
def db():
    sys.exit(2)

@pytest.fixture
def ragprobe_pipeline(db):
    return lambda question: ""

@pytest.fixture
def other():
    yield "set up"
"""

HOOK_CONFTEST = """
import pytest

class Abort(BaseException):
    pass

@pytest.fixture
def ragprobe_pipeline():
    return lambda question: ""

def pytest_ragprobe_make_pipeline(config, pipeline):
    raise Abort("no adapter today")

@pytest.fixture
def other():
    yield "set up"
"""

FIXTURE_TESTS = """
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="synthetic:4", max_drop=0.2)
def test_1_probe():
    pass

@ragprobe.reverse(facts="synthetic:4", max_drop=0.2)
def test_2_probe(ragprobe_result):
    pass

def test_3_plain(other):
    assert other == "set up"
"""


@pytest.mark.parametrize(
    ("conftest", "said"),
    [
        (FIXTURE_CONFTEST.format(raise_it='raise Abort("no pipeline today")'),
         "the ragprobe_pipeline fixture raised Abort: no pipeline today (at conftest.py:9)"),
        (FIXTURE_CONFTEST.format(raise_it="sys.exit(2)"), "the ragprobe_pipeline fixture raised SystemExit: 2 (at conftest.py:9)"),
        (HOOK_CONFTEST, "the pytest_ragprobe_make_pipeline hook raised Abort: no adapter today (at conftest.py:11)"),
        (DEPENDENCY_CONFTEST, "the db fixture raised SystemExit: 2 (at conftest.py:6)"),
    ],
    ids=["fixture-custom", "fixture-sys-exit", "hook-custom", "its-dependency"],
)
def test_a_base_exception_from_the_pipeline_fixture_or_hook_fails_only_that_test(
    pytester: pytest.Pytester, conftest: str, said: str
) -> None:
    """The probe asks for the fixture (request.getfixturevalue, from an autouse fixture): a BaseException let
    out of that broke pytest's fixture state, though one from a fixture a test names does not."""
    pytester.makeconftest(conftest)
    pytester.makepyfile(test_probes=FIXTURE_TESTS)
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:xdist", "--ragprobe-report=out")
    result.assert_outcomes(errors=2, passed=1)
    result.stdout.fnmatch_lines([f"ERROR test_probes.py::test_1_probe - Failed: pytest-ragprobe: {said}"])
    result.stdout.no_fnmatch_line("*AssertionError*")
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    reason = f"setup failed, the probe did not run: pytest-ragprobe: {said}"
    assert [p["reason"] for p in report["probes"]] == [reason] * 2
