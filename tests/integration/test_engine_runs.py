"""Run-level behaviour of the engine through pytest: warm cache, budget, determinism across
concurrency levels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import facts_yaml

CONFTEST = """
import os, threading, time
from pathlib import Path
import pytest

COUNTER = Path(os.environ["RAGPROBE_TEST_COUNTER"])
_lock = threading.Lock()

def answer(question):
    with _lock:
        with COUNTER.open("a") as fh:
            fh.write("x")
    time.sleep({delay})
    i = int(question.rsplit("-", 1)[1].rstrip("?"))
    if question.startswith("Which controller"):
        return f"C-{{i}}"
    return f"P-{{i}}" if i % 4 else "no idea"

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
"""

TEST = """
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.5, seed={seed})
def test_a(ragprobe_result):
    pass

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.05, n=16, seed={seed})
def test_b(ragprobe_result):
    pass
"""


def setup(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *, facts: int = 24,
          delay: float = 0.0, seed: int = 3) -> Path:
    counter = pytester.path / "calls.txt"
    counter.write_text("")
    monkeypatch.setenv("RAGPROBE_TEST_COUNTER", str(counter))
    pytester.makeconftest(CONFTEST.format(delay=delay))
    pytester.makefile(".yaml", facts=facts_yaml(facts))
    pytester.makepyfile(test_probes=TEST.format(seed=seed))
    return counter


def numbers(report_dir: Path) -> dict[str, tuple[object, ...]]:
    report = json.loads((report_dir / "report.json").read_text())
    return {
        p["nodeid"]: (p["verdict"], p["n"], p["errors"], json.dumps(p["metrics"], sort_keys=True))
        for p in report["probes"]
    }


def test_warm_cache_rerun_makes_zero_pipeline_calls(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = setup(pytester, monkeypatch)
    first = pytester.runpytest("--ragprobe-report=r1", "-p", "no:xdist")
    cold_calls = len(counter.read_text())
    assert cold_calls == 2 * 24  # test_b asks a subset of test_a's questions: served from cache
    counter.write_text("")
    second = pytester.runpytest("--ragprobe-report=r2", "-p", "no:xdist")
    assert counter.read_text() == ""  # zero pipeline calls
    assert numbers(pytester.path / "r1") == numbers(pytester.path / "r2")
    assert first.parseoutcomes() == second.parseoutcomes()
    report = json.loads((pytester.path / "r2" / "report.json").read_text())
    assert [(p["calls"], p["cached_calls"]) for p in report["probes"]] == [(0, 48), (0, 32)]
    assert counter.read_text() == ""

    # --ragprobe-no-cache bypasses it: every probe asks everything again
    pytester.runpytest("--ragprobe-no-cache", "-p", "no:xdist")
    assert len(counter.read_text()) == 2 * 24 + 2 * 16


def test_corrupt_cache_entries_are_ignored_and_rewritten(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = setup(pytester, monkeypatch)
    pytester.runpytest("-p", "no:xdist")
    # answers only: a fresh process also stores its statistics tables under .ragprobe_cache/tables
    entries = sorted((pytester.path / ".ragprobe_cache" / "answers").rglob("*.json"))
    assert len(entries) == 2 * 24  # test_b's questions are a subset with the same namespace
    for path in entries[:5]:
        path.write_text("{ not json")
    entries[5].write_bytes(b"\x00\xff")
    counter.write_text("")
    result = pytester.runpytest("-p", "no:xdist")
    assert len(counter.read_text()) == 6  # only the broken ones were asked again
    result.assert_outcomes(passed=2)
    counter.write_text("")
    pytester.runpytest("-p", "no:xdist")
    assert counter.read_text() == ""  # ... and were rewritten


def test_budget_ends_remaining_probes_inconclusive(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = setup(pytester, monkeypatch)
    result = pytester.runpytest("--ragprobe-budget=20", "--ragprobe-report=r", "-p", "no:xdist",
                                "--ragprobe-no-cache")
    assert len(counter.read_text()) == 20
    report = json.loads((pytester.path / "r" / "report.json").read_text())
    verdicts = {p["nodeid"].rsplit("::", 1)[1]: p for p in report["probes"]}
    assert verdicts["test_a"]["verdict"] == "inconclusive"
    assert verdicts["test_a"]["reason"] == (
        f"pipeline call budget exhausted: {verdicts['test_a']['n']} of 24 facts answered both ways"
    )
    assert 0 < verdicts["test_a"]["n"] <= 10  # 20 calls answer at most 10 facts both ways
    assert verdicts["test_b"]["verdict"] == "inconclusive"
    assert verdicts["test_b"]["calls"] == 0
    # no call left: the reason says none was answered (it said "after 16 of 16 facts")
    assert verdicts["test_b"]["reason"] == "pipeline call budget exhausted: 0 of 16 facts answered both ways"
    # facts never asked are not shown as failed examples
    for probe in verdicts.values():
        assert not [e for e in probe["examples"] if "budget" in str(e.get("error") or "")]
    assert verdicts["test_b"]["examples"] == []
    # nothing measured: no accuracies at all (they read 0.00, which a user's assert took for real)
    assert verdicts["test_b"]["reverse"] is None and verdicts["test_b"]["metrics"] == {}
    result.stdout.fnmatch_lines(["INCONCLUSIVE *::test_b [[]reverse] pipeline call budget exhausted: 0 of 16*"])
    result.assert_outcomes(passed=2)


def test_same_numbers_at_concurrency_1_and_16(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(pytester, monkeypatch, delay=0.002)
    pytester.runpytest("--ragprobe-report=c1", "--ragprobe-concurrency=1", "--ragprobe-no-cache",
                       "-p", "no:xdist")
    pytester.runpytest("--ragprobe-report=c16", "--ragprobe-concurrency=16", "--ragprobe-no-cache",
                       "-p", "no:xdist")
    one, sixteen = numbers(pytester.path / "c1"), numbers(pytester.path / "c16")
    assert len(one) == 2
    assert one == sixteen


CONFIGURED = """
import os
from pathlib import Path
import pytest

class Reader:
    def __init__(self, reverse_ok):
        self.reverse_ok = reverse_ok
        self.calls = 0  # running state: not part of the cache key

    def answer(self, question):
        self.calls += 1
        with Path(os.environ["RAGPROBE_TEST_COUNTER"]).open("a") as fh:
            fh.write("x")
        i = int(question.rsplit("-", 1)[1].rstrip("?"))
        if question.startswith("Which controller"):
            return f"C-{i}"
        return f"P-{i}" if self.reverse_ok else "no idea"

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return Reader(os.environ["READER_REVERSE"] == "1")
"""


def test_cache_keeps_answers_of_differently_built_pipelines_apart(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same class with another constructor argument must not be served the first one's answers
    (it would report the first pipeline's verdict); the same arguments again hit the cache."""
    counter = setup(pytester, monkeypatch)
    pytester.makeconftest(CONFIGURED)

    def run(reverse_ok: str) -> tuple[int, int, int]:
        monkeypatch.setenv("READER_REVERSE", reverse_ok)
        counter.write_text("")
        outcome = pytester.runpytest("-p", "no:xdist").parseoutcomes()
        return len(counter.read_text()), outcome.get("passed", 0), outcome.get("failed", 0)

    assert run("1") == (48, 2, 0)
    assert run("1") == (0, 2, 0)  # a repeat: every answer from the cache
    assert run("0") == (48, 0, 2)  # another argument: asked again, and the verdicts follow
    assert run("0") == (0, 0, 2)
    assert run("1") == (0, 2, 0)  # both configurations stay cached side by side


POSITION_CONFTEST = """
import os, re
from pathlib import Path
import pytest

class Rag:
    def retrieve(self, question, k):
        with Path(os.environ["RAGPROBE_TEST_COUNTER"]).open("a") as fh:
            fh.write("r")
        meta = {1: "one", "src": "x"} if os.environ["META"] == "mixed" else {"tags": {"b", "a"}}
        return [{"text": f"Hard negative {j}", "id": f"hn{j}", "metadata": meta} for j in range(k)]

    def generate(self, question, docs):
        with Path(os.environ["RAGPROBE_TEST_COUNTER"]).open("a") as fh:
            fh.write("g")
        i = int(re.search(r"item (\\d+)", question).group(1))
        return f"Z{i}" if any(f"item {i} is" in d.text for d in docs) else "none"

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return Rag()
"""

POSITION_TEST = """
import pytest_ragprobe as ragprobe

@ragprobe.position(data="qa.jsonl", n_docs=4, positions=[0, 3], max_drop=0.3, distractors="retriever")
def test_hard(ragprobe_result):
    pass
"""


def qa_jsonl(n: int) -> str:
    rows = []
    for i in range(n):
        ctxs = [{"title": f"Gold{i}", "text": f"The code of item {i} is Z{i}.", "isgold": True}]
        ctxs += [{"title": f"Doc{i}-{j}", "text": f"Filler {i} {j}.", "isgold": False} for j in range(5)]
        rows.append(json.dumps({"question": f"What is the code of item {i}?", "answers": [f"Z{i}"], "ctxs": ctxs}))
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("meta", ["mixed", "set"])
def test_retrieved_metadata_the_cache_cannot_store_never_fails_a_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, meta: str
) -> None:
    """Hard negatives with metadata {1: "one", "src": "x"} crashed the cache key (blamed on the
    pipeline); a set made keys differ per process. Such retrieve results are not stored (JSON would
    change them), the generate calls that read them are keyed canonically and cached, and a warm
    run reports exactly what the cold run did."""
    counter = pytester.path / "calls.txt"
    counter.write_text("")
    monkeypatch.setenv("RAGPROBE_TEST_COUNTER", str(counter))
    monkeypatch.setenv("META", meta)
    pytester.makeconftest(POSITION_CONFTEST)
    pytester.makefile(".jsonl", qa=qa_jsonl(8))
    pytester.makepyfile(test_pos=POSITION_TEST)
    first = pytester.runpytest("--ragprobe-report=r1", "-p", "no:xdist")
    first.assert_outcomes(passed=1)
    cold = counter.read_text()
    assert (cold.count("r"), cold.count("g")) == (8, 16)
    counter.write_text("")
    second = pytester.runpytest("--ragprobe-report=r2", "-p", "no:xdist")
    second.assert_outcomes(passed=1)
    assert counter.read_text() == "r" * 8  # retrieve asked again (not storable); every generate cached
    assert numbers(pytester.path / "r1") == numbers(pytester.path / "r2")


MATCHERS_TEST = """
import functools
import pytest_ragprobe as ragprobe

def lenient(answer, golds, strict=False):
    return any(g in answer for g in golds)

class Matcher:
    def __call__(self, answer, golds):
        return any(g in answer for g in golds)

@ragprobe.reverse(facts="facts.yaml", max_drop=0.5, seed=3, match=functools.partial(lenient, strict=True))
def test_partial(ragprobe_result):
    pass

@ragprobe.reverse(facts="facts.yaml", max_drop=0.5, seed=3, match=Matcher())
def test_instance(ragprobe_result):
    pass

@ragprobe.reverse(facts="facts.yaml", max_drop=0.5, seed=3, match="exact")
def test_exact(ragprobe_result):
    pass
"""


def test_probes_that_differ_only_in_the_matcher_share_cached_answers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partial or callable-instance matcher put a memory address into the key (never a hit); and
    answers do not depend on how they are scored, so the three probes ask each question once."""
    counter = setup(pytester, monkeypatch)
    pytester.makepyfile(test_probes=MATCHERS_TEST)
    pytester.runpytest("--ragprobe-report=r1", "-p", "no:xdist").assert_outcomes(passed=3)
    assert len(counter.read_text()) == 2 * 24
    counter.write_text("")
    pytester.runpytest("--ragprobe-report=r2", "-p", "no:xdist").assert_outcomes(passed=3)
    assert counter.read_text() == ""
    report = json.loads((pytester.path / "r2" / "report.json").read_text())
    assert sorted(p["settings"]["match"] for p in report["probes"]) == [
        "exact", "partial(test_probes.lenient, strict=True)", "test_probes.Matcher()"
    ]
