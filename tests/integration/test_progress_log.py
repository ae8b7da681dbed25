"""Without a terminal (pytester's output is not one, as a CI log is not), a probe that runs longer than
progress.PERIODIC_INTERVAL prints plain status lines between pytest's own output; --ragprobe-no-progress
and -qq keep it quiet. The interval is set to 0 here, so that every call prints (no timing involved)."""

from __future__ import annotations

import pytest

from pytest_ragprobe import progress

CONFTEST = """
import pytest
import pytest_ragprobe as ragprobe

def answer(question):
    last = question.rstrip("?").split()[-1]
    return "C-" + last[2:] if last.startswith("P-") else "P-" + last[2:]

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.Pipeline(answer=answer, name="sim")
"""

TESTS = """
import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(10)]

def test_plain():
    pass

@ragprobe.reverse(facts=FACTS, max_drop=0.5)
def test_probe():
    pass
"""


@pytest.fixture
def every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "PERIODIC_INTERVAL", 0.0)


def test_a_log_shows_a_running_probes_progress(pytester: pytest.Pytester, every_call: None) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_log=TESTS)
    result = pytester.runpytest("-p", "no:xdist", "-p", "no:cacheprovider", "--ragprobe-no-cache")
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    assert "ragprobe test_probe: 1/20 calls, 0 errors" in out
    result.stdout.fnmatch_lines([
        "test_log.py .", "ragprobe test_probe: 0/20 calls, 0 errors, *", "ragprobe test_probe: 1/20 calls, *",
        "ragprobe test_probe: 20/20 calls, 0 errors, *done in *", "test_log.py .*",
    ])
    assert "\n\n" not in out.split("test_log.py .", 1)[1].split("[100%]", 1)[0]  # no empty line between
    result = pytester.runpytest("-p", "no:xdist", "-p", "no:cacheprovider", "--ragprobe-no-cache", "-v")
    result.stdout.fnmatch_lines([
        "test_log.py::test_probe ", "ragprobe test_probe: 0/20 calls*", "ragprobe test_probe: 1/20 calls*",
        "ragprobe test_probe: 20/20 calls*done in*", "test_log.py::test_probe PASSED*",
    ])


@pytest.mark.parametrize("quiet", [["--ragprobe-no-progress"], ["-qq"]])
def test_no_progress_and_qq_keep_a_log_quiet(
    pytester: pytest.Pytester, every_call: None, quiet: list[str]
) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_log=TESTS)
    result = pytester.runpytest("-p", "no:xdist", "-p", "no:cacheprovider", "--ragprobe-no-cache", *quiet)
    assert result.ret == 0
    assert "ragprobe test_probe: " not in result.stdout.str()
