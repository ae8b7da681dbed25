"""Statistics for ragprobe verdicts: paired comparisons, positions, sample sizes, sequential looks.

Pure functions (no pytest import). numpy/scipy are imported at module level, so import this
module lazily from hook code.

Verdict rule
------------
Let ``drop`` be the true accuracy degradation (forward minus reverse accuracy for a reversal
probe; best edge position minus worst position for a position probe) and ``alpha = 1 -
confidence``.

* **FAIL** when the data show ``drop > max_drop``: the one-sided lower confidence bound of the
  drop (level ``confidence``) is above ``max_drop``. This is a level-``alpha`` test of
  ``H0: drop <= max_drop``, so a pipeline that is exactly at the tolerance fails at most
  ``alpha`` of the time.
* **PASS** when the data show ``drop <= max_drop``: the one-sided upper confidence bound
  (level ``confidence``) is at most ``max_drop`` (a level-``alpha`` test of ``H0: drop >
  max_drop``).
* **INCONCLUSIVE** otherwise (too few pairs to tell).

With a ``min_accuracy`` floor a probe makes two checks and FAILs when either does, so the FAIL side
is split (Bonferroni): the drop test FAILs at ``alpha / 2`` (the ``fail_alpha`` keyword of
:func:`compare_paired`, :func:`compare_positions`, :meth:`SequentialDesign.decide` and
:meth:`SequentialDesign.decide_positions`) and the floor at ``alpha / 2`` (``tests=2`` of
:func:`accuracy_verdict` / :meth:`SequentialDesign.decide_floor`; ``2 k`` for k positions), so a
pipeline at both boundaries at once FAILs at most ``alpha`` of the time. PASS needs both checks to
pass (an intersection-union test), so the PASS sides stay at ``alpha``.

``drop_ci`` holds exactly these two one-sided bounds, so together they form a two-sided
interval at level ``2 * confidence - 1`` (a 90% interval for the default 0.95). FAIL and PASS
can never both hold.

Interval: Tango's (1998) asymptotic score interval for the difference of two paired
proportions, inverted numerically (``scipy.optimize.brentq``). It is defined for every table
(including no discordant pairs and n = 1), stays inside [-1, 1] and has close-to-nominal
coverage at small n and near 0/1 (Newcombe 1998; Tango 1998), unlike the Wald interval. The
p-value is the exact McNemar test (two-sided binomial test on the discordant pairs,
``scipy.stats.binomtest``) of ``drop == 0``; it is reported, it does not drive the verdict.

Positions: see :func:`compare_positions`. Sample sizes: :func:`required_n`,
:func:`more_needed`. Group-sequential looks: :class:`SequentialDesign`. The full write-up
with calibration figures is ``docs/statistics.md``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import math
import numbers
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt
import scipy
from scipy import fft as sp_fft
from scipy import optimize, signal, special
from scipy import stats as sps

__all__ = [
    "PairedComparison",
    "PositionComparison",
    "SequentialDesign",
    "Verdict",
    "accuracy_verdict",
    "compare_paired",
    "compare_positions",
    "critical_values",
    "fail_probability",
    "holm",
    "lr_statistic",
    "lr_upper_bound",
    "mcnemar_exact",
    "min_pass_n",
    "more_needed",
    "position_fail_cuts",
    "power_bound",
    "required_n",
    "sequential_design",
    "set_table_dir",
    "tango_bounds",
    "tango_statistic",
    "wilson_interval",
]

Verdict = Literal["pass", "fail", "inconclusive"]
SequentialVerdict = Literal["pass", "fail", "inconclusive", "continue"]

FloatArray = npt.NDArray[np.float64]

_EPS = 1e-12
#: Absolute tolerance (in accuracy units) used by the descriptive position ``shape`` rule.
SHAPE_TOLERANCE = 0.05
#: ``more_needed`` gives up (returns None) above this many additional pairs.
MAX_MORE_PAIRS = 10_000


# --------------------------------------------------------------------------- validation


def _real(value: object) -> bool:
    """A real number, NumPy's too (a bool is not one, nor is the string "0.9")."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _whole(value: object) -> bool:
    """A count: a whole number >= 0, NumPy's too, or a float with such a value (not a bool, NaN or inf)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return int(value) >= 0
    return isinstance(value, float) and value.is_integer() and value >= 0  # (inf and NaN are not)


def _check_confidence(confidence: float) -> None:
    # (a string "0.95" passed float() here and failed later inside numpy; None raised float()'s TypeError)
    if not _real(confidence) or not 0.5 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be a number in (0.5, 1), got {confidence!r}")


def _check_max_drop(max_drop: float) -> None:
    if not _real(max_drop) or not -1.0 <= float(max_drop) < 1.0:
        raise ValueError(f"max_drop must be a number in [-1, 1), got {max_drop!r}")


def _fail_level(confidence: float, fail_alpha: float | None) -> float:
    """Alpha of the FAIL side: ``1 - confidence`` unless ``fail_alpha`` (a share of it: the drop test's
    half when a ``min_accuracy`` floor is checked as well, Bonferroni) is given."""
    alpha = 1.0 - confidence
    if fail_alpha is None:
        return alpha
    if isinstance(fail_alpha, bool) or not 0.0 < float(fail_alpha) <= alpha * (1.0 + 1e-12):
        raise ValueError(f"fail_alpha must lie in (0, 1 - confidence], got {fail_alpha!r}")
    return float(fail_alpha)


def _z(confidence: float) -> float:
    """One-sided standard normal quantile for ``confidence`` (e.g. 0.95 -> 1.645)."""
    return float(sps.norm.ppf(confidence))


# --------------------------------------------------------------------------- basic pieces


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Wilson score interval for ``k`` successes out of ``n`` at ``confidence``.

    Computed by ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``. ``n == 0``
    gives the uninformative ``(0.0, 1.0)``.
    """
    _check_confidence(confidence)
    for name, value in (("k", k), ("n", n)):
        if not _whole(value):  # (NaN and inf raised from int(), 1.5 was truncated)
            raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    if k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return (0.0, 1.0)
    ci = sps.binomtest(int(k), int(n)).proportion_ci(
        confidence_level=float(confidence), method="wilson"
    )
    return (max(0.0, float(ci.low)), min(1.0, float(ci.high)))


def mcnemar_exact(n10: int, n01: int) -> float:
    """Exact two-sided McNemar p-value: binomtest(n01, n10 + n01, 0.5); 1.0 if none differ."""
    if n10 < 0 or n01 < 0:
        raise ValueError("discordant counts must be >= 0")
    d = n10 + n01
    if d == 0:
        return 1.0
    return float(sps.binomtest(int(n01), int(d), 0.5).pvalue)


def _read_once(values: Iterable[Any], expected: str) -> list[Any]:
    """The items of any iterable (a list, tuple, generator, map, NumPy array, pandas Series), read once into a
    list; a string (its characters are not items) or a non-iterable is a ValueError ``"{expected}, got ..."``
    naming the argument (None and 5 raised TypeError, a generator "has no len()", 'abc' "could not convert
    string to float: 'a'")."""
    given: object = values
    if not isinstance(given, (str, bytes)):
        try:
            return list(values)
        except TypeError:
            pass
    raise ValueError(f"{expected}, got {given!r}")


def _p_value_list(p_values: Iterable[float]) -> list[object]:
    return _read_once(p_values, "p_values must be an iterable of p-values (numbers in [0, 1])")


def holm(p_values: Iterable[float]) -> list[float]:
    """Holm (1979) step-down adjusted p-values, returned in the input order (``p_values``: any
    iterable of numbers in [0, 1], read once; anything else, a string included, is a ValueError naming it).

    ``adj[(i)] = max_{j <= i} min(1, (m - j) * p[(j)])`` over the ascending order ``p[(0)] <= ...``.
    """
    ps: list[float] = []
    for item in _p_value_list(p_values):
        try:
            p = float(item) if not isinstance(item, (str, bytes)) else math.nan  # type: ignore[arg-type]
        except (TypeError, ValueError):
            p = math.nan
        if math.isnan(p) or p < 0.0 or p > 1.0:
            raise ValueError(f"p_values must hold numbers in [0, 1], got {item!r}")
        ps.append(p)
    m = len(ps)
    order = sorted(range(m), key=lambda i: ps[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * ps[i]))
        adjusted[i] = running
    return adjusted


# --------------------------------------------------------------------------- Tango score


def _tango_q(
    n10: FloatArray | float, n01: FloatArray | float, n: FloatArray | float, delta: float
) -> FloatArray:
    """Constrained MLE of P(a wrong, b right) under ``acc_a - acc_b == delta`` (Tango 1998).

    Root of ``2n q^2 + B q + C = 0`` with ``B = -n10 - n01 + (2n - n10 + n01) delta`` and
    ``C = -n01 delta (1 - delta)``, computed in a cancellation-free form.
    """
    n10a = np.asarray(n10, dtype=np.float64)
    n01a = np.asarray(n01, dtype=np.float64)
    na = np.asarray(n, dtype=np.float64)
    a = 2.0 * na
    b = -n10a - n01a + (2.0 * na - n10a + n01a) * delta
    c = -n01a * delta * (1.0 - delta)
    disc = np.sqrt(np.maximum(b * b - 4.0 * a * c, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        q_pos = (-2.0 * c) / (b + disc)  # stable when b > 0
        q_neg = (disc - b) / (2.0 * a)  # stable when b <= 0
        q = np.where(b > 0, q_pos, q_neg)
    q = np.where(np.isfinite(q), q, 0.0)
    return np.asarray(np.clip(q, max(0.0, -delta), 1.0), dtype=np.float64)


def tango_statistic(
    n10: npt.ArrayLike, n01: npt.ArrayLike, n: npt.ArrayLike, delta: float
) -> FloatArray:
    """Tango's score statistic for ``H0: acc_a - acc_b == delta`` (vectorised over tables).

    ``T = (n10 - n01 - n delta) / sqrt(n (2 q + delta (1 - delta)))`` with ``q`` the
    constrained MLE. ``T`` decreases in ``delta``; large values mean the drop exceeds ``delta``.
    ``n == 0`` gives 0.
    """
    n10a = np.asarray(n10, dtype=np.float64)
    n01a = np.asarray(n01, dtype=np.float64)
    na = np.asarray(n, dtype=np.float64)
    q = _tango_q(n10a, n01a, na, delta)
    var = na * (2.0 * q + delta * (1.0 - delta))
    num = n10a - n01a - na * delta
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = num / np.sqrt(var)
        # var == 0 only at delta = +-1 or n == 0: the numerator's sign decides (0 if none).
        t = np.where(var > 0, t, np.sign(num) * np.inf)
    t = np.where(na > 0, t, 0.0)
    t = np.where(np.isnan(t), 0.0, t)
    return np.asarray(t, dtype=np.float64)


def _t_scalar(n10: int, n01: int, n: int, delta: float) -> float:
    return float(tango_statistic(n10, n01, n, delta))


def tango_bounds(
    n10: int, n01: int, n: int, *, z_lower: float, z_upper: float
) -> tuple[float, float]:
    """One-sided Tango score bounds for the paired difference ``acc_a - acc_b``.

    The lower bound solves ``T(delta) = z_lower`` and the upper bound ``T(delta) = -z_upper``
    (``z = norm.ppf(confidence)`` for a one-sided bound at ``confidence``). ``n == 0`` gives
    ``(-1.0, 1.0)``.
    """
    if n <= 0:
        return (-1.0, 1.0)
    if n10 < 0 or n01 < 0 or n10 + n01 > n:
        raise ValueError(f"invalid paired counts n10={n10}, n01={n01}, n={n}")
    est = (n10 - n01) / n
    lo_edge, hi_edge = -1.0 + _EPS, 1.0 - _EPS

    def lower() -> float:
        if est <= -1.0:
            return -1.0

        def f(d: float) -> float:
            return _t_scalar(n10, n01, n, d) - z_lower

        if f(lo_edge) <= 0.0:
            return -1.0
        if f(est) >= 0.0:  # only if z_lower <= 0
            return est
        return float(optimize.brentq(f, lo_edge, est, xtol=1e-12, rtol=1e-12))

    def upper() -> float:
        if est >= 1.0:
            return 1.0

        def f(d: float) -> float:
            return _t_scalar(n10, n01, n, d) + z_upper

        if f(hi_edge) >= 0.0:
            return 1.0
        if f(est) <= 0.0:
            return est
        return float(optimize.brentq(f, est, hi_edge, xtol=1e-12, rtol=1e-12))

    return (max(-1.0, lower()), min(1.0, upper()))


def lr_statistic(
    n10: npt.ArrayLike, n01: npt.ArrayLike, n: npt.ArrayLike, delta: float
) -> FloatArray:
    """Signed root of the likelihood-ratio statistic for ``H0: acc_a - acc_b == delta``.

    ``sign(n10 - n01 - n delta) * sqrt(2 (l(MLE) - l(constrained MLE)))`` over the cells
    (n10, n01, concordant), with the constrained MLE of Tango's statistic. Decreases in
    ``delta`` like :func:`tango_statistic`; unlike it, its spread follows the observed
    discordance, so few discordant pairs show a small drop sooner (the sequential PASS side uses
    it). ``n == 0`` gives 0.
    """
    n10a = np.asarray(n10, dtype=np.float64)
    n01a = np.asarray(n01, dtype=np.float64)
    na = np.asarray(n, dtype=np.float64)
    q = _tango_q(n10a, n01a, na, delta)
    nc = na - n10a - n01a
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ll = (
            special.xlogy(n10a, n10a / na)
            - special.xlogy(n10a, q + delta)
            + special.xlogy(n01a, n01a / na)
            - special.xlogy(n01a, q)
            + special.xlogy(nc, nc / na)
            - special.xlogy(nc, np.maximum(1.0 - 2.0 * q - delta, 0.0))
        )
    ll = np.where(np.isnan(ll), 0.0, np.minimum(ll, 1e6))
    root = np.sqrt(2.0 * np.maximum(ll, 0.0))
    out = np.where(n10a - n01a - na * delta >= 0.0, root, -root)
    return np.asarray(np.where(na > 0, out, 0.0), dtype=np.float64)


def lr_upper_bound(n10: int, n01: int, n: int, z: float) -> float:
    """Upper bound of ``acc_a - acc_b`` from :func:`lr_statistic`: the largest ``delta`` with
    ``lr_statistic(..., delta) > -z`` (so "bound <= max_drop" is exactly "LR(max_drop) <= -z")."""
    if n <= 0:
        return 1.0
    est = (n10 - n01) / n

    def f(d: float) -> float:
        return float(lr_statistic(n10, n01, n, d)) + z

    hi_edge = 1.0 - _EPS
    if est >= hi_edge or f(hi_edge) >= 0.0:
        return 1.0
    if f(est) <= 0.0:  # only if z <= 0
        return est
    return float(optimize.brentq(f, est, hi_edge, xtol=1e-12, rtol=1e-12))


def _side_statistic(
    side: str,
) -> Callable[[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike, float], FloatArray]:
    """The FAIL side and the fixed PASS side use Tango's score statistic; the sequential PASS
    side ("pass_lr") the signed-root likelihood ratio."""
    return lr_statistic if side == "pass_lr" else tango_statistic


def _bounds(
    n10: int, n01: int, n: int, z_lower: float, z_upper: float, upper: Literal["tango", "lr"]
) -> tuple[float, float]:
    """Tango's lower bound and the upper bound of the PASS side's statistic."""
    lo, hi = tango_bounds(n10, n01, n, z_lower=z_lower, z_upper=z_upper)
    return (lo, hi) if upper == "tango" else (lo, lr_upper_bound(n10, n01, n, z_upper))


def _verdict_from_bounds(lo: float, hi: float, max_drop: float) -> Verdict:
    if lo > max_drop:
        return "fail"
    if hi <= max_drop:
        return "pass"
    return "inconclusive"


# --------------------------------------------------------------------------- exact critical values

# --------------------------------------------------------------------------- stored tables
#
# The exact critical values take seconds to compute (sums over every table, a supremum over the
# discordance, searches over levels) and depend only on their arguments and this module's code, so
# a run can keep them on disk (ragprobe keeps them in its cache directory, under "tables/") and
# the next process reads them back instead of recomputing.

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: Directory of stored tables (None: compute in every process). Set by :func:`set_table_dir`.
_table_dir: Path | None = None
#: Tables are keyed by this module's source and the numeric libraries' versions too: a code or
#: library change never reads an older table.
_SOURCE = hashlib.sha256(
    Path(__file__).read_bytes() + f"{np.__version__} {scipy.__version__}".encode()
).hexdigest()[:16]


def set_table_dir(path: Path | None) -> None:
    """Keep the exact critical-value tables in ``path`` across processes (``None``: do not)."""
    global _table_dir
    _table_dir = None if path is None else Path(path)


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _stored(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Read ``fn``'s result (JSON numbers and nested tuples) from the table directory, or compute
    and write it there. Any I/O or decoding trouble just means computing it (JSON floats
    round-trip exactly)."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        root = _table_dir
        if root is None:
            return fn(*args, **kwargs)
        from pytest_ragprobe.types import atomic_write

        blob = json.dumps([fn.__name__, _SOURCE, args, sorted(kwargs.items())], default=repr)
        key = hashlib.sha256(blob.encode()).hexdigest()
        path = root / f"{fn.__name__.strip('_')}-{key[:24]}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("key") == key:
                with contextlib.suppress(OSError):  # "last used", for `ragprobe cache --prune`
                    os.utime(path)
                return _tuples(data["value"])  # type: ignore[no-any-return]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        out = fn(*args, **kwargs)
        with contextlib.suppress(OSError, TypeError, ValueError):  # e.g. read-only: memory only
            atomic_write(path, json.dumps({"key": key, "args": blob, "value": out}))
        return out

    return wrapper


#: Largest planned sample size for which critical values are calibrated exactly; above it the
#: asymptotic normal / Brownian-motion values are used (the score test is close to nominal there).
EXACT_MAX_N = 600
_NUISANCE_POINTS = 64
_FFT_WORKERS = min(4, os.cpu_count() or 1)
#: required_n refines the normal approximation with exact power up to this n.
_EXACT_N_SEARCH = 400
#: more_needed (a rough figure in a note) refines it only up to this n: each exact step costs about a
#: second near 400 pairs at a position comparison's stricter FAIL level, and the refinement moved the
#: figure by 1-3% (382 -> 395 pairs took 14 s at the end of an INCONCLUSIVE probe).
_EXACT_N_MORE = 200


@functools.lru_cache(maxsize=64)
def _log_multinomial(n: int) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """(n10, n01, log multinomial coefficient, valid mask) on the (n+1) x (n+1) grid."""
    i = np.arange(n + 1, dtype=np.float64)
    n10, n01 = np.meshgrid(i, i, indexing="ij")
    rest = n - n10 - n01
    valid = rest >= 0
    rest = np.where(valid, rest, 0.0)
    coef = (
        special.gammaln(n + 1.0)
        - special.gammaln(n10 + 1.0)
        - special.gammaln(n01 + 1.0)
        - special.gammaln(rest + 1.0)
    )
    return n10, n01, np.asarray(coef, dtype=np.float64), valid


def _trinomial_matrix(n: int, p10: float, p01: float) -> FloatArray:
    """``out[i, j]`` = P(n10 = i, n01 = j) for ``n`` pairs (zero where i + j > n)."""
    out: FloatArray = _trinomial_stack(n, np.array([p10]), np.array([p01]))[0]
    return out


def _trinomial_stack(n: int, p10: FloatArray, p01: FloatArray) -> FloatArray:
    """:func:`_trinomial_matrix` for each ``(p10[g], p01[g])``: shape ``(G, n + 1, n + 1)``."""
    n10, n01, coef, valid = _log_multinomial(n)
    rest = np.where(valid, n - n10 - n01, 0.0)
    a, b = p10[:, None, None], p01[:, None, None]
    c = np.maximum(0.0, 1.0 - a - b)
    logp = coef + special.xlogy(n10, a) + special.xlogy(n01, b) + special.xlogy(rest, c)
    return np.asarray(np.where(valid, np.exp(logp), 0.0), dtype=np.float64)


def _add_pairs(dist: FloatArray | None, step: int, p10: FloatArray, p01: FloatArray) -> FloatArray:
    """One recursion step for every point of a discordance grid at once: the distributions
    ``dist`` (G, a, a) of (n10, n01) after ``step`` more pairs (one batched FFT convolution per
    step: the per-point Python loop cost more than the transforms)."""
    inc = _trinomial_stack(step, p10, p01)
    if dist is None:
        return inc
    # The grid points are independent transforms: threads split them (same result, ~1.5x faster
    # on 2 cores; the cold position tables are the slowest thing a sequential run computes).
    with sp_fft.set_workers(_FFT_WORKERS):
        out: FloatArray = np.clip(signal.fftconvolve(dist, inc, axes=(1, 2)), 0.0, None)
    return out


@functools.lru_cache(maxsize=512)
@_stored
def _exact_thresholds(
    sizes: tuple[int, ...], max_drop: float, cum_alpha: tuple[float, ...], side: str
) -> tuple[float, ...]:
    """Exact unconditional critical values of Tango's statistic (``side`` "fail" / "pass") or the
    signed-root likelihood ratio ("pass_lr") at ``delta = max_drop``.

    For each look ``k`` (cumulative pairs ``sizes[k]``) find the smallest cut ``s_k`` such that
    the probability of having crossed by look ``k`` (``S >= s``, with ``S = T`` for
    ``side == "fail"`` and ``S = -T`` for the PASS sides) stays <= ``cum_alpha[k]`` for every
    value of the nuisance parameter (the discordance) on a grid, with ``acc_a - acc_b`` held
    at ``max_drop`` (the least favourable point of the null). Returned values are midpoints
    between ``s_k`` and the next achievable value below it, to be used as ``z`` in
    :func:`tango_bounds`, so that "bound beyond max_drop" is exactly "S >= s_k".
    """
    sign = 1.0 if side == "fail" else -1.0
    statistic = _side_statistic(side)
    lo_p = max(0.0, -max_drop)
    hi_p = (1.0 - max_drop) / 2.0
    grid = np.linspace(lo_p, hi_p, _NUISANCE_POINTS)
    dists: FloatArray | None = None
    crossed = np.zeros(len(grid), dtype=np.float64)
    prev = 0
    out: list[float] = []
    for k, nk in enumerate(sizes):
        dists = _add_pairs(dists, nk - prev, grid + max_drop, grid)
        prev = nk
        i = np.arange(nk + 1, dtype=np.float64)
        n10, n01 = np.meshgrid(i, i, indexing="ij")
        valid = (n10 + n01 <= nk).ravel()
        stat = sign * statistic(n10, n01, float(nk), max_drop).ravel()
        stat = np.round(stat, 9)
        idx = np.flatnonzero(valid)
        order = idx[np.argsort(-stat[idx], kind="stable")]
        svals = stat[order]
        # group ends of tied statistic values (descending order)
        ends = np.flatnonzero(np.append(svals[1:] != svals[:-1], True))
        flat = dists.reshape(len(grid), -1)  # a view: zeroing below updates dists
        cums = np.cumsum(flat[:, order], axis=1)[:, ends]
        sup = (crossed[:, None] + cums).max(axis=0)
        ok = int(np.searchsorted(sup, cum_alpha[k] * (1.0 + 1e-9), side="right"))
        if ok == 0:
            out.append(float(svals[0]) + 1.0)
            continue
        cut = float(svals[ends[ok - 1]])
        below = float(svals[ends[ok]]) if ok < len(ends) else cut - 1.0
        if not math.isfinite(below):
            below = cut - 1.0
        out.append((cut + below) / 2.0 if math.isfinite(cut) else 40.0)
        crossed += cums[:, ok - 1]
        flat[:, order[: ends[ok - 1] + 1]] = 0.0
    return tuple(out)


def _fixed_z(n: int, max_drop: float, alpha: float, side: str) -> float:
    """Critical z for a fixed-size test (exact for n <= EXACT_MAX_N, else normal)."""
    if n <= 0:
        return float(sps.norm.isf(alpha))
    if n > EXACT_MAX_N:
        return float(sps.norm.isf(alpha))
    return _exact_thresholds((n,), round(float(max_drop), 12), (float(alpha),), side)[0]


def critical_values(
    n: int,
    *,
    max_drop: float,
    confidence: float = 0.95,
    comparisons: int = 1,
    fail_alpha: float | None = None,
) -> tuple[float, float]:
    """``(z_lower, z_upper)`` for a fixed test on ``n`` pairs.

    FAIL iff ``tango_statistic(n10, n01, n, max_drop) > z_lower``; PASS iff it is
    ``<= -z_upper``. ``comparisons`` = Bonferroni divisor of the FAIL side (positions).
    ``fail_alpha``: the FAIL side's alpha (default ``1 - confidence``; a probe with
    ``min_accuracy`` gives the drop test half of it); the PASS side stays at ``confidence``.
    """
    _check_confidence(confidence)
    alpha = 1.0 - confidence
    return (
        _fixed_z(n, max_drop, _fail_level(confidence, fail_alpha) / comparisons, "fail"),
        _fixed_z(n, max_drop, alpha, "pass"),
    )


# --------------------------------------------------------------------------- position FAIL cuts
#
# The position FAIL side tests m = 2 (k - 1) edge-vs-position comparisons; plain Bonferroni gives
# each alpha / m and the exact unconditional cut of each is set by its least favourable
# discordance, which is nearly always the smallest (every discordant pair one way: n10 ~ Bin(n,
# max_drop), a lumpy binomial). Two exact refinements, both checked by enumeration:
#
# * Berger-Boos (1994): the cut of a comparison depends on its discordant count t = n10 + n01. The
#   supremum over the discordance runs only above a one-sided Clopper-Pearson lower bound for it
#   (level 1 - gamma) and gamma is added to the size: with many discordant pairs the lumpy
#   small-discordance points no longer set the cut.
# * The shape of the null: D <= max_drop bounds every edge-vs-position drop at once, and those drops
#   cannot all sit at max_drop together (first - last and last - first cannot both be positive; an
#   interior position at max_drop below one edge is max_drop - g below the other when the edges
#   differ by g). The sum of the comparisons' exact FAIL probabilities over any null pipeline is at
#   most max over g of (k - 2) [s(max_drop) + s(max_drop - g)] + s(g) + s(-g), where s(delta) is a
#   comparison's largest FAIL probability at true difference delta: about 2 (k - 2) comparisons'
#   worth instead of 2 (k - 1).

#: Share of a comparison's level spent on the Berger-Boos confidence bound of the discordance.
_BB_GAMMA_SHARE = 0.05
#: Edge gaps g (as fractions of max_drop) where the family bound above is evaluated.
_GAP_POINTS = 11


def _sorted_tables(
    n: int, max_drop: float
) -> tuple[
    npt.NDArray[np.bool_],
    FloatArray,
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
]:
    """The tables of ``n`` pairs (``valid`` mask on the (n+1) x (n+1) grid) with Tango's
    statistic at ``max_drop`` (rounded, so ties are exact), their t and n10, the order by
    decreasing statistic and the last index of each tie in that order."""
    n10g, n01g, _, valid = _log_multinomial(n)
    t_of = (n10g + n01g)[valid].astype(np.int64)
    n10_of = n10g[valid].astype(np.int64)
    stat = np.round(tango_statistic(n10g[valid], n01g[valid], float(n), max_drop), 9)
    order = np.argsort(-stat, kind="stable")
    svals = stat[order]
    ends = np.flatnonzero(np.append(svals[1:] != svals[:-1], True))
    return valid, stat, t_of, n10_of, order, ends


@functools.lru_cache(maxsize=1)  # ~45 MB at n = 600: kept only while one level search runs
def _bb_tails(
    n: int, max_drop: float
) -> tuple[
    FloatArray, FloatArray, npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32]
]:
    """Per table (n10 + n01 <= n): Tango's statistic at ``max_drop``, its t and n10; the distinct
    statistic values (descending) and ``tails[g, i]`` = P(T >= value i) at discordance grid point g
    (difference held at ``max_drop``). Level-independent, so computed once per (n, max_drop)."""
    valid, stat, t_of, n10_of, order, ends = _sorted_tables(n, max_drop)
    svals = stat[order]
    nus = np.linspace(max_drop, 1.0, _NUISANCE_POINTS)
    # float32 halves the memory (~45 MB at n = 600); only the search uses it, the final family
    # bound is recomputed in float64 (_region_size)
    tails = np.empty((len(nus), len(ends)), dtype=np.float32)
    for g, nu in enumerate(nus):
        p01 = (nu - max_drop) / 2.0
        probs = _trinomial_matrix(n, p01 + max_drop, p01)[valid]
        tails[g] = np.cumsum(probs[order])[ends]
    return stat, np.asarray(svals[ends], dtype=np.float64), t_of, n10_of, tails


def _bb_min_rejecting(n: int, max_drop: float, level: float) -> npt.NDArray[np.int64]:
    """``r[t]`` for t = 0..n: one comparison FAILs iff ``n10 >= r[t]`` among its tables with
    ``t`` discordant pairs (``r[t] = t + 1``: never). Berger-Boos cut of Tango's statistic at
    ``delta = max_drop``, spending ``gamma = _BB_GAMMA_SHARE * level`` on a one-sided
    Clopper-Pearson lower bound of the discordance (its low values are the lumpy, least favourable
    ones; the whole range above the bound stays in the supremum)."""
    gamma = _BB_GAMMA_SHARE * level
    stat, values, t_of, n10_of, tails = _bb_tails(n, max_drop)
    # per grid point: how many of the largest values keep P(T >= value) <= level - gamma
    allowed = np.array(
        [np.searchsorted(row, (level - gamma) * (1.0 + 1e-9), side="right") for row in tails]
    )
    return _bb_regions(n, max_drop, gamma, allowed, stat, values, t_of, n10_of)


def _bb_regions(
    n: int,
    max_drop: float,
    gamma: float,
    allowed: npt.NDArray[np.int64],
    stat: FloatArray,
    values: FloatArray,
    t_of: npt.NDArray[np.int64],
    n10_of: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """``r[t]`` from ``allowed[g]`` (how many of the largest distinct ``values`` may reject at
    discordance grid point g): the supremum over the grid points at or above the one-sided
    Clopper-Pearson lower bound (level ``1 - gamma``) of the discordance at t allows the fewest."""
    nus = np.linspace(max_drop, 1.0, _NUISANCE_POINTS)
    t = np.arange(n + 1)
    lo = np.where(t > 0, sps.beta.ppf(gamma, t, n - t + 1), 0.0)
    cut = np.full(n + 1, np.inf)
    for ti in range(n + 1):
        ok = int(allowed[nus >= lo[ti]].min())  # never empty: the grid ends at 1
        if ok > 0:
            cut[ti] = values[ok - 1]
    r = t + 1
    fails = stat >= cut[t_of]
    np.minimum.at(r, t_of[fails], n10_of[fails])
    return np.asarray(r, dtype=np.int64)


def _region_size(n: int, r: npt.NDArray[np.int64], delta: float) -> float:
    """Largest FAIL probability of the region ``n10 >= r[t]`` over every discordance feasible at
    true difference ``delta`` (exact sums over a grid of the discordance)."""
    t = np.arange(n + 1)
    best = 0.0
    for nu in np.linspace(max(abs(delta), 1e-9), 1.0, _NUISANCE_POINTS):
        pi = min(1.0, max(0.0, (nu + delta) / (2.0 * nu)))
        p = float(np.sum(sps.binom.pmf(t, n, nu) * sps.binom.sf(r - 1, t, pi)))
        best = max(best, p)
    return best


def _null_shape_bound(size: Callable[[float], float], max_drop: float, k: int) -> float:
    """Bound on the chance that any of the 2 (k - 1) edge comparisons FAILs at a null pipeline,
    given ``size(delta)``, one comparison's largest FAIL probability at true difference ``delta``
    (module comment above): max over edge gaps g of (k - 2)[s(md) + s(md - g)] + s(g) + s(-g)."""
    s = functools.lru_cache(maxsize=None)(size)
    worst = 0.0
    for gap in np.linspace(0.0, max_drop, _GAP_POINTS):
        g = round(float(gap), 12)
        worst = max(worst, (k - 2) * (s(max_drop) + s(round(max_drop - g, 12))) + s(g) + s(-g))
    return worst


def _family_size(n: int, r: npt.NDArray[np.int64], max_drop: float, k: int) -> float:
    """:func:`_null_shape_bound` of the fixed-size regions ``n10 >= r[t]``."""
    return _null_shape_bound(lambda d: _region_size(n, r, d), max_drop, k)


#: 5% steps up from the first level that holds (discreteness often leaves room), then bisection
#: steps between the last level that held and the first that did not.
_LEVEL_STEPS_UP = 4
_LEVEL_BISECTIONS = 3


def _largest_level(
    attempt: Callable[[float], _R | None], start: float, floor: float
) -> _R | None:
    """The level search of both position FAIL rules: ``attempt(level)`` returns the rule at that
    per-comparison level, or None when its family bound exceeds alpha. From ``start``, shrink by
    10% steps while it fails (not below ``floor``), then grow by 5% steps while it holds, then
    bisect between the last level that held and the first that did not."""
    level = start
    found = attempt(level)
    while found is None and level * 0.9 > floor:
        level *= 0.9
        found = attempt(level)
    if found is None:
        return None
    failed = math.inf
    for _ in range(_LEVEL_STEPS_UP):
        bigger = attempt(level * 1.05)
        if bigger is None:
            failed = level * 1.05
            break
        level, found = level * 1.05, bigger
    # The power follows the level closely and a 5% step can leave most of it unused.
    for _ in range(_LEVEL_BISECTIONS if math.isfinite(failed) else 0):
        mid = (level + failed) / 2.0
        bigger = attempt(mid)
        if bigger is None:
            failed = mid
        else:
            level, found = mid, bigger
    return found


@functools.lru_cache(maxsize=64)
def _position_regions(
    n: int, max_drop: float, alpha: float, k: int
) -> tuple[tuple[int, ...], float, float]:
    """(``r[t]``, family bound, per-comparison level) of the position FAIL rule: a level near the largest
    whose Berger-Boos regions keep the family bound <= alpha, searched by :func:`_largest_level`
    from ``alpha / (2 (k - 2))`` (discreteness often leaves room above it)."""

    def attempt(level: float) -> tuple[tuple[int, ...], float, float] | None:
        r = _bb_min_rejecting(n, max_drop, level)
        size = _family_size(n, r, max_drop, k)
        return (tuple(int(v) for v in r), size, level) if size <= alpha * (1.0 + 1e-9) else None

    start = alpha / max(1, 2 * (k - 2))
    found = _largest_level(attempt, start, floor=start * 0.9**40)
    if found is None:  # pragma: no cover - a small enough level always passes
        raise RuntimeError("no position FAIL region found")
    _bb_tails.cache_clear()  # the regions are cached; the tail tables are not needed any more
    return found


def position_fail_cuts(
    n: int, k: int, *, max_drop: float, confidence: float = 0.95, fail_alpha: float | None = None
) -> FloatArray | None:
    """Critical values of the fixed-size position FAIL rule, one per discordant count.

    ``out[t]`` for ``t = n10 + n01`` in ``0..n``: an edge-vs-position comparison FAILs iff
    ``tango_statistic(n10, n01, n, max_drop) > out[t]`` (so its lower bound at ``z = out[t]``
    exceeds ``max_drop``). ``None`` where the refinement does not apply (``max_drop <= 0``,
    ``n > EXACT_MAX_N`` or ``n == 0``): then every comparison uses the Bonferroni cut
    ``critical_values(n, ..., comparisons=2 (k - 1))``. ``fail_alpha``: the family's FAIL alpha
    (default ``1 - confidence``; half of it when a ``min_accuracy`` floor is checked as well).
    """
    _check_confidence(confidence)
    _check_max_drop(max_drop)
    if max_drop <= 0.0 or not 0 < n <= EXACT_MAX_N or k < 2:
        return None
    alpha = round(_fail_level(confidence, fail_alpha), 12)
    return np.array(_position_cuts(n, k, round(float(max_drop), 12), alpha))


@functools.lru_cache(maxsize=64)
@_stored
def _position_cuts(n: int, k: int, max_drop: float, alpha: float) -> tuple[float, ...]:
    r, _, level = _position_regions(n, max_drop, alpha, k)
    return _z_for_regions(n, r, max_drop, level)


def _z_for_regions(n: int, r: Sequence[int], max_drop: float, level: float) -> tuple[float, ...]:
    """A critical value per discordant count t that makes "lower bound > max_drop" exactly
    "n10 >= r[t]": any z strictly between the largest passing and the smallest failing value of
    T at t does; take the normal quantile of the level actually spent, moved into that gap, so
    bounds away from max_drop read like ordinary ones."""
    z_level = float(sps.norm.isf(level))
    out: list[float] = []
    for t, rt in enumerate(r):
        passing = _t_scalar(rt - 1, t - rt + 1, n, max_drop) if rt > 0 else -math.inf
        failing = _t_scalar(rt, t - rt, n, max_drop) if rt <= t else math.inf
        gap = failing - passing
        margin = 0.01 if not math.isfinite(gap) else min(0.01, gap / 4.0)
        out.append(min(max(z_level, passing + margin), failing - margin))
    return tuple(out)


# --------------------------------------------------------------------------- paired


@dataclass(frozen=True)
class PairedComparison:
    """Paired comparison of outcome vectors ``a`` and ``b`` (e.g. forward vs reverse).

    ``drop_ci`` = (one-sided lower bound, one-sided upper bound) of ``acc_a - acc_b``, each at
    ``confidence`` (Tango score bounds): the interval the verdict reads. ``p_value`` = exact
    McNemar test of ``drop == 0`` (in ``PositionComparison.comparisons``: Holm-adjusted).
    """

    n: int
    a_correct: int
    b_correct: int
    acc_a: float
    acc_b: float
    ci_a: tuple[float, float]
    ci_b: tuple[float, float]
    n10: int
    n01: int
    drop: float
    drop_ci: tuple[float, float]
    p_value: float
    verdict: Verdict
    max_drop: float = 0.0
    confidence: float = 0.95

    def to_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "a_correct": self.a_correct,
            "b_correct": self.b_correct,
            "acc_a": self.acc_a,
            "acc_b": self.acc_b,
            "ci_a": [self.ci_a[0], self.ci_a[1]],
            "ci_b": [self.ci_b[0], self.ci_b[1]],
            "n10": self.n10,
            "n01": self.n01,
            "drop": self.drop,
            "drop_ci": [self.drop_ci[0], self.drop_ci[1]],
            "p_value": self.p_value,
            "verdict": self.verdict,
            "max_drop": self.max_drop,
            "confidence": self.confidence,
        }


def _outcome(value: object) -> bool | None:
    """One outcome: right / wrong, or None (an errored call: left out). NaN (pandas / numpy missing
    values) is None too; anything but a bool or 0/1 is refused (``bool("False")`` is True)."""
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer)) and value in (0, 1):
        return bool(value)
    kind = type(value).__name__
    raise TypeError(f"outcomes must be True, False or None (left out), got {value!r} ({kind})")


def _outcome_list(values: Iterable[bool | None], name: str) -> list[bool | None]:
    return _read_once(values, f"{name} must be an iterable of outcomes (True, False or None)")


def _position_outcomes(
    outcomes: Mapping[int, Iterable[bool | None]],
) -> dict[int, list[bool | None]]:
    """``outcomes`` of a position comparison with each position's outcomes read into a list
    (:func:`_outcome_list`)."""
    given: object = outcomes
    if not isinstance(given, Mapping):
        kind = type(given).__name__
        raise ValueError(f"outcomes must map positions (ints) to outcomes, got a {kind}")
    return {p: _outcome_list(v, f"outcomes[{p!r}]") for p, v in outcomes.items()}


def _complete_pairs(
    a: Sequence[bool | None], b: Sequence[bool | None]
) -> tuple[int, int, int, int, int]:
    """Return (n, a_correct, b_correct, n10, n01) over pairs where neither side is None (or NaN)."""
    if len(a) != len(b):
        raise ValueError(f"paired outcome sequences differ in length: {len(a)} != {len(b)}")
    n = ac = bc = n10 = n01 = 0
    for x0, y0 in zip(a, b, strict=True):
        x, y = _outcome(x0), _outcome(y0)
        if x is None or y is None:
            continue
        xa, yb = x, y
        n += 1
        ac += xa
        bc += yb
        n10 += xa and not yb
        n01 += yb and not xa
    return n, ac, bc, n10, n01


def _paired_from_counts(
    n: int,
    a_correct: int,
    b_correct: int,
    n10: int,
    n01: int,
    *,
    max_drop: float,
    confidence: float,
    z_lower: float,
    z_upper: float,
    p_value: float | None = None,
    verdict: Verdict | None = None,
    upper: Literal["tango", "lr"] = "tango",
    bounds: tuple[float, float] | None = None,
) -> PairedComparison:
    """``bounds``: (lower, upper) already worked out (a sequential position comparison's), else
    computed from the counts at ``z_lower`` / ``z_upper``."""
    acc_a = a_correct / n if n else 0.0
    acc_b = b_correct / n if n else 0.0
    lo, hi = _bounds(n10, n01, n, z_lower, z_upper, upper) if bounds is None else bounds
    v: Verdict = "inconclusive" if n == 0 else _verdict_from_bounds(lo, hi, max_drop)
    return PairedComparison(
        n=n,
        a_correct=a_correct,
        b_correct=b_correct,
        acc_a=acc_a,
        acc_b=acc_b,
        ci_a=wilson_interval(a_correct, n, confidence),
        ci_b=wilson_interval(b_correct, n, confidence),
        n10=n10,
        n01=n01,
        drop=(n10 - n01) / n if n else 0.0,
        drop_ci=(lo, hi),
        p_value=mcnemar_exact(n10, n01) if p_value is None else p_value,
        verdict=v if verdict is None else verdict,
        max_drop=float(max_drop),
        confidence=float(confidence),
    )


def compare_paired(
    a: Iterable[bool | None],
    b: Iterable[bool | None],
    *,
    max_drop: float,
    confidence: float = 0.95,
    fail_alpha: float | None = None,
) -> PairedComparison:
    """Compare paired outcomes ``a[i]`` vs ``b[i]`` (same item); drop = acc_a - acc_b.

    ``a`` and ``b``: any iterables of outcomes (lists, generators, NumPy arrays), read once.
    Pairs where either side is ``None`` (a pipeline error) are left out; ``n`` counts the
    complete pairs. Verdict: see the module docstring (FAIL iff the one-sided lower Tango
    bound > max_drop; PASS iff the one-sided upper bound <= max_drop; bounds at
    ``confidence``). ``n == 0`` gives an INCONCLUSIVE result with ``drop_ci == (-1, 1)``.
    ``fail_alpha``: the FAIL side's alpha, default ``1 - confidence`` (a probe with
    ``min_accuracy`` passes half of it, the floor taking the other half: Bonferroni); the lower
    bound is then at ``1 - fail_alpha``, the PASS side unchanged.
    """
    _check_confidence(confidence)
    _check_max_drop(max_drop)
    n, ac, bc, n10, n01 = _complete_pairs(_outcome_list(a, "a"), _outcome_list(b, "b"))
    z_lo, z_hi = critical_values(n, max_drop=max_drop, confidence=confidence, fail_alpha=fail_alpha)
    return _paired_from_counts(
        n, ac, bc, n10, n01, max_drop=max_drop, confidence=confidence, z_lower=z_lo, z_upper=z_hi
    )


def accuracy_verdict(
    k: int, n: int, floor: float, confidence: float = 0.95, *, tests: int = 1
) -> Verdict:
    """Verdict for an accuracy floor (``min_accuracy``) from ``k`` correct out of ``n``.

    Exact one-sided Clopper-Pearson bounds (a pipeline exactly at the floor FAILs at most
    ``alpha = 1 - confidence`` of the time; one-sided Wilson bounds, used before, reached 0.07-0.18
    for floors of 0.8-0.98): FAIL when the upper bound at ``1 - alpha / tests`` is below the floor
    (``tests``: how many FAIL checks share alpha, Bonferroni: 2 for a reverse probe's floor beside its drop
    test, 2 k for k positions held to it beside the position comparisons), PASS when the lower bound at
    ``confidence`` is at or above it, else INCONCLUSIVE (always for ``n == 0``).
    """
    _check_confidence(confidence)
    if n == 0:
        return "inconclusive"
    alpha = 1.0 - confidence
    upper = 1.0 if k >= n else float(sps.beta.ppf(1.0 - alpha / max(1, tests), k + 1, n - k))
    lower = 0.0 if k <= 0 else float(sps.beta.ppf(alpha, k, n - k + 1))
    if upper < floor:
        return "fail"
    if lower >= floor:
        return "pass"
    return "inconclusive"


@functools.lru_cache(maxsize=256)
def _floor_levels(
    sizes: tuple[int, ...], floor: float, cum_alpha: tuple[float, ...], side: str
) -> tuple[float, ...]:
    """Nominal exact-binomial p-value levels per look of a group-sequential test of an accuracy
    floor (``side`` "pass": H0 accuracy < floor, rejected for many right; "fail": H0 accuracy >=
    floor, rejected for few right).

    The accuracy exactly at ``floor`` is the least favourable null point (the binomial family has
    a monotone likelihood ratio), so the cuts are exact: at each look the largest rejection
    region whose probability of having been crossed by then, over the paths not crossed before,
    stays <= ``cum_alpha[k]``. A look's level is the one-sided p-value at its cut, so "p-value <=
    level" is exactly "crossed" at the planned size and still applies when fewer answers count
    (failed calls). With one look this is the fixed Clopper-Pearson test."""
    f = min(1.0, max(0.0, floor))
    alive: FloatArray = np.ones(1, dtype=np.float64)  # mass of S over 0..n, paths not yet crossed
    prev = 0
    spent = 0.0
    levels: list[float] = []
    for n, cum in zip(sizes, cum_alpha, strict=True):
        dist = np.convolve(alive, sps.binom.pmf(np.arange(n - prev + 1), n - prev, f))
        budget = cum - spent + 1e-12
        if side == "pass":
            tail = np.append(np.cumsum(dist[::-1])[::-1], 0.0)  # tail[k] = P(alive, S >= k)
            cut = int(np.argmax(tail <= budget))  # smallest k whose tail fits (k = n + 1: none)
            spent += float(tail[cut])
            dist[cut:] = 0.0
            levels.append(float(sps.binom.sf(cut - 1, n, f)) if cut <= n else 0.0)
        else:
            head = np.concatenate(([0.0], np.cumsum(dist)))  # head[k] = P(alive, S <= k - 1)
            cut = int(np.flatnonzero(head <= budget)[-1]) - 1  # largest S <= cut that fits (-1: none)
            spent += float(head[cut + 1])
            dist[: cut + 1] = 0.0
            levels.append(float(sps.binom.cdf(cut, n, f)) if cut >= 0 else 0.0)
        alive = dist
        prev = n
    return tuple(levels)


# --------------------------------------------------------------------------- positions


@dataclass(frozen=True)
class PositionComparison:
    """Accuracy by gold-document position, paired per question.

    ``drop`` = accuracy at ``best_edge`` (the better of the first and last position) minus
    accuracy at ``worst`` (the worst other position). ``drop_ci`` = (lower, upper) one-sided
    bounds for the true largest edge-vs-position drop, adjusted for multiplicity and for the
    data-driven choice of edge and worst position (see :func:`compare_positions`).
    ``p_value`` = Holm-adjusted exact McNemar p-value of best edge vs worst.
    ``n`` = questions answered; ``n_by_position`` = those asked at each position (fewer where a
    sequential probe stopped asking, see :meth:`SequentialDesign.decide_positions`);
    ``settled`` = positions every comparison of which has passed (no more questions needed there).
    """

    positions: list[int]
    accuracy: dict[int, float]
    ci: dict[int, tuple[float, float]]
    n: int
    best_edge: int
    worst: int
    drop: float
    drop_ci: tuple[float, float]
    p_value: float
    comparisons: dict[int, PairedComparison]
    shape: str
    verdict: Verdict
    max_drop: float = 0.0
    confidence: float = 0.95
    correct: dict[int, int] = field(default_factory=dict)
    n_by_position: dict[int, int] = field(default_factory=dict)
    settled: tuple[int, ...] = ()
    #: all 2 (k - 1) comparisons the verdict reads, keyed (edge, position): ``comparisons`` and the
    #: other edge's (not in :meth:`to_dict`: the report keeps the best edge's)
    edge_comparisons: dict[tuple[int, int], PairedComparison] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "positions": list(self.positions),
            "accuracy": {str(p): v for p, v in self.accuracy.items()},
            "ci": {str(p): [lo, hi] for p, (lo, hi) in self.ci.items()},
            "correct": {str(p): v for p, v in self.correct.items()},
            "n": self.n,
            "n_by_position": {str(p): v for p, v in self.n_by_position.items()},
            "settled": list(self.settled),
            "best_edge": self.best_edge,
            "worst": self.worst,
            "drop": self.drop,
            "drop_ci": [self.drop_ci[0], self.drop_ci[1]],
            "p_value": self.p_value,
            "comparisons": {str(p): c.to_dict() for p, c in self.comparisons.items()},
            "shape": self.shape,
            "verdict": self.verdict,
            "max_drop": self.max_drop,
            "confidence": self.confidence,
        }


def position_shape(accuracy: Mapping[int, float], tol: float = SHAPE_TOLERANCE) -> str:
    """Descriptive shape of an accuracy-by-position curve (does not affect the verdict).

    With ``first``/``last`` the edge accuracies and ``lo``/``hi`` the lowest/highest interior
    accuracy, checked in this order (``tol`` = 0.05 by default):
    ``"U-shaped"`` if ``min(first, last) - lo > tol``; ``"inverted-U"`` if
    ``hi - max(first, last) > tol``; ``"declining"`` if ``first - last > tol``; ``"rising"``
    if ``last - first > tol``; ``"flat"`` if all accuracies lie within ``tol`` of each other;
    otherwise ``"irregular"``. With two positions only declining / rising / flat apply.
    """
    pos = sorted(accuracy)
    if not pos:
        return "flat"
    first, last = accuracy[pos[0]], accuracy[pos[-1]]
    inner = [accuracy[p] for p in pos[1:-1]]
    if inner:
        lo, hi = min(inner), max(inner)
        if min(first, last) - lo > tol:
            return "U-shaped"
        if hi - max(first, last) > tol:
            return "inverted-U"
    if first - last > tol:
        return "declining"
    if last - first > tol:
        return "rising"
    values = list(accuracy.values())
    if max(values) - min(values) <= tol:
        return "flat"
    return "irregular"


def _position_counts(
    outcomes: Mapping[int, Sequence[bool | None]], *, ragged: bool = False
) -> tuple[list[int], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Positions, right/wrong matrix (positions x questions) and an "asked" mask of the same shape.

    Questions with a ``None`` at any position that was asked are left out. ``ragged``: lists may be
    shorter than the longest one (a sequential probe stops asking a position whose comparisons have
    all passed); a question beyond a list's end was not asked there.
    """
    for p, values in outcomes.items():
        key: object = p  # (a caller's dict may hold anything: "1" and 1 were two positions 1)
        if isinstance(key, bool) or not isinstance(key, numbers.Integral):
            raise ValueError(f"outcomes must map positions (ints) to outcomes, got the key {key!r}")
        given: object = values
        if isinstance(given, (str, bytes)) or not hasattr(given, "__len__"):  # (NumPy arrays are fine)
            raise ValueError(
                f"outcomes[{key!r}] must be an iterable of outcomes (True, False or None), got {given!r}"
            )
    positions = sorted(int(p) for p in outcomes)
    if len(positions) < 2:
        raise ValueError("compare_positions needs at least two positions")
    lengths = {len(outcomes[p]) for p in positions}
    if len(lengths) != 1 and not ragged:
        raise ValueError(
            "every position needs the same questions (paired design); lengths: "
            + ", ".join(f"{p}={len(outcomes[p])}" for p in positions)
        )
    m = max(lengths)
    raw = [[_outcome(v) for v in outcomes[p]] + [False] * (m - len(outcomes[p])) for p in positions]
    asked_all = np.array([[i < len(outcomes[p]) for i in range(m)] for p in positions], dtype=bool)
    missing = np.array([[v is None for v in row] for row in raw], dtype=bool).reshape(len(positions), m)
    complete = ~np.any(missing & asked_all, axis=0)
    mat = np.array([[bool(v) for v in row] for row in raw], dtype=bool).reshape(len(positions), m)
    return positions, mat[:, complete], asked_all[:, complete]


def _pair_uppers(
    outcomes: Mapping[int, Sequence[bool | None]], z: float, size: int
) -> list[float]:
    """LR upper bound of every edge comparison (in :func:`_edge_pairs` order) at critical value
    ``z`` (the sequential PASS side) after ``size`` questions; inf for a comparison one of whose
    positions was no longer asked by then (it had passed: nothing new to test)."""
    positions, mat, asked = _position_counts(outcomes, ragged=True)
    full = [len(outcomes[p]) >= size for p in positions]
    out: list[float] = []
    for e, j in _edge_pairs(len(positions)):
        n10, n01, n = _pair_counts(mat, asked, e, j)
        out.append(lr_upper_bound(n10, n01, n, z) if full[e] and full[j] else math.inf)
    return out


def _pair_counts(
    mat: npt.NDArray[np.bool_], asked: npt.NDArray[np.bool_], e: int, j: int
) -> tuple[int, int, int]:
    """(n10, n01, n) of position rows ``e`` vs ``j`` over the questions asked at both: right at e
    only, right at j only, pairs."""
    both = asked[e] & asked[j]
    return (
        int(np.sum(mat[e] & ~mat[j] & both)),
        int(np.sum(mat[j] & ~mat[e] & both)),
        int(np.sum(both)),
    )


def _edge_pairs(k: int) -> list[tuple[int, int]]:
    """Ordered (edge, other) index pairs: 2 (k - 1) of them."""
    return [(e, j) for e in (0, k - 1) for j in range(k) if j != e]


def _compare_positions_z(
    outcomes: Mapping[int, Sequence[bool | None]],
    *,
    max_drop: float,
    confidence: float,
    z_fail: Callable[[int, int, int], float],
    z_pass: Callable[[int], float],
    upper: Literal["tango", "lr"] = "tango",
    prior_highs: Sequence[float] | None = None,
    ragged: bool = False,
) -> PositionComparison:
    positions, mat, asked = _position_counts(outcomes, ragged=ragged)
    k = len(positions)
    n = mat.shape[1]
    zp = z_pass(n)
    correct = (mat & asked).sum(axis=1)
    n_pos = asked.sum(axis=1)
    rate = [float(correct[r]) / int(n_pos[r]) if n_pos[r] else 0.0 for r in range(k)]
    acc = {p: rate[r] for r, p in enumerate(positions)}
    ci = {p: wilson_interval(int(correct[r]), int(n_pos[r]), confidence) for r, p in enumerate(positions)}

    # best edge: the better of first / last (ties -> first); worst: lowest other position
    # (ties -> interior before edges, then lower position).
    best_r = 0 if rate[0] >= rate[k - 1] else k - 1
    others = [r for r in range(k) if r != best_r]
    worst_r = min(others, key=lambda r: (rate[r], r in (0, k - 1), r))

    pairs = _edge_pairs(k)
    m_fail = len(pairs)

    def zf(n10: int, n01: int) -> float:
        return z_fail(m_fail, n, n10 + n01)

    def counts(e: int, j: int) -> tuple[int, int, int]:
        return _pair_counts(mat, asked, e, j)

    # Holm over the distinct (unordered) edge-vs-position McNemar tests.
    unordered = sorted({(min(e, j), max(e, j)) for e, j in pairs})
    raw_p = [mcnemar_exact(*counts(e, j)[:2]) for e, j in unordered]
    adj_p = dict(zip(unordered, holm(raw_p), strict=True))

    lows: list[float] = []
    highs: list[float] = []
    for idx, (e, j) in enumerate(pairs):
        n10, n01, n_pair = counts(e, j)
        lo, hi = _bounds(n10, n01, n_pair, zf(n10, n01), zp, upper)
        if prior_highs is not None:
            # sequential: a comparison that passed at an earlier look is settled. It stays passed
            # (see decide_positions) and is not re-tested for FAIL: the probe may have stopped
            # asking its positions, and the FAIL cuts of later looks were never meant for old data.
            hi = min(hi, prior_highs[idx])
            if prior_highs[idx] <= max_drop:
                lo = min(lo, hi)
        lows.append(lo)
        highs.append(hi)
    lo_all, hi_all = (max(lows), max(highs)) if n else (-1.0, 1.0)
    verdict: Verdict = "inconclusive" if n == 0 else _verdict_from_bounds(lo_all, hi_all, max_drop)
    settled = tuple(
        positions[r]
        for r in range(k)
        if n and all(highs[i] <= max_drop for i, pair in enumerate(pairs) if r in pair)
    )

    # every edge comparison with the bounds the verdict read (a sequential comparison settled at an
    # earlier look stays passed), not a re-read of the data so far: that could show INCONCLUSIVE
    # beside a PASS
    edge_comparisons: dict[tuple[int, int], PairedComparison] = {}
    for idx, (e, j) in enumerate(pairs):
        n10, n01, n_pair = counts(e, j)
        both = asked[e] & asked[j]
        edge_comparisons[(positions[e], positions[j])] = _paired_from_counts(
            n_pair,
            int(np.sum(mat[e] & both)),
            int(np.sum(mat[j] & both)),
            n10,
            n01,
            max_drop=max_drop,
            confidence=confidence,
            z_lower=zf(n10, n01),
            z_upper=zp,
            p_value=adj_p[(min(e, j), max(e, j))],
            upper=upper,
            bounds=(lows[idx], highs[idx]),
        )
    comparisons = {positions[j]: edge_comparisons[(positions[best_r], positions[j])] for j in others}
    return PositionComparison(
        positions=positions,
        accuracy=acc,
        ci=ci,
        n=n,
        best_edge=positions[best_r],
        worst=positions[worst_r],
        drop=(rate[best_r] - rate[worst_r]) if n else 0.0,
        drop_ci=(lo_all, hi_all),
        p_value=adj_p[(min(best_r, worst_r), max(best_r, worst_r))],
        comparisons=comparisons,
        shape=position_shape(acc) if n else "flat",
        verdict=verdict,
        max_drop=float(max_drop),
        confidence=float(confidence),
        correct={p: int(correct[r]) for r, p in enumerate(positions)},
        n_by_position={p: int(n_pos[r]) for r, p in enumerate(positions)},
        settled=settled,
        edge_comparisons=edge_comparisons,
    )


def compare_positions(
    outcomes: Mapping[int, Iterable[bool | None]],
    *,
    max_drop: float,
    confidence: float = 0.95,
    fail_alpha: float | None = None,
) -> PositionComparison:
    """Compare accuracy across gold positions; ``outcomes[pos][i]`` = question i correct at pos
    (each position's outcomes any iterable: a list, generator, NumPy array, read once).

    The same questions are asked at every position (paired); questions with a ``None`` at any
    position are left out. The tested quantity is the true largest edge drop
    ``D = max over edges e (first, last) and positions j != e of acc_e - acc_j``
    (= best edge minus worst position). With ``alpha = 1 - confidence`` and
    ``m = 2 (k - 1)`` ordered (edge, position) comparisons:

    * FAIL iff some comparison's one-sided Tango lower bound exceeds ``max_drop``, at critical
      values that keep the chance of ANY comparison failing <= alpha at every pipeline with
      ``D <= max_drop`` (so choosing the best edge and the worst position from the data cannot
      inflate the false-FAIL rate): exact Berger-Boos cuts per discordant count, at the largest
      per-comparison level the shape of the null allows (about ``alpha / (2 (k - 2))``, see
      :func:`position_fail_cuts`); plain Bonferroni ``alpha / m`` where that does not apply
      (``n > EXACT_MAX_N``, ``max_drop <= 0``);
    * PASS iff every comparison's one-sided upper bound at ``confidence`` is <= ``max_drop``
      (intersection-union test: no adjustment needed);
    * ``drop_ci`` = (max of the adjusted lower bounds, max of the upper bounds), a valid pair
      of one-sided bounds for ``D`` that the verdict reads directly.

    ``p_value`` is the exact McNemar p-value of best edge vs worst, Holm-adjusted over the
    ``2k - 3`` distinct edge-vs-position tests; ``comparisons`` (best edge vs each other
    position) carry the same Holm-adjusted p-values and the bounds above.

    ``fail_alpha``: the alpha of the whole FAIL family (default ``1 - confidence``); a probe with
    ``min_accuracy`` passes half of it (the floors over the positions take the other half).
    """
    _check_confidence(confidence)
    _check_max_drop(max_drop)
    outcomes = _position_outcomes(outcomes)
    alpha = 1.0 - confidence
    fail_level = _fail_level(confidence, fail_alpha)
    k = len(outcomes)

    def z_fail(m: int, n: int, t: int) -> float:
        cuts = position_fail_cuts(
            n, k, max_drop=max_drop, confidence=confidence, fail_alpha=fail_alpha
        )
        return _fixed_z(n, max_drop, fail_level / m, "fail") if cuts is None else float(cuts[t])

    return _compare_positions_z(
        outcomes,
        max_drop=max_drop,
        confidence=confidence,
        z_fail=z_fail,
        z_pass=lambda n: _fixed_z(n, max_drop, alpha, "pass"),
    )


# --------------------------------------------------------------------------- exact power / size


def _trinomial_grid(n: int, p10: float, p01: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """All (n10, n01) tables with n10 + n01 <= n and their multinomial probabilities."""
    i = np.arange(n + 1, dtype=np.float64)
    n10, n01 = np.meshgrid(i, i, indexing="ij")
    mask = n10 + n01 <= n
    n10, n01 = n10[mask], n01[mask]
    p00 = max(0.0, 1.0 - p10 - p01)
    logp = (
        special.gammaln(n + 1.0)
        - special.gammaln(n10 + 1.0)
        - special.gammaln(n01 + 1.0)
        - special.gammaln(n - n10 - n01 + 1.0)
        + special.xlogy(n10, p10)
        + special.xlogy(n01, p01)
        + special.xlogy(n - n10 - n01, p00)
    )
    return n10, n01, np.exp(logp)


def fail_probability(
    n: int,
    *,
    p10: float,
    p01: float,
    max_drop: float,
    confidence: float = 0.95,
    side: Literal["fail", "pass"] = "fail",
    fail_alpha: float | None = None,
) -> float:
    """Exact probability that :func:`compare_paired` on ``n`` pairs returns FAIL (or PASS).

    ``p10`` = P(a right, b wrong), ``p01`` = P(a wrong, b right). Sums the multinomial
    probabilities of every table whose score statistic crosses the bound (no simulation).
    ``fail_alpha`` as for :func:`compare_paired`.
    """
    _check_confidence(confidence)
    if n <= 0:
        return 0.0
    n10, n01, prob = _trinomial_grid(n, p10, p01)
    t = tango_statistic(n10, n01, float(n), max_drop)
    z_lo, z_hi = critical_values(n, max_drop=max_drop, confidence=confidence, fail_alpha=fail_alpha)
    hit = t > z_lo if side == "fail" else t <= -z_hi
    return float(np.sum(prob[hit]))


def power_bound(
    n: int, *, p10: float, p01: float, max_drop: float, confidence: float = 0.95
) -> float:
    """Most power ANY test can have against ``(p10, p01)`` while keeping its FAIL rate <= alpha
    at every boundary pipeline (``p10 - p01 == max_drop``).

    Such a test is level-alpha against each single boundary point, so it cannot beat the
    Neyman-Pearson (likelihood-ratio, randomised) test of that point; the bound is the smallest
    NP power over a grid of boundary points (exact multinomial sums). Shows when a target power
    is out of reach for every calibrated test, not only for ours (e.g. all pairs discordant).
    """
    _check_confidence(confidence)
    _check_max_drop(max_drop)
    alpha = 1.0 - confidence
    _, _, p_alt = _trinomial_grid(n, p10, p01)
    best = 1.0
    for q01 in np.linspace(max(0.0, -max_drop), (1.0 - max_drop) / 2.0, _NUISANCE_POINTS):
        _, _, p_null = _trinomial_grid(n, q01 + max_drop, q01)
        with np.errstate(divide="ignore", invalid="ignore"):
            lr = np.where(p_null > 0, p_alt / p_null, np.inf)
        order = np.argsort(-lr, kind="stable")
        cum = np.cumsum(p_null[order])
        cut = int(np.searchsorted(cum, alpha, side="right"))
        power = float(np.sum(p_alt[order][:cut]))
        if cut < len(order) and p_null[order[cut]] > 0:  # randomise on the boundary table
            spent = float(cum[cut - 1]) if cut else 0.0
            power += float(p_alt[order[cut]]) * (alpha - spent) / float(p_null[order[cut]])
        best = min(best, power)
    return best


# --------------------------------------------------------------------------- sample sizes


def _cells(acc_a: float, acc_b: float, discordance: float | None) -> tuple[float, float]:
    for name, v in (("acc_a", acc_a), ("acc_b", acc_b), ("discordance", discordance)):
        if name == "discordance" and v is None:
            continue
        # (a bool or a string is not an accuracy: True read as 1.0, "0.9" raised a bare TypeError)
        if not _real(v) or not 0.0 <= float(v) <= 1.0:  # type: ignore[arg-type]
            raise ValueError(f"{name} must be a number in [0, 1], got {v!r}")
    delta = acc_a - acc_b
    if discordance is None:
        p10, p01 = acc_a * (1.0 - acc_b), (1.0 - acc_a) * acc_b
    else:
        p10, p01 = (discordance + delta) / 2.0, (discordance - delta) / 2.0
        lo = abs(delta)
        hi = min(acc_a + acc_b, 2.0 - acc_a - acc_b)
        if not lo - 1e-12 <= discordance <= hi + 1e-12:
            raise ValueError(
                f"discordance must lie in [{lo:.3g}, {hi:.3g}] for acc_a={acc_a}, acc_b={acc_b}: at "
                "least |acc_a - acc_b| of the pairs differ, and at most the pairs not right on both "
                "sides or not wrong on both"
            )
    return max(p10, 0.0), max(p01, 0.0)


def _approx_n(p10: float, p01: float, max_drop: float, z_alpha: float, z_beta: float) -> float:
    """Normal approximation to the pairs needed for the score test at ``max_drop``."""
    delta = p10 - p01
    gap = abs(delta - max_drop)
    if gap < 1e-12:
        return math.inf
    q0 = float(_tango_q(p10, p01, 1.0, max_drop))
    s0 = math.sqrt(max(2.0 * q0 + max_drop * (1.0 - max_drop), 0.0))
    s1 = math.sqrt(max(p10 + p01 - delta * delta, 0.0))
    return ((z_alpha * s0 + z_beta * s1) / gap) ** 2


def _exact_n(
    p10: float,
    p01: float,
    *,
    max_drop: float,
    power: float,
    confidence: float,
    side: Literal["fail", "pass"],
    exact_limit: int = _EXACT_N_SEARCH,
    exact_z_limit: int = 0,
) -> int:
    z_a, z_b = _z(confidence), float(sps.norm.ppf(power))
    approx = _approx_n(p10, p01, max_drop, z_a, z_b)
    if not math.isfinite(approx) or approx > 1e7:
        raise ValueError("the requested decision is out of reach (drop too close to max_drop)")
    n = max(1, math.ceil(approx))

    def pw(m: int) -> float:
        return fail_probability(
            m, p10=p10, p01=p01, max_drop=max_drop, confidence=confidence, side=side
        )

    if exact_limit < n <= min(exact_z_limit, EXACT_MAX_N):
        # Up to EXACT_MAX_N the test's cuts are exact and can sit well above the normal quantile
        # (1.72 vs 1.645 at 504 pairs, max_drop 0.1), so the normal figure fell short (power 0.78 for
        # 0.8). Redo the approximation with the exact cut at n until the exact power is reached (each
        # step computes that n's cut: seconds; summing the power over every n up to it would be minutes).
        for _ in range(8):
            if pw(n) >= power:
                return n
            z_exact = critical_values(n, max_drop=max_drop, confidence=confidence)[side == "pass"]
            n = max(n + 1, math.ceil(_approx_n(p10, p01, max_drop, z_exact, z_b)))
            if n > EXACT_MAX_N:  # the normal quantile is the test's cut again, and its figure was <= 600
                return EXACT_MAX_N + 1
        return n
    if n > exact_limit:  # the normal approximation is accurate here; exact sums get costly
        return n

    # Refine with the exact power (saw-toothed in n because of discreteness): step down while
    # the smaller size still reaches it, else step up until it is reached (both bounded).
    if pw(n) >= power:
        for _ in range(10):
            if n <= 1 or pw(n - 1) < power:
                break
            n -= 1
        return n
    for _ in range(max(20, n // 2)):
        n += 1
        if pw(n) >= power:
            return n
    return n


def required_n(
    *,
    acc_a: float,
    acc_b: float,
    max_drop: float,
    power: float = 0.8,
    confidence: float = 0.95,
    discordance: float | None = None,
) -> int:
    """Pairs needed so that FAIL is reached with probability ``power`` when the true
    accuracies are ``acc_a`` / ``acc_b`` (so ``acc_a - acc_b`` must exceed ``max_drop``).

    ``discordance`` = P(the two outcomes of a pair differ); by default the outcomes are taken
    as independent (``acc_a (1 - acc_b) + (1 - acc_a) acc_b``), which is pessimistic when
    they are positively correlated, as they usually are. Starts from the normal
    approximation for the score test and refines it with the exact multinomial power.
    """
    _check_confidence(confidence)
    if not _real(max_drop) or not 0.0 <= max_drop < 1.0:
        raise ValueError(f"max_drop must be a number in [0, 1), as the marks take it, got {max_drop!r}")
    if not _real(power) or not 0.0 < power < 1.0:
        raise ValueError(f"power must lie in (0, 1), got {power!r}")
    p10, p01 = _cells(acc_a, acc_b, discordance)  # (checks the accuracies before they are subtracted)
    if acc_a - acc_b <= max_drop:
        raise ValueError(
            f"a FAIL needs a true drop above max_drop: acc_a - acc_b = {acc_a - acc_b:.3g} "
            f"<= max_drop = {max_drop:.3g}"
        )
    return _exact_n(
        p10, p01, max_drop=max_drop, power=power, confidence=confidence, side="fail",
        exact_z_limit=EXACT_MAX_N,
    )  # fmt: skip


@functools.lru_cache(maxsize=32)
def min_pass_n(*, max_drop: float, confidence: float = 0.95, limit: int = 10_000) -> int | None:
    """The fewest pairs with which the fixed design can PASS at all: even when every pair agrees,
    fewer cannot show the drop is at most ``max_drop`` (about 29 at max_drop 0.1 and 95%).
    ``None`` when not even ``limit`` pairs would do (``max_drop`` at or near 0)."""

    def passes(n: int) -> bool:
        same = [True] * n
        return compare_paired(same, same, max_drop=max_drop, confidence=confidence).verdict == "pass"

    hi = 1
    while not passes(hi):
        if hi >= limit:
            return None
        hi = min(limit, hi * 2)
    lo = hi // 2  # fails (or 0); PASS is monotone in n for agreeing pairs
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if passes(mid) else (mid, hi)
    return hi


def more_needed(
    cmp: PairedComparison,
    *,
    max_drop: float,
    confidence: float,
    power: float = 0.8,
    fail_confidence: float | None = None,
) -> int | None:
    """About how many MORE pairs would likely turn an INCONCLUSIVE result into PASS or FAIL.

    Uses the observed cell rates (each discordant cell smoothed by +0.5, so a run without
    discordant pairs is not taken as proof of none) as the truth and asks for the total n at
    which the decision in the observed direction is reached with probability ``power`` (exact power
    up to 200 pairs, the normal approximation above); returns that total minus ``cmp.n``. ``None``
    when it is hopeless (observed drop at ``max_drop``, or more than ``MAX_MORE_PAIRS`` extra pairs).
    ``0`` if already decided.
    ``fail_confidence``: the confidence of the FAIL side when it is stricter (a position comparison
    is one of several). A plug-in figure: if the observed rates are off, so is it (near the margin
    the enlarged sample decides less often than ``power``).
    """
    _check_confidence(confidence)
    if cmp.verdict != "inconclusive":
        return 0
    n = cmp.n
    p10 = (cmp.n10 + 0.5) / (n + 1.0)
    p01 = (cmp.n01 + 0.5) / (n + 1.0)
    delta = p10 - p01
    side: Literal["fail", "pass"] = "fail" if delta > max_drop else "pass"
    if side == "fail" and fail_confidence is not None:
        confidence = fail_confidence
    z_a, z_b = _z(confidence), float(sps.norm.ppf(power))
    approx = _approx_n(p10, p01, max_drop, z_a, z_b)
    if not math.isfinite(approx) or approx - n > MAX_MORE_PAIRS:
        return None
    try:
        total = _exact_n(
            p10, p01, max_drop=max_drop, power=power, confidence=confidence, side=side,
            exact_limit=_EXACT_N_MORE,
        )  # fmt: skip
    except ValueError:
        return None
    extra = max(total - n, 1)
    return extra if extra <= MAX_MORE_PAIRS else None


# --------------------------------------------------------------------------- sequential


SpendingName = Literal["obf", "pocock"]

#: Default alpha spending (Hwang-Shih-DeCani gammas) and looks, chosen by bench/calibration.py.
#: FAIL side -4: the sequential power stays within ~1 point of the fixed design for reversal,
#: and clear FAILs still save 55-63% of calls (-2 saved a few points more but cost up to 2 points
#: of power). PASS side -1 with the likelihood-ratio statistic and 8 looks: a clear PASS with few
#: disagreeing pairs stops at about 58% of the sample (4 looks with Tango's statistic: 71%), at 0-2
#: points fewer PASS decisions on pipelines with many disagreeing pairs. (A PASS at max_drop 0.1
#: needs ~40-50 pairs even with no discordant pair.)
FAIL_SPENDING: float = -4.0
PASS_SPENDING: float = -1.0
#: FAIL side of the sequential position rule: its family bound adds every comparison's crossings
#: at every look, so alpha spent early costs more there than for one reversal comparison. With -4
#: the sequential power at 5 independent positions was 0.787 (fixed: 0.809); -8 gives 0.813 and
#: clear FAILs still save 44-51% of calls (-4: 53-60%; bench/calibration.py, 20,000 runs).
POSITION_FAIL_SPENDING: float = -8.0
#: Interim looks of a sequential design (evenly spaced, the last at the full sample).
LOOKS: int = 8
#: Looks of a position probe with at most 3 positions (fractions of the sample) and its PASS-side
#: gamma. There the edges are two thirds of the calls and are asked until the last of the four
#: edge comparisons settles, so looks dense at 25-90% of the sample and earlier PASS spending pay:
#: 3 independent positions at n = 300, drop 0 save 40% of calls instead of 37% (PASS rate 0.940 vs
#: 0.944), the FAIL power and both error rates unchanged. With 5 positions the same schedule costs
#: ~1 point of PASS decisions for 2-3 points of savings the 8 even looks do not need (they save
#: 44-49% there), so it is kept for 3 (docs/statistics.md, bench/calibration.py).
FEW_POSITION_FRACTIONS: tuple[float, ...] = (
    0.25, 0.35, 0.42, 0.48, 0.53, 0.58, 0.63, 0.68, 0.73, 0.79, 0.87, 1.0,
)
FEW_POSITION_PASS_SPENDING: float = -0.5


def _sizes_at(n_total: int, fractions: Sequence[float]) -> list[int]:
    """Cumulative look sizes at ``fractions`` of ``n_total`` (increasing, the last 1.0); looks
    that round to the same size on a small sample are merged."""
    fr = [float(f) for f in fractions]
    if not fr or fr[-1] != 1.0 or any(b <= a for a, b in itertools.pairwise([0.0, *fr])):
        raise ValueError(f"fractions must increase within (0, 1] and end at 1.0, got {fr}")
    # the epsilon keeps 0.35 * 100 at 35 (floating point makes it 35.000000000000004)
    return sorted({max(1, math.ceil(n_total * f - 1e-9)) for f in fr})


def sequential_design(
    n_total: int, *, confidence: float = 0.95, positions: int | None = None
) -> SequentialDesign:
    """The design a sequential probe of ``n_total`` pairs or questions uses: :data:`LOOKS` even looks,
    or for a position probe of at most 3 ``positions`` the :data:`FEW_POSITION_FRACTIONS` looks with
    PASS spending :data:`FEW_POSITION_PASS_SPENDING`."""
    if positions is not None and positions <= 3:
        return SequentialDesign(
            n_total,
            confidence=confidence,
            fractions=FEW_POSITION_FRACTIONS,
            pass_spending=FEW_POSITION_PASS_SPENDING,
        )
    return SequentialDesign(n_total, confidence=confidence)


def _spending_fn(spending: SpendingName | float, alpha: float) -> Callable[[float], float]:
    """Cumulative alpha spent by information fraction ``t`` (Lan-DeMets / Hwang-Shih-DeCani)."""
    if spending == "obf":
        zc = float(sps.norm.isf(alpha / 2.0))
        return lambda t: float(2.0 * sps.norm.sf(zc / math.sqrt(t))) if t > 0 else 0.0
    if spending == "pocock":
        return lambda t: alpha * math.log1p((math.e - 1.0) * t)
    if not isinstance(spending, (str, bool)):
        g = float(spending)
        if abs(g) < 1e-9:
            return lambda t: alpha * t
        return lambda t: alpha * (-math.expm1(-g * t)) / (-math.expm1(-g))
    raise ValueError(
        f"spending must be 'obf', 'pocock' or a Hwang-Shih-DeCani gamma, got {spending!r}"
    )


def _simpson_weights(m: int, h: float) -> FloatArray:
    """Composite Simpson weights for ``m`` (odd) equally spaced nodes."""
    w = np.ones(m, dtype=np.float64)
    w[1:-1:2] = 4.0
    w[2:-1:2] = 2.0
    return np.asarray(w * h / 3.0, dtype=np.float64)


def group_sequential_bounds(
    fractions: Sequence[float], alpha: float, spending: SpendingName | float = "obf"
) -> list[float]:
    """One-sided critical z-values per look for a standardised statistic with independent
    increments (Brownian motion in information time), spending ``alpha`` by ``spending``.

    Exact recursive numerical integration (Armitage, McPherson & Rowe 1969) on a Simpson grid.
    """
    if not 0.0 < alpha < 0.5:
        raise ValueError("alpha must lie in (0, 0.5)")
    ts = [float(t) for t in fractions]
    if any(not 0.0 < t <= 1.0 for t in ts) or any(b <= a for a, b in itertools.pairwise(ts)):
        raise ValueError(f"information fractions must increase within (0, 1]: {ts}")
    spend = _spending_fn(spending, alpha)
    cum = [spend(t) for t in ts]
    inc = [cum[0]] + [b - a for a, b in itertools.pairwise(cum)]
    grid_pts = 801
    bounds: list[float] = []
    # W(t) ~ N(0, t) under H0; continuation region at look k: W < c_k sqrt(t_k).
    c1 = float(sps.norm.isf(max(inc[0], 1e-300)))
    bounds.append(c1)
    x = np.linspace(-8.0 * math.sqrt(ts[0]), c1 * math.sqrt(ts[0]), grid_pts)
    dens = sps.norm.pdf(x, scale=math.sqrt(ts[0])) * _simpson_weights(grid_pts, x[1] - x[0])
    for k in range(1, len(ts)):
        sd = math.sqrt(ts[k] - ts[k - 1])
        target = inc[k]
        tk = math.sqrt(ts[k])

        def excess(
            c: float,
            x: FloatArray = x,
            dens: FloatArray = dens,
            sd: float = sd,
            tk: float = tk,
            target: float = target,
        ) -> float:
            return float(np.sum(dens * sps.norm.sf((c * tk - x) / sd))) - target

        if target <= 0.0 or excess(40.0) >= 0.0:
            ck = 40.0
        else:
            ck = float(optimize.brentq(excess, -10.0, 40.0, xtol=1e-10))
        bounds.append(ck)
        y = np.linspace(-8.0 * tk, ck * tk, grid_pts)
        kern = sps.norm.pdf((y[:, None] - x[None, :]) / sd) / sd
        dens = (kern @ dens) * _simpson_weights(grid_pts, y[1] - y[0])
        x = y
    return bounds


@functools.lru_cache(maxsize=128)
def _asymptotic_bounds(
    fractions: tuple[float, ...], alpha: float, spending: SpendingName | float
) -> tuple[float, ...]:
    return tuple(group_sequential_bounds(fractions, alpha, spending))


#: Above this many pairs the sequential position rule keeps plain Bonferroni: the family bound
#: needs the exact crossing probability at ~30 true differences per level tried: ~9 s at 100 pairs
#: and ~45 s at 200 on one core (8 looks, ~5 levels tried), once per machine (stored tables).
_SEQ_FAMILY_MAX_N = 200


def _look_masks(
    sizes: Sequence[int], z: Sequence[float], max_drop: float
) -> list[npt.NDArray[np.bool_]]:
    """Per look, the tables ``(n10, n01)`` whose ``T(max_drop)`` exceeds that look's cut."""
    masks = []
    for nk, zk in zip(sizes, z, strict=True):
        i = np.arange(nk + 1, dtype=np.float64)
        n10, n01 = np.meshgrid(i, i, indexing="ij")
        masks.append((n10 + n01 <= nk) & (tango_statistic(n10, n01, float(nk), max_drop) > zk))
    return masks


def _looks_distribution(
    sizes: Sequence[int], masks: Sequence[npt.NDArray[np.bool_]], p10: FloatArray, p01: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Exact multinomial recursion over the looks, for each cell pair ``(p10[g], p01[g])`` of a
    grid: (probability of entering ``masks[look]`` at some look, sub-distribution of the tables
    at the last look that entered none), shapes (G,) and (G, n + 1, n + 1). ``masks`` may be one
    shorter than ``sizes`` (the last look then has no region yet)."""
    dist: FloatArray | None = None
    prev = 0
    crossed = np.zeros(len(p10), dtype=np.float64)
    for look, nk in enumerate(sizes):
        dist = _add_pairs(dist, nk - prev, p10, p01)
        prev = nk
        if look < len(masks):
            crossed += dist[:, masks[look]].sum(axis=1)
            dist[:, masks[look]] = 0.0
    assert dist is not None
    return crossed, dist


def _crossing_size(
    sizes: Sequence[int], masks: Sequence[npt.NDArray[np.bool_]], delta: float
) -> float:
    """Largest probability (sup over the discordance grid) that one comparison whose true
    difference is ``delta`` enters a FAIL region at some look."""
    nus = np.linspace(max(abs(delta), 1e-9), 1.0, _NUISANCE_POINTS)
    return float(_looks_distribution(sizes, masks, (nus + delta) / 2.0, (nus - delta) / 2.0)[0].max())


def _sequential_bb_final(
    sizes: Sequence[int],
    max_drop: float,
    earlier: Sequence[npt.NDArray[np.bool_]],
    level: float,
) -> npt.NDArray[np.int64]:
    """Berger-Boos region ``n10 >= r[t]`` of the last look, given the earlier looks' fixed
    regions: at each discordance the earlier crossings plus the last look's rejections stay
    <= ``level - gamma``; the supremum runs over the discordances above the one-sided
    Clopper-Pearson lower bound at the last look's t (so the last look's size, earlier looks
    included, is <= level at every discordance: Berger & Boos 1994)."""
    n = sizes[-1]
    gamma = _BB_GAMMA_SHARE * level
    valid, stat, t_of, n10_of, order, ends = _sorted_tables(n, max_drop)
    svals = stat[order]
    nus = np.linspace(max_drop, 1.0, _NUISANCE_POINTS)
    allowed = np.empty(len(nus), dtype=np.int64)
    p01s = (nus - max_drop) / 2.0
    crossed, dists = _looks_distribution(sizes, earlier, p01s + max_drop, p01s)
    for g in range(len(nus)):
        tails = np.cumsum(dists[g][valid][order])[ends]
        room = (level - gamma - float(crossed[g])) * (1.0 + 1e-9)
        allowed[g] = np.searchsorted(tails, room, side="right") if room > 0 else 0
    return _bb_regions(n, max_drop, gamma, allowed, stat, svals[ends], t_of, n10_of)


def _region_mask(n: int, r: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Tables ``(n10, n01)`` of ``n`` pairs with ``n10 >= r[n10 + n01]``."""
    i = np.arange(n + 1)
    n10, n01 = np.meshgrid(i, i, indexing="ij")
    t = n10 + n01
    return np.asarray((t <= n) & (n10 >= r[np.minimum(t, n)]))


@functools.lru_cache(maxsize=32)
@_stored
def _sequential_position_rule(
    sizes: tuple[int, ...],
    fractions: tuple[float, ...],
    rule: SpendingName | float,
    max_drop: float,
    alpha: float,
    k: int,
) -> tuple[float, tuple[tuple[float, ...], ...]]:
    """(per-comparison level, per look the FAIL cut by discordant count) of the sequential
    position rule. Earlier looks: the exact spending thresholds at the level; last look:
    Berger-Boos cuts (:func:`_sequential_bb_final`). The level is searched by
    :func:`_largest_level` from ``alpha / (2 (k - 2))`` so that the exact null-shape family bound
    over all looks (as for :func:`position_fail_cuts`) stays <= alpha; if none above
    ``alpha / (2 (k - 1))`` holds, plain Bonferroni thresholds (no Berger-Boos) are used."""
    n = sizes[-1]

    def flat(z: Sequence[float]) -> tuple[tuple[float, ...], ...]:
        return tuple((float(zl),) * (n + 1) for zl in z)

    def thresholds(level: float) -> tuple[float, ...]:
        spend = _spending_fn(rule, level)
        cum = (*(min(level, spend(t)) for t in fractions[:-1]), level)
        return _exact_thresholds(sizes, max_drop, cum, "fail")

    def attempt(level: float) -> tuple[float, tuple[tuple[float, ...], ...]] | None:
        z = thresholds(level)
        earlier = _look_masks(sizes[:-1], z[:-1], max_drop)
        r = _sequential_bb_final(sizes, max_drop, earlier, level)
        masks = [*earlier, _region_mask(n, r)]
        size = _null_shape_bound(lambda d: _crossing_size(sizes, masks, d), max_drop, k)
        if size > alpha * (1.0 + 1e-9):
            return None
        return level, (*flat(z[:-1]), _z_for_regions(n, r.tolist(), max_drop, level))

    bonferroni = alpha / (2 * (k - 1))
    found = _largest_level(attempt, alpha / max(1, 2 * (k - 2)), floor=bonferroni)
    return (bonferroni, flat(thresholds(bonferroni))) if found is None else found


class SequentialDesign:
    """Group-sequential paired test with interim looks and an alpha-spending rule.

    Looks happen after ``sizes[look]`` pairs (``look`` is 0-based; ``sizes`` are the
    cumulative sample sizes, by default :data:`LOOKS` = 8 evenly spaced looks: 13, 25, ..., 100
    of 100; ``fractions`` places them, e.g. :data:`FEW_POSITION_FRACTIONS`, and a look that rounds
    to the same size as the one before on a small sample is merged into it, so :attr:`looks` may
    be fewer; :func:`sequential_design` picks a probe's design). At look ``k`` FAIL uses the same
    one-sided Tango lower bound as :func:`compare_paired` and PASS the upper bound of the
    signed-root likelihood ratio (:func:`lr_statistic`: its spread follows the observed
    discordance, so pipelines with few disagreeing pairs PASS earlier), each at the boundary
    ``c_k`` of a one-sided group-sequential test that spends ``alpha = 1 - confidence`` over the
    looks. Default spending: Hwang-Shih-DeCani, gamma = -4 on the FAIL side (keeps the fixed-design power
    within ~1 point for reversal while saving 55-63% of calls on clear FAILs), -8 on the FAIL
    side of position comparisons (:data:`POSITION_FAIL_SPENDING`: power within 0-2 points of the
    fixed design, 44-51% saved on clear FAILs) and -1 on the PASS side (saves 42-50% on clear
    PASSes), see docs/statistics.md; ``"obf"`` (Lan-DeMets O'Brien-Fleming-type), ``"pocock"`` or
    another gamma are accepted; ``pass_spending`` (default :data:`PASS_SPENDING`) and
    ``position_spending`` set those rules separately.
    Critical values are calibrated exactly (multinomial recursion over looks, sup over the
    discordance) for ``n_total <= EXACT_MAX_N``. FAIL and PASS are two separate one-sided
    tests, each with its own spent alpha, so each error rate stays <= alpha.
    Interim looks return "fail"/"pass" only when a boundary is crossed, else "continue";
    the last look is three-way. The returned comparison's ``drop_ci`` holds the bounds at
    the look's boundary (so the verdict still reads ``drop_ci``).
    """

    def __init__(
        self,
        n_total: int,
        *,
        looks: int = LOOKS,
        confidence: float = 0.95,
        spending: SpendingName | float = FAIL_SPENDING,
        pass_spending: SpendingName | float | None = None,
        position_spending: SpendingName | float | None = None,
        fractions: Sequence[float] | None = None,
    ) -> None:
        _check_confidence(confidence)
        if n_total < 1:
            raise ValueError(f"n_total must be >= 1, got {n_total}")
        if looks < 1:
            raise ValueError(f"looks must be >= 1, got {looks}")
        if fractions is None:
            looks = min(looks, n_total)
            sizes = [max(1, math.ceil(n_total * (k + 1) / looks)) for k in range(looks)]
        else:
            sizes = _sizes_at(n_total, fractions)
        self.n_total = int(n_total)
        self.looks = len(sizes)
        self.confidence = float(confidence)
        self.spending: SpendingName | float = spending
        self.pass_spending: SpendingName | float = (
            PASS_SPENDING if pass_spending is None else pass_spending
        )
        self.position_spending: SpendingName | float = (
            POSITION_FAIL_SPENDING if position_spending is None else position_spending
        )
        self.sizes: list[int] = sizes
        self.fractions: list[float] = [s / n_total for s in sizes]
        for rule in (spending, self.pass_spending, self.position_spending):
            _spending_fn(rule, 0.05)  # validate early
        self._cache: dict[float, list[float]] = {}

    def boundaries(self, alpha: float | None = None) -> list[float]:
        """Asymptotic (Brownian-motion) critical z-values per look at one-sided ``alpha``."""
        a = 1.0 - self.confidence if alpha is None else float(alpha)
        key = round(a, 15)
        if key not in self._cache:
            self._cache[key] = group_sequential_bounds(self.fractions, a, self.spending)
        return self._cache[key]

    def thresholds(
        self, *, max_drop: float, alpha: float | None = None, side: str = "fail"
    ) -> list[float]:
        """Critical values of the score statistic per look, as used by :meth:`decide`.

        ``side``: "fail" (Tango, :attr:`spending`), "pass" (LR, :attr:`pass_spending`) or
        "position" (Tango, :attr:`position_spending`: the plain Bonferroni FAIL cut of a position
        comparison). Exact (sup over the discordance, multinomial recursion across looks) when
        ``n_total <= EXACT_MAX_N``, else the asymptotic :meth:`boundaries`.
        """
        a = 1.0 - self.confidence if alpha is None else float(alpha)
        rules = {"fail": self.spending, "pass": self.pass_spending, "position": self.position_spending}
        if side not in rules:
            raise ValueError(f"side must be 'fail', 'pass' or 'position', got {side!r}")
        rule = rules[side]
        if self.n_total > EXACT_MAX_N:
            return list(_asymptotic_bounds(tuple(self.fractions), round(a, 15), rule))
        spend = _spending_fn(rule, a)
        cum = (*(min(a, spend(t)) for t in self.fractions[:-1]), a)
        exact_side = "pass_lr" if side == "pass" else "fail"
        return list(
            _exact_thresholds(tuple(self.sizes), round(float(max_drop), 12), cum, exact_side)
        )

    def position_alpha(self, *, max_drop: float, k: int, fail_alpha: float | None = None) -> float:
        """Alpha spent by each edge-vs-position comparison's FAIL boundary with ``k`` positions.

        Plain Bonferroni is ``alpha / (2 (k - 1))``. For ``n_total <= 200`` and ``max_drop > 0``
        the shape of the null (see :func:`position_fail_cuts`) allows more: a level searched from
        ``alpha / (2 (k - 2))`` (:func:`_largest_level`) whose exact family bound over all looks
        (crossing probabilities at ~30 true differences, sup over the discordance) is <= alpha,
        with Berger-Boos cuts at the last look (:meth:`position_thresholds`). ``fail_alpha``: the
        family's FAIL alpha (default ``1 - confidence``; half of it with a ``min_accuracy`` floor).
        """
        return self._position_rule(max_drop, k, fail_alpha)[0]

    def position_thresholds(
        self, *, max_drop: float, k: int, fail_alpha: float | None = None
    ) -> list[FloatArray]:
        """Per look, the FAIL critical value of one edge-vs-position comparison by its discordant
        count ``t = n10 + n01`` (index ``0..n_total``): it FAILs at that look iff
        ``tango_statistic(n10, n01, n, max_drop) > out[look][t]``. Constant over t except at the
        last look, whose Berger-Boos cuts depend on t (where the refinement applies)."""
        rule = self._position_rule(max_drop, k, fail_alpha)
        return [np.array(c, dtype=np.float64) for c in rule[1]]

    def _position_rule(
        self, max_drop: float, k: int, fail_alpha: float | None = None
    ) -> tuple[float, tuple[tuple[float, ...], ...]]:
        alpha = _fail_level(self.confidence, fail_alpha)
        if k < 3 or max_drop <= 0.0 or self.n_total > _SEQ_FAMILY_MAX_N:
            level = alpha / (2 * max(1, k - 1))
            z = self.thresholds(max_drop=max_drop, alpha=level, side="position")
            return level, tuple((zl,) * (self.n_total + 1) for zl in z)
        return _sequential_position_rule(
            tuple(self.sizes),
            tuple(self.fractions),
            self.position_spending,
            round(float(max_drop), 12),
            round(alpha, 12),
            k,
        )

    def _check_look(self, look: int) -> None:
        if not 0 <= look < self.looks:
            raise ValueError(f"look must be in 0..{self.looks - 1} (0-based), got {look}")

    def _finish(self, verdict: Verdict, look: int) -> Verdict | Literal["continue"]:
        if look == self.looks - 1 or verdict != "inconclusive":
            return verdict
        return "continue"

    def decide(
        self,
        a: Iterable[bool | None],
        b: Iterable[bool | None],
        *,
        look: int,
        max_drop: float,
        fail_alpha: float | None = None,
    ) -> tuple[Verdict | Literal["continue"], PairedComparison]:
        """Decide at ``look`` from all pairs so far (``a``, ``b`` cumulative). ``fail_alpha``: the
        alpha the FAIL side spends over the looks (default ``1 - confidence``; a probe with
        ``min_accuracy`` spends half of it here and half on :meth:`decide_floor` with ``tests=2``);
        the PASS side always spends ``1 - confidence``."""
        self._check_look(look)
        _check_max_drop(max_drop)
        if fail_alpha is None:
            z_lo = self.thresholds(max_drop=max_drop, side="fail")[look]
        else:
            level = _fail_level(self.confidence, fail_alpha)
            z_lo = self.thresholds(max_drop=max_drop, alpha=level, side="fail")[look]
        z_hi = self.thresholds(max_drop=max_drop, side="pass")[look]
        n, ac, bc, n10, n01 = _complete_pairs(_outcome_list(a, "a"), _outcome_list(b, "b"))
        cmp = _paired_from_counts(
            n,
            ac,
            bc,
            n10,
            n01,
            max_drop=max_drop,
            confidence=self.confidence,
            z_lower=z_lo,
            z_upper=z_hi,
            upper="lr",
        )
        return self._finish(cmp.verdict, look), cmp

    def decide_floor(
        self, correct: int, n: int, floor: float, *, look: int, tests: int = 1
    ) -> Verdict | Literal["continue"]:
        """The ``min_accuracy`` check at ``look`` (``correct`` right of ``n`` so far): an exact
        group-sequential binomial test on each side. PASS spends ``alpha`` by
        :attr:`pass_spending`, FAIL ``alpha / tests`` by :attr:`spending` (``tests``: FAIL checks
        sharing alpha, Bonferroni: the probes pass 2 for a reverse floor beside the drop test, 2 k
        for k positions), each over the looks (:func:`_floor_levels`), so an accuracy exactly at the
        floor PASSes at most alpha, and FAILs at most alpha / tests, of the time whenever the probe
        stops. :func:`accuracy_verdict` alone, re-read at every look, would not be."""
        self._check_look(look)
        if n <= 0:
            return self._finish("inconclusive", look)
        if floor <= 0.0:  # every accuracy holds it (the exact PASS cut at 0 needed one right; fixed: PASS)
            return "pass"
        alpha = 1.0 - self.confidence
        sizes = tuple(self.sizes)
        rounded = round(float(floor), 12)
        pass_spend = _spending_fn(self.pass_spending, alpha)
        cum_pass = (*(min(alpha, pass_spend(t)) for t in self.fractions[:-1]), alpha)
        fail_alpha = alpha / max(1, tests)
        fail_spend = _spending_fn(self.spending, fail_alpha)
        cum_fail = (*(min(fail_alpha, fail_spend(t)) for t in self.fractions[:-1]), fail_alpha)
        fail_level = _floor_levels(sizes, rounded, cum_fail, "fail")[look]
        pass_level = _floor_levels(sizes, rounded, cum_pass, "pass")[look]
        tol = 1.0 + 1e-9  # a level is the p-value at the cut: equal means crossed
        if float(sps.binom.cdf(correct, n, floor)) <= fail_level * tol:
            return "fail"
        if float(sps.binom.sf(correct - 1, n, floor)) <= pass_level * tol:
            return "pass"
        return self._finish("inconclusive", look)

    def decide_positions(
        self,
        outcomes: Mapping[int, Iterable[bool | None]],
        *,
        look: int,
        max_drop: float,
        fail_alpha: float | None = None,
    ) -> tuple[Verdict | Literal["continue"], PositionComparison]:
        """Position version: the FAIL boundary of each of the ``m = 2 (k - 1)`` edge comparisons
        spends :meth:`position_alpha` (cuts: :meth:`position_thresholds`), the PASS boundary
        spends ``alpha``. A comparison that crossed its PASS boundary at an earlier look is settled:
        it stays passed (its upper bound in ``drop_ci`` is the smallest over the looks so far) and
        is no longer tested for FAIL; the probe PASSes once all have. ``outcomes`` hold every
        question asked so far, in look order; a position whose comparisons have all settled
        (``settled`` of the result) need not be asked any more: its list may stop there. The
        result's ``comparisons`` (and ``edge_comparisons``) carry the bounds and verdicts this
        decision read: a settled comparison reads PASS.
        ``fail_alpha``: the FAIL family's alpha over all comparisons and looks (default
        ``1 - confidence``; a probe with ``min_accuracy`` spends half of it here and half on the
        floors, :meth:`decide_floor` with ``tests = 2 k``)."""
        self._check_look(look)
        _check_max_drop(max_drop)
        outcomes = _position_outcomes(outcomes)
        cuts = self._position_rule(max_drop, len(outcomes), fail_alpha)[1][look]
        z_pass = self.thresholds(max_drop=max_drop, side="pass")
        # PASS is an intersection-union test: each comparison's own sequential PASS test is level
        # alpha whenever it crosses, so a comparison that crossed at an earlier look stays passed
        # and the probe PASSes once every comparison has (earlier looks re-read from the prefixes).
        # Dropping settled comparisons from the FAIL side only removes rejections: the FAIL
        # family bound still holds.
        longest = max((len(v) for v in outcomes.values()), default=0)
        prior: list[float] | None = None
        for earlier in range(look):
            size = self.sizes[earlier]
            if longest < size:
                continue  # fewer questions than that look (direct API use): nothing to re-read
            prefix = {p: list(v)[:size] for p, v in outcomes.items()}
            ups = _pair_uppers(prefix, z_pass[earlier], size)
            prior = ups if prior is None else [min(a, b) for a, b in zip(prior, ups, strict=True)]
        res = _compare_positions_z(
            outcomes,
            max_drop=max_drop,
            confidence=self.confidence,
            z_fail=lambda m, n, t: cuts[min(t, len(cuts) - 1)],
            z_pass=lambda n: z_pass[look],
            upper="lr",
            prior_highs=prior,
            ragged=True,
        )
        return self._finish(res.verdict, look), res
