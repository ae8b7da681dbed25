"""A run whose collection fails prints no ragprobe cost plan: pytest's own error comes first, and no probe
runs to make the calls the plan promised."""

from __future__ import annotations

import pytest

CONFTEST = """
import pytest

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return lambda question: "no idea"
"""

GOOD = """
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(10)]

@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_rev():
    pass
"""

BROKEN = {
    "syntax": "def test_broken(:\n    pass\n",
    "bad_mark": "import pytest_ragprobe as ragprobe\n\n@ragprobe.reverse(facts='x.yaml', max_dorp=0.1)\n"
    "def test_bad():\n    pass\n",
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_no_plan_line_when_collection_fails(pytester: pytest.Pytester, broken: str) -> None:
    """The plan was printed right after "collected 1 item / 1 error", promising calls no test made."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_good=GOOD, test_broken=BROKEN[broken])
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-no-cache")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "ragprobe plan" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*ERROR collecting test_broken.py*", "*Interrupted: 1 error during collection*"])
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-no-cache", "--collect-only")
    assert "ragprobe plan" not in result.stdout.str()


def test_under_xdist_the_probes_that_collected_run_and_are_planned(pytester: pytest.Pytester) -> None:
    """pytest-xdist runs the tests that collected despite another file's error: the plan it prints is kept."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_good=GOOD, test_broken=BROKEN["syntax"])
    result = pytester.runpytest_subprocess("-n", "2", "--ragprobe-no-cache")
    result.stdout.fnmatch_lines(["ragprobe plan: 1 probe, up to 20 pipeline calls*", "*ERROR collecting test_broken.py*"])
    result.assert_outcomes(passed=1, errors=1)


def test_the_plan_stays_when_collection_errors_are_let_through(pytester: pytest.Pytester) -> None:
    """--continue-on-collection-errors runs the probes that collected: their plan is printed."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_good=GOOD, test_broken=BROKEN["syntax"])
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-no-cache", "--continue-on-collection-errors")
    result.stdout.fnmatch_lines(["ragprobe plan: 1 probe, up to 20 pipeline calls*"])
    result.assert_outcomes(passed=1, errors=1)
