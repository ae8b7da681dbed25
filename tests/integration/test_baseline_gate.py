"""--ragprobe-baseline / --ragprobe-save-baseline as a CI gate: a regressed or partial run does not rewrite
the baseline it would then pass against, the terminal agrees with `ragprobe show`, and what the baseline did
not gate is said in the terminal, report.json and --junitxml."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from factories import WRONG_REVERSE_CONFTEST, facts_header, reverse_test

CONFTEST = WRONG_REVERSE_CONFTEST

HEADER = facts_header(100)

probe = reverse_test


THREE = HEADER + probe("test_a") + probe("test_b") + probe("test_c")
NO_CACHE = "--ragprobe-no-cache"  # the pipeline's answers change with REVERSE_WRONG, its identity does not


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_rev=THREE)
    monkeypatch.setenv("REVERSE_WRONG", "5")  # reverse accuracy 0.95
    return pytester


def nodeids(path: Path) -> list[str]:
    return [p["nodeid"] for p in json.loads(path.read_text())["probes"]]


def report_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((path / "report.json").read_text())
    return data


# -- 1. --ragprobe-save-baseline does not ratchet the gate down ---------------------------------------------


def test_a_regressed_run_keeps_the_baseline_it_was_compared_with(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--ragprobe-baseline=same.json --ragprobe-save-baseline=same.json` failed on a regression but rewrote
    same.json with the regressed figures, so the retry passed."""
    project.runpytest(NO_CACHE, "--ragprobe-save-baseline=same.json").assert_outcomes(passed=3)
    saved = (project.path / "same.json").read_bytes()
    monkeypatch.setenv("REVERSE_WRONG", "25")  # reverse accuracy 0.75: still within max_drop 0.3
    gate = [NO_CACHE, "--ragprobe-baseline=same.json", "--ragprobe-save-baseline=same.json"]
    result = project.runpytest(*gate)
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            "ragprobe baseline: all 3 probes compared with *same.json: 3 regressed",
            "ragprobe: the baseline *same.json was kept as it was, not overwritten with the regressed figures of "
            "test_rev.py::test_a, test_rev.py::test_b, test_rev.py::test_c (a rerun would pass against them); "
            "to accept them deliberately, save to it in a run without --ragprobe-baseline, or delete it",
        ]
    )
    assert "ragprobe baseline saved" not in result.stdout.str()
    assert (project.path / "same.json").read_bytes() == saved
    project.runpytest(*gate).assert_outcomes(failed=3)  # the retry is gated by the same numbers
    # saving to another file, or without --ragprobe-baseline, writes the new figures
    project.runpytest(*gate[:2], "--ragprobe-save-baseline=other.json").assert_outcomes(failed=3)
    assert json.loads((project.path / "other.json").read_text())["summary"]["regression"] == 3
    project.runpytest(NO_CACHE, "--ragprobe-save-baseline=same.json").assert_outcomes(passed=3)
    assert (project.path / "same.json").read_bytes() != saved
    final = project.runpytest(*gate)
    final.assert_outcomes(passed=3)
    final.stdout.fnmatch_lines(
        [
            "ragprobe baseline: all 3 probes compared with *same.json: none regressed",
            "ragprobe baseline saved: *same.json",
        ]
    )


def test_empty_baseline_options_are_usage_errors(project: pytest.Pytester) -> None:
    # Was: `--ragprobe-baseline=$BASELINE` with the variable unset ran the gate without a baseline, silently.
    for option in ("--ragprobe-baseline=", "--ragprobe-save-baseline= "):
        result = project.runpytest(NO_CACHE, option)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*empty path (an unset variable?): name the baseline file or directory*"])


def test_a_baseline_that_cannot_be_written_is_a_usage_error_before_any_call(project: pytest.Pytester) -> None:
    # Was: found after every probe had run (before that: one red line and exit 0, a CI job refreshing the
    # baseline went green and left none behind).
    (project.path / "blocker").write_text("a file, not a directory")
    result = project.runpytest(NO_CACHE, "--ragprobe-save-baseline=blocker/base.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: --ragprobe-save-baseline: cannot write the baseline *blocker/base.json: *; point it (or the "
        "ini's ragprobe_save_baseline) at a file in a directory that can be written (no test ran)"
    ])
    assert "passed" not in result.stdout.str()
    # a directory that does not exist yet is made: the baseline is written at the end
    fine = project.runpytest(NO_CACHE, "--ragprobe-save-baseline=new/dir/base.json")
    fine.assert_outcomes(passed=3)
    assert fine.ret == pytest.ExitCode.OK and (project.path / "new/dir/base.json").is_file()
    assert not list((project.path / "new/dir").glob(".ragprobe-*"))  # the start-up check left nothing


def test_a_baseline_that_can_no_longer_be_written_fails_the_run(project: pytest.Pytester) -> None:
    # writable when the run starts, not when it ends: exit 1 and what to change, under "3 passed"
    project.makepyfile(test_zz_blocks="""
import shutil
from pathlib import Path

def test_blocks():
    shutil.rmtree("out")
    Path("out").write_text("a file now")
""")
    result = project.runpytest(NO_CACHE, "--ragprobe-save-baseline=out/base.json")
    result.assert_outcomes(passed=4)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "could not write the baseline *out/base.json: *; this fails the run: point "
            "--ragprobe-save-baseline (or the ini's ragprobe_save_baseline) at a file that can be written"
        ]
    )


def test_a_run_of_some_probes_keeps_the_baseline_probes_it_did_not_run(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pytest -k test_a --ragprobe-save-baseline=bl.json` replaced a 3-probe baseline with 1 probe."""
    project.runpytest(NO_CACHE, "--ragprobe-save-baseline=bl.json").assert_outcomes(passed=3)
    before = {p["nodeid"]: p for p in json.loads((project.path / "bl.json").read_text())["probes"]}
    monkeypatch.setenv("REVERSE_WRONG", "10")
    result = project.runpytest(NO_CACHE, "-k", "test_a", "--ragprobe-save-baseline=bl.json")
    result.assert_outcomes(passed=1, deselected=2)
    result.stdout.fnmatch_lines(
        [
            "ragprobe: 2 probes of the baseline *bl.json did not run in this run (deselected, or the test was "
            "removed): kept in it from the previous file; delete *bl.json to drop them"
        ]
    )
    saved = json.loads((project.path / "bl.json").read_text())
    after = {p["nodeid"]: p for p in saved["probes"]}
    assert list(after) == ["test_rev.py::test_a", "test_rev.py::test_b", "test_rev.py::test_c"]
    assert after["test_rev.py::test_a"]["metrics"]["reverse_accuracy"] == 0.9  # this run's figures
    assert after["test_rev.py::test_b"] == before["test_rev.py::test_b"]  # the previous file's
    assert saved["settings"]["carried_over"] == ["test_rev.py::test_b", "test_rev.py::test_c"]
    assert saved["summary"]["pass"] == 3
    # a test removed from the suite is kept too (delete the file to drop it)
    project.makepyfile(test_rev=HEADER + probe("test_a") + probe("test_b"))
    result = project.runpytest(NO_CACHE, "--ragprobe-save-baseline=bl.json")
    result.stdout.fnmatch_lines(["ragprobe: 1 probe of the baseline *bl.json did not run in this run *"])
    assert nodeids(project.path / "bl.json") == ["test_rev.py::test_a", "test_rev.py::test_b", "test_rev.py::test_c"]
    (project.path / "bl.json").unlink()
    project.runpytest(NO_CACHE, "--ragprobe-save-baseline=bl.json").assert_outcomes(passed=2)
    assert nodeids(project.path / "bl.json") == ["test_rev.py::test_a", "test_rev.py::test_b"]


def test_a_save_baseline_file_that_cannot_be_read_is_a_usage_error_before_any_call(
    project: pytest.Pytester,
) -> None:
    """`pytest -k test_a --ragprobe-save-baseline=bl.json` with bl.json listing a test twice (or damaged)
    replaced it in silence with test_a alone: the previous file's other probes were lost."""
    project.runpytest(NO_CACHE, "--ragprobe-save-baseline=bl.json").assert_outcomes(passed=3)
    path = project.path / "bl.json"
    data = json.loads(path.read_text())
    twice = json.loads(json.dumps(data["probes"][0]))
    twice["n"] += 1
    data["probes"].append(twice)
    for text, why in [
        (json.dumps(data), "*bl.json: test_rev.py::test_a is listed twice, probes?0? and probes?3?, *"),
        (path.read_text()[:200], "*bl.json is not readable JSON: *"),
    ]:
        path.write_text(text)
        result = project.runpytest(NO_CACHE, "-k", "test_a", "--ragprobe-save-baseline=bl.json")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"ERROR: --ragprobe-save-baseline: {why}"])
        result.stderr.fnmatch_lines([
            "*this run would replace it, dropping the probes in it that the run does not re-run: repair it, or "
            "delete it (or save elsewhere) to start a new baseline (no test ran)"
        ])
        assert "passed" not in result.stdout.str()
        assert path.read_text() == text  # left as it was
    # an empty file holds no probe to lose: replaced, as a missing one is written
    path.write_text("")
    project.runpytest(NO_CACHE, "-k", "test_a", "--ragprobe-save-baseline=bl.json").assert_outcomes(
        passed=1, deselected=2
    )
    assert nodeids(path) == ["test_rev.py::test_a"]


# -- 2. the terminal's verdict after -x agrees with `ragprobe show` -------------------------------------------


def test_a_run_stopped_by_x_says_partial_fail_in_the_terminal_as_ragprobe_show(project: pytest.Pytester) -> None:
    """After `-x` (a probe, a plain failing test, a probe) the terminal said "1 probe: 1 pass -> PASS" while
    `ragprobe show` said "-> FAIL (partial run: probes may be missing)" and exited 1."""
    project.makepyfile(test_rev=HEADER + probe("test_a") + "\ndef test_plain():\n    assert 0\n" + probe("test_c"))
    result = project.runpytest(NO_CACHE, "-x", "--ragprobe-report=r")
    result.assert_outcomes(passed=1, failed=1)
    line = "1 probe: 1 pass -> FAIL (partial run: probes may be missing)"
    result.stdout.fnmatch_lines([f"ragprobe: {line}"])
    assert "-> PASS" not in result.stdout.str()
    show = project.run(sys.executable, "-m", "pytest_ragprobe.cli", "show", "r")
    assert show.ret == 1
    show.stdout.fnmatch_lines([f"ragprobe: *report.json: {line}"])


# -- 3. what the baseline did not gate ---------------------------------------------------------------------


def test_baseline_coverage_is_in_the_report_and_the_terminal(project: pytest.Pytester) -> None:
    project.runpytest(NO_CACHE, "-k", "test_a or test_b", "--ragprobe-save-baseline=bl.json").assert_outcomes(
        passed=2, deselected=1
    )
    result = project.runpytest(NO_CACHE, "-k", "test_b or test_c", "--ragprobe-baseline=bl.json", "--ragprobe-report=r")
    result.assert_outcomes(passed=2, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "ragprobe baseline: 1 of 2 probes compared; 1 not in *bl.json (new tests, or renamed)",
            "ragprobe baseline: 1 of the 2 probes in *bl.json did not run (deselected, stopped, or their tests "
            "removed or renamed), so were not gated: test_rev.py::test_a",
        ]
    )
    data = report_json(project.path / "r")
    assert data["settings"]["baseline"] == str(project.path / "bl.json")
    assert data["settings"]["baseline_coverage"] == {
        "compared": 1, "not_compared": 0, "new": 1, "not_run": ["test_rev.py::test_a"]
    }
    probes = {p["nodeid"]: p for p in data["probes"]}
    assert probes["test_rev.py::test_b"]["baseline"] == "ok"
    new = probes["test_rev.py::test_c"]
    assert new["baseline"] == "new"
    assert new["baseline_message"] == f"not in the baseline {project.path / 'bl.json'} (a new test, or renamed): not compared"


def test_a_partial_baseline_says_its_missing_probes_are_not_new_tests(project: pytest.Pytester) -> None:
    project.runpytest(NO_CACHE, "-k", "test_a", "--ragprobe-report=old").assert_outcomes(passed=1, deselected=2)
    data = report_json(project.path / "old")
    data["partial"] = True  # as a run cut short (Ctrl-C, -x, a crash) leaves it
    (project.path / "old" / "report.json").write_text(json.dumps(data))
    result = project.runpytest(NO_CACHE, "--ragprobe-baseline=old", "--ragprobe-report=r")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "ragprobe baseline: 1 of 3 probes compared; 2 not in *old (*old is a partial report: the run that "
            "wrote it stopped before every probe ran)"
        ]
    )
    assert "new tests, or renamed" not in result.stdout.str()
    message = report_json(project.path / "r")["probes"][1]["baseline_message"]
    assert message == (
        f"not in the baseline {project.path / 'old'} (it is a partial report: its run stopped before this probe "
        "ran): not compared"
    )


def test_a_baseline_that_matches_no_probe_says_nothing_was_gated(project: pytest.Pytester) -> None:
    """Another project's baseline: every probe "new", and the run passed as if gated."""
    project.runpytest(NO_CACHE, "--ragprobe-save-baseline=bl.json").assert_outcomes(passed=3)
    (project.path / "test_rev.py").unlink()
    project.makepyfile(test_other=HEADER + probe("test_x") + probe("test_y"))
    result = project.runpytest(NO_CACHE, "--ragprobe-baseline=bl.json")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "ragprobe baseline: none of the 2 probes of this run is in *bl.json (new tests, or renamed): nothing "
            "was gated by the baseline",
            "ragprobe baseline: 3 of the 3 probes in *bl.json did not run *: test_rev.py::test_a, "
            "test_rev.py::test_b, test_rev.py::test_c",
        ]
    )


# -- 4. --junitxml says what the baseline comparison found ------------------------------------------------


def test_junitxml_has_the_baseline_comparison(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user properties were added before the comparison: a test failed by a regression had
    ragprobe_verdict=pass and no word of the baseline."""
    project.runpytest(NO_CACHE, "-k", "test_a or test_b", "--ragprobe-save-baseline=bl.json").assert_outcomes(
        passed=2, deselected=1
    )
    monkeypatch.setenv("REVERSE_WRONG", "25")
    result = project.runpytest(NO_CACHE, "--ragprobe-baseline=bl.json", "--junitxml=j.xml")
    result.assert_outcomes(failed=2, passed=1)  # test_c is not in the baseline: INCONCLUSIVE, not gated
    props = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in ElementTree.parse(project.path / "j.xml").iter("testcase")
    }
    assert props["test_a"]["ragprobe_verdict"] == "inconclusive"
    assert props["test_a"]["ragprobe_baseline"] == "regression"
    assert props["test_a"]["ragprobe_baseline_message"].startswith(
        "ragprobe baseline REGRESSION: reverse accuracy 0.95 -> 0.75 (p < 0.001)"
    )
    assert props["test_c"]["ragprobe_baseline"] == "new"
    # the failure says the regression once, first (the explanation's test-outcome line repeated it)
    failure = result.stdout.str().split("= FAILURES =", 1)[1].split("_ test_b _", 1)[0]
    assert failure.count("reverse accuracy 0.95 -> 0.75") == 1
    assert failure.split("\n", 2)[2].startswith("ragprobe baseline REGRESSION: reverse accuracy 0.95 -> 0.75")


def test_the_gate_status_line_is_green_when_none_regressed(project: pytest.Pytester) -> None:
    # Was red either way: "none regressed" contains "regressed".
    project.runpytest(NO_CACHE, "--ragprobe-save-baseline=b.json").assert_outcomes(passed=3)
    clean = project.runpytest(NO_CACHE, "--ragprobe-baseline=b.json", "--color=yes")
    clean.assert_outcomes(passed=3)
    line = next(ln for ln in clean.outlines if "ragprobe baseline: all 3 probes compared" in ln)
    assert "\x1b[32m" in line and "\x1b[31m" not in line
    assert re.sub(r"\x1b\[[0-9;]*m", "", line).endswith("none regressed")


# -- 5. a hand-edited or damaged baseline reports, never crashes ----------------------------------------------


def test_a_baseline_with_a_nan_drop_is_compared_without_it_and_the_run_reports(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A probe whose "drop" is NaN (Python's json writes and reads it) made holm() raise ValueError("p-values
    must lie in [0, 1]") inside the test hook: the session crashed instead of reporting."""
    project.runpytest(NO_CACHE, "--ragprobe-save-baseline=bl.json").assert_outcomes(passed=3)
    data = json.loads((project.path / "bl.json").read_text())
    data["probes"][0]["metrics"]["drop"] = float("nan")
    del data["probes"][1]["metrics"]["discordant"]
    (project.path / "bl.json").write_text(json.dumps(data))
    assert "NaN" in (project.path / "bl.json").read_text()

    result = project.runpytest(NO_CACHE, "--ragprobe-baseline=bl.json", "--ragprobe-report=r")
    result.assert_outcomes(passed=3)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*test_rev.py::test_a: baseline compared in part; drop not compared: the baseline's drop, nan, is not a "
            "number",
            "*test_rev.py::test_b: baseline compared in part; drop not compared: the baseline's probe has no "
            "discordant counts, metrics.discordant.forward_only and reverse_only",
        ]
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    probes = {p["nodeid"]: p for p in report_json(project.path / "r")["probes"]}
    assert [probes[f"test_rev.py::test_{t}"]["baseline"] for t in "abc"] == ["ok", "ok", "ok"]
    assert probes["test_rev.py::test_c"]["baseline_message"] == ""

    # the accuracies are still compared: a fall is a regression, which says what was left out
    monkeypatch.setenv("REVERSE_WRONG", "25")
    result = project.runpytest(NO_CACHE, "--ragprobe-baseline=bl.json", "--ragprobe-report=r")
    result.assert_outcomes(failed=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    message = {p["nodeid"]: p for p in report_json(project.path / "r")["probes"]}["test_rev.py::test_a"][
        "baseline_message"
    ]
    assert message.startswith("ragprobe baseline REGRESSION: reverse accuracy 0.95 -> 0.75 (p < 0.001)")
    assert message.endswith("; drop not compared: the baseline's drop, nan, is not a number")


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (lambda data: data["probes"][0].update(verdict="passed"), "*bl.json: probes[[]0] is not a ragprobe probe (verdict: *"),
        (lambda data: data.update(schema_version=2), "*bl.json is a ragprobe report of schema_version 2, newer than *"),
        (lambda data: data["probes"], "*bl.json is not a ragprobe report (schema_version 1)"),
    ],
)
def test_a_baseline_file_that_is_not_a_report_is_a_usage_error(project: pytest.Pytester, edit: Any, error: str) -> None:
    project.runpytest(NO_CACHE, "--ragprobe-save-baseline=bl.json").assert_outcomes(passed=3)
    data = json.loads((project.path / "bl.json").read_text())
    edited = edit(data)
    (project.path / "bl.json").write_text(json.dumps(data if edited is None else edited))
    result = project.runpytest(NO_CACHE, "--ragprobe-baseline=bl.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: --ragprobe-baseline: {error}"])
    assert "Traceback" not in result.stderr.str()


def test_a_utf16_baseline_file_is_a_usage_error(project: pytest.Pytester) -> None:
    """PowerShell's `>` writes UTF-16: UnicodeDecodeError escaped read_baseline, a traceback at startup."""
    project.runpytest(NO_CACHE, "--ragprobe-save-baseline=bl.json").assert_outcomes(passed=3)
    text = (project.path / "bl.json").read_text()
    (project.path / "bl.json").write_text(text, encoding="utf-16")
    result = project.runpytest(NO_CACHE, "--ragprobe-baseline=bl.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --ragprobe-baseline: *bl.json is not readable JSON: not UTF-8 text *"])
