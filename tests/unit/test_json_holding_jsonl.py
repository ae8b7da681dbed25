"""A .json file holding JSONL (one object per line): "line 2: invalid JSON: Extra data (column 1)" said
nothing of the slip. It now says the file holds more than one JSON value and what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ragprobe.contexts import DataError, load_litm_json
from pytest_ragprobe.facts import FactsError, load_facts_file

HINT = (
    "Extra data (column 1); the file holds more than one JSON value: one object per line is JSONL (name the "
    "file .jsonl), a .json file holds one value (a list of them)"
)


def test_facts_json_holding_jsonl(tmp_path: Path) -> None:
    rows = [{"subject": f"P-{i}", "relation": "compatible_with", "object": f"C-{i}"} for i in (1, 2)]
    path = tmp_path / "facts.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == f"{path}: invalid JSON at line 2: {HINT}"


def test_data_json_holding_jsonl(tmp_path: Path) -> None:
    row = {"question": "Q?", "answers": ["a"], "ctxs": [{"title": "T", "text": "a it is", "isgold": True}]}
    path = tmp_path / "qa.json"
    path.write_text(json.dumps(row) + "\n" + json.dumps({**row, "question": "R?"}) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_litm_json(path)
    assert str(info.value) == f"{path}: line 2: invalid JSON: {HINT}"


def test_other_extra_data_keeps_the_plain_message(tmp_path: Path) -> None:
    path = tmp_path / "facts.json"
    path.write_text('{"facts": []} x', encoding="utf-8")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == f"{path}: invalid JSON at line 1: Extra data (column 15)"
