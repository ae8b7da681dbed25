"""The cost plan printed after collection (pytest_ragprobe.plan): exact call counts, no pipeline call."""

from __future__ import annotations

import json

import pytest

CONFTEST = """
import pathlib
import pytest
import pytest_ragprobe as ragprobe

def answer(question):
    pathlib.Path("called").write_text("yes")  # the plan must never get here
    return "no idea"

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.Pipeline(answer=answer, generate=lambda q, docs: "x", name="plan-sim")
"""

TESTS = """
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(40)]

@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_rev():
    pass

@ragprobe.reverse(facts=FACTS, n=16, max_drop=0.1, sequential=True)
def test_rev_seq():
    pass

@ragprobe.position(data="qa.jsonl", n_docs=10, max_drop=0.15)
def test_pos():
    pass

@ragprobe.position(data="qa.jsonl", n_docs=6, positions=[0, 5], distractors="retriever", max_drop=0.15)
def test_pos_retriever():
    pass

@ragprobe.reverse(facts="synthetic:12", max_drop=0.1)
def test_synthetic():
    pass

@ragprobe.position(data="missing.jsonl", max_drop=0.15)
def test_missing():
    pass
"""


def setup(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_probes=TESTS)
    rows = []
    for i in range(25):
        ctxs = [{"title": f"Item {i}", "text": f"The code of item {i} is Q{i}.", "isgold": True}]
        ctxs += [{"title": f"N{j}", "text": f"Note {j}.", "isgold": False} for j in range(12)]
        rows.append(json.dumps({"question": f"Code of item {i}?", "answers": [f"Q{i}"], "ctxs": ctxs}))
    (pytester.path / "qa.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_collect_only_prints_the_plan_and_calls_nothing(pytester: pytest.Pytester) -> None:
    setup(pytester)
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:xdist")
    assert result.ret == 0
    # 40 x 2; 16 x 2 (sequential: first of 8 looks = 2 facts); 25 x 5 positions; 25 x (2 + 1 retrieve);
    # 12 x 2 + 1 index call; the missing file is counted as nothing, and named
    result.stdout.fnmatch_lines(
        [
            "ragprobe plan: 6 probes, up to 337 pipeline calls (cached answers are free; 309 if sequential "
            "probes stop at their first look); "
            "1 with unreadable data",
            "*::test_rev [[]reverse[]] 80 calls = 40 facts x 2",
            "*::test_rev_seq [[]reverse[]] 4-32 calls = 16 facts x 2 (sequential: may stop at the first look)",
            "*::test_pos [[]position[]] 125 calls = 25 questions x 5",
            "*::test_pos_retriever [[]position[]] 75 calls = 25 questions x 3",
            "*::test_synthetic [[]reverse[]] 25 calls = 12 facts x 2 + 1",
            "*::test_missing [[]position[]] data error: *missing.jsonl*",
        ]
    )
    assert not (pytester.path / "called").exists()


def test_no_cache_plan_does_not_promise_free_cached_answers(pytester: pytest.Pytester) -> None:
    setup(pytester)
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:xdist", "--ragprobe-no-cache")
    result.stdout.fnmatch_lines(
        [
            "ragprobe plan: 6 probes, up to 337 pipeline calls (309 if sequential probes stop at their first "
            "look; answer cache off); 1 with unreadable data",
        ]
    )
    assert "cached answers are free" not in result.stdout.str()


def test_a_run_prints_the_total_and_warns_when_the_budget_is_short(pytester: pytest.Pytester) -> None:
    setup(pytester)
    result = pytester.runpytest(
        "-p", "no:xdist", "--ragprobe-samples=4", "--ragprobe-budget=20", "--ragprobe-no-cache",
        "-k", "test_rev or test_pos",
    )
    # 4 x 2 + 4 x 2 (sequential needs >= 8 facts: no looks) + 4 x 5 + 4 x 3
    result.stdout.fnmatch_lines(
        [
            "ragprobe plan: 4 probes, up to 48 pipeline calls (answer cache off)",
            "ragprobe plan: --ragprobe-budget=20 covers 20 of up to 48 calls; probes that run out end "
            "INCONCLUSIVE (a FAIL already shown stays)",
        ]
    )
    assert "calls = " not in result.stdout.str()  # per-probe lines only with -v or --collect-only


def test_the_plan_matches_the_calls_a_run_makes(pytester: pytest.Pytester) -> None:
    setup(pytester)
    result = pytester.runpytest(
        "-p", "no:xdist", "-v", "--ragprobe-no-cache", "--ragprobe-report=r", "-k", "test_rev or test_pos"
    )
    planned = {
        line.split("::")[1].split()[0]: int(line.split("]")[1].split()[0].split("-")[-1])
        for line in result.stdout.lines
        if line.startswith("  test_probes.py::") and " calls = " in line
    }
    report = json.loads((pytester.path / "r" / "report.json").read_text())
    made = {p["nodeid"].split("::")[1]: p["calls"] for p in report["probes"] if p["verdict"] != "error"}
    assert made["test_rev"] == planned["test_rev"] == 80
    assert made["test_pos"] == planned["test_pos"] == 125
    assert made["test_rev_seq"] <= planned["test_rev_seq"] == 32


def test_no_plan_line_without_probes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    pass\n")
    result = pytester.runpytest("-p", "no:xdist")
    assert "ragprobe plan" not in result.stdout.str()
    result = pytester.runpytest("-n", "2")
    assert "ragprobe plan" not in result.stdout.str()


def test_under_xdist_the_controller_prints_the_plan_once_before_any_test(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers collect (their output is not shown): the first one's plan reaches the controller. (The same
    run without xdist prints the same head line: test_a_run_prints_the_total_and_warns_when_the_budget_is_short.)"""
    setup(pytester)
    temp = tmp_path_factory.mktemp("plan-tmp")
    monkeypatch.setenv("TMPDIR", str(temp))  # where the controller keeps the workers' plan files
    args = ("--ragprobe-samples=4", "--ragprobe-budget=20", "--ragprobe-no-cache", "-k", "test_rev or test_pos")
    result = pytester.runpytest_subprocess("-n", "2", *args)
    head = "ragprobe plan: 4 probes, up to 48 pipeline calls (answer cache off)"
    lines = result.stdout.lines
    assert lines.count(head) == 1
    budget = [line for line in lines if line.startswith("ragprobe plan: --ragprobe-budget=20 covers 20")]
    assert len(budget) == 1
    first_result = min(i for i, line in enumerate(lines) if "[gw" in line or "PASSED" in line or "%]" in line)
    assert lines.index(head) < first_result  # printed before any test result
    assert sum(result.parseoutcomes().get(k, 0) for k in ("passed", "failed", "errors")) == 4
    # a capability a probe needs and the pipeline lacks is an ERROR naming it under xdist too (the setup
    # error reaches the controller from its worker)
    result.stdout.fnmatch_lines(
        ["*ERROR at setup of test_pos_retriever*", "*needs the pipeline's `retrieve`*Add retrieve(query, k)*"]
    )
    assert not list(temp.glob("ragprobe-run-*"))  # the controller removed the plan file and budget pool


def test_under_xdist_without_the_terminal_plugin_a_worker_plans_without_v(pytester: pytest.Pytester) -> None:
    """``-p no:terminal`` takes ``-v`` away (config.option has no ``verbose``): gw0 writing the plan for the
    controller raised AttributeError, an INTERNALERROR of the whole run."""
    pytest.importorskip("xdist")
    setup(pytester)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:terminal", "--ragprobe-no-cache", "-k", "test_rev")
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert result.ret == 0


WARM = """
import sys
import pytest_ragprobe as ragprobe

def test_a_plain_test_runs_first():
    assert ("pytest_ragprobe.stats" in sys.modules) is {expected}
    assert ("jinja2" in sys.modules) is {report}

@ragprobe.reverse(facts=[ragprobe.Fact(subject="P-1", relation="compatible_with", object="C-1")], max_drop=0.1)
def test_probe():
    pass
"""


@pytest.mark.parametrize(
    ("args", "expected", "report"),
    [
        ((), True, False),
        (("--ragprobe-report=rep",), True, True),
        (("-m", "not ragprobe"), False, False),  # no probe collected: nothing heavy imported
    ],
)
def test_probe_dependencies_are_imported_after_collection(
    pytester: pytest.Pytester, args: tuple[str, ...], expected: bool, report: bool
) -> None:
    """scipy / jinja2 load after collection, before any test runs, and only when probes were collected
    (a Ctrl-C that lands inside a third-party import mid-probe can be swallowed or break pytest's
    traceback formatting)."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_warm=WARM.format(expected=expected, report=report))
    result = pytester.runpytest_subprocess("-p", "no:xdist", "-p", "no:randomly", *args)
    # the probe (1 fact, every answer wrong): INCONCLUSIVE, which passes with a warning
    result.assert_outcomes(passed=2 if expected else 1, deselected=0 if expected else 1, warnings=1 if expected else 0)


def test_probes_skipped_by_a_mark_are_not_planned(pytester: pytest.Pytester) -> None:
    setup(pytester)
    pytester.makepyfile(
        test_skips="""
import sys
import pytest
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(10)]

@pytest.mark.skip(reason="later")
@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_skipped():
    pass

@pytest.mark.skipif(True, reason="never here")
@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_skipif_true():
    pass

@pytest.mark.skipif(False, reason="runs")
@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_skipif_false():
    pass

@pytest.mark.xfail(run=False, reason="not run: was planned (up to 40 calls for 20 made)")
@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_xfail_not_run():
    pass

@pytest.mark.xfail(False, run=False, reason="runs")
@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_xfail_false():
    pass
"""
    )
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:xdist", "test_skips.py")
    result.stdout.fnmatch_lines(["ragprobe plan: 2 probes, up to 40 pipeline calls (cached answers are free)"])
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:xdist", "--runxfail", "test_skips.py")
    result.stdout.fnmatch_lines(["ragprobe plan: 3 probes, up to 60 pipeline calls (cached answers are free)"])
    assert "test_skipped" not in result.stdout.str().split("ragprobe plan")[1]
