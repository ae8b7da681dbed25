"""`ragprobe show` / `merge` print what a report.json says (node ids, reasons, notes, paths): a crafted or
damaged report (a CI artifact of a fork's pull request) could put terminal escapes there, which the commands
wrote to the terminal as they were. They are printed as their escapes ("\\x1b[2J"), as report.md does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from factories import reverse_probe as probe
from factories import write_shard as shard

from pytest_ragprobe.cli import main

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def test_show_and_merge_print_no_control_character(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil = "\x1b]52;c;cHduZWQ=\x07\x1b[2J"
    a = shard(
        tmp_path, "a",
        probe(f"t.py::test_{evil}", "error", reason=f"boom {evil}", test_message=evil),
        probe("t.py::test_b", "fail", drop=0.4, pipeline=f"p{evil}"),
    )
    b = shard(tmp_path, "b", probe(f"t.py::test_{evil}", "pass", reason="fine"))
    capsys.readouterr()
    for argv in (
        ["show", str(a), "--explain"],
        ["merge", str(tmp_path / "m"), str(a), str(b)],
        ["merge", "--prefer", "last", str(tmp_path / "m"), str(a), str(b)],
    ):
        main(argv)
        out, err = capsys.readouterr()
        assert not CONTROL.search(out + err), argv
        assert "\\x1b[2J" in out + err, argv
