"""Reversal on a parts catalog.

Pump pages say "Compatible controller: C-38."; controller pages never list pumps. Asking
"Which controller is compatible with pump P-204?" works; asking "Which pump is compatible
with controller C-38?" mostly does not, and the report says why: in about half the cases the
hybrid retriever does not bring back the pump page at all (retrieval misses: the part number
is the only link and RRF dilutes an exact BM25 match that the embedding side does not see),
and when it does, the 270M reader echoes the controller named in the question instead of
inverting the sentence (reading misses).

Measured on this machine (bench/reference_catalog.py, 30 facts):
  as written, hybrid top-3, one-shot   forward 1.00  reverse 0.13
                                       (reverse misses: 15 retrieval, 11 reading)
The mitigation is in test_catalog_mitigated.py.
"""

from __future__ import annotations

from typing import Any

import pytest

import pytest_ragprobe as ragprobe

FACTS = "fixtures/catalog/facts.yaml"  # resolved beside this file first, then in the rootdir


@pytest.mark.xfail(
    strict=True,
    raises=ragprobe.ProbeFailed,  # the FAIL verdict alone: a pipeline that errors fails the run
    reason="demonstrates the reversal weakness: one-directional catalog pages, indexed as written",
)
@ragprobe.reverse(facts=FACTS, n=15, max_drop=0.10)  # n=15 of 30 keeps the suite fast
def test_catalog_as_written_answers_both_ways(ragprobe_result: Any) -> None:
    """Uses the conftest pipeline. Expected to FAIL: reverse accuracy collapses."""
