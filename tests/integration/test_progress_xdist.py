"""Under pytest-xdist a worker's output reaches nobody: its periodic progress lines travel to the controller,
which prints them, prefixed with the worker, between its own output (``[gw0] ragprobe test_x: ...``). The
conftest lowers progress.PERIODIC_INTERVAL to 1 s, in the controller and in every worker; a call takes
0.1 s, one at a time: the long probe runs 2 s (a line at about 1 s, maybe one at 2 s, and its end), the short
one 0.2 s (nothing). A subprocess, so the controller writes to a pipe, as in a CI log."""

from __future__ import annotations

import pytest

CONFTEST = """
import time
import pytest
import pytest_ragprobe as ragprobe
from pytest_ragprobe import progress

progress.PERIODIC_INTERVAL = 1.0

def answer(question):
    time.sleep(0.1)
    last = question.rstrip("?").split()[-1]
    return "C-" + last[2:] if last.startswith("P-") else "P-" + last[2:]

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.Pipeline(answer=answer, name="slow")
"""

TESTS = """
import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(10)]

def test_plain():
    pass

@ragprobe.reverse(facts=FACTS, max_drop=0.5)
def test_long():
    pass

@ragprobe.reverse(facts=FACTS[:1], max_drop=0.5)
def test_short():
    pass
"""

ARGS = ("-n", "2", "-p", "no:cacheprovider", "--ragprobe-no-cache", "--ragprobe-concurrency=1")


@pytest.fixture
def slow_suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytest.importorskip("xdist")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_xd=TESTS)
    return pytester


@pytest.mark.parametrize("verbosity", [[], ["-v"]], ids=["default", "verbose"])
def test_a_workers_progress_reaches_the_controllers_log(
    slow_suite: pytest.Pytester, verbosity: list[str]
) -> None:
    result = slow_suite.runpytest_subprocess(*ARGS, *verbosity)
    result.assert_outcomes(passed=3, warnings=1)  # (test_short: one fact cannot decide, INCONCLUSIVE)
    result.stdout.fnmatch_lines([
        "[[]gw[01][]] ragprobe test_long: */20 calls, 0 errors, *calls/s, ETA *",
        "[[]gw[01][]] ragprobe test_long: 20/20 calls, 0 errors, *calls/s, done in *",
        "[[]gw[01][]] [[]*%[]] PASSED test_xd.py::test_long*" if verbosity else "[.]*",
    ])
    lines = result.stdout.lines
    shown = [i for i, line in enumerate(lines) if "ragprobe test_" in line]
    # whole lines of their own, not glued to pytest's dots or test ids; no empty line after one
    assert all(lines[i].startswith(("[gw0] ragprobe test_long: ", "[gw1] ragprobe test_long: ")) for i in shown)
    assert all(lines[i + 1].strip() for i in shown)
    assert "ragprobe test_short:" not in result.stdout.str()  # it ended within the interval
    assert "ragprobe test_" not in result.stderr.str()


@pytest.mark.parametrize("quiet", [["--ragprobe-no-progress"], ["-qq"]])
def test_no_progress_and_qq_keep_the_workers_quiet(slow_suite: pytest.Pytester, quiet: list[str]) -> None:
    result = slow_suite.runpytest_subprocess(*ARGS, *quiet)
    assert result.ret == 0
    assert "ragprobe test_" not in result.stdout.str() + result.stderr.str()
