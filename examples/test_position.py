"""Lost in the middle: does accuracy depend on where the right passage sits?

Each question ("Who directed the film The Salt Orchard?") comes with one gold passage and
distractor passages about other (fictitious) films of the same shape. The plugin moves the
gold passage to each position of a 10-passage context, keeps everything else unchanged, and
calls the pipeline's `generate(question, documents)`.

Measured by this probe (30 questions): position 0: 0.53, 4: 0.20, 9: 0.63 -- a U-curve.
The mitigation is in test_position_best_last.py.
"""

from __future__ import annotations

from typing import Any

import pytest

import pytest_ragprobe as ragprobe

QA = "fixtures/films/qa.jsonl"
POSITIONS = [0, 4, 9]


@pytest.mark.xfail(
    strict=True,
    raises=ragprobe.ProbeFailed,  # the FAIL verdict alone: a pipeline that errors fails the run
    reason="demonstrates lost-in-the-middle: a U-shaped accuracy curve",
)
@ragprobe.position(data=QA, n_docs=10, positions=POSITIONS, n=30, max_drop=0.15)
def test_mid_context_as_given(ragprobe_result: Any) -> None:
    """Context passed in the order given. Expected to FAIL: the middle position loses."""
