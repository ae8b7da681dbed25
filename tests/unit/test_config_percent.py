"""--ragprobe-confidence=95 (and the ini's) said only "must be between 0.5 and 1 (exclusive), got 95.0",
where the marks' confidence=95 says it is a fraction: now both say "(a fraction: 0.95 for 95%)", and so
does --ragprobe-max-error-rate=5."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        (
            "--ragprobe-confidence=95",
            "argument --ragprobe-confidence: must be between 0.5 and 1 (exclusive), got 95.0 (a fraction: 0.95 "
            "for 95%)",
        ),
        (
            "--ragprobe-max-error-rate=5",
            "argument --ragprobe-max-error-rate: must be in [0, 1], got 5.0 (a fraction: 0.05 for 5%)",
        ),
    ],
)
def test_a_percentage_is_named_as_one(pytester: pytest.Pytester, arg: str, message: str) -> None:
    with pytest.raises(pytest.UsageError) as info:
        pytester.parseconfigure(arg)
    assert message in str(info.value)


def test_not_for_other_values(pytester: pytest.Pytester) -> None:
    with pytest.raises(pytest.UsageError) as info:
        pytester.parseconfigure("--ragprobe-confidence=1")
    # the line ends at the value, no fraction hint (pytest >= 9 adds inifile / rootdir lines after it)
    lines = str(info.value).splitlines()
    assert any(line.endswith("--ragprobe-confidence: must be between 0.5 and 1 (exclusive), got 1.0") for line in lines)
