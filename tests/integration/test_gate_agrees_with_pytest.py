"""The reports gate as pytest did: a probe's ERROR stays an ERROR on a rerun, a setup failure after a passing
probe is recorded, xfail(run=False) is not an error, and --ragprobe-save-baseline takes a directory."""

from __future__ import annotations

import json
import sys

import pytest
from factories import WRONG_REVERSE_CONFTEST

# A pipeline with a bug: every call raises (a TypeError is never retried), so the probe is an ERROR.
BROKEN_CONFTEST = """
import pytest

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    def answer(question):
        raise TypeError("index out of sync")
    return answer
"""

# 100 pump -> controller facts (WRONG_REVERSE_CONFTEST answers 95 of the reverse questions: a PASS at 0.2)
FACTS = """
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(100)]
"""

PROBE_TEST = FACTS + """
@ragprobe.reverse(facts=FACTS, max_drop=0.2)
def test_catalog():
    pass
"""


def _probes(pytester: pytest.Pytester, directory: str = "rep") -> dict[str, dict[str, object]]:
    data = json.loads((pytester.path / directory / "report.json").read_text())
    return {p["nodeid"].split("::")[1]: p for p in data["probes"]}


def _show(pytester: pytest.Pytester, directory: str = "rep") -> int:
    return pytester.run(sys.executable, "-m", "pytest_ragprobe.cli", "show", directory).ret


def test_ini_reruns_do_not_rerun_an_erroring_probe(pytester: pytest.Pytester) -> None:
    # Was: only --reruns on the command line was seen; `reruns = 1` in the ini file reran the probe test, whose
    # second setup returned the stored ERROR result as a value: "1 passed, 1 rerun", pytest exit 0.
    pytest.importorskip("pytest_rerunfailures")
    pytester.makeconftest(BROKEN_CONFTEST)
    pytester.makeini("[pytest]\nreruns = 1\n")
    pytester.makepyfile(test_broken=PROBE_TEST)
    result = pytester.runpytest("--ragprobe-report=rep")
    result.assert_outcomes(errors=1)  # (the reruns notice is said at a probe's call: this one never got there)
    assert "rerun" not in result.parseoutcomes()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert _probes(pytester)["test_catalog"]["verdict"] == "error"


# A rerun plugin ragprobe does not know: it runs the whole protocol twice and logs only the second attempt.
RERUN_TWICE = """
import pytest
from _pytest.runner import runtestprotocol

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    runtestprotocol(item, nextitem=nextitem, log=False)
    runtestprotocol(item, nextitem=nextitem, log=True)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True
"""


def test_a_probe_error_stays_an_error_when_its_setup_runs_again(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(BROKEN_CONFTEST + RERUN_TWICE)
    pytester.makepyfile(test_broken=PROBE_TEST)
    result = pytester.runpytest("--ragprobe-report=rep")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*pytest-ragprobe: the pipeline raised TypeError on *: index out of sync*"])
    assert _probes(pytester)["test_catalog"]["verdict"] == "error"


def test_a_fixture_failing_after_a_passing_probe_fails_the_reports_too(pytester: pytest.Pytester) -> None:
    # Was: the probe (autouse, set up first) passed, a later fixture raised: pytest showed an error, but the
    # terminal line, report.json and `ragprobe show` said PASS, so a gate reading the report passed the run.
    pytester.makeconftest(WRONG_REVERSE_CONFTEST)
    pytester.makepyfile(
        test_late=FACTS
        + """
import pytest

@pytest.fixture
def database():
    raise RuntimeError("database is down")

@ragprobe.reverse(facts=FACTS, max_drop=0.2)
def test_catalog(ragprobe_result, database):
    pass
"""
    )
    result = pytester.runpytest("--ragprobe-report=rep")
    result.assert_outcomes(errors=1)
    probe = _probes(pytester)["test_catalog"]
    assert probe["verdict"] == "pass"  # the statistical verdict stays what the answers show
    assert (probe["test_outcome"], probe["test_message"]) == (
        "failed",
        "in setup: RuntimeError: database is down",
    )
    result.stdout.fnmatch_lines(["ragprobe: 1 probe: 1 test failed after the probe -> FAIL"])
    assert _show(pytester) == 1


def test_xfail_run_false_is_not_run_not_an_error(pytester: pytest.Pytester) -> None:
    # Was: recorded as an ERROR "setup failed, the probe did not run: [NOTRUN] ..."; it is not run, as a skip.
    pytester.makeconftest(WRONG_REVERSE_CONFTEST)
    pytester.makepyfile(
        test_nr=FACTS
        + """
import pytest

@pytest.mark.xfail(run=False, reason="reader not deployed yet")
@ragprobe.reverse(facts=FACTS, max_drop=0.2)
def test_later():
    pass

@ragprobe.reverse(facts=FACTS, max_drop=0.2)
def test_now():
    pass
"""
    )
    result = pytester.runpytest("--ragprobe-report=rep")
    result.assert_outcomes(passed=1, xfailed=1)
    assert list(_probes(pytester)) == ["test_now"]
    assert _show(pytester) == 0


def test_save_baseline_to_a_directory_writes_its_report_json(pytester: pytest.Pytester) -> None:
    # Was: --ragprobe-baseline=DIR read DIR/report.json, but --ragprobe-save-baseline=DIR tried to write DIR
    # itself: "could not write the baseline ...: [Errno 21] Is a directory".
    pytester.makeconftest(WRONG_REVERSE_CONFTEST)
    pytester.makepyfile(test_base=PROBE_TEST)
    (pytester.path / "base").mkdir()
    first = pytester.runpytest("--ragprobe-save-baseline=base")
    first.assert_outcomes(passed=1)
    assert "could not write" not in first.stdout.str()
    saved = json.loads((pytester.path / "base" / "report.json").read_text())
    assert [p["verdict"] for p in saved["probes"]] == ["pass"]
    again = pytester.runpytest("--ragprobe-baseline=base", "--ragprobe-save-baseline=base")
    again.assert_outcomes(passed=1)
    assert "could not write" not in again.stdout.str()


def test_an_error_probe_carries_its_junit_properties(pytester: pytest.Pytester) -> None:
    # Was: an ERROR testcase had an <error> but no ragprobe_* properties: a dashboard reading them missed it.
    from xml.etree import ElementTree

    pytester.makeconftest(BROKEN_CONFTEST)
    pytester.makepyfile(test_broken=PROBE_TEST)
    pytester.runpytest("--junitxml=j.xml").assert_outcomes(errors=1)
    case = ElementTree.parse(pytester.path / "j.xml").getroot().find(".//testcase")
    assert case is not None and case.find("error") is not None
    names = [p.get("name") for p in case.iter("property")]
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["ragprobe_kind"] == "reverse" and props["ragprobe_verdict"] == "error"
    assert names.count("ragprobe_verdict") == 1


def test_an_inconclusive_warning_made_an_error_reads_as_a_failure(pytester: pytest.Pytester) -> None:
    # Was: -W error::pytest_ragprobe.RagprobeInconclusiveWarning (README) printed ~45 lines of this plugin's
    # pytest_runtest_call source above the warning, and the probe's explanation again below it.
    pytester.makeconftest(WRONG_REVERSE_CONFTEST)
    pytester.makepyfile(test_few=PROBE_TEST.replace("max_drop=0.2)", "max_drop=0.2, n=10)"))
    result = pytester.runpytest("-W", "error::pytest_ragprobe.RagprobeInconclusiveWarning", "--ragprobe-report=rep")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "RagprobeInconclusiveWarning: test_few.py::test_catalog: ragprobe reverse probe INCONCLUSIVE*",
            "(a warning, made an error by -W error / filterwarnings)",
        ]
    )
    out = result.stdout.str()
    assert "def pytest_runtest_call" not in out and "plugin.py" not in out
    assert "ragprobe: the probe behind this test" not in out and "During handling" not in out
    # the reports fail the run as pytest did (an INCONCLUSIVE verdict alone passes the gate)
    result.stdout.fnmatch_lines(["ragprobe: 1 probe: 1 test failed after the probe -> FAIL"])
    assert _probes(pytester)["test_catalog"]["test_outcome"] == "failed"
    assert _show(pytester) == 1


@pytest.mark.parametrize(
    ("where", "hint"),
    [("--ragprobe-pipeline=toyrag.ToyRag", "--ragprobe-pipeline='toyrag.ToyRag'"), ("ini", "ini ragprobe_pipeline=")],
)
def test_a_malformed_pipeline_spec_is_a_usage_error(pytester: pytest.Pytester, where: str, hint: str) -> None:
    # Was: the run started (plan line and all), then every probe test failed with the same error block.
    pytester.makepyfile(test_p=PROBE_TEST)
    args = [where] if where != "ini" else []
    if where == "ini":
        pytester.makeini("[pytest]\nragprobe_pipeline = toyrag.ToyRag\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{hint}*expected 'package.module:attribute'*(did you mean 'toyrag:ToyRag'?)"])
    assert "ragprobe plan" not in result.stdout.str()


def test_a_probe_cut_by_the_budget_does_not_ask_for_more_facts(pytester: pytest.Pytester) -> None:
    # Was: "n=5 of 100, budget exhausted" and a note "these are all the facts given: add more to decide it",
    # while 96 of the facts had never been answered: the budget, not the data, is what ran out.
    pytester.makeconftest(WRONG_REVERSE_CONFTEST)
    pytester.makepyfile(test_cut=PROBE_TEST)
    result = pytester.runpytest("--ragprobe-budget=10", "--ragprobe-report=rep")
    result.assert_outcomes(passed=1, warnings=1)
    probe = _probes(pytester)["test_catalog"]
    n = probe["n"]  # (10 calls over 4 in flight: 4 or 5 facts answered both ways)
    assert probe["verdict"] == "inconclusive" and isinstance(n, int) and 0 < n <= 5
    assert str(probe["reason"]).startswith(f"pipeline call budget exhausted: {n} of 100 facts answered both ways")
    notes = " ".join(probe["notes"])
    assert "add more to decide it" not in notes and "about " in notes
