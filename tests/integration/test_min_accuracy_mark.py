"""@ragprobe.reverse with min_accuracy through pytester: the drop test and the floor each FAIL at alpha / 2
(Bonferroni), so a pipeline at both boundaries at once FAILs at most alpha of the time (tests/unit/
test_min_accuracy_split.py has the exact sums). The simulated pipeline knows every forward fact and misses
the first ``wrong`` of 100 in reverse: 72 right of 100 is below 0.80 at 95% one-sided (P(X <= 72) = 0.034
at 0.80) but not at 97.5%, so that floor FAILed before the split and is unsettled now."""

from __future__ import annotations

import json

import pytest

CONFTEST = """
import pytest
import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{{i}}", relation="compatible_with", object=f"C-{{i}}") for i in range(100)]

def answer(question):
    if "controller is compatible with pump" in question:
        return "Controller C-" + question.rsplit("P-", 1)[1].rstrip("?")
    i = int(question.rsplit("C-", 1)[1].rstrip("?"))
    return "no idea" if i < {wrong} else f"Pump P-{{i}}"

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
"""

TEST = """
import pytest_ragprobe as ragprobe
from conftest import FACTS

@ragprobe.reverse(facts=FACTS, max_drop=0.4, min_accuracy=0.8, sequential={sequential})
def test_catalog():
    pass
"""


@pytest.mark.parametrize("sequential", [False, True], ids=["fixed", "sequential"])
@pytest.mark.parametrize(
    ("wrong", "verdict", "line"),
    [
        (0, "pass", "*PASS*test_rev.py::test_catalog [[]reverse[]]*"),
        (28, "inconclusive", "*reverse accuracy 0.72 is not clearly above min_accuracy 0.80*"),
        (38, "fail", "*reverse accuracy 0.62 is below min_accuracy 0.80*"),
    ],
)
def test_reverse_min_accuracy_verdicts(
    pytester: pytest.Pytester, plugin_args: list[str], sequential: bool, wrong: int, verdict: str, line: str
) -> None:
    pytester.makeconftest(CONFTEST.format(wrong=wrong))
    pytester.makepyfile(test_rev=TEST.format(sequential=sequential))
    result = pytester.runpytest(*plugin_args, "--ragprobe-no-cache", "--ragprobe-report=rep")
    if verdict == "fail":
        result.assert_outcomes(failed=1)
    else:
        result.assert_outcomes(passed=1, warnings=1 if verdict == "inconclusive" else 0)
    result.stdout.fnmatch_lines([line])
    probe = json.loads((pytester.path / "rep" / "report.json").read_text(encoding="utf-8"))["probes"][0]
    assert probe["verdict"] == verdict
    assert probe["settings"]["min_accuracy"] == 0.8
