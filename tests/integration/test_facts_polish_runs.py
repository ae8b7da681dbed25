"""Facts as a pytest user meets them: joined files, n above what a file holds, the gold document of a
fact given as explicit questions."""

from __future__ import annotations

import pytest

CSV_A = "subject,relation,object\nP-1,compatible_with,C-1\nP-2,compatible_with,C-2\n"
CSV_B = "subject,relation,object\nP-3,compatible_with,C-3\np-1,compatible_with,c-1\n"
CSV_C = "subject,relation,object\nP-3,compatible_with,C-3\nP-4,compatible_with,C-4\n"


def test_joined_files_qualify_colliding_ids_and_name_both_files_of_a_duplicate(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    for name, text in (("a.csv", CSV_A), ("b.csv", CSV_B), ("c.csv", CSV_C)):
        (pytester.path / name).write_text(text, encoding="utf-8")
    pytester.makepyfile(
        test_joined="""
import pytest
import pytest_ragprobe as ragprobe
from pytest_ragprobe.facts import FactsError

def answer(question):
    tail = question.rstrip("?").rsplit(" ", 1)[1]
    return tail.replace("P-", "C-") if "pump P-" in question else tail.replace("C-", "P-")

def test_two_files(ragprobe_fact_pairs):
    pairs = ragprobe_fact_pairs("a.csv") + ragprobe_fact_pairs("c.csv")
    result = ragprobe.check_reverse(answer, pairs, max_drop=0.5)
    assert sorted({e["id"] for e in result.examples}) == ["a.csv:0", "a.csv:1", "c.csv:0", "c.csv:1"]

def test_the_same_fact_in_another_case(ragprobe_fact_pairs):
    by_id = lambda p: p.id  # (the fixture returns a seeded shuffle)
    pairs = sorted(ragprobe_fact_pairs("a.csv"), key=by_id) + sorted(ragprobe_fact_pairs("b.csv"), key=by_id)
    ragprobe.check_reverse(answer, pairs, max_drop=0.5)
"""
    )
    result = pytester.runpytest("-p", "no:randomly", *plugin_args)
    result.assert_outcomes(passed=1, failed=1)
    a, b = pytester.path / "a.csv", pytester.path / "b.csv"
    result.stdout.fnmatch_lines(
        [
            f"*FactsError: facts list: pairs[[]3[]] (id '1' of {b}) is a duplicate of pairs[[]0[]] (id '0' of "
            f"{a}): the same (apart from case and spacing) forward and reverse questions; a fact listed twice "
            "is counted twice, so remove one"
        ]
    )


def test_the_fact_pairs_fixture_warns_when_n_is_more_than_the_file_holds(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    rows = "".join(f"P-{i},compatible_with,C-{i}\n" for i in range(7))
    (pytester.path / "seven.csv").write_text("subject,relation,object\n" + rows, encoding="utf-8")
    shared = "".join(f"P-{i},compatible_with,C-{i // 2}\n" for i in range(6))
    (pytester.path / "shared.csv").write_text("subject,relation,object\n" + shared, encoding="utf-8")
    pytester.makepyfile(
        test_n="""
def test_seven(ragprobe_fact_pairs):
    assert len(ragprobe_fact_pairs("seven.csv", n=50)) == 7

def test_shared(ragprobe_fact_pairs):
    assert len(ragprobe_fact_pairs("shared.csv", n=5)) == 3

def test_enough(ragprobe_fact_pairs):
    assert len(ragprobe_fact_pairs("seven.csv", n=7)) == 7
"""
    )
    result = pytester.runpytest("-p", "no:randomly", *plugin_args)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*test_n.py::test_seven",
            "*test_n.py:2: RagprobeWarning: ragprobe_fact_pairs: n=50 asked for, but the facts hold only "
            "7 facts: returning all 7",
            "*test_n.py::test_shared",
            "*test_n.py:5: RagprobeWarning: ragprobe_fact_pairs: n=5 asked for, but the facts hold only "
            "3 facts with questions of their own: returning all 3",
        ]
    )
    assert "test_enough" not in result.stdout.str()
    assert result.stdout.str().count("RagprobeWarning") == 2


def test_a_position_probe_on_explicit_questions_uses_question_and_answer_as_the_gold_document(
    pytester: pytest.Pytester,
) -> None:
    # A fact given as explicit questions has no template to state it: without its own `statement`, its
    # gold document is the forward question followed by its first answer (README, Facts and data files).
    lines = ["facts:"]
    for i in range(6):
        lines += [
            f"  - forward: {{question: 'Which controller fits P-{i}?', answer: [C-{i}, controller {i}]}}",
            f"    reverse: {{question: 'Which pump fits C-{i}?', answer: P-{i}}}",
        ]
    lines += [
        "  - forward: {question: 'Which controller fits P-9?', answer: C-9}",
        "    reverse: {question: 'Which pump fits C-9?', answer: P-9}",
        "    statement: Pump P-9 runs with controller C-9.",
    ]
    (pytester.path / "explicit.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pytester.makeconftest(
        """
import pytest
import pytest_ragprobe as ragprobe

GOLD = {}

def generate(question, documents):
    subject = question.rstrip("?").rsplit(" ", 1)[1]
    GOLD.setdefault(subject, set()).update(d.text for d in documents if subject + "?" in d.text or subject + " " in d.text)
    return subject.replace("P-", "C-")

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.Pipeline(answer=lambda q: "", generate=generate)
"""
    )
    pytester.makepyfile(
        test_gold="""
import pytest_ragprobe as ragprobe
from conftest import GOLD

@ragprobe.position(facts="explicit.yaml", n_docs=3, positions=[0, 2], max_drop=0.5)
def test_positions(ragprobe_result):
    assert ragprobe_result.n == 7

def test_gold_documents():
    assert GOLD["P-0"] == {"Which controller fits P-0? C-0."}
    assert GOLD["P-9"] == {"Pump P-9 runs with controller C-9."}
"""
    )
    pytester.runpytest("-p", "no:randomly", "--ragprobe-no-cache").assert_outcomes(passed=2)
