"""A sequential position probe's per-comparison entries agree with the verdict's "stays passed" rule."""

from __future__ import annotations

import random
import re
from typing import Any, ClassVar

import pytest_ragprobe.stats as S
from pytest_ragprobe.position_probe import check_position
from pytest_ragprobe.types import Document


def _run(seed: int, accuracies: tuple[float, ...], n: int = 100) -> tuple[str, S.PositionComparison]:
    """Play a sequential position probe on seeded outcomes, no longer asking settled positions."""
    design = S.sequential_design(n, positions=len(accuracies))
    rng = random.Random(seed)
    full = {p: [rng.random() < acc for _ in range(n)] for p, acc in enumerate(accuracies)}
    dropped: dict[int, int] = {}
    for look, size in enumerate(design.sizes):
        asked = {p: v[: dropped.get(p, size)] for p, v in full.items()}
        decision, r = design.decide_positions(asked, look=look, max_drop=0.1)
        if decision != "continue":
            return decision, r
        for p in r.settled:
            dropped.setdefault(p, size)
    raise AssertionError("the last look always decides")


def test_a_comparison_that_settled_early_reads_passed_like_the_verdict_counted_it() -> None:
    """Seed 23: the probe PASSes at look 6 with every position settled, but the best edge's comparison
    with position 2, re-read on all the data without the "stays passed" rule, read INCONCLUSIVE with an
    upper bound (0.159) above the probe's own drop_ci[1] (0.091)."""
    decision, r = _run(23, (0.9, 0.9, 0.9))
    assert (decision, r.verdict, r.settled) == ("pass", "pass", (0, 1, 2))
    assert {j: c.verdict for j, c in r.comparisons.items()} == {1: "pass", 2: "pass"}
    # the probe's upper bound is the largest of the comparisons' (here: best edge's comparisons among them)
    assert max(c.drop_ci[1] for c in r.comparisons.values()) <= r.drop_ci[1] <= 0.1
    assert all(c.drop_ci[0] <= r.drop_ci[0] for c in r.comparisons.values())
    entries = r.to_dict()["comparisons"]
    assert isinstance(entries, dict)
    assert {j: e["verdict"] for j, e in entries.items()} == {"1": "pass", "2": "pass"}
    assert all(e["drop_ci"][1] <= 0.1 for e in entries.values())


def test_every_settled_position_reads_passed_and_a_pass_has_only_passed_comparisons() -> None:
    for seed in range(40):
        _, r = _run(seed, (0.9, 0.9, 0.9))
        for j, c in r.comparisons.items():
            if j in r.settled:
                assert c.verdict == "pass", (seed, j)
            assert c.drop_ci[1] <= r.drop_ci[1], (seed, j)
        if r.verdict == "pass":
            assert all(c.verdict == "pass" for c in r.comparisons.values()), seed


def _rows(n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        ctxs = [{"title": f"Item {i}", "text": f"The code of item {i} is Q{i}X.", "isgold": True}]
        ctxs += [{"title": f"Note {i}.{j}", "text": f"Shelf note {j}.", "isgold": False} for j in range(4)]
        rows.append({"question": f"What is the code of item {i}?", "answers": [f"Q{i}X"], "ctxs": ctxs})
    return rows


class _OtherEdgeUndecided:
    """171 items, wrong by item and gold position: the middle on 0-8 and 15-20, the last on 9-14, the first
    on 15-20. The first edge is best and passes against both others (few disagreeing answers); the last
    edge against the middle disagrees on 24 items: the only undecided comparison."""

    wrong: ClassVar[dict[int, set[int]]] = {
        0: set(range(15, 21)), 1: set(range(9)) | set(range(15, 21)), 2: set(range(9, 15))
    }

    def generate(self, question: str, documents: list[Document]) -> str:
        item = re.search(r"item (\d+)", question)
        assert item is not None
        i = int(item.group(1))
        idx = next(j for j, d in enumerate(documents) if f"code of item {i} is" in d.text)
        return "I do not know" if i in self.wrong[idx] else f"Q{i}X"


def test_an_inconclusive_probe_with_only_the_other_edges_comparisons_undecided_says_how_many_more() -> None:
    """The "about N more" figure was sized on the best edge's comparisons only: when those had all passed
    and only one of the other edge's was undecided, the INCONCLUSIVE probe said nothing on its size."""
    r = check_position(_OtherEdgeUndecided(), _rows(171), n_docs=3, positions=[0, 1, 2], max_drop=0.1, n=171)
    assert (r.verdict, r.n, r.metrics["best_edge"]) == ("inconclusive", 171, 0)
    assert r.notes == [
        "about 206 more questions (377 in all) would likely decide this (a rough estimate from the rates "
        "seen so far); these are all the questions given: add more to decide it"
    ]
