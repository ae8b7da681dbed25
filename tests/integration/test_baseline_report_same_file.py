"""--ragprobe-save-baseline naming the report.json that --ragprobe-report writes (`--ragprobe-report=ci
--ragprobe-save-baseline=ci`): the report replaced the baseline with an empty partial report at the start
and as probes finished, so a `-k` run dropped the baseline's other probes in silence, and a run stopped
early said "the baseline ... was kept as it was" of a file it had overwritten. A usage error now, before
any call; reading the last report as --ragprobe-baseline of the next run stays allowed."""

from __future__ import annotations

import pytest
from factories import WRONG_REVERSE_CONFTEST, facts_header, reverse_test

TWO = facts_header(30) + reverse_test("test_a") + reverse_test("test_b")


@pytest.mark.parametrize("save", ["ci", "ci/report.json", "ci/./report.json"])
def test_save_baseline_to_the_report_file_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, save: str
) -> None:
    monkeypatch.setenv("REVERSE_WRONG", "0")
    pytester.makeconftest(WRONG_REVERSE_CONFTEST)
    pytester.makepyfile(test_rev=TWO)
    (pytester.path / "ci").mkdir()
    (pytester.path / "ci" / "report.json").write_text("kept", encoding="utf-8")
    result = pytester.runpytest("--ragprobe-no-cache", "--ragprobe-report=ci", f"--ragprobe-save-baseline={save}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: --ragprobe-save-baseline: */ci* is the report.json that --ragprobe-report=*/ci writes (emptied "
        "at the start of a run, rewritten as probes finish): save the baseline to a file of its own, e.g. "
        "--ragprobe-save-baseline=ragprobe-baseline.json (no test ran)"
    ])
    assert (pytester.path / "ci" / "report.json").read_text(encoding="utf-8") == "kept"


def test_the_last_report_as_the_baseline_of_the_next_run_is_allowed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVERSE_WRONG", "0")
    pytester.makeconftest(WRONG_REVERSE_CONFTEST)
    pytester.makepyfile(test_rev=TWO)
    pytester.runpytest("--ragprobe-no-cache", "--ragprobe-report=ci").assert_outcomes(passed=2)
    result = pytester.runpytest("--ragprobe-no-cache", "--ragprobe-report=ci", "--ragprobe-baseline=ci")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["ragprobe baseline: all 2 probes compared with */ci: none regressed"])
