"""Examples in the ``{question, answers, gold, distractors}`` form (check_position's data list,
ragprobe_contexts): a missing, empty or wrong gold document is an error naming the field 'gold'. An empty
gold passage ('') was taken (a probe that moved an empty document around), a missing one was told only
about 'ctxs', and a wrong one was "gold[0]", an index of a field that holds one document."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_ragprobe.contexts import DataError, contexts_for, to_example
from pytest_ragprobe.position_probe import load_examples


def error(example: dict[str, Any]) -> str:
    with pytest.raises(DataError) as info:
        to_example(example, "data[0]")
    return str(info.value)


def test_a_missing_gold_names_both_layouts() -> None:
    assert error({"question": "Q?", "answers": ["a"], "distractors": ["x", "y"]}) == (
        "data[0]: the gold document is missing: give 'gold' (the passage that answers the question) beside "
        "'distractors', or 'ctxs' with the gold passage marked isgold: true"
    )


def test_an_empty_gold_is_refused() -> None:
    for gold in ("", "   ", {"title": "T", "text": ""}):
        message = error({"question": "Q?", "answers": ["a"], "gold": gold, "distractors": ["x"]})
        assert message.startswith("data[0]: gold: "), message
    assert error({"question": "Q?", "answers": ["a"], "gold": "  ", "distractors": ["x"]}) == (
        "data[0]: gold: the document's text is empty"
    )


def test_a_gold_that_is_no_document_names_the_field() -> None:
    assert error({"question": "Q?", "answers": ["a"], "gold": None, "distractors": ["x"]}) == (
        "data[0]: gold: expected a document (dict with 'text', str or ragprobe.Document)"
    )


def test_an_empty_distractor_or_pool_document_is_refused() -> None:
    assert error({"question": "Q?", "answers": ["a"], "gold": "a is it", "distractors": ["x", ""]}) == (
        "data[0]: distractors[1]: the document's text is empty"
    )
    with pytest.raises(DataError) as info:
        contexts_for({"question": "Q?", "answers": ["a"], "gold": "a is it"}, 2, [0, 1], pool=["x", " "])
    assert str(info.value) == "pool[1]: the document's text is empty"


def test_an_upper_case_gz_name_is_read_as_gzip(tmp_path: Path) -> None:
    # QA.JSONL.GZ was taken as a data file (its name is matched in lower case) but read as plain bytes:
    # "line 1: not UTF-8 (byte 0x8b ...); save the file as UTF-8"
    row = {"question": "Q?", "answers": ["a1"], "ctxs": [{"title": "T", "text": "a1 it is.", "isgold": True}]}
    path = tmp_path / "QA.JSONL.GZ"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
    examples, _ = load_examples(str(path))
    assert [(ex.question, ex.answers) for ex in examples] == [("Q?", ("a1",))]


def test_a_number_title_is_named_as_read(tmp_path: Path) -> None:
    # Was: "field 'title' must be a string, got JSONNumber" (the loader's own float type)
    row = '{"question": "Q?", "answers": ["a"], "ctxs": [{"title": 19.50, "text": "a it is", "isgold": true}]}\n'
    path = tmp_path / "qa.jsonl"
    path.write_text(row, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_examples(str(path))
    assert str(info.value) == f"{path}: line 1: ctxs[0]: field 'title' must be a string, got float 19.50: quote it"
