"""markers.py: the public marks, their validation messages and default positions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import pytest_ragprobe as ragprobe
from pytest_ragprobe.markers import (
    COMMON_MARK,
    MARKER_LINES,
    POSITION_MARK,
    REVERSE_MARK,
    MarkArgumentError,
    PositionSpec,
    ReverseSpec,
    build_spec,
    default_positions,
)


def my_matcher(answer: str, golds: Sequence[str]) -> bool:
    return answer in golds


# -- the decorators -------------------------------------------------------------------------------


def test_reverse_returns_a_real_mark_decorator() -> None:
    mark = ragprobe.reverse(facts="fixtures/parts.yaml", max_drop=0.2, n=50, seed=3)
    assert isinstance(mark, pytest.MarkDecorator)
    assert mark.name == REVERSE_MARK == "ragprobe_reverse"
    assert mark.args == ()
    assert mark.kwargs == {
        "facts": "fixtures/parts.yaml",
        "max_drop": 0.2,
        "n": 50,
        "seed": 3,
    }
    assert mark.mark == pytest.mark.ragprobe_reverse(**mark.kwargs).mark


def test_position_returns_a_real_mark_decorator() -> None:
    mark = ragprobe.position(data="fixtures/qa.jsonl", n_docs=10, positions=[0, 4, 9], max_drop=0.15)
    assert isinstance(mark, pytest.MarkDecorator)
    assert mark.name == POSITION_MARK == "ragprobe_position"
    assert mark.kwargs == {
        "data": "fixtures/qa.jsonl",
        "n_docs": 10,
        "positions": [0, 4, 9],
        "max_drop": 0.15,
    }


def test_decorators_carry_only_the_arguments_given() -> None:
    # Defaults are applied by build_spec when the probe runs, so a closer mark never overrides a
    # class or module mark with a default it did not ask for.
    assert ragprobe.reverse(facts="x").mark.kwargs == {"facts": "x"}
    assert ragprobe.position(data="qa.jsonl").mark.kwargs == {"data": "qa.jsonl"}
    assert ragprobe.reverse(facts="x").mark == pytest.mark.ragprobe_reverse(facts="x").mark
    assert build_spec(REVERSE_MARK, ragprobe.reverse(facts="x").kwargs) == ReverseSpec(facts="x")


def test_module_level_aliases_are_the_namespace_methods() -> None:
    assert ragprobe.ragprobe.reverse is ragprobe.reverse
    assert ragprobe.ragprobe.position is ragprobe.position
    assert COMMON_MARK == "ragprobe"


def test_decorator_applies_the_mark_to_a_function() -> None:
    @ragprobe.reverse(facts="synthetic:10", match=my_matcher)
    def test_x() -> None: ...

    marks = test_x.pytestmark  # type: ignore[attr-defined]
    assert [m.name for m in marks] == ["ragprobe_reverse"]
    assert marks[0].kwargs["match"] is my_matcher


def test_marker_lines_register_all_three_marks() -> None:
    names = [line.split(":")[0].split("(")[0] for line in MARKER_LINES]
    assert names == ["ragprobe", "ragprobe_reverse", "ragprobe_position"]


# -- unknown and ill-typed arguments --------------------------------------------------------------


def test_unknown_argument_with_did_you_mean() -> None:
    with pytest.raises(MarkArgumentError) as info:
        build_spec(REVERSE_MARK, {"facts": "f.yaml", "max_dorp": 0.1})
    msg = str(info.value)
    assert msg.startswith(
        "@ragprobe.reverse: unknown argument 'max_dorp' (did you mean 'max_drop'?); allowed: "
    )
    assert "allowed: confidence, facts, match, max_drop, min_accuracy, n, seed, sequential" in msg


def test_an_abbreviated_argument_gets_the_one_it_abbreviates() -> None:
    with pytest.raises(MarkArgumentError, match=r"unknown argument 'conf' \(did you mean 'confidence'\?\)"):
        build_spec(REVERSE_MARK, {"facts": "f.yaml", "conf": 0.9})
    with pytest.raises(MarkArgumentError) as info:  # a prefix of two arguments names neither
        build_spec(REVERSE_MARK, {"facts": "f.yaml", "m": 0.9})
    assert "did you mean" not in str(info.value)


def test_sugar_spelling_gives_the_same_argument_errors_as_the_raw_mark() -> None:
    """ragprobe.reverse(max_dorp=...) raised Python's bare "unexpected keyword argument"."""
    import pytest_ragprobe as ragprobe

    with pytest.raises(MarkArgumentError) as sugar:
        ragprobe.reverse(facts="f.yaml", max_dorp=0.1)  # type: ignore[call-arg]
    with pytest.raises(MarkArgumentError) as raw:
        build_spec(REVERSE_MARK, {"facts": "f.yaml", "max_dorp": 0.1})
    assert str(sugar.value) == str(raw.value)
    with pytest.raises(MarkArgumentError, match=r"unknown argument 'n_doc' \(did you mean 'n_docs'\?\)"):
        ragprobe.position(data="d.jsonl", n_doc=3)  # type: ignore[call-arg]
    with pytest.raises(MarkArgumentError, match="takes keyword arguments only"):
        ragprobe.reverse("f.yaml")  # type: ignore[call-arg]
    # facts may come from a class or module mark: required of the merged marks, not of this one
    assert ragprobe.reverse(max_drop=0.1).kwargs == {"max_drop": 0.1}


def test_unknown_argument_on_position_without_close_match() -> None:
    with pytest.raises(MarkArgumentError) as info:
        build_spec(POSITION_MARK, {"data": "d.jsonl", "zzz": 1})
    msg = str(info.value)
    assert msg.startswith("@ragprobe.position: unknown argument 'zzz'; allowed: ")
    assert "did you mean" not in msg
    assert "n_docs" in msg and "distractors" in msg and "context_tokens" in msg


def test_position_only_argument_on_reverse_is_unknown() -> None:
    with pytest.raises(MarkArgumentError) as info:
        build_spec(REVERSE_MARK, {"facts": "f.yaml", "n_docs": 5})
    assert str(info.value) == (
        "@ragprobe.reverse: unknown argument 'n_docs'; "
        "allowed: confidence, facts, match, max_drop, min_accuracy, n, seed, sequential"
    )


def test_decorator_rejects_unknown_keyword_naming_it() -> None:
    with pytest.raises(TypeError, match="max_dorp"):
        ragprobe.reverse(facts="f.yaml", max_dorp=0.1)  # type: ignore[call-arg]


def test_positional_arguments_are_rejected() -> None:
    with pytest.raises(MarkArgumentError) as info:
        build_spec(REVERSE_MARK, {"facts": "f.yaml"}, ("f.yaml",))
    assert str(info.value) == "@ragprobe.reverse: takes keyword arguments only, got positional ['f.yaml']"


REVERSE_BAD: list[tuple[dict[str, Any], str]] = [
    ({"max_drop": "x"}, "argument 'max_drop' must be a number, got str 'x'"),
    ({"max_drop": 1.5}, "argument 'max_drop' must be in [0.0, 1.0), got 1.5 (a fraction: 0.015 for 1.5%)"),
    ({"max_drop": 1.0}, "argument 'max_drop' must be in [0.0, 1.0), got 1.0"),
    ({"max_drop": 1}, "argument 'max_drop' must be in [0.0, 1.0), got 1"),
    ({"max_drop": -0.1}, "argument 'max_drop' must be in [0.0, 1.0), got -0.1"),
    ({"max_drop": True}, "argument 'max_drop' must be a number, got bool True"),
    ({"max_drop": float("nan")}, "argument 'max_drop' must be a number, got float nan"),
    ({"min_accuracy": 2}, "argument 'min_accuracy' must be in [0.0, 1.0], got 2 (a fraction: 0.02 for 2%)"),
    ({"n": 0}, "argument 'n' must be >= 1, got 0"),
    ({"n": True}, "argument 'n' must be an int, got bool True"),
    ({"n": 2.0}, "argument 'n' must be an int, got float 2.0"),
    ({"seed": -1}, "argument 'seed' must be >= 0, got -1"),
    ({"seed": "1"}, "argument 'seed' must be an int, got str '1'"),
    ({"confidence": 1.0}, "argument 'confidence' must be in (0.5, 1.0), got 1.0"),
    ({"confidence": 1}, "argument 'confidence' must be in (0.5, 1.0), got 1"),
    ({"confidence": 0.5}, "argument 'confidence' must be in (0.5, 1.0), got 0.5"),
    ({"confidence": 95}, "argument 'confidence' must be in (0.5, 1.0), got 95 (a fraction: 0.95 for 95%)"),
    # a percentage where a fraction is meant says so (the message only gave the range)
    ({"max_drop": 10}, "argument 'max_drop' must be in [0.0, 1.0), got 10 (a fraction: 0.1 for 10%)"),
    ({"max_drop": 150}, "argument 'max_drop' must be in [0.0, 1.0), got 150"),
    ({"match": "fuzzy"}, "argument 'match' must be 'contains', 'exact', 'regex' or a callable, got 'fuzzy'"),
    ({"sequential": "yes"}, "argument 'sequential' must be True or False, got 'yes'"),
    ({"facts": ""}, "argument 'facts' must not be empty"),
    ({"facts": []}, "argument 'facts' must not be an empty list"),
    ({"facts": 3}, "argument 'facts' must be a file path, 'synthetic:N' or a list, got int 3"),
    ({"facts": [1, 2]}, "argument 'facts' entries must be ragprobe.Fact objects or dicts, got int 1 at index 0"),
    ({"facts": "synthetic:0"}, "argument 'facts' 'synthetic:N' needs a whole number N >= 1, got 'synthetic:0'"),
    ({"facts": "synthetic:x"}, "argument 'facts' 'synthetic:N' needs a whole number N >= 1, got 'synthetic:x'"),
]


@pytest.mark.parametrize(
    ("bad", "message"),
    REVERSE_BAD,
    ids=[next(iter(b)) + "-" + repr(b[next(iter(b))]) for b, _ in REVERSE_BAD],
)
def test_reverse_ill_typed_argument_is_named(bad: dict[str, Any], message: str) -> None:
    kwargs = {"facts": "f.yaml", **bad}
    with pytest.raises(MarkArgumentError) as info:
        build_spec(REVERSE_MARK, kwargs)
    assert str(info.value) == f"@ragprobe.reverse: {message}"


def test_none_is_not_given_in_both_spellings() -> None:
    # The raw spelling refused max_drop / match / n_docs / distractors=None, the sugar dropped them
    given = {"max_drop": None, "match": None, "min_accuracy": None, "n": None, "seed": None}
    assert build_spec(REVERSE_MARK, {"facts": "f.yaml", **given}) == build_spec(REVERSE_MARK, {"facts": "f.yaml"})
    assert ragprobe.reverse(facts="f.yaml", **given).kwargs == {"facts": "f.yaml"}
    position = {"n_docs": None, "distractors": None, "positions": None, "context_tokens": None}
    assert build_spec(POSITION_MARK, {"data": "qa.jsonl", **position}) == build_spec(
        POSITION_MARK, {"data": "qa.jsonl"}
    )
    with pytest.raises(MarkArgumentError, match=r"argument 'facts' is required"):
        build_spec(REVERSE_MARK, {"facts": None})


def test_reverse_requires_facts() -> None:
    with pytest.raises(MarkArgumentError) as info:
        build_spec(REVERSE_MARK, {"max_drop": 0.1})
    assert str(info.value) == (
        "@ragprobe.reverse: argument 'facts' is required: "
        "a facts file, a list of ragprobe.Fact or 'synthetic:N'"
    )


def test_decorator_validates_at_decoration_time() -> None:
    with pytest.raises(MarkArgumentError, match=r"@ragprobe\.reverse: argument 'max_drop' must be a number"):
        ragprobe.reverse(facts="f.yaml", max_drop="x")  # type: ignore[arg-type]
    with pytest.raises(MarkArgumentError, match=r"@ragprobe\.position: argument 'n' must be >= 1, got 0"):
        ragprobe.position(data="d.jsonl", n=0)


POSITION_BAD: list[tuple[dict[str, Any], str]] = [
    ({"positions": [0, 10]}, "argument 'positions' entries must be ints in [0, n_docs=10), got 10"),
    ({"positions": [-1, 3]}, "argument 'positions' entries must be ints in [0, n_docs=10), got -1"),
    ({"positions": [0, 4], "n_docs": 4}, "argument 'positions' entries must be ints in [0, n_docs=4), got 4"),
    ({"positions": [3, 3]}, "argument 'positions' needs at least two distinct positions to compare"),
    ({"positions": [3]}, "argument 'positions' needs at least two distinct positions to compare"),
    ({"positions": []}, "argument 'positions' must be a non-empty list of ints, got []"),
    ({"positions": "0,4"}, "argument 'positions' must be a non-empty list of ints, got '0,4'"),
    ({"positions": [0, True]}, "argument 'positions' entries must be ints in [0, n_docs=10), got True"),
    ({"positions": [0, 1.0]}, "argument 'positions' entries must be ints in [0, n_docs=10), got 1.0"),
    ({"distractors": "x"}, "argument 'distractors' must be 'given' or 'retriever', got 'x'"),
    ({"n_docs": 1}, "argument 'n_docs' must be >= 2, got 1"),
    ({"n_docs": "10"}, "argument 'n_docs' must be an int, got str '10'"),
    ({"context_tokens": 0}, "argument 'context_tokens' must be >= 1, got 0"),
    ({"data": b"x"}, "argument 'data' must be a file path, 'synthetic:N' or a list, got bytes b'x'"),
]


@pytest.mark.parametrize(("bad", "message"), POSITION_BAD, ids=[str(i) for i in range(len(POSITION_BAD))])
def test_position_ill_typed_argument_is_named(bad: dict[str, Any], message: str) -> None:
    kwargs = {"data": "qa.jsonl", **bad}
    with pytest.raises(MarkArgumentError) as info:
        build_spec(POSITION_MARK, kwargs)
    assert str(info.value) == f"@ragprobe.position: {message}"


@pytest.mark.parametrize("kwargs", [{}, {"n_docs": 5}])
def test_position_needs_exactly_one_of_data_and_facts(kwargs: dict[str, Any]) -> None:
    with pytest.raises(MarkArgumentError) as info:
        build_spec(POSITION_MARK, kwargs)
    assert str(info.value) == (
        "@ragprobe.position: argument 'data' or 'facts' is required (exactly one): "
        "a lost-in-the-middle JSONL file, 'synthetic:N', or facts=..."
    )


def test_position_with_both_data_and_facts_says_not_both() -> None:
    """Both given read "'data' or 'facts' is required", as if both were missing."""
    both = {"data": "d.jsonl", "facts": "f.yaml"}
    expected = (
        "@ragprobe.position: give either data= (lost-in-the-middle data) or facts= (a facts file, "
        "a list of ragprobe.Fact or 'synthetic:N'), not both"
    )
    with pytest.raises(MarkArgumentError) as info:
        build_spec(POSITION_MARK, both)
    assert str(info.value) == expected
    with pytest.raises(MarkArgumentError) as sugar:
        ragprobe.position(data="d.jsonl", facts="f.yaml")
    assert str(sugar.value) == expected


# -- partial sugar marks (the rest from a class or module mark) -----------------------------------


def test_sugar_accepts_partial_arguments_and_still_checks_the_given_ones() -> None:
    assert ragprobe.reverse(max_drop=0.05).kwargs == {"max_drop": 0.05}
    assert ragprobe.position(positions=[0, 15]).kwargs == {"positions": [0, 15]}  # n_docs from elsewhere
    with pytest.raises(MarkArgumentError, match=r"argument 'max_drop' must be in \[0\.0, 1\.0\), got 2"):
        ragprobe.reverse(max_drop=2)
    with pytest.raises(MarkArgumentError, match=r"argument 'positions' entries must be ints >= 0, got -1"):
        ragprobe.position(positions=[-1, 3])
    with pytest.raises(MarkArgumentError, match=r"entries must be ints in \[0, n_docs=4\), got 4"):
        ragprobe.position(positions=[0, 4], n_docs=4)
    with pytest.raises(MarkArgumentError, match="argument 'facts' must not be empty"):
        ragprobe.reverse(facts="")


def test_sugar_argument_error_has_no_chained_type_error() -> None:
    with pytest.raises(MarkArgumentError) as info:
        ragprobe.reverse(facts="f.yaml", max_dorp=0.1)  # type: ignore[call-arg]
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_sugar_argument_error_output_shows_only_the_clear_message(pytester: pytest.Pytester) -> None:
    """The good message came after Python's "unexpected keyword argument" and "During handling of the
    above exception, another exception occurred"."""
    pytester.makepyfile(
        """
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="synthetic:5", max_dorp=0.1)
def test_x():
    pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown argument 'max_dorp' (did you mean 'max_drop'?)*"])
    assert "During handling" not in result.stdout.str()
    assert "unexpected keyword argument" not in result.stdout.str()


PARTIAL_CONFTEST = """
import pytest

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    def answer(question):  # right both ways
        if "controller is compatible with pump" in question:
            return "C-" + question.rsplit("P-", 1)[1].rstrip("?")
        return "P-" + question.rsplit("C-", 1)[1].rstrip("?")
    return answer
"""


def test_partial_sugar_mark_on_a_class_takes_facts_from_the_module_mark(pytester: pytest.Pytester) -> None:
    """README: "the closest value wins per argument". A class-level ragprobe.reverse(max_drop=...) failed at
    import with "argument 'facts' is required", though pytest.mark.ragprobe_reverse(max_drop=...) worked."""
    pytester.makeconftest(PARTIAL_CONFTEST)
    pytester.makepyfile(
        test_partial="""
import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(6)]

pytestmark = ragprobe.reverse(facts=FACTS, n=4)

@ragprobe.reverse(max_drop=0.05)
class TestCatalog:
    def test_class_mark_wins(self, ragprobe_result):
        assert ragprobe_result.settings["max_drop"] == 0.05
        assert ragprobe_result.settings["n"] == 4

    @ragprobe.reverse(max_drop=0.2)
    def test_function_mark_wins(self, ragprobe_result):
        assert ragprobe_result.settings["max_drop"] == 0.2

def test_module_mark_only(ragprobe_result):
    assert ragprobe_result.settings["max_drop"] == 0.1
"""
    )
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(passed=3)


def test_partial_sugar_marks_without_facts_anywhere_fail_at_collection(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_partial_reverse="""
import pytest_ragprobe as ragprobe

@ragprobe.reverse(max_drop=0.05)
class TestCatalog:
    def test_x(self):
        pass
""",
        test_partial_position="""
import pytest_ragprobe as ragprobe

@ragprobe.position(positions=[0, 15])
def test_y():
    pass
""",
    )
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*test_y: @ragprobe.position: argument 'data' or 'facts' is required*",
            "*test_x: @ragprobe.reverse: argument 'facts' is required*",
        ],
        consecutive=False,
    )


# -- specs ------------------------------------------------------------------------------------------


def test_build_reverse_spec_defaults_and_values() -> None:
    spec = build_spec(REVERSE_MARK, {"facts": "f.yaml"})
    assert spec == ReverseSpec(facts="f.yaml")
    assert (spec.max_drop, spec.min_accuracy, spec.n, spec.seed, spec.confidence, spec.match) == (
        0.10,
        None,
        None,
        None,
        None,
        "contains",
    )
    assert spec.kind == "reverse"
    spec = build_spec(
        REVERSE_MARK,
        {
            "facts": Path("f.csv"),
            "max_drop": 0,
            "min_accuracy": 0.5,
            "n": 7,
            "seed": 0,
            "confidence": 0.99,
            "match": my_matcher,
            "sequential": True,
        },
    )
    assert spec == ReverseSpec(
        facts=Path("f.csv"),
        max_drop=0.0,
        min_accuracy=0.5,
        n=7,
        seed=0,
        confidence=0.99,
        match=my_matcher,
        sequential=True,
    )
    assert isinstance(spec.max_drop, float)


def test_build_spec_list_sources_become_tuples() -> None:
    facts = [ragprobe.Fact(subject="a", relation="wrote", object="b")]
    spec = build_spec(REVERSE_MARK, {"facts": facts})
    assert isinstance(spec, ReverseSpec)
    assert spec.facts == tuple(facts)


def test_build_position_spec_sorts_and_dedups_positions() -> None:
    spec = build_spec(
        POSITION_MARK,
        {"facts": "synthetic:20", "n_docs": 20, "positions": (19, 0, 9, 0), "distractors": "retriever"},
    )
    assert spec == PositionSpec(
        facts="synthetic:20", n_docs=20, positions=(0, 9, 19), distractors="retriever"
    )
    assert spec.kind == "position"
    assert build_spec(POSITION_MARK, {"data": "qa.jsonl"}) == PositionSpec(data="qa.jsonl")


def test_none_valued_optional_arguments_mean_default() -> None:
    spec = build_spec(
        POSITION_MARK,
        {
            "data": "qa.jsonl",
            "facts": None,
            "n": None,
            "seed": None,
            "positions": None,
            "context_tokens": None,
        },
    )
    assert spec == PositionSpec(data="qa.jsonl")


# -- default positions ----------------------------------------------------------------------------


def test_default_positions_for_ten_documents() -> None:
    assert default_positions(10) == (0, 2, 4, 7, 9)


@pytest.mark.parametrize(
    ("n_docs", "expected"),
    [
        (2, (0, 1)),
        (3, (0, 1, 2)),
        (5, (0, 1, 2, 3, 4)),
        (20, (0, 5, 10, 14, 19)),
        (21, (0, 5, 10, 15, 20)),
        (30, (0, 7, 14, 22, 29)),
    ],
)
def test_default_positions_are_first_quartiles_last(n_docs: int, expected: tuple[int, ...]) -> None:
    got = default_positions(n_docs)
    assert got == expected
    last = n_docs - 1
    assert got[0] == 0 and got[-1] == last
    assert list(got) == sorted(set(got))
    for q in (0.25, 0.5, 0.75):
        assert min(abs(p - q * last) for p in got) <= 0.5


def test_check_functions_name_themselves_in_argument_errors() -> None:
    """check_reverse(..., max_drop=2) said "@ragprobe.reverse: argument ..." about a mark never written."""
    import pytest_ragprobe as ragprobe

    with pytest.raises(ragprobe.MarkArgumentError) as info:
        ragprobe.check_reverse(lambda q: "x", "synthetic:10", max_drop=2)
    assert str(info.value) == "check_reverse: argument 'max_drop' must be in [0.0, 1.0), got 2 (a fraction: 0.02 for 2%)"
    with pytest.raises(ragprobe.MarkArgumentError) as info:
        ragprobe.check_position(lambda q, docs=None: "x", facts="synthetic:10", n_doc=3)
    assert str(info.value).startswith("check_position: unknown argument 'n_doc' (did you mean 'n_docs'?)")
