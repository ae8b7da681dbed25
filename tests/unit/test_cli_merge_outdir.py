"""`ragprobe merge shard-a/ shard-b/`, OUT_DIR forgotten: shard-a was taken as OUT_DIR and its own report was
replaced, in silence, by the "merge" of shard-b alone. A directory holding a run's report.json (not a
merge's, and not one of the inputs) is refused as OUT_DIR now, as is an existing report file."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import reverse_probe as probe
from factories import write_shard as shard

from pytest_ragprobe.cli import main
from pytest_ragprobe.results import load_report


def test_a_shard_directory_taken_as_out_dir_is_not_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a"))
    b = shard(tmp_path, "b", probe("t.py::test_b"))
    before = a.read_bytes()
    assert main(["merge", str(a.parent), str(b.parent)]) == 2
    assert capsys.readouterr().err == (
        f"ragprobe merge: error: {a.parent}: holds the report.json of a run (not of a merge, nor one of the "
        "reports to merge), which the merged report would replace: OUT_DIR, the first argument, is where the "
        f"merged report is written; was it forgotten? (`ragprobe merge merged {a.parent} ...`)\n"
    )
    assert a.read_bytes() == before and not (a.parent / "report.md").exists()


def test_an_existing_report_file_taken_as_out_dir_says_what_out_dir_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a"))
    b = shard(tmp_path, "b", probe("t.py::test_b"))
    assert main(["merge", str(a), str(b)]) == 2
    assert capsys.readouterr().err == (
        f"ragprobe merge: error: {a}: is a file: OUT_DIR, the first argument, is the directory the merged "
        f"report is written to; was it forgotten? (`ragprobe merge merged {a} ...`)\n"
    )


def test_out_dir_may_hold_an_earlier_merge_or_be_an_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a"))
    b = shard(tmp_path, "b", probe("t.py::test_b"))
    assert main(["merge", str(tmp_path / "m"), str(a), str(b)]) == 0
    assert main(["merge", str(tmp_path / "m"), str(a), str(b)]) == 0  # a re-run of the CI merge step
    assert main(["merge", str(a.parent), str(a), str(b)]) == 0  # merged into one of its inputs, as asked
    assert [p.nodeid for p in load_report(a).probes] == ["t.py::test_a", "t.py::test_b"]
