"""A facts file's field errors name the key as the file spells it (``answer``, ``forward_answer``), not the
model's field (``answers``), and say what to write where pydantic's words named a model class or said
"String should have at least 1 character"."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ragprobe.facts import Fact, FactsError, load_facts_file


def error(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    return message.removeprefix(f"{path}: ")


def test_an_empty_answer_is_empty_not_quote_it(tmp_path: Path) -> None:
    # Was: "field 'forward.answers': must be a string ..., got NoneType None: quote it" (quoting the
    # nothing after `answer:` gives no answer either; and the file says `answer`).
    text = "facts:\n  - forward: {question: Q?, answer: }\n    reverse: {question: R?, answer: x}\n"
    assert error(tmp_path, "f.yaml", text) == (
        "facts[0] (line 2): field 'forward.answer': is empty: give the accepted answer (a string or a list of "
        "aliases)"
    )
    text = '{"facts": [{"forward": {"question": "Q?", "answer": "x"}, "reverse": {"question": "R?", "answer": null}}]}'
    assert error(tmp_path, "f.json", text) == (
        "facts[0]: field 'reverse.answer': is empty: give the accepted answer (a string or a list of aliases)"
    )


def test_the_answer_key_is_named_as_written(tmp_path: Path) -> None:
    text = "facts:\n  - forward: {question: Q?, answer: [[a]]}\n    reverse: {question: R?, answer: x}\n"
    assert error(tmp_path, "f.yaml", text) == (
        "facts[0] (line 2): field 'forward.answer': must be a string or a list of strings (accepted aliases)"
    )
    text = "facts:\n  - forward: {question: Q?, answers: [[a]]}\n    reverse: {question: R?, answer: x}\n"
    assert error(tmp_path, "f.yaml", text) == (
        "facts[0] (line 2): field 'forward.answers': must be a string or a list of strings (accepted aliases)"
    )
    text = "facts:\n  - forward: {question: Q?, answer: []}\n    reverse: {question: R?, answer: x}\n"
    assert error(tmp_path, "f.yaml", text) == (
        "facts[0] (line 2): field 'forward.answer': must name at least one non-empty answer"
    )


def test_flat_columns_are_named_as_written(tmp_path: Path) -> None:
    # JSONL rows (and CSV) in the flat spelling: the error named 'forward.answers', a key not in the file
    row = '{"forward_question": "Q?", "forward_answer": [["a"]], "reverse_question": "R?", "reverse_answer": "x"}\n'
    assert error(tmp_path, "f.jsonl", row) == (
        "line 1: field 'forward_answer': must be a string or a list of strings (accepted aliases)"
    )
    row = '{"forward_question": "Q?", "forward_answer": "a", "reverse_question": 5, "reverse_answer": "x"}\n'
    assert error(tmp_path, "f.jsonl", row) == (
        "line 1: field 'reverse_question': Input should be a valid string, got int 5: quote it"
    )


def test_a_question_that_is_not_a_mapping_says_what_to_write(tmp_path: Path) -> None:
    # Was: "Input should be a valid dictionary or instance of Question" (a class the file never names)
    text = "facts:\n  - forward: Who wrote Dune?\n    reverse: {question: R?, answer: x}\n"
    assert error(tmp_path, "f.yaml", text) == (
        "facts[0] (line 2): field 'forward': must be a mapping {question: ..., answer: ...}, "
        "got str 'Who wrote Dune?'"
    )
    text = '[{"forward": {"question": "Q?", "answer": "a"}, "reverse": ["R?", "x"]}]'
    assert error(tmp_path, "f.json", text) == (
        "facts[0]: field 'reverse': must be a mapping {question: ..., answer: ...}, got list ['R?', 'x']"
    )


def test_a_relation_that_is_not_a_mapping_says_what_to_write(tmp_path: Path) -> None:
    text = "relations:\n  r: 'Which is {subject}?'\nfacts:\n  - {subject: a, relation: r, object: b}\n"
    assert error(tmp_path, "f.yaml", text) == (
        "line 2: field 'relations.r': must be a mapping {forward: ..., reverse: ..., statement: ...}, "
        "got str 'Which is {subject}?'"
    )


def test_an_empty_question_is_empty(tmp_path: Path) -> None:
    # Was: "String should have at least 1 character"
    text = "facts:\n  - forward: {question: '  ', answer: A}\n    reverse: {question: R?, answer: S}\n"
    assert error(tmp_path, "f.yaml", text) == (
        "facts[0] (line 2): field 'forward.question': is empty: write the question"
    )


def test_fact_in_code_keeps_the_model_field_names() -> None:
    # in code the keyword is what was written: Fact(forward={"question": ..., "answers": None})
    with pytest.raises(FactsError) as info:
        Fact(forward={"question": "Q?", "answers": None}, reverse={"question": "R?", "answer": "x"})  # type: ignore[arg-type]
    assert str(info.value).endswith(
        "field 'forward.answers': is empty: give the accepted answer (a string or a list of aliases)"
    )


def test_a_fact_that_is_not_a_mapping_says_what_a_fact_looks_like(tmp_path: Path) -> None:
    # Was: "expected a mapping of fact fields, got str" (the value and the fix left out)
    assert error(tmp_path, "f.yaml", "facts:\n  - P-1 compatible_with C-1\n") == (
        "facts[0] (line 2): expected a mapping of fact fields, got str 'P-1 compatible_with C-1': write a fact "
        "as {subject: ..., relation: ..., object: ...} or with forward and reverse questions "
        "({question: ..., answer: ...} each)"
    )


def test_a_bool_in_an_answer_list_is_refused_as_a_lone_bool_is(tmp_path: Path) -> None:
    # Was: "answer": ["yes", true] in JSON made the aliases ["yes", "True"], silently; a lone true was refused
    text = '[{"forward": {"question": "Q?", "answer": ["yes", true]}, "reverse": {"question": "R?", "answer": "x"}}]'
    assert error(tmp_path, "f.json", text) == (
        "facts[0]: field 'forward.answer': must be a string or a list of strings (accepted aliases), got bool "
        "True in the list: quote it"
    )
