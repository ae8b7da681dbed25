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
