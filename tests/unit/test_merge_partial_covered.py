"""`ragprobe merge` of a partial shard (stopped at -x, a file that did not collect, a crashed worker): the
merge is partial only when the merged report still lacks something, not because one shard was partial."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import reverse_probe as probe
from factories import write_shard as shard

from pytest_ragprobe.cli import main
from pytest_ragprobe.results import load_report


def merge(tmp_path: Path, capsys: pytest.CaptureFixture[str], *shards: Path) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["merge", str(tmp_path / "m"), *map(str, shards)])
    return code, capsys.readouterr().err


def test_a_stopped_shard_whose_missing_probes_another_shard_ran_is_covered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stopped = shard(
        tmp_path, "a", probe("t.py::test_a"), partial=True,
        settings={"selected": ["t.py::test_a", "t.py::test_b"], "planned": 2},
    )
    rerun = shard(tmp_path, "b", probe("t.py::test_b"), settings={"deselected": ["t.py::test_a"]})
    code, err = merge(tmp_path, capsys, stopped, rerun)
    assert code == 0, err
    merged = load_report(tmp_path / "m" / "report.json")
    assert merged.partial is False
    assert "selected" not in merged.settings
    assert f"{stopped} is partial, but the merged report holds a result for every probe it missed" in err


def test_a_stopped_shard_whose_missing_probe_no_shard_ran_keeps_the_merge_partial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stopped = shard(
        tmp_path, "a", probe("t.py::test_a"), partial=True,
        settings={"selected": ["t.py::test_a", "t.py::test_b", "t.py::test_c"], "planned": 3},
    )
    other = shard(tmp_path, "b", probe("t.py::test_b"))
    code, err = merge(tmp_path, capsys, stopped, other)
    assert code == 1
    merged = load_report(tmp_path / "m" / "report.json")
    assert merged.partial is True
    # what was selected, so that a later merge with the shard that runs test_c is complete
    assert merged.settings["selected"] == ["t.py::test_a", "t.py::test_b", "t.py::test_c"]
    assert "1 probe selected in a shard has no result in any shard: t.py::test_c" in err
    again = shard(tmp_path, "c", probe("t.py::test_c"))
    capsys.readouterr()
    assert main(["merge", str(tmp_path / "m2"), str(tmp_path / "m" / "report.json"), str(again)]) == 0
    assert load_report(tmp_path / "m2" / "report.json").partial is False


def test_a_partial_shard_that_does_not_say_what_it_selected_keeps_the_merge_partial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An older report (no ``selected``): what it missed is unknown, so the merge stays partial."""
    old = shard(tmp_path, "a", probe("t.py::test_a"), partial=True, settings={"planned": 2})
    other = shard(tmp_path, "b", probe("t.py::test_b"))
    code, _ = merge(tmp_path, capsys, old, other)
    assert code == 1
    assert load_report(tmp_path / "m" / "report.json").partial is True


def test_a_file_one_shard_could_not_collect_is_covered_by_a_shard_that_collected_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = shard(
        tmp_path, "a", probe("t.py::test_a"), partial=True,
        settings={"uncollected": ["u.py"], "selected": ["t.py::test_a"]},
    )
    fixed = shard(tmp_path, "b", probe("u.py::test_u"))
    code, err = merge(tmp_path, capsys, broken, fixed)
    assert code == 0, err
    merged = load_report(tmp_path / "m" / "report.json")
    assert merged.partial is False and "uncollected" not in merged.settings
    assert f"{broken} is partial, but the merged report holds a result for every probe it missed" in err
    # no shard collected u.py: still partial, and said
    alone = shard(tmp_path, "c", probe("t.py::test_c"))
    code, _ = merge(tmp_path, capsys, broken, alone)
    assert code == 1
    merged = load_report(tmp_path / "m" / "report.json")
    assert merged.partial is True and merged.settings["uncollected"] == ["u.py"]


def test_a_crashed_test_another_shard_finished_is_covered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crashed = shard(
        tmp_path, "a", probe("t.py::test_a"), partial=True,
        settings={"crashed": ["t.py::test_b"], "selected": ["t.py::test_a", "t.py::test_b"]},
    )
    rerun = shard(tmp_path, "b", probe("t.py::test_b"))
    code, err = merge(tmp_path, capsys, crashed, rerun)
    assert code == 0, err
    merged = load_report(tmp_path / "m" / "report.json")
    assert merged.partial is False and "crashed" not in merged.settings
