"""Follow-ups of the reviews: what report.md and report.html say of a baseline compared in part, of a
strict run (how it was strict), and the baseline line's count of probes compared in part."""

from __future__ import annotations

import html as htmllib

from factories import report, reverse_probe, text_of

from pytest_ragprobe.html import render_html
from pytest_ragprobe.reporting import render_markdown

IN_PART = "baseline compared in part; drop not compared: the baseline's drop, nan, is not a number"


def test_a_baseline_compared_in_part_is_said_in_report_md_and_html_as_a_note() -> None:
    probe = reverse_probe("t.py::test_a", baseline="ok", baseline_message=IN_PART)
    rep = report(
        probe,
        baseline="base.json",
        baseline_coverage={"compared": 1, "not_compared": 0, "new": 0, "not_run": []},
    )
    md = render_markdown(rep)
    assert f"> {IN_PART}" in md
    html = htmllib.unescape(text_of(render_html(rep)))
    assert IN_PART in html
    # a note, not the test's outcome (which stays "passed", said nowhere for a plain PASS)
    assert "Test outcome" not in html and "Test outcome" not in md


def test_a_fully_compared_probe_has_no_baseline_note() -> None:
    probe = reverse_probe("t.py::test_a", baseline="ok")
    md = render_markdown(report(probe))
    assert "compared in part" not in md and "compared in part" not in render_html(report(probe))


def test_the_baseline_lines_of_report_md_and_html_count_probes_compared_in_part() -> None:
    coverage = {"compared": 2, "not_compared": 0, "new": 0, "not_run": []}
    probes = [
        reverse_probe("t.py::test_a", baseline="ok", baseline_message=IN_PART),
        reverse_probe("t.py::test_b", baseline="ok"),
    ]
    rep = report(*probes, baseline="base.json", baseline_coverage=coverage)
    assert ": 2 of 2 probes compared (1 in part)" in render_markdown(rep)
    assert "compared 2 (1 in part), not compared 0" in text_of(render_html(rep))
    whole = report(probes[1], baseline="base.json", baseline_coverage={**coverage, "compared": 1})
    assert "in part" not in render_markdown(whole) and "in part" not in render_html(whole)
