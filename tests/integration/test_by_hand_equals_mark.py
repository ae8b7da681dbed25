"""The README's promise for hand-written tests: ``check_reverse(pipeline, ragprobe_fact_pairs(facts, n, seed),
seed=seed)`` probes as ``@ragprobe.reverse(facts=facts, n=n, seed=seed)`` does, and ``check_position`` as
``@ragprobe.position``: the same explain() text, also under ``--ragprobe-samples``, which caps the marks'
sample and, now, the fixture's too (it returned every fact, and a check with an explicit n sampled the cap
again from those: other facts, other notes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CONFTEST = """
import re
import pytest
import pytest_ragprobe as ragprobe

def answer(question):
    i = int(re.search(r"-(\\d+)", question).group(1))
    if "compatible with pump" in question:
        return f"C-{i}"
    return f"P-{i}" if i % 3 else "no idea"        # a third of the reverse questions missed

def generate(question, documents):                 # reads the context's ends only: lost in the middle
    i = re.search(r"item (\\d+)", question).group(1)
    for doc in (documents[0], documents[-1]):
        if f"item {i} is" in doc.text:
            return f"K{i}Z"
    return "unknown"

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.Pipeline(answer=answer, generate=generate)
"""

TESTS = """
from pathlib import Path
import pytest_ragprobe as ragprobe

OUT = Path(__file__).parent / "out"
OUT.mkdir(exist_ok=True)

def keep(name, result):
    (OUT / f"{name}.txt").write_text(result.explain(), encoding="utf-8")

@ragprobe.reverse(facts="parts.yaml", max_drop=0.1, seed=3)
def test_mark(ragprobe_result):
    keep("mark", ragprobe_result)

def test_hand(ragprobe_fact_pairs, ragprobe_pipeline):
    pairs = ragprobe_fact_pairs("parts.yaml", seed=3)
    (OUT / "hand_len.txt").write_text(str(len(pairs)))
    keep("hand", ragprobe.check_reverse(ragprobe_pipeline, pairs, max_drop=0.1, seed=3))

@ragprobe.reverse(facts="parts.yaml", max_drop=0.1, seed=3, n=20)
def test_mark_n(ragprobe_result):
    keep("mark_n", ragprobe_result)

def test_hand_n(ragprobe_fact_pairs, ragprobe_pipeline):
    pairs = ragprobe_fact_pairs("parts.yaml", n=20, seed=3)
    (OUT / "hand_n_len.txt").write_text(str(len(pairs)))
    keep("hand_n", ragprobe.check_reverse(ragprobe_pipeline, pairs, max_drop=0.1, seed=3))

@ragprobe.position(data="qa.jsonl", n_docs=5, positions=[0, 2, 4], seed=3, max_drop=0.1)
def test_position_mark(ragprobe_result):
    keep("position_mark", ragprobe_result)

def test_position_hand(ragprobe_pipeline):
    keep("position_hand", ragprobe.check_position(
        ragprobe_pipeline, "qa.jsonl", n_docs=5, positions=[0, 2, 4], seed=3, max_drop=0.1
    ))
"""


def _project(pytester: pytest.Pytester) -> Path:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_probes=TESTS)
    facts = "".join(f"  - {{subject: P-{i}, relation: compatible_with, object: C-{i}}}\n" for i in range(30))
    (pytester.path / "parts.yaml").write_text("facts:\n" + facts, encoding="utf-8")
    rows = []
    for i in range(20):
        ctxs = [{"title": f"Item {i}", "text": f"The code of item {i} is K{i}Z.", "isgold": True}]
        ctxs += [{"title": f"Shelf {i}-{j}", "text": f"Shelf {j} holds spare parts.", "isgold": False} for j in range(6)]
        rows.append(json.dumps({"question": f"What is the code of item {i}?", "answers": [f"K{i}Z"], "ctxs": ctxs}))
    (pytester.path / "qa.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return pytester.path / "out"


@pytest.mark.parametrize("cap", [8, None], ids=["capped", "uncapped"])
def test_a_check_by_hand_explains_as_the_mark(pytester: pytest.Pytester, plugin_args: list[str], cap: int | None) -> None:
    out = _project(pytester)
    samples = [] if cap is None else [f"--ragprobe-samples={cap}"]
    result = pytester.runpytest(*plugin_args, "--ragprobe-no-cache", *samples)
    assert result.parseoutcomes().get("passed", 0) >= 3  # the by-hand tests (marks may FAIL)

    def text(name: str) -> str:
        return (out / f"{name}.txt").read_text(encoding="utf-8")

    # the fixture caps as the mark does: at the cap, or at n when it is below the cap
    assert (text("hand_len"), text("hand_n_len")) == ((str(cap), str(cap)) if cap else ("30", "20"))
    for mark, hand in [("mark", "hand"), ("mark_n", "hand_n"), ("position_mark", "position_hand")]:
        assert text(hand) == text(mark), mark
    if cap is not None:
        assert f"--ragprobe-samples={cap} capped the sample at {cap} facts (all 30 without it)" in text("hand")
        assert f"--ragprobe-samples={cap} capped the sample at {cap} facts (n=20 without it)" in text("hand_n")
        assert f"--ragprobe-samples={cap} capped the sample at {cap} questions" in text("position_hand")
