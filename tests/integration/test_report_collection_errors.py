"""A test file that does not collect (a syntax error, a bad mark argument): its probes never run, so the
report of the run is partial, and says which file, in the terminal, report.md / .html and `ragprobe show`.

Was: serially, "ragprobe: interrupted: 0 probes finished; probes still running were lost" of a run nobody
interrupted and in which no probe ran; under pytest-xdist (which runs the tests that collected) a report
that read complete, so `ragprobe show` / `merge` passed a run pytest had failed."""

from __future__ import annotations

import pytest
from factories import catalog_conftest

import pytest_ragprobe.facts  # noqa: F401  (keep one Fact class across in-process pytester runs)
from pytest_ragprobe.cli import main
from pytest_ragprobe.results import load_report

GOOD = """
import pytest_ragprobe as ragprobe
from conftest import PUMPS

@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_pumps(ragprobe_result):
    pass
"""
BROKEN = "def test_broken(:\n    pass\n"
LINE = (
    "ragprobe: 1 test file could not be collected (test_broken.py): any probes in it did not run; "
    "the report is partial"
)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(catalog_conftest('"no idea"'))
    pytester.makepyfile(test_good=GOOD, test_broken=BROKEN)
    return pytester


def test_a_collection_error_is_not_called_an_interrupt(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    result = project.runpytest("-p", "no:xdist", "--ragprobe-report=rp", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # pytest's "Interrupted: 1 error during collection"
    summary = result.stdout.str().split("= ragprobe =", 1)[1]
    assert "interrupted" not in summary and "still running" not in summary
    result.stdout.fnmatch_lines(
        [
            LINE,
            "ragprobe: 0 probes -> FAIL (partial run: probes may be missing; test_broken.py could not be "
            "collected)",
        ]
    )
    report = load_report(project.path / "rp" / "report.json")
    assert report.partial and report.settings["uncollected"] == ["test_broken.py"]
    capsys.readouterr()
    assert main(["show", str(project.path / "rp")]) == 1
    assert capsys.readouterr().out.endswith(
        "0 probes -> FAIL (partial run: probes may be missing; test_broken.py could not be collected)\n"
    )


def test_under_xdist_the_probes_that_collected_are_reported_as_a_partial_run(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("xdist")
    rp = project.path / "rp"
    result = project.runpytest_subprocess("-n", "2", f"--ragprobe-report={rp}", "-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            LINE,
            "ragprobe: 1 probe: 1 pass -> FAIL (partial run: probes may be missing; test_broken.py could not be "
            "collected)",
        ]
    )
    report = load_report(rp / "report.json")
    assert report.partial and report.settings["uncollected"] == ["test_broken.py"]
    assert [p.nodeid for p in report.probes] == ["test_good.py::test_pumps"]
    # (not "written before the run finished": it was written at the end of the run)
    banner = "Partial run**: test_broken.py could not be collected: any probes in it are missing. `ragprobe show`"
    assert banner in (rp / "report.md").read_text(encoding="utf-8")
    banner = "Partial run:</strong> test_broken.py could not be collected: any probes in it are missing. <code>ragprobe"
    assert banner in (rp / "report.html").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["show", str(rp)]) == 1  # pytest failed the run: its report does not pass it


def test_collection_errors_let_through_still_make_the_report_partial(project: pytest.Pytester) -> None:
    result = project.runpytest(
        "-p", "no:xdist", "--continue-on-collection-errors", "--ragprobe-report=rp", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([LINE])
    report = load_report(project.path / "rp" / "report.json")
    assert report.partial and report.settings["uncollected"] == ["test_broken.py"]


def test_merge_keeps_the_files_that_did_not_collect(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    project.runpytest("-p", "no:xdist", "--continue-on-collection-errors", "--ragprobe-report=a")
    (project.path / "test_broken.py").unlink()
    project.runpytest("-p", "no:xdist", "--ragprobe-report=b")
    capsys.readouterr()
    assert main(["merge", str(project.path / "m"), str(project.path / "a"), str(project.path / "b")]) == 1
    merged = load_report(project.path / "m" / "report.json")
    assert merged.partial and merged.settings["uncollected"] == ["test_broken.py"]


def test_a_skipped_module_is_not_a_collection_error(pytester: pytest.Pytester) -> None:
    """pytest.importorskip at module level skips the file: nothing is missing that the run meant to run."""
    pytester.makeconftest(catalog_conftest('"no idea"'))
    pytester.makepyfile(
        test_good=GOOD, test_optional="import pytest\npytest.importorskip('no_such_module_here')\n"
    )
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-report=rp", "-p", "no:randomly")
    result.assert_outcomes(passed=1, skipped=1)
    report = load_report(pytester.path / "rp" / "report.json")
    assert not report.partial and "uncollected" not in report.settings
