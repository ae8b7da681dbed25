"""A user's own position data: the mistakes a new user makes, the messages they get, what is accepted."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_ragprobe.contexts import DataError, load_litm, parse_litm, plan_context
from pytest_ragprobe.facts import FactsError, load_facts_file
from pytest_ragprobe.markers import POSITION_MARK, MarkArgumentError, build_spec
from pytest_ragprobe.pipeline import Pipeline
from pytest_ragprobe.position_probe import check_position, load_examples
from pytest_ragprobe.types import Document


def row(i: int, n_distractors: int = 4, **extra: Any) -> dict[str, Any]:
    ctxs = [{"title": f"Item {i}", "text": f"The code of item {i} is Q{i}X.", "isgold": True}]
    ctxs += [
        {"title": f"Note {i}.{j}", "text": f"Shelf note {j} for aisle {i}.", "isgold": False}
        for j in range(n_distractors)
    ]
    return {"question": f"What is the code of item {i}?", "answers": [f"Q{i}X"], "ctxs": ctxs, **extra}


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


# -- encodings and line ends -------------------------------------------------------------------------


def test_a_latin1_file_names_the_line_and_says_to_save_as_utf8(tmp_path: Path) -> None:
    """Was: "cannot read: 'utf-8' codec can't decode byte 0xe9 in position 812: invalid continuation
    byte": no line, no fix."""
    text = jsonl([row(0), row(1)]) + jsonl([row(2)]).replace("Shelf", "Étagère")
    path = tmp_path / "qa.jsonl"
    path.write_bytes(text.encode("latin-1"))
    column = json.dumps(row(2), ensure_ascii=False).index("Shelf") + 1  # "É" is the first bad byte
    with pytest.raises(DataError) as info:
        load_examples(path)
    assert str(info.value) == (
        f"{path}: line 3: not UTF-8 (byte 0xc9 at byte {column} of the line); save the file as UTF-8 "
        "(it is probably Windows-1252 / Latin-1)"
    )


def test_a_utf16_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text(jsonl([row(0)]), encoding="utf-16")  # Notepad's "Unicode"
    with pytest.raises(DataError) as info:
        load_examples(path)
    assert str(info.value) == (
        f"{path}: the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"
    )


def test_a_latin1_facts_file_names_the_line_too(tmp_path: Path) -> None:
    path = tmp_path / "parts.csv"
    path.write_bytes("subject,relation,object\nP-1,made_by,Müller\n".encode("latin-1"))
    with pytest.raises(FactsError) as info:
        load_facts_file(path)
    assert str(info.value) == (
        f"{path}: line 2: not UTF-8 (byte 0xfc at byte 14 of the line); save the file as UTF-8 "
        "(it is probably Windows-1252 / Latin-1)"
    )


def test_bom_and_windows_line_ends_load_with_the_right_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    body = jsonl([row(0), row(1), row(2)]).replace("\n", "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    examples, _ = load_examples(path)
    assert [(e.question, e.where) for e in examples] == [
        (f"What is the code of item {i}?", f"{path}: line {i + 1}") for i in range(3)
    ]


def test_a_unicode_line_separator_inside_a_passage_is_text_not_a_line_end(tmp_path: Path) -> None:
    """json.dumps(..., ensure_ascii=False) leaves U+2028 / U+0085 unescaped; str.splitlines split the line
    there: "line 1: invalid JSON: Unterminated string", and every later line number was off."""
    first = row(0)
    first["ctxs"][1]["text"] = "Shelf note\u2028second line\u0085third."
    rows = [first, row(1), {"question": "q"}]
    path = tmp_path / "qa.jsonl"
    path.write_text(jsonl(rows), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_litm(path)
    assert str(info.value).startswith(f"{path}: line 3: field 'answers' is missing")
    path.write_text(jsonl(rows[:2]), encoding="utf-8")
    examples = load_litm(path)
    assert examples[0].distractors[0].text == "Shelf note\u2028second line\u0085third."
    # the facts JSONL loader had the same split
    facts = tmp_path / "facts.jsonl"
    fact = {"subject": "P\u2028200", "relation": "compatible_with", "object": "C-17"}
    facts.write_text(jsonl([fact, {"subject": "P-300", "relation": "compatible_with", "object": "C-18"}]))
    assert [p.subject for p in load_facts_file(facts)] == ["P\u2028200", "P-300"]


def test_a_file_with_bare_cr_line_ends_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_bytes(jsonl([row(0), row(1)]).replace("\n", "\r").encode())
    assert [e.id for e in load_litm(path)] == ["line1", "line2"]


# -- JSON mistakes -----------------------------------------------------------------------------------


JSONL_HINT = (
    "; a JSONL file holds one whole JSON object per line (a pretty-printed object or a JSON list goes in a "
    ".json file)"
)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        pytest.param(
            json.dumps(row(0), indent=2),
            "line 1: invalid JSON: Expecting property name enclosed in double quotes (column 2)",
            JSONL_HINT,
            id="pretty-printed",
        ),
        pytest.param(
            json.dumps([row(0), row(1)], indent=2),
            "line 1: invalid JSON: Expecting value (column 2)",
            JSONL_HINT,
            id="pretty-printed-list",
        ),
        pytest.param(
            json.dumps([row(0), row(1)]) + "\n",
            "line 1: expected a JSON object with question, answers and ctxs, got list",
            JSONL_HINT,
            id="json-list-on-one-line",
        ),
        pytest.param(
            json.dumps(row(0)) + ",\n" + json.dumps(row(1)) + "\n",
            "line 1: invalid JSON: Extra data (column ",
            "; JSONL lines are not separated by commas: remove the one at the end of the line",
            id="trailing-comma",
        ),
        pytest.param(  # a comma left after the last ctx: "Expecting value" and no more
            json.dumps(row(0))[:-2] + ",]}\n",
            "line 1: invalid JSON: "
            + ("Illegal trailing comma before end of array" if sys.version_info >= (3, 13) else "Expecting value"),
            "; JSON allows no comma before ']': remove it",
            id="comma-before-bracket",
        ),
    ],
)
def test_json_that_is_not_jsonl_says_what_jsonl_is(tmp_path: Path, text: str, start: str, end: str) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_examples(path)
    got = str(info.value)
    assert got.startswith(f"{path}: {start}") and got.endswith(end)


def test_a_key_given_twice_in_one_object_is_an_error(tmp_path: Path) -> None:
    """json keeps the last silently: a ctx pasted with "isgold": true, ..., "isgold": false lost its gold
    flag, and a repeated "answers" dropped the first list."""
    line = json.dumps(row(0)).replace('"answers": ["Q0X"]', '"answers": ["Q0X"], "answers": ["zzz"]')
    path = tmp_path / "qa.jsonl"
    path.write_text(jsonl([row(1)]) + line + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_examples(path)
    assert str(info.value) == f"{path}: line 2: invalid JSON: key 'answers' given twice in one object"
    listed = tmp_path / "qa.json"
    listed.write_text("[" + line + "]", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_examples(listed)
    assert str(info.value) == f"{listed}: invalid JSON: key 'answers' given twice in one object"


# -- YAML --------------------------------------------------------------------------------------------

QA_YAML = """\
# my QA set
- id: pump
  question: Which controller fits pump P-200?
  answers: [C-17, controller C-17]
  ctxs:
    - {title: P-200 manual, text: Pump P-200 is compatible with controller C-17., isgold: true}
    - {title: P-300 manual, text: Pump P-300 needs a 24 V supply.}
- question: Who makes pump P-300?
  answers: Acme
  ctxs:
    - title: P-300 sheet
      text: Pump P-300 is made by Acme.
      isgold: true
    - title: Warranty
      text: The warranty lasts two years.
"""


def test_a_yaml_list_of_examples_is_data(tmp_path: Path) -> None:
    """Was a loop: data="qa.yaml" said "for a facts file (YAML / CSV) use facts=", and facts="qa.yaml" said
    "this is lost-in-the-middle position data ... use it with @ragprobe.position(data=...)"."""
    path = tmp_path / "qa.yaml"
    path.write_text(QA_YAML, encoding="utf-8")
    examples, pool = load_examples(path)
    assert [(e.id, e.where, e.answers) for e in examples] == [
        ("pump", f"{path}: line 2", ("C-17", "controller C-17")),
        ("line8", f"{path}: line 8", ("Acme",)),
    ]
    assert examples[1].gold == Document(text="Pump P-300 is made by Acme.", title="P-300 sheet")
    assert [d.title for d in examples[1].distractors] == ["Warranty"]
    assert len(pool.documents) == 4
    # the facts loader's hint now leads somewhere
    with pytest.raises(FactsError, match=r"use it with @ragprobe.position\(data=\.\.\.\)"):
        load_examples(path, facts=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            QA_YAML.replace("  answers: Acme\n", ""),
            "{path}: line 8: field 'answers' is missing (a list of accepted answers)",
            id="missing-answers",
        ),
        pytest.param(
            QA_YAML.replace("  answers: Acme\n", "  answers: Acme\n  answers: [Zenith]\n"),
            "{path}: invalid YAML: line 10, column 3: found duplicate key 'answers' (first given on line 9)",
            id="duplicate-key",
        ),
        pytest.param(
            "examples:\n" + QA_YAML,
            "{path}: expected a non-empty YAML list of examples (- question: ..., answers: [...], ctxs: [...])",
            id="not-a-list",
        ),
        pytest.param(
            "facts:\n  - {subject: P-200, relation: fits, object: C-17}\n",
            "{path}: this is a facts file (facts: with subject, relation and object, or forward and reverse "
            "questions), not lost-in-the-middle data; use facts=... instead of data=...",
            id="facts-file",
        ),
    ],
)
def test_yaml_data_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "qa.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_examples(path)
    assert str(info.value).startswith(message.format(path=path))


def test_a_tab_indent_in_yaml_data_is_named(tmp_path: Path) -> None:
    """Said only "found character that cannot start any token" (libyaml's words, no '\\t' in them)."""
    path = tmp_path / "qa.yml"
    path.write_text(QA_YAML.replace("- question: Who", "\t- question: Who"), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_examples(path)
    assert str(info.value).startswith(f"{path}: invalid YAML: line 8, column 1: found character")
    assert str(info.value).endswith("; that is a tab: indent YAML with spaces")


# -- the gold document among the distractors ----------------------------------------------------------


def test_the_gold_passage_under_another_title_is_not_a_distractor() -> None:
    """The gold passage also listed as a retrieved ctx (no title, or another one) whose text does not
    contain the answer string (it paraphrases "1969") was kept as a distractor: the gold then sat at a
    fixed index in every context as well as at the position probed."""
    gold_text = "Apollo 11 landed in nineteen sixty-nine."
    raw = {
        "question": "When did Apollo 11 land?",
        "answers": ["1969"],
        "ctxs": [
            {"title": "Apollo 11", "text": gold_text, "isgold": True},
            {"title": "", "text": gold_text, "isgold": False},
            {"title": "Moon landing", "text": "  apollo 11 landed in Nineteen sixty-nine ", "isgold": False},
            {"title": "Gemini", "text": "Gemini flew ten crewed missions.", "isgold": False},
            {"title": "Mercury", "text": "Mercury flew six crewed missions.", "isgold": False},
        ],
    }
    ex = parse_litm(raw, "qa.jsonl: line 1")
    plan = plan_context(ex, 3, seed=0)
    for position in (0, 1, 2):
        docs = plan.at(position)
        assert [d.text for d in docs].count(gold_text) == 1 and docs[position].title == "Apollo 11"
        assert {d.title for d in docs} == {"Apollo 11", "Gemini", "Mercury"}
    with pytest.raises(DataError) as info:
        plan_context(ex, 4, seed=0)
    assert str(info.value) == (
        "qa.jsonl: line 1: question 'When did Apollo 11 land?' has only 2 usable distractor(s) (documents "
        "that contain an answer or repeat the gold passage are skipped) but n_docs=4 needs 3; lower n_docs "
        "to 3 or less, or add distractors"
    )


# -- n_docs larger than the data hold ----------------------------------------------------------------


def test_a_sequential_probe_short_of_distractors_errors_before_any_call() -> None:
    """A question whose answer is in every passage has no usable distractor. Its plan was built only when
    its sequential look came: the earlier looks' calls were spent, then the probe errored anyway."""
    rows = [row(i) for i in range(40)]
    rows[-1]["answers"] = ["aisle", "code"]  # every other passage mentions an aisle or a code
    rows[-1]["ctxs"][0]["text"] = "Aisle 39 holds item 39."
    calls: list[str] = []

    def generate(question: str, documents: list[Document]) -> str:
        calls.append(question)
        return "I do not know"

    with pytest.raises(DataError) as info:
        check_position(Pipeline(generate=generate), rows, n_docs=5, sequential=True)
    assert str(info.value).startswith("data[39]: question 'What is the code of item 39?' has only 0 usable")
    assert calls == []


# -- the result says when the gold documents hold no answer -------------------------------------------


def test_gold_documents_without_any_answer_are_noted() -> None:
    """isgold one ctx off (a common slip in hand-made data): no context holds the answer, every position is
    wrong alike, and the PASS said nothing about the data."""
    rows = [row(i, n_distractors=6) for i in range(30)]
    for r in rows[:12]:
        r["ctxs"][0]["isgold"], r["ctxs"][1]["isgold"] = False, True

    def generate(question: str, documents: list[Document]) -> str:
        return " ".join(d.text for d in documents)  # right whenever the answer is in the context

    result = check_position(Pipeline(generate=generate), rows, n_docs=4, max_drop=0.2)
    assert result.metrics["correct_by_position"] == {0: 18, 1: 18, 2: 18, 3: 18}
    assert (
        "12 of 30 gold documents contain none of the accepted answers (first: data[0]); check that each "
        "gold document (isgold: true) is the passage that holds the answer"
    ) in result.notes
    fine = check_position(Pipeline(generate=generate), rows[12:], n_docs=4, max_drop=0.2)
    assert not any("gold documents contain none" in n for n in fine.notes)
    # a regex or a callable matcher: answers are not plain strings to look for in the gold passage
    regex = check_position(Pipeline(generate=generate), rows, n_docs=4, max_drop=0.2, match="regex")
    assert not any("gold documents contain none" in n for n in regex.notes)


# -- positions as NumPy integers ---------------------------------------------------------------------


def test_positions_may_be_numpy_integers() -> None:
    """np.linspace(0, n_docs - 1, 4, dtype=int) was refused with "entries must be ints in [0, n_docs=10),
    got np.int64(0)"."""
    np = pytest.importorskip("numpy")
    spec = build_spec(POSITION_MARK, {"data": "qa.jsonl", "positions": np.linspace(0, 9, 4, dtype=int)})
    assert spec.positions == (0, 3, 6, 9) and all(type(p) is int for p in spec.positions or ())
    spec = build_spec(POSITION_MARK, {"data": "qa.jsonl", "positions": [np.int64(9), np.int32(0)]})
    assert spec.positions == (0, 9)
    with pytest.raises(MarkArgumentError) as info:
        build_spec(POSITION_MARK, {"data": "qa.jsonl", "positions": np.array([0, 10])})
    assert str(info.value).startswith(
        "@ragprobe.position: argument 'positions' entries must be ints in [0, n_docs=10), got "
    )
    with pytest.raises(MarkArgumentError, match="must be a non-empty list of ints, got <list_iterator"):
        build_spec(POSITION_MARK, {"data": "qa.jsonl", "positions": iter([0, 9])})


def test_a_list_index_taken_as_id_that_meets_an_explicit_id_says_so(tmp_path: Path) -> None:
    """Record [2] has no id and takes "2"; record [0] says id 2: the error named a field 'id' that record
    [2] does not have, without saying where its id came from."""
    from pytest_ragprobe.contexts import load_litm_json

    def rec(q: str, **extra: object) -> dict[str, object]:
        ctxs = [{"title": "g", "text": f"{q} is A.", "isgold": True}, {"title": "d", "text": "other"}]
        return {"question": f"{q}?", "answers": ["A"], "ctxs": ctxs, **extra}

    path = tmp_path / "qa.json"
    path.write_text(json.dumps([rec("one", id=2), rec("two"), rec("three")]), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_litm_json(path)
    assert str(info.value) == (
        f"{path}: [2]: field 'id': duplicate id '2' (first at [0]); a record without an 'id' takes its "
        "list index as its id"
    )
