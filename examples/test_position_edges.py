"""Lost in the middle, mitigated by reordering: rerank the given passages against the question
(BM25 + MiniLM, RRF) and put the best ones at the edges of the context (1st, 3rd, ... then
..., 4th, 2nd). The arranged context depends only on the set of passages, so the gold passage
lands at the front whatever its input position.

Measured by this probe (20 questions): 0.35 at every position. The drop is gone, but the level
is below the best edge of the plain order (0.53-0.63): the second-best passage goes last and
this reader leans on the last passage. Reordering removes the position effect; it does not make
the reader better.
"""

from __future__ import annotations

from typing import Any

import pytest

import pytest_ragprobe as ragprobe

QA = "fixtures/films/qa.jsonl"


@pytest.fixture(scope="module")
def ragprobe_pipeline() -> object:
    from pytest_ragprobe.reference import ReferencePipeline

    return ReferencePipeline(order="edges", one_shot=True)


@ragprobe.position(data=QA, n_docs=10, positions=[0, 4, 9], n=20, max_drop=0.15)
def test_mid_context_edges(ragprobe_result: Any) -> None:
    """No significant drop from the best edge to the worst position."""
