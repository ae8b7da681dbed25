"""The terminal's ragprobe section of a mixed run (pass, fail, inconclusive, error, xfail, a position probe,
a baseline regression, a budget stop) read as a user reads it, beside report.md and `ragprobe show`; and the
settings report.json records for each probe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_ragprobe.cli import main

CONFTEST = """
import hashlib, os, re
import pytest
import pytest_ragprobe as ragprobe


def family(prefix, n):
    return [ragprobe.Fact(subject=f"{prefix}{i}", relation="compatible_with", object=f"C{prefix}{i}")
            for i in range(n)]


PUMPS, VALVES, FEW, BOOM, REG, BUD = (family(p, n) for p, n in
                                      (("P", 30), ("V", 30), ("F", 10), ("B", 30), ("R", 100), ("U", 100)))


def answer(question):
    tail = question.rstrip("?").rsplit(" ", 1)[1]
    if tail.lstrip("C").startswith("B"):
        raise RuntimeError("index offline")
    if "compatible with pump" in question:
        return "C" + tail
    entity = tail[1:]
    if entity.startswith("V"):
        return "no idea"
    if entity.startswith("R") and int(entity[1:]) < int(os.environ.get("REVERSE_WRONG", "5")):
        return "unsure"
    return entity


def generate(question, documents):
    item = re.search(r"item (\\d+)", question).group(1)
    idx, found = -1, ""
    for i, d in enumerate(documents):
        m = re.search(rf"code of item {item} is (\\w+)", d.text)
        if m:
            idx, found = i, m.group(1)
    p = 0.9 if idx in (0, len(documents) - 1) else 0.4
    u = int(hashlib.sha256(f"{question}|{idx}".encode()).hexdigest()[:12], 16) / 16**12
    return found if u < p else "I do not know"


@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.Pipeline(answer=answer, generate=generate, name="mix")
"""

TESTS = """
import pytest
import pytest_ragprobe as ragprobe
from conftest import PUMPS, VALVES, FEW, BOOM, REG, BUD

@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_pass(ragprobe_result): pass

@ragprobe.reverse(facts=VALVES, max_drop=0.1)
def test_fail(ragprobe_result): pass

@ragprobe.reverse(facts=FEW, max_drop=0.1)
def test_few(ragprobe_result): pass

@ragprobe.reverse(facts=BOOM, max_drop=0.1)
def test_error(ragprobe_result): pass

@pytest.mark.xfail(reason="known reversal gap")
@ragprobe.reverse(facts=VALVES, max_drop=0.1)
def test_xfail(ragprobe_result): pass

@ragprobe.reverse(facts=REG, max_drop=0.3)
def test_regression(ragprobe_result): pass

@ragprobe.position(data="qa.jsonl", n_docs=10, positions=[0, 4, 9], max_drop=0.15)
def test_position_middle(ragprobe_result): pass

@ragprobe.reverse(facts=BUD, max_drop=0.1)
def test_zz_budget(ragprobe_result): pass
"""


def qa_lines(n: int = 40) -> str:
    lines = []
    for i in range(n):
        ctxs = [{"title": f"Item {i}", "text": f"The code of item {i} is Q{i}X.", "isgold": True}]
        ctxs += [{"title": f"Note {j}", "text": f"Shelf note {j} for aisle {i}.", "isgold": False} for j in range(12)]
        lines.append(json.dumps({"question": f"What is the code of item {i}?", "answers": [f"Q{i}X"], "ctxs": ctxs}))
    return "\n".join(lines) + "\n"


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_mix=TESTS)
    (pytester.path / "qa.jsonl").write_text(qa_lines(), encoding="utf-8")
    monkeypatch.setenv("REVERSE_WRONG", "5")
    return pytester


def section(outlines: list[str]) -> list[str]:
    """The probe lines of the terminal's ragprobe section (up to the run's verdict line)."""
    start = next(i for i, line in enumerate(outlines) if "= ragprobe =" in line) + 1
    end = next(i for i in range(start, len(outlines)) if outlines[i].startswith("ragprobe: "))
    return [line for line in outlines[start:end] if line]


def columns_line_up(lines: list[str], nodeids: list[str]) -> None:
    assert len({line.index(n) for line, n in zip(lines, nodeids, strict=True)}) == 1
    assert len({line.index(" [reverse]") if "[reverse]" in line else line.index(" [position]") for line in lines}) == 1
    measured = [line for line in lines if " drop " in line and not line.startswith("ERROR")]
    assert len({line.index(" drop ") for line in measured}) == 1
    assert len({line.index(" (n=") for line in measured}) == 1


NODEIDS = {
    name: f"test_mix.py::{name}"
    for name in (
        "test_pass", "test_fail", "test_few", "test_error", "test_xfail", "test_regression", "test_position_middle",
        "test_zz_budget",
    )
}


def test_the_summary_of_a_mixed_run_lines_up_and_says_what_report_md_says(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["-p", "no:randomly", "--ragprobe-no-cache"]
    first = project.runpytest(*base, "--ragprobe-save-baseline=base.json")
    first.assert_outcomes(passed=4, failed=2, xfailed=1, errors=1)
    monkeypatch.setenv("REVERSE_WRONG", "30")  # reverse accuracy 0.95 -> 0.70: within max_drop 0.3, regressed
    # 525 calls before the last probe (60 + 60 + 20 + 5 + 60 + 200 + 120): it gets the 75 left
    run = project.runpytest(*base, "--ragprobe-baseline=base.json", "--ragprobe-budget=600", "--ragprobe-report=rp")
    run.assert_outcomes(passed=3, failed=3, xfailed=1, errors=1)
    lines = section(run.outlines)
    order = [line.split()[0] for line in lines]
    assert order == ["FAIL", "PASS", "INCONCLUSIVE", "INCONCLUSIVE", "INCONCLUSIVE", "ERROR", "FAIL", "FAIL"]
    by_test = {n: next(line for line in lines if f"{n} " in line) for n in NODEIDS.values()}
    columns_line_up(lines, [next(n for n in NODEIDS.values() if f"{n} " in line) for line in lines])

    budget = by_test[NODEIDS["test_zz_budget"]]
    assert budget.startswith("INCONCLUSIVE             test_mix.py::test_zz_budget       [reverse]  fwd 1.00 rev 1.00")
    assert "drop +0.00 (n=" in budget and ", budget exhausted, " in budget  # not a bare n: the budget cut it
    regression = by_test[NODEIDS["test_regression"]]
    assert regression.startswith("INCONCLUSIVE (regressed) test_mix.py::test_regression      [reverse]  fwd 1.00 rev 0.70")
    assert " - baseline REGRESSION: reverse accuracy 0.95 -> 0.70 " in regression
    assert by_test[NODEIDS["test_xfail"]].endswith(" - expected, xfail: known reversal gap")
    error = by_test[NODEIDS["test_error"]]
    assert error.startswith(
        "ERROR                    test_mix.py::test_error           [reverse]  5 of 5 pipeline calls failed"
    )
    assert len(error) < 300  # the cause clipped as report.md's cell (the ERROR section has it all)

    out = run.outlines
    verdict = next(line for line in out if line.startswith("ragprobe: 8 probes"))
    assert verdict == (
        "ragprobe: 8 probes: 1 pass, 2 fail, 2 inconclusive, 1 error, 1 expected failure (xfail), "
        "1 baseline regression -> FAIL"
    )
    # Was "1 not compared (see the warnings)", and no warning said which: an ERROR never reaches the comparison
    assert "ragprobe baseline: 7 of 8 probes compared; 1 not compared: test_mix.py::test_error (an ERROR in this run)" in out

    md = (project.path / "rp" / "report.md").read_text(encoding="utf-8")
    planned = budget.split("(n=", 1)[1].split(",", 1)[0]  # "17 of 100"
    assert f"| `test_mix.py::test_zz_budget` | reverse | {planned}, budget exhausted |" in md
    assert "**8 probes**: ✅ 1 pass · ❌ 2 fail · ⚠️ 2 inconclusive · 💥 1 error · ✖️ 1 expected failure (xfail) · " in md

    capsys.readouterr()
    assert main(["show", str(project.path / "rp")]) == 1
    shown = capsys.readouterr().out.splitlines()
    assert shown[:-1] == lines  # `ragprobe show` prints the terminal's lines


def test_the_section_lines_up_under_xdist_too(project: pytest.Pytester, plugin_args: list[str]) -> None:
    run = project.runpytest(*plugin_args, "--ragprobe-no-cache", "-k", "not budget and not regression")
    run.assert_outcomes(passed=2, failed=2, xfailed=1, errors=1)
    lines = section(run.outlines)
    assert len(lines) == 6
    names = [next(n for n in NODEIDS.values() if f"{n} " in line) for line in lines]
    columns_line_up(lines, names)
    assert lines[0].startswith("FAIL (xfail) test_mix.py::test_xfail           [reverse]  fwd 1.00 rev 0.00")
    # a pipeline that raises is an ERROR naming the exception, from a worker as without xdist
    # (test_reverse_mark's test_raising_pipeline_is_an_error_naming_the_exception runs without xdist only)
    run.stdout.fnmatch_lines(["*5 of 5 pipeline calls failed*RuntimeError: index offline*"])


# -- report.json's per-probe settings: what the probe ran with ---------------------------------------------------
SETTINGS_TESTS = """
import pytest_ragprobe as ragprobe
from conftest import PUMPS, BOOM

@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_default(ragprobe_result): pass

@ragprobe.reverse(facts=PUMPS, max_drop=0.1, sequential=False, seed=3, confidence=0.9)
def test_own(ragprobe_result): pass

@ragprobe.reverse(facts=BOOM)
def test_error(ragprobe_result): pass
"""


def settings_of(path: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((path / "report.json").read_text(encoding="utf-8"))
    return {p["nodeid"].split("::")[1]: p["settings"] for p in data["probes"]}


@pytest.mark.xdist_elsewhere  # under -n 2: the [xdist2] tests of this module and test_xdist_engine
def test_report_settings_record_the_command_line_values(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    # Was: "sequential": null under --ragprobe-sequential, for every probe whose mark did not set it.
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_settings=SETTINGS_TESTS)
    args = ["--ragprobe-no-cache", "--ragprobe-sequential", "--ragprobe-seed=7", "--ragprobe-confidence=0.8"]
    run = pytester.runpytest(*plugin_args, *args, "--ragprobe-samples=20", "--ragprobe-report=rp")
    run.assert_outcomes(passed=2, errors=1)
    got = settings_of(pytester.path / "rp")
    wanted = {"sequential": True, "seed": 7, "confidence": 0.8, "max_drop": 0.1, "n": None}
    assert {k: got["test_default"][k] for k in wanted} == wanted
    assert got["test_default"]["n_planned"] == 20  # --ragprobe-samples: the sample it planned
    assert {k: got["test_own"][k] for k in ("sequential", "seed", "confidence")} == {
        "sequential": False, "seed": 3, "confidence": 0.9,
    }
    assert {k: got["test_error"][k] for k in wanted} == wanted  # an ERROR too (its pipeline raised)


def test_report_settings_record_the_ini_values(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_settings=SETTINGS_TESTS)
    pytester.makeini("[pytest]\nragprobe_sequential = true\nragprobe_seed = 5\n")
    pytester.runpytest("--ragprobe-no-cache", "--ragprobe-report=rp").assert_outcomes(passed=2, errors=1)
    got = settings_of(pytester.path / "rp")
    assert (got["test_default"]["sequential"], got["test_default"]["seed"]) == (True, 5)
    assert (got["test_own"]["sequential"], got["test_own"]["seed"]) == (False, 3)
    pytester.makeini("[pytest]\n")
    pytester.runpytest("--ragprobe-no-cache", "--ragprobe-report=rp").assert_outcomes(passed=2, errors=1)
    assert settings_of(pytester.path / "rp")["test_default"]["sequential"] is False


def test_a_setup_error_records_the_run_setting_too(pytester: pytest.Pytester) -> None:
    """The pipeline fixture raised: the ERROR probe's settings said "sequential": null under
    --ragprobe-sequential (it never reached a probe context)."""
    pytester.makeconftest(
        "import pytest\n\n@pytest.fixture\ndef ragprobe_pipeline():\n    raise RuntimeError('no index today')\n"
    )
    pytester.makepyfile(
        "import pytest_ragprobe as ragprobe\n\n@ragprobe.reverse(facts='synthetic:10')\n"
        "def test_down(ragprobe_result): pass\n"
    )
    run = pytester.runpytest("--ragprobe-no-cache", "--ragprobe-sequential", "--ragprobe-report=rp")
    run.assert_outcomes(errors=1)
    got = settings_of(pytester.path / "rp")["test_down"]
    assert (got["sequential"], got["facts"]) == (True, "synthetic:10")
