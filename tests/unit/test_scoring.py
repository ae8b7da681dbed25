"""scoring.py: normalisation and the four match modes."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from pytest_ragprobe.scoring import (
    MATCH_MODES,
    MatchError,
    MatchSpec,
    get_matcher,
    match_contains,
    match_exact,
    match_regex,
    matcher_name,
    normalize,
    score,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hello World", "hello world"),
        ("  many   spaces\tand\nlines ", "many spaces and lines"),
        ("The Quiet Sea", "quiet sea"),
        ("a cat, an owl and the dog", "cat owl and dog"),
        ("theme anthem", "theme anthem"),  # articles only as whole words
        ("Hello, world! (really?)", "hello world really"),
        ("P-200", "p 200"),
        ("p 200", "p 200"),
        ("P/200_b", "p 200 b"),
        ("Café Crème", "cafe creme"),
        ("Ångström naïve Zoë", "angstrom naive zoe"),
        ("“Quoted” ‘text’ – dash — long", "quoted text dash long"),
        ("O'Brien's", "obriens"),
        ("", ""),
        ("The", "the"),  # nothing follows it: not an article (a text never normalises to nothing)
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "answer",
    [
        "P\u2011200",  # non-breaking hyphen (a model's favourite)
        "P\u2010200",  # hyphen
        "P\u2013200",  # en dash: was dropped, "p200"
        "P\u2212200",  # minus sign
        "\u00abP-200\u00bb",  # guillemets: were kept
        "P-200\u3002",  # ideographic full stop
        "P-\u200b200",  # zero-width space
    ],
)
def test_unicode_dashes_and_punctuation_fold_like_ascii(answer: str) -> None:
    """A correct answer spelled with a Unicode hyphen or punctuation scored wrong under every mode."""
    assert normalize(answer) == "p 200"
    assert match_contains(f"It is {answer}.", ["P-200"]) and match_exact(answer, ["P-200"])


def test_a_decimal_point_is_not_dropped() -> None:
    """"1.50" normalised to "150": a price, a version or a measure matched another number."""
    assert normalize("It costs 1.50.") == "it costs 1.50"
    assert not match_exact("150", ["1.50"]) and not match_exact("v11.0", ["v1.10"])
    assert match_contains("Version 1.10 fits.", ["v1.10", "1.10"]) and match_exact("1,000", ["1000"])


def test_normalize_hyphen_and_space_spellings_agree() -> None:
    assert normalize("P-200") == normalize("p 200") == normalize("P 200") == normalize("p/200")


def test_contains_whole_words() -> None:
    assert match_contains("It is C-17.", ["C-17"])
    assert match_contains("the controller is c 17", ["C-17"])
    assert not match_contains("It is C-17.", ["C-1"])
    assert not match_contains("C-17", ["C-1"])
    assert not match_contains("P-2000", ["P-200"])
    assert not match_contains("Tomcat", ["Tom"])
    assert match_contains("Mary Lee South, I believe.", ["Mary Lee Pfeiffer", "Mary Lee South"])
    assert match_contains("CAFÉ crème!", ["cafe creme"])
    assert match_contains("Pump P-200 fits.", ["p 200"])


def test_contains_ignores_empty_and_article_only_golds() -> None:
    assert not match_contains("anything at all", [""])
    assert not match_contains("the answer", ["The"])
    assert not match_contains("anything", [])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("A-17", "a 17"),  # was "17": the hyphen made "a" a word, then it was removed as an article
        ("AN-225", "an 225"),
        ("The-Dream", "the dream"),
        ("Plan A", "plan a"),  # a last "a" precedes no noun: a letter
        ("A", "a"),
        ("an", "an"),
        ("The answer is A.", "answer is a"),
        ("Type A blood", "type a blood"),  # a capital "A" right after a word: a letter
        ("C++", "c++"),
        ("C#", "c#"),
        ("A+", "a+"),
    ],
)
def test_normalize_keeps_letters_that_look_like_articles(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_articles_are_whole_words_of_the_text_before_a_word() -> None:
    # identifiers no longer collapse into each other
    assert not match_contains("It is C-17", ["A-17"])
    assert not match_contains("B-1", ["A-1"])
    assert not match_contains("Plan B", ["Plan A"])
    assert not match_contains("Type B blood", ["Type A"])
    assert not match_contains("Vitamin C", ["Vitamin A"])
    assert not match_contains("We plan a trip", ["Plan A"])  # lower-case "a" before a word: an article
    assert match_contains("It is A-17.", ["a 17"])
    assert match_contains("Type A blood, I think.", ["Type A"])
    assert match_contains("Option A is right", ["option a"])
    # articles are still removed wherever they were words of the text
    assert normalize("“The Quiet Sea” (the cat)") == "quiet sea cat"
    assert normalize("the a cat\nTHE DOG") == "cat dog"
    assert normalize("A cat. A dog") == "cat dog"  # sentence-initial
    assert normalize("end.  A cat") == "end cat"
    assert normalize("It's A Tale of Two Cities") == normalize("it's a tale of Two Cities")
    assert match_contains("Once Upon A Time in Hollywood", ["Once upon a time in Hollywood"])  # title case
    assert match_exact("The Quiet Sea.", ["a quiet sea"])


def test_a_gold_that_is_only_an_article_keeps_its_content() -> None:
    assert match_contains("A", ["A"])
    assert match_contains("The answer is A.", ["A"])
    assert match_contains("(A) Paris", ["a"])
    assert match_exact("a", ["A"])
    assert not match_contains("It is a cat.", ["A"])
    assert not match_contains("the answer", ["The"])
    assert match_contains("The", ["the"])


def test_plus_and_hash_suffixes_are_part_of_the_word() -> None:
    assert not match_contains("C++", ["C"])
    assert not match_contains("I would use C#.", ["C"])
    assert not match_contains("A+", ["A"])
    assert match_contains("I would use C++.", ["c++"])
    assert match_contains("Written in F#, mostly", ["F#"])
    # elsewhere "+" and "#" are dropped like other punctuation
    assert normalize("#1 hit, 1+1, C++11") == "1 hit 11 c11"
    assert match_contains("1,000", ["1000"])
    assert not match_contains("P200", ["P-200"])  # a hyphen separates; a missing one does not


def test_the_other_users_of_the_normaliser_follow() -> None:
    """Miss attribution (reverse) and distractor filtering (position) use the same whole-word rule."""
    from pytest_ragprobe.contexts import answers_in
    from pytest_ragprobe.facts import Fact, build_pairs
    from pytest_ragprobe.reverse_probe import attribute_miss
    from pytest_ragprobe.types import Answer, Document

    pair = build_pairs([Fact(subject="P-200", relation="compatible_with", object="A-17")])[0]
    other = Document("The P-200 pump is compatible with the C-17 controller.")
    gold = Document("The P-200 pump is compatible with the A-17 controller.")
    assert attribute_miss(pair, Answer("C-17", documents=[other])) == "retrieval"  # was "reading"
    assert attribute_miss(pair, Answer("C-17", documents=[other, gold])) == "reading"
    assert not answers_in(Document("Plan B is the fallback."), ["Plan A"])  # was skipped as a gold holder
    assert answers_in(Document("Plan A is the plan."), ["Plan A"])


def test_exact() -> None:
    assert match_exact("The Quiet Sea.", ["quiet sea"])
    assert match_exact("P 200", ["P-200"])
    assert not match_exact("It is C-17", ["C-17"])
    assert match_exact("no", ["yes", "No!"])
    assert not match_exact("anything", [])


def test_regex_searches_raw_answer_case_insensitively() -> None:
    assert match_regex("Answer: C-17 for sure", [r"\bc-17\b"])
    assert not match_regex("Answer: C-170", [r"\bC-17\b"])
    assert match_regex("model P200", [r"nope", r"P-?200"])
    assert not match_regex("P 200", [r"P-200"])  # no normalisation in regex mode


def test_get_matcher_table() -> None:
    assert MATCH_MODES == ("contains", "exact", "regex")
    assert get_matcher("contains") is match_contains
    assert get_matcher("exact") is match_exact
    assert get_matcher("regex") is match_regex


def test_unknown_mode_is_value_error() -> None:
    with pytest.raises(ValueError) as info:
        get_matcher("fuzzy")
    assert str(info.value) == (
        "match='fuzzy': expected one of contains, exact, regex or a callable (answer, golds) -> bool"
    )
    with pytest.raises(ValueError, match="match='fuzzy'"):
        score("fuzzy", "a", ["a"])


def starts_with_gold(answer: str, golds: Sequence[str]) -> bool:
    return any(answer.startswith(g) for g in golds)


def test_callable_matcher() -> None:
    assert get_matcher(starts_with_gold) is starts_with_gold
    assert score(starts_with_gold, "C-17 is right", ["C-17"]) is True
    assert score(starts_with_gold, "It is C-17", ["C-17"]) is False
    seen: list[tuple[str, list[str]]] = []

    def spy(answer: str, golds: Sequence[str]) -> bool:
        seen.append((answer, list(golds)))
        return True

    assert score(spy, "ans", ["g1", "g2"]) is True
    assert seen == [("ans", ["g1", "g2"])]


def test_callable_returning_non_bool_is_a_match_error() -> None:
    def sloppy(answer: str, golds: Sequence[str]) -> bool:
        return 1  # type: ignore[return-value]

    with pytest.raises(MatchError) as info:
        score(sloppy, "a", ["a"], "fact '3', forward question 'Q?'")
    assert str(info.value) == (
        f"match={__name__}.test_callable_returning_non_bool_is_a_match_error.<locals>.sloppy failed on "
        "fact '3', forward question 'Q?': the match callable returned int 1, expected bool "
        "(answer 'a', accepted answers ['a'])"
    )
    with pytest.raises(MatchError, match="returned NoneType None, expected bool"):
        score(lambda a, g: None, "a", ["a"])  # type: ignore[arg-type,return-value]


def test_callable_returning_a_numpy_bool_is_accepted() -> None:
    import numpy as np

    # e.g. a similarity threshold: `np.dot(a, b) > 0.8` is an np.bool_, not a bool
    assert score(lambda a, g: np.float64(0.9) > 0.8, "a", ["a"]) is True  # type: ignore[arg-type,return-value]
    assert score(lambda a, g: np.float64(0.1) > 0.8, "a", ["a"]) is False  # type: ignore[arg-type,return-value]
    with pytest.raises(MatchError, match=r"returned float64 (np\.float64\()?0\.9\)?, expected bool"):  # numpy < 2 reprs 0.9
        score(lambda a, g: np.float64(0.9), "a", ["a"])  # type: ignore[arg-type,return-value]


def test_callable_raising_is_a_match_error_with_the_cause() -> None:
    def broken(answer: str, golds: Sequence[str]) -> bool:
        raise KeyError("lang")

    with pytest.raises(MatchError) as info:
        score(broken, "x" * 500, ["C-1"])
    msg = str(info.value)
    assert msg.startswith(f"match={__name__}.")
    assert "broken failed: the match callable raised KeyError: 'lang' (answer 'xxx" in msg
    assert msg.endswith("..., accepted answers ['C-1'])")  # a long answer is clipped
    assert isinstance(info.value.__cause__, KeyError)


def test_invalid_regex_gold_is_a_match_error_naming_the_pattern() -> None:
    with pytest.raises(MatchError) as info:
        score("regex", "C-17", ["C-1[", r"C-\d+"])
    msg = str(info.value)
    assert msg.startswith(
        "match='regex' failed: accepted answer 'C-1[' is not a valid regular expression (unterminated"
    )
    assert msg.endswith("(answer 'C-17', accepted answers ['C-1[', 'C-\\\\d+'])")
    assert score("regex", "C-17", [r"C-\d+", "C-1["]) is True  # searched in order: stops at the match


def test_score_builtin_modes() -> None:
    assert score("contains", "It is C-17.", ["C-17"]) is True
    assert score("contains", "It is C-17.", ["C-1"]) is False
    assert score("exact", "C-17", ["c 17"]) is True
    assert score("regex", "C-17", [r"^c-\d+$"]) is True


def test_matcher_name() -> None:
    assert matcher_name("exact") == "exact"
    assert matcher_name(starts_with_gold) == f"{__name__}.starts_with_gold"


class CallableMatcher:
    def __call__(self, answer: str, golds: Sequence[str]) -> bool:
        return True


def lenient(answer: str, golds: Sequence[str], strict: bool = False) -> bool:
    return True


def weighted(option: object, answer: str, golds: Sequence[str], weight: object = None) -> bool:
    return True


def test_matcher_name_of_partials_and_callable_objects_has_no_memory_address() -> None:
    """Reports and baselines compare it between runs: it must be readable and the same every run."""
    import functools

    assert matcher_name(functools.partial(lenient, strict=True)) == f"partial({__name__}.lenient, strict=True)"
    assert matcher_name(CallableMatcher()) == f"{__name__}.CallableMatcher()"
    assert matcher_name(functools.partial(weighted, object())) == f"partial({__name__}.weighted, <object>)"
    assert matcher_name(functools.partial(weighted, "x", weight=CallableMatcher())) == (
        f"partial({__name__}.weighted, 'x', weight={__name__}.CallableMatcher())"
    )


def test_the_answer_cache_namespace_does_not_depend_on_the_matcher() -> None:
    """Answers do not depend on how they are scored: probes that differ only in match= share answers."""
    import functools

    from pytest_ragprobe.markers import PositionSpec, ReverseSpec
    from pytest_ragprobe.position_probe import _namespace as position_namespace
    from pytest_ragprobe.reverse_probe import _namespace as reverse_namespace

    matchers: list[MatchSpec] = ["contains", "exact", CallableMatcher(), functools.partial(lenient, strict=True)]
    assert {reverse_namespace(ReverseSpec(facts="facts.yaml", match=m)) for m in matchers} == {""}
    assert {position_namespace(PositionSpec(data="qa.jsonl", match=m)) for m in matchers} == {""}
    # what the pipeline was indexed with does change its answers
    assert reverse_namespace(ReverseSpec(facts="synthetic:20")) == '{"indexed": "synthetic:20"}'
    assert reverse_namespace(ReverseSpec(facts="synthetic:20")) != reverse_namespace(ReverseSpec(facts="synthetic:50"))


# -- numbers under "contains": the whole number, its sign and its unit ------------------------------------
# A gold number matches the same number as a whole word (a unit or symbol may follow: "20%", "20 bar",
# "20 °C"), never another number that merely starts or ends with its digits ("200", "2020", "20.5"), nor the
# number with another sign ("-20"), nor digits that a separator dropped would join ("1,5" is not "15").


@pytest.mark.parametrize(
    "answer",
    ["20", "It is 20.", "20%", "20 %", "20 percent", "20 bar", "$20", "20°C", "20 °C", "20℃", "(20)", "10-20"],
)
def test_a_gold_number_matches_that_number_with_a_unit_or_symbol(answer: str) -> None:
    assert match_contains(answer, ["20"])


@pytest.mark.parametrize(
    "answer",
    ["200", "2020", "20.5", "0.20", "20,000", "20th", "20kg", "P-200", "-20", "It is -20 °C", "\u221220", "(-20)"],
)
def test_a_gold_number_does_not_match_another_number(answer: str) -> None:
    """"-20" matched "20" (the hyphen separated it like P-200's), so a temperature or a change of -20 scored
    as 20. A unit written onto the number ("20kg") makes one word: give that spelling as an alias."""
    assert not match_contains(answer, ["20"])


def test_a_symbol_in_the_gold_is_not_required() -> None:
    """"%" and "°" are dropped like punctuation, in the gold too: "20%" accepts "20" and "20 percent" (the
    number is what is checked); a unit written as a word ("20 bar") is required. Use regex to require a sign."""
    assert match_contains("about 20 percent", ["20%"]) and match_contains("20", ["20%"])
    assert not match_contains("20 psi", ["20 bar"])
    assert match_contains("20 °C", ["20°C"]) and match_contains("20°C", ["20 °C"])  # were "20°c" vs "20 c"
    assert not match_contains("20°F", ["20°C"])
    assert match_regex("20%", [r"\b20\s*%"]) and not match_regex("20 percent", [r"\b20\s*%"])


def test_a_minus_sign_is_part_of_the_number() -> None:
    assert normalize("It is -20 °C") == "it is -20 c" and normalize("\u221220\u00b0C") == "-20 c"
    assert match_contains("It will be \u221220\u00b0C tonight", ["-20 °C"])
    assert not match_contains("It will be 20 °C", ["-20 °C"])
    # a hyphen inside a word or between numbers still separates: identifiers and ranges
    assert normalize("P-200") == "p 200" and normalize("10-20") == "10 20" and normalize("10 - 20") == "10 20"


@pytest.mark.parametrize("answer", ["The low was **-20 °C**.", "It was __-20__", "`-20`", "~~-20~~", "_-20_", "-25/-20"])
def test_a_minus_sign_behind_markdown_emphasis_stays(answer: str) -> None:
    """An LLM bolds its answer: "**-20 °C**" lost its sign (the "*" before the hyphen made it a separator),
    so the right answer scored wrong against "-20" and right against "20"."""
    assert match_contains(answer, ["-20"]) and not match_contains(answer, ["20"])


def test_a_hyphen_after_dropped_punctuation_still_separates() -> None:
    # "*" and "=" are dropped, not separators: a minus there would join the word before to the number
    assert normalize("x=-5") == "x 5" and normalize("x*-3") == "x 3" and normalize("5%-10%") == "5 10"


def test_separators_between_digits_do_not_join_numbers() -> None:
    """A comma that is no thousands separator and a colon between digits were dropped: "1,5" (a decimal
    comma) scored as "15", the time "20:30" as "2030", the ratio "1:2" as "12"."""
    assert normalize("1,5 bar") == "1 5 bar" and normalize("20:30") == "20 30" and normalize("3,4") == "3 4"
    assert not match_contains("1,5", ["15"]) and not match_contains("20:30", ["2030"])
    assert not match_contains("1:2", ["12"])
    assert match_contains("at 20:30", ["20:30"]) and match_contains("1,5 bar", ["1,5 bar"])
    # a thousands separator is still dropped: "1,000" is "1000"
    assert normalize("1,000,000 units") == "1000000 units" and match_exact("2,000", ["2000"])
    assert match_contains("It holds 20,000.", ["20,000"]) and not match_contains("20,000", ["20"])
