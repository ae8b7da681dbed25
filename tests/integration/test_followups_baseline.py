"""Follow-ups of the reviews on --ragprobe-baseline: the terminal's count of probes compared in part, and a
baseline file that lists a test twice."""

from __future__ import annotations

import json
import math

import pytest
from factories import WRONG_REVERSE_CONFTEST, facts_header, reverse_test

HEADER = facts_header(20)
NO_CACHE = "--ragprobe-no-cache"

probe = reverse_test


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(WRONG_REVERSE_CONFTEST)
    pytester.makepyfile(test_rev=HEADER + probe("test_a") + probe("test_b"))
    pytester.runpytest(NO_CACHE, "--ragprobe-save-baseline=bl.json").assert_outcomes(passed=2)
    return pytester


def _edit(path: pytest.Pytester, edit: object) -> None:
    file = path.path / "bl.json"
    data = json.loads(file.read_text(encoding="utf-8"))
    edit(data)  # type: ignore[operator]
    file.write_text(json.dumps(data), encoding="utf-8")  # (Python's json writes NaN)


def test_the_baseline_line_counts_probes_compared_in_part(project: pytest.Pytester) -> None:
    """One probe of the baseline has a drop that is not a number: its other figures are compared, and the
    line said "all 2 probes compared" as if every figure had been."""

    def nan_drop(data: dict) -> None:  # type: ignore[type-arg]
        data["probes"][0]["metrics"]["drop"] = math.nan

    _edit(project, nan_drop)
    result = project.runpytest(
        NO_CACHE, "-W", "ignore::pytest_ragprobe.RagprobeWarning", "--ragprobe-baseline=bl.json"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["ragprobe baseline: all 2 probes compared (1 in part) with *bl.json: none regressed"]
    )


def test_the_baseline_line_says_nothing_of_parts_when_all_was_compared(project: pytest.Pytester) -> None:
    result = project.runpytest(NO_CACHE, "--ragprobe-baseline=bl.json")
    result.stdout.fnmatch_lines(["ragprobe baseline: all 2 probes compared with *bl.json: none regressed"])
    assert "in part" not in result.stdout.str()


def test_a_baseline_listing_a_test_twice_is_a_usage_error(project: pytest.Pytester) -> None:
    def twice(data: dict) -> None:  # type: ignore[type-arg]
        other = json.loads(json.dumps(data["probes"][0]))
        other["metrics"]["drop"] = 0.5
        data["probes"].append(other)

    _edit(project, twice)
    result = project.runpytest(NO_CACHE, "--ragprobe-baseline=bl.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "bl.json: test_rev.py::test_a is listed twice, probes[0] and probes[2], with different" in (
        result.stderr.str()
    )
