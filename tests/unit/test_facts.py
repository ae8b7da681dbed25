"""facts.py: every file format, one-to-many answers, aliases, error locations, safe YAML, synthetic facts."""

from __future__ import annotations

import itertools
import json
import os
import sys
from pathlib import Path

import pytest

from pytest_ragprobe import facts as facts_mod
from pytest_ragprobe.contexts import DataError
from pytest_ragprobe.facts import (
    BUILTIN_RELATIONS,
    Fact,
    FactPair,
    FactsError,
    Question,
    build_pairs,
    find_file,
    load_facts_file,
    resolve_pairs,
    sample,
    synthetic_facts,
)
from pytest_ragprobe.scoring import match_contains, normalize

PY313 = sys.version_info >= (3, 13)  # json's trailing-comma errors name the comma itself

DESIGN_YAML = """\
relations:                      # optional templates
  compatible_with:
    forward: "Which controller is compatible with pump {subject}?"
    reverse: "Which pump is compatible with controller {object}?"
    statement: "Pump {subject} is compatible with controller {object}."
facts:
  - {subject: P-200, relation: compatible_with, object: C-17}
  - forward: {question: "Who is Tom Cruise's mother?", answer: [Mary Lee Pfeiffer, Mary Lee South]}
    reverse: {question: "Who is Mary Lee Pfeiffer's son?", answer: Tom Cruise}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def qa(pair: FactPair) -> tuple[str, list[str], str, list[str]]:
    return (pair.forward.question, pair.forward.answers, pair.reverse.question, pair.reverse.answers)


# -- YAML -------------------------------------------------------------------------------------------


def test_design_yaml_example_verbatim(tmp_path: Path) -> None:
    pairs = load_facts_file(write(tmp_path, "parts.yaml", DESIGN_YAML))
    assert len(pairs) == 2
    p0, p1 = pairs
    assert qa(p0) == (
        "Which controller is compatible with pump P-200?",
        ["C-17"],
        "Which pump is compatible with controller C-17?",
        ["P-200"],
    )
    assert p0.statement == "Pump P-200 is compatible with controller C-17."
    assert (p0.subject, p0.relation, p0.object) == ("P-200", "compatible_with", "C-17")
    assert p0.id == "0"
    assert p0.source.endswith("parts.yaml")
    assert qa(p1) == (
        "Who is Tom Cruise's mother?",
        ["Mary Lee Pfeiffer", "Mary Lee South"],
        "Who is Mary Lee Pfeiffer's son?",
        ["Tom Cruise"],
    )
    # No template: the statement is the forward question followed by its first answer.
    assert p1.statement == "Who is Tom Cruise's mother? Mary Lee Pfeiffer."
    assert p1.id == "1"
    assert (p1.subject, p1.relation, p1.object) == (None, None, None)


def test_yml_suffix_and_top_level_list(tmp_path: Path) -> None:
    text = "- {subject: Ann, relation: wrote, object: Blue Hills}\n"
    pairs = load_facts_file(write(tmp_path, "f.YML", text))
    assert qa(pairs[0]) == (
        "Which novel did Ann write?",
        ["Blue Hills"],
        "Who wrote the novel Blue Hills?",
        ["Ann"],
    )
    assert pairs[0].statement == "Ann wrote the novel Blue Hills."


def test_file_relations_override_builtin_templates(tmp_path: Path) -> None:
    text = """\
relations:
  wrote:
    forward: "What did {subject} author?"
    reverse: "Who authored {object}?"
facts:
  - {subject: Ann, relation: wrote, object: Blue Hills, statement: "Ann authored Blue Hills."}
"""
    (pair,) = load_facts_file(write(tmp_path, "f.yaml", text))
    assert pair.forward.question == "What did Ann author?"
    assert pair.reverse.question == "Who authored Blue Hills?"
    assert pair.statement == "Ann authored Blue Hills."  # an explicit statement wins over templates


def test_template_without_statement_falls_back_to_forward_question(tmp_path: Path) -> None:
    text = """\
relations:
  likes: {forward: "What does {subject} like?", reverse: "Who likes {object}?"}
facts:
  - {subject: Bo, relation: likes, object: tea}
"""
    (pair,) = load_facts_file(write(tmp_path, "f.yaml", text))
    assert pair.statement == "What does Bo like? tea."


def test_one_to_many_reverse_accepts_every_subject(tmp_path: Path) -> None:
    text = """\
facts:
  - {subject: P-200, relation: compatible_with, object: C-17}
  - {subject: P-300, relation: compatible_with, object: C-17}
  - {subject: P-300, relation: compatible_with, object: C-99}
"""
    pairs = load_facts_file(write(tmp_path, "pumps.yaml", text))
    assert [p.reverse.answers for p in pairs] == [["P-200", "P-300"], ["P-200", "P-300"], ["P-300"]]
    # ... and the forward question for P-300 accepts both of its controllers.
    assert [p.forward.answers for p in pairs] == [["C-17"], ["C-17", "C-99"], ["C-17", "C-99"]]


def test_aliases_on_triples_and_explicit_answers(tmp_path: Path) -> None:
    text = """\
facts:
  - subject: Tom Cruise
    subject_aliases: [Thomas Cruise Mapother IV]
    relation: child_of
    object: Mary Lee Pfeiffer
    object_aliases: [Mary Lee South]
  - forward: {question: "Q1?", answers: ["  a1 ", a2]}
    reverse: {question: "Q2?", answer: 1999}
"""
    p0, p1 = load_facts_file(write(tmp_path, "f.yaml", text))
    assert p0.forward.answers == ["Mary Lee Pfeiffer", "Mary Lee South"]
    assert p0.reverse.answers == ["Tom Cruise", "Thomas Cruise Mapother IV"]
    assert p0.forward.question == "Who is Tom Cruise's parent?"
    assert p1.forward.answers == ["a1", "a2"]  # stripped
    assert p1.reverse.answers == ["1999"]  # numbers become strings


def test_explicit_ids_are_kept(tmp_path: Path) -> None:
    text = "facts:\n  - {id: pump-a, subject: P-1, relation: compatible_with, object: C-1}\n"
    (pair,) = load_facts_file(write(tmp_path, "f.yaml", text))
    assert pair.id == "pump-a"


# -- JSON / JSONL -----------------------------------------------------------------------------------


def test_json_file_with_relations(tmp_path: Path) -> None:
    data = {
        "relations": {"owns": {"forward": "What does {subject} own?", "reverse": "Who owns {object}?"}},
        "facts": [
            {"subject": "Kai", "relation": "owns", "object": "a red boat"},
            {
                "forward": {"question": "F?", "answer": "x"},
                "reverse": {"question": "R?", "answer": ["y", "z"]},
            },
        ],
    }
    pairs = load_facts_file(write(tmp_path, "f.json", json.dumps(data)))
    assert qa(pairs[0]) == ("What does Kai own?", ["a red boat"], "Who owns a red boat?", ["Kai"])
    assert qa(pairs[1]) == ("F?", ["x"], "R?", ["y", "z"])


def test_jsonl_with_relations_header_and_flat_keys(tmp_path: Path) -> None:
    lines = [
        {"relations": {"owns": {"forward": "What does {subject} own?", "reverse": "Who owns {object}?"}}},
        {"subject": "Kai", "relation": "owns", "object": "Boat"},
        {},  # replaced below by a blank line
        {
            "forward_question": "Who is A?",
            "forward_answer": "B|Bee",
            "reverse_question": "Who is B?",
            "reverse_answer": ["A"],
        },
    ]
    text = "\n".join("" if line == {} else json.dumps(line) for line in lines) + "\n"
    pairs = load_facts_file(write(tmp_path, "f.jsonl", text))
    assert len(pairs) == 2
    assert qa(pairs[0]) == ("What does Kai own?", ["Boat"], "Who owns Boat?", ["Kai"])
    assert qa(pairs[1]) == ("Who is A?", ["B", "Bee"], "Who is B?", ["A"])


def test_jsonl_bad_line_names_file_and_line(tmp_path: Path) -> None:
    text = json.dumps({"subject": "a", "relation": "wrote", "object": "b"}) + "\n\n{not json\n"
    path = write(tmp_path, "bad.jsonl", text)
    with pytest.raises(FactsError, match=r"bad\.jsonl: line 3: invalid JSON"):
        load_facts_file(path)


def test_jsonl_missing_field_names_line_and_field(tmp_path: Path) -> None:
    text = "\n".join(
        [
            json.dumps({"subject": "a", "relation": "wrote", "object": "b"}),
            json.dumps({"forward_question": "Q?", "forward_answer": "A", "reverse_question": "R?"}),
        ]
    )
    with pytest.raises(FactsError) as info:
        load_facts_file(write(tmp_path, "f.jsonl", text))
    assert str(info.value) == f"{tmp_path / 'f.jsonl'}: line 2: field 'reverse_answer' is missing or empty"


def test_json_invalid_names_line(tmp_path: Path) -> None:
    with pytest.raises(FactsError, match=r"f\.json: invalid JSON at line 3: "):
        load_facts_file(write(tmp_path, "f.json", '{\n "facts": [\n  {,}\n ]\n}'))


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        pytest.param(  # all it said was "Expecting property name enclosed in double quotes"
            "f.jsonl",
            '{"subject": "a", "relation": "wrote", "object": "b",}\n',
            "f.jsonl: line 1: invalid JSON: "
            + (
                "Illegal trailing comma before end of object (column 52); "  # 3.13 points at the comma
                if PY313
                else "Expecting property name enclosed in double quotes (column 53); "
            )
            + "JSON allows no comma before '}': remove it",
            id="jsonl-trailing-comma",
        ),
        pytest.param(
            "f.jsonl",
            "{'subject': 'a', 'relation': 'wrote', 'object': 'b'}\n",
            "f.jsonl: line 1: invalid JSON: Expecting property name enclosed in double quotes (column 2); "
            "JSON strings and keys take double quotes, not single ones",
            id="jsonl-single-quotes",
        ),
        pytest.param(  # the position data loader said this, the facts loader did not
            "f.jsonl",
            json.dumps({"subject": "a", "relation": "wrote", "object": "b"}, indent=2),
            "f.jsonl: line 1: invalid JSON: Expecting property name enclosed in double quotes (column 2); "
            "a JSONL file holds one whole JSON object per line (a pretty-printed object or a JSON list goes "
            "in a .json file)",
            id="jsonl-pretty-printed",
        ),
        pytest.param(
            "f.json",
            '{"facts": [\n  {"subject": "a", "relation": "wrote", "object": "b"},\n]}\n',
            (
                "f.json: invalid JSON at line 2: Illegal trailing comma before end of array (column 55); "
                if PY313
                else "f.json: invalid JSON at line 3: Expecting value (column 1); "
            )
            + "JSON allows no comma before ']': remove it",
            id="json-trailing-comma-in-list",
        ),
    ],
)
def test_json_slips_say_their_fix(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(FactsError) as info:
        load_facts_file(write(tmp_path, name, text))
    assert str(info.value) == f"{tmp_path}/{message}"


# -- CSV --------------------------------------------------------------------------------------------


def test_csv_flat_form_with_pipe_aliases(tmp_path: Path) -> None:
    text = (
        "forward_question,forward_answer,reverse_question,reverse_answer\n"
        "Who is Tom Cruise's mother?,Mary Lee Pfeiffer|Mary Lee South,"
        "Who is Mary Lee Pfeiffer's son?,Tom Cruise\n"
        '"Which pump, exactly?",C-17,Which controller?,P-200 | P 200\n'
    )
    p0, p1 = load_facts_file(write(tmp_path, "flat.csv", text))
    assert qa(p0) == (
        "Who is Tom Cruise's mother?",
        ["Mary Lee Pfeiffer", "Mary Lee South"],
        "Who is Mary Lee Pfeiffer's son?",
        ["Tom Cruise"],
    )
    assert qa(p1) == ("Which pump, exactly?", ["C-17"], "Which controller?", ["P-200", "P 200"])


def test_csv_triples_use_builtin_templates(tmp_path: Path) -> None:
    text = (
        "subject,relation,object,object_aliases\n"
        "P-200,compatible_with,C-17,C17|Ctrl-17\n"
        "Ada Brook,founded,Brook Labs,\n"
        "Ada Brook,directed,The Quiet Sea,\n"
    )
    p0, p1, p2 = load_facts_file(write(tmp_path, "triples.csv", text))
    assert qa(p0) == (
        "Which controller is compatible with pump P-200?",
        ["C-17", "C17", "Ctrl-17"],
        "Which pump is compatible with controller C-17?",
        ["P-200"],
    )
    assert qa(p1) == (
        "Which company did Ada Brook found?",
        ["Brook Labs"],
        "Who founded the company Brook Labs?",
        ["Ada Brook"],
    )
    assert p1.statement == "Ada Brook founded the company Brook Labs."
    assert p2.reverse.question == "Who directed the film The Quiet Sea?"
    assert p2.statement == "Ada Brook directed the film The Quiet Sea."


def test_csv_mixed_columns_triple_rows_leave_flat_cells_empty(tmp_path: Path) -> None:
    text = (
        "subject,relation,object,forward_question,forward_answer,reverse_question,reverse_answer\n"
        "P-200,compatible_with,C-17,,,,\n"
        ",,,Who is A?,B,Who is B?,A\n"
    )
    p0, p1 = load_facts_file(write(tmp_path, "mixed.csv", text))
    assert p0.reverse.question == "Which pump is compatible with controller C-17?"
    assert qa(p1) == ("Who is A?", ["B"], "Who is B?", ["A"])


def test_csv_with_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfsubject,relation,object\r\nP-200,compatible_with,C-17\r\n")
    (pair,) = load_facts_file(path)
    assert pair.subject == "P-200"


def test_csv_row_numbers_count_physical_lines(tmp_path: Path) -> None:
    text = (
        "forward_question,forward_answer,reverse_question,reverse_answer\n"
        '"A question\nover two lines?",X,Y?,Z\n'
        "Q2?,A2,R2?,\n"
    )
    with pytest.raises(FactsError) as info:
        load_facts_file(write(tmp_path, "nl.csv", text))
    assert str(info.value).endswith("nl.csv: row 4: field 'reverse_answer' is missing or empty")


def test_unknown_relation_in_a_list_says_what_a_list_can_do() -> None:
    # "define it under 'relations:'" cannot be done in a list of ragprobe.Fact
    with pytest.raises(FactsError) as info:
        resolve_pairs([Fact(subject="P-1", relation="fits", object="C-1")])
    assert str(info.value) == (
        "facts list: facts[0]: field 'relation': unknown relation 'fits'; in a list, use a built-in "
        "relation (child_of, compatible_with, directed, founded, wrote), or give the questions: "
        "Fact(forward={'question': ..., 'answer': ...}, reverse={...}); own templates go under "
        "'relations:' in a facts file"
    )


def test_csv_misspelt_column_is_named_with_the_missing_one(tmp_path: Path) -> None:
    text = "forward_question,forward_answer,reverse_question,reverse_anwser\nQ?,A,R?,B\n"
    with pytest.raises(FactsError) as info:
        load_facts_file(write(tmp_path, "typo.csv", text))
    assert str(info.value).endswith(
        "typo.csv: row 2: field 'reverse_answer' is missing or empty (found 'reverse_anwser': a misspelling?)"
    )


def test_csv_unknown_relation_names_row_and_field(tmp_path: Path) -> None:
    text = "subject,relation,object\nP-1,compatible_with,C-1\nP-2,fits,C-2\n"
    with pytest.raises(FactsError) as info:
        load_facts_file(write(tmp_path, "r.csv", text))
    msg = str(info.value)
    assert msg.startswith(f"{tmp_path / 'r.csv'}: row 3: field 'relation': unknown relation 'fits'")
    assert "known: child_of, compatible_with, directed, founded, wrote" in msg


def test_csv_missing_object_names_row_and_field(tmp_path: Path) -> None:
    text = "subject,relation,object\nP-1,compatible_with,\n"
    with pytest.raises(FactsError) as info:
        load_facts_file(write(tmp_path, "m.csv", text))
    msg = str(info.value)
    assert "m.csv: row 2: " in msg
    assert "missing: object" in msg


def test_csv_unexpected_column_is_named(tmp_path: Path) -> None:
    text = "subject,relation,object,colour\nP-1,compatible_with,C-1,red\n"
    with pytest.raises(FactsError, match=r"row 2: field 'colour': unknown field$"):
        load_facts_file(write(tmp_path, "x.csv", text))


# -- errors -----------------------------------------------------------------------------------------


def test_yaml_error_line_is_the_facts_line(tmp_path: Path) -> None:
    text = """\
# comment
relations: {}
facts:
  - {subject: P-1, relation: compatible_with, object: C-1}

  - subject: P-2
    relation: compatible_with
  - {subject: P-3, relation: compatible_with, object: C-3}
"""
    with pytest.raises(FactsError) as info:
        load_facts_file(write(tmp_path, "f.yaml", text))
    msg = str(info.value)
    assert msg.startswith(f"{tmp_path / 'f.yaml'}: facts[1] (line 6): ")
    assert "missing: object" in msg


def test_yaml_unknown_relation_names_fact_line(tmp_path: Path) -> None:
    text = "facts:\n  - {subject: a, relation: wrote, object: b}\n  - {subject: c, relation: ate, object: d}"
    expected = r"facts\[1\] \(line 3\): field 'relation': unknown relation 'ate'"
    with pytest.raises(FactsError, match=expected):
        load_facts_file(write(tmp_path, "f.yaml", text))


def test_yaml_missing_reverse_names_field(tmp_path: Path) -> None:
    text = "facts:\n  - forward: {question: 'Q?', answer: A}\n"
    with pytest.raises(FactsError) as info:
        load_facts_file(write(tmp_path, "f.yaml", text))
    assert "facts[0] (line 2): " in str(info.value)
    assert "'reverse' question is missing" in str(info.value)


def test_yaml_empty_answer_list_names_field(tmp_path: Path) -> None:
    text = "facts:\n  - forward: {question: 'Q?', answer: []}\n    reverse: {question: 'R?', answer: x}\n"
    with pytest.raises(FactsError, match=r"field 'forward\.answer': .*at least one non-empty answer"):
        load_facts_file(write(tmp_path, "f.yaml", text))


def test_a_missing_answer_names_the_key_files_use(tmp_path: Path) -> None:
    # was "field 'reverse.answers': Field required": the model's field, not the documented `answer:`
    text = "facts:\n  - forward: {question: 'Q?', answer: A}\n    reverse: {question: 'R?'}\n"
    with pytest.raises(FactsError) as info:
        load_facts_file(write(tmp_path, "f.yaml", text))
    assert str(info.value).endswith(
        "f.yaml: facts[0] (line 2): field 'reverse.answer': missing: the accepted answer (a string or a list "
        "of aliases)"
    )


def test_bad_yaml_names_file_and_position(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "facts:\n  - {subject: a, relation: wrote\n  - x\n")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    msg = str(info.value)
    # one line naming the file's lines: PyYAML's own text took four and called the file "<unicode string>"
    assert msg == (
        f"{path}: invalid YAML: line 4, column 1: did not find expected ',' or '}}' "
        "(while parsing a flow mapping at line 2, column 5)"
    )


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        pytest.param(  # was "mapping values are not allowed in this context", no word of the colon
            "facts:\n  - forward:\n      question: Which controller fits P-1: the small one?\n      answer: C-1\n",
            "; a value holding ': ' must be quoted (question: \"Which pump fits C-17: the small one?\")",
            id="unquoted-colon",
        ),
        pytest.param(  # was "found character that cannot start any token", no word of the tab
            "facts:\n\t- {subject: a, relation: wrote, object: b}\n",
            "; that is a tab: indent YAML with spaces",
            id="tab-indent",
        ),
    ],
)
def test_the_common_yaml_slips_get_their_fix(tmp_path: Path, text: str, hint: str) -> None:
    with pytest.raises(FactsError) as info:
        load_facts_file(write(tmp_path, "f.yaml", text))
    assert str(info.value).endswith(hint)


def test_yaml_top_level_scalar_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(FactsError, match=r"expected a mapping with 'facts:'"):
        load_facts_file(write(tmp_path, "f.yaml", "just text\n"))


def test_yaml_unknown_top_level_key_is_named(tmp_path: Path) -> None:
    text = "facts:\n  - {subject: a, relation: wrote, object: b}\nfactz: []\n"
    with pytest.raises(FactsError, match=r"top level: field 'factz': unknown field \(did you mean 'facts'\?\)$"):
        load_facts_file(write(tmp_path, "f.yaml", text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "facts:\n  - {subjet: a, relation: wrote, object: b}\n",
            r"facts\[0\] \(line 2\): field 'subjet': unknown field \(did you mean 'subject'\?\)$",
            id="fact-key",
        ),
        pytest.param(
            "facts:\n  - forward: {qestion: q, answer: a}\n    reverse: {question: r, answer: b}\n",
            r"field 'forward.qestion': unknown field \(did you mean 'question'\?\)$",
            id="question-key",
        ),
        pytest.param(
            "facts:\n  - forward: {question: q, anwser: a}\n    reverse: {question: r, answer: b}\n",
            r"field 'forward.anwser': unknown field \(did you mean 'answer'\?\)$",
            id="answer-key",
        ),
        pytest.param(  # `relation:` is a fact's key, but at the top level the close one is `relations:`
            "relation:\n  r: {forward: 'x {subject}', reverse: 'y {object}'}\nfacts: []\n",
            r"top level: field 'relation': unknown field \(did you mean 'relations'\?\)$",
            id="top-level-key",
        ),
        pytest.param(
            "relations:\n  r: {forward: 'x {subject}', reverse: 'y {object}', statment: z}\nfacts: []\n",
            r"field 'relations.r.statment': unknown field \(did you mean 'statement'\?\)$",
            id="template-key",
        ),
        pytest.param(  # an abbreviation is too short for difflib's ratio (obj/object: 0.67)
            "facts:\n  - {subject: P-1, relation: compatible_with, obj: C-1}\n",
            r"field 'obj': unknown field \(did you mean 'object'\?\)$",
            id="abbreviated-key",
        ),
    ],
)
def test_misspelt_key_gets_did_you_mean(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(FactsError, match=message):
        load_facts_file(write(tmp_path, "f.yaml", text))


def test_yaml_no_facts(tmp_path: Path) -> None:
    with pytest.raises(FactsError, match=r"f\.yaml: no facts found"):
        load_facts_file(write(tmp_path, "f.yaml", "facts: []\n"))


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("f.yaml", "", "f.yaml: the file is empty: it holds no facts"),
        ("f.yaml", "# to do\n", "f.yaml: the file holds only comments: it holds no facts"),
        ("f.json", " \n", "f.json: the file is empty: it holds no facts"),  # was "invalid JSON at line 1"
        ("f.csv", "\n", "f.csv: the file is empty: it holds no facts"),
        ("f.jsonl", "", "f.jsonl: the file is empty: it holds no facts"),
        ("f.json", "null\n", "f.json: the file holds null, not facts"),
        ("f.yaml", "---\n", "f.yaml: the file holds null, not facts"),
    ],
)
def test_an_empty_facts_file_says_it_is_empty(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(FactsError) as info:
        load_facts_file(write(tmp_path, name, text))
    assert str(info.value).endswith(message)


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (
        "facts:\n"
        f"  - !!python/object/apply:os.system ['touch {marker}']\n"
        "  - !!python/object:collections.OrderedDict {}\n"
    )
    with pytest.raises(FactsError, match=r"invalid YAML: .*python/object"):
        load_facts_file(write(tmp_path, "evil.yaml", text))
    assert not marker.exists()


def test_duplicate_id_names_both_location_and_id(tmp_path: Path) -> None:
    text = """\
facts:
  - {id: x, subject: a, relation: wrote, object: b}
  - {id: y, subject: c, relation: wrote, object: d}
  - {id: x, subject: e, relation: wrote, object: f}
"""
    with pytest.raises(FactsError) as info:
        load_facts_file(write(tmp_path, "f.yaml", text))
    assert str(info.value) == (
        f"{tmp_path / 'f.yaml'}: facts[2] (line 4): field 'id': duplicate id 'x' (first at facts[0] (line 2))"
    )


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, "facts.txt", "anything")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: unsupported facts format '.txt'; use .yaml, .yml, .json, .jsonl or .csv"
    )


def test_file_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(FactsError) as info:
        load_facts_file(missing)
    assert str(info.value) == f"{missing}: facts file not found (resolved to {missing.resolve()})"


def test_directory_is_not_a_facts_file(tmp_path: Path) -> None:
    # said "facts file not found" of a path that exists
    (tmp_path / "d.yaml").mkdir()
    with pytest.raises(FactsError) as info:
        load_facts_file(tmp_path / "d.yaml")
    d = tmp_path / "d.yaml"
    assert str(info.value) == f"{d}: is a directory, not a facts file (resolved to {d})"


def test_non_mapping_fact_is_named(tmp_path: Path) -> None:
    expected = r"facts\[0\] \(line 2\): expected a mapping of fact fields, got str"
    with pytest.raises(FactsError, match=expected):
        load_facts_file(write(tmp_path, "f.yaml", "facts:\n  - just a string\n"))


def test_relation_template_must_have_placeholders(tmp_path: Path) -> None:
    text = (
        "relations:\n  r: {forward: 'no subject', reverse: 'Who {object}?'}\n"
        "facts: [{subject: a, relation: r, object: b}]\n"
    )
    expected = r"field 'relations\.r': .*forward template must contain \{subject\}"
    with pytest.raises(FactsError, match=expected):
        load_facts_file(write(tmp_path, "f.yaml", text))


def test_relation_template_with_unknown_placeholder(tmp_path: Path) -> None:
    text = (
        "relations:\n  r: {forward: '{subject} {colour}?', reverse: 'Who {object}?'}\n"
        "facts: [{subject: a, relation: r, object: b}]\n"
    )
    expected = r"field 'relations\.r': forward template '\{subject\} \{colour\}\?': unknown placeholder \{colour\}"
    with pytest.raises(FactsError, match=expected):
        load_facts_file(write(tmp_path, "f.yaml", text))


# -- models and build_pairs ---------------------------------------------------------------------------


def test_question_accepts_answer_or_answers() -> None:
    assert Question(question="Q", answer="A").answers == ["A"]  # type: ignore[call-arg]
    assert Question.model_validate({"question": "Q", "answers": ["A", "B"]}).answers == ["A", "B"]
    with pytest.raises(ValueError, match="string or a list of strings"):
        Question.model_validate({"question": "Q", "answer": {"x": 1}})
    with pytest.raises(ValueError, match="at least one non-empty answer"):
        Question.model_validate({"question": "Q", "answer": "   "})


def test_fact_requires_triple_or_both_questions() -> None:
    with pytest.raises(ValueError, match=r"missing: relation, object"):
        Fact(subject="a")
    fact = Fact(subject="a", relation="wrote", object="b")
    assert fact.forward is None


def test_explicit_forward_with_template_reverse() -> None:
    fact = Fact.model_validate(
        {"subject": "a", "relation": "wrote", "object": "b", "forward": {"question": "Q?", "answer": "b!"}}
    )
    (pair,) = build_pairs([fact])
    assert qa(pair) == ("Q?", ["b!"], "Who wrote the novel b?", ["a"])


def test_build_pairs_default_where_in_errors() -> None:
    with pytest.raises(FactsError) as info:
        build_pairs([Fact(subject="a", relation="nope", object="b")], source="mine")
    assert str(info.value).startswith("mine: facts[0]: field 'relation': unknown relation 'nope'")


def test_builtin_relations_are_well_formed() -> None:
    assert set(BUILTIN_RELATIONS) == {"directed", "compatible_with", "founded", "wrote", "child_of"}
    for rel in BUILTIN_RELATIONS.values():
        assert "{subject}" in rel.forward
        assert "{object}" in rel.reverse
        assert rel.statement is not None
        assert "{subject}" in rel.statement and "{object}" in rel.statement


# -- synthetic facts ----------------------------------------------------------------------------------


def test_synthetic_count_ids_and_kinds() -> None:
    facts = synthetic_facts(12, seed=3)
    assert len(facts) == 12
    assert [f.id for f in facts] == [f"synthetic-{i}" for i in range(12)]
    kinds = [f.relation for f in facts]
    assert kinds[:4] == ["directed", "compatible_with", "founded", "wrote"]
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "directed": 3,
        "compatible_with": 3,
        "founded": 3,
        "wrote": 3,
    }
    for f in facts:
        if f.relation == "compatible_with":
            assert f.subject is not None and f.subject.startswith("P-")
            assert f.object is not None and f.object.startswith("C-")


def test_synthetic_names_are_the_ones_earlier_versions_drew_and_never_clash() -> None:
    """The clash check was rewritten for speed (synthetic:20000 took 400 s): the names must be the same
    draw as before (cached answers and samples of synthetic probes are keyed by them), and no name may hold
    another (a question naming "P-100" would match the gold "P-1000")."""
    import hashlib

    facts = synthetic_facts(500, seed=5)
    drawn = "|".join(f"{f.subject}>{f.object}" for f in facts)
    assert hashlib.sha256(drawn.encode()).hexdigest()[:16] == "69cf7aaf847a1840"  # as drawn before
    names = [name for f in synthetic_facts(800, seed=2) for name in (f.subject, f.object)]
    assert all(name is not None for name in names)
    clashes = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :] if a in b or b in a]  # type: ignore[operator]
    assert clashes == []


def test_synthetic_is_deterministic_per_seed() -> None:
    assert synthetic_facts(30, seed=7) == synthetic_facts(30, seed=7)
    a = [(f.subject, f.object) for f in synthetic_facts(30, seed=7)]
    b = [(f.subject, f.object) for f in synthetic_facts(30, seed=8)]
    assert a != b
    assert sum(x == y for x, y in zip(a, b, strict=True)) < 5
    # A prefix of a larger draw is the smaller draw: same generator, same order.
    assert synthetic_facts(10, seed=7) == synthetic_facts(30, seed=7)[:10]


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_synthetic_names_never_collide(seed: int) -> None:
    facts = synthetic_facts(300, seed=seed)
    names = [name for f in facts for name in (f.subject, f.object) if name is not None]
    assert len(names) == 600
    assert len({normalize(n) for n in names}) == 600
    padded = [f" {normalize(n)} " for n in names]
    for (a, na), (b, nb) in itertools.permutations(zip(names, padded, strict=True), 2):
        assert a not in b
        # and the scorer cannot confuse them either (whole-word match after normalisation)
        assert na not in nb, (a, b)
    assert not any(match_contains(names[0], [b]) for b in names[1:])


def test_synthetic_pairs_answer_each_other() -> None:
    pairs = build_pairs(synthetic_facts(8, seed=1))
    for p in pairs:
        assert p.forward.answers == [p.object]
        assert p.reverse.answers == [p.subject]
        assert p.subject is not None and p.subject in p.statement
        assert p.object is not None and p.object in p.statement


def test_synthetic_rejects_zero() -> None:
    with pytest.raises(FactsError, match="synthetic:0: N must be at least 1"):
        synthetic_facts(0)


# -- resolve_pairs / find_file / sample ---------------------------------------------------------------


def test_resolve_synthetic_spec() -> None:
    pairs = resolve_pairs("synthetic:5", seed=4)
    assert len(pairs) == 5
    assert all(p.source == "synthetic:5" for p in pairs)
    assert [p.subject for p in pairs] == [f.subject for f in synthetic_facts(5, seed=4)]
    assert [p.subject for p in resolve_pairs("synthetic:5", seed=5)] != [p.subject for p in pairs]


def test_resolve_relative_path_via_base_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "tests", tmp_path / "root"
    first.mkdir()
    second.mkdir()
    write(second, "parts.yaml", DESIGN_YAML)
    monkeypatch.chdir(tmp_path)
    pairs = resolve_pairs("parts.yaml", base_dirs=[first, second])
    assert len(pairs) == 2
    assert pairs[0].source == str(second / "parts.yaml")
    # The first base directory that has the file wins.
    write(first, "parts.yaml", "facts: [{subject: Z, relation: wrote, object: Y}]\n")
    assert [p.subject for p in resolve_pairs("parts.yaml", base_dirs=[first, second])] == ["Z"]
    # Not in any base dir nor the cwd: the error names every place it looked, in order.
    with pytest.raises(FactsError) as info:
        resolve_pairs("other.yaml", base_dirs=[first, second])
    assert str(info.value) == (
        f"other.yaml: facts file not found; looked for {first / 'other.yaml'}, "
        f"{second / 'other.yaml'}, {tmp_path / 'other.yaml'}"
    )
    # Found only in the cwd: used (after the base dirs).
    write(tmp_path, "cwd.yaml", DESIGN_YAML)
    assert len(resolve_pairs("cwd.yaml", base_dirs=[first, second])) == 2


def test_a_misspelt_file_name_gets_the_file_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """"fixtures/owner.yaml: facts file not found" named the places looked, not owners.yaml in one of them."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tests" / "fixtures").mkdir(parents=True)
    write(tmp_path / "tests" / "fixtures", "owners.yaml", DESIGN_YAML)
    with pytest.raises(FactsError) as info:
        resolve_pairs("fixtures/owner.yaml", base_dirs=[tmp_path / "tests", tmp_path])
    assert str(info.value).endswith(" (did you mean 'fixtures/owners.yaml'?)")
    with pytest.raises(DataError) as data_info:  # position data: `qa.json` for `qa.jsonl`
        find_file("fixtures/qa.json", [tmp_path / "tests"], "data file", DataError)
    assert "did you mean" not in str(data_info.value)
    write(tmp_path / "tests" / "fixtures", "qa.jsonl", "")
    with pytest.raises(DataError) as data_info:
        find_file("fixtures/qa.json", [tmp_path / "tests"], "data file", DataError)
    assert str(data_info.value).endswith(" (did you mean 'fixtures/qa.jsonl'?)")


def test_find_file_absolute_and_missing(tmp_path: Path) -> None:
    absolute = tmp_path / "x.yaml"
    assert find_file(absolute, [Path("/elsewhere")]) == absolute
    with pytest.raises(FactsError, match=r"^x\.yaml: facts file not found; looked for "):
        find_file("x.yaml", [tmp_path])
    with pytest.raises(DataError, match=r"^x\.yaml: data file not found; looked for "):
        find_file("x.yaml", [tmp_path], "data file", DataError)
    assert find_file("x.yaml", []) == Path("x.yaml")  # no base dirs: the loader says "not found"
    absolute.write_text("facts: []")
    assert find_file("x.yaml", [tmp_path]) == tmp_path / "x.yaml"
    assert find_file(Path("x.yaml"), [tmp_path]) == tmp_path / "x.yaml"


def test_resolve_list_of_facts_and_dicts() -> None:
    items = [
        Fact(subject="P-1", relation="compatible_with", object="C-1"),
        Fact(subject="P-2", relation="compatible_with", object="C-1"),
    ]
    pairs = resolve_pairs(items)
    assert [p.reverse.answers for p in pairs] == [["P-1", "P-2"], ["P-1", "P-2"]]
    assert all(p.source == "facts list" for p in pairs)
    assert resolve_pairs(pairs) == pairs  # FactPairs pass through untouched


def test_joined_pairs_get_distinct_ids_and_the_same_fact_twice_is_refused(tmp_path: Path) -> None:
    # Was: two files joined gave two facts with id '0' (report rows and miss lists named both alike), and
    # a file joined to itself was asked twice and counted as two pairs.
    a = load_facts_file(write(tmp_path, "a.csv", "subject,relation,object\nP-1,compatible_with,C-1\nP-2,compatible_with,C-2\n"))
    sub = tmp_path / "sub"
    sub.mkdir()
    b = load_facts_file(write(sub, "a.csv", "subject,relation,object\nP-3,compatible_with,C-3\n"))
    c = load_facts_file(write(tmp_path, "c.csv", "subject,relation,object\nP-4,compatible_with,C-4\n"))
    assert [p.id for p in a] == ["0", "1"] and [p.id for p in b] == [p.id for p in c] == ["0"]
    joined = resolve_pairs([*a, *b, *c])
    assert [p.id for p in joined] == ["a.csv:0", "1", "a.csv:0#2", "c.csv:0"]
    assert [p.subject for p in joined] == ["P-1", "P-2", "P-3", "P-4"]
    assert resolve_pairs(a) == a  # no collision: ids untouched
    with pytest.raises(FactsError) as info:
        resolve_pairs([*a, *a])
    assert str(info.value) == (
        f"facts list: pairs[2] (id '0' of {tmp_path / 'a.csv'}) is a duplicate of pairs[0] (id '0' of "
        f"{tmp_path / 'a.csv'}): the same forward and reverse questions; a fact listed twice is counted "
        "twice, so remove one"
    )


def test_joined_pairs_refuse_a_fact_repeated_in_another_case_naming_both_files(tmp_path: Path) -> None:
    # Was: "pairs[2] (id '0') is a duplicate of pairs[0] (id '0'): the same forward and reverse questions":
    # neither file named (both number from 0), and "the same" for questions that differ in case, which
    # one file refuses as "the same (apart from case and spacing)". Scoring folds case: one fact, asked twice.
    a = load_facts_file(write(tmp_path, "a.csv", "subject,relation,object\nP-1,compatible_with,C-1\nP-2,compatible_with,C-2\n"))
    b = load_facts_file(write(tmp_path, "b.csv", "subject,relation,object\np-1,compatible_with,c-1\n"))
    with pytest.raises(FactsError) as info:
        resolve_pairs([*a, *b])
    assert str(info.value) == (
        f"facts list: pairs[2] (id '0' of {tmp_path / 'b.csv'}) is a duplicate of pairs[0] (id '0' of "
        f"{tmp_path / 'a.csv'}): the same (apart from case and spacing) forward and reverse questions; a fact "
        "listed twice is counted twice, so remove one"
    )
    # pairs made by hand have no source: named by id alone
    hand = [p.model_copy(update={"source": ""}) for p in (a[0], b[0])]
    with pytest.raises(FactsError) as info:
        resolve_pairs(hand)
    assert str(info.value).startswith("facts list: pairs[1] (id '0') is a duplicate of pairs[0] (id '0'): the same (apart")
    # the same subject in another case with another object is not a duplicate: a one-to-many fact,
    # whose shared forward question accepts both controllers (scoring folds case)
    c = load_facts_file(write(tmp_path, "c.csv", "subject,relation,object\np-1,compatible_with,C-9\n"))
    joined = resolve_pairs([*a, *c])
    assert [p.id for p in joined] == ["a.csv:0", "1", "c.csv:0"]
    assert joined[0].forward.answers == joined[2].forward.answers == ["C-1", "C-9"]


def test_one_file_refuses_a_fact_repeated_in_another_case(tmp_path: Path) -> None:
    # (item kept with the joined case above: one file and joined files give the same treatment)
    path = write(tmp_path, "f.yaml", "facts:\n  - {subject: P-200, relation: compatible_with, object: C-17}\n"
                 "  - {subject: p-200, relation: Compatible With, object: c-17}\n")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: facts[1] (line 3): duplicate of facts[0] (line 2): the same (apart from case and spacing) "
        "forward and reverse questions; a fact listed twice is counted twice, so remove one"
    )


def test_resolve_list_errors() -> None:
    with pytest.raises(FactsError, match="facts list: no facts given"):
        resolve_pairs([])
    expected = r"facts list: facts\[1\]: expected a mapping of fact fields, got int"
    with pytest.raises(FactsError, match=expected):
        resolve_pairs([Fact(subject="a", relation="wrote", object="b"), 3])  # type: ignore[arg-type]


def test_synthetic_spec_must_be_exact() -> None:
    assert facts_mod.SYNTHETIC_RE.match("synthetic:12")
    assert not facts_mod.SYNTHETIC_RE.match("synthetic:")
    assert not facts_mod.SYNTHETIC_RE.match("synthetic:1x")


def test_sample_is_seeded_and_in_a_seeded_order() -> None:
    # Not file order: sequential looks and a call budget see the first part of the sample (see sample()).
    items = list(range(100))
    a = sample(items, 10, seed=1)
    assert len(a) == 10 and len(set(a)) == 10 and a != sorted(a)
    assert sample(items, 10, seed=1) == a
    assert sample(items, 10, seed=2) != a
    assert sample(items, 10, seed=1, salt="other") != a
    for n in (None, 100, 500):
        every = sample(items, n, seed=1)
        assert sorted(every) == items and every != items and every == sample(items, n, seed=1)



def test_sampled_pairs_remember_their_source_only_while_unchanged() -> None:
    """What ragprobe_fact_pairs returns: check_reverse trusts its source (to probe and explain as the mark)
    only for the list as made and the seed it was made with."""
    source = build_pairs([Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(6)])
    pairs = facts_mod.SampledPairs(source[:3], source=source, n=3, seed=5)
    assert pairs == source[:3] and isinstance(pairs, list)
    assert pairs.origin(5) == (source, 3)
    assert pairs.origin(6) is None  # another seed samples other facts than these
    assert type(pairs[:2]) is list and type(pairs + source) is list  # a slice or a join is a plain list
    changed = facts_mod.SampledPairs(source[:3], source=source, n=None, seed=5)
    changed.append(source[4])
    assert changed.origin(5) is None
    changed = facts_mod.SampledPairs(source[:3], source=source, n=None, seed=5)
    changed[0] = source[5]
    assert changed.origin(5) is None


LITM_ROW = {
    "question": "who wrote the novel the rust orchard?",
    "answers": ["Alder Kestrel"],
    "ctxs": [{"title": "The Rust Orchard", "text": "Alder Kestrel wrote it.", "isgold": True}],
}


def test_position_data_given_as_facts_says_to_use_position_data(tmp_path: Path) -> None:
    """@ragprobe.reverse(facts="qa.jsonl") with lost-in-the-middle rows gave pydantic's
    "line 1: field 'question': Extra inputs are not permitted; ..."."""
    path = write(tmp_path, "qa.jsonl", json.dumps(LITM_ROW) + "\n")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: line 1: this is lost-in-the-middle position data (question, answers and ctxs), not facts; "
        "use it with @ragprobe.position(data=...). facts= expects subject, relation and object "
        "(or forward and reverse questions) per fact"
    )
    assert "Extra inputs" not in str(info.value)
    # the .json list form and {question, answers, gold} examples, as files or as a list
    path = write(tmp_path, "qa.json", json.dumps([LITM_ROW]))
    with pytest.raises(FactsError, match=r"qa\.json: facts\[0\]: this is lost-in-the-middle position data"):
        load_facts_file(path)
    gold = {"question": "q?", "answers": ["a"], "gold": "a is the answer."}
    with pytest.raises(FactsError, match=r"^facts list: facts\[0\]: this is lost-in-the-middle position"):
        resolve_pairs([gold])  # type: ignore[list-item]


def test_a_fact_with_an_extra_question_key_keeps_the_field_error() -> None:
    with pytest.raises(FactsError, match=r"field 'question': unknown field$"):
        fact = {"subject": "a", "relation": "wrote", "object": "b", "question": "x"}
        resolve_pairs([fact])  # type: ignore[list-item]


def test_facts_given_as_position_data_say_to_use_facts(tmp_path: Path) -> None:
    """The mirror mistake: a JSONL / JSON facts file as data= said "field 'question' is missing"."""
    from pytest_ragprobe.contexts import DataError
    from pytest_ragprobe.position_probe import load_examples

    expected = (
        "this is facts (subject, relation and object, or forward and reverse questions, per fact), not "
        "lost-in-the-middle data; use it with facts=... instead of data=..."
    )
    row = {"subject": "P-1", "relation": "compatible_with", "object": "C-1"}
    for name, text in [("f.jsonl", json.dumps(row) + "\n"), ("f.json", json.dumps({"facts": [row]}))]:
        path = write(tmp_path, name, text)
        with pytest.raises(DataError) as info:
            load_examples(str(path))
        assert str(info.value) == f"{path}: {expected}"
    with pytest.raises(DataError) as info:
        load_examples([row])
    assert str(info.value) == f"data: {expected}"
    # real position data with a bad row keeps its own message
    path = write(tmp_path, "qa.jsonl", json.dumps({**LITM_ROW, "ctxs": []}) + "\n")
    with pytest.raises(DataError, match=r"line 1: field 'ctxs' must be a non-empty list"):
        load_examples(str(path))


def test_a_facts_file_is_parsed_once_per_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost plan and the probe read the same file: one parse, until the file changes."""
    path = tmp_path / "f.yaml"
    path.write_text("facts:\n  - {subject: P-1, relation: compatible_with, object: C-1}\n", encoding="utf-8")
    parses: list[str] = []
    real = facts_mod._parse_facts_text
    monkeypatch.setattr(facts_mod, "_parse_facts_text", lambda s, x, t: parses.append(s) or real(s, x, t))
    facts_mod._FACTS_MEMO.clear()
    first, again = load_facts_file(path), load_facts_file(path)
    assert first == again and len(first) == 1 and len(parses) == 1
    stat = path.stat()
    # an edit of the same size within the file system's time granularity is still seen
    path.write_text("facts:\n  - {subject: P-2, relation: compatible_with, object: C-2}\n", encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    (pair,) = load_facts_file(path)
    assert "P-2" in pair.forward.question and len(parses) == 2


# -- a user's own, messy files ----------------------------------------------------------------------


def test_blank_subject_or_question_is_missing_not_a_pydantic_crash(tmp_path: Path) -> None:
    # Was: a subject of blanks made an answer of blanks and a bare pydantic ValidationError (no file, no line).
    path = write(tmp_path, "f.yaml", "facts:\n  - {subject: P-1, relation: wrote, object: B}\n"
                 "  - {subject: '  ', relation: wrote, object: C}\n")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: facts[1] (line 3): needs subject, relation and object (missing: subject) "
        "or both forward and reverse questions"
    )
    path = write(tmp_path, "q.yaml", "facts:\n  - forward: {question: '  ', answer: A}\n"
                 "    reverse: {question: R?, answer: S}\n")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: facts[0] (line 2): field 'forward.question': is empty: write the question"
    )


def test_csv_spaces_after_commas_name_the_usual_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "subject, relation, object\nP-1, compatible_with, C-1\n")
    (pair,) = load_facts_file(path)
    assert qa(pair) == (
        "Which controller is compatible with pump P-1?", ["C-1"], "Which pump is compatible with controller C-1?",
        ["P-1"],
    )


def test_csv_row_with_surplus_cells_is_named(tmp_path: Path) -> None:
    # Was: "row 3: field 'None': Keys should be strings" (DictReader's key for surplus cells).
    path = write(tmp_path, "f.csv", "subject,relation,object\nP-1,compatible_with,C-1\nP-2,compatible_with,C-2, rev B\n")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: row 3: 4 cells but the header has 3 columns (subject, relation, object); "
        "quote a cell that contains a comma"
    )


def test_numeric_ids_are_ids(tmp_path: Path) -> None:
    text = "facts:\n  - {id: 7, subject: P-1, relation: wrote, object: B}\n  - {id: 8, subject: P-2, relation: wrote, object: C}\n"
    assert [p.id for p in load_facts_file(write(tmp_path, "f.yaml", text))] == ["7", "8"]
    line = json.dumps({"id": 7, "subject": "P-1", "relation": "wrote", "object": "B"})
    with pytest.raises(FactsError, match=r"line 2: field 'id': duplicate id '7'"):
        load_facts_file(write(tmp_path, "f.jsonl", f"{line}\n{line.replace('P-1', 'P-3')}\n"))


def test_number_where_text_is_expected_says_quote_it(tmp_path: Path) -> None:
    path = write(tmp_path, "f.yaml", "facts:\n  - {subject: 200, relation: compatible_with, object: C-1}\n")
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: facts[0] (line 2): field 'subject': Input should be a valid string, got int 200: quote it"
    )


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("f.csv", "subject,relation,object\nP-1,compatible_with,C-1\nP-2,compatible_with,C-2\n"
         "P-1,compatible_with,C-1\n", "row 4: duplicate of row 2"),
        ("f.yaml", "facts:\n  - {subject: A, relation: wrote, object: B}\n"
         "  - {subject: A, relation: wrote, object: B, id: again}\n", "facts[1] (line 3): duplicate of facts[0] (line 2)"),
    ],
)
def test_a_fact_listed_twice_is_refused(tmp_path: Path, name: str, text: str, where: str) -> None:
    # Was: accepted, asked twice and counted as two pairs (overstating the evidence).
    path = write(tmp_path, name, text)
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: {where}: the same forward and reverse questions; a fact listed twice is counted twice, "
        "so remove one"
    )


def test_a_fact_listed_twice_in_another_case_is_refused(tmp_path: Path) -> None:
    # Was: accepted as a second fact, though scoring folds case ("c-1" and "C-1" are one answer).
    text = "subject,relation,object\nP-1,compatible_with,C-1\np-1,compatible_with,c-1\nP-2,compatible_with,C-1\n"
    path = write(tmp_path, "f.csv", text)
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: row 3: duplicate of row 2: the same (apart from case and spacing) forward and reverse "
        "questions; a fact listed twice is counted twice, so remove one"
    )


def test_one_to_many_facts_are_not_duplicates(tmp_path: Path) -> None:
    text = "subject,relation,object\nP-1,compatible_with,C-1\nP-1,compatible_with,C-2\nP-2,compatible_with,C-1\n"
    assert len(load_facts_file(write(tmp_path, "f.csv", text))) == 3


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("f.yaml", "facts:\n  - subject: P-1\n    relation: wrote\n    object: B\n    object: C\n",
         "invalid YAML: line 5, column 5: found duplicate key 'object' (first given on line 4)"),
        ("f.json", '{"facts": [{"subject": "P-1", "subject": "P-9", "relation": "wrote", "object": "B"}]}',
         "invalid JSON: key 'subject' given twice in one object"),
        ("f.jsonl", '{"subject": "P-1", "relation": "wrote", "object": "B"}\n'
         '{"subject": "P-2", "subject": "P-9", "relation": "wrote", "object": "C"}\n',
         "line 2: invalid JSON: key 'subject' given twice in one object"),
    ],
)
def test_a_key_given_twice_is_refused(tmp_path: Path, name: str, text: str, message: str) -> None:
    # Was: the last value silently won (P-1 became P-9).
    path = write(tmp_path, name, text)
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == f"{path}: {message}"


def test_bom_crlf_blank_lines_and_accents(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes("subject,relation,object\r\nPümpé-ß,compatible_with,Çontrôleur-1\r\n\r\n".encode("utf-8-sig"))
    (pair,) = load_facts_file(path)
    assert pair.forward.answers == ["Çontrôleur-1"] and pair.reverse.answers == ["Pümpé-ß"]
    path = tmp_path / "f.jsonl"
    row = json.dumps({"subject": "Gaël", "relation": "wrote", "object": "Noël"}, ensure_ascii=False)
    path.write_bytes(f"{row}\r\n\r\n".encode("utf-8-sig"))
    assert load_facts_file(path)[0].statement == "Gaël wrote the novel Noël."


def test_a_wrong_fact_field_in_code_is_a_fact_field_error_naming_line_class_and_field() -> None:
    """`ragprobe.Fact(subject="P-1", relation=5, ...)` raised pydantic's ValidationError ("1 validation
    error for Fact ... Input should be a valid string [type=string_type, ...] For further information visit
    https://errors.pydantic.dev/..."): no line of the user's code, pydantic's words."""
    import inspect

    import pytest_ragprobe as ragprobe
    from pytest_ragprobe.facts import FactFieldError, FactsError

    assert ragprobe.FactFieldError is FactFieldError and "FactFieldError" in ragprobe.__all__
    here = Path(__file__).resolve().relative_to(Path.cwd().resolve())

    class PartFact(ragprobe.Fact):  # a user's subclass is named as such
        pass

    cases: list[tuple[type[ragprobe.Fact], dict[str, object], str]] = [
        (ragprobe.Fact, {"subject": "P-1", "relation": 5, "object": "C-1"}, "field 'relation': must be a str, got int 5"),
        (ragprobe.Fact, {"relation": "compatible_with", "object": "C-1"}, "needs subject, relation and object "
         "(missing: subject) or both forward and reverse questions"),
        (PartFact, {"subjet": "P-1", "relation": "r", "object": "C-1"}, "field 'subjet': unknown field (did you "
         "mean 'subject'?)"),
        (PartFact, {"subject": ["P-1"], "relation": "r", "object": "C-1"}, "field 'subject': must be a str, got list"),
    ]
    for cls, fields, message in cases:
        line = inspect.currentframe().f_lineno + 2  # type: ignore[union-attr]
        with pytest.raises(FactFieldError) as info:
            cls(**fields)  # type: ignore[arg-type]
        assert str(info.value) == f"{here}:{line}: {cls.__name__}(...): {message}"
        assert isinstance(info.value, FactsError) and isinstance(info.value, ValueError)
        assert "pydantic" not in str(info.value) and "http" not in str(info.value)


def test_a_wrong_fact_field_in_a_file_or_list_is_a_fact_field_error_too(tmp_path: Path) -> None:
    from pytest_ragprobe.facts import FactFieldError

    path = tmp_path / "parts.yaml"
    path.write_text("facts:\n  - {subject: P-1, relation: compatible_with, object: C-1}\n  - {relation: x}\n")
    with pytest.raises(FactFieldError, match=r"parts\.yaml: facts\[1\] \(line 3\): needs subject, relation"):
        load_facts_file(path)
    with pytest.raises(FactFieldError, match=r"^facts list: facts\[0\]: field 'relation': "):
        facts_mod.resolve_pairs([{"subject": "P-1", "relation": 5, "object": "C-1"}])


def test_a_misspelt_file_name_is_suggested_as_it_was_typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The suggestion was rebuilt from a Path: './fixtures/owner.yaml' got 'fixtures/owners.yaml' (on
    Windows 'fixtures/owner.yaml' got 'fixtures\\\\owners.yaml'), and an absolute path, or a relative one
    looked up without base directories, got no suggestion at all."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tests" / "fixtures").mkdir(parents=True)
    write(tmp_path / "tests" / "fixtures", "owners.yaml", DESIGN_YAML)
    for typed in ("./fixtures/owner.yaml", "fixtures//owner.yaml", "../tests/fixtures/owner.yaml"):
        with pytest.raises(FactsError) as info:
            resolve_pairs(typed, base_dirs=[tmp_path / "tests"])
        assert str(info.value).startswith(f"{typed}: facts file not found; looked for ")
        assert str(info.value).endswith(f" (did you mean {typed.replace('owner.', 'owners.')!r}?)")
    typed = str(tmp_path / "tests" / "fixtures" / "owner.yaml")  # absolute: stays absolute
    with pytest.raises(FactsError) as info:
        resolve_pairs(typed, base_dirs=[tmp_path / "tests"])
    assert str(info.value) == (
        f"{typed}: facts file not found (resolved to {typed}) (did you mean {typed.replace('owner.', 'owners.')!r}?)"
    )
    with pytest.raises(FactsError) as info:  # no base directories (the cwd only): relative stays relative
        resolve_pairs("./tests/fixtures/owner.yaml")
    assert str(info.value).endswith(" (did you mean './tests/fixtures/owners.yaml'?)")
    # Windows-style separators, as a Windows path splits them: the user's own kept
    from pathlib import PureWindowsPath

    from pytest_ragprobe.facts import as_typed

    for typed, want in [
        ("fixtures\\owner.yaml", "fixtures\\owners.yaml"),
        ("fixtures/owner.yaml", "fixtures/owners.yaml"),
        (".\\data/owner.yaml", ".\\data/owners.yaml"),
        ("C:\\suite\\owner.yaml", "C:\\suite\\owners.yaml"),
    ]:
        assert as_typed(typed, PureWindowsPath(typed).name, "owners.yaml") == want
