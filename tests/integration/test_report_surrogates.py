"""A pipeline answer (or an error message, a question from a JSON file with a "\\udcff" escape) that holds a
lone surrogate, e.g. bytes decoded with errors="surrogateescape": such a string cannot be written as UTF-8.

Was: with --ragprobe-report, pytest's INTERNALERROR (pydantic could not serialise report.json) and the report
left as the empty one written at the start; under pytest-xdist, INTERNALERROR from the worker (execnet could
not send the result) and the test's outcome lost. Now the surrogate is written as its escape, "\\udce9"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ragprobe.reporting import write_reports
from pytest_ragprobe.results import ProbeResult, Report, load_report

CONFTEST = r"""
import pytest
import pytest_ragprobe as ragprobe

PUMPS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(3)]

def answer(question):
    if "compatible with pump" in question:
        return "Controller " + question.rstrip("?").rsplit(" ", 1)[1].replace("P-", "C-")
    return b"caf\xe9 \xff".decode("utf-8", "surrogateescape")

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
"""

TESTS = """
import pytest_ragprobe as ragprobe
from conftest import PUMPS

@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_pumps(ragprobe_result):
    pass
"""


def test_an_answer_with_lone_surrogates_is_reported(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_catalog=TESTS)
    rp = pytester.path / "rp"
    result = pytester.runpytest_subprocess(
        *plugin_args, "--ragprobe-no-cache", f"--ragprobe-report={rp}", "-p", "no:randomly"
    )
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=1)
    text = (rp / "report.json").read_text(encoding="utf-8")
    report = load_report(rp / "report.json")
    assert not report.partial and [p.nodeid for p in report.probes] == ["test_catalog.py::test_pumps"]
    assert {e["answer"] for e in report.probes[0].examples if e.get("direction") == "reverse"} == {
        "caf\\udce9 \\udcff"
    }
    assert json.loads(text) == report.model_dump(mode="json")
    assert "caf\\\\udce9 \\\\udcff" in (rp / "report.md").read_text(encoding="utf-8")  # (\\ escaped)
    assert "caf\\udce9 \\udcff" in (rp / "report.html").read_text(encoding="utf-8")


def test_write_reports_escapes_lone_surrogates_everywhere(tmp_path: Path) -> None:
    probe = ProbeResult(
        nodeid="t.py::test_x[\ud800]",
        kind="reverse",
        verdict="error",
        reason="RuntimeError: bad \udcff byte",
        examples=[{"question": "q \ud83d?", "answer": ["a \udc80", 1.5], "correct": False}],
        metrics={"note": {"k\udcff": "v"}},
    )
    path = write_reports(tmp_path, Report(probes=[probe]))
    back = load_report(path).probes[0]
    assert back.nodeid == "t.py::test_x[\\ud800]"
    assert back.reason == "RuntimeError: bad \\udcff byte"
    assert back.examples == [{"question": "q \\ud83d?", "answer": ["a \\udc80", 1.5], "correct": False}]
    assert back.metrics == {"note": {"k\\udcff": "v"}}
    assert "bad \\\\udcff byte" in (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "bad \\udcff byte" in (tmp_path / "report.html").read_text(encoding="utf-8")
    # a valid pair (an emoji written as its two surrogates by a JSON file) is kept as the character
    pair = ProbeResult(nodeid="t.py::test_y", kind="reverse", verdict="error", reason="ok \ud83d\ude00 \udcff")
    path = write_reports(tmp_path, Report(probes=[pair]))
    assert load_report(path).probes[0].reason == "ok \U0001f600 \\udcff"


def test_with_the_answer_cache_on_a_warm_run_reads_the_same_answers(pytester: pytest.Pytester) -> None:
    """The answer cache (on by default) could not write such an answer: the probe was an ERROR, "'utf-8'
    codec can't encode character '\\udce9' ... surrogates not allowed"."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_catalog=TESTS)
    for calls in ("6 calls", "0 calls, 6 cached"):  # cold, then warm from the cache
        result = pytester.runpytest("-p", "no:xdist", "--ragprobe-report=rp", "-p", "no:randomly")
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines([f"*test_catalog.py::test_pumps*(n=3, {calls})"])
        report = load_report(pytester.path / "rp" / "report.json")
        answers = {e["answer"] for e in report.probes[0].examples if e.get("direction") == "reverse"}
        assert answers == {"caf\\udce9 \\udcff"}
