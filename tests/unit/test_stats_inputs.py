"""stats.py's public functions with odd arguments: a clear ValueError naming the argument, never a TypeError
or OverflowError from inside float(), int() or numpy, and no silent garbage."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from pytest_ragprobe import stats as S

CONFIDENCES = [0, 0.5, 1, 1.5, math.nan, math.inf, "0.95", None, True]


def re_repr(value: Any) -> str:
    return re.escape(repr(value))


@pytest.mark.parametrize("confidence", CONFIDENCES)
def test_a_confidence_that_is_not_a_number_in_range_names_the_argument(confidence: Any) -> None:
    """A string "0.95" passed the check (float() took it) and failed later in scipy or numpy
    ("ufunc 'greater' did not contain a loop with signature ..."); None raised float()'s TypeError."""
    message = rf"^confidence must be a number in \(0.5, 1\), got {re_repr(confidence)}$"
    calls = [
        lambda: S.wilson_interval(1, 2, confidence),
        lambda: S.compare_paired([True], [False], max_drop=0.1, confidence=confidence),
        lambda: S.compare_positions({0: [True], 1: [False]}, max_drop=0.1, confidence=confidence),
        lambda: S.required_n(acc_a=0.9, acc_b=0.5, max_drop=0.1, confidence=confidence),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=message):
            call()


@pytest.mark.parametrize("max_drop", [1, -1.5, math.nan, math.inf, "0.1", None, True])
def test_a_max_drop_that_is_not_a_number_in_range_names_the_argument(max_drop: Any) -> None:
    message = rf"^max_drop must be a number in \[-1, 1\), got {re_repr(max_drop)}$"
    with pytest.raises(ValueError, match=message):
        S.compare_paired([True], [False], max_drop=max_drop)
    with pytest.raises(ValueError, match=message):
        S.compare_positions({0: [True], 1: [False]}, max_drop=max_drop)


@pytest.mark.parametrize("power", [0, 1, -0.2, 1.5, math.nan, "0.8", None, True])
def test_required_n_power_out_of_range_names_it(power: Any) -> None:
    with pytest.raises(ValueError, match=rf"^power must lie in \(0, 1\), got {re_repr(power)}$"):
        S.required_n(acc_a=0.9, acc_b=0.5, max_drop=0.1, power=power)


def test_required_n_at_the_edges_of_its_range_finishes() -> None:
    # (bounded searches: a power or confidence next to 1 is many pairs, not a loop without end)
    assert S.required_n(acc_a=1.0, acc_b=0.0, max_drop=0.0) >= 1
    assert S.required_n(acc_a=0.9, acc_b=0.5, max_drop=0.1, power=0.999999) > S.required_n(
        acc_a=0.9, acc_b=0.5, max_drop=0.1
    )
    with pytest.raises(ValueError, match="out of reach"):
        S.required_n(acc_a=0.9, acc_b=0.79999, max_drop=0.1)


@pytest.mark.parametrize(
    ("k", "n", "name", "value"),
    [
        (math.nan, 2, "k", "nan"),
        (1, math.inf, "n", "inf"),
        (1.5, 2, "k", "1.5"),
        ("1", 2, "k", "'1'"),
        (None, 2, "k", "None"),
        (1, True, "n", "True"),
        (-1, 2, "k", "-1"),
        (1, -2, "n", "-2"),
    ],
)
def test_wilson_interval_counts_must_be_whole_numbers(k: Any, n: Any, name: str, value: str) -> None:
    """NaN raised "cannot convert float NaN to integer", inf an OverflowError, a string a TypeError, and
    1.5 was silently truncated to 1."""
    with pytest.raises(ValueError, match=rf"^{name} must be a whole number >= 0, got {re.escape(value)}$"):
        S.wilson_interval(k, n)


def test_wilson_interval_takes_integral_floats_and_zero() -> None:
    assert S.wilson_interval(8.0, 10.0) == S.wilson_interval(8, 10)
    assert S.wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match=r"^need 0 <= k <= n, got k=3, n=2$"):
        S.wilson_interval(3, 2)


@pytest.mark.parametrize("key", ["a", "1", 1.5, None, True])
def test_compare_positions_keys_must_be_int_positions(key: Any) -> None:
    """A string key raised int()'s "invalid literal"; {"1": ..., 1: ...} silently became positions [1, 1]."""
    with pytest.raises(ValueError, match=rf"^outcomes must map positions \(ints\) to outcomes, got the key {re.escape(repr(key))}$"):
        S.compare_positions({key: [True], 1: [False], 2: [True]}, max_drop=0.1)


def test_compare_positions_values_must_be_sequences() -> None:
    with pytest.raises(ValueError, match=r"^outcomes\[0\] must be an iterable of outcomes \(True, False or None\), got None$"):
        S.compare_positions({0: None, 1: [True]}, max_drop=0.1)  # type: ignore[dict-item]


def test_zero_size_comparisons_are_inconclusive() -> None:
    assert S.compare_paired([], [], max_drop=0.1).verdict == "inconclusive"
    assert S.compare_paired([None], [True], max_drop=0.1).verdict == "inconclusive"
    assert S.compare_positions({0: [], 1: [], 2: []}, max_drop=0.1).verdict == "inconclusive"
    assert S.compare_positions({0: [None], 1: [True]}, max_drop=0.1).verdict == "inconclusive"
    positions = S.compare_positions({0: [], 4: []}, max_drop=0.1)
    assert (positions.n, positions.drop, positions.drop_ci) == (0, 0.0, (-1.0, 1.0))

