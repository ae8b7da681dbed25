"""The cost plan (pytest_ragprobe.plan) against the calls a run really makes, counted by the pipeline
itself, and the budget as the plan and the README describe it: retries take from it, cached answers and
the index() call of synthetic facts do not, under xdist each worker spends its own share on every probe it
runs. First the plan's own numbers and lines (no pytester run), then real runs.

(One file: tests/unit/test_plan_accuracy.py and this one cannot both exist, as tests/ has no packages and
pytest's default import mode needs distinct basenames.)"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from factories import litm_data_file

from pytest_ragprobe.engine import EngineSettings
from pytest_ragprobe.facts import Fact
from pytest_ragprobe.markers import POSITION_MARK, REVERSE_MARK, build_spec
from pytest_ragprobe.plan import ProbePlan, plan_probe, summary_lines
from pytest_ragprobe.runner import RunSettings

FACTS = [Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(30)]


def facts_file(tmp_path: Path, n: int) -> str:
    rows = "\n".join(
        f"  - forward: {{question: 'Which controller works with pump P-{i}?', answer: C-{i}}}\n"
        f"    reverse: {{question: 'Which pump works with controller C-{i}?', answer: P-{i}}}"
        for i in range(n)
    )
    (tmp_path / "facts.yaml").write_text("facts:\n" + rows + "\n", encoding="utf-8")
    return "facts.yaml"


def plan(tmp_path: Path, mark: str, settings: RunSettings | None = None, **kwargs: object) -> ProbePlan:
    spec = build_spec(mark, kwargs)
    return plan_probe("t.py::test_x", spec, settings or RunSettings(), [tmp_path])


def calls(p: ProbePlan) -> tuple[int, int, int]:
    return p.calls_min, p.calls_max, p.budgeted_max


def test_reverse_counts_by_hand(tmp_path: Path) -> None:
    path = facts_file(tmp_path, 20)
    assert calls(plan(tmp_path, REVERSE_MARK, facts=path)) == (40, 40, 40)  # 20 x 2
    assert calls(plan(tmp_path, REVERSE_MARK, facts=FACTS, n=12)) == (24, 24, 24)  # 12 x 2
    assert calls(plan(tmp_path, REVERSE_MARK, facts=FACTS, n=50)) == (60, 60, 60)  # n capped at the 30 facts
    # 10 x 2 answers + 1 index() call, which the probe makes outside the engine: not budgeted
    assert calls(plan(tmp_path, REVERSE_MARK, facts="synthetic:10")) == (21, 21, 20)
    capped = RunSettings(samples=16)
    assert calls(plan(tmp_path, REVERSE_MARK, capped, facts=FACTS)) == (32, 32, 32)
    # sequential, 30 facts: looks at 4, 8, ... 30 facts; the fewest is the first look's 4 x 2
    assert calls(plan(tmp_path, REVERSE_MARK, facts=FACTS, sequential=True)) == (8, 60, 60)
    on = RunSettings(sequential=True, samples=16)  # --ragprobe-sequential: looks at 2, 4, ... 16
    assert calls(plan(tmp_path, REVERSE_MARK, on, facts="synthetic:20")) == (5, 33, 32)
    assert calls(plan(tmp_path, REVERSE_MARK, on, facts=FACTS, sequential=False)) == (32, 32, 32)
    assert calls(plan(tmp_path, REVERSE_MARK, on, facts=FACTS, n=7)) == (14, 14, 14)  # < 8: no looks


def test_position_counts_by_hand(tmp_path: Path) -> None:
    data = litm_data_file(tmp_path, 25)
    assert calls(plan(tmp_path, POSITION_MARK, data=data, n_docs=10)) == (125, 125, 125)  # 0, 2, 4, 7, 9
    assert calls(plan(tmp_path, POSITION_MARK, facts=FACTS, n_docs=5, positions=[0, 2, 4])) == (90, 90, 90)
    # 2 positions + 1 retrieve() per question for its hard negatives
    retriever = plan(tmp_path, POSITION_MARK, data=data, n_docs=6, positions=[0, 5], distractors="retriever")
    assert calls(retriever) == (75, 75, 75)
    # context_tokens pads each context with more documents, not more calls: 4 positions of n_docs=4
    assert calls(plan(tmp_path, POSITION_MARK, data=data, n_docs=4, context_tokens=60)) == (100, 100, 100)
    assert calls(plan(tmp_path, POSITION_MARK, facts="synthetic:12", n_docs=4)) == (48, 48, 48)  # no index()
    assert calls(plan(tmp_path, POSITION_MARK, data=data, n_docs=10, sequential=True)) == (20, 125, 125)
    settings = RunSettings(sequential=True)
    seq = plan(tmp_path, POSITION_MARK, settings, data=data, n_docs=6, n=10, positions=[0, 5], distractors="retriever")
    # first look: 3 questions x (2 + 1) (at most 3 positions: the first of 12 looks is at 25%, not 1/8)
    assert calls(seq) == (9, 30, 30)


def test_the_plan_knows_the_retries() -> None:
    settings = RunSettings(engine=EngineSettings(retries=3))
    spec = build_spec(REVERSE_MARK, {"facts": FACTS, "n": 5})
    assert plan_probe("t.py::test_x", spec, settings, []).retries == 3


def rev(name: str, n: int, *, extra: int = 0, retries: int = 2) -> ProbePlan:
    return ProbePlan(f"t.py::{name}", "reverse", n, 2, extra, retries=retries)


def test_xdist_warns_when_probes_that_each_fit_a_share_do_not_fit_one_together() -> None:
    """40 + 40 + 10 calls, --ragprobe-budget=100 under -n 2: each probe fits a worker's 50, but the worker
    that gets both 40s runs out (the other leaves 40 unspent). Was: no warning."""
    plans = [rev("test_a", 20), rev("test_b", 20), rev("test_c", 5)]
    assert summary_lines(plans, 100, verbose=False, workers=2) == [
        "ragprobe plan: 3 probes, up to 90 pipeline calls (cached answers are free)",
        "ragprobe plan: under 2 xdist workers each spends its own share of --ragprobe-budget=100 (about 50 "
        "calls) on all the probes it runs; they need up to 90, so the probes that land on one worker may "
        "run out there (--ragprobe-budget=180 covers any split)",
    ]
    # a share that holds every probe: no such warning (only the room left for retries)
    assert summary_lines(plans, 180, verbose=False, workers=2)[1:] == [
        "ragprobe plan: each xdist worker's share of --ragprobe-budget=180 (about 90 calls) covers the 90 "
        "planned calls with 0 to spare for retries, which count against it too; a probe that runs out ends "
        "INCONCLUSIVE"
    ]
    # one probe bigger than a share: the warning it always had, and no second one
    assert summary_lines([rev("test_a", 10), rev("test_b", 2)], 25, verbose=False, workers=2)[1:] == [
        "ragprobe plan: under 2 xdist workers each spends its own share of --ragprobe-budget=25 (about 12 "
        "calls); the largest probe needs up to 20, so it may run out on its worker",
    ]


def test_the_index_call_of_synthetic_facts_is_not_compared_with_the_budget() -> None:
    """Two probes of 10 synthetic facts: 40 answers (budgeted) + 2 index() calls (not). Was: a budget of 40
    was flagged ("covers 40 of up to 42 calls; probes that run out end INCONCLUSIVE") though none runs out."""
    plans = [rev("test_a", 10, extra=1, retries=0), rev("test_b", 10, extra=1, retries=0)]
    assert summary_lines(plans, 40, verbose=False) == [
        "ragprobe plan: 2 probes, up to 42 pipeline calls (cached answers are free)"
    ]
    assert summary_lines(plans, 30, verbose=False)[1:] == [
        "ragprobe plan: --ragprobe-budget=30 covers 30 of up to 40 budgeted calls (not the 2 index calls of "
        "synthetic facts); probes that run out end INCONCLUSIVE (a FAIL already shown stays)"
    ]


def test_a_budget_that_leaves_little_for_retries_says_so() -> None:
    """Retries take from the budget, the plan's counts do not include them: a budget equal to the plan ran
    out on the first retried call with nothing said. Was: no line."""
    plans = [rev("test_a", 10), rev("test_b", 5)]
    assert summary_lines(plans, 30, verbose=False)[1:] == [
        "ragprobe plan: --ragprobe-budget=30 covers the 30 planned calls with 0 to spare for retries, which "
        "count against it too; a probe that runs out ends INCONCLUSIVE"
    ]
    assert summary_lines(plans, 31, verbose=False)[1] == (
        "ragprobe plan: --ragprobe-budget=31 covers the 30 planned calls with 1 to spare for retries, which "
        "count against it too; a probe that runs out ends INCONCLUSIVE"
    )
    # room for every call to be retried twice (--ragprobe-retries=2): nothing to say
    assert summary_lines(plans, 90, verbose=False)[1:] == []
    # no retries: the planned calls are all the budget pays for
    assert summary_lines([rev("test_a", 10, retries=0)], 20, verbose=False)[1:] == []
    # no budget: no budget line
    assert summary_lines(plans, None, verbose=False)[1:] == []


def test_a_short_budget_keeps_its_message() -> None:
    plans = [rev("test_a", 10), ProbePlan("t.py::test_p", "position", 4, 5, retries=2)]
    assert summary_lines(plans, 20, verbose=True) == [
        "ragprobe plan: 2 probes, up to 40 pipeline calls (cached answers are free)",
        "ragprobe plan: --ragprobe-budget=20 covers 20 of up to 40 calls; probes that run out end INCONCLUSIVE (a FAIL already shown stays)",
        "  t.py::test_a [reverse] 20 calls = 10 facts x 2",
        "  t.py::test_p [position] 20 calls = 4 questions x 5",
    ]


@pytest.mark.parametrize("workers", [1, 2])
def test_unreadable_data_plans_no_calls(tmp_path: Path, workers: int) -> None:
    bad = plan(tmp_path, POSITION_MARK, data="missing.jsonl")
    assert bad.error and calls(bad) == (0, 0, 0)
    assert summary_lines([bad, rev("test_a", 5)], 10, verbose=False, workers=workers)[0] == (
        "ragprobe plan: 2 probes, up to 10 pipeline calls (cached answers are free); 1 with unreadable data"
    )


# Every call the pipeline gets, one line each: "<test name> <method>" (O_APPEND: xdist workers share it).
COUNTING = """
import os
import pathlib
import pytest
import pytest_ragprobe as ragprobe

LOG = pathlib.Path(__file__).parent / "calls.log"
SEEN = set()

def log(kind, question=""):
    test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0].split("::")[-1]
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, f"{test} {kind}\\n".encode())
    finally:
        os.close(fd)
    # FLAKY: each question's first request fails as a dropped connection would (retried)
    if os.environ.get("FLAKY") and question and question not in SEEN:
        SEEN.add(question)
        raise ConnectionError("connection reset")

class Counting:
    name = "counting"
    version = "1"

    def answer(self, question):
        log("answer", question)
        tail = question.rstrip("?").rsplit(" ", 1)[1]
        if "compatible with pump" in question:
            return "Controller " + tail.replace("P-", "C-")
        return "Pump " + tail.replace("C-", "P-")

    def retrieve(self, query, k):
        log("retrieve")
        return [ragprobe.Document(text=f"Retrieved note {i}.", title=f"R{i}") for i in range(k)]

    def generate(self, question, documents):
        log("generate")
        return "Q" + question.rstrip("?").rsplit(" ", 1)[1] if "item" in question else "unknown"

    def index(self, documents):
        log("index")

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return Counting()
"""

CONFIGURATIONS = """
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(30)]

@ragprobe.reverse(facts="facts.yaml", max_drop=0.1)
def test_rev_file(): pass

@ragprobe.reverse(facts=FACTS, n=12, max_drop=0.1)
def test_rev_list_n(): pass

@ragprobe.reverse(facts="synthetic:10", max_drop=0.1)
def test_rev_synthetic(): pass

@ragprobe.reverse(facts=FACTS, max_drop=0.1, sequential=True)
def test_rev_sequential(): pass

@ragprobe.reverse(facts=FACTS, n=20, max_drop=0.1, sequential=False)
def test_rev_sequential_off(): pass

@ragprobe.position(data="qa.jsonl", n_docs=10, max_drop=0.15)
def test_pos_data(): pass

@ragprobe.position(facts=FACTS, n_docs=5, positions=[0, 2, 4], max_drop=0.15)
def test_pos_facts(): pass

@ragprobe.position(data="qa.jsonl", n_docs=6, positions=[0, 5], distractors="retriever", max_drop=0.15)
def test_pos_retriever(): pass

@ragprobe.position(data="qa.jsonl", n_docs=4, context_tokens=60, max_drop=0.15)
def test_pos_tokens(): pass

@ragprobe.position(data="qa.jsonl", n_docs=10, max_drop=0.15, sequential=True)
def test_pos_sequential(): pass

@ragprobe.position(facts="synthetic:12", n_docs=4, max_drop=0.15)
def test_pos_synthetic(): pass
"""


def write_data(pytester: pytest.Pytester) -> None:
    rows = []
    for i in range(25):
        ctxs = [{"title": f"Item {i}", "text": f"The code of item {i} is Q{i}.", "isgold": True}]
        ctxs += [{"title": f"N{j}", "text": f"Note {j}.", "isgold": False} for j in range(12)]
        rows.append(json.dumps({"question": f"Code of item {i}?", "answers": [f"Q{i}"], "ctxs": ctxs}))
    (pytester.path / "qa.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    facts = ["facts:"]
    for i in range(20):
        facts += [
            f"  - forward: {{question: 'Which controller is compatible with pump P-{i}?', answer: C-{i}}}",
            f"    reverse: {{question: 'Which pump is compatible with controller C-{i}?', answer: P-{i}}}",
        ]
    (pytester.path / "facts.yaml").write_text("\n".join(facts) + "\n", encoding="utf-8")


def counted(pytester: pytest.Pytester) -> Counter[str]:
    """Pipeline calls per test name since the last call (the log is emptied)."""
    log = pytester.path / "calls.log"
    if not log.exists():
        return Counter()
    lines = log.read_text().splitlines()
    log.unlink()
    return Counter(line.split()[0] for line in lines)


def planned(lines: list[str]) -> dict[str, tuple[int, int]]:
    """The per-probe plan lines (-v): test name -> (fewest, most) calls."""
    out: dict[str, tuple[int, int]] = {}
    for line in lines:
        if line.startswith("  test_") and " calls = " in line:
            name = line.split("::")[1].split()[0]
            low, _, high = line.split("] ")[1].split()[0].partition("-")
            out[name] = (int(low), int(high or low))
    return out


# (fewest, most) calls by hand; the pipeline's own count must fall in between (equal the most when one figure)
COLD = {
    "test_rev_file": (40, 40),  # 20 facts x (forward + reverse)
    "test_rev_list_n": (24, 24),  # n=12 of 30 x 2
    "test_rev_synthetic": (21, 21),  # 10 x 2 + 1 index() of the fictitious facts
    "test_rev_sequential": (8, 60),  # 30 x 2; the first look (4 of 30 facts) x 2
    "test_rev_sequential_off": (40, 40),  # 20 x 2
    "test_pos_data": (125, 125),  # 25 questions x positions 0, 2, 4, 7, 9
    "test_pos_facts": (90, 90),  # 30 facts as questions x 3 positions
    "test_pos_retriever": (75, 75),  # 25 x (2 positions + 1 retrieve for the hard negatives)
    "test_pos_tokens": (100, 100),  # 25 x 4 positions (padding adds documents, not calls)
    "test_pos_sequential": (20, 125),  # 25 x 5; the first look (4 questions) x 5
    "test_pos_synthetic": (48, 48),  # 12 x 4 positions, no index(): contexts are handed to generate()
}
# --ragprobe-samples=6 --ragprobe-sequential: 6 items each, too few (< 8) for interim looks
SMALL = {
    "test_rev_file": 12, "test_rev_list_n": 12, "test_rev_synthetic": 13, "test_rev_sequential": 12,
    "test_rev_sequential_off": 12, "test_pos_data": 30, "test_pos_facts": 18, "test_pos_retriever": 18,
    "test_pos_tokens": 24, "test_pos_sequential": 30, "test_pos_synthetic": 24,
}


@pytest.mark.xdist_elsewhere  # under -n 2: the [xdist2] tests of this module and test_xdist_engine
def test_every_mark_configuration_makes_the_calls_its_plan_says(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makeconftest(COUNTING)
    pytester.makepyfile(test_configs=CONFIGURATIONS)
    write_data(pytester)
    result = pytester.runpytest(*plugin_args, "-v", "-p", "no:randomly", "--ragprobe-no-cache", "--ragprobe-report=r")
    assert planned(result.stdout.lines) == COLD
    seen = counted(pytester)
    for name, (low, high) in COLD.items():
        assert low <= seen[name] <= high, name
        if low == high:
            assert seen[name] == high, name
    # the report's calls: the engine's (the index() call is the probe's own, outside the engine)
    report = json.loads((pytester.path / "r" / "report.json").read_text())
    made = {p["nodeid"].split("::")[1]: p["calls"] for p in report["probes"]}
    assert made["test_rev_synthetic"] == 20
    assert all(p["verdict"] != "error" for p in report["probes"])
    assert {n: made[n] for n in COLD if n != "test_rev_synthetic"} == {
        n: seen[n] for n in COLD if n != "test_rev_synthetic"
    }

    result = pytester.runpytest(
        *plugin_args, "-v", "-p", "no:randomly", "--ragprobe-no-cache", "--ragprobe-samples=6",
        "--ragprobe-sequential",
    )
    assert planned(result.stdout.lines) == {name: (n, n) for name, n in SMALL.items()}
    assert counted(pytester) == Counter(SMALL)
    result.stdout.fnmatch_lines(["ragprobe plan: 11 probes, up to 205 pipeline calls (answer cache off)"])


FACTS_TESTS = """
import os
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(40)]
N = int(os.environ.get("FACTS", "10"))

@ragprobe.reverse(facts=FACTS[:N], max_drop=0.1)
def test_rev(): pass
"""


def probe(pytester: pytest.Pytester, report: str = "r") -> dict[str, object]:
    data = json.loads((pytester.path / report / "report.json").read_text())
    (only,) = data["probes"]
    assert isinstance(only, dict)
    return only


def test_retries_take_from_the_budget_and_the_plan_says_so(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """10 facts, 20 planned calls, each question's first request fails and is retried: a budget of 20 pays
    for 20 requests, never more, and ends the probe INCONCLUSIVE. Was: the plan said nothing (the budget
    "covered" the plan)."""
    pytester.makeconftest(COUNTING)
    pytester.makepyfile(test_budget_facts=FACTS_TESTS)
    monkeypatch.setenv("FLAKY", "1")
    result = pytester.runpytest(
        "-p", "no:xdist", "--ragprobe-no-cache", "--ragprobe-report=r", "--ragprobe-budget=20",
        "--ragprobe-retries=2", "--ragprobe-max-error-rate=1",
    )
    result.stdout.fnmatch_lines([
        "ragprobe plan: 1 probe, up to 20 pipeline calls (answer cache off)",
        "ragprobe plan: --ragprobe-budget=20 covers the 20 planned calls with 0 to spare for retries, which "
        "count against it too; a probe that runs out ends INCONCLUSIVE",
    ])
    assert counted(pytester) == Counter({"test_rev": 20})  # requests the pipeline got: the budget, no more
    rev = probe(pytester)
    assert rev["verdict"] == "inconclusive"
    assert str(rev["reason"]).startswith("pipeline call budget exhausted: ")
    assert rev["calls"] + rev["retries"] == 20  # type: ignore[operator]

    # a budget with room for every call's first retry: the probe finishes on 40 requests
    result = pytester.runpytest(
        "-p", "no:xdist", "--ragprobe-no-cache", "--ragprobe-report=r", "--ragprobe-budget=40",
        "--ragprobe-retries=2", "--ragprobe-max-error-rate=1",
    )
    assert "to spare for retries" in result.stdout.str()  # 20 to spare: fewer than 20 calls x 2 retries
    assert counted(pytester) == Counter({"test_rev": 40})
    assert (probe(pytester)["calls"], probe(pytester)["retries"]) == (20, 20)
    assert "budget" not in str(probe(pytester)["reason"])


def test_cached_answers_spend_no_budget(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm run makes no call and passes under --ragprobe-budget=1; a partly warm one spends the budget on
    the missing answers only (exactly them suffice)."""
    pytester.makeconftest(COUNTING)
    pytester.makepyfile(test_budget_facts=FACTS_TESTS)
    monkeypatch.setenv("FACTS", "20")
    pytester.runpytest("-p", "no:xdist", "--ragprobe-report=r")
    assert counted(pytester) == Counter({"test_rev": 40})
    # 30 facts: the first 20 are cached, 10 x 2 calls are new and the budget is exactly those
    monkeypatch.setenv("FACTS", "30")
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-report=r", "--ragprobe-budget=20")
    result.assert_outcomes(passed=1)
    assert counted(pytester) == Counter({"test_rev": 20})
    rev = probe(pytester)
    assert (rev["verdict"], rev["n"], rev["calls"], rev["cached_calls"]) == ("pass", 30, 20, 40)
    # all cached: nothing is spent, the verdict is the cold run's
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-report=r", "--ragprobe-budget=1")
    result.assert_outcomes(passed=1)
    assert counted(pytester) == Counter()
    rev = probe(pytester)
    assert (rev["verdict"], rev["n"], rev["calls"], rev["cached_calls"]) == ("pass", 30, 0, 60)


SYNTHETIC_TESTS = """
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="synthetic:10", max_drop=0.5)
def test_syn(): pass
"""


def test_the_index_call_of_synthetic_facts_is_outside_the_budget(pytester: pytest.Pytester) -> None:
    """As the README says: made on every run (warm too), counted in the plan apart from the budget."""
    pytester.makeconftest(COUNTING)
    pytester.makepyfile(test_syn=SYNTHETIC_TESTS)
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-report=r", "--ragprobe-budget=20")
    result.stdout.fnmatch_lines(["ragprobe plan: 1 probe, up to 21 pipeline calls (cached answers are free)"])
    assert "covers 20 of" not in result.stdout.str()  # 20 answers fit the budget: not flagged (was)
    assert counted(pytester) == Counter({"test_syn": 21})
    assert "budget" not in str(probe(pytester)["reason"])
    # without the probe's plan record the plan does not know what is cached (with it, see test_plan_cached)
    shutil.rmtree(pytester.path / ".ragprobe_cache" / "plans")
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-report=r", "--ragprobe-budget=10")
    result.stdout.fnmatch_lines([
        "ragprobe plan: --ragprobe-budget=10 covers 10 of up to 20 budgeted calls (not the 1 index call of "
        "synthetic facts); probes that run out end INCONCLUSIVE (a FAIL already shown stays)"
    ])
    assert counted(pytester) == Counter({"test_syn": 1})  # warm: only index()
    assert probe(pytester)["cached_calls"] == 20


XDIST_TESTS = """
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(20)]

@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_a(): pass

@ragprobe.reverse(facts=FACTS[:5], max_drop=0.1)
def test_c(): pass

@ragprobe.reverse(facts=FACTS, max_drop=0.1, seed=3)
def test_b(): pass
"""


def test_under_xdist_the_workers_of_one_machine_share_the_budget(pytester: pytest.Pytester) -> None:
    """40 + 40 + 10 calls under -n 2 with --ragprobe-budget=100. Was (fixed shares of 50): a worker that
    ran both 40s ran out while the other left 40 of its share unspent. Now the workers take from one pool:
    every call is made, and the plan has no share to warn about."""
    pytester.makeconftest(COUNTING)
    pytester.makepyfile(test_x=XDIST_TESTS)
    result = pytester.runpytest("-n", "2", "--ragprobe-no-cache", "--ragprobe-report=r", "--ragprobe-budget=100")
    result.stdout.fnmatch_lines(["ragprobe plan: 3 probes, up to 90 pipeline calls (answer cache off)"])
    assert "own share" not in result.stdout.str()
    assert counted(pytester) == Counter({"test_a": 40, "test_b": 40, "test_c": 10})
    report = json.loads((pytester.path / "r" / "report.json").read_text())
    assert [p for p in report["probes"] if "budget" in p["reason"]] == []
    # and the pool caps the run: 60 of the 90 calls, whichever worker makes them (with fixed shares of 30 a
    # worker could leave some unspent); the plan says the budget is short, names no share, and the probes
    # that ran out say so (this run also stands for test_xdist_engine's former
    # test_xdist_workers_take_from_one_budget, which checked the same with 4 probes and its own -n 2 session)
    result = pytester.runpytest("-n", "2", "--ragprobe-no-cache", "--ragprobe-report=r", "--ragprobe-budget=60")
    result.stdout.fnmatch_lines([
        "ragprobe plan: --ragprobe-budget=60 covers 60 of up to 90 calls; probes that run out end INCONCLUSIVE "
        "(a FAIL already shown stays)",
    ])
    assert "own share" not in result.stdout.str()
    assert sum(counted(pytester).values()) == 60
    report = json.loads((pytester.path / "r" / "report.json").read_text())
    assert sum(p["calls"] for p in report["probes"]) == 60
    assert any(p["verdict"] == "inconclusive" and "budget" in p["reason"] for p in report["probes"])


# A worker that cannot reach the controller's pool (on another machine): simulated by dropping it.
NO_POOL = """
import pytest

@pytest.hookimpl(trylast=True)
def pytest_configure_node(node):
    node.workerinput.pop("ragprobe_budget_pool", None)
"""


def test_under_xdist_a_worker_without_the_pool_spends_its_share_and_the_plan_warns(
    pytester: pytest.Pytester,
) -> None:
    """Without the pool each worker spends an even share (50 of 100): the plan says the probes that land on
    one worker may run out there, and names the budget that covers any split."""
    pytester.makeconftest(COUNTING + NO_POOL)
    pytester.makepyfile(test_x=XDIST_TESTS)
    result = pytester.runpytest("-n", "2", "--ragprobe-no-cache", "--ragprobe-report=r", "--ragprobe-budget=100")
    result.stdout.fnmatch_lines([
        "ragprobe plan: 3 probes, up to 90 pipeline calls (answer cache off)",
        "ragprobe plan: under 2 xdist workers each spends its own share of --ragprobe-budget=100 (about 50 "
        "calls) on all the probes it runs; they need up to 90, so the probes that land on one worker may run "
        "out there (--ragprobe-budget=180 covers any split)",
    ])
    assert sum(counted(pytester).values()) <= 100  # the shares add up to the budget
    result = pytester.runpytest("-n", "2", "--ragprobe-no-cache", "--ragprobe-report=r", "--ragprobe-budget=180")
    assert "covers any split" not in result.stdout.str()
    assert counted(pytester) == Counter({"test_a": 40, "test_b": 40, "test_c": 10})


def test_the_budget_help_says_what_it_counts(pytester: pytest.Pytester) -> None:
    text = " ".join(pytester.runpytest("--help").stdout.str().split())
    assert (
        "--ragprobe-budget=N Maximum real pipeline calls in this run, retries included, cached answers free "
        "(under xdist shared by the workers of one machine); probes left over end INCONCLUSIVE (a FAIL "
        "already shown stays)"
    ) in text
