"""Monte Carlo calibration of the ragprobe verdict rules (reverse and position probes).

Run: ``python bench/calibration.py [--quick] [--sims N] [--seed S]``. Prints, per simulated
pipeline, the FAIL rate at true drop 0, at the boundary (true drop == max_drop) and at
max_drop + 0.15 (power), for a fixed-size test and for group-sequential stopping, plus the mean
pipeline calls with and without sequential stopping on clear cases (true drop 0 and
max_drop + 0.3). Each rate carries its Monte Carlo standard error sqrt(p (1 - p) / sims).

The verdicts are computed exactly as ``pytest_ragprobe.stats`` does (same score statistic, same
critical values: ``critical_values`` / ``SequentialDesign.thresholds``), vectorised over runs;
tests/unit/test_stats_calibration.py checks that this shortcut agrees with ``compare_paired`` /
``compare_positions`` / ``SequentialDesign.decide``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_ragprobe.stats import (
    FAIL_SPENDING,
    FEW_POSITION_FRACTIONS,
    FEW_POSITION_PASS_SPENDING,
    PASS_SPENDING,
    POSITION_FAIL_SPENDING,
    SequentialDesign,
    critical_values,
    lr_statistic,
    position_fail_cuts,
    power_bound,
    sequential_design,
    tango_statistic,
)
from pytest_ragprobe.stats import LOOKS as DEFAULT_LOOKS

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

CONFIDENCE = 0.95
N_PAIRS = 100
LOOKS = DEFAULT_LOOKS
SPENDING: str | float = FAIL_SPENDING  # SequentialDesign defaults (Hwang-Shih-DeCani gammas)
PASS_SPEND: str | float = PASS_SPENDING
POSITION_SPEND: str | float = POSITION_FAIL_SPENDING
DEFAULT_DESIGN = True  # no --looks / --*-spending given: position probes use sequential_design()


# ----------------------------------------------------------------------------- simulators


@dataclass(frozen=True)
class ReverseScenario:
    """Pairs (forward right?, reverse right?) with cell probabilities for a given true drop."""

    name: str
    cells: Callable[[float], tuple[float, float, float]]  # drop -> (p11, p10, p01)


def _nested(drop: float) -> tuple[float, float, float]:
    # reverse right => forward right; forward accuracy 0.9
    return (0.9 - drop, drop, 0.0)


def _mostly_nested(drop: float) -> tuple[float, float, float]:
    # reverse right and forward wrong happens 3% of the time; forward accuracy 0.9
    return (0.87 - drop, drop + 0.03, 0.03)


def _independent(drop: float) -> tuple[float, float, float]:
    fa, ra = 0.9, 0.9 - drop
    return (fa * ra, fa * (1 - ra), (1 - fa) * ra)


def _max_discordant(drop: float) -> tuple[float, float, float]:
    # every pair discordant: forward accuracy (1 + drop) / 2, reverse (1 - drop) / 2
    return (0.0, (1 + drop) / 2, (1 - drop) / 2)


REVERSE_SCENARIOS = [
    ReverseScenario("nested (rev ok => fwd ok), fwd 0.9", _nested),
    ReverseScenario("mostly nested (3% rev-only), fwd 0.9", _mostly_nested),
    ReverseScenario("independent, fwd 0.9", _independent),
    ReverseScenario("all pairs discordant (worst case)", _max_discordant),
]


def simulate_pairs(
    rng: np.random.Generator, cells: tuple[float, float, float], sims: int, n: int
) -> tuple[IntArray, IntArray]:
    """Cumulative (n10, n01) after each pair: arrays of shape (sims, n)."""
    _p11, p10, p01 = cells
    u = rng.random((sims, n))
    is10 = u < p10
    is01 = (u >= p10) & (u < p10 + p01)
    return np.cumsum(is10, axis=1), np.cumsum(is01, axis=1)


#: Share of "shared difficulty" questions in the middle scenario: between the two extremes
#: (bench/reference_position.py prints the phi correlation a real reader shows).
SHARED = 0.5


@dataclass(frozen=True)
class PositionScenario:
    name: str
    positions: list[int]
    shared: float  # share of questions whose outcomes follow one latent difficulty (1 = comonotone)


POSITION_SCENARIOS = [
    PositionScenario("3 positions, comonotone (latent difficulty)", [0, 4, 9], 1.0),
    PositionScenario(f"3 positions, {SHARED:.0%} shared difficulty", [0, 4, 9], SHARED),
    PositionScenario("3 positions, independent", [0, 4, 9], 0.0),
    PositionScenario("5 positions, comonotone (latent difficulty)", [0, 2, 4, 7, 9], 1.0),
    PositionScenario(f"5 positions, {SHARED:.0%} shared difficulty", [0, 2, 4, 7, 9], SHARED),
    PositionScenario("5 positions, independent", [0, 2, 4, 7, 9], 0.0),
]


def position_accuracy(k: int, drop: float, *, shape: str) -> npt.NDArray[np.float64]:
    """Edges 0.9. "flat-middle": every interior position at 0.9 - drop (least favourable at the
    boundary); "U": the centre at 0.9 - drop, each other interior position lower than the edges by
    drop * (1 - d / 2), d its distance from the centre as a fraction of the half-width (5
    positions: 0.9, 0.9 - 0.75 drop, 0.9 - drop, 0.9 - 0.75 drop, 0.9)."""
    acc = np.full(k, 0.9)
    if shape == "flat-middle":
        acc[1:-1] = 0.9 - drop
    else:
        centre = (k - 1) / 2
        for j in range(1, k - 1):
            acc[j] = 0.9 - drop * (1 - abs(j - centre) / centre * 0.5 if centre else 1)
        acc[round(centre)] = 0.9 - drop
    return acc


def simulate_positions(
    rng: np.random.Generator, acc: npt.NDArray[np.float64], shared: float, sims: int, n: int
) -> BoolArray:
    """Outcomes of shape (sims, n, k): question i correct with gold at position j.

    A question is "shared" with probability ``shared``: one uniform draw decides every position
    (a latent difficulty: comonotone outcomes); otherwise each position draws its own. Either
    way position j is right with probability acc[j]; the phi correlation between two positions
    grows with ``shared`` (about ``shared`` when their accuracies are equal).
    """
    k = len(acc)
    own = rng.random((sims, n, k))
    one = rng.random((sims, n, 1))
    use_one = rng.random((sims, n, 1)) < shared
    return np.asarray(np.where(use_one, one, own) < acc[None, None, :])


# ----------------------------------------------------------------------------- decisions


@dataclass
class Outcome:
    fail: float
    passed: float
    mean_n: float
    mean_n_se: float = 0.0  # Monte Carlo standard error of mean_n


def _decide_counts(
    n10: IntArray,  # (sims, comparisons, n) cumulative
    n01: IntArray,
    sizes: list[int],
    z_fail: list[float] | list[npt.NDArray[np.float64]],  # one cut, or one per discordant count
    z_pass: list[float],
    max_drop: float,
    pass_stat: Callable[..., npt.NDArray[np.float64]] = tango_statistic,
    pairs: list[tuple[int, int]] | None = None,
) -> Outcome:
    """FAIL iff some comparison not settled at an earlier look has T > z_fail; PASS once every
    comparison's ``pass_stat`` has been <= -z_pass at some look so far (settled; Tango's statistic
    for the fixed design, the signed-root LR for the sequential one; see
    SequentialDesign.decide_positions); first look that decides. ``pairs``: the (edge, position)
    rows of each comparison (position probes): a position is no longer asked once every comparison
    it is in has settled, and ``mean_n`` counts the questions asked per position on average."""
    sims, m = n10.shape[:2]
    rows = pairs or [(0, 1)] * m
    k = max(max(p) for p in rows) + 1
    decided = np.zeros(sims, dtype=bool)
    fail = np.zeros(sims, dtype=bool)
    passed = np.zeros(sims, dtype=bool)
    crossed = np.zeros((sims, m), dtype=bool)  # comparisons past their PASS boundary so far
    active = np.ones((sims, k), dtype=bool)
    asked = np.zeros(sims, dtype=np.int64)  # questions x positions asked
    prev = 0
    for look, nk in enumerate(sizes):
        asked += (nk - prev) * np.sum(active & ~decided[:, None], axis=1)
        prev = nk
        a, b = n10[:, :, nk - 1], n01[:, :, nk - 1]
        t = tango_statistic(a, b, float(nk), max_drop)
        zf = np.asarray(z_fail[look])
        f = np.any((t > (zf[a + b] if zf.ndim else zf)) & ~crossed, axis=1)  # per count, or one
        tp = t if pass_stat is tango_statistic else pass_stat(a, b, float(nk), max_drop)
        crossed |= tp <= -z_pass[look]
        p = np.all(crossed, axis=1) & ~f
        new = ~decided & (f | p)
        fail |= new & f
        passed |= new & p
        decided |= new
        for r in range(k):  # a settled position's data are frozen (see position_probe)
            mine = [i for i, pair in enumerate(rows) if r in pair]
            active[:, r] &= ~np.all(crossed[:, mine], axis=1)
    se = float(asked.std() / k / np.sqrt(sims))
    return Outcome(float(fail.mean()), float(passed.mean()), float(asked.mean() / k), se)


def reverse_outcomes(
    rng: np.random.Generator,
    sc: ReverseScenario,
    drop: float,
    max_drop: float,
    sims: int,
    n: int = N_PAIRS,
) -> tuple[Outcome, Outcome]:
    n10, n01 = simulate_pairs(rng, sc.cells(drop), sims, n)
    n10, n01 = n10[:, None, :], n01[:, None, :]
    zl, zh = critical_values(n, max_drop=max_drop, confidence=CONFIDENCE)
    fixed = _decide_counts(n10, n01, [n], [zl], [zh], max_drop)
    design = SequentialDesign(
        n, looks=LOOKS, confidence=CONFIDENCE, spending=SPENDING, pass_spending=PASS_SPEND
    )
    seq = _decide_counts(
        n10,
        n01,
        design.sizes,
        design.thresholds(max_drop=max_drop, side="fail"),
        design.thresholds(max_drop=max_drop, side="pass"),
        max_drop,
        lr_statistic,
    )
    return fixed, seq


def position_outcomes(
    rng: np.random.Generator,
    sc: PositionScenario,
    drop: float,
    max_drop: float,
    sims: int,
    *,
    shape: str,
    n: int = N_PAIRS,
) -> tuple[Outcome, Outcome]:
    k = len(sc.positions)
    x = simulate_positions(rng, position_accuracy(k, drop, shape=shape), sc.shared, sims, n)
    pairs = [(e, j) for e in (0, k - 1) for j in range(k) if j != e]
    n10 = np.stack([np.cumsum(x[:, :, e] & ~x[:, :, j], axis=1) for e, j in pairs], axis=1)
    n01 = np.stack([np.cumsum(x[:, :, j] & ~x[:, :, e], axis=1) for e, j in pairs], axis=1)
    m = len(pairs)
    zl, zh = critical_values(n, max_drop=max_drop, confidence=CONFIDENCE, comparisons=m)
    cuts = position_fail_cuts(n, k, max_drop=max_drop, confidence=CONFIDENCE)
    fixed = _decide_counts(n10, n01, [n], [zl if cuts is None else cuts], [zh], max_drop)
    if DEFAULT_DESIGN:  # what the probe uses: its own schedule for 3 positions
        design = sequential_design(n, confidence=CONFIDENCE, positions=k)
    else:
        design = SequentialDesign(
            n,
            looks=LOOKS,
            confidence=CONFIDENCE,
            pass_spending=PASS_SPEND,
            position_spending=POSITION_SPEND,
        )
    seq = _decide_counts(
        n10,
        n01,
        design.sizes,
        design.position_thresholds(max_drop=max_drop, k=k),
        design.thresholds(max_drop=max_drop, side="pass"),
        max_drop,
        lr_statistic,
        pairs,
    )
    return fixed, seq


# ----------------------------------------------------------------------------- Wald bound


def wald_min_pairs(p10: float, p01: float, max_drop: float, pass_prob: float, alpha: float) -> float:
    """Fewest pairs, on average, that ANY sequential test can use at a pipeline with cells
    (p10, p01) if it reaches a decision (PASS at drop 0, FAIL at a large drop) there with
    probability ``pass_prob`` and reaches it at a boundary pipeline (drop == max_drop) at most
    ``alpha`` of the time (Wald 1945 / Hoeffding: the expected log-likelihood ratio must pay for
    the two error rates). The bound uses the boundary pipeline closest in Kullback-Leibler
    divergence."""
    from scipy import optimize

    p = np.array([1.0 - p10 - p01, p10, p01])

    def kl(q01: float) -> float:
        q = np.array([1.0 - 2.0 * q01 - max_drop, q01 + max_drop, q01])
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, p * np.log(p / q), 0.0)
        return float(terms.sum())

    hi = (1.0 - max_drop) / 2.0 - 1e-12
    best = optimize.minimize_scalar(kl, bounds=(1e-12, hi), method="bounded")
    b = 1.0 - pass_prob
    need = pass_prob * np.log(pass_prob / alpha) + (b * np.log(b / (1.0 - alpha)) if b > 0 else 0.0)
    return float(need / best.fun)


def position_patterns(
    acc: npt.NDArray[np.float64], shared: float
) -> tuple[BoolArray, npt.NDArray[np.float64]]:
    """Every outcome pattern of one question over the k positions and its probability under
    :func:`simulate_positions` (latent-difficulty share ``shared``, independent otherwise)."""
    k = len(acc)
    pats = np.array(list(itertools.product([False, True], repeat=k)))
    probs = np.empty(len(pats))
    for i, x in enumerate(pats):
        ind = float(np.prod(np.where(x, acc, 1.0 - acc)))
        lo = max([float(a) for a, r in zip(acc, x, strict=True) if not r], default=0.0)
        hi = min([float(a) for a, r in zip(acc, x, strict=True) if r], default=1.0)
        probs[i] = shared * max(0.0, hi - lo) + (1.0 - shared) * ind
    return pats, probs


def wald_min_questions(
    pats: BoolArray,
    probs: npt.NDArray[np.float64],
    max_drop: float,
    prob: float,
    alpha: float,
    side: str,
) -> float:
    """:func:`wald_min_pairs` for positions. The wrong-decision set is, for PASS, every pipeline
    where SOME edge is >= ``max_drop`` above some position (the closest is found per (edge,
    position) pair), and for FAIL every pipeline where ALL of those drops are <= ``max_drop``
    (one problem with all the constraints). Closest in Kullback-Leibler divergence over joint
    distributions of the outcome patterns (it may use patterns the truth never shows); small
    convex problems solved with SLSQP."""
    from scipy import optimize

    k = pats.shape[1]
    x = pats.astype(float)
    on = probs > 0
    fs = [x[:, e] - x[:, j] for e in (0, k - 1) for j in range(k) if j != e]

    def kl(q: npt.NDArray[np.float64]) -> float:
        return float(np.sum(probs[on] * np.log(probs[on] / q[on])))

    def grad(q: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        g = np.zeros_like(q)
        g[on] = -probs[on] / q[on]
        return g

    def closest(constraints: list[dict[str, object]]) -> float:
        res = optimize.minimize(
            kl,
            0.5 * probs + 0.5 / len(probs),
            jac=grad,
            method="SLSQP",
            bounds=[(1e-12, 1.0)] * len(probs),
            constraints=[{"type": "eq", "fun": lambda q: float(q.sum() - 1.0)}, *constraints],
            options={"ftol": 1e-12, "maxiter": 500},
        )
        return float(res.fun)

    if side == "pass":
        best = min(
            closest([{"type": "ineq", "fun": lambda q, f=f: float(q @ f - max_drop)}]) for f in fs
        )
    else:
        best = closest([{"type": "ineq", "fun": lambda q, f=f: float(max_drop - q @ f)} for f in fs])
    b = 1.0 - prob
    need = prob * np.log(prob / alpha) + (b * np.log(b / (1.0 - alpha)) if b > 0 else 0.0)
    return float(need / best)


# ----------------------------------------------------------------------------- table


def _rate(p: float, sims: int) -> str:
    se = (p * (1 - p) / sims) ** 0.5
    return f"{p:5.3f}±{se:.3f}"


def _calls(fixed: Outcome, seq: Outcome, per: int) -> str:
    saved = 1 - seq.mean_n / fixed.mean_n
    return f"{fixed.mean_n * per:4.0f}->{seq.mean_n * per:5.1f} ({saved:4.0%})"


def _row(
    name: str, design: str, cells: list[tuple[Outcome, Outcome]], i: int, per: int, sims: int,
    bound: str,
) -> str:
    r0, rb, rp, rc = cells
    calls0 = _calls(r0[0], r0[1], per) if i else ""
    callsc = _calls(rc[0], rc[1], per) if i else ""
    return (
        f"{name:44} {design:5} {_rate(r0[i].fail, sims):>11} {_rate(rb[i].fail, sims):>11} "
        f"{_rate(rp[i].fail, sims):>11} {bound:>6} | {_rate(r0[i].passed, sims):>11} "
        f"{calls0:>20} | {_rate(rc[i].fail, sims):>11} {callsc:>20}"
    )


def _print_wald(title: str, rows: list[tuple[str, float, float]], unit: str) -> None:
    """Rows alternate: PASS at drop 0, FAIL at max_drop + 0.3 (name on the first of each)."""
    print("\n" + title)
    for i, (name, rate, needed) in enumerate(rows):
        label = "PASS@0   " if i % 2 == 0 else "FAIL@+0.3"
        print(
            f"  {name:44} {label} {rate:.3f}: >= {needed:5.1f} of {N_PAIRS} {unit} "
            f"(saves at most {max(0.0, 1 - needed / N_PAIRS):.0%})"
        )


#: Sample sizes of the "noisy drop 0" section: where the fixed design starts to decide those cases.
LARGER_N = (200, 300, 400)
#: ... and of the all-discordant clear FAIL (drop max_drop + 0.3), decided by the fixed design in
#: only 92% of runs at n = 100.
LARGER_N_FAIL = (150, 200)


def print_larger_samples(rng: np.random.Generator, max_drop: float, sims: int) -> None:
    """The "clear" cases the fixed design does not yet decide at n = 100, at larger n: drop 0 on
    the noisy scenarios and the all-discordant FAIL at drop max_drop + 0.3. Where the fixed
    design decides >= 95% of the time the case is clear, and the 40% goal applies there. Wald's
    bound as above."""
    alpha = 1 - CONFIDENCE
    print(
        f"\nNOISY CASES WITH LARGER SAMPLES ({sims} runs per cell): the fixed design's rate of the "
        "right decision (PASS at drop 0, FAIL at drop max_drop + 0.3) says how clear the case is at "
        "that n (clear: >= 0.95); seq = that rate and the calls saved by sequential stopping; "
        "Wald = the most ANY sequential test can save there"
    )
    rows: list[tuple[str, str, int, float, float, float, float, float]] = []

    def add(name: str, side: str, n: int, fixed: Outcome, seq: Outcome, need: float) -> None:
        rate = (lambda o: o.passed) if side == "PASS@0" else (lambda o: o.fail)
        rows.append((name, side, n, rate(fixed), rate(seq), 1 - seq.mean_n / n, seq.mean_n_se / n, need))

    for n in LARGER_N:
        for rsc in REVERSE_SCENARIOS[2:3]:  # all-discordant needs ~1,100 pairs to be clear
            fixed, seq = reverse_outcomes(rng, rsc, 0.0, max_drop, sims, n)
            _q11, q10, q01 = rsc.cells(0.0)
            need = wald_min_pairs(q10, q01, max_drop, min(fixed.passed, 1 - 1e-9), alpha)
            add(rsc.name, "PASS@0", n, fixed, seq, need)
        for psc in POSITION_SCENARIOS:
            if psc.shared >= 1.0:
                continue  # comonotone: clear at n = 100 already (table above)
            fixed, seq = position_outcomes(rng, psc, 0.0, max_drop, sims, shape="flat-middle", n=n)
            acc = position_accuracy(len(psc.positions), 0.0, shape="flat-middle")
            pats, probs = position_patterns(acc, psc.shared)
            rate = min(fixed.passed, 1 - 1e-9)
            need = wald_min_questions(pats, probs, max_drop, rate, alpha, "pass")
            add(psc.name, "PASS@0", n, fixed, seq, need)
    drop = max_drop + 0.3
    for n in LARGER_N_FAIL:
        rsc = REVERSE_SCENARIOS[3]
        fixed, seq = reverse_outcomes(rng, rsc, drop, max_drop, sims, n)
        _q11, q10, q01 = rsc.cells(drop)
        need = wald_min_pairs(q10, q01, max_drop, min(fixed.fail, 1 - 1e-9), alpha)
        add(rsc.name, "FAIL@+0.3", n, fixed, seq, need)
    for name, side, n, fixed_rate, seq_rate, saved, saved_se, need in sorted(rows, key=lambda r: r[:3]):
        clear = "clear" if fixed_rate >= 0.95 else ""
        print(
            f"  {name:44} {side:9} n = {n:3}  fixed {_rate(fixed_rate, sims)} {clear:5}  seq "
            f"{_rate(seq_rate, sims)}  saved {saved:5.1%} ± {saved_se:.1%}  "
            f"(Wald: at most {max(0.0, 1 - need / n):4.0%})"
        )


def print_both_boundaries(rng: np.random.Generator, max_drop: float, sims: int) -> None:
    """One line: the FAIL rate of a reverse probe with min_accuracy at both boundaries at once (true drop
    max_drop, reverse accuracy at the floor 0.8; the drop test and the floor each FAIL at alpha / 2).
    bench/both_boundaries.py has the full table, positions and the power cost."""
    import both_boundaries as bb

    if max_drop != bb.MAX_DROP:
        return
    floor, n = 0.8, N_PAIRS
    nus = bb.discordances(floor)
    fixed = max(bb.reverse_fixed_exact(n, bb.boundary_cells(floor, nu), floor, True)[0] for nu in nus)
    seq = bb.reverse_sequential(rng, bb.boundary_cells(floor, 0.2), floor, n, sims, True)[0]
    print(
        f"\nmin_accuracy: reverse probe at both boundaries at once (drop {max_drop}, reverse accuracy = "
        f"min_accuracy {floor}, n = {n}): FAIL fixed {fixed:.4f} (exact, sup over the discordance), "
        f"sequential {seq:.3f}±{np.sqrt(seq * (1 - seq) / sims):.3f} (discordance 0.2); target <= "
        f"{1 - CONFIDENCE:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    global LOOKS, SPENDING, PASS_SPEND, POSITION_SPEND, DEFAULT_DESIGN
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2,000 runs per cell instead of 20,000")
    ap.add_argument("--sims", type=int, default=None, help="Runs per cell")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--max-drop", type=float, default=0.10)
    ap.add_argument(
        "--no-larger", action="store_true", help="skip the noisy cases at larger n (150-400)"
    )
    ap.add_argument("--looks", type=int, default=DEFAULT_LOOKS)
    ap.add_argument("--spending", default=None, help="FAIL side: obf, pocock or an HSD gamma")
    ap.add_argument("--pass-spending", default=None, help="PASS side: obf, pocock or an HSD gamma")
    ap.add_argument(
        "--position-spending", default=None, help="FAIL side of positions: obf, pocock or a gamma"
    )
    args = ap.parse_args(argv)
    LOOKS = args.looks
    DEFAULT_DESIGN = LOOKS == DEFAULT_LOOKS and not (
        args.spending or args.pass_spending or args.position_spending
    )

    def spend(v: str) -> str | float:
        return v if v in ("obf", "pocock") else float(v)

    if args.spending is not None:
        SPENDING = spend(args.spending)
    if args.pass_spending is not None:
        PASS_SPEND = spend(args.pass_spending)
    if args.position_spending is not None:
        POSITION_SPEND = spend(args.position_spending)
    sims = args.sims or (2_000 if args.quick else 20_000)
    m = args.max_drop
    alpha = 1 - CONFIDENCE
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    print(
        f"ragprobe calibration: n = {N_PAIRS} pairs/questions, confidence = {CONFIDENCE}, "
        f"max_drop = {m}, {sims} runs per cell, sequential = {LOOKS} looks, alpha spending "
        f"(Hwang-Shih-DeCani gamma or name): FAIL side {SPENDING} (positions {POSITION_SPEND}), "
        f"PASS side {PASS_SPEND}"
        + (
            f" (position probes with 3 positions: looks at {FEW_POSITION_FRACTIONS} of n, PASS side "
            f"{FEW_POSITION_PASS_SPENDING})"
            if DEFAULT_DESIGN
            else ""
        )
        + "; rates ± Monte Carlo SE"
    )
    print(
        f"targets: FAIL@0 <= 0.01, FAIL@max_drop <= {alpha:.2f}, FAIL@+0.15 (power) >= 0.80; "
        "sequential saves >= 40% calls on clear cases (drop 0 / drop max_drop+0.3)"
    )
    print(
        "NPbound = the most any level-alpha test can reach at +0.15 (Neyman-Pearson, exact); "
        "PASS@0 / FAIL@+0.3 = how often the design decides those clear cases\n"
    )
    head = (
        f"{'scenario':44} {'design':5} {'FAIL@0':>11} {'FAIL@max':>11} {'FAIL@+0.15':>11} "
        f"{'NPbound':>6} | {'PASS@0':>11} {'calls, drop 0':>20} | {'FAIL@+0.3':>11} "
        f"{'calls, drop +0.3':>20}"
    )
    wald: list[tuple[str, float, float]] = []
    print("REVERSE probe (calls = 2 per pair)")
    print(head)
    print("-" * len(head))
    for sc in REVERSE_SCENARIOS:
        cells = [reverse_outcomes(rng, sc, d, m, sims) for d in (0.0, m, m + 0.15, m + 0.3)]
        _p11, p10, p01 = sc.cells(m + 0.15)
        bound = f"{power_bound(N_PAIRS, p10=p10, p01=p01, max_drop=m, confidence=CONFIDENCE):.3f}"
        for i, design in enumerate(("fixed", "seq")):
            print(_row(sc.name if i == 0 else "", design, cells, i, 2, sims, bound if i == 0 else ""))
        _q11, q10, q01 = sc.cells(0.0)
        pass0 = cells[0][0].passed  # the fixed design's PASS rate at drop 0
        wald.append((sc.name, pass0, wald_min_pairs(q10, q01, m, pass0, alpha)))
        _q11, q10, q01 = sc.cells(m + 0.3)
        fail3 = cells[3][0].fail  # the fixed design's FAIL rate at drop max_drop + 0.3
        wald.append(("", fail3, wald_min_pairs(q10, q01, m, min(fail3, 1 - 1e-9), alpha)))
    _print_wald(
        "Wald bound: the fewest pairs ANY sequential test needs on average to decide as often as "
        "the fixed design does (PASS at drop 0, FAIL at max_drop + 0.3; the same decision at a "
        "boundary pipeline <= alpha):",
        wald,
        "pairs",
    )
    print()
    print(
        "POSITION probe (calls = n_positions per question; edges 0.9; boundary: every interior "
        "position at 0.9 - drop; power: U-shape with the centre at 0.9 - drop)"
    )
    print(head)
    print("-" * len(head))
    wald.clear()
    for sc in POSITION_SCENARIOS:
        k = len(sc.positions)
        cells = [
            position_outcomes(rng, sc, d, m, sims, shape=shape)
            for d, shape in ((0.0, "flat-middle"), (m, "flat-middle"), (m + 0.15, "U"), (m + 0.3, "U"))
        ]
        for i, design in enumerate(("fixed", "seq")):
            print(_row(sc.name if i == 0 else "", design, cells, i, k, sims, ""))
        for side, rate, acc in (
            ("pass", cells[0][0].passed, position_accuracy(k, 0.0, shape="flat-middle")),
            ("fail", cells[3][0].fail, position_accuracy(k, m + 0.3, shape="U")),
        ):
            pats, probs = position_patterns(acc, sc.shared)
            qs = wald_min_questions(pats, probs, m, min(rate, 1 - 1e-9), alpha, side)
            wald.append((sc.name if acc.min() == acc.max() else "", rate, qs))
    _print_wald(
        "Wald bound (as above, per question; wrong-decision pipelines: for PASS some edge >= "
        "max_drop above some position, for FAIL every edge-position drop <= max_drop):",
        wald,
        "questions",
    )
    print_both_boundaries(rng, m, sims)
    if not args.no_larger:
        print_larger_samples(rng, m, min(sims, 5_000))
    print(f"\n({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
