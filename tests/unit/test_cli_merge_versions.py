"""`ragprobe merge` of shards written by different pytest-ragprobe versions (a CI matrix mid-upgrade, a
cached shard): it said nothing, and the merged report named the first shard's version as if every probe
came from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import reverse_probe as probe
from factories import write_shard as shard

from pytest_ragprobe.cli import main
from pytest_ragprobe.results import load_report


def test_merge_notes_shards_of_different_plugin_versions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a"), plugin_version="0.0.9")
    b = shard(tmp_path, "b", probe("t.py::test_b"), plugin_version="0.1.0")
    assert main(["merge", str(tmp_path / "out"), str(a), str(b)]) == 0
    err = capsys.readouterr().err
    assert (
        f"ragprobe merge: note: shards were written by different pytest-ragprobe versions: 0.0.9 ({a}), "
        f"0.1.0 ({b}); their results may not be comparable (upgrade every shard's job to one version)\n"
    ) in err
    merged = load_report(tmp_path / "out" / "report.json")
    assert merged.settings["plugin_versions"] == ["0.0.9", "0.1.0"]
    # merged again with a third shard: the versions stay flat, each said once
    c = shard(tmp_path, "c", probe("t.py::test_c"), plugin_version="0.1.0")
    assert main(["merge", str(tmp_path / "out2"), str(tmp_path / "out"), str(c)]) == 0
    assert load_report(tmp_path / "out2" / "report.json").settings["plugin_versions"] == ["0.0.9", "0.1.0"]


def test_merge_of_one_version_says_nothing_of_versions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a"), plugin_version="0.1.0")
    b = shard(tmp_path, "b", probe("t.py::test_b"), plugin_version="0.1.0")
    assert main(["merge", str(tmp_path / "out"), str(a), str(b)]) == 0
    assert "version" not in capsys.readouterr().err
    merged = load_report(tmp_path / "out" / "report.json")
    assert merged.plugin_version == "0.1.0" and "plugin_versions" not in merged.settings
