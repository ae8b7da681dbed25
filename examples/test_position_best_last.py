"""Lost in the middle, mitigated by reordering: rerank the given passages against the question
(BM25 + MiniLM, RRF) and move the best one to the end of the context, next to the question; the
others stay in the order given. This reader leans on the passage nearest the question (the
higher edge of its U-curve is the last position), so the gold passage lands there whatever its
input position, and the prompt is the same at every position.

Measured by this probe (20 questions): 0.50 at every position, against 0.45 / 0.25 / 0.55 for
the same 20 questions as given: the drop is gone and the middle gains. Reordering cannot lift the
level above the reader's best edge; and the literature's "best at both edges" order
(``order="edges"``) measured 0.35 at every position here: the second-best passage went last.
"""

from __future__ import annotations

from typing import Any

import pytest

import pytest_ragprobe as ragprobe

QA = "fixtures/films/qa.jsonl"


@pytest.fixture(scope="module")
def ragprobe_pipeline() -> object:
    from pytest_ragprobe.reference import ReferencePipeline

    return ReferencePipeline(order="best_last", one_shot=True)


@ragprobe.position(data=QA, n_docs=10, positions=[0, 4, 9], n=20, max_drop=0.15)
def test_mid_context_best_last(ragprobe_result: Any) -> None:
    """No significant drop from the best edge to the worst position."""
