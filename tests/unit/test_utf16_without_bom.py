"""A facts or data file saved as UTF-16 without a byte-order mark decodes as "UTF-8" with a NUL byte after
every ASCII character: a CSV header error quoting "s\\x00u\\x00b\\x00...", YAML's "unacceptable character
#x0000", JSONL's "Expecting value". It is told as the encoding slip it is, as UTF-16 with a BOM was."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ragprobe.contexts import DataError, load_litm
from pytest_ragprobe.facts import FactsError, load_facts_file

FIX = "it is probably UTF-16 (saved without a byte-order mark); save it as UTF-8"


@pytest.mark.parametrize(
    ("name", "text", "codec"),
    [
        ("f.csv", "subject,relation,object\nP-1,compatible_with,C-1\n", "utf-16-le"),
        ("f.yaml", "facts:\n  - {subject: P-1, relation: compatible_with, object: C-1}\n", "utf-16-le"),
        ("f.jsonl", '{"subject": "P-1", "relation": "compatible_with", "object": "C-1"}\n', "utf-16-be"),
    ],
)
def test_facts_in_utf16_without_a_bom(tmp_path: Path, name: str, text: str, codec: str) -> None:
    path = tmp_path / name
    path.write_bytes(text.encode(codec))
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == f"{path}: line 1: the file holds NUL bytes: {FIX}"


def test_position_data_in_utf16_without_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_bytes('{"question": "Q?", "answers": ["a"], "ctxs": []}\n'.encode("utf-16-le"))
    with pytest.raises(DataError) as info:
        load_litm(path)
    assert str(info.value) == f"{path}: line 1: the file holds NUL bytes: {FIX}"


def test_a_nul_on_a_later_line_is_named_by_its_line(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"subject,relation,object\nP-1,compatible_with,C-1\nP-2,compatible_with,C\x002\n")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    # one stray NUL is no UTF-16 file: it is named where it is
    assert str(info.value) == f"{path}: line 3: a NUL character (character 22 of the line); remove it"
