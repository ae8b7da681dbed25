"""User-reported cosmetic problems of the HTML and Markdown reports: p-value phrasing, the discordant
counts of position probes, readable run settings, and the layout fixes found by looking at a rendering."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from factories import report, reverse_probe, text_of

from pytest_ragprobe.html import Row, position_chart, render_html
from pytest_ragprobe.reporting import probe_anchor, render_markdown
from pytest_ragprobe.results import DirectionSummary, ProbeResult

NODE = "t.py::test_middle"
ANCHOR = probe_anchor("t.py::test_middle")


def position(
    discordant: dict[str, int] | None = None, accs: dict[int, float] | None = None, **metrics: Any
) -> ProbeResult:
    accs = accs or {0: 0.9, 4: 0.5, 9: 0.8}
    m: dict[str, Any] = {
        "drop": 0.4,
        "drop_ci": [0.2, 0.6],
        "p_value": 0.03,
        "best_edge": 0,
        "worst_position": 4,
        "shape": "u",
        "max_drop": 0.15,
        "confidence": 0.95,
    }
    if discordant is not None:
        m["discordant"] = discordant
    m.update(metrics)
    return ProbeResult(
        nodeid=NODE,
        kind="position",
        verdict="fail",
        n=40,
        calls=120,
        metrics=m,
        settings={"n_docs": 10},
        positions={
            p: DirectionSummary(accuracy=a, correct=round(a * 40), n=40, ci=(a - 0.1, a + 0.05))
            for p, a in accs.items()
        },
    )


def stats_line(html: str, anchor: str) -> str:
    section = html.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]
    return text_of(section.split('<p class="stats">', 1)[1].split("</p>", 1)[0])


def css_rule(html: str, selector: str) -> str:
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    match = re.search(r"(?:^|\n|\})\s*" + re.escape(selector) + r"\s*\{([^}]*)\}", style)
    assert match, selector
    return " ".join(match[1].split())


# -- 1. position probes: best edge vs worst, not forward vs reverse ---------------------------------------
def test_html_position_probe_names_its_own_discordant_pairs() -> None:
    html = render_html(report(position({"edge_only": 23, "worst_only": 2}), reverse_probe("t.py::test_rev")))
    line = stats_line(html, ANCHOR)
    assert line.endswith(
        "Holm-adjusted McNemar p = 0.03 (23 right at edge 0 only vs 2 right at position 4 only)"
    )
    assert "forward-only" not in line and "reverse-only" not in line
    # without the counts nothing follows the p-value; a reverse probe keeps its own pairs
    assert stats_line(render_html(report(position())), ANCHOR).endswith("Holm-adjusted McNemar p = 0.03")
    assert stats_line(html, probe_anchor("t.py::test_rev")).endswith(
        "exact McNemar p = 0.5 (2 forward-only vs 1 reverse-only)"
    )


def test_markdown_position_probe_names_its_discordant_pairs() -> None:
    md = render_markdown(report(position({"edge_only": 23, "worst_only": 2})))
    assert (
        "Holm-adjusted McNemar p = 0.03 (23 right at edge 0 only vs 2 right at position 4 only) · shape: u"
    ) in md
    assert "Holm-adjusted McNemar p = 0.03 · shape: u" in render_markdown(report(position()))


# -- 2. "p < 0.001", never "p = < 0.001" ---------------------------------------------------------------
def test_p_value_phrase() -> None:
    from pytest_ragprobe.reporting import p_text

    assert p_text(0.00012) == "p < 0.001"
    assert p_text(0.012) == "p = 0.012"
    assert p_text(None) == "p = –"


def test_small_p_values_read_p_less_than_everywhere() -> None:
    tiny_rev = reverse_probe("t.py::test_rev")
    tiny_rev.metrics["p_value"] = 0.00012
    rep = report(tiny_rev, position({"edge_only": 9, "worst_only": 0}, p_value=0.0004))
    text, md = text_of(render_html(rep)), render_markdown(rep)
    for out in (text, md):
        assert "p = <" not in out and "p = &lt;" not in out
    assert "exact McNemar p &lt; 0.001 (2 forward-only" in text
    assert "Holm-adjusted McNemar p &lt; 0.001 (9 right at edge" in text
    assert "exact McNemar p < 0.001 (2 forward-only" in md
    assert "Holm-adjusted McNemar p < 0.001 (9 right at edge" in md
    # larger ones keep "p = "
    rev = reverse_probe("t.py::test_rev")
    rev.metrics["p_value"] = 0.012
    assert "exact McNemar p = 0.012 (2 forward-only" in text_of(render_html(report(rev)))
    assert "exact McNemar p = 0.012 (2 forward-only" in render_markdown(report(rev))


# -- 3. run settings without Python reprs -----------------------------------------------------------------
def test_run_settings_are_not_python_reprs() -> None:
    rep = report(
        reverse_probe("t.py::test_rev"),
        pipeline="app.rag:answer",
        samples=None,
        budget=300,
        sequential=False,
        strict=True,
        markers=["smoke", "slow"],
        shards=[False, True, None],  # merged shards that disagreed keep every value
        baseline_coverage={"compared": 3, "not_compared": 0, "new": 5, "not_run": []},
    )
    text = text_of(render_html(rep))
    assert "pipeline app.rag:answer samples – budget 300 sequential off strict on markers smoke, slow" in text
    assert "shards off, on, –" in text
    assert "baseline coverage compared 3, not compared 0, new 5, not run –" in text
    settings = text.split("Probes in this run", 1)[0]
    for repr_ in ("False", "True", "None", "['", "[False", "{'"):
        assert repr_ not in settings


def test_run_settings_keep_naming_the_fixture_pipeline() -> None:
    probe = reverse_probe("t.py::test_rev", pipeline="app.rag.answer@3")
    text = text_of(render_html(report(probe, pipeline=None, strict=False)))
    assert "pipeline app.rag.answer@3 (ragprobe_pipeline fixture) strict off" in text


# -- 4. what the rendering showed ------------------------------------------------------------------------
def test_regression_and_strict_xpass_stand_out_as_failing() -> None:
    regressed = reverse_probe(
        "t.py::test_regressed",
        baseline="regression",
        baseline_message="ragprobe baseline REGRESSION vs the baseline run (PASS then): reverse accuracy "
        "0.95 -> 0.75 (one-sided p = 0.0001, Holm-adjusted)",
    )
    html = render_html(report(regressed, reverse_probe("t.py::test_ok")))
    assert '<tr class="v-regression">' in html and '<tr class="v-pass">' in html
    assert f'<p class="xfail outcome" id="{probe_anchor("t.py::test_regressed")}-xfail">' in html
    # the section, its outcome note and its table row take the failing colour
    assert "var(--v" in css_rule(html, "section.probe")
    assert "--v: var(--fail)" in css_rule(html, ".v-xpass_strict, .v-regression, .v-test_failed, .v-inconclusive_strict")
    assert "color: var(--v)" in css_rule(
        html, "tr.v-regression .xfail-note, tr.v-xpass_strict .xfail-note, tr.v-test_failed .xfail-note"
    )
    assert "border-left" in css_rule(html, "p.outcome")


def test_badges_do_not_wrap_and_long_names_do() -> None:
    html = render_html(report(reverse_probe("t.py::test_rev")))
    assert "white-space: nowrap" in css_rule(html, ".badge")
    assert "overflow-wrap: anywhere" in css_rule(html, "dl.settings dd, nav.toc code, code.pipeline")
    assert "overflow-x: auto" in css_rule(html, "nav.toc")


def _label_box(svg: str) -> tuple[float, float, float, float]:
    m = re.search(r'<text class="ref-label halo" x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)">([^<]*)<', svg)
    assert m, "no reference label"
    x, y, anchor, text = float(m[1]), float(m[2]), m[3], m[4]
    width = len(text) * 6.5
    x0 = {"end": x - width, "middle": x - width / 2, "start": x}[anchor]
    return x0, x0 + width, y - 11, y + 2


@pytest.mark.parametrize(
    ("accs", "worst", "by_the_line"),
    [
        # U-shaped curve whose right edge is above the reference line: the label used to be drawn at the
        # right end, across the last point and the line
        ({0: 0.9, 2: 0.62, 5: 0.48, 7: 0.58, 9: 0.86}, 5, True),
        # a zigzag that crosses the line near both ends and the middle: it fell back to the right end,
        # over the last point; now a clear spot along the line, else the top margin
        ({0: 0.95, 2: 0.47, 4: 0.82, 7: 0.55, 9: 0.88}, 2, False),
    ],
)
def test_position_reference_label_does_not_sit_on_the_curve(
    accs: dict[int, float], worst: int, by_the_line: bool
) -> None:
    probe = position(accs=accs, worst_position=worst)
    # the same geometry the report draws (position() gives every position the interval a - 0.1 .. a + 0.05)
    rows = [Row(str(p), a, round(a * 40), 40, (a - 0.1, a + 0.05)) for p, a in accs.items()]
    chart = position_chart(rows, n_docs=10, best_edge=0, worst=worst, max_drop=0.15)
    assert chart.ref_y is not None
    x0, x1, y0, y1 = _label_box(render_html(report(probe)))
    baseline = y1 - 2
    near = min(abs(baseline - (chart.ref_y - 7)), abs(baseline - (chart.ref_y + 17))) < 0.01
    assert near or (not by_the_line and baseline == chart.plot_top - 4)
    pts = [(p.x, p.y) for p in chart.points]
    assert not any(x0 - 4 <= px <= x1 + 4 and y0 - 4 <= py <= y1 + 4 for px, py in pts)
    for (ax, ay), (bx, by) in itertools.pairwise(pts):
        for i in range(int(max(ax, x0)), int(min(bx, x1)) + 1):
            y = ay + (i - ax) / (bx - ax) * (by - ay)
            assert not y0 <= y <= y1, f"the line crosses the label at x={i}"


def test_position_reference_label_stays_at_the_right_end_when_that_is_clear() -> None:
    rows = [Row("0", 0.9, 45, 50, (0.8, 0.95)), Row("9", 0.2, 10, 50, (0.1, 0.3))]
    chart = position_chart(rows, n_docs=10, best_edge=0, worst=9, max_drop=0.1)
    assert chart.ref_y is not None
    assert chart.ref_label_at == (chart.plot_right, chart.ref_y - 7, "end")


def test_markdown_says_which_baseline_gated_the_run_and_how_much() -> None:
    """report.md gave no sign a baseline was used; the terminal and the HTML named it."""
    coverage = {"compared": 1, "not_compared": 1, "new": 1, "not_run": ["t.py::test_gone"]}
    rep = report(
        reverse_probe("t.py::test_a"), reverse_probe("t.py::test_b"), reverse_probe("t.py::test_c"),
        baseline="baseline/report.json", baseline_coverage=coverage,
    )
    md = render_markdown(rep)
    assert (
        "**Baseline** `baseline/report.json`: 1 of 3 probes compared · 1 not compared (settings changed, or "
        "nothing to compare) · 1 not in it · 1 of its probes did not run"
    ) in md.splitlines()
    assert "**Baseline**" not in render_markdown(report(reverse_probe("t.py::test_a")))


def test_markdown_names_unknown_misses_only_when_there_are_some() -> None:
    probe = reverse_probe("t.py::test_a", verdict="fail", drop=0.4)
    probe.metrics["reverse_misses"] = {"retrieval": 3, "reading": 2, "unknown": 4}
    assert (
        "**Reverse misses:** 3 retrieval (gold not retrieved) · 2 reading (retrieved, answered wrong) · "
        "4 unknown (no documents reported)"
    ) in render_markdown(report(probe)).splitlines()
    probe.metrics["reverse_misses"]["unknown"] = 0
    assert "unknown" not in render_markdown(report(probe))
