"""Follow-ups of the reviews: what report.md and report.html say of a baseline compared in part, of a
strict run (how it was strict), and the baseline line's count of probes compared in part."""

from __future__ import annotations

import html as htmllib

from factories import report, reverse_probe, text_of

from pytest_ragprobe.html import render_html
from pytest_ragprobe.reporting import md_text, render_markdown

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


BY_INI = "ragprobe_strict in pytest.ini"


def test_report_md_and_html_say_how_a_strict_run_was_strict() -> None:
    """An INCONCLUSIVE probe of a run made strict by the ini: the reports said "--ragprobe-strict", which
    the run was never given; the HTML settings listed "strict by" as a raw row of its own."""
    rep = report(reverse_probe("t.py::test_a", "inconclusive", drop=0.2), strict=True, strict_by=BY_INI)
    md = render_markdown(rep)
    assert f"**Test outcome:** {md_text(f'failed ({BY_INI}: INCONCLUSIVE fails)')}" in md
    assert "--ragprobe-strict" not in md
    html = htmllib.unescape(text_of(render_html(rep)))
    assert f"Test outcome: failed ({BY_INI}: INCONCLUSIVE fails)" in html
    assert f"strict on ({BY_INI})" in html
    assert "strict by" not in html and "--ragprobe-strict" not in html


def test_the_html_settings_of_a_run_that_was_not_strict_say_off() -> None:
    html = text_of(render_html(report(reverse_probe("t.py::test_a"), strict=False)))
    assert "strict off" in html and "strict by" not in html


CHANGED = "baseline not compared, probe settings changed: n: 30 -> 40"


def test_a_baseline_not_compared_is_a_note_not_the_cause_of_a_fail() -> None:
    """A FAIL (its verdict failed the test) whose baseline was not compared: "Test outcome: failed (baseline
    not compared ...)" read as if the baseline had failed it."""
    from pytest_ragprobe.render import explain, summary_line

    for verdict in ("fail", "pass"):
        probe = reverse_probe("t.py::test_a", verdict, drop=0.4, baseline="changed", baseline_message=CHANGED)
        rep = report(probe, baseline="base.json")
        md = render_markdown(rep)
        assert f"> {md_text(CHANGED)}" in md
        html = htmllib.unescape(text_of(render_html(rep)))
        assert CHANGED in html
        assert "Test outcome" not in md and "Test outcome" not in html
        assert f"({md_text(CHANGED)}" not in md and f"({CHANGED}" not in html
        text = explain(probe)
        assert f"note: {CHANGED}" in text and "test outcome" not in text
        # the terminal's line still ends with it, after " - " (a note there too)
        assert summary_line(probe).endswith(f" - {CHANGED}")
