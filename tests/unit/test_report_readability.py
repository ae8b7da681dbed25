"""Reports a person can read at scale: report.md under GitHub's comment limit, terminal text that clips
long answers, a plain-words reason for INCONCLUSIVE, labelled bounds, early stopping, budget runs,
Markdown without visible escapes, failing probes first, narrow screens, no "-0.00"."""

from __future__ import annotations

import re
from typing import Any

from factories import report, reverse_probe, text_of

from pytest_ragprobe import render
from pytest_ragprobe.html import render_html
from pytest_ragprobe.render import explain
from pytest_ragprobe.reporting import md_code, md_text, probe_anchor, render_markdown
from pytest_ragprobe.results import DirectionSummary, ProbeResult, Report

GITHUB_COMMENT_LIMIT = 65_536
LONG_ANSWER = "The pump you are looking for is " + "really " * 1100 + "P-200."  # ~7.7 KB


def section_of(html: str, nodeid: str) -> str:
    return html.split(f'id="{probe_anchor(nodeid)}"', 1)[1].split("</section>", 1)[0]


def md_escaped(text: str) -> str:
    """What report.md makes of plain text here: ">" as an entity, "_", "[" and "]" escaped."""
    return text.replace(">", "&gt;").replace("_", "\\_").replace("[", "\\[").replace("]", "\\]")


def wrong_example(i: int, answer: str = "P-000") -> dict[str, Any]:
    return {
        "question": f"Which pump is compatible with controller C-{i}?",
        "expected": [f"P-{i}"],
        "answer": answer,
        "correct": False,
        "forward_correct": True,
        "miss": "retrieval",
        "error": None,
    }


def big_run(n: int) -> Report:
    """n probes like a parametrized suite: 40% FAIL, 30% INCONCLUSIVE, 30% PASS, each with examples."""
    probes = []
    for i in range(n):
        verdict = ("fail", "fail", "inconclusive", "pass", "fail", "inconclusive", "pass", "fail", "pass",
                   "inconclusive")[i % 10]
        p = reverse_probe(
            f"tests/test_catalog_many.py::test_rev_many[{i}-{verdict}]",
            verdict=verdict,
            drop=0.3 if verdict == "fail" else 0.05,
            reason="reverse accuracy dropped by 0.30 (lower bound 0.20) > max_drop 0.10" if verdict == "fail" else "",
            examples=[wrong_example(j) for j in range(12)],
            notes=["about 120 more facts would likely decide this"] if verdict == "inconclusive" else [],
        )
        p.metrics["reverse_misses"] = {"retrieval": 8, "reading": 7, "unknown": 0}
        probes.append(p)
    return report(*probes)


def inconclusive_position() -> ProbeResult:
    return ProbeResult(
        nodeid="t.py::test_mid",
        kind="position",
        verdict="inconclusive",
        n=40,
        calls=160,
        metrics={
            "drop": 0.3,
            "drop_ci": [0.05, 0.52],
            "p_value": 0.03,
            "best_edge": 0,
            "worst_position": 4,
            "max_drop": 0.1,
            "confidence": 0.95,
        },
        positions={
            0: DirectionSummary(accuracy=0.9, correct=36, n=40, ci=(0.77, 0.96)),
            4: DirectionSummary(accuracy=0.6, correct=24, n=40, ci=(0.45, 0.74)),
        },
        notes=["about 48 more questions would likely decide this"],
    )


INCONCLUSIVE_LINE = (
    "drop +0.30, but its one-sided 95% bounds [+0.05, +0.52] include max_drop 0.10: the data show neither "
    "PASS (upper bound ≤ 0.10) nor FAIL (lower bound > 0.10)"
)


# -- 1. report.md fits a PR comment ----------------------------------------------------------------------
def test_markdown_of_60_and_300_probes_fits_a_github_comment() -> None:
    for n in (60, 300):
        rep = big_run(n)
        md = render_markdown(rep)
        assert len(md) <= 50_000 and len(md.encode("utf-8")) < GITHUB_COMMENT_LIMIT, (n, len(md))
        # every probe that needs a look keeps its table row; the note says what was left out and where it is
        for p in rep.probes:
            if p.verdict != "pass":
                assert f"| `{p.nodeid}` |" in md
        assert "> [!NOTE]" in md and "passing (or expected) probes" in md
        assert "`report.html` and `report.json`" in md
        # no passing probe keeps its section
        assert "### ✅" not in md
    md60 = render_markdown(big_run(60))
    assert "### ❌ FAIL: `tests/test_catalog_many.py::test_rev_many[0-fail]`" in md60
    # the failing details win the room over passing rows: 34 of the 42 sections, 5 of the 18 passing rows
    assert md60.count("\n### ") == 34 and md60.count("| ✅ | PASS |") == 5
    assert md60.rstrip().endswith("</sub>")
    # a small run keeps every section, passing ones too, and says nothing was left out
    small = render_markdown(big_run(5))
    assert "[!NOTE]" not in small and small.count("\n### ") == 5


def test_markdown_hard_cap_cuts_rows_and_says_so() -> None:
    md = render_markdown(big_run(300), max_chars=8_000)
    assert len(md) <= 8_000
    assert re.search(r"\| \| … \| \d+ more probes: see report.html \| \| \| \| \|", md)
    assert "the last " in md and " rows of the table" in md
    # what is cut is passing first: the first row is a FAIL
    assert "\n| ❌ | FAIL | `tests/test_catalog_many.py::test_rev_many[0-fail]`" in md


# -- 2. terminal text clips long answers ------------------------------------------------------------------
def test_failure_text_clips_a_long_answer_and_says_its_length() -> None:
    p = reverse_probe("t.py::test_rev", verdict="fail", drop=0.3, examples=[wrong_example(1, LONG_ANSWER)])
    text = explain(p)
    assert len(text) < 2_000
    got = next(line for line in text.splitlines() if "got " in line)
    assert got.endswith(f"…' ({len(LONG_ANSWER):,} chars)")
    assert "got 'The pump you are looking for is really" in got
    assert len(got) < 260
    # a short answer stays as it was
    short = explain(reverse_probe("t.py::test_rev", verdict="fail", drop=0.3, examples=[wrong_example(2)]))
    assert "      expected 'P-2', got 'P-000'" in short.splitlines()


def test_warning_text_is_short() -> None:
    p = big_run(3).probes[2]  # INCONCLUSIVE, 12 examples
    lines = render.brief(p).splitlines()  # what the INCONCLUSIVE warning should print
    assert len(lines) == 4
    assert lines[0].startswith("ragprobe reverse probe INCONCLUSIVE: ")
    assert lines[1].startswith("  reason: drop +0.05, but its one-sided 95% bounds [-0.05, +0.15] include")
    assert lines[2] == "  note: about 120 more facts would likely decide this"  # the sample-size help
    assert lines[3] == "  details: ragprobe_result.explain(), or a report: --ragprobe-report=DIR"


# -- 3. INCONCLUSIVE says why ----------------------------------------------------------------------------
def test_inconclusive_without_reason_gets_a_plain_words_line_everywhere() -> None:
    p = inconclusive_position()
    rep = report(p)
    assert f"  reason: {INCONCLUSIVE_LINE}" in explain(p).splitlines()
    md = render_markdown(rep)
    assert f"**Reason:** {md_escaped(INCONCLUSIVE_LINE)}" in md.splitlines()
    section = text_of(section_of(render_html(rep), p.nodeid))
    assert "Reason: " + INCONCLUSIVE_LINE.replace(">", "&gt;") in section
    assert rep.probes[0].reason == ""  # the data are untouched


def test_a_pass_says_why_in_explain_markdown_and_html() -> None:
    """A FAIL or INCONCLUSIVE probe had a reason line; a PASS had none anywhere (the examples' PASS probes
    showed a table and a drop chart, and left the reader to work out which bound decided it)."""
    rev = reverse_probe("t.py::test_rev", drop=-0.17)
    rev.metrics["drop_ci"] = [-0.31, -0.06]
    pos = inconclusive_position().model_copy(update={"nodeid": "t.py::test_pos", "verdict": "pass"})
    pos.metrics.update(drop=0.0, drop_ci=[-0.15, 0.12], max_drop=0.15)
    pos.settings = {"min_accuracy": 0.3}
    rev_line = (
        "drop -0.17, upper bound -0.06 ≤ max_drop 0.10: reverse accuracy is not more than max_drop below "
        "forward"
    )
    pos_line = (
        "drop +0.00, upper bound +0.12 ≤ max_drop 0.15: no position is more than max_drop below the best "
        "edge, and every position is above min_accuracy 0.30"
    )
    rep = report(rev, pos)
    md, html = render_markdown(rep).splitlines(), render_html(rep)
    for p, line in ((rev, rev_line), (pos, pos_line)):
        assert f"  reason: {line}" in explain(p).splitlines()
        assert f"**Reason:** {md_escaped(line)}" in md
        assert "Reason: " + line in text_of(section_of(html, p.nodeid))
        assert p.reason == ""  # the data are untouched
    # a PASS whose bounds do not show it (e.g. hand-made) gets no line rather than a wrong one
    odd = reverse_probe("t.py::test_odd", drop=0.02)  # upper bound 0.12 > max_drop 0.10
    assert not any(line.startswith("  reason:") for line in explain(odd).splitlines())


# -- 4. bounds labelled; Holm explained once -------------------------------------------------------------
def test_drop_bounds_are_labelled_one_sided_at_the_probe_confidence() -> None:
    p = inconclusive_position()
    p.metrics["confidence"] = 0.9
    rep = report(p, reverse_probe("t.py::test_rev"))
    md = render_markdown(rep)
    assert "(position 0 vs 4), one-sided 90% bounds [+0.05, +0.52] vs max\\_drop 0.10" in md
    assert "**Drop** +0.02, one-sided 95% bounds [-0.08, +0.12] vs max\\_drop 0.10" in md
    text = text_of(render_html(rep))
    assert "+0.30 , one-sided 90% bounds [+0.05, +0.52] vs max_drop 0.10" in text
    assert "bar: its one-sided 90% bounds (together a two-sided 80% interval)" in text
    for out in (md, text):
        assert out.count("Holm-adjusted McNemar p (position probes): an exact McNemar test") == 1
        assert "two-sided interval at 2·confidence − 1" in out


def test_the_reverse_mcnemar_p_is_explained_once() -> None:
    """The legend explained the position probes' p, not the reverse probes' "exact McNemar p = 0.0625",
    which beside bounds [-0.31, -0.06] that leave out zero read as a contradiction (it is two-sided)."""
    rep = report(reverse_probe("t.py::test_a"), reverse_probe("t.py::test_b"))
    for out in (render_markdown(rep), text_of(render_html(rep))):
        assert out.count("Exact McNemar p (reverse probes): a two-sided exact test") == 1
        assert "It tests a gap of zero, not max_drop, and is two-sided" in out
        assert "Holm-adjusted McNemar p (position probes)" not in out
    position_only = report(inconclusive_position())
    assert "Exact McNemar p (reverse probes)" not in render_markdown(position_only)


def test_each_probe_labels_its_lower_bound_with_min_accuracy() -> None:
    """Each probe's own line said "one-sided 95% bounds" (and the chart "together a 90% interval") while its
    lower bound was at 97.5%: only the page legend told."""
    floored = reverse_probe("t.py::test_f", settings={"min_accuracy": 0.6})
    label = "one-sided bounds (lower 97.5%, upper 95%)"
    assert f"**Drop** +0.02, {label} [-0.08, +0.12] vs max\\_drop 0.10" in render_markdown(report(floored))
    text = text_of(render_html(report(floored)))
    assert f"+0.02 , {label} [-0.08, +0.12] vs max_drop 0.10" in text
    assert f"bar: its {label} (together a two-sided 92.5% interval)" in text
    assert f"drop +0.02, {label} [-0.08, +0.12] vs max_drop 0.10" in explain(floored)
    plain = reverse_probe("t.py::test_a")
    assert "one-sided 95% bounds [-0.08, +0.12]" in explain(plain)
    assert "bar: its one-sided 95% bounds (together a two-sided 90% interval)" in text_of(render_html(report(plain)))


def test_the_legend_says_where_the_lower_bound_is_with_min_accuracy() -> None:
    """With min_accuracy the drop's FAIL side is at alpha/2 (it shares alpha with the floor): the legend's
    "one-sided 95%" alone would misstate the lower bound."""
    floored = reverse_probe("t.py::test_f", settings={"min_accuracy": 0.6})
    for out in (render_markdown(report(floored)), text_of(render_html(report(floored)))):
        assert "With min_accuracy the lower bound is at 1 − alpha/2 (97.5% for 95%)" in out
    assert "With min_accuracy" not in render_markdown(report(reverse_probe("t.py::test_a")))


# -- 5. early stopping -----------------------------------------------------------------------------------
def test_early_stopping_shows_in_markdown_and_html() -> None:
    p = reverse_probe("t.py::test_seq", stopped_early=True, settings={"n_planned": 60})
    rep = report(p)
    md = render_markdown(rep)
    assert "| ✅ | PASS | `t.py::test_seq` | reverse | 20 of 60, stopped early | 40 |" in md
    assert "reverse probe · n=20 of 60, stopped early · 40 calls" in md
    text = text_of(render_html(rep))
    assert "reverse probe · n = 20 of 60, stopped early · 40 pipeline calls" in text


# -- 6. budget runs ---------------------------------------------------------------------------------------
def test_budget_fail_keeps_why_it_failed_and_max_drop_of_a_probe_without_calls() -> None:
    failed = reverse_probe(
        "t.py::test_budget_fail",
        verdict="fail",
        drop=0.36,
        reason="pipeline call budget exhausted: 50 of 60 facts answered both ways",
    )
    failed.metrics["drop_ci"] = [0.25, 0.48]
    starved = ProbeResult(
        nodeid="t.py::test_starved",
        kind="position",
        verdict="inconclusive",
        reason="pipeline call budget exhausted: 0 of 40 questions answered at every position",
        settings={"max_drop": 0.15, "n_planned": 40},
    )
    rep = report(failed, starved)
    why = "reverse accuracy dropped by 0.36 (lower bound 0.25) > max_drop 0.10"
    budget = "pipeline call budget exhausted: 50 of 60 facts answered both ways"
    assert explain(failed).splitlines()[1:3] == [f"  reason: {why}", f"  budget: {budget}"]
    md = render_markdown(rep).splitlines()
    assert f"**Reason:** {md_escaped(why)}" in md and f"**Budget:** {budget}" in md
    html = render_html(rep)
    assert f"Reason: {why.replace('>', '&gt;')} Budget: {budget}" in text_of(section_of(html, failed.nodeid))
    toc = text_of(html.split("<nav", 1)[1].split("</nav>", 1)[0])
    assert (
        "t.py::test_starved position pipeline call budget exhausted: 0 of 40 questions answered at every "
        "position 0 – 0.15"
    ) in toc


# -- 7. Markdown escapes that do not show ---------------------------------------------------------------
def test_markdown_heading_pipe_and_mentions() -> None:
    p = reverse_probe("t.py::test_weird[a|b]", verdict="fail", pipeline="rag@v2")
    md = render_markdown(report(p)).splitlines()
    assert "### ❌ FAIL: `t.py::test_weird[a|b]`" in md
    assert any(line.startswith("| ❌ | FAIL | `t.py::test_weird[a\\|b]` |") for line in md)
    assert md_code("a|b", table=False) == "`a|b`"
    # @mentions: a code span (GitHub does not link inside code), no invisible character to copy
    assert md_text("ask @team-x about it") == "ask `@team-x` about it"
    assert md_text("rag@v2 and ops@example.com") == "rag@v2 and ops@example.com"
    assert "\u200b" not in md_text("@team @x")


# -- 8. non-passing probes first ---------------------------------------------------------------------------
def test_failing_probes_come_first_in_markdown_and_html() -> None:
    rep = report(
        reverse_probe("a.py::test_pass"),
        reverse_probe("b.py::test_inconclusive", verdict="inconclusive"),
        reverse_probe("c.py::test_fail", verdict="fail", drop=0.3),
        ProbeResult(nodeid="d.py::test_error", kind="reverse", verdict="error", reason="boom"),
    )
    order = ["c.py::test_fail", "d.py::test_error", "b.py::test_inconclusive", "a.py::test_pass"]
    md = render_markdown(rep)
    rows = re.findall(r"^\| \S+ \| \w+ \| `([^`]+)`", md, flags=re.M)
    assert rows == order
    html = render_html(rep)
    toc = re.findall(r'<a href="#[^"]+"><code>(.+?)</code>', html.replace("<wbr>", ""))
    assert toc == order
    assert rep.probes[0].nodeid == "a.py::test_pass"  # report.json order unchanged


# -- 9. narrow screens -------------------------------------------------------------------------------------
def test_wide_tables_scroll_inside_a_wrapper() -> None:
    p = reverse_probe("t.py::test_rev", verdict="fail", drop=0.3, examples=[wrong_example(1)])
    html = render_html(report(p))
    assert '<div class="scroll"><table class="examples">' in html
    assert '<div class="scroll"><table class="numbers">' in html
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert re.search(r"\n\.scroll \{ overflow-x: auto; \}", style)
    assert "nav.toc td:nth-child(2) { min-width: 12rem; }" in style
    assert ".badge { min-width: 0;" in style.split("@media (max-width: 40rem)", 1)[1]


# -- 10. no "-0.00"; max_drop 0.10 ---------------------------------------------------------------------------
def test_negative_zero_and_max_drop_digits() -> None:
    p = reverse_probe("t.py::test_rev", drop=0.0, settings={"max_drop": 0.1})
    p.metrics["drop"] = -0.001
    p.metrics["drop_ci"] = [-0.004, 0.08]
    rep = report(p)
    md, html = render_markdown(rep), render_html(rep)
    text = text_of(html)
    for out in (md, text, explain(p)):
        assert "-0.00" not in out
    assert "drop +0.00, bounds [+0.00, +0.08], max 0.10" in md
    assert "<dt>max_drop</dt><dd class=\"mono\">0.10</dd>" in html
