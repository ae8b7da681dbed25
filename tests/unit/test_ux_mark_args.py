"""pool= / hard_negatives= (options of the ragprobe_contexts fixture) given to a probe: refused with what to
write instead, not only "unknown argument"."""

from __future__ import annotations

import pytest

import pytest_ragprobe as ragprobe
from pytest_ragprobe.markers import POSITION_MARK, REVERSE_MARK, MarkArgumentError, build_spec, unknown_args

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(3)]


def test_the_position_marks_say_the_probe_borrows_its_distractors() -> None:
    with pytest.raises(MarkArgumentError) as raised:
        ragprobe.position(data="qa.jsonl", pool=["a page"])
    text = str(raised.value)
    assert text.startswith("@ragprobe.position: argument 'pool' does not apply to a position probe: ")
    assert "borrows its distractors itself" in text and "distractors='retriever'" in text
    assert "ragprobe_contexts" in text
    with pytest.raises(MarkArgumentError, match=r"^@ragprobe.position: argument 'hard_negatives' .*"
                       r"distractors='retriever'"):
        build_spec(POSITION_MARK, {"data": "qa.jsonl", "hard_negatives": ["a page"]})  # the raw mark's check


def test_the_reverse_mark_says_its_questions_have_no_contexts() -> None:
    with pytest.raises(MarkArgumentError, match=r"^@ragprobe.reverse: argument 'pool' does not apply to reverse "
                       r"questions, which are asked without contexts: drop it"):
        ragprobe.reverse(facts=FACTS, pool=["a page"])
    with pytest.raises(MarkArgumentError, match="argument 'hard_negatives' does not apply to reverse"):
        build_spec(REVERSE_MARK, {"facts": FACTS, "hard_negatives": ["x"]})


def test_check_functions_name_themselves() -> None:
    pipeline = ragprobe.Pipeline(answer=lambda q: "x", generate=lambda q, docs: "x")
    with pytest.raises(MarkArgumentError, match=r"^check_position: argument 'pool' does not apply to a position"):
        ragprobe.check_position(pipeline, [{"question": "q?", "answers": ["a"], "gold": "a"}], n_docs=2, pool=["p"])
    with pytest.raises(MarkArgumentError, match=r"^check_reverse: argument 'hard_negatives' does not apply"):
        ragprobe.check_reverse(pipeline, FACTS, hard_negatives=["p"])


def test_fact_pairs_fixture_arguments() -> None:
    with pytest.raises(MarkArgumentError, match=r"^ragprobe_fact_pairs: argument 'pool' does not apply to reverse"):
        unknown_args("ragprobe_fact_pairs", ["pool"], ("facts", "n", "seed"))
    # other unknown arguments keep their "did you mean"
    with pytest.raises(MarkArgumentError, match=r"unknown argument 'sed'.*seed"):
        unknown_args("ragprobe_fact_pairs", ["sed"], ("facts", "n", "seed"))
