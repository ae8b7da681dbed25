"""Exact-number tests for pytest_ragprobe.stats (no simulation; see test_stats_calibration.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats as sps

from pytest_ragprobe import stats as S


def pairs(n11: int, n10: int, n01: int, n00: int) -> tuple[list[bool], list[bool]]:
    a = [True] * n11 + [True] * n10 + [False] * n01 + [False] * n00
    b = [True] * n11 + [False] * n10 + [True] * n01 + [False] * n00
    return a, b


# ----------------------------------------------------------------------------- basics


def test_mcnemar_p_value_is_exact_binomial() -> None:
    a, b = pairs(30, 10, 2, 8)
    cmp = S.compare_paired(a, b, max_drop=0.1)
    assert cmp.p_value == sps.binomtest(2, 12, 0.5).pvalue
    assert (cmp.n, cmp.n10, cmp.n01, cmp.a_correct, cmp.b_correct) == (50, 10, 2, 40, 32)
    assert cmp.drop == pytest.approx(8 / 50)
    assert S.mcnemar_exact(0, 0) == 1.0


def test_wilson_interval_textbook_8_of_10() -> None:
    # Newcombe (1998) / Agresti-Coull textbook value for 8/10 at 95%: 0.4902 to 0.9433
    lo, hi = S.wilson_interval(8, 10, 0.95)
    assert lo == pytest.approx(0.4902, abs=1e-4)
    assert hi == pytest.approx(0.9433, abs=1e-4)
    # closed form
    z = sps.norm.ppf(0.975)
    centre = (8 + z * z / 2) / (10 + z * z)
    half = z / (10 + z * z) * math.sqrt(10 * 0.8 * 0.2 + z * z / 4)
    assert (lo, hi) == pytest.approx((centre - half, centre + half), abs=1e-12)
    assert S.wilson_interval(0, 0) == (0.0, 1.0)
    assert S.wilson_interval(0, 5)[0] == 0.0
    assert S.wilson_interval(5, 5)[1] == 1.0


def test_holm_hand_computed() -> None:
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 -> max(0.06, 0.04) = 0.06
    assert S.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert S.holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    assert S.holm([]) == []
    with pytest.raises(ValueError):
        S.holm([1.5])


@pytest.mark.parametrize(
    ("confidence", "bad"), [(0.5, True), (1.0, True), (0.95, False), (0.99, False)]
)
def test_confidence_validation(confidence: float, bad: bool) -> None:
    if bad:
        with pytest.raises(ValueError, match="confidence"):
            S.compare_paired([True], [True], max_drop=0.1, confidence=confidence)
    else:
        S.compare_paired([True], [True], max_drop=0.1, confidence=confidence)


def test_length_mismatch_and_missing_pairs() -> None:
    with pytest.raises(ValueError, match="length"):
        S.compare_paired([True, False], [True], max_drop=0.1)
    cmp = S.compare_paired([True, None, False], [True, True, None], max_drop=0.1)
    assert cmp.n == 1


# ----------------------------------------------------------------------------- intervals


def test_tango_bounds_all_concordant_closed_form() -> None:
    # no discordant pairs: upper bound solves sqrt(n d / (1 - d)) = z  ->  d = z^2 / (n + z^2)
    z = 1.6448536269514722
    lo, hi = S.tango_bounds(0, 0, 40, z_lower=z, z_upper=z)
    assert hi == pytest.approx(z * z / (40 + z * z), abs=1e-9)
    assert lo == pytest.approx(-hi, abs=1e-9)


def test_tango_statistic_matches_formula() -> None:
    # Tango (1998): T = (b - c - n d) / sqrt(n (2 q + d (1 - d))), q the constrained MLE
    n10, n01, n, d = 12, 4, 60, 0.05
    a_, b_, c_ = 2 * n, -n10 - n01 + (2 * n - n10 + n01) * d, -n01 * d * (1 - d)
    q = (-b_ + math.sqrt(b_ * b_ - 4 * a_ * c_)) / (2 * a_)
    expected = (n10 - n01 - n * d) / math.sqrt(n * (2 * q + d * (1 - d)))
    assert float(S.tango_statistic(n10, n01, n, d)) == pytest.approx(expected, rel=1e-12)


def test_drop_ci_contains_estimate_and_reads_verdict() -> None:
    for cells in [(30, 10, 2, 8), (40, 3, 3, 4), (0, 20, 0, 0), (0, 0, 20, 0), (5, 0, 0, 5)]:
        a, b = pairs(*cells)
        for md in (0.0, 0.1, 0.3):
            cmp = S.compare_paired(a, b, max_drop=md)
            lo, hi = cmp.drop_ci
            assert -1.0 <= lo <= cmp.drop <= hi <= 1.0
            expected = "fail" if lo > md else "pass" if hi <= md else "inconclusive"
            assert cmp.verdict == expected


def test_degenerate_inputs_are_nan_free() -> None:
    empty = S.compare_paired([], [], max_drop=0.1)
    assert empty.verdict == "inconclusive"
    assert empty.drop_ci == (-1.0, 1.0)
    d = empty.to_dict()
    json.dumps(d)
    assert not any(isinstance(v, float) and math.isnan(v) for v in d.values())
    # all concordant, all right: PASS once n is large enough
    a, b = pairs(200, 0, 0, 0)
    assert S.compare_paired(a, b, max_drop=0.1).verdict == "pass"
    # all discordant in one direction: FAIL
    a, b = pairs(0, 30, 0, 0)
    full = S.compare_paired(a, b, max_drop=0.1)
    assert full.verdict == "fail"
    assert full.drop == 1.0
    assert full.drop_ci[1] == 1.0
    # all discordant the other way: the drop is -1
    a, b = pairs(0, 0, 30, 0)
    neg = S.compare_paired(a, b, max_drop=0.1)
    assert neg.verdict == "pass"
    assert neg.drop_ci[0] == -1.0
    # a single pair decides nothing
    assert S.compare_paired([True], [False], max_drop=0.1).verdict == "inconclusive"


def test_accuracy_verdict() -> None:
    assert S.accuracy_verdict(95, 100, 0.8) == "pass"
    assert S.accuracy_verdict(50, 100, 0.8) == "fail"
    assert S.accuracy_verdict(8, 10, 0.8) == "inconclusive"
    assert S.accuracy_verdict(0, 0, 0.8) == "inconclusive"
    # exact one-sided Clopper-Pearson bounds at 0.95
    hi, lo = sps.beta.ppf(0.95, 71, 30), sps.beta.ppf(0.05, 70, 31)
    assert S.accuracy_verdict(70, 100, hi + 1e-9) == "fail" and S.accuracy_verdict(70, 100, hi - 1e-9) != "fail"
    assert S.accuracy_verdict(70, 100, lo) == "pass" and S.accuracy_verdict(70, 100, lo + 1e-9) != "pass"
    # tests=5 (every position held to the floor): the FAIL bound at 1 - 0.05 / 5
    hi5 = sps.beta.ppf(0.99, 71, 30)
    assert S.accuracy_verdict(70, 100, hi + 1e-6, tests=5) == "inconclusive"
    assert S.accuracy_verdict(70, 100, hi5 + 1e-9, tests=5) == "fail"
    # all right: lower bound 0.05 ** (1 / 100) = 0.9705; none right: upper 1 - 0.05 ** (1 / 10) = 0.259
    assert S.accuracy_verdict(100, 100, 0.97) == "pass" and S.accuracy_verdict(100, 100, 0.971) != "pass"
    assert S.accuracy_verdict(0, 10, 0.26) == "fail" and S.accuracy_verdict(0, 10, 0.258) != "fail"


@pytest.mark.parametrize("floor", [0.5, 0.8, 0.9, 0.95, 0.98])
@pytest.mark.parametrize("n", [10, 20, 30, 75, 100, 300])
def test_accuracy_floor_false_fail_at_most_alpha_exactly(floor: float, n: int) -> None:
    """A pipeline exactly at min_accuracy FAILs at most alpha of the time (exact binomial sums; the one-sided
    Wilson rule used before gave 0.087 at floor 0.8 / n = 20 and 0.18 at 0.98 / 10); with 5 positions held to
    the floor at once, at most alpha over all of them."""
    ks = np.arange(n + 1)
    fails = np.array([S.accuracy_verdict(int(k), n, floor) == "fail" for k in ks])
    assert sps.binom.pmf(ks, n, floor)[fails].sum() <= 0.05
    fails5 = np.array([S.accuracy_verdict(int(k), n, floor, tests=5) == "fail" for k in ks])
    assert 1 - (1 - sps.binom.pmf(ks, n, floor)[fails5].sum()) ** 5 <= 0.05


def _floor_crossings(design: S.SequentialDesign, floor: float, p: float, tests: int = 1) -> tuple[float, float]:
    """Exact probability that decide_floor ever says PASS / FAIL over the looks at true accuracy ``p``
    (the sum over the count's paths, stopping where a look decides)."""
    alive = np.ones(1)
    prev, passed, failed = 0, 0.0, 0.0
    for look, n in enumerate(design.sizes):
        alive = np.convolve(alive, sps.binom.pmf(np.arange(n - prev + 1), n - prev, p))
        verdicts = [design.decide_floor(k, n, floor, look=look, tests=tests) for k in range(n + 1)]
        passed += sum(m for m, v in zip(alive, verdicts, strict=True) if v == "pass")
        failed += sum(m for m, v in zip(alive, verdicts, strict=True) if v == "fail")
        alive = np.array([0.0 if v in ("pass", "fail") else m for m, v in zip(alive, verdicts, strict=True)])
        prev = n
    return passed, failed


@pytest.mark.parametrize("floor", [0.5, 0.8, 0.9, 0.95])
@pytest.mark.parametrize("n", [30, 100, 200])
def test_sequential_floor_errors_at_most_alpha_over_every_look(floor: float, n: int) -> None:
    """The sequential min_accuracy check: a pipeline exactly at the floor PASSes at most alpha and FAILs at
    most alpha / tests of the time, summed over the 8 looks (exact; re-reading the fixed Clopper-Pearson
    test at every look would not hold: 0.8 at n = 100 PASSes 0.11 of the time that way). Not a test that
    never decides: 2.5 points above the floor it PASSes at least half as often as the fixed test."""
    design = S.SequentialDesign(n)
    passed, failed = _floor_crossings(design, floor, floor)
    assert passed <= 0.05 + 1e-12 and failed <= 0.05 + 1e-12
    assert _floor_crossings(design, floor, floor, tests=5)[1] <= 0.01 + 1e-12
    ks = np.arange(n + 1)

    def fixed(p: float, verdict: str) -> float:
        return float(sps.binom.pmf(ks, n, p)[[S.accuracy_verdict(int(k), n, floor) == verdict for k in ks]].sum())

    # (30 answers cannot show 0.95: 30 of 30 is p = 0.21, fixed or not)
    assert passed >= 0.5 * fixed(floor, "pass") and failed >= 0.5 * fixed(floor, "fail")
    better = min(0.999, floor + 0.025 + 0.05 * (n < 100))
    assert _floor_crossings(design, floor, better)[0] >= 0.5 * fixed(better, "pass")


def test_sequential_floor_with_one_look_is_the_fixed_test() -> None:
    one = S.SequentialDesign(60, looks=1)
    for floor in (0.5, 0.7, 0.9, 0.95):
        for k in range(61):
            assert one.decide_floor(k, 60, floor, look=0) == S.accuracy_verdict(k, 60, floor), (floor, k)
            v5 = one.decide_floor(k, 60, floor, look=0, tests=5)
            assert v5 == S.accuracy_verdict(k, 60, floor, tests=5), (floor, k)


# ----------------------------------------------------------------------------- positions


def test_compare_positions_u_shape() -> None:
    n = 60
    outcomes = {
        0: [True] * 54 + [False] * 6,
        4: [True] * 30 + [False] * 30,
        9: [True] * 50 + [False] * 10,
    }
    res = S.compare_positions(outcomes, max_drop=0.1)
    assert res.positions == [0, 4, 9]
    assert res.n == n
    assert res.best_edge == 0
    assert res.worst == 4
    assert res.drop == pytest.approx(0.4)
    assert res.shape == "U-shaped"
    assert res.verdict == "fail"
    assert set(res.comparisons) == {4, 9}
    assert res.comparisons[4].p_value == res.p_value
    # Holm over the 2k - 3 = 3 distinct edge-vs-position McNemar tests
    raw = [S.mcnemar_exact(24, 0), S.mcnemar_exact(4, 0), S.mcnemar_exact(20, 0)]
    assert res.p_value == pytest.approx(S.holm(raw)[0])
    lo, hi = res.drop_ci
    assert lo > 0.1 and lo <= res.drop <= hi
    json.dumps(res.to_dict())


def test_compare_positions_flat_pass_and_shapes() -> None:
    same = [True] * 190 + [False] * 10
    res = S.compare_positions({0: same, 5: same, 9: same}, max_drop=0.1)
    assert res.verdict == "pass"
    assert res.shape == "flat"
    assert res.drop == 0.0
    assert S.position_shape({0: 0.9, 5: 0.7, 9: 0.6}) == "declining"
    assert S.position_shape({0: 0.6, 5: 0.7, 9: 0.9}) == "rising"
    assert S.position_shape({0: 0.6, 5: 0.9, 9: 0.6}) == "inverted-U"
    assert S.position_shape({0: 0.9, 9: 0.9}) == "flat"


def test_compare_positions_bonferroni_is_stricter_than_single_pair() -> None:
    a, b = pairs(20, 14, 1, 5)  # edge 0 vs position 5
    single = S.compare_paired(a, b, max_drop=0.1)
    res = S.compare_positions({0: a, 5: b, 9: a}, max_drop=0.1)
    assert res.drop_ci[0] < single.drop_ci[0]
    assert res.drop_ci[1] == pytest.approx(single.drop_ci[1])


def test_compare_positions_validation() -> None:
    with pytest.raises(ValueError, match="two positions"):
        S.compare_positions({0: [True]}, max_drop=0.1)
    with pytest.raises(ValueError, match="same questions"):
        S.compare_positions({0: [True], 1: [True, False]}, max_drop=0.1)
    res = S.compare_positions({0: [], 9: []}, max_drop=0.1)
    assert res.verdict == "inconclusive"
    assert res.n == 0


# ----------------------------------------------------------------------------- sample size


def test_required_n_monotone_in_power_and_drop() -> None:
    ns = [S.required_n(acc_a=0.9, acc_b=0.65, max_drop=0.1, power=p) for p in (0.5, 0.7, 0.8, 0.9)]
    assert ns == sorted(ns) and ns[0] < ns[-1]
    by_drop = [S.required_n(acc_a=0.9, acc_b=0.9 - d, max_drop=0.1) for d in (0.2, 0.25, 0.35)]
    assert by_drop == sorted(by_drop, reverse=True)
    # correlated outcomes (low discordance) need fewer pairs than independent ones
    assert S.required_n(acc_a=0.9, acc_b=0.65, max_drop=0.1, discordance=0.25) < ns[2]
    # the promised power holds exactly at the returned n
    n = S.required_n(acc_a=0.9, acc_b=0.65, max_drop=0.1)
    assert S.fail_probability(n, p10=0.9 * 0.35, p01=0.1 * 0.65, max_drop=0.1) >= 0.8
    with pytest.raises(ValueError, match="max_drop"):
        S.required_n(acc_a=0.9, acc_b=0.85, max_drop=0.1)
    with pytest.raises(ValueError, match="discordance"):
        S.required_n(acc_a=0.9, acc_b=0.6, max_drop=0.1, discordance=0.05)


def test_required_n_power_is_saw_toothed_as_documented() -> None:
    """docs/statistics.md and the README: the power is reached at the returned n, yet a few more pairs
    can fall short of it again (a discrete test), with the figures they quote."""
    ind = {"p10": 0.9 * 0.35, "p01": 0.1 * 0.65, "max_drop": 0.1}
    assert S.required_n(acc_a=0.9, acc_b=0.65, max_drop=0.1) == 92
    assert round(S.fail_probability(92, **ind), 3) == 0.804
    assert round(S.fail_probability(95, **ind), 3) == 0.762
    assert round(S.fail_probability(103, **ind), 3) == 0.788
    assert all(S.fail_probability(n, **ind) >= 0.8 for n in range(104, 112))
    ind7 = {"p10": 0.9 * 0.3, "p01": 0.1 * 0.7, "max_drop": 0.1}
    assert S.required_n(acc_a=0.9, acc_b=0.7, max_drop=0.1) == 191
    assert round(S.fail_probability(191, **ind7), 3) == 0.805
    assert round(S.fail_probability(195, **ind7), 3) == 0.777


def test_more_needed() -> None:
    a, b = pairs(30, 6, 1, 3)  # drop 0.125, undecided at n = 40
    cmp = S.compare_paired(a, b, max_drop=0.05)
    assert cmp.verdict == "inconclusive"
    extra = S.more_needed(cmp, max_drop=0.05, confidence=0.95)
    assert extra is not None and extra > 0
    # a FAIL that must clear a stricter level (one position comparison of 8) needs more
    stricter = S.more_needed(cmp, max_drop=0.05, confidence=0.95, fail_confidence=1 - 0.05 / 8)
    assert stricter is not None and stricter > extra
    # the PASS side keeps `confidence`
    passing = S.compare_paired(*pairs(20, 1, 1, 2), max_drop=0.1)
    assert passing.verdict == "inconclusive"
    assert S.more_needed(passing, max_drop=0.1, confidence=0.95, fail_confidence=0.999) == S.more_needed(
        passing, max_drop=0.1, confidence=0.95
    )
    decided = S.compare_paired(*pairs(0, 30, 0, 0), max_drop=0.1)
    assert S.more_needed(decided, max_drop=0.1, confidence=0.95) == 0
    at_tolerance = S.compare_paired(*pairs(10, 3, 1, 6), max_drop=0.1)  # drop == max_drop
    assert at_tolerance.verdict == "inconclusive"
    assert S.more_needed(at_tolerance, max_drop=0.1, confidence=0.95) is None


# ----------------------------------------------------------------------------- sequential


def test_group_sequential_bounds_match_published_obf() -> None:
    # Lan-DeMets O'Brien-Fleming, one-sided 0.025, 4 equally spaced looks (gsDesign / ldbounds)
    b = S.group_sequential_bounds([0.25, 0.5, 0.75, 1.0], 0.025, "obf")
    assert b == pytest.approx([4.3326, 2.9631, 2.3590, 2.0141], abs=2e-3)
    assert S.group_sequential_bounds([1.0], 0.05, "obf") == pytest.approx([1.6449], abs=1e-4)


def test_sequential_design_decisions() -> None:
    design = S.SequentialDesign(100, looks=4)
    assert design.sizes == [25, 50, 75, 100]
    a, b = pairs(12, 1, 1, 11)  # 25 pairs, nothing clear
    verdict, cmp = design.decide(a, b, look=0, max_drop=0.1)
    assert verdict == "continue"
    assert cmp.verdict == "inconclusive"
    a, b = pairs(0, 25, 0, 0)  # overwhelming drop at the first look
    verdict, cmp = design.decide(a, b, look=0, max_drop=0.1)
    assert verdict == "fail"
    a, b = pairs(50, 6, 4, 40)
    verdict, _ = design.decide(a, b, look=3, max_drop=0.1)
    assert verdict in ("pass", "fail", "inconclusive")
    with pytest.raises(ValueError, match="0-based"):
        design.decide(a, b, look=4, max_drop=0.1)

def test_sequential_design_picks_the_looks_by_probe() -> None:
    # reverse probes and position probes with 4+ positions: 8 even looks, PASS gamma -1
    for design in (S.sequential_design(100), S.sequential_design(100, positions=5)):
        assert design.sizes == [13, 25, 38, 50, 63, 75, 88, 100]
        assert design.pass_spending == S.PASS_SPENDING
    few = S.sequential_design(100, positions=3)
    assert few.sizes == [25, 35, 42, 48, 53, 58, 63, 68, 73, 79, 87, 100]  # no float drift at 35
    assert few.looks == 12
    assert few.pass_spending == S.FEW_POSITION_PASS_SPENDING == -0.5
    assert S.sequential_design(300, positions=2).sizes[:3] == [75, 105, 126]
    # a small sample merges looks that round to the same size
    assert S.sequential_design(8, positions=3).sizes == [2, 3, 4, 5, 6, 7, 8]


@pytest.mark.parametrize("fractions", [[0.5, 0.9], [0.5, 0.5, 1.0], [0.0, 1.0], [0.7, 0.3, 1.0], []])
def test_sequential_design_refuses_bad_fractions(fractions: list[float]) -> None:
    with pytest.raises(ValueError, match="fractions must increase"):
        S.SequentialDesign(100, fractions=fractions)



def test_sequential_positions() -> None:
    design = S.SequentialDesign(40, looks=2)
    same = [True] * 40
    verdict, res = design.decide_positions({0: same, 4: same, 9: same}, look=1, max_drop=0.2)
    assert verdict == "pass"
    assert res.verdict == "pass"
    low = [True] * 20
    bad = [False] * 20
    verdict, res = design.decide_positions({0: low, 4: bad, 9: low}, look=0, max_drop=0.2)
    assert verdict == "fail"
    assert res.worst == 4


def test_sequential_pass_spending_only_moves_the_pass_side() -> None:
    default = S.SequentialDesign(100, looks=4)
    early = S.SequentialDesign(100, looks=4, pass_spending="pocock")
    assert early.thresholds(max_drop=0.1, side="fail") == default.thresholds(max_drop=0.1, side="fail")
    eager, late = early.thresholds(max_drop=0.1, side="pass"), default.thresholds(max_drop=0.1, side="pass")
    assert eager[0] < late[0]  # Pocock spends more alpha at the first look
    assert eager[-1] > late[-1]  # ... and so keeps less for the last one
    with pytest.raises(ValueError, match="spending must be"):
        S.SequentialDesign(100, pass_spending="often")  # type: ignore[arg-type]


def test_sequential_position_spending_only_moves_the_position_fail_side() -> None:
    default = S.SequentialDesign(60, looks=4)
    assert default.position_spending == S.POSITION_FAIL_SPENDING
    eager = S.SequentialDesign(60, looks=4, position_spending="pocock")
    for side in ("fail", "pass"):
        assert eager.thresholds(max_drop=0.1, side=side) == default.thresholds(max_drop=0.1, side=side)
    # the plain Bonferroni cut of a position comparison (2 positions: no null-shape refinement)
    minus4 = S.SequentialDesign(60, looks=4, position_spending=-4)
    late, early = (d.position_thresholds(max_drop=0.1, k=2) for d in (default, minus4))
    assert early[0][0] < late[0][0] and early[-1][0] >= late[-1][0]  # -4 spends earlier than -8
    assert list(late[0]) == [default.thresholds(max_drop=0.1, alpha=0.025, side="position")[0]] * 61
    with pytest.raises(ValueError, match="spending must be"):
        S.SequentialDesign(100, position_spending="often")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="side must be"):
        default.thresholds(max_drop=0.1, side="positions")


def test_missing_outcomes_are_left_out_and_non_booleans_refused() -> None:
    """NaN (pandas / numpy missing values) counted as a right answer: bool(nan) is True."""
    cmp = S.compare_paired([float("nan"), False, True], [False, False, np.float64("nan")], max_drop=0.1)
    assert (cmp.n, cmp.n10, cmp.n01) == (1, 0, 0)
    assert S.compare_paired(np.array([True, False]), np.array([1, 0]), max_drop=0.1).n == 2
    pos = S.compare_positions({0: [True, float("nan"), True], 1: [True, True, False], 2: [True] * 3}, max_drop=0.1)
    assert pos.n == 2
    with pytest.raises(TypeError, match=r"outcomes must be True, False or None \(left out\), got 'False' \(str\)"):
        S.compare_paired(["False"], [False], max_drop=0.1)


def test_required_n_refuses_what_is_not_an_accuracy_or_a_max_drop() -> None:
    # Was: max_drop=-0.1 returned 23 (the probes refuse it), acc_a="0.9" raised a bare TypeError, and
    # acc_a=True was read as 1.0.
    for bad, message in (
        ({"max_drop": -0.1}, r"max_drop must be a number in \[0, 1\), as the marks take it, got -0\.1"),
        ({"acc_a": "0.9"}, r"acc_a must be a number in \[0, 1\], got '0\.9'"),
        ({"acc_a": True}, r"acc_a must be a number in \[0, 1\], got True"),
        ({"discordance": 1.5}, r"discordance must be a number in \[0, 1\], got 1\.5"),
        ({"power": 1}, r"power must lie in \(0, 1\), got 1"),
    ):
        args = {"acc_a": 0.9, "acc_b": 0.6, "max_drop": 0.1, **bad}
        with pytest.raises(ValueError, match=message):
            S.required_n(**args)
    with pytest.raises(ValueError, match=r"at least \|acc_a - acc_b\| of the pairs differ"):
        S.required_n(acc_a=0.9, acc_b=0.6, max_drop=0.1, discordance=0.05)
    assert S.required_n(acc_a=np.float32(0.9), acc_b=0.6, max_drop=0.1) == S.required_n(acc_a=0.9, acc_b=0.6, max_drop=0.1)
