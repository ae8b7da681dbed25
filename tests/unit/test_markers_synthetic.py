"""A misspelt 'synthetic:N' (no colon, another separator, a capital S) was taken for a file path: the
probe ran until setup and then said "synthetic5: facts file not found"; the mark refuses it at collection
with the spelling."""

from __future__ import annotations

import pytest

import pytest_ragprobe as ragprobe
from pytest_ragprobe.markers import MarkArgumentError


@pytest.mark.parametrize("text", ["synthetic5", "synthetic 5", "synthetic-5", "synthetic_5", "synthetic=5", "Synthetic:5"])
def test_a_misspelt_synthetic_source_is_refused_with_the_spelling(text: str) -> None:
    with pytest.raises(MarkArgumentError) as info:
        ragprobe.reverse(facts=text)
    assert str(info.value) == (
        f"@ragprobe.reverse: argument 'facts' {text!r} is not a file name: did you mean 'synthetic:5'?"
    )
    with pytest.raises(MarkArgumentError) as info:
        ragprobe.position(data=text)
    assert str(info.value) == (
        f"@ragprobe.position: argument 'data' {text!r} is not a file name: did you mean 'synthetic:5'?"
    )


@pytest.mark.parametrize("text", ["synthetic:5", "facts/synthetic5.yaml", "synthetic_parts.csv"])
def test_the_right_spelling_and_file_names_pass(text: str) -> None:
    ragprobe.reverse(facts=text)
