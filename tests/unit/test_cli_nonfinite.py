"""A report.json holding NaN or Infinity (Python's json writes and reads them; JSON has neither, and
pytest-ragprobe writes null): `ragprobe merge` read it, wrote null in its place, and the merged report was
one it could not read back ("confidence: Input should be a valid number"). Now the file is refused, with
where the value is."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import reverse_probe as probe
from factories import write_shard as shard

from pytest_ragprobe.cli import main


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('"confidence": 0.95', '"confidence": NaN', "NaN"),
        ('"duration_s": 0.0', '"duration_s": Infinity', "Infinity"),
        ('"drop": 0.02', '"drop": -Infinity', "-Infinity"),
    ],
)
def test_a_report_with_nan_or_infinity_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, where: str
) -> None:
    path = shard(tmp_path, "a", probe("t.py::test_a"))
    text = path.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    line = text[: text.index(new)].count("\n") + 1
    column = text.index(new) - text.rfind("\n", 0, text.index(new)) + len(new) - len(where)
    for argv in (["show", str(path)], ["merge", str(tmp_path / "out"), str(path)]):
        assert main(argv) == 2
        assert capsys.readouterr().err == (
            f"ragprobe {argv[0]}: error: {path}: not valid JSON (line {line}, column {column}: {where} is not a "
            "JSON number; pytest-ragprobe writes null for a value that is not a number)\n"
        )
    assert not (tmp_path / "out").exists()


def test_nan_inside_a_string_is_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = shard(tmp_path, "a", probe("t.py::test_a", reason='said "NaN" and Infinity'))
    assert main(["show", str(path)]) == 0
