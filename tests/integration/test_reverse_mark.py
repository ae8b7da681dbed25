"""End-to-end behaviour of @ragprobe.reverse through pytester: verdicts, messages, errors, report."""

from __future__ import annotations

import json
import sys

import pytest
from factories import WRONG_REVERSE_CONFTEST

from pytest_ragprobe.results import Report

# 30 pump/controller facts; a pipeline knows pump -> controller and (optionally) controller -> pump.
CONFTEST = """
import asyncio
import pytest
import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{{i}}", relation="compatible_with", object=f"C-{{i}}") for i in range(30)]

class Catalog:
    reverse_ok = {reverse_ok}

    def answer(self, question):
        if "controller is compatible with pump" in question:
            return "Controller C-" + question.rsplit("P-", 1)[1].rstrip("?")
        if self.reverse_ok:
            return "Pump P-" + question.rsplit("C-", 1)[1].rstrip("?")
        return "C-" + question.rsplit("C-", 1)[1].rstrip("?")   # echoes the question's entity

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return Catalog()
"""

TEST = """
import pytest_ragprobe as ragprobe
from conftest import FACTS

@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_catalog(ragprobe_result):
    assert ragprobe_result.forward.accuracy == 1.0
"""


def test_asymmetric_pipeline_fails_with_both_accuracies(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    """The FAIL message, and (same run) the probe's figures in the JUnit XML: a test of its own ran this
    same project again, with and without -n 2, for the XML alone."""
    import xml.etree.ElementTree as ET

    pytester.makeconftest(CONFTEST.format(reverse_ok=False))
    pytester.makepyfile(test_rev=TEST)
    result = pytester.runpytest(*plugin_args, "--junitxml=junit.xml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ragprobe reverse probe FAIL: forward 1.00, reverse 0.00, drop +1.00 (max_drop 0.10, n=30)*",
            "*forward*1.00*30/30*",
            "*reverse*0.00*0/30*",
            "*exact McNemar p < 0.001 (30 forward-only vs 0 reverse-only)*",
            "*Which pump is compatible with controller C-*",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # the JUnit XML carries the probe's figures
    case = ET.parse(pytester.path / "junit.xml").find(".//testcase")
    assert case is not None
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props == {
        "ragprobe_kind": "reverse",
        "ragprobe_verdict": "fail",
        "ragprobe_n": "30",
        "ragprobe_calls": "60",
        "ragprobe_drop": "1.0",
        "ragprobe_drop_ci": props["ragprobe_drop_ci"],
        "ragprobe_max_drop": "0.1",
    }
    low, high = (float(v) for v in props["ragprobe_drop_ci"].strip("[]").split(", "))
    assert 0.1 < low < 1.0 == high


@pytest.mark.xdist_elsewhere  # under -n 2: the [xdist2] tests of this module and test_xdist_engine
def test_symmetric_pipeline_passes(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    pytester.makeconftest(CONFTEST.format(reverse_ok=True))
    pytester.makepyfile(test_rev=TEST)
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*PASS*test_rev.py::test_catalog [[]reverse[]] fwd 1.00 rev 1.00 drop +0.00*"]
    )


RAISING_CONFTEST = """
import pytest
@pytest.fixture(scope="session")
def ragprobe_pipeline():
    def answer(question):
        raise RuntimeError("vector store is down")
    return answer
"""


# under -n 2: test_terminal_summary's test_the_section_lines_up_under_xdist_too[xdist2] (a raising pipeline's
# ERROR names the exception) and test_plan's test_under_xdist_the_controller_prints_the_plan_once_before_any_test
# (a missing capability's ERROR names it)
@pytest.mark.xdist_elsewhere
def test_raising_pipeline_is_an_error_naming_the_exception(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makeconftest(RAISING_CONFTEST)
    pytester.makepyfile(
        test_rev="""
import pytest_ragprobe as ragprobe
@ragprobe.reverse(facts="synthetic:8", max_drop=0.1)
def test_rev():
    pass
"""
    )
    # synthetic facts need index(); a bare callable has none -> the capability error comes first
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*needs the pipeline's `index`*Add an index(documents) method*"])

    pytester.makepyfile(
        test_rev="""
import pytest_ragprobe as ragprobe
@ragprobe.reverse(facts=[ragprobe.Fact(subject="P-1", relation="compatible_with", object="C-1")])
def test_rev():
    pass
"""
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*2 of 2 pipeline calls failed*RuntimeError: vector store is down*"])


def test_pipeline_returning_junk_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest
@pytest.fixture
def ragprobe_pipeline():
    return lambda question: 42
"""
    )
    pytester.makepyfile(
        """
import pytest_ragprobe as ragprobe
@ragprobe.reverse(facts=[ragprobe.Fact(subject="P-1", relation="compatible_with", object="C-1")])
def test_rev():
    pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*expected str or ragprobe.Answer, got int; first for '*': 42*"])


@pytest.mark.parametrize(
    ("decorator", "expected"),
    [
        ("@ragprobe.reverse(facts='synthetic:5', max_dorp=0.1)", "*unknown argument 'max_dorp' (did you mean 'max_drop'?)*"),
        (
            "@pytest.mark.ragprobe_reverse(facts='synthetic:5', max_dorp=0.1)",
            "*unknown argument 'max_dorp' (did you mean 'max_drop'?)*",
        ),
        (
            "@ragprobe.reverse(facts='synthetic:5', max_drop='a lot')",
            "*argument 'max_drop' must be a number*",
        ),
        ("@pytest.mark.ragprobe_reverse(max_drop=0.1)", "*argument 'facts' is required*"),
        (
            "@ragprobe.reverse(facts='synthetic:5', max_drop=1.0)",
            "*argument 'max_drop' must be in [[]0.0, 1.0), got 1.0*",
        ),
        (
            "@pytest.mark.ragprobe_position(data='x.jsonl', max_drop=1)",
            "*@ragprobe.position: argument 'max_drop' must be in [[]0.0, 1.0), got 1*",
        ),
        (
            "@ragprobe.position(data='x.jsonl', positions=[0, 99])",
            "*argument 'positions' entries must be ints*",
        ),
        ("@ragprobe.position(data='x.jsonl', n_docs=1)", "*argument 'n_docs' must be >= 2, got 1*"),
        ("@ragprobe.reverse(facts=42)", "*argument 'facts' must be a file path, 'synthetic:N' or a list*"),
    ],
)
def test_bad_mark_arguments_fail_at_collection(
    pytester: pytest.Pytester, decorator: str, expected: str
) -> None:
    pytester.makepyfile(
        f"""
import pytest
import pytest_ragprobe as ragprobe
{decorator}
def test_x():
    pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR collecting*", expected])
    # the message names the argument: no frame from inside the plugin (was: markers.py's `position` /
    # `reverse` frame on an ill-typed value)
    result.stdout.no_fnmatch_line("*pytest_ragprobe*markers.py*")


def test_marks_carry_the_common_ragprobe_mark(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.format(reverse_ok=True))
    pytester.makepyfile(
        test_rev=TEST
        + """
import pytest
@pytest.mark.ragprobe_reverse(facts=FACTS)
def test_raw_mark(ragprobe_result):
    assert ragprobe_result.n == 30

def test_plain():
    pass
"""
    )
    selected = pytester.runpytest("-m", "ragprobe", "--strict-markers")
    selected.assert_outcomes(passed=2, deselected=1)
    others = pytester.runpytest("-m", "not ragprobe", "--strict-markers")
    others.assert_outcomes(passed=1, deselected=2)


def test_no_pipeline_configured_is_one_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest_ragprobe as ragprobe
@ragprobe.reverse(facts="synthetic:4")
def test_a():
    pass
@ragprobe.reverse(facts="synthetic:4")
def test_b():
    pass
"""
    )
    result = pytester.runpytest("--ragprobe-report=rep")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        ["*no pipeline configured. Define a `ragprobe_pipeline` fixture in conftest.py*"]
    )
    # The probes that never ran are ERRORs in the report too: a gate reading it fails as pytest did.
    result.stdout.fnmatch_lines(["ragprobe: 2 probes: 2 errors -> ERROR"])
    data = json.loads((pytester.path / "rep" / "report.json").read_text())
    assert data["summary"] == {"pass": 0, "fail": 0, "inconclusive": 0, "error": 2}
    assert [(p["nodeid"], p["verdict"]) for p in data["probes"]] == [
        ("test_no_pipeline_configured_is_one_clear_error.py::test_a", "error"),
        ("test_no_pipeline_configured_is_one_clear_error.py::test_b", "error"),
    ]
    assert data["probes"][0]["reason"].startswith(
        "setup failed, the probe did not run: pytest-ragprobe: no pipeline configured."
    )
    show = pytester.run(sys.executable, "-m", "pytest_ragprobe.cli", "show", "rep")
    assert show.ret == 1


def test_a_raising_pipeline_fixture_is_an_error_probe(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest
@pytest.fixture(scope="session")
def ragprobe_pipeline():
    raise ConnectionError("vector store unreachable")
"""
    )
    pytester.makepyfile(
        """
import pytest
import pytest_ragprobe as ragprobe
@ragprobe.reverse(facts="synthetic:4")
def test_a():
    pass
@pytest.mark.xfail(reason="store is down")
@ragprobe.position(facts="synthetic:4", n_docs=3)
def test_b():
    pass
"""
    )
    result = pytester.runpytest("--ragprobe-report=rep", "-n", "2")
    result.assert_outcomes(errors=1, xfailed=1)
    data = json.loads((pytester.path / "rep" / "report.json").read_text())
    probes = {p["nodeid"].split("::")[1]: p for p in data["probes"]}
    assert probes["test_a"]["verdict"] == "error" and probes["test_a"]["kind"] == "reverse"
    assert probes["test_a"]["reason"] == (
        "setup failed, the probe did not run: ConnectionError: vector store unreachable"
    )
    assert (probes["test_b"]["kind"], probes["test_b"]["verdict"]) == ("position", "error")
    assert probes["test_b"]["expected_failure"] is True
    # an ERROR still says what it would have probed (it had no settings: the reports showed no max_drop)
    assert probes["test_a"]["settings"]["facts"] == "synthetic:4"
    assert probes["test_a"]["settings"]["max_drop"] == 0.1 and "n_planned" not in probes["test_a"]["settings"]
    assert probes["test_b"]["settings"]["n_docs"] == 3
    result.stdout.fnmatch_lines(["ragprobe: 2 probes: 1 error, 1 expected failure (xfail) -> ERROR"])


# Pipelines importable by --ragprobe-pipeline / ini: `good` answers both ways, `bad` nothing.
MYPIPES = """
def good(question):
    if "controller" in question.split("compatible")[0]:
        return "C-" + question.rsplit("P-", 1)[1].rstrip("?")
    return "P-" + question.rsplit("C-", 1)[1].rstrip("?")

def bad(question):
    return "no idea"
"""


def test_pipeline_option_and_ini(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        mypipes=MYPIPES,
        test_rev="""
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(20)]
@ragprobe.reverse(facts=FACTS)
def test_rev(ragprobe_result):
    assert ragprobe_result.forward.accuracy == 1.0
""",
    )
    pytester.makeini("[pytest]\nragprobe_pipeline = mypipes:bad\n")
    pytester.syspathinsert()
    assert pytester.runpytest().ret == pytest.ExitCode.TESTS_FAILED  # ini pipeline answers nothing
    pytester.runpytest("--ragprobe-pipeline=mypipes:good").assert_outcomes(passed=1)  # CLI beats ini
    result = pytester.runpytest("--ragprobe-pipeline=mypipes:missing")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*module 'mypipes' has no attribute 'missing'*"])


@pytest.mark.xdist_elsewhere  # under -n 2: the [xdist2] tests of this module and test_xdist_engine
def test_report_json_validates_and_holds_the_metrics(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makeconftest(CONFTEST.format(reverse_ok=False))
    pytester.makepyfile(test_rev=TEST)
    result = pytester.runpytest("--ragprobe-report=out/nested", *plugin_args)
    result.assert_outcomes(failed=1)
    path = pytester.path / "out" / "nested" / "report.json"
    result.stdout.fnmatch_lines(["*= ragprobe =*", f"ragprobe report: {path}"])
    data = json.loads(path.read_text())
    report = Report.model_validate(data)
    assert data["schema_version"] == 1
    assert report.partial is False
    (probe,) = data["probes"]
    assert probe["nodeid"] == "test_rev.py::test_catalog"
    assert probe["kind"] == "reverse"
    assert probe["verdict"] == "fail"
    assert (probe["n"], probe["calls"], probe["errors"]) == (30, 60, 0)
    m = probe["metrics"]
    assert m["forward_accuracy"] == 1.0 and m["reverse_accuracy"] == 0.0 and m["drop"] == 1.0
    lo, hi = m["drop_ci"]
    assert 0.1 < lo <= 1.0 and hi == pytest.approx(1.0)
    assert m["p_value"] == pytest.approx(2 * 0.5**30)
    assert m["discordant"] == {"forward_only": 30, "reverse_only": 0}
    assert probe["examples"][0]["correct"] is False
    assert (pytester.path / "out" / "nested" / "report.html").is_file()
    assert (pytester.path / "out" / "nested" / "report.md").is_file()


def test_miss_attribution_retrieval_vs_reading(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest
import pytest_ragprobe as ragprobe

PAGES = {i: ragprobe.Document(text=f"Pump P-{i} is compatible with controller C-{i}.", title=f"P-{i}")
         for i in range(20)}

def answer(question):
    if "controller is compatible with pump" in question:
        i = int(question.rsplit("P-", 1)[1].rstrip("?"))
        return ragprobe.Answer(f"C-{i}", documents=[PAGES[i]])
    i = int(question.rsplit("C-", 1)[1].rstrip("?"))
    # even ids: gold page retrieved but misread; odd ids: an unrelated page retrieved
    return ragprobe.Answer(f"C-{i}", documents=[PAGES[i] if i % 2 == 0 else PAGES[(i + 1) % 20]])

@pytest.fixture
def ragprobe_pipeline():
    return answer
"""
    )
    pytester.makepyfile(
        """
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(20)]
@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_rev():
    pass
"""
    )
    result = pytester.runpytest("--ragprobe-report=r")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*reverse misses: 10 retrieval (gold not retrieved), 10 reading*"])
    probe = json.loads((pytester.path / "r" / "report.json").read_text())["probes"][0]
    assert probe["metrics"]["reverse_misses"] == {"retrieval": 10, "reading": 10, "unknown": 0}


def test_facts_file_relative_to_test_and_errors_name_the_line(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.format(reverse_ok=True))
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "parts.yaml").write_text(
        """relations:
  compatible_with:
    forward: "Which controller is compatible with pump {subject}?"
    reverse: "Which pump is compatible with controller {object}?"
    statement: "Pump {subject} is compatible with controller {object}."
facts:
  - {subject: P-1, relation: compatible_with, object: C-1}
  - {subject: P-2, relation: compatible_with}
"""
    )
    pytester.makepyfile(
        test_rev="""
import pytest_ragprobe as ragprobe
@ragprobe.reverse(facts="data/parts.yaml")
def test_rev():
    pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*data/parts.yaml: facts[[]1[]] (line 8): needs subject, relation and object*"]
    )


def test_fixtures_and_direct_api(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.format(reverse_ok=False))
    pytester.makepyfile(
        """
import pytest
import pytest_ragprobe as ragprobe
from conftest import FACTS, Catalog

def test_pairs(ragprobe_fact_pairs):
    pairs = ragprobe_fact_pairs(FACTS, n=5, seed=1)
    assert len(pairs) == 5
    assert pairs[0].forward.question.startswith("Which controller is compatible with pump P-")
    assert pairs == ragprobe_fact_pairs(FACTS, n=5, seed=1)
    synthetic = ragprobe_fact_pairs("synthetic:12")
    assert len({p.reverse.answers[0] for p in synthetic}) == 12
    with pytest.warns(ragprobe.RagprobeWarning) as record:
        assert len(ragprobe_fact_pairs("synthetic:12", n=40)) == 12
    assert str(record[0].message) == (
        "ragprobe_fact_pairs: n=40 asked for, but the facts hold only 12 facts: returning all 12"
    )
    for bad, problem in [
        ({"n": 0}, "argument 'n' must be >= 1, got 0"),
        ({"n": "3"}, "argument 'n' must be an int, got str '3'"),
        ({"seed": -1}, "argument 'seed' must be >= 0, got -1"),
    ]:
        with pytest.raises(ragprobe.MarkArgumentError) as info:
            ragprobe_fact_pairs(FACTS, **bad)
        assert str(info.value) == "ragprobe_fact_pairs: " + problem

def test_check_reverse():
    result = ragprobe.check_reverse(Catalog(), FACTS, max_drop=0.2)
    assert result.verdict == "fail" and result.reverse.accuracy == 0.0
    with pytest.raises(ragprobe.ProbeFailed, match="forward 1.00, reverse 0.00"):
        result.assert_ok()
"""
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_inconclusive_warns_by_default_and_fails_when_strict(pytester: pytest.Pytester) -> None:
    # 6 facts, 1 reverse miss: drop 0.17 is neither shown above nor below max_drop 0.1.
    pytester.makeconftest(
        """
import pytest
@pytest.fixture
def ragprobe_pipeline():
    def answer(question):
        if "controller is compatible with pump" in question:
            return "C-" + question.rsplit("P-", 1)[1].rstrip("?")
        i = question.rsplit("C-", 1)[1].rstrip("?")
        return "unsure" if i == "0" else "P-" + i
    return answer
"""
    )
    pytester.makepyfile(
        """
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(6)]
@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_rev(ragprobe_result):
    assert ragprobe_result.verdict == "inconclusive"
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        ["*RagprobeInconclusiveWarning*INCONCLUSIVE*", "*the minimum for a PASS is 29 facts, reached only if every answer agreed*at the rates seen so far, about * more (* in all) would likely decide*"]
    )
    # the warnings summary points at the test, not at the plugin's own source line
    text = result.stdout.str()
    assert "plugin.py" not in text and "warnings.warn(" not in text
    result.stdout.fnmatch_lines(["*strict.py:3: RagprobeInconclusiveWarning: *"])
    # a few lines, not the FAIL's tables and examples (33 such warnings made 570 lines)
    warning = text[text.index("RagprobeInconclusiveWarning: ") : text.index("-- Docs:")]
    assert "  reason: drop +0.17, but its one-sided 95% bounds" in warning
    assert "  details: ragprobe_result.explain(), or a report: --ragprobe-report=DIR" in warning
    assert "worst examples" not in warning.lower() and "  forward " not in warning
    assert len(warning.strip().splitlines()) <= 6, warning
    # with a report, the warning points at the files this run writes (it named report.html without one)
    reported = pytester.runpytest("--ragprobe-report=rp").stdout.str()
    out = pytester.path / "rp"
    assert f"  details: {out / 'report.html'}, or `ragprobe show {out / 'report.json'} --explain`" in reported
    strict = pytester.runpytest("--ragprobe-strict")
    strict.assert_outcomes(failed=1)
    strict.stdout.fnmatch_lines(["*--ragprobe-strict: INCONCLUSIVE fails*"])


def test_direct_api_inside_a_test_follows_the_run_options(pytester: pytest.Pytester) -> None:
    """check_reverse called in a test uses the run's --ragprobe-* settings (samples, confidence,
    seed, budget) and assert_ok() its --ragprobe-strict, so it fails exactly as the mark would."""
    pytester.makepyfile(
        """
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(6)]

def answer(question):
    if "controller is compatible with pump" in question:
        return "C-" + question.rsplit("P-", 1)[1].rstrip("?")
    i = question.rsplit("C-", 1)[1].rstrip("?")
    return "unsure" if i == "0" else "P-" + i

def test_direct():
    result = ragprobe.check_reverse(answer, FACTS, max_drop=0.1)
    print("SETTINGS", result.settings["confidence"], result.settings["seed"], result.n, result.calls)
    assert result.verdict == "inconclusive"
    result.assert_ok()
"""
    )
    fresh = "--ragprobe-cache=answers"  # not used by direct calls: every run calls the pipeline
    plain = pytester.runpytest("-s", fresh)
    plain.assert_outcomes(passed=1)
    plain.stdout.fnmatch_lines(["*SETTINGS 0.95 0 6 12*"])
    opts = pytester.runpytest(
        "-s", fresh, "--ragprobe-confidence=0.9", "--ragprobe-seed=7", "--ragprobe-samples=4"
    )
    opts.assert_outcomes(passed=1)
    opts.stdout.fnmatch_lines(["*SETTINGS 0.9 7 4 8*"])
    strict = pytester.runpytest(fresh, "--ragprobe-strict")
    strict.assert_outcomes(failed=1)
    strict.stdout.fnmatch_lines(["*ProbeFailed*INCONCLUSIVE*"])
    budget = pytester.runpytest("-s", fresh, "--ragprobe-budget=5")
    budget.assert_outcomes(passed=1)
    budget.stdout.fnmatch_lines(["*SETTINGS 0.95 0 * 5*"])
    assert not (pytester.path / "answers").exists()


BASELINE_CONFTEST = WRONG_REVERSE_CONFTEST

BASELINE_TEST = """
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(100)]
@ragprobe.reverse(facts=FACTS, max_drop=0.3)
def test_rev():
    pass
"""


def test_baseline_regression_fails_even_when_max_drop_passes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest(BASELINE_CONFTEST)
    pytester.makepyfile(test_rev=BASELINE_TEST)
    monkeypatch.setenv("REVERSE_WRONG", "5")  # reverse accuracy 0.95
    first = pytester.runpytest("--ragprobe-save-baseline=base.json", "--ragprobe-no-cache")
    first.assert_outcomes(passed=1)
    same = pytester.runpytest("--ragprobe-baseline=base.json", "--ragprobe-no-cache")
    same.assert_outcomes(passed=1)
    monkeypatch.setenv("REVERSE_WRONG", "25")  # reverse accuracy 0.75: drop 0.25 still within max_drop 0.3
    worse = pytester.runpytest(
        "--ragprobe-baseline=base.json", "--ragprobe-no-cache", "--ragprobe-report=rep"
    )
    worse.assert_outcomes(failed=1)
    worse.stdout.fnmatch_lines(["*ragprobe baseline REGRESSION*reverse accuracy 0.95 -> 0.75*"])
    # The regression is in the summary, every report file and `ragprobe show`, not only in pytest's exit.
    worse.stdout.fnmatch_lines(
        [
            "INCONCLUSIVE (regressed) test_rev.py::test_rev [[]reverse] * - baseline REGRESSION*0.95 -> 0.75*",
            "ragprobe: 1 probe: 1 baseline regression -> FAIL",
        ]
    )
    data = json.loads((pytester.path / "rep" / "report.json").read_text())
    assert data["summary"] == {"pass": 0, "fail": 0, "inconclusive": 0, "error": 0, "regression": 1}
    probe = data["probes"][0]
    assert (probe["verdict"], probe["baseline"]) == ("inconclusive", "regression")
    assert "reverse accuracy 0.95 -> 0.75" in probe["baseline_message"]
    md = (pytester.path / "rep" / "report.md").read_text()
    assert "## ❌ pytest-ragprobe: FAIL" in md and "**1 probe**: 📉 1 baseline regression" in md
    html = (pytester.path / "rep" / "report.html").read_text()
    assert 'data-outcome="regression"' in html and "reverse accuracy 0.95 -&gt; 0.75" in html
    show = pytester.run(sys.executable, "-m", "pytest_ragprobe.cli", "show", "rep")
    assert show.ret == 1
    show.stdout.fnmatch_lines(["ragprobe: *: 1 probe: 1 baseline regression -> FAIL"])


def test_a_regression_behind_a_failing_test_body_is_still_named(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body's own failure wins in pytest, but the baseline comparison was skipped with it: the reports
    said "PASS (test failed)" and never named the regression behind it."""
    pytester.makeconftest(BASELINE_CONFTEST)
    pytester.makepyfile(test_rev=BASELINE_TEST.replace("    pass", "    assert 0, 'body'"))
    monkeypatch.setenv("REVERSE_WRONG", "5")
    pytester.runpytest("--ragprobe-save-baseline=base.json", "--ragprobe-no-cache").assert_outcomes(
        failed=1
    )
    monkeypatch.setenv("REVERSE_WRONG", "25")
    worse = pytester.runpytest(
        "--ragprobe-baseline=base.json", "--ragprobe-no-cache", "--ragprobe-report=rep", "--junitxml=j.xml"
    )
    worse.assert_outcomes(failed=1)
    worse.stdout.fnmatch_lines(["*AssertionError: body*", "ragprobe: 1 probe: 1 baseline regression -> FAIL"])
    probe = json.loads((pytester.path / "rep" / "report.json").read_text())["probes"][0]
    assert (probe["baseline"], probe["test_outcome"]) == ("regression", "failed")
    assert "reverse accuracy 0.95 -> 0.75" in probe["baseline_message"]
    assert 'name="ragprobe_verdict" value="inconclusive"' in (pytester.path / "j.xml").read_text()


def test_baseline_with_changed_settings_is_reported_not_compared(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(BASELINE_CONFTEST)
    pytester.makepyfile(test_rev=BASELINE_TEST)
    pytester.runpytest("--ragprobe-save-baseline=base.json").assert_outcomes(passed=1)
    result = pytester.runpytest("--ragprobe-baseline=base.json", "--ragprobe-samples=50")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*baseline not compared, probe settings changed: n_planned: 100 -> 50*"])
    missing = pytester.runpytest("--ragprobe-baseline=nope.json")
    missing.stderr.fnmatch_lines(["*--ragprobe-baseline: file not found:*nope.json*"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"hello": 1}', "*--ragprobe-baseline: *bad.json is not a ragprobe report (schema_version 1)"),
        ("{not json", "*--ragprobe-baseline: *bad.json is not readable JSON: *"),
        (
            '{"schema_version": 1, "probes": [{"nodeid": "t", "kind": "sideways"}]}',
            "*--ragprobe-baseline: *bad.json: probes[[]0[]] is not a ragprobe probe (kind: Input should be*",
        ),
    ],
)
def test_a_bad_baseline_file_is_one_usage_error(pytester: pytest.Pytester, content: str, message: str) -> None:
    pytester.makeconftest(BASELINE_CONFTEST)
    pytester.makepyfile(test_rev=BASELINE_TEST)
    (pytester.path / "bad.json").write_text(content)
    result = pytester.runpytest("--ragprobe-baseline=bad.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_help_lists_every_option_in_one_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["pytest-ragprobe: RAG reversal and lost-in-the-middle probes:"])
    text = result.stdout.str()
    for option in (
        "--ragprobe-report",
        "--ragprobe-pipeline",
        "--ragprobe-concurrency",
        "--ragprobe-timeout",
        "--ragprobe-retries",
        "--ragprobe-cache",
        "--ragprobe-no-cache",
        "--ragprobe-seed",
        "--ragprobe-samples",
        "--ragprobe-confidence",
        "--ragprobe-baseline",
        "--ragprobe-strict",
        "--ragprobe-budget",
    ):
        assert option in text, option


def test_disabled_with_p_no_ragprobe(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest
@pytest.mark.ragprobe_reverse(facts="synthetic:3")
def test_x(request):
    assert "ragprobe_result" not in request.fixturenames
"""
    )
    pytester.runpytest("-p", "no:ragprobe").assert_outcomes(passed=1)
    result = pytester.runpytest("-p", "no:ragprobe", "--ragprobe-report")
    result.stderr.fnmatch_lines(["*unrecognized arguments: --ragprobe-report*"])


def test_sequential_stopping_saves_calls_on_a_clear_failure(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.format(reverse_ok=False))
    pytester.makepyfile(
        test_rev="""
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(100)]
@ragprobe.reverse(facts=FACTS, max_drop=0.1, sequential=True)
def test_seq():
    pass
@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_fixed():
    pass
"""
    )
    result = pytester.runpytest("--ragprobe-report=r", "--ragprobe-no-cache")
    result.assert_outcomes(failed=2)
    probes = {
        p["nodeid"].split("::")[1]: p
        for p in json.loads((pytester.path / "r/report.json").read_text())["probes"]
    }
    assert probes["test_fixed"]["calls"] == 200
    assert probes["test_seq"]["calls"] == 26  # decided at the first of 8 looks (13 of 100 facts)
    assert any("sequential stopping: decided after 13 of 100 facts" in n for n in probes["test_seq"]["notes"])
    assert (probes["test_seq"]["stopped_early"], probes["test_fixed"]["stopped_early"]) == (True, False)
    result.stdout.fnmatch_lines(["FAIL * [[]reverse] * (n=13 of 100, stopped early, 26 calls)"])
    result.stdout.fnmatch_lines(["FAIL *::test_fixed [[]reverse] * (n=100, 200 calls)"])


def test_reruns_notice_under_warnings_as_errors_fails_the_test_not_the_session(
    pytester: pytest.Pytester,
) -> None:
    # Was: the notice was a warning raised during collection: INTERNALERROR under -W error, no test ran.
    pytest.importorskip("pytest_rerunfailures")
    pytester.makeconftest(CONFTEST.format(reverse_ok=True))
    pytester.makepyfile(test_rev=TEST)
    result = pytester.runpytest("--reruns=1", "-W", "error::pytest_ragprobe.RagprobeWarning")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*RagprobeWarning: pytest-ragprobe: reruns disabled for 1 probe test(s)*"])
    assert "INTERNALERROR" not in result.stdout.str()


ADDING_HOOK = """
{decorator}
def pytest_collection_modifyitems(items):
    for item in items:
        if item.name == "test_added":
            item.add_marker(ragprobe.reverse(facts=FACTS, max_drop=0.1, n=7))
"""
ADDED_TESTS = """
def test_added(ragprobe_result):
    assert ragprobe_result.n == 7

def test_plain():
    pass
"""
ADDED_PROBE_FAILS = "*ragprobe reverse probe FAIL: forward 1.00, reverse 0.00*(max_drop 0.10, n=7)*"


def test_probe_marks_added_by_a_conftest_hook_count(pytester: pytest.Pytester) -> None:
    # Was: marks added in a conftest's pytest_collection_modifyitems were ignored (no probe ran, the test
    # passed; ragprobe_result said the test was not marked; -m ragprobe did not select it).
    pytester.makeconftest(CONFTEST.format(reverse_ok=False) + ADDING_HOOK.format(decorator=""))
    pytester.makepyfile(test_dyn=ADDED_TESTS)
    result = pytester.runpytest("-m", "ragprobe")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines([ADDED_PROBE_FAILS])


def test_probe_marks_added_by_a_trylast_hook_count(pytester: pytest.Pytester) -> None:
    # Was: a mark added by a hook that runs after ragprobe's own pytest_collection_modifyitems (trylast)
    # was never read: the test passed without a probe and the plan did not count it.
    pytester.makeconftest(
        CONFTEST.format(reverse_ok=False) + ADDING_HOOK.format(decorator="@pytest.hookimpl(trylast=True)")
    )
    pytester.makepyfile(test_dyn=ADDED_TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["ragprobe plan: 1 probe, up to 14 pipeline calls*", ADDED_PROBE_FAILS])


def test_reruns_are_disabled_for_probes(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_rerunfailures")
    pytester.makeconftest(CONFTEST.format(reverse_ok=False))
    pytester.makepyfile(test_rev=TEST)
    result = pytester.runpytest("--reruns=3")
    result.assert_outcomes(failed=1, warnings=1)
    assert "rerun" not in result.parseoutcomes()
    result.stdout.fnmatch_lines(["*reruns disabled for 1 probe test(s)*"])


@pytest.mark.parametrize(("select", "said"), [(["-k", "test_catalog"], "1 probe test(s)"), ([], "2 probe")])
def test_the_reruns_notice_counts_the_selected_probes(
    pytester: pytest.Pytester, select: list[str], said: str
) -> None:
    # Was: "reruns disabled for 2 probe test(s)" with -k selecting one (deselected probes were counted)
    pytest.importorskip("pytest_rerunfailures")
    pytester.makeconftest(CONFTEST.format(reverse_ok=True))
    pytester.makepyfile(test_rev=TEST + "\n\n@ragprobe.reverse(facts=FACTS, n=2)\ndef test_other():\n    pass\n")
    result = pytester.runpytest("--reruns=1", *select)
    result.stdout.fnmatch_lines([f"*reruns disabled for {said}*"])
    assert result.ret == 0
    none = pytester.runpytest("--reruns=1", "-k", "not test_catalog and not test_other")
    assert "reruns disabled" not in none.stdout.str()  # no probe selected: nothing to say


@pytest.mark.parametrize(
    "method_mark",
    [
        "@ragprobe.reverse(facts=FACTS, n=1)",
        "@pytest.mark.ragprobe_reverse(facts=FACTS, n=1)",
        # None is not given (the raw spelling refused match=None; a None max_drop hid the class's)
        "@pytest.mark.ragprobe_reverse(facts=FACTS, n=1, max_drop=None, match=None)",
        "@ragprobe.reverse(facts=FACTS, n=1, max_drop=None, match=None)",
    ],
    ids=["sugar", "raw", "raw-none", "sugar-none"],
)
def test_class_mark_arguments_survive_a_closer_mark(pytester: pytest.Pytester, method_mark: str) -> None:
    # The closer mark sets n only: max_drop and match come from the class, whichever spelling is used.
    pytester.makepyfile(
        test_rev=f"""
import pytest
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject="P-1", relation="compatible_with", object="C-1")]

@ragprobe.reverse(facts=FACTS, max_drop=0.5, match="exact")
class TestCatalog:
    {method_mark}
    def test_rev(self):
        pass
"""
    )
    from pytest_ragprobe.markers import ReverseSpec
    from pytest_ragprobe.session import SPEC_KEY

    items, _ = pytester.inline_genitems()
    spec = items[0].stash[SPEC_KEY]
    assert isinstance(spec, ReverseSpec)
    assert (spec.max_drop, spec.match, spec.n) == (0.5, "exact", 1)


def test_reruns_are_disabled_for_a_probe_with_its_own_flaky_mark(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_rerunfailures")
    pytester.makeconftest(CONFTEST.format(reverse_ok=False))
    pytester.makepyfile(
        test_rev="""
import pytest
import pytest_ragprobe as ragprobe
from conftest import FACTS

@pytest.mark.flaky(reruns=3)
@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_catalog():
    pass
"""
    )
    result = pytester.runpytest("--ragprobe-no-cache")
    result.assert_outcomes(failed=1, warnings=1)
    assert "rerun" not in result.parseoutcomes()
    assert "RERUN" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*reruns disabled for 1 probe test(s) (rerunfailures is active)*"])


@pytest.mark.parametrize(
    "args", [["--force-reruns=2"], ["--reruns=2", "--reruns-mode=append"]], ids=["force", "append"]
)
def test_reruns_stay_off_for_probes_under_force_and_append_modes(
    pytester: pytest.Pytester, args: list[str]
) -> None:
    """--force-reruns ignores marks and --reruns-mode=append adds the global count to the mark's:
    the probe still runs once, while an ordinary failing test beside it is rerun as asked."""
    pytest.importorskip("pytest_rerunfailures")
    pytester.makeconftest(CONFTEST.format(reverse_ok=False))
    pytester.makepyfile(
        test_rev="""
import pytest_ragprobe as ragprobe
from conftest import FACTS

@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_catalog():
    pass

def test_plain():
    assert False
"""
    )
    result = pytester.runpytest("--ragprobe-no-cache", *args)
    outcomes = result.parseoutcomes()
    assert (outcomes["failed"], outcomes["rerun"], outcomes["warnings"]) == (2, 2, 1)
    result.stdout.fnmatch_lines(["*reruns disabled for 1 probe test(s)*"])
    assert "test_rev.py::test_catalog RERUN" not in result.stdout.str()
    verbose = pytester.runpytest("--ragprobe-no-cache", "-v", *args)
    assert [line for line in verbose.outlines if "RERUN" in line and "test_catalog" in line] == []


def test_error_result_in_the_report_keeps_the_call_counts(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(RAISING_CONFTEST)
    pytester.makepyfile(
        test_rev="""
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(20)]
@ragprobe.reverse(facts=FACTS)
def test_rev():
    pass
"""
    )
    result = pytester.runpytest("--ragprobe-report=r", "--ragprobe-no-cache")
    result.assert_outcomes(errors=1)
    (probe,) = json.loads((pytester.path / "r/report.json").read_text())["probes"]
    assert probe["verdict"] == "error"
    # fail-fast stops after the first calls all failed alike: only the calls sent are counted
    sent = probe["calls"]
    assert 5 <= sent < 40 and (probe["cached_calls"], probe["errors"]) == (0, sent)
    assert probe["reason"].startswith(f"{sent} of {sent} pipeline calls failed")
    assert probe["reason"].endswith(f"; {40 - sent} more not attempted (fail-fast: the first 5 calls all failed this way)")


def test_match_callable_returning_non_bool_is_an_error_naming_match(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.format(reverse_ok=True))
    pytester.makepyfile(
        test_rev="""
import pytest_ragprobe as ragprobe
from conftest import FACTS

def fuzzy(answer, golds):
    return 0.9   # a score, not a bool

@ragprobe.reverse(facts=FACTS[:3], match=fuzzy)
def test_rev():
    pass
"""
    )
    result = pytester.runpytest("--ragprobe-report=r", "--ragprobe-no-cache")
    result.assert_outcomes(errors=1)
    assert (
        "pytest-ragprobe: match=test_rev.fuzzy failed on fact '1', forward question "
        "'Which controller is compatible with pump P-1?': the match callable returned float 0.9, "
        "expected bool (answer 'Controller C-1', accepted answers ['C-1'])"
    ) in result.stdout.str()
    assert "the pipeline raised" not in result.stdout.str()
    (probe,) = json.loads((pytester.path / "r/report.json").read_text())["probes"]
    assert probe["verdict"] == "error" and probe["reason"].startswith("match=test_rev.fuzzy failed")


def test_invalid_regex_gold_is_an_error_naming_match(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.format(reverse_ok=True))
    pytester.makepyfile(
        test_rev="""
import pytest_ragprobe as ragprobe

FACTS = [
    ragprobe.Fact(
        id="pump-7",
        forward={"question": "Which controller is compatible with pump P-7?", "answer": "C-(7"},
        reverse={"question": "Which pump is compatible with controller C-7?", "answer": "P-7"},
    )
]

@ragprobe.reverse(facts=FACTS, match="regex")
def test_rev():
    pass
"""
    )
    result = pytester.runpytest("--ragprobe-no-cache")
    result.assert_outcomes(errors=1)
    # found before any call is made (it was met at scoring, once every call had been paid for)
    assert (
        "pytest-ragprobe: match='regex': accepted answer 'C-(7' of fact 'pump-7', forward question "
        "'Which controller is compatible with pump P-7?' is not a valid regular expression (missing ), "
        "unterminated subpattern at position 2)"
    ) in result.stdout.str()
    assert "(n=0, 0 calls)" in result.stdout.str()
    assert "the pipeline raised" not in result.stdout.str()


def test_pipeline_on_the_command_line_beats_a_conftest_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        mypipes=MYPIPES
        + """
LOADS = []

class Good:
    def __init__(self):
        LOADS.append(1)

    def __call__(self, question):
        return good(question)
""",
        test_rev="""
import pytest
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(20)]

@pytest.fixture
def ragprobe_pipeline():   # a module fixture, closer than conftest: still overridden by the option
    return lambda question: "module fixture"

@ragprobe.reverse(facts=FACTS)
def test_rev(ragprobe_result, ragprobe_pipeline):
    assert ragprobe_result.forward.accuracy == 1.0
    assert ragprobe_pipeline("Which controller is compatible with pump P-3?") == "C-3"

@ragprobe.reverse(facts=FACTS[:5])
def test_rev_again(ragprobe_result):
    import mypipes
    assert len(mypipes.LOADS) == 1   # loaded once per process, not per test
""",
    )
    pytester.makeconftest(
        """
import pytest
@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return lambda question: "conftest fixture"
"""
    )
    pytester.makeini("[pytest]\nragprobe_pipeline = mypipes:Good\n")
    pytester.syspathinsert()
    # the ini value does not beat a fixture the project defines ...
    assert pytester.runpytest("-p", "no:xdist").ret == pytest.ExitCode.TESTS_FAILED
    # ... the command line does
    pytester.runpytest("-p", "no:xdist", "--ragprobe-pipeline=mypipes:Good").assert_outcomes(passed=2)
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-pipeline=mypipes:missing")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*module 'mypipes' has no attribute 'missing'*"])


def test_tolerated_pipeline_errors_are_shown_not_silent(pytester: pytest.Pytester) -> None:
    """Calls that fail below --ragprobe-max-error-rate leave the statistics but are named: in the
    summary line and as a warning at the test."""
    pytester.makeconftest(
        """
import pytest
@pytest.fixture
def ragprobe_pipeline():
    def answer(question):
        if question.endswith("C-3?") or question.endswith("P-7?"):
            raise ValueError("index shard offline")
        if "controller is compatible with pump" in question:
            return "C-" + question.rsplit("P-", 1)[1].rstrip("?")
        return "P-" + question.rsplit("C-", 1)[1].rstrip("?")
    return answer
"""
    )
    pytester.makepyfile(
        """
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(40)]
@ragprobe.reverse(facts=FACTS, max_drop=0.5)
def test_rev():
    pass
"""
    )
    result = pytester.runpytest("--ragprobe-retries=0", "--ragprobe-no-cache")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*silent.py:3: RagprobeWarning: *::test_rev: 2 of 80 pipeline calls failed (not retried: --ragprobe-retries=0) "
            "and were left out of the statistics (n=38); most common cause: ValueError at conftest.py:6 (2x), "
            "first: ValueError: index shard offline",
            "PASS * [[]reverse] fwd 1.00 rev 1.00 drop +0.00 (n=38, 80 calls, 2 failed)",
        ]
    )


def test_an_empty_retrieval_is_a_retrieval_miss(pytester: pytest.Pytester) -> None:
    """A retriever keyed by the subject finds nothing for reverse questions: every reverse miss is a
    retrieval miss (the pipeline reported its documents: none), not 'unknown'."""
    pytester.makeconftest(
        """
import pytest
import pytest_ragprobe as ragprobe

PAGES = {f"P-{i}": f"Pump P-{i} is compatible with controller C-{i}." for i in range(10)}

def retrieve(query, k):
    return [PAGES[w.rstrip("?")] for w in query.split() if w.rstrip("?") in PAGES]

def generate(question, documents):
    if not documents:
        return "I don't know"
    return documents[0].text.rsplit(" ", 1)[1].rstrip(".")

@pytest.fixture
def ragprobe_pipeline():
    return ragprobe.Pipeline(retrieve=retrieve, generate=generate, name="keyed")
"""
    )
    pytester.makepyfile(
        """
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(10)]
@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_rev():
    pass
"""
    )
    result = pytester.runpytest("--ragprobe-report=r", "--ragprobe-no-cache")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*reverse misses: 10 retrieval (gold not retrieved), 0 reading*"])
    probe = json.loads((pytester.path / "r" / "report.json").read_text())["probes"][0]
    assert probe["metrics"]["forward_accuracy"] == 1.0 and probe["metrics"]["reverse_accuracy"] == 0.0
    assert probe["metrics"]["reverse_misses"] == {"retrieval": 10, "reading": 0, "unknown": 0}
    # the answer cache keeps "reported, but empty" apart from "not reported"
    cached = pytester.runpytest("--ragprobe-report=r2")
    cached2 = pytester.runpytest("--ragprobe-report=r2")
    assert cached.ret == cached2.ret == 1
    again = json.loads((pytester.path / "r2" / "report.json").read_text())["probes"][0]
    assert again["cached_calls"] == 20 and again["metrics"]["reverse_misses"]["retrieval"] == 10


# The probe's figures in the JUnit XML (with and without -n 2): test_asymmetric_pipeline_fails_with_both_accuracies,
# whose run of the same project writes it.


def test_a_cache_that_cannot_store_answers_is_said_once(pytester: pytest.Pytester) -> None:
    # `put` gives up quietly on its first failed write: without a word, every run called the
    # pipeline again and nobody knew why the cache never hit.
    pytester.makeconftest(CONFTEST.format(reverse_ok=True))
    pytester.makepyfile(test_rev=TEST)
    pytester.path.joinpath("cachefile").write_text("not a directory\n", encoding="utf-8")
    result = pytester.runpytest("--ragprobe-cache=cachefile")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "ragprobe: the answer cache cannot store answers (*cachefile is not a directory): answers "
            "already in it are used, new ones are not kept, so the next run calls the pipeline again; "
            "point --ragprobe-cache at a writable directory"
        ]
    )
    result = pytester.runpytest("--ragprobe-cache=fresh/cache")  # not there yet: created on first write
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*cannot store answers*")
    assert any(pytester.path.joinpath("fresh", "cache").rglob("*.json"))
