"""report.json / report.md / report.html from a real pytest run, and `ragprobe merge` of -k shards."""

from __future__ import annotations

import re

import pytest
from factories import catalog_conftest

import pytest_ragprobe.facts  # noqa: F401  (keep one Fact class across in-process pytester runs)
from pytest_ragprobe.cli import main
from pytest_ragprobe.reporting import probe_anchor
from pytest_ragprobe.results import load_report

# Pumps P-i answer both ways; valves V-i only forward (the reverse answer is hostile markup, and the
# retrieved documents never hold the fact, so every reverse miss is a retrieval miss).
CONFTEST = catalog_conftest(
    """ragprobe.Answer(
        text="<script>alert('rag')</script>",
        documents=[ragprobe.Document(text="Unrelated maintenance manual.", title="manual")],
    )"""
)

TESTS = """
import pytest_ragprobe as ragprobe
from conftest import PUMPS, VALVES

@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_pumps(ragprobe_result):
    pass

@ragprobe.reverse(facts=VALVES, max_drop=0.1)
def test_valves(ragprobe_result):
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_catalog=TESTS)
    return pytester


def test_report_files_from_a_run(project: pytest.Pytester, plugin_args: list[str]) -> None:
    out = project.path / "rp"
    result = project.runpytest(*plugin_args, f"--ragprobe-report={out}")
    result.assert_outcomes(passed=1, failed=1)
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.md"]

    report = load_report(out / "report.json")
    assert [(p.nodeid, p.verdict) for p in report.probes] == [
        ("test_catalog.py::test_pumps", "pass"),
        ("test_catalog.py::test_valves", "fail"),
    ]
    assert not report.partial
    assert {p.pipeline for p in report.probes} == {"conftest.answer"}  # which pipeline was probed

    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<div class="banner v-fail" role="status"' in html
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;rag&#39;)&lt;/script&gt;" in html
    valves_id = probe_anchor("test_catalog.py::test_valves")
    assert f'href="#{valves_id}"' in html
    valves = html.split(f'id="{valves_id}"', 1)[1].split("</section>", 1)[0]
    assert re.search(r'<div class="n">30</div><div class="muted">retrieval: gold not retrieved', valves)
    assert valves.count('data-chart="') == 4  # accuracy bars + drop, each drawn wide and compact
    assert '· pipeline <code class="pipeline">conftest.answer</code></p>' in valves
    assert '<dt>pipeline</dt><dd class="mono">conftest.answer (ragprobe_pipeline fixture)</dd>' in html

    md = (out / "report.md").read_text(encoding="utf-8")
    assert md.startswith("## ❌ pytest-ragprobe: FAIL\n")
    assert "| ✅ | PASS | `test_catalog.py::test_pumps` | reverse | 30 | 60 | fwd 1.00 → rev 1.00" in md
    assert "| ❌ | FAIL | `test_catalog.py::test_valves` | reverse | 30 | 60 | fwd 1.00 → rev 0.00" in md
    assert "**Reverse misses:** 30 retrieval (gold not retrieved)" in md
    assert "reverse probe · n=30 · 60 calls · pipeline `conftest.answer`" in md
    assert "&lt;script&gt;alert('rag')&lt;/script&gt; | right | retrieval |" in md


def test_a_report_that_cannot_be_written_is_a_usage_error_before_any_call(project: pytest.Pytester) -> None:
    # Was found only after every probe had run (a cold local model: minutes of calls), then one line under
    # "1 passed" with exit 1.
    (project.path / "blocker").write_text("a file, not a directory")
    result = project.runpytest("-k", "test_pumps", "--ragprobe-report=blocker/rp")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: --ragprobe-report: cannot write the report to *blocker/rp: *Not a directory*; point it (or the "
        "ini's ragprobe_report) at a directory that can be written (no test ran)"
    ])
    assert "passed" not in result.stdout.str() and "ragprobe plan" not in result.stdout.str()


def test_a_report_that_can_no_longer_be_written_fails_the_run_and_says_what_to_change(
    project: pytest.Pytester,
) -> None:
    # writable when the run starts, not when it ends: the run fails, and says why under "2 passed"
    project.makepyfile(test_zz_blocks="""
import shutil
from pathlib import Path

def test_blocks():
    shutil.rmtree("rp")
    Path("rp").write_text("a file now")
""")
    result = project.runpytest("-k", "test_pumps or test_blocks", "--ragprobe-report=rp/inner")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "could not write the ragprobe report to *rp/inner: *; this fails the run: point "
            "--ragprobe-report (or the ini's ragprobe_report) at a directory that can be written"
        ]
    )


def test_merge_of_k_shards_matches_the_whole_run(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    shard_a, shard_b, merged = project.path / "a", project.path / "b", project.path / "merged"
    project.runpytest("-k", "pumps", f"--ragprobe-report={shard_a}").assert_outcomes(passed=1)
    project.runpytest("-k", "valves", f"--ragprobe-report={shard_b}").assert_outcomes(failed=1)
    capsys.readouterr()

    code = main(["merge", str(merged), str(shard_a), str(shard_b / "report.json")])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert (
        out
        == f"ragprobe merge: 2 reports, 2 probes: 1 pass, 1 fail -> FAIL; wrote {merged / 'report.json'}\n"
    )
    report = load_report(merged / "report.json")
    assert [(p.nodeid, p.verdict) for p in report.probes] == [
        ("test_catalog.py::test_pumps", "pass"),
        ("test_catalog.py::test_valves", "fail"),
    ]
    html = (merged / "report.html").read_text(encoding="utf-8").replace("<wbr>", "")  # (node ids' breaks)
    assert "test_catalog.py::test_pumps" in html and "test_catalog.py::test_valves" in html

    # the passing shard alone passes; merging it with itself is not a conflict
    assert main(["merge", str(project.path / "m2"), str(shard_a), str(shard_a)]) == 0
    assert capsys.readouterr().out.startswith("ragprobe merge: 2 reports, 1 probe: 1 pass -> PASS;")


def test_interrupted_shard_is_partial_in_merge(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    shard = project.path / "a"
    project.runpytest("-k", "pumps", f"--ragprobe-report={shard}").assert_outcomes(passed=1)
    path = shard / "report.json"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"partial": false', '"partial": true'), encoding="utf-8"
    )
    capsys.readouterr()
    assert main(["merge", str(project.path / "m"), str(shard)]) == 1  # probes may be missing: not a PASS
    assert "1 probe: 1 pass -> FAIL (partial run: probes may be missing)" in capsys.readouterr().out
    assert "Partial run" in (project.path / "m" / "report.html").read_text(encoding="utf-8")


def test_report_option_with_an_empty_directory_name(pytester: pytest.Pytester) -> None:
    # `--ragprobe-report=$REPORT_DIR` with the variable unset: it said "'' looks like a test path"
    pytester.makepyfile(test_probe="def test_it():\n    pass\n")
    result = pytester.runpytest("--ragprobe-report=")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*--ragprobe-report*empty directory name: write --ragprobe-report=DIR, or "
            "--ragprobe-report alone for ragprobe-report/*"
        ]
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("notes.txt", "'notes.txt' is a file, not a directory: --ragprobe-report=DIR writes report.json, "
         "report.html and report.md into DIR (or put a bare --ragprobe-report after the test paths)"),
        ("out.json", "'out.json' names a file, but --ragprobe-report takes a directory (it writes report.json, "
         "report.html and report.md into it): write --ragprobe-report=out"),
    ],
)
def test_report_option_says_a_file_is_not_a_directory(pytester: pytest.Pytester, value: str, message: str) -> None:
    """It said "'notes.txt' looks like a test path" for an existing file, and `--ragprobe-report=out.json`
    made a directory out.json/ holding report.json."""
    pytester.makefile(".txt", notes="not a directory")
    result = pytester.runpytest(f"--ragprobe-report={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str().replace("\n", " ")
    assert not (pytester.path / "out.json").exists()


@pytest.mark.parametrize(
    "value", ["test_probe.py", "test_probe.py::test_it", "suite", "withconftest"]
)
def test_report_option_refuses_to_swallow_a_test_path(pytester: pytest.Pytester, value: str) -> None:
    """--ragprobe-report takes an optional DIR: `--ragprobe-report test_probe.py` (or a directory of
    tests) would take the test path as the report directory and run every test instead; it is a usage
    error naming the fix."""
    pytester.makepyfile(test_probe="def test_it():\n    pass\n")
    pytester.makefile(".txt", notes="not a directory")
    pytester.mkdir("suite").joinpath("test_more.py").write_text("def test_more():\n    pass\n")
    pytester.mkdir("withconftest").joinpath("conftest.py").write_text("")
    result = pytester.runpytest("--ragprobe-report", value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*--ragprobe-report*'{value}' looks like a test path*--ragprobe-report=DIR*after the test paths*"]
    )
    # the usual spellings still work: bare flag after the paths, and =DIR
    result = pytester.runpytest("test_probe.py", "--ragprobe-report")
    assert result.ret == 0 and (pytester.path / "ragprobe-report").is_dir()
    result = pytester.runpytest("--ragprobe-report=out", "test_probe.py")
    assert result.ret == 0 and (pytester.path / "out").is_dir()
    # a directory that already holds a report is a report directory, even with tests beside it
    (pytester.path / "suite" / "report.json").write_text("{}")
    result = pytester.runpytest("--ragprobe-report", "suite", "test_probe.py")
    assert result.ret == 0 and "schema_version" in (pytester.path / "suite" / "report.json").read_text()


def test_ini_paths_are_relative_to_the_ini_file_from_any_directory(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ragprobe_report = reports` in pytest.ini means <ini dir>/reports also when pytest starts in a
    subdirectory (it went to <subdir>/reports); a command-line path stays relative to where pytest runs."""
    project.makeini(
        "[pytest]\nragprobe_report = reports\nragprobe_save_baseline = base/baseline.json\n"
        "ragprobe_cache = answers\n"
    )
    (project.path / "base").mkdir()
    sub = project.mkdir("sub")
    monkeypatch.chdir(sub)
    result = project.runpytest(str(project.path / "test_catalog.py"), "-k", "pumps")
    result.assert_outcomes(passed=1, deselected=1)
    assert (project.path / "reports" / "report.json").is_file()
    assert (project.path / "base" / "baseline.json").is_file()
    assert (project.path / "answers" / "answers").is_dir()  # the cache too (it went to the rootdir)
    assert not (sub / "reports").exists()
    result = project.runpytest(
        str(project.path / "test_catalog.py"), "-k", "pumps", "--ragprobe-report=here", "--ragprobe-cache=mine"
    )
    assert (sub / "here" / "report.json").is_file()
    assert (sub / "mine" / "answers").is_dir()
    result = project.runpytest(
        str(project.path / "test_catalog.py"), "-k", "pumps", "--ragprobe-baseline=../base/baseline.json"
    )
    result.assert_outcomes(passed=1, deselected=1)


@pytest.mark.parametrize("looking", [["--co"], ["--fixtures"], ["--setup-plan"], ["--setup-only"]])
def test_runs_that_only_look_leave_report_and_baseline_alone(
    project: pytest.Pytester, looking: list[str]
) -> None:
    # Was: `pytest --co` (with ragprobe_report in the ini, on every run) rewrote report.json with no probes
    # and --ragprobe-save-baseline with an empty baseline, so the next baseline run compared nothing.
    args = ["--ragprobe-report=rp", "--ragprobe-save-baseline=base.json", "-k", "pumps"]
    project.runpytest(*args).assert_outcomes(passed=1)
    before = {name: (project.path / name).read_bytes() for name in ("rp/report.json", "base.json")}
    result = project.runpytest(*args, *looking)
    assert {name: (project.path / name).read_bytes() for name in before} == before
    if looking == ["--setup-only"]:  # fixtures are set up, the probe (pipeline calls) is not run
        result.assert_outcomes(skipped=1)


def test_baseline_is_not_overwritten_by_a_run_without_probes_and_names_untracked_tests(
    project: pytest.Pytester,
) -> None:
    project.runpytest("--ragprobe-save-baseline=base.json", "-k", "pumps").assert_outcomes(passed=1)
    saved = (project.path / "base.json").read_bytes()
    result = project.runpytest("--ragprobe-save-baseline=base.json", "-k", "nothing_matches")
    result.stdout.fnmatch_lines(["ragprobe: no probe ran: the baseline *base.json was kept as it was"])
    assert (project.path / "base.json").read_bytes() == saved
    # test_valves is not in the baseline: the run says the baseline does not gate it
    result = project.runpytest("--ragprobe-baseline=base.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["ragprobe baseline: 1 of 2 probes compared; 1 not in *base.json (new tests, or renamed)"]
    )


def test_html_and_markdown_are_not_rerendered_after_every_probe(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each rewrite renders every probe so far (quadratic over hundreds of probes): report.html / report.md
    are written at most every RENDER_EVERY_S and at the end; report.json here after every probe
    (JSON_WRITE_SHARE 1: test_report_json_rewrites.py tests its own throttle)."""
    import pytest_ragprobe.reporting as reporting
    import pytest_ragprobe.session as session_mod

    writes: list[tuple[int, bool]] = []
    real = reporting.write_reports

    def spy(directory, report, *, json_only=False, **kwargs):  # type: ignore[no-untyped-def]
        writes.append((len(report.probes), json_only))
        return real(directory, report, json_only=json_only, **kwargs)

    monkeypatch.setattr(reporting, "write_reports", spy)
    monkeypatch.setattr(session_mod, "RENDER_EVERY_S", 3600.0)
    monkeypatch.setattr(session_mod, "JSON_WRITE_SHARE", 1.0)
    project.makepyfile(
        test_more="""
import pytest_ragprobe as ragprobe
from conftest import PUMPS
@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_a(): pass
@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_b(): pass
"""
    )
    project.runpytest("-p", "no:xdist", "--ragprobe-report=rp").assert_outcomes(passed=3, failed=1)
    # (0, False): the empty partial report that replaces the last run's before any test runs
    assert writes == [(0, False), (1, False), (2, True), (3, True), (4, True), (4, False)]
    html = (project.path / "rp" / "report.html").read_text(encoding="utf-8")
    assert all(name in html for name in ("test_pumps", "test_valves", "test_a", "test_b"))


def test_a_run_that_dies_before_its_first_probe_leaves_no_stale_report(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shard killed (OOM, CI timeout, a crashing pipeline) before its first probe finished left the last
    run's report.json in place, and `ragprobe show` / `merge` passed it as this run's: it is replaced by an
    empty partial report when the run starts."""
    rp = project.path / "rp"
    project.runpytest("-k", "pumps", f"--ragprobe-report={rp}").assert_outcomes(passed=1)
    assert main(["show", str(rp)]) == 0
    project.makepyfile(test_catalog="import os\n\ndef test_dies():\n    os._exit(3)\n")
    result = project.runpytest_subprocess("-p", "no:xdist", f"--ragprobe-report={rp}")
    assert result.ret == 3
    report = load_report(rp / "report.json")
    assert report.partial and report.probes == []
    assert "Partial run" in (rp / "report.md").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["show", str(rp)]) == 1
    assert capsys.readouterr().out == (
        f"ragprobe: {rp / 'report.json'}: 0 probes -> FAIL (partial run: probes may be missing)\n"
    )


def test_a_probe_lost_with_a_crashed_xdist_worker_makes_the_report_partial(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """An xdist worker that dies running a probe takes its result with it: pytest fails the run, but the
    report read complete without that probe and `ragprobe show` passed it."""
    project.makepyfile(
        test_crash="""
import os
import pytest_ragprobe as ragprobe
from conftest import PUMPS

@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_dies(ragprobe_result):
    os._exit(3)
"""
    )
    rp = project.path / "rp"
    result = project.runpytest_subprocess("-p", "xdist", "-n", "2", "-k", "pumps or dies", f"--ragprobe-report={rp}")
    result.assert_outcomes(passed=1, failed=1)
    crashed = "an xdist worker crashed running test_crash.py::test_dies"
    result.stdout.fnmatch_lines([f"ragprobe: 1 probe: 1 pass -> FAIL (partial run: probes may be missing; {crashed})"])
    report = load_report(rp / "report.json")
    assert report.partial and report.settings["crashed"] == ["test_crash.py::test_dies"]
    assert [p.nodeid for p in report.probes] == ["test_catalog.py::test_pumps"]
    banner = "An xdist worker crashed running test_crash.py::test_dies."
    assert banner in (rp / "report.md").read_text() and banner in (rp / "report.html").read_text()
    capsys.readouterr()
    assert main(["show", str(rp)]) == 1
    assert capsys.readouterr().out.endswith(
        f"1 probe: 1 pass -> FAIL (partial run: probes may be missing; {crashed})\n"
    )


def test_under_xdist_a_maxfail_stop_is_not_called_an_interrupt(project: pytest.Pytester) -> None:
    """xdist ends a --maxfail stop with its Interrupted (the exit status of Ctrl-C). Was: "ragprobe:
    interrupted: ... probes still running were lost" of a run nobody interrupted."""
    pytest.importorskip("xdist")
    project.makepyfile(test_catalog=TESTS, test_plain="def test_fails():\n    assert 0\n")
    result = project.runpytest("-n", "2", "--maxfail=1", "--ragprobe-report=rp", "-p", "no:randomly")
    out = result.stdout.str()
    assert "interrupted" not in out.split("= ragprobe =")[-1]  # (xdist's own lines come before ours)
    assert "probes still running were lost" not in out


def test_a_run_stopped_by_maxfail_is_partial_and_keeps_the_baseline(project: pytest.Pytester) -> None:
    """-x ends the run with exit status 1 (not an interrupt): the baseline was overwritten with the probes
    that happened to run before the stop, and the report did not say it was partial."""
    header, pumps, valves = TESTS.split("@ragprobe.reverse")
    project.makepyfile(test_catalog=header + "@ragprobe.reverse" + valves + "@ragprobe.reverse" + pumps)
    project.runpytest("--ragprobe-save-baseline=base.json").assert_outcomes(passed=1, failed=1)
    saved = (project.path / "base.json").read_bytes()
    result = project.runpytest("-x", "--ragprobe-save-baseline=base.json", "--ragprobe-report=rp")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["ragprobe: the run stopped before every probe ran: the baseline *base.json was kept*"])
    assert (project.path / "base.json").read_bytes() == saved
    assert load_report(project.path / "rp" / "report.json").partial
    # the banners say how many of the planned probes finished
    md = (project.path / "rp" / "report.md").read_text(encoding="utf-8")
    assert (
        "> **Partial run**: the run was interrupted or stopped early (-x / --maxfail) before every probe "
        "finished (1 of 2 probes finished); missing: `test_catalog.py::test_pumps`. `ragprobe show`" in md
    )
    html = (project.path / "rp" / "report.html").read_text(encoding="utf-8")
    assert (
        "the run was interrupted or stopped early (-x / --maxfail) before every probe finished (1 of 2 probes "
        "finished); missing: test_catalog.py::test_pumps. <code>ragprobe show</code>" in html
    )
