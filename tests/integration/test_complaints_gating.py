"""CI gating as a user relies on it: what a run that failed to write its report says it wrote."""

from __future__ import annotations

import pytest
from factories import catalog_conftest

import pytest_ragprobe.facts  # noqa: F401  (keep one Fact class across in-process pytester runs)

TESTS = """
import pytest_ragprobe as ragprobe
from conftest import PUMPS

@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_pumps(ragprobe_result):
    pass
"""

# Writable when the run starts, not when it ends: the report directory becomes a file.
BLOCKER = """
import shutil
from pathlib import Path

def test_zz_blocks():
    shutil.rmtree("rp")
    Path("rp").write_text("a file now")
"""

# What the exporter hook is handed (the docs: that file, or None without --ragprobe-report).
HOOK = """

def pytest_ragprobe_report(config, report, path):
    print(f"HOOK PATH {path}")
"""


def test_a_report_that_could_not_be_written_is_not_listed_as_written(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    """The earlier rewrites (after each probe) succeeded, the final one did not: the run said the report
    could not be written and then listed report.json, report.html and report.md as written, at paths that
    held a file in their place; the exporter hook was handed that path too."""
    pytester.makeconftest(catalog_conftest('"no idea"') + HOOK)
    pytester.makepyfile(test_catalog=TESTS, test_zz_blocks=BLOCKER)
    result = pytester.runpytest_subprocess(*plugin_args, "-s", "-p", "no:randomly", "--ragprobe-report=rp/inner")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert "could not write the ragprobe report to " in out
    assert "ragprobe report: " not in out
    assert "ragprobe html: " not in out and "ragprobe markdown: " not in out
    result.stdout.fnmatch_lines(["*HOOK PATH None"])  # (printed after a progress dot)


# A strict xfail that demonstrates a weakness (as examples/ do): any exception satisfies a plain xfail, so
# a pipeline that could not be reached (an ERROR: nothing was checked) passed the run as "expected".
# raises=ragprobe.ProbeFailed expects the probe's verdict alone, as assert_ok() raises it.
XFAIL_TESTS = """
import pytest
import pytest_ragprobe as ragprobe
from conftest import VALVES

@pytest.mark.xfail(strict=True, raises=ragprobe.ProbeFailed, reason="demonstrates the weakness")
@ragprobe.reverse(facts=VALVES, max_drop=0.1)
def test_weakness(ragprobe_result):
    pass
"""

UNREACHABLE = """
import pytest
import pytest_ragprobe as ragprobe

VALVES = [ragprobe.Fact(subject=f"V-{i}", relation="compatible_with", object=f"K-{i}") for i in range(30)]

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.Pipeline(answer=lambda q: (_ for _ in ()).throw(ConnectionRefusedError("refused")))
"""


def test_xfail_raises_probe_failed_expects_the_fail_verdict(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    pytester.makeconftest(catalog_conftest('"no idea"'))  # every valve's reverse answer wrong: FAIL
    pytester.makepyfile(test_x=XFAIL_TESTS)
    result = pytester.runpytest_subprocess(*plugin_args, "--ragprobe-no-cache")
    result.assert_outcomes(xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["FAIL (xfail) test_x.py::test_weakness *"])


def test_xfail_raises_probe_failed_does_not_take_an_error_for_the_weakness(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makeconftest(UNREACHABLE)
    pytester.makepyfile(test_x=XFAIL_TESTS)
    result = pytester.runpytest_subprocess(*plugin_args, "--ragprobe-no-cache")
    result.assert_outcomes(errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_fail_verdict_reads_as_before(pytester: pytest.Pytester) -> None:
    """The FAIL is a ProbeFailed now, still shown as pytest.fail's message alone (no traceback)."""
    pytester.makeconftest(catalog_conftest('"no idea"'))
    pytester.makepyfile(test_x=XFAIL_TESTS.replace("@pytest.mark.xfail(", "@pytest.mark.skipif(False, "))
    result = pytester.runpytest_subprocess("--ragprobe-no-cache", "-p", "no:xdist")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["FAILED test_x.py::test_weakness - Failed: ragprobe reverse probe FAIL: *"])
    assert "Traceback" not in result.stdout.str() and "plugin.py" not in result.stdout.str()
