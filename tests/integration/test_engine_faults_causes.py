"""Acceptance: a pipeline whose error message names the question (a KeyError on it) is one cause, so
fail-fast stops it after the first calls, and the ERROR names the place it was raised."""

from __future__ import annotations

import json

import pytest

CONFTEST = """
import pytest

def helper(question):
    return {"oops": 1}[question]

def answer(question):
    return helper(question)

@pytest.fixture
def ragprobe_pipeline():
    return answer
"""

FACTS = "".join(
    ["relations:\n  compatible_with:\n",
     '    forward: "Which controller is compatible with pump {subject}?"\n',
     '    reverse: "Which pump is compatible with controller {object}?"\n',
     "facts:\n"]
    + [f"  - {{subject: P-{i}, relation: compatible_with, object: C-{i}}}\n" for i in range(1, 21)]
)

TEST = """
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.10)
def test_rev(ragprobe_result):
    pass
"""


def test_an_error_naming_the_question_trips_fail_fast_and_names_where_it_was_raised(
    pytester: pytest.Pytester,
) -> None:
    """Audit repro (c3, MODE=keyerror): "40 of 40 pipeline calls failed (limit 10%); most common
    cause (1x): KeyError: 'Which controller is compatible with pump P-1?'": every call was sent."""
    pytester.makeconftest(CONFTEST)
    pytester.makefile(".yaml", facts=FACTS)
    pytester.makepyfile(test_a=TEST)
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-no-cache", "--ragprobe-report=rep")
    result.assert_outcomes(errors=1)
    cause = "KeyError at conftest.py:4"
    result.stdout.fnmatch_lines(
        [
            f"*5 of 5 pipeline calls failed (limit 10%); most common cause (5x): {cause}; first for "
            "'Which controller is compatible with pump P-11?': KeyError: "
            "'Which controller is compatible with pump P-11?'; 35 more not attempted (fail-fast*",
        ]
    )
    (probe,) = json.loads((pytester.path / "rep" / "report.json").read_text())["probes"]
    assert probe["verdict"] == "error" and (probe["calls"], probe["errors"]) == (5, 5)
    assert probe["error_cause"].startswith(f"{cause} (5x)")
