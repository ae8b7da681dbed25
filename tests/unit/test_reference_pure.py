"""Reference pipeline helpers that need no model: tokenizer, RRF, edge ordering, reverse pages."""

from __future__ import annotations

import pytest

from pytest_ragprobe.reference import (
    build_prompt,
    derive_reverse_pages,
    edges_order,
    rrf_fuse,
    tokenize,
)
from pytest_ragprobe.types import Document


def test_tokenize_keeps_part_numbers_whole() -> None:
    assert tokenize("Pump P-200 fits C-17; 12 m3/h, RS-485.") == [
        "pump", "p-200", "fits", "c-17", "12", "m3/h", "rs-485",
    ]


def test_rrf_fuses_by_reciprocal_rank() -> None:
    lexical = ["a", "b", "c"]
    dense = ["b", "d", "a"]
    fused = rrf_fuse([lexical, dense], k=60)
    # b: 1/62 + 1/61 > a: 1/61 + 1/63 > d: 1/62 > c: 1/63
    assert [i for i, _ in fused] == ["b", "a", "d", "c"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[-1][1] == pytest.approx(1 / 63)


def test_rrf_ties_break_on_best_rank_then_first_seen() -> None:
    assert [i for i, _ in rrf_fuse([["x", "y"], ["y", "x"]])] == ["x", "y"]
    assert [i for i, _ in rrf_fuse([["p"], ["q"]])] == ["p", "q"]
    assert rrf_fuse([]) == []
    with pytest.raises(ValueError, match="k must be"):
        rrf_fuse([["a"]], k=-1)


def test_rrf_small_k_favours_top_ranks() -> None:
    # k=0: solo = 1, other = 1, both = 1/2 + 1/2 = 1, a three-way tie broken by best rank;
    # k=60 flattens the ranks and the document found by both lists wins.
    rankings = [["solo", "both"], ["other", "both"]]
    assert [i for i, _ in rrf_fuse(rankings, k=0)] == ["solo", "other", "both"]
    assert rrf_fuse(rankings, k=60)[0][0] == "both"


def test_edges_order_puts_best_at_both_ends() -> None:
    assert edges_order(["a", "b", "c", "d", "e"]) == ["a", "c", "e", "d", "b"]
    assert edges_order(["a", "b"]) == ["a", "b"]
    assert edges_order([]) == []


def test_symmetric_pages_state_the_relation_from_the_object_side() -> None:
    docs = [
        Document(title="Pump P-204 (Aquadyne)", id="P-204",
                 text="The Aquadyne P-204 is a pump. Compatible controller: C-38."),
        Document(title="Controller C-38 (Lumen)", id="C-38", text="The Lumen C-38 is a drive."),
    ]
    pages = derive_reverse_pages(docs)
    assert len(pages) == 1
    page = pages[0]
    assert page.id == "C-38#reverse"
    assert page.title == "Controller C-38 (Lumen) - reverse references"
    assert page.text == "Controller C-38: compatible pump: P-204."
    assert page.metadata["derived"] == "reverse"


def test_symmetric_free_text_mentions_are_kept_verbatim() -> None:
    docs = [Document(title="Controller C-70", text="The C-70 talks RS-485 to the panel.")]
    (page,) = derive_reverse_pages(docs)
    assert page.id == "RS-485#reverse"
    assert page.text.startswith("RS-485 is mentioned on the page of Controller C-70: ")
    assert "The C-70 talks RS-485 to the panel." in page.text


def test_prompt_puts_the_fixed_part_first() -> None:
    docs = [Document(title="T", text="x is y.")]
    zero = build_prompt("What is x?", docs, one_shot=False)
    one = build_prompt("What is x?", docs, one_shot=True)
    assert zero.endswith("Documents:\n[1] T: x is y.\nQuestion: What is x?\nAnswer:")
    assert one.endswith(zero.split("\n\n", 1)[1])
    assert "Answer: V-12" in one and "Answer: V-12" not in zero
