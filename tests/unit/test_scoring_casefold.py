"""Scoring folds case as facts fold questions (``question_key``: str.casefold): "STRASSE" is "Straße" and
"ΟΔΟΣ" is "οδός", where str.lower kept "ß" and a final "ς" apart from "ss" and "σ". Facts that differ
only in such case were already one fact; their answers were still scored apart."""

from __future__ import annotations

from pytest_ragprobe.facts import question_key
from pytest_ragprobe.scoring import match_contains, match_exact, normalize


def test_case_is_folded_fully() -> None:
    assert match_exact("STRASSE", ["Straße"])
    assert match_contains("The depot is at Hauptstraße 5.", ["HAUPTSTRASSE 5"])
    assert match_exact("ΟΔΟΣ", ["οδός"])
    assert normalize("Maße") == "masse"


def test_scoring_and_question_keys_fold_case_alike() -> None:
    for a, b in [("Straße", "STRASSE"), ("ΟΔΟΣ", "οδος"), ("Ǆ", "ǆ")]:
        assert (question_key(a) == question_key(b)) == match_exact(a, [b]), (a, b)
