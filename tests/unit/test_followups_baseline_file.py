"""A baseline file that lists the same test twice (a merged or hand-edited file): the last entry won in
silence; now a usage error naming the test and the file, unless the entries are the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import report, reverse_probe

from pytest_ragprobe.baseline import BaselineError, read_baseline


def _write(tmp_path: Path, *probes: dict) -> Path:  # type: ignore[type-arg]
    data = json.loads(report().model_dump_json())
    data["probes"] = list(probes)
    path = tmp_path / "base.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _probe(nodeid: str, drop: float) -> dict:  # type: ignore[type-arg]
    return json.loads(reverse_probe(nodeid, drop=drop).model_dump_json())


def test_a_test_listed_twice_with_different_entries_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, _probe("t.py::test_a", 0.02), _probe("t.py::test_b", 0.0), _probe("t.py::test_a", 0.3))
    with pytest.raises(BaselineError) as info:
        read_baseline(path)
    assert str(info.value) == (
        f"--ragprobe-baseline: {path}: t.py::test_a is listed twice, probes[0] and probes[2], with different "
        "results: which one is the baseline? Keep one of them (a file merged or edited by hand; `ragprobe merge` "
        "keeps one result per test)"
    )


def test_a_test_listed_twice_with_the_same_entry_is_read_once(tmp_path: Path) -> None:
    same = _probe("t.py::test_a", 0.02)
    baseline = read_baseline(_write(tmp_path, same, _probe("t.py::test_b", 0.0), dict(same)))
    assert list(baseline.probes) == ["t.py::test_a", "t.py::test_b"]
