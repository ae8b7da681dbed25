"""Exact properties of the position FAIL rule (stats.position_fail_cuts): checked by enumerating
every table, independently of the search that built the cuts."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import numpy as np
import pytest

from pytest_ragprobe import stats as S

ALPHA = 0.05
MAX_DROP = 0.1

pytestmark = pytest.mark.slow  # pure computation / model loading: run once, in the -n 2 pass


@pytest.fixture(autouse=True)
def _tables_shared_by_this_runs_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Several tests here build the same sequential position rule (SequentialDesign(100, looks=4) at k=3:
    the alpha and boundary tests; SequentialDesign(60) at k=3: the null-bound [3-8] and API tests;
    sequential_design(100, positions=3): the power and settled tests; SequentialDesign(100) at k=5: the
    five-position tests), 5-20 s of CPU each.
    In one process its lru_cache shares them; under -n 2 the tests land on both workers, which each built
    them. Stored tables (stats.set_table_dir, read back exactly: test_stats_tables) in a directory of this
    run only (the session's temporary root under xdist) let a worker read what the other built first."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    S.set_table_dir(root / "ragprobe-position-tables")
    yield
    S.set_table_dir(None)


def fail_probability(cuts: np.ndarray, n: int, p10: float, p01: float) -> float:
    """Exact P(T(max_drop) > cuts[n10 + n01]) for one comparison with cell probabilities."""
    i = np.arange(n + 1)
    n10, n01 = np.meshgrid(i, i, indexing="ij")
    ok = n10 + n01 <= n
    a, b = n10[ok], n01[ok]
    log = (
        S.special.gammaln(n + 1)
        - S.special.gammaln(a + 1)
        - S.special.gammaln(b + 1)
        - S.special.gammaln(n - a - b + 1)
        + S.special.xlogy(a, p10)
        + S.special.xlogy(b, p01)
        + S.special.xlogy(n - a - b, max(0.0, 1 - p10 - p01))
    )
    fails = S.tango_statistic(a, b, float(n), MAX_DROP) > cuts[a + b]
    return float(np.exp(log)[fails].sum())


def joint(acc: list[float], shared: float) -> dict[tuple[int, ...], float]:
    """Distribution over outcome patterns: a latent-difficulty share ``shared``, rest independent."""
    out = {}
    for cell in itertools.product([0, 1], repeat=len(acc)):
        ind = float(np.prod([a if x else 1 - a for a, x in zip(acc, cell, strict=True)]))
        lo = max([a for a, x in zip(acc, cell, strict=True) if not x], default=0.0)
        hi = min([a for a, x in zip(acc, cell, strict=True) if x], default=1.0)
        out[cell] = shared * max(0.0, hi - lo) + (1 - shared) * ind
    return out


def family_fail_bound(cuts: np.ndarray, n: int, dist: dict[tuple[int, ...], float]) -> float:
    """Sum over the 2 (k - 1) edge comparisons of their exact FAIL probabilities (>= the chance
    that any of them fails)."""
    k = len(next(iter(dist)))
    total = 0.0
    for e in (0, k - 1):
        for j in range(k):
            if j == e:
                continue
            p10 = sum(p for c, p in dist.items() if c[e] and not c[j])
            p01 = sum(p for c, p in dist.items() if c[j] and not c[e])
            total += fail_probability(cuts, n, p10, p01)
    return total


@pytest.mark.parametrize(("n", "k"), [(30, 3), (100, 3), (100, 5), (60, 4)])
def test_false_fail_bound_holds_at_null_pipelines(n: int, k: int) -> None:
    cuts = S.position_fail_cuts(n, k, max_drop=MAX_DROP)
    assert cuts is not None and cuts.shape == (n + 1,)
    for top in (0.5, 0.8, 0.95):
        for gap in (0.0, 0.04, 0.1):  # edges differ by gap; interior max_drop below the best
            acc = [top] + [top - MAX_DROP] * (k - 2) + [top - gap]
            for shared in (0.0, 0.5, 1.0):
                assert family_fail_bound(cuts, n, joint(acc, shared)) <= ALPHA + 1e-9


@pytest.mark.parametrize(("n", "k"), [(30, 3), (100, 5)])
def test_cuts_are_one_threshold_on_n10_per_discordant_count(n: int, k: int) -> None:
    cuts = S.position_fail_cuts(n, k, max_drop=MAX_DROP)
    assert cuts is not None
    for t in range(n + 1):
        n10 = np.arange(t + 1)
        fails = S.tango_statistic(n10, t - n10, float(n), MAX_DROP) > cuts[t]
        # FAIL tables for this t are exactly n10 >= r: no holes
        assert not np.any(fails[:-1] & ~fails[1:])


def test_refinement_beats_plain_bonferroni_but_not_a_single_comparison() -> None:
    n, k = 100, 3
    cuts = S.position_fail_cuts(n, k, max_drop=MAX_DROP)
    assert cuts is not None
    single = S.critical_values(n, max_drop=MAX_DROP)[0]
    bonf = S.critical_values(n, max_drop=MAX_DROP, comparisons=2 * (k - 1))[0]
    # power against a typical alternative: first vs middle, independent, 0.9 vs 0.65
    p10, p01 = 0.9 * 0.35, 0.1 * 0.65
    new = fail_probability(cuts, n, p10, p01)
    old = fail_probability(np.full(n + 1, bonf), n, p10, p01)
    one = fail_probability(np.full(n + 1, single), n, p10, p01)
    assert old < new < one
    assert round(old, 3) == 0.602 and round(new, 3) == 0.736  # exact sums, one comparison


def test_falls_back_to_bonferroni_where_it_does_not_apply() -> None:
    assert S.position_fail_cuts(700, 3, max_drop=0.1) is None  # above EXACT_MAX_N: normal cuts
    assert S.position_fail_cuts(100, 3, max_drop=0.0) is None
    outcomes = {0: [True] * 700, 5: [True] * 700, 9: [True] * 700}
    assert S.compare_positions(outcomes, max_drop=0.1).verdict == "pass"


def test_sequential_position_alpha() -> None:
    design = S.SequentialDesign(100, looks=4)
    # 3 positions: the null-shape start alpha / (2 (k - 2)) holds, a 5% step up does not, the
    # bisection between them keeps a quarter of the step; 5 positions: four 5% steps up hold
    assert design.position_alpha(max_drop=MAX_DROP, k=3) == pytest.approx(ALPHA / 2 * 1.0125)
    assert design.position_alpha(max_drop=MAX_DROP, k=5) == pytest.approx(ALPHA / 6 * 1.05**4)
    # where the refinement does not apply: plain Bonferroni over 2 (k - 1) comparisons
    assert design.position_alpha(max_drop=MAX_DROP, k=2) == pytest.approx(ALPHA / 2)
    assert S.SequentialDesign(300).position_alpha(max_drop=MAX_DROP, k=3) == pytest.approx(ALPHA / 4)
    assert design.position_alpha(max_drop=0.0, k=3) == pytest.approx(ALPHA / 4)
    flat = S.SequentialDesign(300).position_thresholds(max_drop=MAX_DROP, k=3)
    assert [len(set(c)) for c in flat] == [1] * S.LOOKS  # one cut per look, not per t


def trinomial(n: int, p10: float, p01: float) -> np.ndarray:
    i = np.arange(n + 1)
    a, b = np.meshgrid(i, i, indexing="ij")
    ok = a + b <= n
    c = np.where(ok, n - a - b, 0)
    log = (
        S.special.gammaln(n + 1)
        - S.special.gammaln(a + 1)
        - S.special.gammaln(b + 1)
        - S.special.gammaln(c + 1)
        + S.special.xlogy(a, p10)
        + S.special.xlogy(b, p01)
        + S.special.xlogy(c, max(0.0, 1 - p10 - p01))
    )
    return np.where(ok, np.exp(log), 0.0)


def sequential_fail_probability(
    design: S.SequentialDesign, cuts: list[np.ndarray], p10: float, p01: float
) -> float:
    """Exact P(one comparison crosses its FAIL cut at some look): the distribution of (n10, n01)
    is carried from look to look by direct convolution, tables that crossed are removed."""
    dist = np.ones((1, 1))
    prev, crossed = 0, 0.0
    for size, cut in zip(design.sizes, cuts, strict=True):
        inc = trinomial(size - prev, p10, p01)
        new = np.zeros((size + 1, size + 1))
        for i, j in zip(*np.nonzero(dist > 0), strict=True):
            new[i : i + inc.shape[0], j : j + inc.shape[1]] += dist[i, j] * inc
        prev, dist = size, new
        a, b = np.meshgrid(np.arange(size + 1), np.arange(size + 1), indexing="ij")
        ok = a + b <= size
        over = ok & (S.tango_statistic(a, b, float(size), MAX_DROP) > cut[np.minimum(a + b, size)])
        crossed += float(dist[over].sum())
        dist[over] = 0.0
    return crossed


@pytest.mark.parametrize(("k", "looks"), [(3, 4), (5, 4), (3, S.LOOKS), (3, None)])
def test_sequential_false_fail_bound_holds_at_null_pipelines(k: int, looks: int | None) -> None:
    """The whole sequential FAIL rule (earlier looks' spending cuts, Berger-Boos cuts per t at the
    last look): the sum of the comparisons' exact crossing probabilities stays <= alpha. None:
    the 12 uneven looks 3-position probes use."""
    design = S.sequential_design(60, positions=k) if looks is None else S.SequentialDesign(60, looks=looks)
    cuts = design.position_thresholds(max_drop=MAX_DROP, k=k)
    assert len(set(cuts[-1])) > 1  # the last look's cut depends on t
    for top in (0.5, 0.8, 0.95):
        for gap in (0.0, 0.1):
            acc = [top] + [top - MAX_DROP] * (k - 2) + [top - gap]
            for shared in (0.0, 1.0):
                dist = joint(acc, shared)
                total = 0.0
                for e in (0, k - 1):
                    for j in range(k):
                        if j != e:
                            p10 = sum(p for c, p in dist.items() if c[e] and not c[j])
                            p01 = sum(p for c, p in dist.items() if c[j] and not c[e])
                            total += sequential_fail_probability(design, cuts, p10, p01)
                assert total <= ALPHA + 1e-9


def sequential_fail_rate(design: S.SequentialDesign, x: np.ndarray) -> float:
    """Monte Carlo FAIL rate of the sequential position rule on outcomes ``x`` (sims, n, k): some
    edge comparison not yet settled (past its PASS boundary at an earlier look) crosses its cut
    (per look, per discordant count) at some look."""
    k = x.shape[2]
    z = design.position_thresholds(max_drop=MAX_DROP, k=k)
    zp = design.thresholds(max_drop=MAX_DROP, side="pass")
    pairs = [(e, j) for e in (0, k - 1) for j in range(k) if j != e]
    fail = np.zeros(x.shape[0], dtype=bool)
    settled = np.zeros((x.shape[0], len(pairs)), dtype=bool)
    for look, size in enumerate(design.sizes):
        for i, (e, j) in enumerate(pairs):
            n10 = np.sum(x[:, :size, e] & ~x[:, :size, j], axis=1)
            n01 = np.sum(x[:, :size, j] & ~x[:, :size, e], axis=1)
            t = S.tango_statistic(n10, n01, float(size), MAX_DROP)
            fail |= (t > z[look][n10 + n01]) & ~settled[:, i]
            settled[:, i] |= S.lr_statistic(n10, n01, float(size), MAX_DROP) <= -zp[look]
    return float(fail.mean())


@pytest.mark.parametrize("shared", [0.0, 1.0])
def test_sequential_position_false_fail_at_the_boundary(shared: float) -> None:
    """Monte Carlo of the whole sequential rule (every look, every comparison) at a pipeline whose
    interior position is exactly max_drop below both edges: FAIL <= alpha + 3 MC standard errors."""
    n, sims, k = 100, 4000, 3
    design = S.SequentialDesign(n, looks=4)
    rng = np.random.default_rng(11)
    acc = np.array([0.8, 0.8 - MAX_DROP, 0.8])
    own = rng.random((sims, n, k))
    one = rng.random((sims, n, 1))
    x = np.where(rng.random((sims, n, 1)) < shared, one, own) < acc
    assert sequential_fail_rate(design, x) <= ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / sims)


def test_sequential_position_power_with_independent_positions() -> None:
    """3 independent positions, the middle one max_drop + 0.15 below both edges (the bench's U):
    the sequential rule a 3-position probe uses (12 uneven looks) FAILs >= 80% of the time
    (bench/calibration.py, 20,000 runs: 0.859, as the fixed design). 3-SE MC band."""
    n, sims, k = 100, 2000, 3
    design = S.sequential_design(n, positions=k)
    rng = np.random.default_rng(5)
    x = rng.random((sims, n, k)) < np.array([0.9, 0.9 - MAX_DROP - 0.15, 0.9])
    assert sequential_fail_rate(design, x) >= 0.8 - 3 * np.sqrt(0.8 * 0.2 / sims)


def test_position_fail_spending_keeps_the_power_at_five_independent_positions() -> None:
    """5 independent positions, the bench's U (0.9, 0.7125, 0.65, 0.7125, 0.9): the default
    sequential rule (position FAIL spending -8) FAILs >= 80% of the time (3-SE band; calibration,
    20,000 runs: 0.813, fixed design 0.809) and more often than with the reversal's -4 on the
    same runs (0.789 in the calibration: the reason positions spend later)."""
    n, sims = 100, 10_000
    rng = np.random.default_rng(5)
    x = rng.random((sims, n, 5)) < np.array([0.9, 0.7125, 0.65, 0.7125, 0.9])
    default = sequential_fail_rate(S.SequentialDesign(n), x)
    earlier = sequential_fail_rate(S.SequentialDesign(n, position_spending=-4), x)
    assert default >= 0.8 - 3 * np.sqrt(0.8 * 0.2 / sims)
    assert default > earlier + 0.01


def test_sequential_positions_api_agrees_with_the_vectorised_rule_and_passes_are_sticky() -> None:
    """decide_positions at every look == FAIL if some comparison not settled before this look
    crosses its FAIL cut now, PASS once every comparison has crossed its PASS boundary at SOME look
    so far (each comparison's sequential PASS test is level alpha on its own: intersection-union).
    Fed as the probe feeds it: a position stops getting questions once every comparison it is in
    has settled (its list stops there). Seeds chosen so that some runs PASS only thanks to a
    comparison that crossed earlier and is above its boundary now, and some stop asking a
    position early."""
    n, k = 60, 3
    design = S.SequentialDesign(n)
    zf = design.position_thresholds(max_drop=MAX_DROP, k=k)
    zp = design.thresholds(max_drop=MAX_DROP, side="pass")
    pairs = [(0, 1), (0, 2), (2, 0), (2, 1)]
    rng = np.random.default_rng(21)
    sticky_only = dropped_runs = 0
    for _ in range(60):
        x = np.where(rng.random((n, 1)) < 0.5, rng.random((n, 1)), rng.random((n, k))) < 0.9
        crossed = np.zeros(len(pairs), dtype=bool)
        stop = [n, n, n]  # questions asked per position row
        for look, size in enumerate(design.sizes):
            rows = [min(size, stop[r]) for r in range(k)]
            m = [min(rows[e], rows[j]) for e, j in pairs]
            a = np.array([np.sum(x[: m[i], e] & ~x[: m[i], j]) for i, (e, j) in enumerate(pairs)])
            b = np.array([np.sum(x[: m[i], j] & ~x[: m[i], e]) for i, (e, j) in enumerate(pairs)])
            fail = bool(np.any((S.tango_statistic(a, b, m, MAX_DROP) > zf[look][a + b]) & ~crossed))
            now = S.lr_statistic(a, b, np.array(m, dtype=float), MAX_DROP) <= -zp[look]
            crossed |= now
            want = "fail" if fail else "pass" if crossed.all() else "continue"
            if look == len(design.sizes) - 1 and want == "continue":
                want = "inconclusive"
            outcomes = {p: [bool(v) for v in x[: rows[r], r]] for r, p in enumerate([0, 4, 9])}
            got, res = design.decide_positions(outcomes, look=look, max_drop=MAX_DROP)
            assert got == want, (look, a, b)
            assert (res.drop_ci[1] <= MAX_DROP) == bool(crossed.all())  # the bound the verdict reads
            if want == "pass":
                sticky_only += int(not now.all())
                break
            if want in ("fail", "inconclusive"):
                break
            settled = {r for r in range(k) if all(crossed[i] for i, pr in enumerate(pairs) if r in pr)}
            assert set(res.settled) == {[0, 4, 9][r] for r in settled}
            for r in settled:
                if stop[r] == n:
                    stop[r] = size
                    dropped_runs += 1
    assert sticky_only > 0 and dropped_runs > 0


@pytest.mark.parametrize(
    ("limit", "expected", "calls"),
    [
        # 0.0105 holds, 0.011025 does not: three bisections (0.01076 no, 0.01063 yes, 0.01070 yes)
        (0.0107, 0.010696875, 6),
        (0.02, 0.01 * 1.05**4, 5),  # every 5% step holds: nothing to bisect
        # the start fails: 0.009 holds, 0.00945 does not, then bisect between them
        (0.0093, 0.00928125, 6),
    ],
)
def test_level_search_steps_then_bisects(limit: float, expected: float, calls: int) -> None:
    tried: list[float] = []

    def attempt(level: float) -> float | None:
        tried.append(level)
        return level if level <= limit else None

    assert S._largest_level(attempt, 0.01, floor=0.001) == pytest.approx(expected)
    assert len(tried) == calls  # start, shrink and grow steps, bisections


def test_settled_positions_stop_being_asked_and_that_saves_calls() -> None:
    """The calibration's "3 positions, 50% shared difficulty" at drop 0, n = 100: a position stops
    being asked once every comparison it is in has crossed its PASS
    boundary. Counting the questions asked per position, the sequential probe (its 3-position looks)
    saves >= 14% of the calls (calibration, 20,000 runs: 19%), against 11% when every position is
    asked until the probe decides (3-SE margin: the saved fraction's SE is < 0.01 over 2,000 runs)."""
    n, k, sims = 100, 3, 2000
    design = S.sequential_design(n, positions=k)
    zf = design.position_thresholds(max_drop=MAX_DROP, k=k)
    zp = design.thresholds(max_drop=MAX_DROP, side="pass")
    rng = np.random.default_rng(3)
    x = np.where(rng.random((sims, n, 1)) < 0.5, rng.random((sims, n, 1)), rng.random((sims, n, k)))
    x = x < 0.9
    pairs = [(0, 1), (0, 2), (2, 0), (2, 1)]
    crossed = np.zeros((sims, len(pairs)), dtype=bool)
    decided = np.zeros(sims, dtype=bool)
    stop = np.full(sims, n)
    asked = np.zeros((sims, k), dtype=np.int64)  # questions asked per position
    active = np.ones((sims, k), dtype=bool)
    prev = 0
    for look, size in enumerate(design.sizes):
        asked += (size - prev) * (active & ~decided[:, None])
        prev = size
        a = np.stack([np.sum(x[:, :size, e] & ~x[:, :size, j], axis=1) for e, j in pairs], axis=1)
        b = np.stack([np.sum(x[:, :size, j] & ~x[:, :size, e], axis=1) for e, j in pairs], axis=1)
        fail = np.any((S.tango_statistic(a, b, float(size), MAX_DROP) > zf[look][a + b]) & ~crossed, axis=1)
        crossed |= S.lr_statistic(a, b, float(size), MAX_DROP) <= -zp[look]
        new = ~decided & (fail | crossed.all(axis=1))
        stop[new] = size
        decided |= new
        for r in range(k):
            active[:, r] &= ~crossed[:, [i for i, p in enumerate(pairs) if r in p]].all(axis=1)
    saved_dropping = 1 - asked.sum() / (sims * n * k)
    saved_deciding = 1 - stop.mean() / n
    assert saved_deciding == pytest.approx(0.11, abs=0.03)
    assert saved_dropping >= 0.14 and saved_dropping > saved_deciding + 0.04
