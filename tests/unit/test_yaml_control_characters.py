"""A control character in a YAML facts or data file (an ESC or a form feed pasted from a terminal or a
PDF) is named by line and column: PyYAML's reader error said 'in "<unicode string>", position 24' over two
lines, the one place in the YAML errors that named neither a line nor the file's text."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ragprobe.contexts import DataError, load_litm_json, load_litm_yaml
from pytest_ragprobe.facts import FactsError, load_facts_file


def test_facts_yaml_with_an_escape_character(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("facts:\n  - {subject: P-1\x1b, relation: compatible_with, object: C-1}\n", encoding="utf-8")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: invalid YAML: line 2, column 18: control character U+001B (YAML allows none): remove it"
    )


def test_data_yaml_with_an_escape_character(tmp_path: Path) -> None:
    path = tmp_path / "qa.yaml"
    path.write_text("- question: Q?\n  answers: [a\x07]\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_litm_yaml(path)
    assert str(info.value) == (
        f"{path}: invalid YAML: line 2, column 14: control character U+0007 (YAML allows none): remove it"
    )


def test_a_raw_tab_inside_a_json_string_says_how_to_write_it(tmp_path: Path) -> None:
    # Was: "line 1: invalid JSON: Invalid control character at (column 17)" (what character, and then?)
    path = tmp_path / "f.jsonl"
    path.write_text('{"subject": "P-1\tX", "relation": "compatible_with", "object": "C-1"}\n', encoding="utf-8")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: line 1: invalid JSON: Invalid control character U+0009 (column 17); inside a JSON string "
        "write it escaped (\\t) or remove it"
    )
    path = tmp_path / "qa.json"
    path.write_text('[{"question": "Q\x1b?"}]', encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_litm_json(path)
    assert str(info.value) == (
        f"{path}: line 1: invalid JSON: Invalid control character U+001B (column 17); inside a JSON string "
        "write it escaped (\\u001b) or remove it"
    )
