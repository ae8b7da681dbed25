"""Probes of xfail-marked tests: the xfail fields, how they count for the run, and every place that shows them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from factories import reverse_probe as probe

from pytest_ragprobe.cli import main, summary_text
from pytest_ragprobe.html import render_html
from pytest_ragprobe.render import explain, outcome_note, summary_line
from pytest_ragprobe.reporting import counts_text, gate_failed, overall_verdict, probe_anchor, render_markdown
from pytest_ragprobe.results import ProbeResult, Report, load_report
from pytest_ragprobe.session import xfail_fields

REASON = "demonstrates the <reversal> weakness"


def xfailed(nodeid: str = "t.py::test_weak", verdict: str = "fail") -> ProbeResult:
    return probe(nodeid, verdict, drop=0.6, expected_failure=True, xfail_reason=REASON)


def xpassed(nodeid: str = "t.py::test_fixed", *, strict: bool = False) -> ProbeResult:
    return probe(nodeid, unexpected_pass=True, xpass_strict=strict, xfail_reason="maybe fixed")


def report(*probes: ProbeResult) -> Report:
    r = Report(seed=7, created="2025-01-02T03:04:05+00:00", probes=list(probes))
    r.summary = r.counts()
    return r


def text_of(html: str) -> str:
    body = re.sub(r"<style>.*?</style>", " ", html, flags=re.S).replace("<wbr>", "")  # a break, no space
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


# -- the fields, from pytest's reports --------------------------------------------------------------------
def _report(outcome: str, **attrs: Any) -> pytest.TestReport:
    longrepr = attrs.pop("longrepr", None)
    rep = pytest.TestReport("t.py::test_x", ("t.py", 1, "test_x"), {}, outcome, longrepr, "call")  # type: ignore[arg-type]
    for key, value in attrs.items():
        setattr(rep, key, value)
    return rep


def test_xfail_fields_from_test_reports() -> None:
    assert xfail_fields(_report("skipped", wasxfail=REASON)) == {
        "expected_failure": True,
        "xfail_reason": REASON,
    }
    assert xfail_fields(_report("passed", wasxfail="maybe fixed")) == {
        "unexpected_pass": True,
        "xfail_reason": "maybe fixed",
    }
    assert xfail_fields(_report("failed", longrepr="[XPASS(strict)] should fail")) == {
        "unexpected_pass": True,
        "xpass_strict": True,
        "xfail_reason": "should fail",
    }
    assert xfail_fields(_report("failed", longrepr="[XPASS(strict)] ")) == {
        "unexpected_pass": True,
        "xpass_strict": True,
        "xfail_reason": "",
    }
    assert xfail_fields(_report("failed", longrepr="AssertionError")) == {}
    assert xfail_fields(_report("passed")) == {}
    assert xfail_fields(_report("skipped")) == {}  # a plain skip is not an xfail


def test_defaults_keep_old_reports_and_probes_unchanged() -> None:
    p = probe("t.py::test_a", "fail")
    assert not (p.expected_failure or p.unexpected_pass or p.xpass_strict or p.xfail_reason)
    assert p.outcome == "fail"
    old = p.model_dump(mode="json")
    for key in ("expected_failure", "unexpected_pass", "xpass_strict", "xfail_reason"):
        del old[key]
    assert ProbeResult.model_validate(old) == p  # a report.json written before the fields existed
    assert report(p).counts() == {"pass": 0, "fail": 1, "inconclusive": 0, "error": 0}


# -- counting and the run's verdict ----------------------------------------------------------------------
def test_expected_failures_are_counted_apart_and_do_not_fail_the_run() -> None:
    r = report(probe("t.py::test_a"), probe("t.py::test_b"), xfailed("t.py::test_c"), xfailed("t.py::test_d"))
    assert r.summary == {"pass": 2, "fail": 0, "inconclusive": 0, "error": 0, "xfail": 2}
    assert [p.verdict for p in r.probes] == ["pass", "pass", "fail", "fail"]  # verdicts unchanged
    assert overall_verdict(r) == "pass"
    assert not gate_failed(r) and not gate_failed(r, strict=True)
    assert counts_text(r) == "4 probes: 2 pass, 2 expected failures (xfail)"
    assert summary_text(r, strict=False) == "4 probes: 2 pass, 2 expected failures (xfail) -> PASS"


def test_expected_error_and_inconclusive_count_as_expected() -> None:
    r = report(xfailed("t.py::test_e", "error"), xfailed("t.py::test_i", "inconclusive"))
    assert r.counts() == {"pass": 0, "fail": 0, "inconclusive": 0, "error": 0, "xfail": 2}
    assert overall_verdict(r) == "pass" and not gate_failed(r, strict=True)


def test_unexpected_passes() -> None:
    lenient = report(probe("t.py::test_a"), xpassed())
    assert lenient.counts() == {"pass": 1, "fail": 0, "inconclusive": 0, "error": 0, "xpass": 1}
    assert overall_verdict(lenient) == "pass" and not gate_failed(lenient)
    assert counts_text(lenient) == "2 probes: 1 pass, 1 unexpected pass (XPASS)"

    strict = report(probe("t.py::test_a"), xpassed(strict=True))
    assert strict.counts()["xpass_strict"] == 1
    assert overall_verdict(strict) == "fail" and gate_failed(strict)  # pytest failed that test
    assert summary_text(strict, strict=False) == (
        "2 probes: 1 pass, 1 unexpected pass (XPASS, strict: fails the run) -> FAIL"
    )


def test_plain_failures_still_fail_next_to_expected_ones() -> None:
    r = report(probe("t.py::test_a", "fail", drop=0.4), xfailed())
    assert overall_verdict(r) == "fail" and gate_failed(r)
    assert counts_text(r) == "2 probes: 1 fail, 1 expected failure (xfail)"


def test_ragprobe_strict_still_fails_plain_inconclusive() -> None:
    r = report(probe("t.py::test_a", "inconclusive"), xfailed())
    assert not gate_failed(r) and gate_failed(r, strict=True)
    assert summary_text(r, strict=True) == (
        "2 probes: 1 inconclusive, 1 expected failure (xfail) -> FAIL (strict: inconclusive fails)"
    )


# -- terminal --------------------------------------------------------------------------------------------
def test_terminal_lines() -> None:
    assert outcome_note(xfailed()) == f"expected, xfail: {REASON}"
    assert outcome_note(probe("t.py::test_a", "fail", expected_failure=True)) == "expected, xfail"
    assert outcome_note(xpassed()) == "unexpected, XPASS: maybe fixed"
    assert outcome_note(xpassed(strict=True)) == "unexpected, XPASS(strict): maybe fixed; pytest failed the test"
    assert outcome_note(probe("t.py::test_a", "fail")) == ""

    assert summary_line(xfailed()) == (
        "FAIL (xfail) t.py::test_weak [reverse] fwd 0.90 rev 0.30 drop +0.60 (n=20, 40 calls)"
        f" - expected, xfail: {REASON}"
    )
    assert summary_line(xpassed()).startswith("PASS (XPASS) t.py::test_fixed [reverse] fwd 0.90")
    assert summary_line(probe("t.py::test_a", "fail")).startswith("FAIL         t.py::test_a [reverse]")
    assert "  test outcome: xfailed (expected, xfail: " in explain(xfailed())
    assert "test outcome" not in explain(probe("t.py::test_a", "fail"))


# -- Markdown --------------------------------------------------------------------------------------------
def test_markdown_banner_rows_and_sections() -> None:
    md = render_markdown(report(probe("t.py::test_a"), xfailed(), xpassed()))
    lines = md.splitlines()
    assert lines[0] == "## ✅ pytest-ragprobe: PASS"
    assert lines[2].startswith(
        "**3 probes**: ✅ 1 pass · ✖️ 1 expected failure (xfail) · ❕ 1 unexpected pass (XPASS) — seed 7"
    )
    # the table's verdict is the short label, as in the terminal and the HTML; the why is in the section
    assert "| ✖️ | FAIL (xfail) | `t.py::test_weak` | reverse |" in md
    assert "| ❕ | PASS (XPASS) | `t.py::test_fixed` | reverse |" in md
    assert "| ✅ | PASS | `t.py::test_a` | reverse |" in md
    assert "### ✖️ FAIL (xfail): `t.py::test_weak`" in lines
    assert "**Test outcome:** xfailed (expected, xfail: demonstrates the &lt;reversal&gt; weakness)" in lines
    assert "### ✅ PASS: `t.py::test_a`" in lines

    failing = render_markdown(report(probe("t.py::test_a", "fail", drop=0.4), xfailed()))
    assert failing.startswith("## ❌ pytest-ragprobe: FAIL\n")
    assert "| ❌ | FAIL | `t.py::test_a` |" in failing


# -- HTML ------------------------------------------------------------------------------------------------
def test_html_banner_badges_and_sections() -> None:
    html = render_html(report(probe("t.py::test_a"), xfailed(), xpassed(strict=True)))
    assert '<div class="banner v-fail" role="status"' in html  # the strict XPASS fails the run
    assert "<title>FAIL · pytest-ragprobe report</title>" in html
    text = text_of(html)
    assert (
        "FAIL 3 probes 1 pass 0 fail 0 inconclusive 0 errors 1 expected failure (xfail) "
        "1 unexpected pass (XPASS, strict: fails the run)"
    ) in text
    assert "<script" not in html.split("<style>", 1)[0] and "&lt;reversal&gt;" in html
    assert (
        '<span class="badge v-xfail" title="xfailed (expected, xfail: demonstrates the &lt;reversal&gt; ' in html
    )
    assert '<span class="badge v-xpass_strict"' in html
    assert '<span class="badge v-pass">PASS</span></td>' in html
    weak = html.split(f'id="{probe_anchor("t.py::test_weak")}"', 1)[1].split("</section>", 1)[0]
    assert 'data-verdict="fail" data-outcome="xfail"' in weak
    assert "Test outcome: xfailed (expected, xfail: demonstrates the &lt;reversal&gt; weakness)" in text_of(weak)
    assert 'class="chart v-fail"' in weak  # the drop chart still shows the statistical FAIL


def test_html_only_expected_failures_pass() -> None:
    html = render_html(report(probe("t.py::test_a"), xfailed()))
    assert '<div class="banner v-pass" role="status"' in html
    assert "PASS 2 probes 1 pass 0 fail 0 inconclusive 0 errors 1 expected failure (xfail)" in text_of(html)


# -- ragprobe show / merge -------------------------------------------------------------------------------
def _write(tmp_path: Path, name: str, *probes: ProbeResult) -> Path:
    directory = tmp_path / name
    directory.mkdir()
    path = directory / "report.json"
    path.write_text(report(*probes).model_dump_json(indent=2), encoding="utf-8")
    return path


def test_show_and_merge_respect_expected_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _write(tmp_path, "a", probe("t.py::test_a"))
    b = _write(tmp_path, "b", xfailed())
    assert main(["show", str(b), "--explain"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL (xfail) t.py::test_weak")
    assert out[1].startswith("    ragprobe reverse probe FAIL:")
    assert out[2] == f"      test outcome: xfailed (expected, xfail: {REASON})"
    assert out[-1] == f"ragprobe: {b}: 1 probe: 1 expected failure (xfail) -> PASS"
    assert main(["show", str(b), "--strict"]) == 0

    assert main(["merge", str(tmp_path / "m"), str(a), str(b)]) == 0
    out_text = capsys.readouterr().out
    assert "2 probes: 1 pass, 1 expected failure (xfail) -> PASS;" in out_text
    merged = load_report(tmp_path / "m" / "report.json")
    assert [p.expected_failure for p in merged.probes] == [False, True]
    assert merged.summary == {"pass": 1, "fail": 0, "inconclusive": 0, "error": 0, "xfail": 1}

    c = _write(tmp_path, "c", xpassed(strict=True))
    assert main(["merge", str(tmp_path / "m2"), str(a), str(c)]) == 1
    capsys.readouterr()


def test_reports_written_under_strict_say_fail_like_the_terminal() -> None:
    probes = [probe("t.py::a"), probe("t.py::b", "inconclusive")]
    strict = Report(probes=probes, settings={"strict": True})
    lenient = Report(probes=probes, settings={"strict": False})
    assert render_markdown(strict).startswith("## ❌ pytest-ragprobe: FAIL (strict: inconclusive fails)")
    assert render_markdown(lenient).startswith("## ⚠️ pytest-ragprobe: INCONCLUSIVE\n")
    html = render_html(strict)
    assert '<div class="banner v-fail"' in html
    assert "<title>FAIL (strict: inconclusive fails) ·" in html
    assert '<div class="banner v-inconclusive"' in render_html(lenient)
    # a real FAIL stays a plain FAIL under strict
    failing = Report(probes=[*probes, probe("t.py::c", "fail", drop=0.5)], settings={"strict": True})
    assert render_markdown(failing).startswith("## ❌ pytest-ragprobe: FAIL\n")
