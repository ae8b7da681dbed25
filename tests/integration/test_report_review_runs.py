"""The terminal of a run that wrote reports (--ragprobe-report) but ran no probe."""

from __future__ import annotations

import pytest

from pytest_ragprobe.results import load_report


def test_a_run_without_probes_says_its_report_holds_none(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    # Was: report.json / .md / .html were rewritten with no probe ("EMPTY", and `ragprobe show` exits 5)
    # while the terminal said nothing of ragprobe, nor where the files went.
    pytester.makepyfile(test_plain="def test_x():\n    pass\n")
    result = pytester.runpytest(*plugin_args, "--ragprobe-report=rp")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["ragprobe: no probe ran; the report written to *rp holds none"])
    assert load_report(pytester.path / "rp" / "report.json").probes == []
    # without --ragprobe-report nothing is written, and nothing said
    quiet = pytester.runpytest(*plugin_args)
    assert "ragprobe: no probe ran" not in quiet.stdout.str()
