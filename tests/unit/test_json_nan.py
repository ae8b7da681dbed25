"""NaN / Infinity in a JSON facts or data file (Python's json.dumps writes a missing pandas / NumPy value
so; it is no JSON value) were read as the answer "nan" / "inf" (JSON numbers kept as written), a fact no
pipeline answers, silently. They are an error naming the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ragprobe.contexts import DataError, load_litm, load_litm_json
from pytest_ragprobe.facts import FactsError, load_facts_file

WHY = (
    "NaN is not a JSON value (json.dumps writes a missing pandas / NumPy value so): give the value, "
    "null, or leave the record out"
)


def test_facts_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text(
        '{"forward_question": "Q?", "forward_answer": "A", "reverse_question": "R?", "reverse_answer": "B"}\n'
        '{"forward_question": "Q2?", "forward_answer": NaN, "reverse_question": "R2?", "reverse_answer": "B"}\n',
        encoding="utf-8",
    )
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == f"{path}: line 2: invalid JSON: {WHY}"


def test_facts_json(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text(
        '{"facts": [\n  {"forward": {"question": "Is \\"-Infinity\\" a NaN?",\n'
        '               "answer": -Infinity},\n'
        '   "reverse": {"question": "R?", "answer": "B"}}\n]}\n',
        encoding="utf-8",
    )
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    # (the line of the value, not of the question that names it)
    assert str(info.value) == f"{path}: invalid JSON at line 3: {WHY.replace('NaN', '-Infinity')}"


def test_position_data(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "Q?", "answers": [NaN], "ctxs": []}\n', encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_litm(path)
    assert str(info.value) == f"{path}: line 1: invalid JSON: {WHY}"
    path = tmp_path / "qa.json"
    path.write_text('[{"question": "Q?",\n "answers": [Infinity], "ctxs": []}]\n', encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_litm_json(path)
    assert str(info.value) == f"{path}: line 2: invalid JSON: {WHY.replace('NaN', 'Infinity')}"
