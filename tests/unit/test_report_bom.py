"""A report.json saved again with a UTF-8 byte order mark (Notepad, PowerShell's Out-File -Encoding utf8):
`ragprobe show` / `merge` and --ragprobe-baseline refused it, "Unexpected UTF-8 BOM (decode using
utf-8-sig)". The mark is skipped, as JSON readers may."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import reverse_probe as probe
from factories import write_shard as shard

from pytest_ragprobe.baseline import read_baseline
from pytest_ragprobe.cli import main


def bommed(tmp_path: Path) -> Path:
    path = shard(tmp_path, "a", probe("t.py::test_a"))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    return path


def test_show_and_merge_read_a_report_with_a_byte_order_mark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bommed(tmp_path)
    assert main(["show", str(path)]) == 0
    assert main(["merge", str(tmp_path / "m"), str(path)]) == 0
    assert "error" not in capsys.readouterr().err


def test_a_baseline_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    assert list(read_baseline(bommed(tmp_path)).probes) == ["t.py::test_a"]
