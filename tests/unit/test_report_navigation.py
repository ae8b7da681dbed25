"""Finding a probe in the reports: unique anchors, counts of wrong answers beyond the 50 kept examples,
natural node id order, and the terminal's failures-last order."""

from __future__ import annotations

import re
from pathlib import Path

from factories import report as make_report
from factories import reverse_probe, text_of

from pytest_ragprobe.html import render_html
from pytest_ragprobe.render import examples_count, wrong_answers
from pytest_ragprobe.reporting import ordered, probe_anchor, render_markdown
from pytest_ragprobe.results import ProbeResult, nodeid_key


def test_anchors_stay_unique_when_slugs_collide() -> None:
    nodeids = ["t.py::test_x[a-b]", "t.py::test_x[a_b]", "t.py::test_x[a b]", "t.py::test_é", "t.py::test_中"]
    html = render_html(make_report(*(reverse_probe(n) for n in nodeids)))
    ids = re.findall(r'<section class="probe[^"]*" id="([^"]+)"', html)
    assert len(ids) == len(set(ids)) == 5
    for nodeid in nodeids:  # each overview link leads to the section of its own test
        anchor = probe_anchor(nodeid)
        assert f'href="#{anchor}"' in html
        section = html.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]
        assert nodeid.split("::")[1] in section.replace("<wbr>", "")
    assert probe_anchor("t.py::test_x[a-b]") == probe_anchor("t.py::test_x[a-b]")  # stable run to run


def _many_wrong(n: int = 80, right: int = 27) -> ProbeResult:
    """A reverse probe with more wrong answers than report.json keeps (50 examples)."""
    examples = [
        {"question": f"Which pump fits C-{i}?", "expected": f"P-{i}", "answer": "C-0", "correct": False,
         "forward_correct": True}
        for i in range(50)
    ]
    p = reverse_probe("t.py::test_many", verdict="fail", drop=0.6, examples=examples)
    metrics = dict(p.metrics, reverse_accuracy=right / n)
    return p.model_copy(update={"n": n, "metrics": metrics})


def test_worst_examples_count_every_wrong_answer_not_just_the_kept_ones() -> None:
    probe = _many_wrong()
    assert wrong_answers(probe) == 53
    md = render_markdown(make_report(probe))
    assert "<details><summary>Worst examples (5 of 53 wrong reverse answers)</summary>" in md
    assert "Worst examples (10 of 53 wrong reverse answers)" in text_of(render_html(make_report(probe)))


def test_wrong_total_of_a_position_probe_sums_every_position() -> None:
    p = reverse_probe("t.py::test_pos").model_copy(
        update={
            "kind": "position",
            "metrics": {"correct_by_position": {"0": 70, "4": 30, "9": 60}, "n_by_position": {"0": 80, "4": 80, "9": 80}},
            "examples": [],
        }
    )
    assert wrong_answers(p) == 10 + 50 + 20
    # a foreign report without the counts: what is listed stands
    assert examples_count(p.model_copy(update={"metrics": {"correct_by_position": {"0": "x"}}}), 3, 3) == "3 wrong answers"


def test_node_ids_sort_naturally_and_the_terminal_lists_failures_last() -> None:
    ids = ["t.py::test_m[10]", "t.py::test_m[2]", "t.py::test_m[1]", "t.py::test_m[19]"]
    assert sorted(ids, key=nodeid_key) == ["t.py::test_m[1]", "t.py::test_m[2]", "t.py::test_m[10]", "t.py::test_m[19]"]
    probes = [
        reverse_probe("t.py::test_b[10]", "fail"),
        reverse_probe("t.py::test_a", "pass"),
        reverse_probe("t.py::test_b[2]", "fail"),
        reverse_probe("t.py::test_c", "inconclusive"),
    ]
    report_order = [p.nodeid for p in ordered(probes)]
    assert report_order == ["t.py::test_b[2]", "t.py::test_b[10]", "t.py::test_c", "t.py::test_a"]
    terminal = [p.nodeid for p in ordered(probes, failing_last=True)]
    assert terminal == ["t.py::test_a", "t.py::test_c", "t.py::test_b[2]", "t.py::test_b[10]"]


def test_strict_run_labels_its_inconclusive_probes_as_failing_everywhere(tmp_path: Path) -> None:
    from pytest_ragprobe.cli import main
    from pytest_ragprobe.render import summary_line

    probes = [reverse_probe("t.py::test_unsure", "inconclusive"), reverse_probe("t.py::test_ok")]
    strict, lax = make_report(*probes, strict=True), make_report(*probes, strict=False)
    md = render_markdown(strict)
    assert "| ❌ | INCONCLUSIVE (strict: fails) | `t.py::test_unsure` |" in md
    assert "### ❌ INCONCLUSIVE (strict: fails): `t.py::test_unsure`" in md
    assert "**Test outcome:** failed (--ragprobe-strict: INCONCLUSIVE fails)" in md
    assert "strict" not in render_markdown(lax).split("| --- |", 1)[1].split("###", 1)[0]
    html = render_html(strict)
    section = html.split(f'id="{probe_anchor("t.py::test_unsure")}"', 1)[1].split("</section>", 1)[0]
    assert 'class="probe v-fail"' in html and "INCONCLUSIVE (strict: fails)" in section
    assert "Test outcome: failed (--ragprobe-strict: INCONCLUSIVE fails)" in text_of(section)
    assert summary_line(probes[0], strict=True).startswith("INCONCLUSIVE (strict: fails) t.py::test_unsure ")
    assert summary_line(probes[0]).startswith("INCONCLUSIVE t.py::test_unsure ")
    path = tmp_path / "report.json"
    path.write_text(strict.model_dump_json(), encoding="utf-8")
    assert main(["show", str(path)]) == 1


def test_a_regressed_probe_says_its_test_failed_not_passed() -> None:
    from pytest_ragprobe.render import explain

    regressed = reverse_probe(
        "t.py::test_a", baseline="regression", baseline_message="ragprobe baseline REGRESSION: reverse 0.95 -> 0.75"
    )
    assert "  test outcome: failed (baseline REGRESSION: reverse 0.95 -> 0.75)" in explain(regressed)
    md = render_markdown(make_report(regressed))
    assert "**Test outcome:** failed (baseline REGRESSION: reverse 0.95 -&gt; 0.75)" in md


def test_a_budget_stop_whose_answers_would_pass_says_why_it_is_not_a_pass() -> None:
    from pytest_ragprobe.render import reasons

    cut = reverse_probe(
        "t.py::test_cut", "inconclusive", drop=0.02,
        reason="pipeline call budget exhausted: 50 of 80 facts answered both ways",
    )
    cut = cut.model_copy(update={"metrics": dict(cut.metrics, drop_ci=[-0.04, 0.09])})
    (label, why), (label2, budget) = reasons(cut)
    assert (label, label2) == ("Reason", "Budget")
    assert why.startswith("the answers so far would pass (upper bound +0.09 ≤ max_drop 0.10), but the call")
    assert "never a PASS" in why and budget.startswith("pipeline call budget exhausted: 50 of 80")
    # bounds that straddle max_drop keep the usual plain-words reason
    straddle = cut.model_copy(update={"metrics": dict(cut.metrics, drop_ci=[-0.04, 0.2])})
    assert reasons(straddle)[0][1].startswith("drop +0.02, but its one-sided 95% bounds")


def test_the_html_overview_row_says_the_accuracies_or_the_error_cause() -> None:
    err = reverse_probe("t.py::test_err", "error", reason="KeyError at conftest.py:9 (12 of 40 calls)")
    err = err.model_copy(update={"metrics": {}})
    html = render_html(make_report(reverse_probe("t.py::test_rev", drop=0.35), err))
    overview = html.split('<nav class="toc"', 1)[1].split("</nav>", 1)[0]
    cells = re.findall(r'<td class="overview" data-label="result">([^<]*)</td>', overview)
    # each label kept with its number (it wrapped "fwd 0.90 → rev" / "0.55" in a narrow column); report.md
    # has no wrapping to fear and plain spaces
    assert sorted(cells) == ["KeyError at conftest.py:9 (12 of 40 calls)", "fwd\u00a00.90\u00a0→ rev\u00a00.55"]
    assert "| fwd 0.90 → rev 0.55, drop" in render_markdown(make_report(reverse_probe("t.py::test_rev", drop=0.35)))
    # a position probe's accuracies say they are by position (a bare "4: 0.60" did not)
    from pytest_ragprobe.results import DirectionSummary

    position = ProbeResult(
        nodeid="t.py::test_mid", kind="position", verdict="pass", n=40, calls=80,
        metrics={"drop": 0.3, "drop_ci": [0.05, 0.52], "best_edge": 0, "worst_position": 4, "max_drop": 0.4},
        positions={0: DirectionSummary(accuracy=0.9, correct=36, n=40, ci=(0.77, 0.96)),
                   4: DirectionSummary(accuracy=0.6, correct=24, n=40, ci=(0.45, 0.74))},
    )
    html = render_html(make_report(position))
    cells = re.findall(r'<td class="overview" data-label="result">([^<]*)</td>', html)
    assert cells == ["pos\u00a00:\u00a00.90 · pos\u00a04:\u00a00.60"]


def test_worst_position_examples_put_middle_misses_first_as_the_terminal_does() -> None:
    from pytest_ragprobe.html import _worst_examples

    ex = [
        {"question": "q0", "position": 0, "correct": False, "edge_correct": True},  # right at 9 only
        {"question": "q1", "position": 9, "correct": False, "edge_correct": False},
        {"question": "q2", "position": 4, "correct": False, "edge_correct": True},  # lost in the middle
    ]
    p = reverse_probe("t.py::test_pos").model_copy(
        update={"kind": "position", "metrics": {"positions": [0, 4, 9]}, "examples": ex}
    )
    assert [e["question"] for e in _worst_examples(p)] == ["q2", "q0", "q1"]
    assert "| question | expected | got | position | right at another edge |" in render_markdown(make_report(p))


def test_tied_positions_get_no_best_or_worst_label() -> None:
    from pytest_ragprobe.render import position_marks

    def pos(accs: dict[str, float]) -> ProbeResult:
        metrics = {"accuracy_by_position": accs, "best_edge": 0, "worst_position": 4}
        return reverse_probe("t.py::test_pos").model_copy(update={"kind": "position", "metrics": metrics})

    assert position_marks(pos({"0": 0.35, "4": 0.35, "9": 0.35})) == {}
    assert position_marks(pos({"0": 0.53, "4": 0.20, "9": 0.35})) == {"0": "best edge", "4": "worst"}
