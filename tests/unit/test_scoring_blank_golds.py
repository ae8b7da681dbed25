"""An accepted answer of punctuation or symbols only ("?", "%", "—") normalises to nothing: under
match="contains" no answer could match it, and under match="exact" an empty answer (or "N/A!") did,
scored right. Refused before any pipeline call, as an invalid regex is under match="regex": under "exact"
any such alias, under "contains" when every alias of a question is one (one beside others is harmless)."""

from __future__ import annotations

import pytest

from pytest_ragprobe.scoring import MatchError, check_patterns, match_exact

WHERE = "fact '3', forward question 'Which sign means percent?'"


def test_exact_scored_an_empty_answer_right() -> None:
    assert match_exact("", ["%"])  # why it is refused: normalised, both are ""


@pytest.mark.parametrize(
    ("spec", "would"),
    [
        ("exact", "would match any answer of punctuation only (an empty one too)"),
        ("contains", "would match no answer"),
    ],
)
def test_a_gold_without_letters_or_digits_is_refused(spec: str, would: str) -> None:
    golds = ["per cent", "%"] if spec == "exact" else ["%", "?"]
    with pytest.raises(MatchError) as info:
        check_patterns(spec, [(["percent"], "fact '2', forward question 'Q?'"), (golds, WHERE)])
    assert str(info.value) == (
        f"match={spec!r}: accepted answer '%' of {WHERE} is punctuation only: scoring drops punctuation, so "
        f"it {would}; write it in words, or score it with match='regex' or a callable"
    )


def test_regex_and_callables_are_not_checked_so() -> None:
    check_patterns("regex", [(["%"], WHERE)])
    check_patterns(lambda answer, golds: answer in golds, [(["%"], WHERE)])
    check_patterns("exact", [(["C++", "-20", "A"], WHERE)])  # kept by scoring: fine
    check_patterns("contains", [(["per cent", "%"], WHERE)])  # "%" never matches, "per cent" still can
