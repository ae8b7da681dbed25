"""report.json during a run: rewritten after every probe, it wrote a total that grows as the square of the
run (300 fast probes: 858 MB for a 5.7 MB file, bench/report_json_rewrites.py). It is rewritten after a probe
unless its last rewrite was recent; a result skipped so is written by a timer soon after, so a run killed
later still leaves every finished result in it, and an interrupted run a readable partial report."""

from __future__ import annotations

import itertools

import pytest
from factories import catalog_conftest

import pytest_ragprobe.facts  # noqa: F401  (keep one Fact class across in-process pytester runs)
from pytest_ragprobe.results import load_report

PROBES = 12
TESTS = "import pytest_ragprobe as ragprobe\nfrom conftest import PUMPS\n" + "".join(
    f"\n@ragprobe.reverse(facts=PUMPS[:10], max_drop=0.5)\ndef test_{i}(ragprobe_result):\n    pass\n"
    for i in range(PROBES)
)
# a report.json with a very low write share: every result but the first is left to the timer
SLOW_WRITES = "\nimport pytest_ragprobe.session\npytest_ragprobe.session.JSON_WRITE_SHARE = 1e-6\n"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(catalog_conftest('"no idea"'))
    return pytester


def test_a_fast_run_does_not_rewrite_report_json_after_every_probe(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pytest_ragprobe.reporting as reporting
    import pytest_ragprobe.session as session_mod

    writes: list[tuple[int, bool]] = []
    real = reporting.write_reports

    def spy(directory, report, *, json_only=False, **kwargs):  # type: ignore[no-untyped-def]
        writes.append((len(report.probes), json_only))
        return real(directory, report, json_only=json_only, **kwargs)

    # a clock that moves 1000 s a reading: a rewrite takes 1000 s, the next is due 9000 s later
    # (JSON_WRITE_SHARE 0.1), and any timer's wait (at least one step, real seconds) outlasts the run
    ticks = itertools.count(step=1000.0)
    monkeypatch.setattr(session_mod, "_now", lambda: next(ticks), raising=False)
    monkeypatch.setattr(session_mod, "JSON_MAX_WAIT_S", 1e12, raising=False)
    monkeypatch.setattr(session_mod, "RENDER_EVERY_S", 1e12)
    monkeypatch.setattr(reporting, "write_reports", spy)
    project.makepyfile(test_many=TESTS)
    project.runpytest("-p", "no:xdist", "--ragprobe-report=rp").assert_outcomes(passed=PROBES)
    during = writes[1:-1]  # (the first: the empty report at the start; the last: the final one)
    assert 0 < len(during) < PROBES // 2, writes
    assert writes[-1] == (PROBES, False)
    report = load_report(project.path / "rp" / "report.json")
    assert len(report.probes) == PROBES and not report.partial


def test_a_result_not_rewritten_at_once_is_in_report_json_before_a_kill(project: pytest.Pytester) -> None:
    """The second test waits (a bounded loop) until the first probe's result is in report.json, then kills
    the process: without the timer the result waited for the next probe, which never came."""
    project.makeconftest(catalog_conftest('"no idea"') + SLOW_WRITES)
    project.makepyfile(
        test_kill="""
import json, os, time
import pytest_ragprobe as ragprobe
from conftest import PUMPS

@ragprobe.reverse(facts=PUMPS[:10], max_drop=0.5)
def test_a(ragprobe_result):
    pass

@ragprobe.reverse(facts=PUMPS[:10], max_drop=0.5)
def test_b(ragprobe_result):
    pass

def test_dies():
    for _ in range(300):  # (at most 30 s)
        probes = json.loads(open("rp/report.json", encoding="utf-8").read())["probes"]
        if len(probes) == 2:
            break
        time.sleep(0.1)
    os._exit(3)
"""
    )
    result = project.runpytest_subprocess("-p", "no:xdist", "-p", "no:randomly", "--ragprobe-report=rp")
    assert result.ret == 3
    report = load_report(project.path / "rp" / "report.json")
    assert [p.nodeid for p in report.probes] == ["test_kill.py::test_a", "test_kill.py::test_b"]
    assert report.partial


def test_an_interrupted_run_leaves_a_readable_partial_report(project: pytest.Pytester) -> None:
    project.makeconftest(catalog_conftest('"no idea"') + SLOW_WRITES)
    project.makepyfile(
        test_stop="""
import pytest_ragprobe as ragprobe
from conftest import PUMPS

@ragprobe.reverse(facts=PUMPS[:10], max_drop=0.5)
def test_a(ragprobe_result):
    pass

@ragprobe.reverse(facts=PUMPS[:10], max_drop=0.5)
def test_b(ragprobe_result):
    pass

def test_stops():
    raise KeyboardInterrupt

def test_never():
    pass
"""
    )
    result = project.runpytest_subprocess("-p", "no:xdist", "-p", "no:randomly", "--ragprobe-report=rp")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    report = load_report(project.path / "rp" / "report.json")
    assert [p.nodeid for p in report.probes] == ["test_stop.py::test_a", "test_stop.py::test_b"]
    assert report.partial
    assert "Partial run" in (project.path / "rp" / "report.md").read_text(encoding="utf-8")
