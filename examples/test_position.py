"""Lost in the middle: does accuracy depend on where the right passage sits?

Each question ("Who directed the film The Salt Orchard?") comes with one gold passage and
distractor passages about other (fictitious) films of the same shape. The plugin moves the
gold passage to each position of a 10-passage context, keeps everything else unchanged, and
calls the pipeline's `generate(question, documents)`.

Measured on this machine (bench/reference_position.py, 20 questions, one-shot prompt):
see the README for the table. The reader does best with the gold passage first or last.
"""

from __future__ import annotations

from typing import Any

import pytest

import pytest_ragprobe as ragprobe

QA = "fixtures/films/qa.jsonl"
POSITIONS = [0, 4, 9]


@pytest.mark.xfail(strict=True, reason="demonstrates lost-in-the-middle: a U-shaped accuracy curve")
@ragprobe.position(data=QA, n_docs=10, positions=POSITIONS, n=30, max_drop=0.15)
def test_mid_context_as_given(ragprobe_result: Any) -> None:
    """Context passed in the order given. Expected to FAIL: the middle position loses."""


class TestEdgesOrdering:
    """Mitigation: rerank the given passages against the question (BM25 + MiniLM, RRF) and put
    the best ones at the edges of the context (1st, 3rd, ... then ..., 4th, 2nd)."""

    @pytest.fixture(scope="class")
    def ragprobe_pipeline(self) -> object:
        from pytest_ragprobe.reference import ReferencePipeline

        return ReferencePipeline(order="edges", one_shot=True)

    @ragprobe.position(data=QA, n_docs=10, positions=POSITIONS, n=20, max_drop=0.15)
    def test_mid_context_edges(self, ragprobe_result: Any) -> None:
        """The gold passage lands at an edge whatever its input position: no drop."""
