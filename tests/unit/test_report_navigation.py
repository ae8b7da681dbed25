"""Finding a probe in the reports: unique anchors, counts of wrong answers beyond the 50 kept examples,
natural node id order, and the terminal's failures-last order."""

from __future__ import annotations

import re

from factories import report as make_report
from factories import reverse_probe, text_of

from pytest_ragprobe.html import render_html
from pytest_ragprobe.reporting import ordered, probe_anchor, render_markdown, wrong_total
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
        assert nodeid.split("::")[1] in section
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
    assert wrong_total(probe, 50) == 53
    md = render_markdown(make_report(probe))
    assert "<details><summary>Worst examples (5 of 53)</summary>" in md
    assert "Worst examples (10 of 53)" in text_of(render_html(make_report(probe)))


def test_wrong_total_of_a_position_probe_sums_every_position() -> None:
    p = reverse_probe("t.py::test_pos").model_copy(
        update={
            "kind": "position",
            "metrics": {"correct_by_position": {"0": 70, "4": 30, "9": 60}, "n_by_position": {"0": 80, "4": 80, "9": 80}},
            "examples": [],
        }
    )
    assert wrong_total(p, 0) == 10 + 50 + 20
    # a foreign report without the counts: what is listed stands
    assert wrong_total(p.model_copy(update={"metrics": {"correct_by_position": {"0": "x"}}}), 3) == 3


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
