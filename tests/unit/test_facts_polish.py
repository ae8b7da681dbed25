"""Facts rough edges: ragprobe_fact_pairs' n above what the facts hold, and the gold document of a fact
given as explicit questions (joined files and case-only duplicates: tests/unit/test_facts.py)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import pytest_ragprobe as ragprobe
from pytest_ragprobe.contexts import example_from_pair
from pytest_ragprobe.facts import load_facts_file


def csv_file(tmp_path: Path, name: str, rows: list[tuple[str, str]]) -> Path:
    path = tmp_path / name
    lines = ["subject,relation,object", *(f"{s},compatible_with,{o}" for s, o in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_fact_pairs_warn_in_the_probes_words_when_n_is_more_than_the_facts_hold(
    tmp_path: Path, ragprobe_fact_pairs: Callable[..., list[Any]]
) -> None:
    seven = csv_file(tmp_path, "seven.csv", [(f"P-{i}", f"C-{i}") for i in range(7)])
    with pytest.warns(ragprobe.RagprobeWarning) as record:
        pairs = ragprobe_fact_pairs(seven, n=50)
    assert len(pairs) == 7
    assert [str(w.message) for w in record] == [
        "ragprobe_fact_pairs: n=50 asked for, but the facts hold only 7 facts: returning all 7"
    ]
    assert record[0].filename == __file__  # the user's line, not the plugin's
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(ragprobe_fact_pairs(seven, n=7)) == 7
        assert len(ragprobe_fact_pairs(seven)) == 7


def test_fact_pairs_count_facts_with_questions_of_their_own(
    tmp_path: Path, ragprobe_fact_pairs: Callable[..., list[Any]]
) -> None:
    # six pumps, two per controller: three facts can be asked with questions of their own
    shared = csv_file(tmp_path, "shared.csv", [(f"P-{i}", f"C-{i // 2}") for i in range(6)])
    with pytest.warns(ragprobe.RagprobeWarning) as record:
        assert len(ragprobe_fact_pairs(shared, n=4)) == 3
    assert [str(w.message) for w in record] == [
        "ragprobe_fact_pairs: n=4 asked for, but the facts hold only 3 facts with questions of their own: "
        "returning all 3"
    ]


def test_an_explicit_fact_without_a_statement_is_documented_by_its_forward_question_and_answer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "explicit.yaml"
    path.write_text(
        "facts:\n"
        "  - forward: {question: 'Which controller fits P-200?', answer: [C-17, controller 17]}\n"
        "    reverse: {question: 'Which pump fits C-17?', answer: P-200}\n"
        "  - forward: {question: 'Which controller fits P-300?', answer: C-18}\n"
        "    reverse: {question: 'Which pump fits C-18?', answer: P-300}\n"
        "    statement: Pump P-300 runs with controller C-18.\n",
        encoding="utf-8",
    )
    plain, stated = load_facts_file(path)
    assert plain.statement == "Which controller fits P-200? C-17."  # the first answer only
    assert stated.statement == "Pump P-300 runs with controller C-18."
    example = example_from_pair(plain)
    assert (example.question, example.gold.text, example.answers) == (
        "Which controller fits P-200?",
        "Which controller fits P-200? C-17.",
        ("C-17", "controller 17"),
    )
    assert example_from_pair(stated).gold.text == "Pump P-300 runs with controller C-18."
