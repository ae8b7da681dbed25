"""A report that this version cannot read, written by another pytest-ragprobe version (a verdict or field
it added): the error named the field only, not that the report came from another version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import reverse_probe as probe
from factories import write_shard as shard

from pytest_ragprobe import __version__
from pytest_ragprobe.cli import main


def test_an_unreadable_report_of_another_version_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shard(tmp_path, "a", probe("t.py::test_a"), plugin_version="9.9.9")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["probes"][0]["verdict"] = "flaky"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["show", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"ragprobe show: error: {path}: not a valid ragprobe report: probes.0.verdict: Input should be 'pass', "
        f"'fail', 'inconclusive' or 'error' (it was written by pytest-ragprobe 9.9.9; this is {__version__}: "
        "read it with that version, or upgrade)\n"
    )


def test_an_unreadable_report_of_this_version_says_nothing_of_versions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shard(tmp_path, "a", probe("t.py::test_a"), plugin_version=__version__)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["probes"][0]["verdict"] = "flaky"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["show", str(path)]) == 2
    assert "written by" not in capsys.readouterr().err
