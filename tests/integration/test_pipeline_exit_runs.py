"""Acceptance: a pipeline that calls ``sys.exit()`` (or code it calls does: argparse on bad arguments) is
that probe's ERROR, said as what happened and where, and the run goes on, as pytest has a SystemExit raised
in a test. It read "stopped while it ran, after 0 pipeline calls (0.0 s): 3", and (a SystemExit let out of
the test's setup) broke pytest's fixture state: every later test errored with an AssertionError in pytest."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest

FACTS = "facts:\n" + "".join(
    f"  - forward: {{question: 'Which controller fits pump P-{i}?', answer: C-{i}}}\n"
    f"    reverse: {{question: 'Which pump fits controller C-{i}?', answer: P-{i}}}\n"
    for i in range(4)
)

TEST = """
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="facts.yaml", max_drop=0.2)
def test_rev(ragprobe_result):
    pass
"""

AFTER = "def test_after(ragprobe_pipeline):\n    pass\n"

SYNC = """
import sys
import pytest

def answer(question):
    sys.exit(3)

@pytest.fixture
def ragprobe_pipeline():
    return answer
"""

ASYNC = """
import pytest

class Rag:
    async def answer(self, question):
        raise SystemExit("no model configured")

@pytest.fixture
def ragprobe_pipeline():
    return Rag()
"""

ARGPARSE = """
import argparse
import pytest

def answer(question):
    parser = argparse.ArgumentParser(prog="rag")
    parser.add_argument("--model", required=True)
    parser.parse_args([])
    return "C-0"

@pytest.fixture
def ragprobe_pipeline():
    return answer
"""

INDEX = """
import sys
import pytest

class Rag:
    def index(self, documents):
        sys.exit()

    def answer(self, question):
        return "C-0"

@pytest.fixture
def ragprobe_pipeline():
    return Rag()
"""

TAIL = (
    ": pytest-ragprobe takes it as this probe's error, as pytest takes a SystemExit raised in a test "
    "(the other tests still run)"
)


def _run(pytester: pytest.Pytester, conftest: str, *args: str) -> tuple[pytest.RunResult, dict[str, object]]:
    pytester.makeconftest(conftest)
    pytester.makefile(".yaml", facts=FACTS)
    pytester.makepyfile(test_rev=TEST, test_z_after=AFTER)  # (runs after it)
    result = pytester.runpytest(
        "-p", "no:randomly", "--ragprobe-no-cache", "--ragprobe-concurrency=1", "--ragprobe-report=out", *args
    )
    (probe,) = json.loads((pytester.path / "out" / "report.json").read_text())["probes"]
    return result, probe


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["plain", "xdist"])
def test_sys_exit_in_a_sync_pipeline_is_that_probes_error(pytester: pytest.Pytester, xdist: tuple[str, ...]) -> None:
    result, probe = _run(pytester, SYNC, *(xdist or ("-p", "no:xdist")))
    result.assert_outcomes(errors=1, passed=1)
    said = "the pipeline called sys.exit(3) at conftest.py:5 on 'Which controller fits pump P-[0-3][?]'"
    result.stdout.fnmatch_lines(
        [f"pytest-ragprobe: {said}{TAIL}", "*conftest.py*, line 5, in answer", "*sys.exit(3)", "SystemExit: 3"]
    )
    result.stdout.no_fnmatch_line("*stopped while it ran*")
    result.stdout.no_fnmatch_line("*AssertionError*")
    assert fnmatchcase(str(probe["reason"]), said + TAIL), probe["reason"]
    assert probe["calls"] == 1


def test_system_exit_in_an_async_pipeline_is_that_probes_error(pytester: pytest.Pytester) -> None:
    result, probe = _run(pytester, ASYNC, "-p", "no:xdist")
    result.assert_outcomes(errors=1, passed=1)
    said = "the pipeline called sys.exit('no model configured') at conftest.py:5 on 'Which controller fits pump P-[0-3][?]'"
    assert fnmatchcase(str(probe["reason"]), said + TAIL), probe["reason"]


def test_argparse_exiting_inside_the_pipeline_says_the_pipelines_line(pytester: pytest.Pytester) -> None:
    result, probe = _run(pytester, ARGPARSE, "-p", "no:xdist")
    result.assert_outcomes(errors=1, passed=1)
    said = "the pipeline called sys.exit(2) at conftest.py:7 on 'Which controller fits pump P-[0-3][?]'"
    assert fnmatchcase(str(probe["reason"]), said + TAIL), probe["reason"]
    result.stdout.fnmatch_lines(["*parser.parse_args([])", "*argparse.py*", "SystemExit: 2"])


def test_sys_exit_in_the_pipelines_index_is_that_probes_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(INDEX)
    pytester.makefile(".yaml", facts="facts: synthetic:4\n")
    pytester.makepyfile(
        test_rev=TEST.replace('facts="facts.yaml"', 'facts="synthetic:4"'), test_z_after=AFTER
    )
    result = pytester.runpytest(
        "-p", "no:randomly", "-p", "no:xdist", "--ragprobe-no-cache", "--ragprobe-report=out"
    )
    result.assert_outcomes(errors=1, passed=1)
    (probe,) = json.loads((pytester.path / "out" / "report.json").read_text())["probes"]
    assert probe["reason"] == f"the pipeline called sys.exit() at conftest.py:6{TAIL}"


INTERRUPT = """
import pytest

def answer(question):
    raise KeyboardInterrupt

@pytest.fixture
def ragprobe_pipeline():
    return answer
"""


def test_a_keyboard_interrupt_from_the_pipeline_still_stops_the_run(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(INTERRUPT)
    pytester.makefile(".yaml", facts=FACTS)
    pytester.makepyfile(test_rev=TEST, test_z_after=AFTER)
    # (in a subprocess: raised in-process, the interrupt would stop this test run too)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:xdist", "--ragprobe-no-cache")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*KeyboardInterrupt*"])
    result.stdout.no_fnmatch_line("*test_after*PASSED*")
    result.stdout.no_fnmatch_line("*1 passed*")
