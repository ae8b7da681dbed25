"""Edge cases of the statistics and of what reads them (sample sizes, INCONCLUSIVE notes)."""

from __future__ import annotations

import random
import re
from typing import Any, ClassVar

import pytest

import pytest_ragprobe as ragprobe
from pytest_ragprobe import stats as S
from pytest_ragprobe.position_probe import _more_needed, check_position
from pytest_ragprobe.types import Document


def test_required_n_reaches_the_power_where_exact_critical_values_apply() -> None:
    """Between 400 and 600 pairs the test uses exact critical values (here 1.72, not the normal 1.645),
    yet required_n stopped at the normal approximation: 504 pairs, whose exact power is 0.779 < 0.8."""
    cells = {"p10": 0.8 * 0.37, "p01": 0.2 * 0.63, "max_drop": 0.1}
    n = S.required_n(acc_a=0.8, acc_b=0.63, max_drop=0.1)
    assert 504 < n < 1.15 * 504  # more than before, not wildly more
    if n <= S.EXACT_MAX_N:
        assert S.fail_probability(n, **cells) >= 0.8
    else:  # above 600 the normal quantile is the test's own cut: the approximation holds there
        assert n == S.EXACT_MAX_N + 1


def _position_rows(n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        ctxs = [{"title": f"Item {i}", "text": f"The code of item {i} is Q{i}X.", "isgold": True}]
        ctxs += [{"title": f"Note {i}.{j}", "text": f"Shelf note {j}.", "isgold": False} for j in range(6)]
        rows.append({"question": f"What is the code of item {i}?", "answers": [f"Q{i}X"], "ctxs": ctxs})
    return rows


class _FixedPatterns:
    """Right or wrong by item and gold position: the first and the third position wrong on items 0-13,
    the second on 0-17 (wrong wherever the first is: 4 discordant pairs, the worst position yet it PASSes
    against the first), the last on 50-65 (30 pairs differ from the first: undecided)."""

    wrong: ClassVar[dict[int, range]] = {0: range(14), 1: range(18), 2: range(14), 3: range(50, 66)}

    def generate(self, question: str, documents: list[Document]) -> str:
        item = re.search(r"item (\d+)", question)
        assert item is not None
        i = int(item.group(1))
        idx = next(j for j, d in enumerate(documents) if f"code of item {i} is" in d.text)
        return "I do not know" if i in self.wrong[idx] else f"Q{i}X"


def test_an_inconclusive_position_probe_says_how_many_more_when_its_worst_position_has_passed() -> None:
    """The "about N more" figure was sized on the best edge vs the worst position only: when that one had
    PASSed (few disagreeing answers) and another comparison was undecided, more_needed said 0 and the
    INCONCLUSIVE probe had no word on its sample size at all."""
    r = check_position(_FixedPatterns(), _position_rows(100), n_docs=4, max_drop=0.1)
    assert r.verdict == "inconclusive"
    m = r.metrics
    assert (m["best_edge"], m["worst_position"]) == (0, 1)
    assert [n for n in r.notes if re.fullmatch(
        r"about \d+ more questions \(\d+ in all\) would likely decide this \(a rough estimate from the "
        r"rates seen so far\); these are all the questions given: add more to decide it", n
    )], r.notes  # fmt: skip


def test_a_drop_seen_near_max_drop_does_not_claim_more_facts_cannot_settle_it() -> None:
    """60 facts, drop +0.12 seen, bounds [-0.03, +0.24]: at the rates seen more_needed gives up, and the
    note said more facts would not settle it and that "the pipeline sits near the tolerance", though the
    bounds leave the true drop anywhere up to 0.24 (a pipeline at forward 0.90 / reverse 0.75, 0.05 from
    the tolerance, got that note in 18% of its INCONCLUSIVE runs of 100 facts, where ~600 more decide)."""
    facts = [
        ragprobe.Fact(
            forward={"question": f"Forward question {i}?", "answer": f"F{i:03d}"},
            reverse={"question": f"Reverse question {i}?", "answer": f"R{i:03d}"},
        )
        for i in range(60)
    ]

    def answer(question: str) -> str:  # forward only right 12, reverse only 5, both 35: drop 0.117
        i = int(question.split()[-1].rstrip("?"))
        forward = question.startswith("Forward")
        right = (i < 12 and forward) or (12 <= i < 17 and not forward) or 17 <= i < 52
        return (f"F{i:03d}" if forward else f"R{i:03d}") if right else "no idea"

    r = ragprobe.check_reverse(answer, facts, max_drop=0.1, min_accuracy=0.6)
    assert (r.verdict, r.drop) == ("inconclusive", pytest.approx(7 / 60))
    assert r.notes == [
        "the drop seen is too close to max_drop 0.10 to say how many more facts would settle it: at the "
        "rates seen so far over 10,000 more; a true drop further from max_drop than the one seen needs "
        "far fewer"
    ]


def test_a_floor_of_zero_passes_sequentially_as_it_does_fixed() -> None:
    """min_accuracy=0 (the marks allow [0, 1]) holds for any accuracy: the fixed test PASSes it, but the
    sequential one never did with no answer right (its exact-binomial PASS cut at a floor of 0 needs one
    right), so a sequential probe wrong everywhere read INCONCLUSIVE, "not clearly above min_accuracy 0.00";
    the docs say that with one look it is the fixed test."""
    for n in (1, 5, 30):
        assert S.accuracy_verdict(0, n, 0.0) == "pass"
        assert S.SequentialDesign(n, looks=1).decide_floor(0, n, 0.0, look=0) == "pass"
    assert S.SequentialDesign(100).decide_floor(0, 13, 0.0, look=0, tests=2) == "pass"
    facts = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(100)]
    r = ragprobe.check_reverse(lambda q: "no idea", facts, max_drop=0.1, min_accuracy=0.0, sequential=True)
    assert r.verdict == "pass", r.notes


def test_a_floor_no_sample_of_that_size_can_pass_says_so() -> None:
    """min_accuracy 0.99 with 100 facts all right: the exact lower bound of 100/100 is 0.05^(1/100) = 0.971,
    so no run of 100 can PASS the floor, yet the note only said "not clearly above", as if more of the same
    would do; a floor of 1.00 can never PASS. (The drop's own "no run can PASS" note says the same for
    max_drop.)"""
    facts = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(100)]

    def right(question: str) -> str:
        tail = question.rstrip("?").rsplit(" ", 1)[1]
        return tail.replace("P-", "C-") if tail.startswith("P-") else tail.replace("C-", "P-")

    r = ragprobe.check_reverse(right, facts, max_drop=0.1, min_accuracy=0.99)
    assert r.verdict == "inconclusive"
    assert S.accuracy_verdict(299, 299, 0.99) == "pass" and S.accuracy_verdict(298, 298, 0.99) != "pass"
    assert r.notes == [
        "reverse accuracy 1.00 is not clearly above min_accuracy 0.99: with 100 facts no run can show it, "
        "even with every answer right it takes at least 299 facts (at 95%)"
    ]
    r = ragprobe.check_reverse(right, facts, max_drop=0.1, min_accuracy=1.0)
    assert r.verdict == "inconclusive"
    assert r.notes == [
        "reverse accuracy 1.00 is not clearly above min_accuracy 1.00: no sample can show an accuracy of at "
        "least 1.00 (set min_accuracy below 1)"
    ]
    reader = _FixedPatterns()
    reader.wrong = dict.fromkeys(range(4), range(0))  # every answer right
    p = check_position(reader, _position_rows(100), n_docs=4, max_drop=0.1, min_accuracy=0.99)
    assert p.verdict == "inconclusive"
    assert p.notes == [
        "accuracy 1.00 at position 0 is not clearly above min_accuracy 0.99: with 100 questions no run can "
        "show it, even with every answer right it takes at least 299 questions (at 95%)"
    ]


def test_the_more_figure_of_a_sequential_position_probe_skips_settled_positions() -> None:
    """A settled position passed all its comparisons at some look ("stays passed"); its comparison in
    ``comparisons``, re-read on the data at the end, read INCONCLUSIVE: the figure was sized on it (here
    the worst position, settled: 483 more) instead of the comparison still undecided (183). (It now
    reads passed, as the verdict counted it.)"""
    n = 100
    design = S.sequential_design(n, positions=3)
    rng = random.Random(146)
    full = {p: [rng.random() < acc for _ in range(n)] for p, acc in enumerate((0.9, 0.88, 0.85))}
    dropped: dict[int, int] = {}
    for look, size in enumerate(design.sizes):
        asked = {p: v[: dropped.get(p, size)] for p, v in full.items()}
        decision, r = design.decide_positions(asked, look=look, max_drop=0.1)
        if decision != "continue":
            break
        for p in r.settled:
            dropped.setdefault(p, size)
    assert (r.verdict, r.settled, r.worst) == ("inconclusive", (2,), 2)
    assert r.comparisons[2].verdict == "pass"
    fail_conf = 1 - 0.05 / 4
    undecided = S.more_needed(r.comparisons[1], max_drop=0.1, confidence=0.95, fail_confidence=fail_conf)
    assert undecided == 183
    assert _more_needed(r, 0.1, 0.95, fail_conf) == (183, True)
