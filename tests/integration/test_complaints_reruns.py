"""A probe is never rerun (DESIGN "Principles"): the warning that says reruns were disabled names only
probe tests that asked for reruns, and lands on one of them."""

from __future__ import annotations

import pytest
from factories import catalog_conftest

import pytest_ragprobe.facts  # noqa: F401  (keep one Fact class across in-process pytester runs)

pytest.importorskip("pytest_rerunfailures")

TESTS = """
import pytest
import pytest_ragprobe as ragprobe
from conftest import PUMPS

@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_a_plain(ragprobe_result):
    pass

@pytest.mark.flaky(reruns=2)
@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_b_flaky(ragprobe_result):
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(catalog_conftest('"no idea"'))
    pytester.makepyfile(test_r=TESTS)
    return pytester


def test_a_deselected_flaky_probe_puts_no_warning_on_the_others(project: pytest.Pytester) -> None:
    # the plain probe asked for no rerun: it was told "reruns disabled for 1 probe test(s)"
    result = project.runpytest_subprocess("-k", "plain", "-p", "no:randomly")
    result.assert_outcomes(passed=1, deselected=1)
    assert "reruns disabled" not in result.stdout.str()


def test_the_warning_lands_on_a_probe_that_asked_for_reruns(project: pytest.Pytester) -> None:
    # -W error makes it a failure: of the test that asked for reruns, not of the first probe to run
    result = project.runpytest_subprocess(
        "-p", "no:randomly", "-W", "error::pytest_ragprobe.RagprobeWarning", "-rf"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_r.py::test_b_flaky - *reruns disabled for 1 probe test(s)*"])


def test_reruns_asked_for_the_run_count_every_selected_probe(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("-p", "no:randomly", "--reruns", "2")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*reruns disabled for 2 probe test(s) (rerunfailures is active)*"])
