"""Acceptance: a pipeline whose code raises an exception without a message (a bare
``raise NotImplementedError`` in a method left unwritten) is said without a dangling ": "."""

from __future__ import annotations

import json

import pytest

CONFTEST = """
import pytest

class Rag:
    def answer(self, question):
        raise NotImplementedError

@pytest.fixture
def ragprobe_pipeline():
    return Rag()
"""

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


def test_an_exception_without_a_message_ends_at_the_question(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makefile(".yaml", facts=FACTS)
    pytester.makepyfile(test_rev=TEST)
    result = pytester.runpytest(
        "-p", "no:xdist", "--ragprobe-no-cache", "--ragprobe-concurrency=1", "--ragprobe-report=out"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["pytest-ragprobe: the pipeline raised NotImplementedError on 'Which controller fits pump P-*?'"]
    )
    result.stdout.no_fnmatch_line("*raised NotImplementedError on *: ")
    (probe,) = json.loads((pytester.path / "out" / "report.json").read_text())["probes"]
    assert probe["reason"].startswith("the pipeline raised NotImplementedError on 'Which controller fits pump P-")
    assert probe["reason"].endswith("?'"), probe["reason"]


RAISES = """
import asyncio
import pytest

def answer(question):
    raise asyncio.CancelledError()

@pytest.fixture
def ragprobe_pipeline():
    return answer
"""


def test_a_cancelled_error_from_the_pipeline_is_its_error_and_the_next_test_runs(pytester: pytest.Pytester) -> None:
    """asyncio.CancelledError (a BaseException) raised by the pipeline's own code ended the probe as "stopped
    while it ran", and, let out of the test's setup, left pytest's fixtures half set up: the next test, which
    has nothing to do with ragprobe, errored with an AssertionError inside pytest."""
    pytester.makeconftest(RAISES)
    pytester.makefile(".yaml", facts=FACTS)
    pytester.makepyfile(test_rev=TEST, test_z_after="def test_after():\n    pass\n")  # (runs after it)
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-no-cache", "--ragprobe-concurrency=1")
    result.assert_outcomes(errors=1, passed=1)
    result.stdout.fnmatch_lines(
        ["pytest-ragprobe: 5 of 5 pipeline calls failed (limit 10%); most common cause (5x): CancelledError at "
         "conftest.py:5; first for 'Which * fits *?': CancelledError; 3 more not attempted*"]
    )
