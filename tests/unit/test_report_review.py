"""Fixes from a read of the reports as a deploy gate: confidence levels that are not whole percents,
failed calls left out of the statistics, in report.md and report.html as in the terminal."""

from __future__ import annotations

from factories import report, reverse_probe, text_of

from pytest_ragprobe.html import render_html
from pytest_ragprobe.render import explain, percent, summary_line
from pytest_ragprobe.reporting import render_markdown
from pytest_ragprobe.results import DirectionSummary, ProbeResult


def test_percent_keeps_the_digits_of_the_level() -> None:
    assert [percent(c) for c in (0.9, 0.95, 0.975, 0.99, 0.995, 0.999)] == [
        "90%", "95%", "97.5%", "99%", "99.5%", "99.9%"
    ]
    assert percent(2 * 0.95 - 1) == "90%"  # (0.8999999999999999)


def test_a_confidence_of_99_9_percent_never_reads_100_percent() -> None:
    """`{c:.0%}` printed --ragprobe-confidence=0.999 as "100% CI" and "one-sided 100% bounds" (and 0.975 as
    "98%"): a level the run did not use, and one that claims certainty."""
    p = reverse_probe("t.py::test_rev")
    p.metrics["confidence"] = 0.999
    rep = report(p)
    rep.confidence = 0.999
    md, html, term = render_markdown(rep), text_of(render_html(rep)), explain(p)
    for out in (md, html, term):
        assert "100%" not in out
        assert "one-sided 99.9% bounds" in out
    assert "| direction | accuracy | correct | 99.9% CI |" in md
    assert "confidence 99.9%" in md
    assert "99.9% CI" in term and "99.9% CI" in html
    assert "(together a two-sided 99.8% interval)" in html
    half = reverse_probe("t.py::test_half", settings={"min_accuracy": 0.5})
    half.metrics["confidence"] = 0.975
    legend = render_markdown(report(half))
    assert "one-sided 97.5% bounds" in legend
    assert "the lower bound is at 1 − alpha/2 (98.75% for 97.5%)" in legend


def test_failed_calls_left_out_of_the_statistics_are_explained_in_markdown_and_html() -> None:
    """The terminal warned "10 of 200 pipeline calls failed ... left out of the statistics (n=90); most common
    cause: ..."; report.md and report.html said only "10 failed calls", with no cause and no word that the
    figures leave them out."""
    p = reverse_probe("t.py::test_flaky", errors=10, error_cause="ConnectionError: upstream <503> (10x)")
    said = (
        "10 of 40 pipeline calls failed (not retried) and were left out of the statistics (n=20); most "
        "common cause: ConnectionError: upstream <503> (10x)"
    )
    assert f"  {said}" in explain(p).splitlines()
    assert f"**Failed calls:** {said.replace('<', '&lt;').replace('>', '&gt;')}" in render_markdown(report(p))
    html = render_html(report(p))
    assert "upstream &lt;503&gt;" in html and "upstream <503>" not in html
    assert f"Failed calls: {said}" in text_of(html).replace("&lt;", "<").replace("&gt;", ">")
    # none without failed calls, and an ERROR's cause is its reason, said once
    clean = report(reverse_probe("t.py::test_ok"))
    assert "Failed calls" not in render_markdown(clean) and "Failed calls" not in render_html(clean)
    errored = reverse_probe("t.py::test_err", verdict="error", errors=40, reason="40 of 40 calls failed")
    assert "Failed calls" not in render_markdown(report(errored)) + render_html(report(errored))


def test_on_a_phone_the_examples_are_labelled_blocks() -> None:
    """(Checked in chromium by tests/browser: at 390 px the forward / miss and position columns of the examples
    were off to the right in a side scroll.) Every example cell names its column, for the phone layout."""
    p = reverse_probe(
        "t.py::test_rev",
        examples=[{"question": "Which pump?", "expected": ["P-1"], "answer": "P-2", "correct": False,
                   "forward_correct": True, "miss": "retrieval", "forward_question": "Which controller?",
                   "forward_expected": ["C-1"], "forward_answer": "C-9"}],
    )
    p.examples[0]["forward_correct"] = False  # also listed under "Forward answered wrong"
    html = render_html(report(p))
    for label in ("question", "expected", "got", "forward", "miss", "reverse"):
        assert f'data-label="{label}"' in html, label
    phone = html.split("@media (max-width: 40rem)", 1)[1].split("@media print", 1)[0]
    assert "table.examples td[data-label]::before { content: attr(data-label) \": \";" in phone


def test_a_floor_fail_whose_drop_fails_too_says_both() -> None:
    """A FAIL below min_accuracy gave that as its only reason, also when the drop's lower bound was above
    max_drop: "Reason: accuracy 0.42 at position 10 is below min_accuracy 0.80" read as if the drop passed."""
    floor = "reverse accuracy 0.55 is below min_accuracy 0.80"
    both = reverse_probe("t.py::test_both", verdict="fail", drop=0.35, reason=floor,
                         settings={"min_accuracy": 0.8})
    drop = "reverse accuracy dropped by 0.35 (lower bound 0.25) > max_drop 0.10"
    lines = explain(both).splitlines()
    assert lines[1:3] == [f"  reason: {floor}", f"  also: {drop}"]
    assert f"**Also:** {drop.replace('>', '&gt;').replace('_', chr(92) + '_')}" in render_markdown(report(both))
    assert f"Also: {drop.replace('>', '&gt;')}" in text_of(render_html(report(both)))
    # the drop within max_drop (its lower bound -0.05 is not above 0.10): the floor alone
    floor_only = reverse_probe("t.py::test_floor", verdict="fail", drop=0.05, reason=floor,
                               settings={"min_accuracy": 0.8})
    assert "also:" not in explain(floor_only)
    assert "Also:" not in render_markdown(report(floor_only)) + text_of(render_html(report(floor_only)))


def test_facts_and_positions_given_as_lists_read_as_settings() -> None:
    """The probe settings showed facts given as a list of ragprobe.Fact as a clipped run of Python reprs
    ("Fact(subject='P-1', relation='compatible_with', ..., forward=None, reverse=None, s…"), and more than 20
    facts, or positions, as "<60 items>"."""
    reprs = [f"Fact(subject='P-{i}', relation='compatible_with', object='C-{i}', forward=None)" for i in range(12)]
    small = reverse_probe("t.py::test_small", settings={"facts": reprs})
    big = reverse_probe("t.py::test_big", settings={"facts": "<60 items>"})
    data = reverse_probe("t.py::test_data", settings={"data": "<25 items>"})
    text = text_of(render_html(report(small, big, data)))
    assert "facts a list of 12 facts in the test" in text and "Fact(" not in text
    assert "facts a list of 60 facts in the test" in text and "data a list of 25 examples in the test" in text
    assert "items&gt;" not in text
    many = ProbeResult(
        nodeid="t.py::test_pos", kind="position", verdict="pass", n=10, calls=300,
        settings={"data": "qa.jsonl", "positions": "<30 items>"},
        positions={p: DirectionSummary(accuracy=1.0, correct=10, n=10, ci=(0.7, 1.0)) for p in range(30)},
    )
    text = text_of(render_html(report(many)))
    assert f"positions {', '.join(map(str, range(30)))} " in text and "data qa.jsonl" in text
    # a path and a list of positions as they were
    assert "facts fixtures/parts.yaml" in text_of(render_html(report(
        reverse_probe("t.py::test_file", settings={"facts": "fixtures/parts.yaml"})
    )))


def test_an_empty_answer_says_so_in_markdown_and_html() -> None:
    """A pipeline that answered "" (or only whitespace) left the "got" cell blank in report.md and
    report.html, as if nothing had been recorded; the terminal printed ''."""
    p = reverse_probe(
        "t.py::test_blank", verdict="fail", drop=0.35,
        examples=[
            {"question": "Which pump?", "expected": ["P-1"], "answer": "", "correct": False,
             "forward_correct": False, "forward_question": "Which controller?", "forward_expected": ["C-1"],
             "forward_answer": "  \n", "miss": "reading"},
            {"question": "Which valve?", "expected": ["V-1"], "answer": "V-9", "correct": False,
             "forward_correct": True, "miss": "reading"},
        ],
    )
    md, html = render_markdown(report(p)), text_of(render_html(report(p)))
    assert "| Which pump? | P-1 | (empty answer) | wrong | reading |" in md
    assert "| Which controller? | C-1 | (empty answer) | wrong |" in md
    assert "| Which valve? | V-1 | V-9 | right | reading |" in md
    assert "Which pump? P-1 (empty answer) wrong reading" in html
    assert "Which controller? C-1 (empty answer) wrong" in html
    assert "got ''" in explain(p)


def test_an_empty_report_md_says_no_probe_ran() -> None:
    """report.html said "No ragprobe probes ran."; report.md had a heading, "0 probes" and a date."""
    md = render_markdown(report())
    assert md.startswith("## ➖ pytest-ragprobe: NO PROBES\n")
    assert "\nNo ragprobe probes ran, so nothing was gated.\n" in md
    assert "No ragprobe probes ran" not in render_markdown(report(reverse_probe("t.py::test_a")))


def test_many_positions_keep_the_edges_and_the_worst_in_one_line() -> None:
    """30 positions made a 330-character terminal summary line, and report.html's overview cut its line at
    140 characters after position 9, leaving out the worst position (16) behind "drop +0.63"."""
    accs = {p: 1.0 - 0.6 * (1 - abs(p - 16) / 16) for p in range(30)}
    r = ProbeResult(
        nodeid="t.py::test_many", kind="position", verdict="fail", n=60, calls=1800,
        metrics={"drop": 0.6, "drop_ci": [0.41, 0.73], "best_edge": 0, "worst_position": 16, "max_drop": 0.15,
                 "confidence": 0.95},
        positions={p: DirectionSummary(accuracy=a, correct=round(60 * a), n=60, ci=(a - 0.1, a)) for p, a in accs.items()},
    )
    line = summary_line(r)
    assert " 0:1.00 … 16:0.40 … 29:0.89 drop +0.60 (n=60, 1800 calls)" in line
    cell = render_html(report(r)).split('<td class="overview" data-label="result">', 1)[1].split("</td>", 1)[0]
    assert cell == "pos\u00a00:\u00a01.00 · … · pos\u00a016:\u00a00.40 · … · pos\u00a029:\u00a00.89"
    # up to 6 (terminal) / 8 (html) positions: every one, as before
    few = r.model_copy(update={"positions": {p: r.positions[p] for p in (0, 4, 8, 12, 16, 20)}})  # type: ignore[index]
    assert " 0:1.00 4:0.85 8:0.70 12:0.55 16:0.40 20:0.55 drop" in summary_line(few)
