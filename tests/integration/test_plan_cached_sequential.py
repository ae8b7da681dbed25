"""A sequential probe's plan line with cached answers: one bracket, not two side by side."""

from __future__ import annotations

import pytest

CONFTEST = """
import pytest
import pytest_ragprobe as ragprobe

def answer(question):
    last = question.split()[-1].rstrip("?")  # P-3 <-> C-3: right both ways
    return "C-" + last[2:] if last.startswith("P-") else "P-" + last[2:]

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.Pipeline(answer=answer, name="plan-seq-cache-sim")
"""

TESTS = """
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(40)]

@ragprobe.reverse(facts=FACTS, max_drop=0.5, sequential=True)
def test_seq():
    pass
"""


def test_a_cached_sequential_probe_reads_one_bracket(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_seq_plan=TESTS)
    pytester.runpytest("-p", "no:xdist").assert_outcomes(passed=1)
    result = pytester.runpytest("-p", "no:xdist", "--collect-only", "-q")
    lines = [line for line in result.stdout.lines if "::test_seq [reverse]" in line]
    assert len(lines) == 1, result.stdout.str()
    # (was: "... (sequential: may stop at the first look) (N cached)")
    # (the first run stopped after 10 facts: their 20 answers are cached)
    assert lines[0].endswith(
        "::test_seq [reverse] 10-80 calls = 40 facts x 2 (sequential: may stop at the first look; 20 cached)"
    ), lines[0]
