"""@ragprobe.position through pytest (pytester): verdicts, report.json figures, error messages."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

N_QUESTIONS = 200
EDGE, MIDDLE = 0.9, 0.5

# A simulated reader with known per-position accuracy: it finds the gold document in the context and is
# right with probability EDGE when the gold is first or last, MIDDLE otherwise, deterministically per
# (question, index) through a seeded hash. FLAT: right 80% of the time, by question only (no position
# effect at all).
CONFTEST = """
import hashlib, re
import pytest
import pytest_ragprobe as ragprobe

EDGE, MIDDLE, FLAT = {edge}, {middle}, {flat}


def unit(*parts):
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return int(digest[:12], 16) / 16**12


def generate(question, documents):
    item = re.search(r"item (\\d+)", question).group(1)
    idx, answer = -1, ""
    for i, d in enumerate(documents):
        m = re.search(rf"code of item {{item}} is (\\w+)", d.text)
        if m:
            idx, answer = i, m.group(1)
    if FLAT:
        p, u = 0.8, unit("sim", question)
    else:
        p = EDGE if idx in (0, len(documents) - 1) else MIDDLE
        u = unit("sim", question, idx)
    return answer if u < p else "I do not know"


@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return {pipeline}
"""


def qa_lines(n: int = N_QUESTIONS, n_distractors: int = 12) -> str:
    lines = []
    for i in range(n):
        ctxs = [{"title": f"Item {i}", "text": f"The code of item {i} is Q{i}X.", "isgold": True}]
        ctxs += [
            {"title": f"Note {i}.{j}", "text": f"Shelf note {j} for aisle {i}.", "isgold": False}
            for j in range(n_distractors)
        ]
        lines.append(
            json.dumps({"question": f"What is the code of item {i}?", "answers": [f"Q{i}X"], "ctxs": ctxs})
        )
    return "\n".join(lines) + "\n"


TEST_FILE = """
import pytest_ragprobe as ragprobe

@ragprobe.position(data="qa.jsonl", n_docs=10, max_drop=0.15)
def test_mid_context(ragprobe_result):
    assert ragprobe_result.kind == "position"
"""


def setup(
    pytester: pytest.Pytester,
    *,
    flat: bool = False,
    pipeline: str = "ragprobe.Pipeline(generate=generate, name='sim-reader')",
    test: str = TEST_FILE,
    n_questions: int = N_QUESTIONS,
) -> None:
    pytester.makeconftest(CONFTEST.format(edge=EDGE, middle=MIDDLE, flat=flat, pipeline=pipeline))
    (pytester.path / "qa.jsonl").write_text(qa_lines(n_questions), encoding="utf-8")
    pytester.makepyfile(test_probe=test)


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, object]]:
    report_dir = pytester.path / "rp"
    result = pytester.runpytest("--ragprobe-no-cache", f"--ragprobe-report={report_dir}", *args)
    path = report_dir / "report.json"
    report = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return result, report


def test_u_shaped_reader_fails_and_report_matches_simulation(pytester: pytest.Pytester) -> None:
    setup(pytester)
    result, report = run(pytester)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "ragprobe position probe FAIL" in out
    assert "right at an edge and wrong in the middle" in out and "<- worst" in out
    (probe,) = report["probes"]  # type: ignore[index]
    assert probe["kind"] == "position" and probe["verdict"] == "fail" and probe["n"] == N_QUESTIONS
    metrics = probe["metrics"]
    acc = {int(k): v for k, v in metrics["accuracy_by_position"].items()}
    assert sorted(acc) == [0, 2, 4, 7, 9]
    for pos, value in acc.items():
        truth = EDGE if pos in (0, 9) else MIDDLE
        tolerance = 3 * math.sqrt(truth * (1 - truth) / N_QUESTIONS)
        assert abs(value - truth) <= tolerance, (pos, value, truth, tolerance)
    print("measured accuracy by position:", acc, "drop", metrics["drop"], "drop_ci", metrics["drop_ci"])
    assert metrics["drop_ci"][0] > 0.15
    assert set(metrics) >= {"ci_by_position", "drop", "p_value", "best_edge", "worst_position", "shape"}
    assert probe["calls"] == 5 * N_QUESTIONS
    ex = probe["examples"][0]
    assert ex["edge_correct"] and ex["correct"] is False and ex["position"] not in (0, 9)


def test_position_independent_reader_passes(pytester: pytest.Pytester) -> None:
    setup(pytester, flat=True)
    result, report = run(pytester)
    result.assert_outcomes(passed=1)
    (probe,) = report["probes"]  # type: ignore[index]
    assert probe["verdict"] == "pass" and probe["metrics"]["drop"] == 0.0


def test_pipeline_without_generate_is_an_error_naming_the_fix(pytester: pytest.Pytester) -> None:
    setup(pytester, pipeline="lambda question: 'no idea'")
    result, report = run(pytester)
    result.assert_outcomes(errors=1)  # a probe that cannot run is a test error, not a failure
    out = result.stdout.str()
    assert "`generate`" in out and "ragprobe.Pipeline(answer=my_answer, generate=my_generate)" in out
    (probe,) = report["probes"]  # type: ignore[index]
    assert probe["verdict"] == "error"


def test_malformed_data_errors_name_file_and_line(pytester: pytest.Pytester) -> None:
    setup(pytester)
    lines = qa_lines(5).splitlines()
    broken = json.loads(lines[2])
    broken["ctxs"][3]["isgold"] = True
    lines[2] = json.dumps(broken)
    (pytester.path / "two_golds.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (pytester.path / "bad_json.jsonl").write_text(lines[0] + "\n{oops\n", encoding="utf-8")
    pytester.makepyfile(
        test_bad="""
import pytest_ragprobe as ragprobe

@ragprobe.position(data="two_golds.jsonl", n_docs=5)
def test_two_golds(ragprobe_result):
    pass

@ragprobe.position(data="bad_json.jsonl", n_docs=5)
def test_bad_json(ragprobe_result):
    pass
"""
    )
    result, _ = run(pytester, "test_bad.py")
    result.assert_outcomes(errors=2)
    out = result.stdout.str()
    assert "two_golds.jsonl: line 3: 2 gold documents" in out
    assert "bad_json.jsonl: line 2: invalid JSON" in out


def test_contexts_fixture_places_gold(pytester: pytest.Pytester) -> None:
    setup(
        pytester,
        test="""
import json
import pytest

def test_contexts(ragprobe_contexts):
    example = json.loads(open("qa.jsonl").readline())
    gold = example["ctxs"][0]["text"]
    seen = []
    for position, docs in ragprobe_contexts(example, 6, [0, 3, 5]):
        assert len(docs) == 6 and docs[position].text == gold
        seen.append([d.text for i, d in enumerate(docs) if i != position])
    assert seen[0] == seen[1] == seen[2]

def test_default_positions(ragprobe_contexts):
    # positions left out: the mark's default, first / quartiles / last
    example = json.loads(open("qa.jsonl").readline())
    assert [p for p, _ in ragprobe_contexts(example, 10)] == [0, 2, 4, 7, 9]

def test_ill_typed_n_docs(ragprobe_contexts):
    # was a TypeError from inside the plugin (str - int) when positions were left out
    example = json.loads(open("qa.jsonl").readline())
    # named as its seed is (it said "n_docs must be an int >= 2, got '10'", from contexts_for)
    for bad, problem in [("10", "must be an int, got str '10'"), (None, "must be an int, got NoneType None"),
                         (1, "must be >= 2, got 1")]:
        with pytest.raises(TypeError, match=f"^ragprobe_contexts: argument 'n_docs' {problem}$"):
            ragprobe_contexts(example, bad)
    # seeded other contexts than seed=1 without a word; checked as ragprobe_fact_pairs checks it
    for bad, problem in [("1", "must be an int, got str '1'"), (-1, "must be >= 0, got -1")]:
        with pytest.raises(TypeError, match=f"^ragprobe_contexts: argument 'seed' {problem}$"):
            ragprobe_contexts(example, 10, seed=bad)
""",
    )
    result, _ = run(pytester)
    result.assert_outcomes(passed=3)


def test_check_position_api_matches_mark(pytester: pytest.Pytester, tmp_path: Path) -> None:
    setup(
        pytester,
        test="""
import pytest, pytest_ragprobe as ragprobe

def test_direct(ragprobe_pipeline):
    result = ragprobe.check_position(ragprobe_pipeline, "qa.jsonl", n_docs=10, max_drop=0.15)
    assert result.verdict == "fail"
    with pytest.raises(ragprobe.ProbeFailed, match="worst position"):
        result.assert_ok()
""",
    )
    result, _ = run(pytester)
    result.assert_outcomes(passed=1)


def test_sequential_option_and_mark_stop_clear_cases_early(pytester: pytest.Pytester) -> None:
    """--ragprobe-sequential: a reader with no position effect (every question right or wrong at
    all positions alike: no discordant pair) PASSes at the third of 8 looks, 38 of 100 questions
    (with none discordant, the LR bound at 25 questions is not yet below max_drop 0.15 at that
    look's cut, at 38 it is). sequential=True on the mark: the U-shaped reader FAILs after 63 of its
    100 questions. (100 questions, not 200: the cold exact tables for 200 cost ~45 s per pass.)"""
    setup(pytester, flat=True, n_questions=100)
    result, report = run(pytester, "--ragprobe-sequential")
    result.assert_outcomes(passed=1)
    (probe,) = report["probes"]  # type: ignore[index]
    assert probe["verdict"] == "pass" and probe["n"] == 38 and probe["calls"] == 5 * 38
    assert any("sequential stopping: decided after 38 of 100" in n for n in probe["notes"])

    test = TEST_FILE.replace("max_drop=0.15)", "max_drop=0.15, sequential=True)")
    setup(pytester, test=test, n_questions=100)
    result, report = run(pytester)
    result.assert_outcomes(failed=1)
    (probe,) = report["probes"]  # type: ignore[index]
    # drop 0.4 (edges 0.9, middle 0.5): decided at the fifth look (position comparisons' FAIL side
    # spends late: HSD -8)
    assert probe["verdict"] == "fail" and probe["n"] == 63 and probe["calls"] == 5 * 63
