"""A probe with min_accuracy makes two checks (the drop test and the accuracy floor) and FAILs when either
does. Each FAILs at half of alpha (Bonferroni; positions: the comparison family at alpha / 2, each of the
k floors at alpha / (2 k)), so a pipeline at both boundaries at once (true drop == max_drop, accuracy ==
min_accuracy) FAILs at most alpha of the time; at alpha each, it FAILed up to 0.086 (docs/statistics.md).

Exact sums where the code has the machinery (fixed reverse design: every table; sequential designs and
positions: the two checks' exact FAIL probabilities, whose sum bounds the union). Calls without
``fail_alpha`` give the cuts they gave before (values recorded from 5bce984)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from pytest_ragprobe import stats as S

ALPHA = 0.05
MAX_DROP = 0.1
HALF = ALPHA / 2


# ----------------------------------------------------------------------------- unchanged without a split


def test_calls_without_fail_alpha_give_the_cuts_of_before() -> None:
    """Recorded from the code before the split (5bce984): fixed, sequential and position cuts."""
    assert S.critical_values(30, max_drop=MAX_DROP) == (1.734267622, 1.721561509)
    assert S.critical_values(100, max_drop=MAX_DROP) == (1.6970886925, 1.666829628)
    assert S.critical_values(100, max_drop=MAX_DROP, comparisons=8) == (2.6673095465, 1.666829628)
    d30 = S.sequential_design(30)
    assert d30.thresholds(max_drop=MAX_DROP, side="fail") == [
        2.809068067, 3.558408596, 2.608007524, 2.5527225115, 2.391781516, 2.2593524265, 1.9988628634999999,
        1.760874234,
    ]
    assert d30.thresholds(max_drop=MAX_DROP, side="pass")[-1] == 1.963448021
    cuts = S.position_fail_cuts(30, 5, max_drop=MAX_DROP)
    assert cuts is not None and float(np.sum(cuts)) == pytest.approx(73.95326426816682, rel=1e-13)
    last = d30.position_thresholds(max_drop=MAX_DROP, k=5)[-1]
    assert float(np.sum(last)) == pytest.approx(73.44164694966778, rel=1e-13)
    # fail_alpha = 1 - confidence is the default
    assert S.critical_values(100, max_drop=MAX_DROP, fail_alpha=1 - 0.95) == S.critical_values(100, max_drop=MAX_DROP)


def test_fail_alpha_moves_the_fail_side_only() -> None:
    lo_full, hi_full = S.critical_values(100, max_drop=MAX_DROP)
    lo_half, hi_half = S.critical_values(100, max_drop=MAX_DROP, fail_alpha=HALF)
    assert hi_half == hi_full and lo_half > lo_full
    assert lo_half == S.critical_values(100, max_drop=MAX_DROP, comparisons=2)[0]
    a = [True] * 90 + [False] * 10
    b = [True] * 62 + [False] * 38  # drop 0.28
    full = S.compare_paired(a, b, max_drop=MAX_DROP)
    half = S.compare_paired(a, b, max_drop=MAX_DROP, fail_alpha=HALF)
    assert half.drop_ci[1] == full.drop_ci[1] and half.drop_ci[0] < full.drop_ci[0]
    design = S.sequential_design(100)
    _, c_full = design.decide(a, b, look=7, max_drop=MAX_DROP)
    _, c_half = design.decide(a, b, look=7, max_drop=MAX_DROP, fail_alpha=HALF)
    assert c_half.drop_ci[1] == c_full.drop_ci[1] and c_half.drop_ci[0] < c_full.drop_ci[0]
    for bad in (0.0, 0.06, True):
        with pytest.raises(ValueError, match="fail_alpha"):
            S.critical_values(100, max_drop=MAX_DROP, fail_alpha=bad)


# ----------------------------------------------------------------------------- reverse, fixed: exact


def both_boundaries_fail(n: int, floor: float, nu: float, split: bool) -> float:
    """Exact P(FAIL) of the fixed reverse probe with min_accuracy=floor at forward - reverse == max_drop,
    reverse == floor, P(discordant) == nu: every table (n10, n01), the reverse count n11 + n01 given it."""
    p10, p01 = (nu + MAX_DROP) / 2, (nu - MAX_DROP) / 2
    p11, p00 = floor - p01, 1 - floor - p10
    i = np.arange(n + 1, dtype=np.float64)
    n10, n01 = np.meshgrid(i, i, indexing="ij")
    ok = n10 + n01 <= n
    n10, n01 = n10[ok], n01[ok]
    c = n - n10 - n01
    prob = sps.multinomial.pmf(np.stack([n10, n01, c], axis=1), n, [p10, p01, p11 + p00])
    zl, _ = S.critical_values(n, max_drop=MAX_DROP, fail_alpha=HALF if split else None)
    drop_fail = S.tango_statistic(n10, n01, float(n), MAX_DROP) > zl
    tests = 2 if split else 1
    kf = max((k for k in range(n + 1) if S.accuracy_verdict(k, n, floor, tests=tests) == "fail"), default=-1)
    floor_fail = sps.binom.cdf(kf - n01, c, p11 / (p11 + p00))  # reverse count n11 + n01 <= kf
    return float(np.sum(prob * np.where(drop_fail, 1.0, floor_fail)))


@pytest.mark.parametrize("n", [30, 100])
@pytest.mark.parametrize("floor", [0.6, 0.8])
def test_fixed_reverse_at_both_boundaries_fails_at_most_alpha(n: int, floor: float) -> None:
    hi = min(2 * floor + MAX_DROP, 2 * (1 - floor) - MAX_DROP)
    nus = np.linspace(MAX_DROP, hi, 25)
    after = max(both_boundaries_fail(n, floor, float(nu), True) for nu in nus)
    before = max(both_boundaries_fail(n, floor, float(nu), False) for nu in nus)
    assert after <= ALPHA
    assert before > ALPHA  # what the split fixes (0.064-0.086 measured)


# ----------------------------------------------------------------------------- sequential: exact bounds


def drop_fail_crossing(design: S.SequentialDesign, fail_alpha: float | None) -> float:
    """Exact sup over the discordance (a grid finer than and offset from the calibration grid) of
    P(the drop test's FAIL boundary is crossed at some look) at drop == max_drop, PASS stops ignored
    (they can only lower it)."""
    z = design.thresholds(max_drop=MAX_DROP, side="fail", alpha=fail_alpha)
    masks = S._look_masks(design.sizes, z, MAX_DROP)
    q01 = np.linspace(0.0, (1 - MAX_DROP) / 2, 97)
    crossed, _ = S._looks_distribution(design.sizes, masks, q01 + MAX_DROP, q01)
    return float(crossed.max())


def floor_fail_crossing(design: S.SequentialDesign, floor: float, tests: int) -> float:
    """Exact P(decide_floor ever says FAIL) at a true accuracy equal to the floor."""
    alive, prev, failed = np.ones(1), 0, 0.0
    for look, n in enumerate(design.sizes):
        alive = np.convolve(alive, sps.binom.pmf(np.arange(n - prev + 1), n - prev, floor))
        v = [design.decide_floor(k, n, floor, look=look, tests=tests) for k in range(n + 1)]
        fail = np.array([x == "fail" for x in v])
        done = fail | np.array([x == "pass" for x in v])
        failed += float(alive[fail].sum())
        alive = np.where(done, 0.0, alive)
        prev = n
    return failed


@pytest.mark.parametrize("n", [30, 100])
def test_sequential_reverse_checks_sum_to_at_most_alpha(n: int) -> None:
    """The probe FAILs iff the drop test's or the floor's first crossing is FAIL, so its FAIL rate at
    both boundaries is at most the sum of the two exact crossing probabilities."""
    design = S.sequential_design(n)
    drop = drop_fail_crossing(design, HALF)
    assert drop <= HALF * (1 + 1e-3)
    for floor in (0.6, 0.8):
        assert drop + floor_fail_crossing(design, floor, tests=2) <= ALPHA * (1 + 1e-3)


# ----------------------------------------------------------------------------- positions


@pytest.mark.parametrize("k", [3, 5])
def test_fixed_position_family_and_floors_sum_to_at_most_alpha(k: int) -> None:
    n = 100
    _, family, level = S._position_regions(n, MAX_DROP, round(HALF, 12), k)  # exact null-shape family bound
    assert family <= HALF * (1 + 1e-9)
    assert level >= HALF / (2 * (k - 1))  # at least plain Bonferroni's share of the half
    ks = np.arange(n + 1)
    for floor in (0.6, 0.8):
        fails = np.array([S.accuracy_verdict(int(c), n, floor, tests=2 * k) == "fail" for c in ks])
        assert family + k * sps.binom.pmf(ks, n, floor)[fails].sum() <= ALPHA


def test_sequential_position_comparisons_take_half_of_alpha() -> None:
    design = S.sequential_design(30, positions=5)
    half = design.position_alpha(max_drop=MAX_DROP, k=5, fail_alpha=HALF)
    assert HALF / 8 <= half < design.position_alpha(max_drop=MAX_DROP, k=5)
    cuts = design.position_thresholds(max_drop=MAX_DROP, k=5, fail_alpha=HALF)
    full = design.position_thresholds(max_drop=MAX_DROP, k=5)
    assert all(np.all(h >= f) for h, f in zip(cuts, full, strict=True))


@pytest.mark.parametrize("k", [3, 5])
def test_sequential_position_floors_take_half_of_alpha(k: int) -> None:
    design = S.sequential_design(60, positions=k)
    for floor in (0.6, 0.8):
        assert k * floor_fail_crossing(design, floor, tests=2 * k) <= HALF * (1 + 1e-9)


def test_fixed_positions_at_both_boundaries_monte_carlo() -> None:
    """Both edges max_drop above the floor, the interior at it (5 positions, independent outcomes, n = 100):
    3,000 runs; accepted below alpha + 3 standard errors (0.012)."""
    rng = np.random.default_rng(17)
    n, k, floor, sims = 100, 5, 0.6, 3000
    acc = np.array([floor + MAX_DROP, floor, floor, floor, floor + MAX_DROP])
    x = rng.random((sims, n, k)) < acc
    pairs = [(e, j) for e in (0, k - 1) for j in range(k) if j != e]

    def rate(split: bool) -> float:
        cuts = S.position_fail_cuts(n, k, max_drop=MAX_DROP, fail_alpha=HALF if split else None)
        assert cuts is not None
        fail = np.zeros(sims, dtype=bool)
        for e, j in pairs:
            n10 = np.sum(x[:, :, e] & ~x[:, :, j], axis=1)
            n01 = np.sum(x[:, :, j] & ~x[:, :, e], axis=1)
            fail |= S.tango_statistic(n10, n01, float(n), MAX_DROP) > cuts[n10 + n01]
        tests = 2 * k if split else k
        ffail = np.array([S.accuracy_verdict(c, n, floor, tests=tests) == "fail" for c in range(n + 1)])
        fail |= ffail[x.sum(axis=1)].any(axis=1)
        return float(fail.mean())

    assert rate(True) <= ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / sims)
    assert rate(True) < rate(False)
