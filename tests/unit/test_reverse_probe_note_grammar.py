"""The sample-size notes say "1 fact" / "1 question", not "1 facts" / "1 questions"."""

from __future__ import annotations

from pytest_ragprobe.reverse_probe import floor_out_of_reach, sample_size_notes, undecidable_note


def test_undecidable_note_with_one_item_is_singular() -> None:
    assert undecidable_note(1, "facts", 0.1, 0.95) == (
        "with 1 fact no run can PASS at max_drop 0.10: even if every answer agreed, a PASS needs at least "
        "29 facts (at 95%; more when some disagree)"
    )
    assert undecidable_note(1, "distinct questions", 0.1, 0.95, estimate="E").startswith(
        "with 1 distinct question no run can PASS at max_drop 0.10: the minimum for a PASS is 29 distinct "
        "questions, "
    )
    assert undecidable_note(2, "facts", 0.1, 0.95).startswith("with 2 facts no run")


def test_about_one_more_is_singular() -> None:
    assert sample_size_notes(1, 40, 100, "questions", 0.1, 0.95) == [
        "about 1 more question (41 in all) would likely decide this (a rough estimate from the rates seen "
        "so far)"
    ]
    assert sample_size_notes(2, 40, 100, "facts", 0.1, 0.95)[0].startswith("about 2 more facts (42 in all)")


def test_floor_out_of_reach_with_one_item_is_singular() -> None:
    assert floor_out_of_reach(1, "questions", 0.9, 0.95) == (
        ": with 1 question no run can show it, even with every answer right it takes at least 29 questions "
        "(at 95%)"
    )
