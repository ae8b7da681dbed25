"""report.md / report.html headline of a partial report: the final write (and `ragprobe show --format
markdown`, `ragprobe merge`) says FAIL (partial run), as `ragprobe show` does; a write made while the run
goes on (``running=True``) keeps the verdict so far."""

from __future__ import annotations

from typing import Any

from pytest_ragprobe.html import render_html
from pytest_ragprobe.reporting import render_markdown
from pytest_ragprobe.results import ProbeResult, Report


def report(*verdicts: str, partial: bool = True, **settings: Any) -> Report:
    probes = [
        ProbeResult(nodeid=f"t.py::test_{i}", kind="reverse", verdict=v, n=30, calls=60)  # type: ignore[arg-type]
        for i, v in enumerate(verdicts)
    ]
    r = Report(partial=partial, seed=1, confidence=0.95, settings=dict(settings), probes=probes)
    r.summary = r.counts()
    return r


def headline_html(html: str) -> str:
    return html.split('<p class="verdict">', 1)[1].split("</p>", 1)[0]


def test_final_partial_reports_do_not_headline_a_pass() -> None:
    for r in (report("pass"), report("pass", "inconclusive"), report()):
        assert render_markdown(r).startswith("## ❌ pytest-ragprobe: FAIL (partial run)\n")
        html = render_html(r)
        assert headline_html(html) == "FAIL (partial run)"
        assert '<div class="banner v-fail"' in html
        assert "<title>FAIL (partial run) · " in html


def test_reports_written_mid_run_keep_the_verdict_so_far() -> None:
    assert render_markdown(report("pass"), running=True).startswith("## ✅ pytest-ragprobe: PASS\n")
    assert headline_html(render_html(report("pass"), running=True)) == "PASS"
    assert render_markdown(report(), running=True).startswith("## ➖ pytest-ragprobe: NO PROBES\n")


def test_a_verdict_that_fails_anyway_keeps_its_word() -> None:
    assert render_markdown(report("pass", "fail")).startswith("## ❌ pytest-ragprobe: FAIL\n")
    assert render_markdown(report("error")).startswith("## 💥 pytest-ragprobe: ERROR\n")
    strict = report("inconclusive", strict=True)
    assert render_markdown(strict).startswith("## ❌ pytest-ragprobe: FAIL (strict: inconclusive fails)\n")
    # a complete run is untouched
    assert render_markdown(report("pass", partial=False)).startswith("## ✅ pytest-ragprobe: PASS\n")
