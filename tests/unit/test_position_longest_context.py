"""The explanation of a position probe gave the mean context length only: one 20k-token document, which a
reader refuses at every position, hid behind "~300 tokens"."""

from __future__ import annotations

from typing import Any

import pytest_ragprobe as ragprobe
from pytest_ragprobe.render import explain
from pytest_ragprobe.types import Document


def example(i: int, gold_words: int = 5) -> dict[str, Any]:
    return {
        "question": f"Who runs station S-{i}?",
        "answers": [f"R-{i}"],
        "gold": {"text": f"Station S-{i} is run by R-{i}. " + "filler " * gold_words},
        "distractors": [{"text": f"Station T-{i}-{k} is closed."} for k in range(3)],
    }


def reader(question: str, documents: list[Document]) -> str:
    return " ".join(d.text for d in documents)


def test_the_longest_context_is_named_when_it_is_far_above_the_mean() -> None:
    data = [example(i) for i in range(19)] + [example(19, gold_words=4000)]
    r = ragprobe.check_position(ragprobe.Pipeline(generate=reader), data, n_docs=4, max_drop=0.2)
    mean, longest = r.metrics["approx_context_tokens"], r.metrics["approx_context_tokens_max"]
    assert longest > 7000 and longest > 5 * mean
    assert f"(given distractors, ~{mean} tokens on average, the longest ~{longest:,})" in explain(r)


def test_contexts_of_similar_length_show_the_mean_only() -> None:
    r = ragprobe.check_position(ragprobe.Pipeline(generate=reader), [example(i) for i in range(20)], n_docs=4)
    mean = r.metrics["approx_context_tokens"]
    assert r.metrics["approx_context_tokens_max"] <= 1.25 * mean
    assert f"(given distractors, ~{mean} tokens)" in explain(r)
