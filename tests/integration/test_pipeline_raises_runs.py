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


INDEX_RAISES = """
import pytest

class Rag:
    def index(self, documents):
        raise ValueError("index full")

    def answer(self, question):
        return "x"

@pytest.fixture
def ragprobe_pipeline():
    return Rag()
"""


def test_a_value_error_from_the_pipelines_index_says_the_pipeline_raised_it(pytester: pytest.Pytester) -> None:
    """index() (synthetic facts) raising ValueError was caught as one of ragprobe's own input errors:
    "pytest-ragprobe: index full", with no word of who raised it and no traceback."""
    pytester.makeconftest(INDEX_RAISES)
    pytester.makepyfile(
        test_rev="import pytest_ragprobe as ragprobe\n\n"
        "@ragprobe.reverse(facts='synthetic:10', max_drop=0.2)\ndef test_rev(ragprobe_result):\n    pass\n"
    )
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-no-cache")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "pytest-ragprobe: the pipeline raised ValueError: index full",
            "Traceback (most recent call last):",
            '  File "*conftest.py", line 5, in index',
        ]
    )


def test_ragprobes_own_value_errors_are_still_said_plainly(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.replace("raise NotImplementedError", "return 'x'"))
    pytester.makepyfile(
        test_rev="import pytest_ragprobe as ragprobe\n\n"
        "@ragprobe.reverse(facts='missing.yaml', max_drop=0.2)\ndef test_rev(ragprobe_result):\n    pass\n"
    )
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-no-cache")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["pytest-ragprobe: missing.yaml: facts file not found*"])
    result.stdout.no_fnmatch_line("*the pipeline raised*")
