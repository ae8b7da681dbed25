"""JSONL files joined with ``cat a.jsonl b.jsonl``: a file saved with a byte-order mark carries it to the
start of its first line inside the joined file. A BOM is fine at the start of a file; at the start of a
later line it is the same encoding mark, not content. Was: "line 3: invalid JSON: Unexpected UTF-8 BOM
(decode using utf-8-sig)", advice for Python code, not for the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ragprobe.contexts import load_litm
from pytest_ragprobe.facts import FactsError, load_facts_file

BOM = "\ufeff"


def test_facts_jsonl_joined_from_files_with_a_bom(tmp_path: Path) -> None:
    a = '{"subject": "P-1", "relation": "compatible_with", "object": "C-1"}\n'
    b = '{"subject": "P-2", "relation": "compatible_with", "object": "C-2"}\n'
    path = tmp_path / "all.jsonl"
    path.write_text(BOM + a + BOM + b, encoding="utf-8")
    pairs = load_facts_file(path)
    assert [(p.subject, list(p.forward.answers)) for p in pairs] == [("P-1", ["C-1"]), ("P-2", ["C-2"])]


def test_position_jsonl_joined_from_files_with_a_bom(tmp_path: Path) -> None:
    def row(i: int) -> str:
        ctxs = [{"title": f"T{i}", "text": f"Item {i} has code Q{i}X.", "isgold": True}]
        return json.dumps({"question": f"Which code has item {i}?", "answers": [f"Q{i}X"], "ctxs": ctxs}) + "\n"

    path = tmp_path / "qa.jsonl"
    path.write_text(BOM + row(1) + BOM + "\n" + BOM + row(2), encoding="utf-8")  # (a file of a BOM alone)
    examples = load_litm(path)
    assert [(ex.id, ex.answers) for ex in examples] == [("line1", ("Q1X",)), ("line3", ("Q2X",))]


def test_a_json_facts_document_in_a_jsonl_file_says_rename_it(tmp_path: Path) -> None:
    # A .json facts file's layout ({"facts": [...]}, on one line) saved as .jsonl: the error was "line 1:
    # field 'facts': unknown field", with no word on what a JSONL line holds.
    fact = {"subject": "P-1", "relation": "compatible_with", "object": "C-1"}
    path = tmp_path / "facts.jsonl"
    path.write_text(json.dumps({"relations": {}, "facts": [fact]}) + "\n", encoding="utf-8")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: line 1: a 'facts' list is the layout of a .json or .yaml facts file; a JSONL file holds one "
        'fact per line (after an optional first line {"relations": {...}}): rename the file to .json, or write '
        "one fact per line"
    )
