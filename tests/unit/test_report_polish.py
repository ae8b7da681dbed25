"""Wording shared by the terminal, explain(), report.md, report.html and `ragprobe show`: thresholds as
given, how many misses a list of worst examples is taken from, the label of a run without probes, the
failed calls of a PASS."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from factories import report, reverse_probe, text_of

import pytest_ragprobe as ragprobe
from pytest_ragprobe.cli import main
from pytest_ragprobe.html import render_html
from pytest_ragprobe.position_probe import check_position
from pytest_ragprobe.render import derived_reason, explain
from pytest_ragprobe.reporting import render_markdown
from pytest_ragprobe.results import DirectionSummary, Report
from pytest_ragprobe.reverse_probe import undecidable_note

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(100)]


def one_way(question: str) -> str:
    """Right forward; reverse wrong for every fourth fact (a drop of 0.25)."""
    if "pump P-" in question:
        return "C-" + question.rsplit("P-", 1)[1].rstrip("?")
    i = int(question.rsplit("C-", 1)[1].rstrip("?"))
    return "no idea" if i % 4 == 3 else f"P-{i}"


def show(capsys: pytest.CaptureFixture[str], tmp_path: Path, rep: Report, *args: str) -> str:
    path = tmp_path / "report.json"
    path.write_text(rep.model_dump_json(), encoding="utf-8")
    main(["show", str(path), *args])
    return capsys.readouterr().out


# -- thresholds as given ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.125, "0.125"), (0.1, "0.10"), (0.3, "0.30"), (0, "0.00"), (-0.0, "0.00"), (1, "1.00"),
     (0.805, "0.805"), (1e-05, "0.00001"), (-0.05, "-0.05"), (0.1 + 0.05, "0.15"), (1 - 0.85, "0.15"),
     (0.123456789, "0.123456789"), (2.5e-07, "0.00000025")],
)
def test_a_threshold_reads_as_given_with_at_least_two_decimals(value: float, shown: str) -> None:
    from pytest_ragprobe.render import threshold

    assert threshold(value) == shown


def test_a_max_drop_of_0_125_reads_0_125_in_every_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """To 2 places a max_drop of 0.125 printed "0.12" in ~20 places: "drop 0.124 > max_drop 0.12" looked
    wrong. The measured figures beside it keep their 2 decimals."""
    r = reverse_probe("t.py::test_rev", verdict="inconclusive", drop=0.2)
    r.metrics.update(max_drop=0.125, drop_ci=[0.05, 0.31])
    r.settings.update(max_drop=0.125, min_accuracy=0.805)
    rep = report(r)
    text, md, html = explain(r), render_markdown(rep), render_html(rep)
    page, out = text_of(html), show(capsys, tmp_path, rep, "--explain")
    assert "(max_drop 0.125, n=20)" in text.splitlines()[0]
    assert "[+0.05, +0.31] vs max_drop 0.125; exact McNemar" in text
    assert "include max_drop 0.125: the data show neither PASS (upper bound ≤ 0.125) nor FAIL (lower bound > 0.125)" in text
    assert "vs max\\_drop 0.125 ·" in md and "bounds [+0.05, +0.31], max 0.125" in md
    assert "vs max_drop 0.125 ;" in page and "max_drop 0.125 min_accuracy 0.805" in page
    assert 'data-label="max_drop">0.125</td>' in html  # the overview table
    assert ">max_drop 0.125</text>" in html and "against max_drop 0.125" in html  # the drop chart
    assert "(max_drop 0.125, n=20)" in out and "vs max_drop 0.125; exact" in out
    for shown in (text, md, page, out):
        assert "0.12 " not in shown and "0.12)" not in shown and "0.12;" not in shown
        assert "forward 0.90" in shown or "fwd 0.90" in shown  # measured: 2 decimals as before
    floor = report(reverse_probe("t.py::test_b", settings={"max_drop": 0.1, "min_accuracy": 0.8}))
    assert "max_drop 0.10 min_accuracy 0.80" in text_of(render_html(floor))  # 0.10, not 0.1


def test_a_probe_says_its_thresholds_as_given() -> None:
    fail = ragprobe.check_reverse(one_way, FACTS, max_drop=0.125)
    assert fail.verdict == "fail"
    assert re.fullmatch(r"reverse accuracy dropped by 0\.25 \(lower bound 0\.\d+\) > max_drop 0\.125", fail.reason)
    floor = ragprobe.check_reverse(one_way, FACTS, max_drop=0.5, min_accuracy=0.905)
    assert floor.verdict == "fail" and floor.reason == "reverse accuracy 0.75 is below min_accuracy 0.905"
    assert "no run can PASS at max_drop 0.125:" in undecidable_note(5, "facts", 0.125, 0.95)
    assert "no run can PASS at max_drop -0.05:" in undecidable_note(5, "facts", -0.05, 0.95)


class Reader:
    """The gold document's code, except in the middle for every fifth question (0.8 there, 1.0 at the ends)."""

    def generate(self, question: str, documents: list[ragprobe.Document]) -> str:
        i = int(question.rsplit(" ", 1)[1].rstrip("?"))
        idx = next(j for j, d in enumerate(documents) if f"code of item {i} is" in d.text)
        return "no idea" if 0 < idx < len(documents) - 1 and i % 5 == 0 else f"Q{i}X"


def position_data(n: int) -> list[dict[str, Any]]:
    return [
        {
            "question": f"What is the code of item {i}?",
            "answers": [f"Q{i}X"],
            "ctxs": [{"title": f"Item {i}", "text": f"The code of item {i} is Q{i}X.", "isgold": True}]
            + [{"title": f"Note {j}", "text": f"Shelf note {j}.", "isgold": False} for j in range(4)],
        }
        for i in range(n)
    ]


def test_a_position_probe_says_its_thresholds_as_given() -> None:
    r = check_position(Reader(), position_data(60), n_docs=3, max_drop=0.5, min_accuracy=0.955)
    assert r.verdict == "fail" and r.reason == "accuracy 0.80 at position 1 is below min_accuracy 0.955"
    fail = check_position(Reader(), position_data(200), n_docs=3, max_drop=0.075)
    assert fail.verdict == "fail" and fail.reason.endswith(" > max_drop 0.075"), fail.reason


def test_a_bound_said_beside_max_drop_never_reads_as_it() -> None:
    """"lower bound 0.10 > max_drop 0.10": the bound was 0.1003."""
    r = reverse_probe("t.py::test_rev", verdict="fail", drop=0.3)
    r.metrics.update(drop_ci=[0.1003, 0.5], max_drop=0.1)
    assert derived_reason(r) == "reverse accuracy dropped by 0.30 (lower bound 0.1003) > max_drop 0.10"
    r = reverse_probe("t.py::test_rev", verdict="pass", drop=0.0)
    r.metrics.update(drop_ci=[-0.1, 0.0994], max_drop=0.0995)
    assert derived_reason(r).startswith("drop +0.00, upper bound +0.099 ≤ max_drop 0.0995: ")
    r.metrics.update(drop_ci=[-0.1, 0.05], max_drop=0.1)
    assert derived_reason(r).startswith("drop +0.00, upper bound +0.05 ≤ max_drop 0.10: ")  # as before


# -- how many misses a list of worst examples is taken from --------------------------------------------
def test_the_terminal_says_how_many_misses_its_worst_examples_are_of() -> None:
    """report.md / report.html said "Worst examples (3 of 10)"; the terminal only "worst examples"."""
    r = ragprobe.check_reverse(one_way, FACTS, max_drop=0.1)
    lines = r.explain().splitlines()
    assert "worst examples (3 of 25 wrong reverse answers):" in lines
    assert "Worst examples (5 of 25 wrong reverse answers)" in render_markdown(report(r))
    r.examples = r.examples[:4]  # report.json keeps 50 at most: the metrics count them all
    assert "worst examples (3 of 25 wrong reverse answers):" in r.explain().splitlines()

    forward = reverse_probe("t.py::test_fwd", verdict="fail", drop=0.3)
    forward.forward = DirectionSummary(accuracy=0.5, correct=10, n=20, ci=(0.3, 0.7))
    forward.examples = [
        {"question": f"rev {i}?", "expected": "x", "answer": "y", "correct": False, "forward_correct": False,
         "forward_question": f"fwd {i}?", "forward_expected": "a", "forward_answer": "b"}
        for i in range(3)
    ]
    text = explain(forward).splitlines()
    assert "forward answered wrong (2 of 10):" in text
    assert "worst examples (3 of 8 wrong reverse answers):" in text  # 20 * (1 - 0.6), from the metrics


def test_worst_example_counts_agree_and_say_wrong_answers_apart_from_failed_calls() -> None:
    """The terminal said "3 of 8 reverse misses" (wrong answers) while report.md / report.html said
    "5 of 10" of the same probe (their lists hold its failed calls too). A failed call is not a wrong
    answer: all three now give the same count of wrong answers, and the files the failed calls apart."""
    wrong = [
        {"question": f"rev {i}?", "expected": "x", "answer": "y", "correct": False, "forward_correct": True}
        for i in range(8)
    ]
    failed = [{"question": f"err {i}?", "expected": "x", "answer": None, "correct": None, "error": "boom"} for i in range(2)]
    r = reverse_probe("t.py::test_rev", verdict="fail", drop=0.5, examples=wrong + failed, errors=2)
    r.n = 16  # reverse accuracy 0.4 of 16 answered: 9.6 -> 10 wrong in all, 8 of them kept
    assert "worst examples (3 of 10 wrong reverse answers):" in explain(r).splitlines()
    md = render_markdown(report(r))
    assert "<summary>Worst examples (5 of 10 wrong reverse answers and 0 of 2 failed calls)</summary>" in md
    html = text_of(render_html(report(r)))
    assert "Worst examples (8 of 10 wrong reverse answers and 2 failed calls)" in html
    few = reverse_probe("t.py::test_few", verdict="fail", drop=0.05, examples=wrong[:1] + failed, errors=2)
    few.n = 20  # 0.85 right: 3 wrong
    assert "worst examples (1 of 3 wrong reverse answers):" in explain(few).splitlines()
    few.n = 7  # 0.85 of 7: 1 wrong, every example shown
    assert "<summary>Worst examples (1 wrong reverse answer and 2 failed calls)</summary>" in render_markdown(report(few))
    assert "worst examples (1 wrong reverse answer):" in explain(few).splitlines()


def test_worst_examples_count_the_failed_calls_of_the_whole_probe() -> None:
    """The examples keep only some failed calls (a position probe 10, a reverse probe what fits in 50):
    report.md / report.html said "and 2 failed calls" of a probe with 7 (its summary line: "7 failed")."""
    wrong = [{"question": f"rev {i}?", "expected": "x", "answer": "y", "correct": False} for i in range(8)]
    failed = [{"question": f"err {i}?", "expected": "x", "correct": None, "error": "boom"} for i in range(2)]
    r = reverse_probe("t.py::test_rev", verdict="fail", drop=0.5, examples=wrong + failed, errors=7)
    r.n = 16
    assert "<summary>Worst examples (5 of 10 wrong reverse answers and 0 of 7 failed calls)</summary>" in (
        render_markdown(report(r))
    )
    assert "Worst examples (8 of 10 wrong reverse answers and 2 of 7 failed calls)" in text_of(render_html(report(r)))


def test_a_position_probes_worst_examples_say_of_how_many_misses() -> None:
    r = check_position(Reader(), position_data(60), n_docs=3, max_drop=0.5)
    assert "worst examples, right at an edge and wrong in the middle (2 of 12 wrong answers):" in r.explain().splitlines()
    assert "Worst examples (5 of 12 wrong answers)" in render_markdown(report(r))
    r.examples = [{**e, "edge_correct": False} for e in r.examples]  # none telling
    assert "worst examples (2 of 12 wrong answers):" in r.explain().splitlines()


# -- a run without probes ------------------------------------------------------------------------------------
def test_a_run_without_probes_reads_no_probes_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """report.md and `ragprobe show` said EMPTY, report.html NO PROBES."""
    empty = report()
    assert render_markdown(empty).startswith("## ➖ pytest-ragprobe: NO PROBES\n")
    assert "<title>NO PROBES · " in render_html(empty)
    assert '<p class="verdict">NO PROBES</p>' in render_html(empty)
    assert show(capsys, tmp_path, empty).endswith(": 0 probes -> NO PROBES\n")
    for text in (render_markdown(empty), render_html(empty)):
        assert "EMPTY" not in text


# -- `ragprobe show --explain` of a PASS that had failed calls ----------------------------------------------
def test_show_explain_gives_the_failed_calls_of_a_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`show --explain` explains what did not pass: a PASS whose failed calls were left out printed nothing
    of them (the pytest run had warned)."""
    flaky = reverse_probe("t.py::test_flaky", errors=3, error_cause="KeyError at rag.py:9 (3x)")
    flaky = flaky.model_copy(update={"calls": 43})
    clean = reverse_probe("t.py::test_clean")
    out = show(capsys, tmp_path, report(flaky, clean), "--explain").splitlines()
    at = next(i for i, line in enumerate(out) if "t.py::test_flaky" in line)
    assert out[at + 1] == (
        "    3 of 43 pipeline calls failed (not retried) and were left out of the statistics (n=20); "
        "most common cause: KeyError at rag.py:9 (3x)"
    )
    assert "t.py::test_clean" in out[at + 2] or "t.py::test_clean" in out[at - 1]
    assert len(out) == 4  # two summary lines, the note, the run's line: no explanation of a PASS
    assert "pipeline calls failed" not in show(capsys, tmp_path, report(flaky, clean))  # without --explain


def test_show_explain_gives_the_low_accuracy_note_of_a_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A PASS whose accuracies are all low (pytest warned "PASS, but ..."): `show --explain` printed nothing."""
    low = "forward 0.10 and reverse 0.10 are both low: PASS only says the reverse is not worse than the forward"
    wrong = reverse_probe("t.py::test_wrong", notes=[low])
    out = show(capsys, tmp_path, report(wrong, reverse_probe("t.py::test_clean")), "--explain").splitlines()
    at = next(i for i, line in enumerate(out) if "t.py::test_wrong" in line)
    assert out[at + 1] == f"    PASS, but {low}"
    assert len(out) == 4  # two summary lines, the note, the run's line
    assert "PASS only says" not in show(capsys, tmp_path, report(wrong))  # without --explain


# -- node ids in report.html ---------------------------------------------------------------------------------
def test_a_node_id_wraps_between_its_parts() -> None:
    """Broken anywhere by CSS, long node ids read "test_catalog_s / ymmetric" in the overview table."""
    from pytest_ragprobe.html import nodeid_html

    assert str(nodeid_html("tests/test_x.py::TestA::test_name[a/b-<x>]")) == (
        "tests/<wbr>test_x.py::<wbr>TestA::<wbr>test_name<wbr>[a/<wbr>b-&lt;x&gt;]"
    )
    long = "test_reverse_lookup_for_supplier_catalog_pages_indexed_as_written"
    assert str(nodeid_html(f"t.py::{long}")).endswith("test_<wbr>reverse_<wbr>lookup_<wbr>for_<wbr>supplier_"
                                                      "<wbr>catalog_<wbr>pages_<wbr>indexed_<wbr>as_<wbr>written")
    assert str(nodeid_html("t.py::test_mid_context_best_last")) == "t.py::<wbr>test_mid_context_best_last"
    html = render_html(report(reverse_probe("tests/unit/test_a.py::test_b[1]")))
    assert "<code>tests/<wbr>unit/<wbr>test_a.py::<wbr>test_b<wbr>[1]</code></a>" in html
    assert "<h2 id=" in html and "<code>tests/<wbr>unit/<wbr>test_a.py::<wbr>test_b<wbr>[1]</code></h2>" in html
    assert "word-break: break-all" not in html


# -- the run's tallies ----------------------------------------------------------------------------------------
def test_the_tallies_pluralise_error_as_pytest_does() -> None:
    """The summary line read "2 error -> ERROR": a noun, "2 errors" as pytest says; pass, fail and
    inconclusive are verdicts (as pytest's "2 passed") and stay as they are."""
    from pytest_ragprobe.cli import summary_text

    errored = [reverse_probe(f"t.py::test_{i}", verdict="error") for i in range(2)]
    passed = [reverse_probe(f"t.py::test_p{i}") for i in range(2)]
    assert summary_text(report(*errored, *passed), strict=False) == "4 probes: 2 pass, 2 errors -> ERROR"
    assert summary_text(report(errored[0]), strict=False) == "1 probe: 1 error -> ERROR"
    assert "💥 2 errors" in render_markdown(report(*errored))
    assert "1 probe 0 pass 0 fail 0 inconclusive 1 error " in text_of(render_html(report(errored[0])))
