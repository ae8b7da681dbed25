"""Properties of the verdict statistics, checked by hypothesis (a dev dependency: skipped where it is not
installed, as in the lowest- and newest-dependency runs, which install the core dependencies only)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("hypothesis")

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_ragprobe import stats as S

# ----------------------------------------------------------------------------- properties (hypothesis)
# docs/statistics.md: drop_ci holds the two one-sided bounds the verdict reads, always inside [-1, 1], and the
# verdict is exactly "fail if lo > max_drop; pass if hi <= max_drop; else inconclusive". Derandomized: the same
# examples in every run (and every xdist worker); small n keeps the exact critical values quick.

_EXAMPLES = settings(max_examples=150, deadline=None, derandomize=True, database=None)


def _rule(lo: float, hi: float, max_drop: float) -> str:
    return "fail" if lo > max_drop else "pass" if hi <= max_drop else "inconclusive"


@st.composite
def _tables(draw: st.DrawFn, max_n: int) -> tuple[list[bool | None], list[bool | None]]:
    n11, n10, n01, n00, missing = (draw(st.integers(0, max_n // 4)) for _ in range(5))
    a = [True] * (n11 + n10) + [False] * (n01 + n00) + [None] * missing
    b = [True] * n11 + [False] * n10 + [True] * n01 + [False] * n00 + [True] * missing
    return a, b


@_EXAMPLES
@given(
    _tables(40),
    st.sampled_from([0.0, 0.05, 0.1, 0.3, 0.95, -0.2]),
    st.sampled_from([0.5001, 0.8, 0.95, 0.999]),
    st.booleans(),
)
def test_paired_bounds_lie_in_range_and_are_what_the_verdict_reads(
    table: tuple[list[bool | None], list[bool | None]], max_drop: float, confidence: float, split: bool
) -> None:
    a, b = table
    fail_alpha = (1.0 - confidence) / 2.0 if split else None
    c = S.compare_paired(a, b, max_drop=max_drop, confidence=confidence, fail_alpha=fail_alpha)
    lo, hi = c.drop_ci
    assert -1.0 <= lo <= hi <= 1.0
    assert c.verdict == (_rule(lo, hi, max_drop) if c.n else "inconclusive")
    if c.n:
        assert lo <= c.drop + 1e-9 and c.drop <= hi + 1e-9
        assert 0.0 <= c.p_value <= 1.0


@_EXAMPLES
@given(_tables(24), st.integers(0, 7), st.sampled_from([0.0, 0.1, 0.3]), st.sampled_from([8, 9, 24]))
def test_sequential_looks_read_their_bounds_too(
    table: tuple[list[bool | None], list[bool | None]], look: int, max_drop: float, n_total: int
) -> None:
    a, b = table
    design = S.SequentialDesign(n_total)
    look = min(look, design.looks - 1)
    decision, c = design.decide(a, b, look=look, max_drop=max_drop)
    lo, hi = c.drop_ci
    assert -1.0 <= lo <= hi <= 1.0
    expected = _rule(lo, hi, max_drop) if c.n else "inconclusive"
    last = look == design.looks - 1
    assert decision == (expected if last or expected != "inconclusive" else "continue")


@settings(_EXAMPLES, max_examples=60)
@given(
    st.integers(2, 4),
    st.sampled_from([0, 1, 2, 5, 12]),
    st.sampled_from([0.0, 0.1]),
    st.randoms(use_true_random=False),
)
def test_position_bounds_lie_in_range_and_are_what_the_verdict_reads(
    k: int, n: int, max_drop: float, rng: Any
) -> None:
    outcomes = {p: [rng.choice([True, True, False, None]) for _ in range(n)] for p in range(k)}
    r = S.compare_positions(outcomes, max_drop=max_drop)
    lo, hi = r.drop_ci
    assert -1.0 <= lo <= hi <= 1.0
    assert r.verdict == (_rule(lo, hi, max_drop) if r.n else "inconclusive")
    assert all(-1.0 <= c.drop_ci[0] <= c.drop_ci[1] <= 1.0 for c in r.comparisons.values())
    assert 0.0 <= r.p_value <= 1.0
