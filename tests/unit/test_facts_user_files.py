"""A user's own facts files: spreadsheet-exported CSV, YAML scalars that are not text, one-to-many facts."""

from __future__ import annotations

from pathlib import Path

import pytest

import pytest_ragprobe as ragprobe
from pytest_ragprobe.facts import FactPair, FactsError, load_facts_file


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def qa(pair: FactPair) -> tuple[str, list[str], str, list[str]]:
    return (pair.forward.question, pair.forward.answers, pair.reverse.question, pair.reverse.answers)


# -- spreadsheet-exported CSV --------------------------------------------------------------------------


def test_excel_semicolon_csv_with_bom_capitals_trailing_columns_and_empty_rows(tmp_path: Path) -> None:
    # Excel in a comma-decimal locale: ';' between cells, a BOM, CRLF, "Subject" headers, two unnamed
    # trailing columns and rows of empty cells. Was: "field 'subject;relation;object': unknown field".
    text = (
        "\ufeffSubject ; Relation;Object;;\r\n"
        "P-1;compatible_with;C-1;;\r\n"
        ";;;;\r\n"
        '"P-2; rev B";compatible_with;"C-2, v3";;\r\n'
        ";;;;\r\n"
    )
    p1, p2 = load_facts_file(write(tmp_path, "catalog.csv", text.encode("utf-8")))
    assert qa(p1) == (
        "Which controller is compatible with pump P-1?", ["C-1"],
        "Which pump is compatible with controller C-1?", ["P-1"],
    )
    assert qa(p2) == (
        "Which controller is compatible with pump P-2; rev B?", ["C-2, v3"],
        "Which pump is compatible with controller C-2, v3?", ["P-2; rev B"],
    )


def test_tab_separated_and_spelled_out_headers(tmp_path: Path) -> None:
    text = (
        "Forward Question\tForward Answer\tReverse Question\tReverse Answer\n"
        "Who wrote Dune?\tFrank Herbert|Herbert\tWhich novel did Frank Herbert write?\tDune\n"
    )
    (pair,) = load_facts_file(write(tmp_path, "f.csv", text))
    assert qa(pair) == ("Who wrote Dune?", ["Frank Herbert", "Herbert"], "Which novel did Frank Herbert write?", ["Dune"])


def test_quoted_commas_and_quotes_in_a_comma_csv(tmp_path: Path) -> None:
    text = (
        "forward_question,forward_answer,reverse_question,reverse_answer\r\n"
        '"Who wrote ""Dune"", the novel?","Herbert, Frank|Frank Herbert","Which novel did Herbert, Frank write?",Dune\r\n'
    )
    (pair,) = load_facts_file(write(tmp_path, "f.csv", text))
    assert qa(pair) == (
        'Who wrote "Dune", the novel?', ["Herbert, Frank", "Frank Herbert"],
        "Which novel did Herbert, Frank write?", ["Dune"],
    )


def test_a_column_named_twice_is_refused(tmp_path: Path) -> None:
    # Was: the last 'subject' column silently won (every fact was about P-9).
    path = write(tmp_path, "f.csv", "subject,relation,object,Subject\nP-1,compatible_with,C-1,P-9\n")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: row 1: column 'subject' is given twice (columns 1 and 4); remove or rename one"
    )


def test_a_value_under_a_column_without_header_is_refused(tmp_path: Path) -> None:
    # Was: silently dropped (two unnamed columns: the last one's empty cell won).
    path = write(tmp_path, "f.csv", "subject,relation,object,,\nP-1,compatible_with,C-1,,\nP-2,compatible_with,C-2,old,\n")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: row 3: 'old' in column 4, which has no header; name the column or delete the cell"
    )


def test_unknown_relation_in_a_csv_says_where_templates_can_go(tmp_path: Path) -> None:
    # Was: "define it under 'relations:'", which a CSV file has no place for.
    path = write(tmp_path, "f.csv", "subject,relation,object\nP-1,fits,C-1\n")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: row 2: field 'relation': unknown relation 'fits'; a CSV file has no 'relations:' "
        "section: use a built-in relation (known: child_of, compatible_with, directed, founded, wrote), give the "
        "questions in forward_question, forward_answer, reverse_question, reverse_answer columns, or move "
        "the facts to a YAML / JSON file (or a JSONL file with a {\"relations\": ...} first line)"
    )


# -- YAML scalars that are not text ----------------------------------------------------------------------


def test_yaml_answers_and_ids_keep_the_text_as_written(tmp_path: Path) -> None:
    # Was: 0012 -> "10" (YAML 1.1 octal), 1.50 -> "1.5", 0x1F -> "31", 12:30 -> "750" (base 60): answers
    # that no pipeline gives; and yes / 2024-01-01 refused with no word of what was read.
    text = """\
facts:
  - id: 0012
    forward: {question: "Which part code does pump P-1 use?", answer: 0012}
    reverse: {question: "Which pump uses part code 0012?", answer: P-1}
  - forward: {question: "What does the P-2 manual rate it at?", answer: [1.50, 0x1F, 12:30, 1e3]}
    reverse: {question: "Is pump P-2 certified?", answer: yes}
  - forward: {question: "When was P-3 released?", answer: 2024-01-01}
    reverse: {question: "Which pump was released on 2024-01-01?", answers: [P-3]}
  - {subject: P-4, relation: compatible_with, object: C-4, object_aliases: [0044, true]}
"""
    p1, p2, p3, p4 = load_facts_file(write(tmp_path, "f.yaml", text))
    assert p1.id == "0012" and p1.forward.answers == ["0012"]
    assert p2.forward.answers == ["1.50", "0x1F", "12:30", "1e3"] and p2.reverse.answers == ["yes"]
    assert p3.forward.answers == ["2024-01-01"]
    assert p4.forward.answers == ["C-4", "0044", "true"]


def test_yaml_subject_that_is_not_text_still_says_quote_it(tmp_path: Path) -> None:
    path = write(tmp_path, "f.yaml", "facts:\n  - {subject: P-1, relation: compatible_with, object: 2024-01-01}\n")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: facts[0] (line 2): field 'object': Input should be a valid string, "
        "got date datetime.date(2024, 1, 1): quote it"
    )


def test_json_true_as_an_answer_says_what_was_read(tmp_path: Path) -> None:
    path = write(
        tmp_path, "f.json",
        '{"facts": [{"forward": {"question": "Is P-1 certified?", "answer": true},'
        ' "reverse": {"question": "Which pump is certified?", "answer": "P-1"}}]}',
    )
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: facts[0]: field 'forward.answer': must be a string or a list of strings "
        "(accepted aliases), got bool True: quote it"
    )


def test_json_numbers_with_a_fraction_keep_the_text_as_written(tmp_path: Path) -> None:
    # Was: 1.50 -> "1.5" and 1e3 -> "1000.0" (json's float): answers no pipeline gives, as YAML had.
    jsonl = write(
        tmp_path, "f.jsonl",
        '{"forward_question": "What ratio does the P-2 manual give?", "forward_answer": [1.50, 1e3, 2],'
        ' "reverse_question": "Which pump has ratio 1.50?", "reverse_answer": "P-2"}\n',
    )
    (pair,) = load_facts_file(jsonl)
    assert pair.forward.answers == ["1.50", "1e3", "2"]
    path = write(tmp_path, "f.json", '[{"subject": 2.50, "relation": "compatible_with", "object": "C-1"}]')
    with pytest.raises(FactsError) as info:  # a subject is still not a number, and says what was read
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: facts[0]: field 'subject': Input should be a valid string, got float 2.50: quote it"
    )


# -- one-to-many relations -------------------------------------------------------------------------------

SHARED_YAML = """\
facts:
  - forward: {question: "Which controller fits pump P-1?", answer: C-7}
    reverse: {question: "Which pump fits controller C-7?", answer: P-1}
  - forward: {question: "Which controller fits pump P-2?", answer: C-7}
    reverse: {question: "Which pump fits controller C-7?", answer: [P-2, Pump 2]}
"""


def test_explicit_questions_asked_by_several_facts_accept_every_answer(tmp_path: Path) -> None:
    # Was: "Which pump fits controller C-7?" accepted only P-1 for the first fact and only P-2 for the
    # second: a pipeline answering the other pump was scored wrong on one of them.
    p1, p2 = load_facts_file(write(tmp_path, "f.yaml", SHARED_YAML))
    assert p1.reverse.answers == p2.reverse.answers == ["P-1", "P-2", "Pump 2"]
    assert (p1.forward.answers, p2.forward.answers) == (["C-7"], ["C-7"])
    assert (p1.statement, p2.statement) == (
        "Which controller fits pump P-1? C-7.", "Which controller fits pump P-2? C-7."
    )
    csv = (
        "forward_question,forward_answer,reverse_question,reverse_answer\n"
        "Which controller fits pump P-1?,C-7,Which pump fits controller C-7?,P-1\n"
        "Which controller fits pump P-2?,C-7,Which pump fits controller C-7?,P-2\n"
    )
    assert [p.reverse.answers for p in load_facts_file(write(tmp_path, "f.csv", csv))] == [["P-1", "P-2"]] * 2


def test_a_templated_and_an_explicit_fact_with_the_same_question_share_answers(tmp_path: Path) -> None:
    text = """\
facts:
  - {subject: P-1, relation: compatible_with, object: C-7}
  - forward: {question: "Which controller is compatible with pump P-2?", answer: C-7}
    reverse: {question: "Which pump is compatible with controller C-7?", answer: P-2}
"""
    p1, p2 = load_facts_file(write(tmp_path, "f.yaml", text))
    assert p1.reverse.answers == p2.reverse.answers == ["P-1", "P-2"]


def test_a_statement_states_its_own_fact_when_the_subject_has_several_objects(tmp_path: Path) -> None:
    # Was: the second fact's statement (a position-probe document) named the first fact's object C-1.
    text = """\
relations:
  fits: {forward: "Which controller fits {subject}?", reverse: "Which pump fits {object}?"}
facts:
  - {subject: P-1, relation: fits, object: C-1}
  - {subject: P-1, relation: fits, object: C-2}
"""
    p1, p2 = load_facts_file(write(tmp_path, "f.yaml", text))
    assert p1.forward.answers == p2.forward.answers == ["C-1", "C-2"]
    assert (p1.statement, p2.statement) == ("Which controller fits P-1? C-1.", "Which controller fits P-1? C-2.")


def test_the_result_notes_questions_shared_by_several_facts() -> None:
    facts = [
        ragprobe.Fact(subject="P-1", relation="compatible_with", object="C-7"),
        ragprobe.Fact(subject="P-2", relation="compatible_with", object="C-7"),
        ragprobe.Fact(subject="P-2", relation="compatible_with", object="C-8"),
        ragprobe.Fact(subject="P-3", relation="compatible_with", object="C-9"),
    ]

    def answer(question: str) -> str:  # every reverse question about C-7 gets the same pump
        if "controller is compatible" in question:
            return "C-7" if "P-1" in question or "P-2" in question else "C-9"
        return {"C-7": "P-2", "C-8": "P-2", "C-9": "P-3"}[question.rsplit(" ", 1)[1].rstrip("?")]

    r = ragprobe.check_reverse(answer, facts, max_drop=0.2)
    # "P-2" is a right answer to "which pump fits C-7?" for either fact; C-7 is right for P-2's question.
    # Facts 0 and 1 share C-7's question and facts 1 and 2 P-2's: seed 0 keeps 0, 2 and 3.
    assert (r.forward.correct, r.reverse.correct, r.n) == (3, 3, 3)
    assert sorted({e["id"] for e in r.examples}) == ["0", "2", "3"]
    assert [n for n in r.notes if "share" in n or "per question" in n] == [
        "2 of 4 facts share their reverse question with another fact (one object, several subjects; e.g. "
        "'Which pump is compatible with controller C-7?' accepts P-1, P-2): any of those answers is scored "
        "right",
        "2 of 4 facts share their forward question with another fact (one subject, several objects; e.g. "
        "'Which controller is compatible with pump P-2?' accepts C-7, C-8): any of those answers is scored "
        "right",
        "one fact per question is probed, sampled from 3 of 4 facts: a question's one answer counted once "
        "per fact would read as independent evidence it is not",
    ]
    one_to_one = ragprobe.check_reverse(answer, facts[::3], max_drop=0.2)
    assert not [n for n in one_to_one.notes if "share" in n or "per question" in n]


def test_a_relation_in_other_case_or_with_spaces_is_the_defined_one(tmp_path: Path) -> None:
    # Was: "unknown relation 'Compatible With'" for a spreadsheet's spelling of compatible_with.
    text = "relations:\n  fits: {forward: 'What does {subject} fit?', reverse: 'What fits {object}?'}\n"
    path = write(
        tmp_path, "f.yaml",
        text + "facts:\n  - {subject: P-1, relation: Compatible With, object: C-1}\n"
        "  - {subject: P-2, relation: compatible-with, object: C-2}\n  - {subject: P-3, relation: FITS, object: C-3}\n",
    )
    p1, p2, p3 = load_facts_file(path)
    assert (p1.relation, p1.forward.question) == ("compatible_with", "Which controller is compatible with pump P-1?")
    assert (p2.relation, p3.relation, p3.reverse.question) == ("compatible_with", "fits", "What fits C-3?")


def test_a_misspelt_relation_gets_a_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "subject,relation,object\nP-1,compatable_with,C-1\n")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value).startswith(
        f"{path}: row 2: field 'relation': unknown relation 'compatable_with' (did you mean 'compatible_with'?); "
        "a CSV file has no 'relations:' section"
    )


def test_a_csv_without_a_header_line_says_so(tmp_path: Path) -> None:
    # Was: "row 2: field 'P-1': unknown field; field 'compatible_with': unknown field; ..." (and row 1 lost).
    path = write(tmp_path, "f.csv", "P-1,compatible_with,C-1\nP-2,compatible_with,C-2\n")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: row 1: the first line must be a header naming the columns (subject, relation, object or "
        "forward_question, forward_answer, reverse_question, reverse_answer); found P-1, compatible_with, C-1"
    )


# -- aliases and templates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "error"),
    [
        (
            "pumps.csv",
            "subject,relation,object\nP-200|Pump 200,compatible_with,C-17\n",
            "pumps.csv: row 2: field 'subject': 'P-200|Pump 200' holds '|': give one subject here and its other "
            "names in subject_aliases (a list; in a CSV, a column subject_aliases with the names separated by '|')",
        ),
        (
            "pumps.yaml",
            "facts:\n  - {subject: P-200, relation: compatible_with, object: [C-17, C17]}\n",
            "pumps.yaml: facts[0] (line 2): field 'object': a list: give one object here and its other names in "
            "object_aliases",
        ),
        (
            "pumps.yaml",
            "facts:\n  - {subject: P-200, relation: compatible_with, object: C-17, aliases: [C17]}\n",
            "field 'aliases': unknown field (a fact's other names go in subject_aliases / object_aliases)",
        ),
    ],
)
def test_other_names_in_the_entity_field_point_at_the_alias_fields(
    tmp_path: Path, name: str, text: str, error: str
) -> None:
    """A '|' in a triple CSV's subject was asked as one name ("...pump P-200|Pump 200?"): a right pipeline
    scored 0.00 both ways. A list was "Input should be a valid string", 'aliases' an unknown field, no hint."""
    with pytest.raises(FactsError) as info:
        load_facts_file(write(tmp_path, name, text))
    assert error in str(info.value)


def test_alias_fields_are_accepted_answers(tmp_path: Path) -> None:
    text = "subject,relation,object,object_aliases\nP-200,compatible_with,C-17,C17|controller 17\n"
    (pair,) = load_facts_file(write(tmp_path, "pumps.csv", text))
    assert pair.forward.answers == ["C-17", "C17", "controller 17"] and pair.reverse.answers == ["P-200"]


RELATIONS = "relations:\n  fits:\n    forward: 'Which controller fits {subject}?'\n    reverse: 'Which pump fits {object}?'\n"


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        (
            "    statement: '{subject} fits {obj}.'\n",
            "field 'relations.fits': statement template '{subject} fits {obj}.': unknown placeholder {obj} "
            "(did you mean 'object'?) (use {subject} and {object}; {{ or }} for a literal brace)",
        ),
        (
            "    statement: '{subject} fits {object} }'\n",
            "statement template '{subject} fits {object} }': Single '}' encountered in format string "
            "(write {{ or }} for a literal brace)",
        ),
    ],
)
def test_a_template_typo_is_a_facts_error_naming_the_relation(tmp_path: Path, extra: str, error: str) -> None:
    """A typo in a statement template surfaced at the first fact as "the pipeline raised KeyError: 'obj'";
    a stray brace as a bare ValueError naming no file."""
    text = RELATIONS + extra + "facts:\n  - {subject: P-1, relation: fits, object: C-1}\n"
    with pytest.raises(FactsError) as info:
        load_facts_file(write(tmp_path, "rel.yaml", text))
    # the line the relation is defined on (was "top level")
    assert str(info.value).startswith(f"{tmp_path / 'rel.yaml'}: line 2: ") and error in str(info.value)


def test_template_errors_in_two_relations_or_json_say_top_level(tmp_path: Path) -> None:
    two = (
        "relations:\n  a:\n    forward: '{subject} {x}'\n    reverse: '{object}?'\n"
        "  b:\n    forward: '{subject} {y}'\n    reverse: '{object}?'\n"
        "facts:\n  - {subject: P-1, relation: a, object: C-1}\n"
    )
    with pytest.raises(FactsError, match=r"rel\.yaml: top level: field 'relations\.a'.*field 'relations\.b'"):
        load_facts_file(write(tmp_path, "rel.yaml", two))
    one = '{"relations": {"a": {"forward": "{subject} {x}", "reverse": "{object}?"}}, "facts": []}'
    with pytest.raises(FactsError, match=r"rel\.json: top level: field 'relations\.a'"):
        load_facts_file(write(tmp_path, "rel.json", one))


def test_a_question_template_holding_its_own_answer_is_refused(tmp_path: Path) -> None:
    """An echo pipeline scored forward 1.00, reverse 0.00: a "reversal" made by the template alone."""
    text = (
        "relations:\n  fits:\n    forward: 'Which controller ({object}) fits {subject}?'\n"
        "    reverse: 'Which pump fits {object}?'\nfacts:\n  - {subject: P-1, relation: fits, object: C-1}\n"
    )
    with pytest.raises(FactsError, match=r"forward template contains \{object\}, the answer it asks for"):
        load_facts_file(write(tmp_path, "rel.yaml", text))
