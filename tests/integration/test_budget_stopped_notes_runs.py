"""A reverse probe that --ragprobe-budget stopped: its INCONCLUSIVE note says the budget stopped it, how
many more pipeline calls (two a fact) the estimate takes, and that the data fall short too when they do.
Was: "the data holds 15 more: add more to decide it", as if the data alone had stopped it."""

from __future__ import annotations

import re

import pytest

import pytest_ragprobe.facts  # noqa: F401  (keep one Fact class across in-process pytester runs)
from pytest_ragprobe.results import load_report

CONFTEST = """
import pytest
import pytest_ragprobe as ragprobe

PUMPS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(40)]

def answer(question):
    tail = question.rstrip("?").rsplit(" ", 1)[1]
    if "compatible with pump" in question:
        return "Controller " + tail.replace("P-", "C-")
    return "Pump " + tail.replace("C-", "P-")

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
"""
TEST = """
import pytest_ragprobe as ragprobe
from conftest import PUMPS

@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_pumps(ragprobe_result):
    pass
"""


def test_a_reverse_probe_stopped_by_the_budget_says_to_raise_it(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_pumps=TEST)
    result = pytester.runpytest(
        "-p", "no:xdist", "-p", "no:randomly", "--ragprobe-budget=50", "--ragprobe-no-cache", "--ragprobe-report=rp"
    )
    result.assert_outcomes(passed=1, warnings=1)
    [probe] = load_report(pytester.path / "rp" / "report.json").probes
    assert probe.verdict == "inconclusive" and probe.n == 25  # 25 of 40 facts: 50 calls
    [note] = [n for n in probe.notes if "more" in n]
    found = re.search(r"about (\d+) more", note)
    assert found is not None, note
    more = int(found.group(1))
    assert more > 15  # (the data fall short too)
    assert note.endswith(
        f"; the call budget stopped the probe: asking them takes about {2 * more} more pipeline calls "
        "(raise --ragprobe-budget), and the data holds only 15 more: add more facts"
    ), note
    result.stdout.fnmatch_lines(["*the call budget stopped the probe: asking them takes about*"])
