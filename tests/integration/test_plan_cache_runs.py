"""The cost plan of a warm rerun counts the calls the last run left in the answer cache (plan records)."""

from __future__ import annotations

import pytest

CONFTEST = """
import pathlib
import pytest
import pytest_ragprobe as ragprobe

def answer(question):
    with open("calls.log", "a") as fh:  # one line a pipeline call
        fh.write(question + "\\n")
    last = question.split()[-1].rstrip("?")  # P-3 <-> C-3: right both ways
    return "C-" + last[2:] if last.startswith("P-") else "P-" + last[2:]

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.Pipeline(answer=answer, name="plan-cache-sim")
"""

TESTS = """
import os
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(40)]

@ragprobe.reverse(facts=FACTS[:20], max_drop=0.5)
def test_a():
    pass

@ragprobe.reverse(facts=FACTS[20:], n=int(os.environ.get("RAGPROBE_TEST_N", "20")), max_drop=0.5)
def test_b():
    pass
"""

FRESH = "ragprobe plan: 2 probes, up to 80 pipeline calls (cached answers are free)"
WARM = (
    "ragprobe plan: 2 probes, up to 80 pipeline calls (cached answers are free: 80 of them are in the "
    "answer cache from the last run, so none if the pipelines are unchanged)"
)


def calls(pytester: pytest.Pytester) -> int:
    log = pytester.path / "calls.log"
    n = len(log.read_text().splitlines()) if log.exists() else 0
    log.unlink(missing_ok=True)
    return n


def setup(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAGPROBE_TEST_N", raising=False)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_cached_plan=TESTS)


def test_a_warm_rerun_is_planned_as_cached(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    setup(pytester, monkeypatch)
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([FRESH])
    assert calls(pytester) == 80
    assert len(list((pytester.path / ".ragprobe_cache" / "plans" / "v1").glob("*.json"))) == 2

    # --collect-only: the count, per probe too, and still no call
    result = pytester.runpytest("-p", "no:xdist", "--collect-only", "-q")
    result.stdout.fnmatch_lines([WARM, "*::test_a [[]reverse[]] 40 calls = 20 facts x 2 (40 cached)"])
    assert calls(pytester) == 0

    # a budget below the plan that covers what is not cached (nothing): no shortfall, and none spent
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-budget=30")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        WARM,
        "ragprobe plan: --ragprobe-budget=30 covers the calls not in the answer cache (none if the pipelines "
        "are unchanged: the 80 calls the probes asked last run are all cached); a changed pipeline asks anew "
        "(up to 80 calls), and then probes that run out end INCONCLUSIVE (a FAIL already shown stays)",
    ])
    assert "covers 30 of up to 80" not in result.stdout.str()
    assert calls(pytester) == 0

    # other settings (n) of one probe: its record is not used, and its new calls are counted at their most
    monkeypatch.setenv("RAGPROBE_TEST_N", "10")
    result = pytester.runpytest("-p", "no:xdist", "--collect-only", "-q", "--ragprobe-budget=30")
    result.stdout.fnmatch_lines([
        "ragprobe plan: 2 probes, up to 60 pipeline calls (cached answers are free: 40 of them are in the "
        "answer cache from the last run, so up to 20 if the pipelines are unchanged)",
        "ragprobe plan: --ragprobe-budget=30 covers the up to 20 calls not in the answer cache if the pipelines "
        "are unchanged, but only 30 of up to 60 if they changed; *",
        "*::test_a [[]reverse[]] 40 calls = 20 facts x 2 (40 cached)",
        "*::test_b [[]reverse[]] 20 calls = 10 facts x 2",
    ])

    # the answer cache emptied: the records name answers no longer there
    import shutil

    shutil.rmtree(pytester.path / ".ragprobe_cache" / "answers")
    monkeypatch.delenv("RAGPROBE_TEST_N")
    result = pytester.runpytest("-p", "no:xdist", "--collect-only", "-q")
    result.stdout.fnmatch_lines([FRESH])


def test_no_cache_records_nothing_and_counts_nothing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(pytester, monkeypatch)
    pytester.runpytest("-p", "no:xdist", "--ragprobe-no-cache").assert_outcomes(passed=2)
    assert not (pytester.path / ".ragprobe_cache" / "plans").exists()
    assert calls(pytester) == 80
    pytester.runpytest("-p", "no:xdist").assert_outcomes(passed=2)  # fills the cache and the records
    result = pytester.runpytest("-p", "no:xdist", "--collect-only", "-q", "--ragprobe-no-cache")
    result.stdout.fnmatch_lines([FRESH.replace("cached answers are free", "answer cache off")])  # this run would not read the cache: nothing is free


def test_xdist_workers_record_the_probes_they_ran(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("xdist")
    setup(pytester, monkeypatch)
    pytester.runpytest("-n", "2").assert_outcomes(passed=2)
    assert len(list((pytester.path / ".ragprobe_cache" / "plans" / "v1").glob("*.json"))) == 2
    result = pytester.runpytest("-p", "no:xdist", "--collect-only", "-q")
    result.stdout.fnmatch_lines([WARM])


def test_a_corrupt_answer_entry_is_not_planned_as_cached(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine reads a truncated, emptied or unreadable entry as a miss and calls the pipeline again: the
    # plan counted it as cached (a stat of the file), so it said fewer calls than the run made.
    setup(pytester, monkeypatch)
    pytester.runpytest("-p", "no:xdist").assert_outcomes(passed=2)
    assert calls(pytester) == 80
    entries = sorted((pytester.path / ".ragprobe_cache" / "answers" / "v1").glob("*/*.json"))
    assert len(entries) == 80
    entries[0].write_bytes(entries[0].read_bytes()[:40])  # truncated (a full disk, a killed copy)
    entries[1].write_bytes(b"")
    entries[2].unlink()
    entries[2].mkdir()  # there, but no file to read
    result = pytester.runpytest("-p", "no:xdist", "--collect-only", "-q")
    result.stdout.fnmatch_lines([
        "ragprobe plan: 2 probes, up to 80 pipeline calls (cached answers are free: 77 of them are in the "
        "answer cache from the last run, so up to 3 if the pipelines are unchanged)"
    ])
    assert calls(pytester) == 0
    entries[2].rmdir()  # (a directory would stay a miss: the run could not store that answer again)
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(passed=2)
    assert calls(pytester) == 3  # what the plan said
    result = pytester.runpytest("-p", "no:xdist", "--collect-only", "-q")  # rewritten by that run
    result.stdout.fnmatch_lines([WARM])
