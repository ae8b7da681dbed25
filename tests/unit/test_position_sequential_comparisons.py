"""A sequential position probe's per-comparison entries agree with the verdict's "stays passed" rule."""

from __future__ import annotations

import random

import pytest_ragprobe.stats as S


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

