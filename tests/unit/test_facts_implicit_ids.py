"""A fact without an id takes its index (from 0) as its id, which can meet another fact's explicit id: the
error said "facts[1] (line 3): field 'id': duplicate id '1'" of a fact with no 'id' field at all. It now
says where the first was and, when an implicit id is involved, where that id came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ragprobe.facts import FactsError, load_facts_file


def error(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    return str(info.value).removeprefix(f"{path}: ")


HINT = "; a fact without an 'id' takes its index in the file (from 0) as its id: give every fact an id, or none"


def test_an_explicit_id_meets_a_later_index(tmp_path: Path) -> None:
    text = (
        "facts:\n"
        "  - {subject: P-1, relation: compatible_with, object: C-1, id: '1'}\n"
        "  - {subject: P-2, relation: compatible_with, object: C-2}\n"
    )
    assert error(tmp_path, "f.yaml", text) == (
        "facts[1] (line 3): field 'id': duplicate id '1' (first at facts[0] (line 2))" + HINT
    )


def test_an_index_meets_a_later_explicit_id(tmp_path: Path) -> None:
    text = "subject,relation,object,id\nP-1,compatible_with,C-1,\nP-2,compatible_with,C-2,0\n"
    assert error(tmp_path, "f.csv", text) == "row 3: field 'id': duplicate id '0' (first at row 2)" + HINT


def test_two_explicit_ids_name_the_first(tmp_path: Path) -> None:
    text = (
        "facts:\n"
        "  - {id: x, subject: a, relation: wrote, object: b}\n"
        "  - {id: x, subject: e, relation: wrote, object: f}\n"
    )
    assert error(tmp_path, "f.yaml", text) == (
        "facts[1] (line 3): field 'id': duplicate id 'x' (first at facts[0] (line 2))"
    )
