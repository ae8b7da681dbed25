"""A question short of distractors says how far to lower n_docs, and, for a position probe on facts, that
more facts (not "distractors", which a facts file has no place for) give more: the other facts' statements
are its distractors. Was "lower n_docs or add distractors" for both."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ragprobe.contexts import DataError, parse_litm, plan_context
from pytest_ragprobe.position_probe import load_examples


def test_facts_short_of_distractors_say_add_facts(tmp_path: Path) -> None:
    path = tmp_path / "facts.yaml"
    path.write_text(
        "facts:\n"
        "  - {subject: P-1, relation: compatible_with, object: C-1}\n"
        "  - {subject: P-2, relation: compatible_with, object: C-2}\n"
        "  - {subject: P-3, relation: compatible_with, object: C-3}\n",
        encoding="utf-8",
    )
    examples, pool = load_examples(str(path), facts=True)
    with pytest.raises(DataError) as info:
        plan_context(examples[2], 10, seed=0, pool=pool)
    assert str(info.value) == (
        f"{path}: fact '2': question 'Which controller is compatible with pump P-3?' has only 2 usable "
        "distractor(s) (documents that contain an answer or repeat the gold passage are skipped) but "
        "n_docs=10 needs 9; lower n_docs to 3 or less, or add facts (the other facts' statements are the "
        "distractors)"
    )


def test_data_short_of_distractors_say_how_far_to_lower_n_docs() -> None:
    raw = {
        "question": "Q?",
        "answers": ["A1"],
        "ctxs": [
            {"title": "g", "text": "A1 is it.", "isgold": True},
            {"title": "d", "text": "Something else.", "isgold": False},
        ],
    }
    with pytest.raises(DataError) as info:
        plan_context(parse_litm(raw, "qa.jsonl: line 1"), 5, seed=0)
    assert str(info.value).endswith("but n_docs=5 needs 4; lower n_docs to 2 or less, or add distractors")
    raw["ctxs"] = raw["ctxs"][:1]  # no usable distractor at all: no n_docs (>= 2) fits
    with pytest.raises(DataError) as info:
        plan_context(parse_litm(raw, "qa.jsonl: line 1"), 2, seed=0)
    assert str(info.value).endswith("but n_docs=2 needs 1; add distractors")
