"""stats' public functions take outcomes as any iterable (a generator, map, NumPy array), materialised once:
a generator raised "object of type 'generator' has no len()". A value that is not an iterable of outcomes
is a ValueError naming the argument."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from pytest_ragprobe import stats as S

A = [True] * 18 + [False] * 2
B = [True] * 10 + [False] * 10


def test_compare_paired_takes_generators_and_iterators() -> None:
    want = S.compare_paired(A, B, max_drop=0.1)
    assert S.compare_paired((x for x in A), iter(B), max_drop=0.1) == want
    assert S.compare_paired(map(bool, A), tuple(B), max_drop=0.1) == want
    assert S.compare_paired(np.array(A), np.array(B), max_drop=0.1) == want


def test_compare_positions_takes_iterables_of_outcomes() -> None:
    want = S.compare_positions({0: A, 1: B, 2: A}, max_drop=0.1)
    got = S.compare_positions({0: iter(A), 1: (x for x in B), 2: map(bool, A)}, max_drop=0.1)
    assert got == want


def test_the_sequential_design_takes_iterables_of_outcomes() -> None:
    design = S.SequentialDesign(20, looks=2)
    want = design.decide(A, B, look=1, max_drop=0.1)
    assert design.decide(iter(A), (x for x in B), look=1, max_drop=0.1) == want
    positions = {0: A, 1: B, 2: A}
    want_pos = design.decide_positions(positions, look=1, max_drop=0.1)
    got_pos = design.decide_positions({p: iter(v) for p, v in positions.items()}, look=1, max_drop=0.1)
    assert got_pos == want_pos


def test_holm_takes_an_iterable_of_p_values() -> None:
    assert S.holm(p for p in (0.01, 0.04, 0.03)) == S.holm([0.01, 0.04, 0.03])


@pytest.mark.parametrize("value", [None, 3, "TFT", b"10"])
def test_outcomes_that_are_not_an_iterable_of_outcomes_name_the_argument(value: Any) -> None:
    with pytest.raises(ValueError, match=rf"^a must be an iterable of outcomes \(True, False or None\), got {value!r}$"):
        S.compare_paired(value, B, max_drop=0.1)
    with pytest.raises(ValueError, match=rf"^b must be an iterable of outcomes \(True, False or None\), got {value!r}$"):
        S.compare_paired(A, value, max_drop=0.1)
    with pytest.raises(ValueError, match=r"^outcomes\[1\] must be an iterable of outcomes"):
        S.compare_positions({0: A, 1: value}, max_drop=0.1)


def test_compare_positions_needs_a_mapping() -> None:
    with pytest.raises(ValueError, match=r"^outcomes must map positions \(ints\) to outcomes, got a list$"):
        S.compare_positions([A, B], max_drop=0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, 5, "abc", b"0.1"])
def test_holm_of_what_is_not_an_iterable_of_p_values_names_the_argument(value: Any) -> None:
    """holm(None) / holm(5) raised TypeError, holm('abc') "could not convert string to float: 'a'": the other
    public functions say a ValueError naming the argument (docs/statistics.md)."""
    with pytest.raises(ValueError, match=rf"^p_values must be an iterable of p-values \(numbers in \[0, 1\]\), got {re.escape(repr(value))}$"):
        S.holm(value)


@pytest.mark.parametrize("value", [None, "0.5", "a", [0.1]])
def test_holm_of_an_item_that_is_not_a_number_names_it(value: Any) -> None:
    with pytest.raises(ValueError, match=rf"^p_values must hold numbers in \[0, 1\], got {re.escape(repr(value))}$"):
        S.holm([0.01, value])
