"""HTML and Markdown rendering of a hand-built Report: exact content, both probe kinds, partial, escaping."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from pytest_ragprobe.html import (
    AXIS_CHAR_PX,
    BOLD_CHAR_PX,
    COMPACT,
    WIDE,
    Row,
    Tick,
    _thin_ticks,
    accuracy_bars,
    drop_chart,
    position_chart,
    render_html,
)
from pytest_ragprobe.reporting import (
    md_code,
    md_text,
    overall_verdict,
    probe_anchor,
    render_markdown,
    write_reports,
)
from pytest_ragprobe.results import DirectionSummary, ProbeResult, Report

EVIL = "<script>alert('x')</script>"


def reverse_probe(**overrides: Any) -> ProbeResult:
    data: dict[str, Any] = {
        "nodeid": "tests/test_catalog.py::test_both_ways",
        "kind": "reverse",
        "verdict": "fail",
        "n": 40,
        "calls": 80,
        "cached_calls": 10,
        "reason": "reverse accuracy dropped by 0.35 (lower bound 0.21) > max_drop 0.10",
        "metrics": {
            "forward_accuracy": 0.9,
            "reverse_accuracy": 0.55,
            "drop": 0.35,
            "drop_ci": [0.21, 0.49],
            "p_value": 0.00012,
            "forward_ci": [0.77, 0.96],
            "reverse_ci": [0.39, 0.70],
            "discordant": {"forward_only": 15, "reverse_only": 1},
            "reverse_misses": {"retrieval": 12, "reading": 6, "unknown": 0},
            "max_drop": 0.1,
            "confidence": 0.95,
        },
        "examples": [
            {
                "question": "Which pump is compatible with controller C-17?",
                "expected": ["P-200"],
                "answer": EVIL,
                "correct": False,
                "forward_answer": "C-17",
                "forward_correct": True,
                "miss": "retrieval",
                "error": None,
            },
            {
                "question": "Which pump works with controller C-9?",
                "expected": ["P-9", "P 9"],
                "answer": "P-9",
                "correct": True,
                "forward_answer": "C-9",
                "forward_correct": True,
                "miss": None,
                "error": None,
            },
            {
                "question": "Who is Mary Lee Pfeiffer's son?",
                "expected": ["Tom Cruise"],
                "answer": "I do not know | *really*",
                "correct": False,
                "forward_answer": "Mary Lee Pfeiffer",
                "forward_correct": True,
                "miss": "reading",
                "error": None,
            },
        ],
        "settings": {"facts": "fixtures/parts.yaml", "max_drop": 0.1, "match": "contains", "n_planned": 40},
        "forward": DirectionSummary(accuracy=0.9, correct=36, n=40, ci=(0.77, 0.96)),
        "reverse": DirectionSummary(accuracy=0.55, correct=22, n=40, ci=(0.39, 0.70)),
    }
    data.update(overrides)
    return ProbeResult(**data)


def position_probe(**overrides: Any) -> ProbeResult:
    accs = {0: 0.85, 4: 0.5, 9: 0.75}
    cis = {0: (0.70, 0.93), 4: (0.35, 0.65), 9: (0.60, 0.86)}
    data: dict[str, Any] = {
        "nodeid": "tests/test_qa.py::test_mid_context[10 docs]",
        "kind": "position",
        "verdict": "inconclusive",
        "n": 40,
        "calls": 120,
        "notes": ["about 60 more questions would likely decide this"],
        "metrics": {
            "accuracy_by_position": {str(k): v for k, v in accs.items()},
            "ci_by_position": {str(k): list(v) for k, v in cis.items()},
            "drop": 0.35,
            "drop_ci": [0.05, 0.6],
            "p_value": 0.03,
            "best_edge": 0,
            "worst_position": 4,
            "shape": "u",
            "max_drop": 0.15,
            "confidence": 0.95,
        },
        "positions": {
            k: DirectionSummary(accuracy=a, correct=round(a * 40), n=40, ci=cis[k]) for k, a in accs.items()
        },
        "examples": [
            {
                "question": "Where was the treaty signed?",
                "expected": ["Utrecht"],
                "answer": "<b>Paris</b> & more",
                "position": 4,
                "correct": False,
                "edge_correct": True,
            },
            {
                "question": "Who wrote it?",
                "expected": ["Jane"],
                "answer": "Jane",
                "position": 0,
                "correct": True,
                "edge_correct": True,
            },
        ],
        "settings": {"data": "fixtures/qa.jsonl", "n_docs": 10, "positions": [0, 4, 9], "max_drop": 0.15},
    }
    data.update(overrides)
    return ProbeResult(**data)


def error_probe() -> ProbeResult:
    return ProbeResult(
        nodeid="tests/test_qa.py::test_broken",
        kind="position",
        verdict="error",
        reason=f"the pipeline raised RuntimeError: {EVIL}",
    )


def sample_report(*, partial: bool = False) -> Report:
    report = Report(
        plugin_version="0.1.0",
        partial=partial,
        seed=1234,
        confidence=0.95,
        created="2025-01-02T03:04:05+00:00",
        settings={"pipeline": "app.rag:pipeline", "samples": None, "strict": False},
        probes=[reverse_probe(), position_probe(), error_probe()],
    )
    report.summary = report.counts()
    return report


def text_of(html: str) -> str:
    """Visible text, tags stripped, whitespace collapsed (entities kept)."""
    body = re.sub(r"<style>.*?</style>", " ", html, flags=re.S).replace("<wbr>", "")  # a break, no space
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


# -- HTML ------------------------------------------------------------------------------------------------
def test_html_banner_counts_and_settings() -> None:
    html = render_html(sample_report())
    assert html.startswith("<!doctype html>")
    assert '<div class="banner v-fail" role="status" aria-label="Overall verdict" id="verdict">' in html
    text = text_of(html)
    assert "FAIL 3 probes 1 pass" not in text
    assert "FAIL 3 probes 0 pass 1 fail 1 inconclusive 1 error" in text
    assert "seed 1234 confidence 95%" in text
    assert "pipeline app.rag:pipeline samples – strict off" in text
    assert "<title>FAIL · pytest-ragprobe report</title>" in html
    assert 'id="partial"' not in html


@pytest.mark.parametrize(
    ("created", "shown"),
    [
        ("2026-11-30T04:52:40.869789+00:00", "2026-11-30 04:52:40 UTC"),  # was shown as written
        ("2025-01-02T03:04:05+02:00", "2025-01-02 03:04:05 +02:00"),
        ("2025-01-02T03:04:05", "2025-01-02 03:04:05"),
        ("yesterday", "yesterday"),  # a hand-edited report: as given
    ],
)
def test_the_creation_time_reads_as_a_time_in_html_and_markdown(created: str, shown: str) -> None:
    report = sample_report()
    report.created = created
    html = render_html(report)
    assert f'<dd class="mono"><time datetime="{created}">{shown}</time></dd>' in html
    assert render_markdown(report).rstrip().endswith(f"<sub>pytest-ragprobe 0.1.0 · {shown}</sub>")


def test_html_run_settings_name_the_fixture_pipelines_when_no_option_named_one() -> None:
    report = sample_report()
    report.settings["pipeline"] = None
    assert "pipeline – samples" in text_of(render_html(report))  # the probes do not say either
    report.probes[0].pipeline = report.probes[1].pipeline = "app.rag.answer@3"
    assert "pipeline app.rag.answer@3 (ragprobe_pipeline fixture) samples" in text_of(render_html(report))
    report.probes[1].pipeline = "app.rag.answer@4"
    text = text_of(render_html(report))
    assert "pipeline 2 pipelines from the ragprobe_pipeline fixture (each probe names its own) samples" in text
    assert "· pipeline app.rag.answer@4" in text


def test_html_partial_warning() -> None:
    html = render_html(sample_report(partial=True))
    assert 'id="partial"' in html
    # final (the run has ended): not "still in progress"; which probes are missing is not known here
    assert (
        "Partial run: the run was interrupted or stopped early (-x / --maxfail) before every probe finished; "
        "probes are missing. ragprobe show / merge fail it (exit 1)." in text_of(html)
    )
    running = text_of(render_html(sample_report(partial=True), running=True))
    assert "Partial run: this report was written before the run finished" in running
    assert "As it stands, ragprobe show / merge fail it (exit 1)." in running


def test_html_is_self_contained() -> None:
    html = render_html(sample_report())
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html


def test_html_escapes_untrusted_strings() -> None:
    html = render_html(sample_report())
    assert EVIL not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html  # the answer and the error reason
    assert html.count("&lt;script&gt;") == 3  # the answer, the error reason and its overview cell
    assert "&lt;b&gt;Paris&lt;/b&gt; &amp; more" in html
    assert "<b>Paris</b>" not in html


def test_html_reverse_section() -> None:
    html = render_html(sample_report())
    section = html.split(f'id="{probe_anchor("tests/test_catalog.py::test_both_ways")}"', 1)[1].split("</section>", 1)[0]
    text = text_of(section)
    assert "FAIL tests/test_catalog.py::test_both_ways" in text
    assert "reverse probe · n = 40 · 80 pipeline calls (10 cached)" in text
    assert "Reason: reverse accuracy dropped by 0.35 (lower bound 0.21) &gt; max_drop 0.10" in text
    assert "forward 0.90 36/40 [0.77, 0.96]" in text
    assert "reverse 0.55 22/40 [0.39, 0.70]" in text
    assert (
        "reverse drop +0.35 , one-sided 95% bounds [+0.21, +0.49] vs max_drop 0.10 ; exact McNemar p &lt; 0.001"
        in text
    )
    assert "(15 forward-only vs 1 reverse-only)" in text
    assert "12 retrieval: gold not retrieved 6 reading: retrieved, answered wrong" in text
    assert "unknown: no documents" not in text
    assert 'data-chart="accuracy"' in section and 'data-chart="drop"' in section
    assert (
        'aria-label="Forward versus reverse accuracy: forward accuracy 0.90, interval [0.77, 0.96]; '
        in section
    )
    # worst examples: wrong reverse answers only, forward-right first
    assert "Worst examples (2 of 18 wrong reverse answers)" in text  # n = 40 at reverse accuracy 0.55: 18 wrong
    rows = re.findall(r"<tr><td class=\"text\" data-label=\"question\"><bdi>(.*?)</bdi></td>", section)
    assert rows == ["Which pump is compatible with controller C-17?", "Who is Mary Lee Pfeiffer&#39;s son?"]
    assert "P-9" not in section
    assert "<td data-label=\"miss\">retrieval</td>" in section and "<td data-label=\"miss\">reading</td>" in section


def test_a_dip_within_noise_is_not_highlighted() -> None:
    probe = position_probe()
    probe.metrics.update(shape="U-shaped", shape_within_noise=True, drop_ci=[-0.05, 0.6])
    report = Report(plugin_version="0.1.0", seed=1, confidence=0.95, created="2025-01-02T03:04:05+00:00",
                    probes=[probe])
    html = render_html(report)
    assert '<span class="shape" title="curve shape">U-shaped, within noise</span>' in html
    assert 'class="shape u"' not in html
    assert "· shape: U-shaped, within noise" in render_markdown(report)
    probe.metrics["shape_within_noise"] = False
    assert '<span class="shape u" title="curve shape">U-shaped</span>' in render_html(report)


def test_html_position_section() -> None:
    html = render_html(sample_report())
    anchor = probe_anchor("tests/test_qa.py::test_mid_context[10 docs]")
    assert f'href="#{anchor}"' in html
    section = html.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]
    text = text_of(section)
    assert "INCONCLUSIVE tests/test_qa.py::test_mid_context[10 docs]" in text
    assert "Accuracy by position U-shaped" in text
    assert "about 60 more questions would likely decide this" in text
    assert (
        "0 0.85 34/40 [0.70, 0.93] best edge 4 0.50 20/40 [0.35, 0.65] worst 9 0.75 30/40 [0.60, 0.86]"
        in text
    )
    assert (
        "drop (position 0 vs 4) +0.35 , one-sided 95% bounds [+0.05, +0.60] vs max_drop 0.15 ; "
        "Holm-adjusted McNemar p = 0.03"
        in text
    )
    assert "Where was the treaty signed? Utrecht &lt;b&gt;Paris&lt;/b&gt; &amp; more 4 yes" in text
    assert "Who wrote it?" not in text
    for variant in ("wide", "compact"):  # the chart is drawn twice, for screens and for phones
        svg = section.split(f'data-variant="{variant}"', 1)[1].split("</svg>", 1)[0]
        assert svg.count('class="pt"') == 2 and svg.count('class="pt pt-worst"') == 1
    assert "edge − max_drop = 0.70" in text
    assert 'role="img"' in section


def test_html_error_probe_has_reason_and_no_charts() -> None:
    html = render_html(sample_report())
    section = html.split(f'id="{probe_anchor("tests/test_qa.py::test_broken")}"', 1)[1].split("</section>", 1)[0]
    assert "Error:</strong> the pipeline raised RuntimeError: &lt;script&gt;" in section
    assert "<svg" not in section


def test_html_position_from_metrics_only() -> None:
    """A result that went through JSON without `positions` still charts from the metrics."""
    probe = position_probe(positions=None)
    html = render_html(Report(probes=[probe]))
    assert 'data-chart="position"' in html
    assert "4 0.50 – [0.35, 0.65] worst" in text_of(html)


def test_html_empty_report() -> None:
    html = render_html(Report())
    assert "NO PROBES" in html and "No ragprobe probes ran." in html


def test_html_passing_run_banner() -> None:
    probe = reverse_probe(verdict="pass", reason="")
    html = render_html(Report(probes=[probe]))
    assert 'class="banner v-pass"' in html
    assert "PASS 1 probe 1 pass 0 fail 0 inconclusive 0 errors" in text_of(html)


def test_position_chart_geometry() -> None:
    rows = [Row("0", 1.0, 10, 10, (0.7, 1.0)), Row("9", 0.0, 0, 10, (0.0, 0.3))]
    chart = position_chart(rows, n_docs=10, best_edge=0, worst=9, max_drop=0.25)
    assert [(p.x, p.y) for p in chart.points] == [(52.0, 16.0), (540.0, 228.0)]
    assert chart.points[1].worst and not chart.points[0].worst
    assert chart.ref_y == pytest.approx(16 + 0.25 * 212, abs=0.1)
    assert chart.band == "52.0,16.0 540.0,164.4 540.0,228.0 52.0,79.6"  # upper edge, then lower edge back


def test_drop_chart_places_threshold_and_interval() -> None:
    chart = drop_chart(0.35, (0.21, 0.49), 0.1, what="drop")
    assert chart.x_zero < chart.x_max_drop < chart.x_lo < chart.x_drop < chart.x_hi
    assert chart.exceeds
    assert "the whole interval is above max_drop" in chart.label
    one_sided = drop_chart(0.02, (-1.0, 0.08), 0.1, what="drop")
    assert one_sided.lo_clipped and not one_sided.exceeds
    assert one_sided.x_hi < one_sided.x_max_drop



# -- compact charts (phones) ---------------------------------------------------------------------------
def _label_span(x: float, text: str, anchor: str, char_px: float) -> tuple[float, float]:
    width = len(text) * char_px
    x0 = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return x0, x0 + width


def test_compact_accuracy_bars_keep_their_labels_inside() -> None:
    rows = [Row("forward", 1.0, 40, 40, (0.91, 1.0)), Row("reverse", 0.0, 0, 40, (0.0, 0.09))]
    wide, compact = accuracy_bars(rows), accuracy_bars(rows, width=COMPACT)
    assert (wide.width, wide.plot_left, wide.plot_right, wide.variant) == (WIDE, 84.0, 488.0, "wide")
    assert (compact.width, compact.variant) == (COMPACT, "compact")
    assert compact.height == wide.height and [r.y for r in compact.rows] == [r.y for r in wide.rows]
    # "forward" (12px, ~6.6 units a character) right-aligned at plot_left - 8, "1.00" at plot_right + 12:
    # both inside the 300 units
    assert _label_span(compact.plot_left - 8, "forward", "end", 7.0)[0] >= 0
    assert _label_span(compact.plot_right + 12, "1.00", "start", 7.0)[1] <= COMPACT
    assert compact.rows[0].x1 == compact.rows[0].hi == compact.plot_right
    assert compact.rows[1].x1 == compact.rows[1].x0 == compact.plot_left
    spans = [_label_span(t.pos, t.label, "middle", AXIS_CHAR_PX) for t in compact.ticks]
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))


@pytest.mark.parametrize(
    ("drop", "ci", "max_drop"),
    [(0.35, (0.21, 0.49), 0.1), (0.02, (-1.0, 0.08), 0.1), (-0.9, (-1.0, -0.8), 0.1), (0.05, (-0.1, 0.2), 0.5)],
)
def test_compact_drop_chart_ticks_and_threshold_label_fit(
    drop: float, ci: tuple[float, float], max_drop: float
) -> None:
    wide = drop_chart(drop, ci, max_drop, what="drop")
    chart = drop_chart(drop, ci, max_drop, what="drop", width=COMPACT)
    assert (chart.width, chart.variant, wide.variant) == (COMPACT, "compact", "wide")
    assert chart.label == wide.label and chart.exceeds == wide.exceeds
    assert 2 <= len(chart.ticks) <= 7  # at most 6 intervals on its 260-unit axis
    spans = [_label_span(t.pos, t.label, "middle", AXIS_CHAR_PX) for t in chart.ticks]
    assert spans[0][0] >= 0 and spans[-1][1] <= COMPACT
    assert all(a[1] + 4 <= b[0] for a, b in itertools.pairwise(spans))
    x, anchor = chart.max_drop_label_at
    x0, x1 = _label_span(x, chart.max_drop_label, anchor, BOLD_CHAR_PX)
    assert x0 >= 0 and x1 <= COMPACT
    assert (x == chart.x_max_drop + 5) if anchor == "start" else (x == chart.x_max_drop - 5)
    assert chart.x_zero < chart.x_max_drop and (chart.x_lo <= chart.x_drop <= chart.x_hi)


def test_the_max_drop_label_turns_left_only_where_it_would_run_off() -> None:
    room = drop_chart(0.05, (-0.1, 0.2), 0.3, what="drop", width=COMPACT)
    assert room.max_drop_label_at[1] == "start"  # 0.30 at 5/8 of the axis: still fits on the right
    near_end = drop_chart(0.05, (-0.1, 0.2), 0.5, what="drop", width=COMPACT)
    assert near_end.max_drop_label_at == (near_end.x_max_drop - 5, "end")  # at 7/10: 104 units do not
    crowded = drop_chart(-0.9, (-1.0, -0.8), 0.1, what="drop", width=COMPACT)
    assert crowded.max_drop_label_at == (crowded.x_max_drop - 5, "end")
    html = render_html(Report(probes=[reverse_probe(metrics={**reverse_probe().metrics, "drop": -0.9,
                                                             "drop_ci": [-1.0, -0.8]})]))
    assert f'<text class="ref-label halo" x="{crowded.x_max_drop - 5}" y="18.0" text-anchor="end">' in html
    # the wide chart of the sample report keeps its label right of the line, as before
    sample = drop_chart(0.35, (0.21, 0.49), 0.1, what="drop")
    assert sample.max_drop_label_at == (sample.x_max_drop + 5, "start")


def test_compact_position_chart_geometry() -> None:
    rows = [Row("0", 1.0, 10, 10, (0.7, 1.0)), Row("9", 0.0, 0, 10, (0.0, 0.3))]
    chart = position_chart(rows, n_docs=10, best_edge=0, worst=9, max_drop=0.25, width=COMPACT)
    assert (chart.width, chart.height, chart.variant) == (COMPACT, 240, "compact")
    assert [(p.x, p.y) for p in chart.points] == [(52.0, 16.0), (286.0, 188.0)]
    assert chart.ref_y == pytest.approx(16 + 0.25 * 172, abs=0.1)
    x, y, anchor = chart.ref_label_at
    x0, x1 = _label_span(x, chart.ref_label, anchor, BOLD_CHAR_PX)
    assert chart.plot_left <= x0 and x1 <= chart.plot_right and 12 <= y <= chart.plot_bottom
    wide = position_chart(rows, n_docs=10, best_edge=0, worst=9, max_drop=0.25)
    assert wide.variant == "wide" and chart.label == wide.label and chart.ref_label == wide.ref_label


def test_crowded_position_labels_are_thinned_on_the_compact_chart_only() -> None:
    rows = [Row(str(p), 0.5, 5, 10, (0.3, 0.7)) for p in range(20)]
    wide = position_chart(rows, n_docs=20, best_edge=0, worst=None, max_drop=0.1)
    compact = position_chart(rows, n_docs=20, best_edge=0, worst=None, max_drop=0.1, width=COMPACT)
    assert [t.label for t in wide.x_ticks] == [str(p) for p in range(20)]  # 25.7 units apart: all fit
    labels = [t.label for t in compact.x_ticks]
    assert labels[0] == "0" and labels[-1] == "19" and len(labels) < 20
    spans = [_label_span(t.pos, t.label, "middle", AXIS_CHAR_PX) for t in compact.x_ticks]
    assert all(a[1] + 4 <= b[0] for a, b in itertools.pairwise(spans))
    assert len(compact.points) == 20  # every position is still drawn, only its label is left out


def test_thin_ticks() -> None:
    ticks = [Tick(float(10 * i), str(10 * i)) for i in range(11)]  # "100" is 19.5 units wide
    kept = _thin_ticks(ticks)
    # every 2nd one leaves "80" and "100" too close; every 3rd, then "100" in place of "90" (too close to it)
    assert [t.label for t in kept] == ["0", "30", "60", "100"]
    assert kept[0] is ticks[0] and kept[-1] is ticks[-1]
    assert all(
        b.pos - len(b.label) * AXIS_CHAR_PX / 2 >= a.pos + len(a.label) * AXIS_CHAR_PX / 2 + 4
        for a, b in itertools.pairwise(kept)
    )
    roomy = [Tick(0.0, "0"), Tick(40.0, "4"), Tick(90.0, "9")]
    assert _thin_ticks(roomy) == roomy
    assert _thin_ticks([]) == [] and _thin_ticks(roomy[:1]) == roomy[:1]


def test_each_chart_is_drawn_wide_and_compact_and_the_stylesheet_shows_one() -> None:
    html = render_html(sample_report())
    for kind in ("accuracy", "drop", "position"):
        variants = re.findall(rf'data-chart="{kind}" data-variant="(\w+)"', html)
        assert variants and variants == ["wide", "compact"] * (len(variants) // 2)
    assert len(re.findall(r'viewBox="0 0 560 ', html)) == len(re.findall(r'viewBox="0 0 300 ', html))
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "svg.chart[data-variant=compact] { display: none; max-width: 400px; }" in style
    phone = style.split("@media (max-width: 40rem) {", 1)[1].split("\n}", 1)[0]
    assert "svg.chart[data-variant=wide] { display: none; }" in phone
    assert "svg.chart[data-variant=compact] { display: block; }" in phone
    printed = style.split("@media print {", 1)[1].split("\n}", 1)[0]
    assert "svg.chart[data-variant=wide] { display: block; }" in printed
    assert "svg.chart[data-variant=compact] { display: none; }" in printed

def test_overall_verdict_order() -> None:
    assert overall_verdict(Report()) == "empty"
    assert overall_verdict(Report(probes=[reverse_probe(verdict="pass")])) == "pass"
    assert overall_verdict(Report(probes=[reverse_probe(verdict="pass"), error_probe()])) == "error"
    assert overall_verdict(sample_report()) == "fail"


# -- Markdown --------------------------------------------------------------------------------------------
def test_markdown_summary_table() -> None:
    md = render_markdown(sample_report())
    lines = md.splitlines()
    assert lines[0] == "## ❌ pytest-ragprobe: FAIL"
    assert "**3 probes**: ❌ 1 fail · ⚠️ 1 inconclusive · 💥 1 error — seed 1234, confidence 95%" in lines
    assert (
        "| ❌ | FAIL | `tests/test_catalog.py::test_both_ways` | reverse | 40 | 80 + 10 cached | "
        "fwd 0.90 → rev 0.55, drop +0.35, bounds [+0.21, +0.49], max 0.10 |"
    ) in lines
    assert (
        "| ⚠️ | INCONCLUSIVE | `tests/test_qa.py::test_mid_context[10 docs]` | position | 40 | 120 | "
        "edge 0 vs pos 4, drop +0.35, bounds [+0.05, +0.60], max 0.15 |"
    ) in lines
    assert (
        "| 💥 | ERROR | `tests/test_qa.py::test_broken` | position | 0 | 0 | "
        "the pipeline raised RuntimeError: &lt;script&gt;alert('x')&lt;/script&gt; |"
    ) in lines
    assert "[!WARNING]" not in md


def test_markdown_probe_sections() -> None:
    md = render_markdown(sample_report())
    lines = md.splitlines()
    assert "### ❌ FAIL: `tests/test_catalog.py::test_both_ways`" in lines
    assert "| forward | 0.90 | 36/40 | [0.77, 0.96] |" in lines
    assert "| reverse | 0.55 | 22/40 | [0.39, 0.70] |" in lines
    assert (
        "**Drop** +0.35, one-sided 95% bounds [+0.21, +0.49] vs max\\_drop 0.10 · exact McNemar p < 0.001 "
        "(15 forward-only vs 1 reverse-only)"
    ) in lines
    assert (
        "**Reverse misses:** 12 retrieval (gold not retrieved) · 6 reading (retrieved, answered wrong)"
    ) in lines  # no "· 0 unknown": the terminal and the HTML say unknown misses only when there are some
    assert "<details><summary>Worst examples (2 of 18 wrong reverse answers)</summary>" in lines
    assert (
        "| Which pump is compatible with controller C-17? | P-200 | "
        "&lt;script&gt;alert('x')&lt;/script&gt; | right | retrieval |" in lines
    )
    assert (
        "| Who is Mary Lee Pfeiffer's son? | Tom Cruise | I do not know \\| \\*really\\* | right | reading |"
        in lines
    )
    assert "| 4 | 0.50 | 20/40 | [0.35, 0.65] | worst |" in lines
    assert "| 0 | 0.85 | 34/40 | [0.70, 0.93] | best edge |" in lines
    assert "> about 60 more questions would likely decide this" in lines
    assert (
        "| Where was the treaty signed? | Utrecht | &lt;b&gt;Paris&lt;/b&gt; &amp; more | 4 | yes |" in lines
    )
    assert EVIL not in md


def test_markdown_partial_alert() -> None:
    md = render_markdown(sample_report(partial=True))
    assert "> [!WARNING]\n> **Partial run**" in md
    # the gate's reading is said (a final report: no "as it stands")
    assert "; probes are missing. `ragprobe show` / `merge` fail it (exit 1)." in md


def test_md_escaping_helpers() -> None:
    assert md_text("a|b\nc [x](http://e) @team") == "a\\|b c \\[x\\](http://e) `@team`"
    assert md_text(None) == "–"
    assert md_text("x" * 500).endswith("…")
    assert md_code("t.py::test[a|b]") == "`t.py::test[a\\|b]`"
    assert md_code("a`b") == "``a`b``"


def test_write_reports_writes_three_files(tmp_path: Path) -> None:
    path = write_reports(tmp_path / "out", sample_report())
    assert path == tmp_path / "out" / "report.json"
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html", "report.json", "report.md"]
    again = Report.model_validate_json(path.read_text(encoding="utf-8"))
    assert again.probes[1].positions is not None and again.probes[1].positions[4].accuracy == 0.5
    assert render_html(again) == (path.parent / "report.html").read_text(encoding="utf-8")


def test_a_flat_curve_marks_no_worst_position() -> None:
    """Every position at 1.00 (a PASS, drop 0): position 4 still got the large red "worst" point."""
    flat = position_probe(verdict="pass", notes=[])
    flat.metrics.update(
        accuracy_by_position={"0": 1.0, "4": 1.0, "9": 1.0}, drop=0.0, drop_ci=[-0.08, 0.08], shape="flat"
    )
    flat.positions = {k: DirectionSummary(accuracy=1.0, correct=40, n=40, ci=(0.91, 1.0)) for k in (0, 4, 9)}
    one = sample_report()
    one.probes = [flat]
    html = render_html(one)
    assert 'class="pt pt-worst"' not in html and "large red point" not in html
    one.probes = [position_probe()]
    assert "large red point: worst position 4" in render_html(one)
