"""The terminal, report.md and report.html give the same figures: a drop's bounds with the same digits (a
bound near max_drop gets the digits that tell them apart), and a position verdict's discordant pairs."""

from __future__ import annotations

from factories import position_probe, report, reverse_probe, text_of

from pytest_ragprobe.html import render_html
from pytest_ragprobe.render import explain
from pytest_ragprobe.reporting import render_markdown


def test_the_terminal_explanation_of_a_position_verdict_names_its_discordant_pairs() -> None:
    """The reverse explanation said "(15 forward-only vs 1 reverse-only)"; the position one only the p-value."""
    text = explain(position_probe())
    assert "Holm-adjusted McNemar p = 0.0123 (23 right at edge 9 only vs 2 right at position 4 only)" in text
    # as report.md says it
    assert "(23 right at edge 9 only vs 2 right at position 4 only)" in render_markdown(report(position_probe()))


def test_a_position_explanation_without_discordant_counts_says_none() -> None:
    """An older report (no "discordant" in its metrics): the line ends at the p-value."""
    probe = position_probe()
    del probe.metrics["discordant"]
    line = next(x for x in explain(probe).splitlines() if "Holm-adjusted McNemar" in x)
    assert line.strip() == "Holm-adjusted McNemar p = 0.0123"


def test_html_prints_the_drop_bounds_with_the_digits_of_report_md_and_the_terminal() -> None:
    """A lower bound of 0.147 beside max_drop 0.15 read "+0.15" in report.html ("[+0.15, ...] vs max_drop
    0.15" for a probe that is not a FAIL), "+0.147" in report.md and the terminal."""
    probe = reverse_probe("t.py::test_near", "inconclusive", drop=0.2)
    probe.metrics.update({"drop_ci": [0.147, 0.251], "max_drop": 0.15})
    shown = "[+0.147, +0.25]"
    assert shown in explain(probe)
    assert shown in render_markdown(report(probe))
    html = text_of(render_html(report(probe)))
    assert shown in html
    assert "[+0.15, +0.25]" not in html
