"""Edge cases of the statistics and of what reads them (sample sizes, INCONCLUSIVE notes)."""

from __future__ import annotations

from pytest_ragprobe import stats as S


def test_required_n_reaches_the_power_where_exact_critical_values_apply() -> None:
    """Between 400 and 600 pairs the test uses exact critical values (here 1.72, not the normal 1.645),
    yet required_n stopped at the normal approximation: 504 pairs, whose exact power is 0.779 < 0.8."""
    cells = {"p10": 0.8 * 0.37, "p01": 0.2 * 0.63, "max_drop": 0.1}
    n = S.required_n(acc_a=0.8, acc_b=0.63, max_drop=0.1)
    assert 504 < n < 1.15 * 504  # more than before, not wildly more
    if n <= S.EXACT_MAX_N:
        assert S.fail_probability(n, **cells) >= 0.8
    else:  # above 600 the normal quantile is the test's own cut: the approximation holds there
        assert n == S.EXACT_MAX_N + 1
