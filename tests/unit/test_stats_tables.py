"""Stored critical-value tables (stats.set_table_dir): read back exactly, keyed, fault tolerant."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_ragprobe import stats as S


@pytest.fixture
def tables(tmp_path: Path) -> Iterator[Path]:
    S.set_table_dir(tmp_path)
    yield tmp_path
    S.set_table_dir(None)


def uncached(fn: object) -> object:
    """The function beneath the in-process lru_cache (the stored layer)."""
    return getattr(fn, "__wrapped__", fn)


def test_tables_are_written_then_read_back_identically(tables: Path) -> None:
    compute = uncached(S._position_cuts)
    first = compute(40, 3, 0.1, 0.05)  # type: ignore[operator]
    files = sorted(tables.glob("position_cuts-*.json"))
    assert len(files) == 1
    # a second process would read the file: make the computation impossible to prove it does
    data = json.loads(files[0].read_text())
    assert data["value"] == list(first)
    original = S._position_regions
    S._position_regions = None  # type: ignore[assignment]
    try:
        again = compute(40, 3, 0.1, 0.05)  # type: ignore[operator]
    finally:
        S._position_regions = original
    assert again == first and isinstance(again, tuple)
    assert files[0].stat().st_mtime > 0
    old = files[0].stat().st_mtime - 30 * 86400
    os.utime(files[0], (old, old))
    compute(40, 3, 0.1, 0.05)  # type: ignore[operator]
    assert files[0].stat().st_mtime > old + 86400  # a read marks the table as used (for --prune)


def test_nested_tuples_survive_and_keys_differ_by_argument(tables: Path) -> None:
    rule = uncached(S._sequential_position_rule)
    args = ((10, 20), (0.5, 1.0), -3.0, 0.1, 0.05, 3)
    level, cuts = rule(*args)  # type: ignore[operator]
    assert rule(*args) == (level, cuts)  # type: ignore[operator]
    stored = S._tuples(json.loads(next(tables.glob("sequential_position_rule-*")).read_text())["value"])
    assert stored == (level, cuts) and isinstance(stored[1][0], tuple)
    thresholds = uncached(S._exact_thresholds)
    a = thresholds((30,), 0.1, (0.05,), "fail")  # type: ignore[operator]
    b = thresholds((30,), 0.1, (0.05,), "pass")  # type: ignore[operator]
    assert a != b
    assert len(list(tables.glob("exact_thresholds-*.json"))) >= 2


def test_a_corrupt_or_foreign_table_is_recomputed_and_rewritten(tables: Path) -> None:
    compute = uncached(S._exact_thresholds)
    good = compute((25,), 0.1, (0.05,), "fail")  # type: ignore[operator]
    (path,) = tables.glob("exact_thresholds-*.json")
    path.write_text("{not json")
    assert compute((25,), 0.1, (0.05,), "fail") == good  # type: ignore[operator]
    assert json.loads(path.read_text())["value"] == list(good)
    path.write_text(json.dumps({"key": "someone else's", "value": [0.0]}))
    assert compute((25,), 0.1, (0.05,), "fail") == good  # type: ignore[operator]


def test_an_unwritable_directory_only_means_computing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    S.set_table_dir(blocker / "tables")  # cannot be created: a file is in the way
    try:
        compute = uncached(S._exact_thresholds)
        assert compute((20,), 0.1, (0.05,), "fail") == S._exact_thresholds((20,), 0.1, (0.05,), "fail")  # type: ignore[operator]
    finally:
        S.set_table_dir(None)


def test_a_probe_run_keeps_tables_beside_the_answers(tmp_path: Path) -> None:
    from pytest_ragprobe.runner import ProbeContext, RunSettings

    ProbeContext(adapter=None, settings=RunSettings(cache_dir=tmp_path / "c"))  # type: ignore[arg-type]
    try:
        assert S._table_dir == tmp_path / "c" / "tables"
        ProbeContext(adapter=None, settings=RunSettings(cache_dir=None))  # type: ignore[arg-type]
        assert S._table_dir is None
    finally:
        S.set_table_dir(None)


def test_no_cache_keeps_the_tables(pytester: pytest.Pytester) -> None:
    """--ragprobe-no-cache refuses cached answers, not the exact critical values (the same numbers every
    run): a 5-position sequential probe took 20.7 s instead of 3.6 s recomputing them."""
    from pytest_ragprobe._config import CONFIG_KEY
    from pytest_ragprobe.runner import ProbeContext, RunSettings

    config = pytester.parseconfigure("--ragprobe-no-cache")
    cfg = config.stash[CONFIG_KEY]
    assert cfg.cache_dir is None and cfg.tables_dir == Path(pytester.path) / ".ragprobe_cache" / "tables"
    ProbeContext(adapter=None, settings=RunSettings(tables_dir=cfg.tables_dir))  # type: ignore[arg-type]
    try:
        assert S._table_dir == cfg.tables_dir
    finally:
        S.set_table_dir(None)
