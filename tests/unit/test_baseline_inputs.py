"""baseline.py with odd but possible baseline files: hand-edited or damaged figures (NaN / inf drops, missing
discordant counts, impossible accuracy counts), position probes without positions, files that are JSON but
not a report. Each is a "not compared: <why>" or a BaselineError (a usage error), never a traceback."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from pytest_ragprobe.baseline import BaselineComparison, BaselineError, compare, load_baseline

from test_baseline import SETTINGS, as_baseline, direction, reverse_result  # isort: skip


def regressed() -> tuple[Any, Any]:
    """A baseline and a run whose reverse accuracy and drop both fell clearly."""
    return (
        reverse_result(97, 95, forward_only=3, reverse_only=1),
        reverse_result(97, 75, forward_only=23, reverse_only=1),
    )


# -- the drop: NaN, inf, not a number, no discordant counts --------------------------------------------


@pytest.mark.parametrize(("value", "shown"), [(math.nan, "nan"), (math.inf, "inf"), (-math.inf, "-inf"), ("0.1", "'0.1'")])
def test_a_baseline_drop_that_is_not_a_number_is_left_out_and_the_accuracies_still_compared(
    value: object, shown: str
) -> None:
    """A NaN drop made the drop test's p-value NaN and holm() raised "p-values must lie in [0, 1]": the
    whole pytest session crashed instead of reporting."""
    old, new = regressed()
    baseline = as_baseline(old)
    baseline["metrics"]["drop"] = value
    got = compare(new, baseline, confidence=0.95)
    assert got.status == "regression"
    assert got.message.startswith("ragprobe baseline REGRESSION: reverse accuracy 0.95 -> 0.75 (p < 0.001); ")
    assert got.message.endswith(f"; drop not compared: the baseline's drop, {shown}, is not a number")
    assert "drop +" not in got.message
    # nothing fell: compared in part, and said so
    assert compare(old, baseline, confidence=0.95) == BaselineComparison(
        "ok", f"baseline compared in part; drop not compared: the baseline's drop, {shown}, is not a number"
    )


def test_a_nan_drop_read_from_a_json_file_does_not_crash(tmp_path: Path) -> None:
    # Python's json writes NaN (allow_nan) and reads it back: the path a real file takes.
    old, new = regressed()
    baseline = as_baseline(old)
    baseline["metrics"]["drop"] = math.nan
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"schema_version": 1, "probes": [baseline]}))
    loaded = load_baseline(path)[old.nodeid]
    assert compare(new, loaded, confidence=0.95).status == "regression"


def test_this_runs_drop_that_is_not_a_number_is_left_out_too() -> None:
    old, new = regressed()
    new.metrics["drop"] = math.nan
    got = compare(new, as_baseline(old), confidence=0.95)
    assert got.status == "regression"
    assert got.message.endswith("; drop not compared: this run's drop, nan, is not a number")


@pytest.mark.parametrize(
    ("discordant", "why"),
    [
        (None, "the baseline's probe has no discordant counts, metrics.discordant.forward_only and reverse_only"),
        ({}, "the baseline's probe has no discordant counts, metrics.discordant.forward_only and reverse_only"),
        ([3, 1], "the baseline's probe has no discordant counts, metrics.discordant.forward_only and reverse_only"),
        ({"forward_only": 3}, "the baseline's probe has no discordant counts, metrics.discordant.forward_only and reverse_only"),
        ({"forward_only": "3", "reverse_only": 1}, "the baseline's probe has no discordant counts, metrics.discordant.forward_only and reverse_only"),
        ({"forward_only": -3, "reverse_only": 1}, "the baseline's probe has no discordant counts, metrics.discordant.forward_only and reverse_only"),
        ({"forward_only": math.nan, "reverse_only": 1}, "the baseline's probe has no discordant counts, metrics.discordant.forward_only and reverse_only"),
        ({"forward_only": 90, "reverse_only": 20}, "the baseline's discordant counts, 90 and 20, add up to more than its n = 100"),
    ],
)
def test_a_baseline_drop_without_usable_discordant_counts_is_left_out(discordant: object, why: str) -> None:
    """Missing counts read as 0 gave the drop a floor variance (a false regression from a noisy probe);
    a list or a string count raised AttributeError / ValueError."""
    old, new = regressed()
    baseline = as_baseline(old)
    if discordant is None:
        del baseline["metrics"]["discordant"]
    else:
        baseline["metrics"]["discordant"] = discordant
    got = compare(new, baseline, confidence=0.95)
    assert got.status == "regression"
    assert got.message.endswith(f"; drop not compared: {why}")


def test_a_drop_outside_minus_one_to_one_is_left_out() -> None:
    old, _ = regressed()
    baseline = as_baseline(old)
    baseline["metrics"]["drop"] = 2.5
    assert compare(old, baseline, confidence=0.95) == BaselineComparison(
        "ok", "baseline compared in part; drop not compared: the baseline's drop, 2.5, is outside [-1, 1]"
    )


def test_counts_written_as_integral_floats_are_counts() -> None:
    # (another JSON writer may say 3.0)
    old, new = regressed()
    baseline = as_baseline(old)
    baseline["metrics"]["discordant"] = {"forward_only": 3.0, "reverse_only": 1.0}
    assert compare(new, baseline, confidence=0.95) == compare(new, as_baseline(old), confidence=0.95)


def test_a_probe_with_nothing_left_to_compare_is_not_compared() -> None:
    """A position probe with a NaN drop and no positions: no test at all (holm() of nothing)."""
    new = _position({p: direction(c, 100) for p, c in {0: 95, 4: 93, 9: 94}.items()}, 0.02, 2)
    baseline = as_baseline(_position(None, 0.02, 2))
    baseline["metrics"]["drop"] = math.nan  # (pydantic's JSON writes NaN as null: set after)
    got = compare(new, baseline, confidence=0.95)
    assert got == BaselineComparison(
        "changed",
        "baseline not compared: accuracy by position not compared: the baseline's probe has none; "
        "drop not compared: the baseline's drop, nan, is not a number",
    )


# -- accuracies: n = 0, correct > n, negative ----------------------------------------------------------


@pytest.mark.parametrize(
    ("summary", "why"),
    [
        ({"accuracy": 0.0, "correct": 0, "n": 0, "ci": [0, 1]}, "the baseline has no answers there, n = 0"),
        ({"accuracy": 1.2, "correct": 120, "n": 100, "ci": [0, 1]}, "the baseline counts are impossible, 120 right of n = 100"),
        ({"accuracy": 0.5, "correct": -5, "n": 100, "ci": [0, 1]}, "the baseline counts are impossible, -5 right of n = 100"),
        ({"accuracy": 0.5, "correct": 5, "n": -10, "ci": [0, 1]}, "the baseline has no answers there, n = -10"),
    ],
)
def test_impossible_accuracy_counts_are_left_out(summary: dict[str, Any], why: str) -> None:
    """Fisher's test raised ValueError on the negative cells of correct > n (or a negative count)."""
    old, new = regressed()
    baseline = as_baseline(old)
    baseline["reverse"] = summary
    got = compare(new, baseline, confidence=0.95)
    assert got.status == "regression"
    assert got.message.startswith("ragprobe baseline REGRESSION: drop +0.02 -> +0.22 (p < 0.001); ")
    assert got.message.endswith(f"; reverse accuracy not compared: {why}")


def test_counts_too_large_for_the_tests_are_left_out() -> None:
    """Python's json reads any integer: 10**30 answers overflowed scipy's C long (OverflowError) and a
    400-digit drop overflowed math.isfinite()."""
    old, new = regressed()
    baseline = as_baseline(old)
    baseline["reverse"].update(correct=10**30, n=10**30 + 5)
    got = compare(new, baseline, confidence=0.95)
    assert got.status == "regression"
    assert got.message.endswith(
        "; reverse accuracy not compared: the baseline n = 1000000000000000000000000000005 is more answers than a probe asks"
    )
    baseline = as_baseline(old)
    baseline["metrics"]["drop"] = 10**400
    got = compare(new, baseline, confidence=0.95)
    assert got.message.endswith("; drop not compared: the baseline's drop, " + "1" + "0" * 38 + "…, is outside [-1, 1]")


def test_a_nan_accuracy_is_printed_from_its_counts() -> None:
    old, new = regressed()
    baseline = as_baseline(old)
    baseline["reverse"]["accuracy"] = math.nan
    assert compare(new, baseline, confidence=0.95) == compare(new, as_baseline(old), confidence=0.95)


def test_a_reverse_baseline_with_one_direction_only_compares_the_rest() -> None:
    old, new = regressed()
    baseline = as_baseline(old)
    baseline["reverse"] = None
    got = compare(new, baseline, confidence=0.95)
    assert got.status == "regression"
    assert got.message.endswith("; reverse accuracy not compared: the baseline has none")


def test_a_negative_probe_n_is_not_compared() -> None:
    old, new = regressed()
    baseline = as_baseline(old)
    baseline["n"] = -100
    assert compare(new, baseline, confidence=0.95) == BaselineComparison(
        "changed", "baseline not compared: the baseline's probe has no answers (n = -100)"
    )


# -- position probes without positions ------------------------------------------------------------------


def _position(by_position: dict[int, Any] | None, drop: float, edge_only: int, **settings: Any) -> Any:
    """A position probe; ``settings`` override the recorded settings."""
    from pytest_ragprobe.results import ProbeResult

    return ProbeResult(
        nodeid="t.py::test_mid",
        kind="position",
        verdict="pass",
        n=100,
        metrics={"drop": drop, "discordant": {"edge_only": edge_only, "worst_only": 0}},
        settings={**SETTINGS, "data": "qa.jsonl", "n_docs": 10, "positions": [0, 4, 9], **settings},
        positions=by_position,
    )


@pytest.mark.parametrize("positions", [None, {}])
def test_a_position_baseline_without_positions_compares_the_drop_and_says_so(positions: Any) -> None:
    old = _position(positions, 0.02, 2)
    new = _position({0: direction(95, 100), 4: direction(70, 100), 9: direction(94, 100)}, 0.25, 25)
    got = compare(new, as_baseline(old), confidence=0.95)
    assert got.status == "regression"
    assert got.message.startswith("ragprobe baseline REGRESSION: drop +0.02 -> +0.25 (p < 0.001); ")
    assert got.message.endswith("; accuracy by position not compared: the baseline's probe has none")


def test_position_baseline_with_no_position_in_common() -> None:
    # (a baseline whose settings do not record the positions: they are not a changed setting then)
    unrecorded = {"positions": None}
    old = _position({1: direction(95, 100), 2: direction(93, 100)}, 0.02, 2, **unrecorded)
    new = _position({0: direction(95, 100), 4: direction(93, 100)}, 0.02, 2, **unrecorded)
    assert compare(new, as_baseline(old), confidence=0.95) == BaselineComparison(
        "ok",
        "baseline compared in part; accuracy by position not compared: no position in common, the baseline's "
        "[1, 2] vs this run's [0, 4]",
    )


# -- what is not a probe or not a report ----------------------------------------------------------------


def test_compare_with_a_dict_that_is_not_a_probe_says_so() -> None:
    # read_baseline refuses such a file; compare() itself may be handed any dict
    old, new = regressed()
    baseline = as_baseline(old)
    baseline["verdict"] = "passed"
    got = compare(new, baseline, confidence=0.95)
    assert got.status == "changed"
    assert got.message.startswith("baseline not compared: the baseline's probe is not a ragprobe probe (verdict: ")


def test_a_baseline_file_with_an_unknown_verdict_is_a_usage_error(tmp_path: Path) -> None:
    old, _ = regressed()
    baseline = as_baseline(old)
    baseline["verdict"] = "passed"
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"schema_version": 1, "probes": [baseline]}))
    with pytest.raises(BaselineError) as info:
        load_baseline(path)
    assert str(info.value).startswith(f"--ragprobe-baseline: {path}: probes[0] is not a ragprobe probe (verdict: ")


@pytest.mark.parametrize("content", ['"a report"', "3", "null", "NaN", "[1, 2]", '{"schema_version": "1", "probes": []}'])
def test_json_that_is_not_a_report_is_a_usage_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "other.json"
    path.write_text(content)
    with pytest.raises(BaselineError) as info:
        load_baseline(path)
    assert str(info.value) == f"--ragprobe-baseline: {path} is not a ragprobe report (schema_version 1)"


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_a_baseline_file_that_is_not_utf8_is_a_usage_error(tmp_path: Path, encoding: str) -> None:
    """PowerShell's `>` writes UTF-16: read_text raised UnicodeDecodeError, a traceback at startup."""
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"schema_version": 1, "probes": [], "note": "café"}, ensure_ascii=False), encoding=encoding)
    with pytest.raises(BaselineError) as info:
        load_baseline(path)
    assert str(info.value).startswith(f"--ragprobe-baseline: {path} is not readable JSON: ")
    assert "UTF-8" in str(info.value)
