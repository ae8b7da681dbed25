"""contexts.py: lost-in-the-middle loading, gold placement, distractor choice and padding."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_ragprobe.contexts import (
    CHARS_PER_TOKEN,
    ContextArgumentError,
    DataError,
    DocumentPool,
    PositionExample,
    approx_tokens,
    contexts_for,
    load_litm,
    parse_litm,
    plan_context,
    to_example,
)
from pytest_ragprobe.facts import Fact, FactsError
from pytest_ragprobe.position_probe import load_examples
from pytest_ragprobe.types import Document


def litm(i: int = 0, n_distractors: int = 12, **extra: Any) -> dict[str, Any]:
    ctxs = [{"title": f"Gold {i}", "text": f"The code of item {i} is K{i}Z.", "isgold": True}]
    ctxs += [
        {"title": f"Filler {i}-{j}", "text": f"Note {j} about shelf {i}.", "isgold": False}
        for j in range(n_distractors)
    ]
    return {"question": f"What is the code of item {i}?", "answers": [f"K{i}Z"], "ctxs": ctxs, **extra}


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8"
    )
    return path


# -- placement (acceptance 2) ---------------------------------------------------------------------------


@pytest.mark.parametrize("n_docs", [2, 5, 10])
def test_gold_at_exact_index_and_distractors_identical(n_docs: int) -> None:
    ex = litm(3)
    gold_text = ex["ctxs"][0]["text"]
    positions = list(range(n_docs))
    out = list(contexts_for(ex, n_docs, positions, seed=7))
    assert [p for p, _ in out] == positions
    reference: list[str] | None = None
    for pos, docs in out:
        assert len(docs) == n_docs
        gold_at = [i for i, d in enumerate(docs) if d.text == gold_text]
        assert gold_at == [pos], f"gold must be exactly at {pos}, found at {gold_at}"
        rest = [d.text for i, d in enumerate(docs) if i != pos]
        if reference is None:
            reference = rest
        assert rest == reference  # same distractors in the same order at every position
    assert reference is not None and len(set(reference)) == n_docs - 1


def test_same_seed_same_context_other_seed_may_differ() -> None:
    ex = litm(1, n_distractors=20)
    a = list(contexts_for(ex, 10, [0, 9], seed=1))
    b = list(contexts_for(ex, 10, [0, 9], seed=1))
    assert a == b
    others = {tuple(d.text for d in next(contexts_for(ex, 10, [0], seed=s))[1]) for s in range(6)}
    assert len(others) > 1  # the seed does change the (shuffled) order


def test_distractor_choice_prefers_own_then_pool_and_skips_answers() -> None:
    ex = to_example(litm(0, n_distractors=2))
    pool = DocumentPool(
        [Document("The code of item 0 is K0Z, said the clerk."), *(Document(f"pool {k}") for k in range(9))]
    )
    plan = plan_context(ex, 6, seed=0, pool=pool)
    texts = {d.text for d in plan.distractors}
    assert {"Note 0 about shelf 0.", "Note 1 about shelf 0."} <= texts  # own distractors kept
    assert not any("K0Z" in t for t in texts)  # an answer-bearing document is never a distractor
    assert len(plan.distractors) == 5


def test_hard_negatives_first_and_filtered() -> None:
    ex = to_example(litm(0, n_distractors=10))
    hard = [
        Document("The code of item 0 is K0Z.", title="Gold 0"),  # the gold itself
        Document("Item 0 has code K0Z"),  # contains the answer
        Document("hard A"),
        Document("hard B"),
    ]
    plan = plan_context(ex, 5, hard_negatives=hard)
    assert plan.hard_negatives == 2
    texts = [d.text for d in plan.distractors]
    assert {"hard A", "hard B"} <= set(texts) and len(texts) == 4


def test_too_few_distractors_is_a_clear_error() -> None:
    with pytest.raises(DataError, match=r"only 2 usable distractor.*n_docs=10 needs 9"):
        list(contexts_for(litm(0, n_distractors=2), 10, [0, 9]))


def test_too_few_distractors_by_hand_names_the_pool_option_and_the_counts() -> None:
    """The ragprobe_contexts fixture's error (it calls contexts_for) said "lower n_docs or add distractors",
    not the pool= option that lends one example other passages; and only when the contexts were iterated."""
    with pytest.raises(DataError) as info:
        contexts_for(litm(0, n_distractors=2), 10, [0, 9])  # not iterated: the call itself says it
    assert str(info.value) == (
        "example: question 'What is the code of item 0?' has only 2 usable distractor(s) (documents that "
        "contain an answer or repeat the gold passage are skipped) but n_docs=10 needs 9; lower n_docs, or "
        "pass documents to borrow as distractors with pool=[...] (other questions' passages, for one): 7 more "
        "needed"
    )
    pool = ["Note about shelf 9.", "The code of item 0 is K0Z."]  # the second holds the answer: not usable
    with pytest.raises(DataError) as info:
        contexts_for(litm(0, n_distractors=2), 10, [0, 9], pool=pool)
    assert str(info.value).endswith(
        "has only 3 usable distractor(s) (documents that contain an answer or repeat the gold passage are "
        "skipped) but n_docs=10 needs 9; lower n_docs, or pass more documents to borrow in pool= (it held 2): "
        "6 more needed"
    )
    pool += [f"Note {j} about shelf 8." for j in range(6)]
    assert len(dict(contexts_for(litm(0, n_distractors=2), 10, [0, 9], pool=pool))[9]) == 10


def test_bad_positions_rejected() -> None:
    with pytest.raises(ValueError, match="positions must be ints"):
        contexts_for(litm(0), 5, [0, 5])


# -- padding to a target length --------------------------------------------------------------------------


def test_approx_tokens_is_four_chars_per_token() -> None:
    assert CHARS_PER_TOKEN == 4
    assert approx_tokens("x" * 8) == 2
    assert approx_tokens("x" * 9) == 3
    assert approx_tokens(Document("abcd", title="T")) == 2  # "T: abcd" = 7 chars


def test_context_tokens_pads_with_more_distractors_and_keeps_edges() -> None:
    ex = to_example(litm(0, n_distractors=3))
    pool = DocumentPool([Document(f"padding passage number {k} " + "w" * 60) for k in range(200)])
    plan = plan_context(ex, 4, pool=pool, context_tokens=600)
    assert plan.approx_tokens >= 600
    assert plan.size > 4
    assert plan.approx_tokens == sum(approx_tokens(d) for d in (ex.gold, *plan.distractors))
    # first stays first, last stays last, the middle scales, and the rest is unchanged
    assert plan.at(0)[0] == ex.gold
    assert plan.at(3)[-1] == ex.gold
    mid = plan.index_of(1)
    assert plan.at(1)[mid] == ex.gold and 0 < mid < plan.size - 1
    for p in range(4):
        docs = plan.at(p)
        assert [d for d in docs if d != ex.gold] == list(plan.distractors)


def test_context_tokens_short_pool_stops_gracefully() -> None:
    ex = to_example(litm(0, n_distractors=3))
    plan = plan_context(ex, 4, context_tokens=10_000)
    assert plan.size == 4 and plan.approx_tokens < 10_000


# -- loading the lost-in-the-middle layout ---------------------------------------------------------------


def test_load_litm_reads_gold_and_distractors(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "qa.jsonl", [litm(0), "", litm(1)])
    examples = load_litm(path)
    assert [e.question for e in examples] == ["What is the code of item 0?", "What is the code of item 1?"]
    assert examples[0].gold.title == "Gold 0" and len(examples[0].distractors) == 12
    assert examples[1].where.endswith("line 3")


def test_load_litm_gz(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps(litm(0)) + "\n")
    assert len(load_litm(path)) == 1


def test_hasanswer_only_single_is_gold_and_other_answer_bearing_are_dropped() -> None:
    raw = {
        "question": "q?",
        "answers": ["X1"],
        "ctxs": [
            {"title": "a", "text": "no", "hasanswer": False},
            {"title": "b", "text": "X1 here", "hasanswer": True},
            {"title": "c", "text": "nope", "hasanswer": False},
        ],
    }
    ex = parse_litm(raw, "f: line 1")
    assert ex.gold.title == "b" and [d.title for d in ex.distractors] == ["a", "c"]
    # with isgold, an extra hasanswer ctx is not used as a distractor
    raw["ctxs"][0] = {"title": "g", "text": "X1 gold", "isgold": True, "hasanswer": True}
    raw["ctxs"][1]["isgold"] = False
    ex = parse_litm(raw, "f: line 1")
    assert ex.gold.title == "g" and [d.title for d in ex.distractors] == ["c"]


MALFORMED = [
    pytest.param(
        {**litm(0), "ctxs": [{"title": "a", "text": "t", "isgold": False}]}, r"no gold document", id="no-gold"
    ),
    pytest.param(
        {**litm(0), "ctxs": [{"text": "a", "isgold": True}, {"text": "b", "isgold": True}]},
        r"2 gold documents \(ctxs \[0, 1\] have isgold: true\)",
        id="two-golds",
    ),
    pytest.param({"answers": ["x"], "ctxs": []}, r"field 'question' is missing", id="no-question"),
    pytest.param({"question": "q", "ctxs": []}, r"field 'answers' is missing", id="no-answers"),
    pytest.param({"question": "q", "answers": ["x"]}, r"field 'ctxs' is missing", id="no-ctxs"),
    pytest.param(
        {"question": "q", "answers": ["x"], "ctxs": [{"title": "t", "isgold": True}]},
        r"ctxs\[0\]: field 'text' is missing",
        id="no-text",
    ),
    pytest.param(
        {"question": "q", "answers": [], "ctxs": [{"text": "t", "isgold": True}]},
        r"field 'answers' must be a non-empty list",
        id="empty-answers",
    ),
    pytest.param(
        {"question": "q", "answers": ["x"], "ctxs": [{"text": "t"}, {"text": "u"}]},
        r"no gold document: mark the gold ctx with isgold: true",
        id="no-flags",
    ),
    pytest.param(
        {"question": "q", "answers": ["x"], "ctxs": [{"text": "t", "is_gold": True}, {"text": "u"}]},
        r"no gold document: .*; found 'is_gold' \(did you mean 'isgold'\?\)$",
        id="misspelt-isgold",
    ),
    pytest.param(
        {"question": "q", "answers": ["x"], "ctxs": [{"text": "t"}, {"text": "u", "has_answer": 1}]},
        r"; found 'has_answer' \(did you mean 'hasanswer'\?\)$",
        id="misspelt-hasanswer",
    ),
    pytest.param(
        {
            "question": "q",
            "answers": ["x"],
            "ctxs": [{"text": "x1", "hasanswer": True}, {"text": "x2", "hasanswer": True}],
        },
        r"cannot tell the gold document: the ctxs carry only 'hasanswer' and 2 of them have it.*isgold",
        id="hasanswer-several",
    ),
    pytest.param(
        {"qustion": "q", "answers": ["x"], "ctxs": [{"text": "t", "isgold": True}]},
        r"field 'question' is missing or not a non-empty string \(found 'qustion': a misspelling\?\)$",
        id="misspelt-question",
    ),
    pytest.param(
        {"question": "q", "answer_list": ["x"], "ansers": ["x"], "ctxs": [{"text": "t", "isgold": True}]},
        r"field 'answers' is missing .*\(found 'ansers': a misspelling\?\)$",
        id="misspelt-answers",
    ),
    pytest.param(
        {"question": "q", "answers": ["x"], "ctx": [{"text": "t", "isgold": True}]},
        r"field 'ctxs' is missing .*\(found 'ctx': a misspelling\?\)$",
        id="misspelt-ctxs",
    ),
    pytest.param(
        {"question": "q", "answers": ["x"], "ctxs": [{"txt": "t", "isgold": True}]},
        r"ctxs\[0\]: field 'text' is missing or not a non-empty string \(found 'txt': a misspelling\?\)$",
        id="misspelt-text",
    ),
    pytest.param(
        {"question": "q", "answers": ["x"], "ctxs": [{"text": "t", "isgold": False}, {"text": "u", "is_gold": 1}]},
        r"no ctx has isgold: true; mark exactly one ctx as the gold passage; found 'is_gold' \(did you mean",
        id="misspelt-isgold-beside-isgold",
    ),
    pytest.param('{"question": "q", "answers": ["x"],', r"invalid JSON", id="bad-json"),
    pytest.param("[1, 2]", r"expected a JSON object", id="not-an-object"),
]


@pytest.mark.parametrize(("row", "message"), MALFORMED)
def test_malformed_data_names_file_and_line(tmp_path: Path, row: Any, message: str) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [litm(0), litm(1), row])
    with pytest.raises(DataError, match=message) as info:
        load_litm(path)
    assert str(info.value).startswith(f"{path}: line 3: ")
    assert isinstance(info.value, ValueError) and isinstance(info.value, FactsError)


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data file not found"):
        load_litm(tmp_path / "nope.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"empty\.jsonl: the file is empty: it holds no questions"):
        load_litm(empty)


def test_to_example_gold_layout_and_errors() -> None:
    ex = to_example(
        {"question": "q?", "answers": "A1", "gold": "A1 is it", "distractors": ["d1", {"text": "d2"}]}
    )
    assert ex == PositionExample(
        question="q?",
        answers=("A1",),
        gold=Document("A1 is it"),
        distractors=(Document("d1"), Document("d2")),
        where="example",
    )
    with pytest.raises(DataError, match=r"data\[4\]: field 'question'"):
        to_example({"gold": "x", "answers": ["a"]}, "data[4]")


# -- facts and synthetic sources --------------------------------------------------------------------------


def test_facts_gold_is_statement_and_no_distractor_answers_the_question() -> None:
    facts = [
        Fact(subject="P-200", relation="compatible_with", object="C-17"),
        Fact(subject="P-200", relation="compatible_with", object="C-18"),  # also answers P-200's question
        *(Fact(subject=f"P-{300 + k}", relation="compatible_with", object=f"C-{40 + k}") for k in range(8)),
    ]
    examples, pool = load_examples(facts)
    first = examples[0]
    assert first.gold.text == "Pump P-200 is compatible with controller C-17."
    assert set(first.answers) == {"C-17", "C-18"}
    for _, docs in contexts_for(first, 8, [0, 7], seed=0, pool=pool):
        others = [d.text for d in docs if d != first.gold]
        assert "Pump P-200 is compatible with controller C-18." not in others
        assert all("C-17" not in t and "C-18" not in t for t in others)


def test_synthetic_examples_use_statements() -> None:
    examples, pool = load_examples("synthetic:12", seed=3)
    assert len(examples) == 12 and len(pool.documents) == 12
    for ex in examples:
        assert ex.gold.text.endswith(".") and any(a in ex.gold.text for a in ex.answers)
    again, _ = load_examples("synthetic:12", seed=3)
    assert [e.gold for e in again] == [e.gold for e in examples]


def test_load_examples_rejects_non_jsonl_data(tmp_path: Path) -> None:
    path = tmp_path / "facts.yaml"
    path.write_text("facts: []\n", encoding="utf-8")
    with pytest.raises(DataError, match="use facts="):
        load_examples(path)


def test_relative_path_resolves_via_base_dirs(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "qa.jsonl", [litm(0)])
    examples, _ = load_examples("qa.jsonl", base_dirs=[tmp_path])
    assert len(examples) == 1


def test_json_list_data(tmp_path: Path) -> None:
    path = tmp_path / "qa.json"
    path.write_text(json.dumps([litm(0), litm(1)]), encoding="utf-8")
    examples, pool = load_examples(path)
    assert len(examples) == 2 and len(pool.documents) == 26
    path.write_text(json.dumps([litm(0), {"question": "q"}]), encoding="utf-8")
    with pytest.raises(DataError, match=r"qa.json: \[1\]: field 'answers' is missing"):
        load_examples(path)


# -- planning is pinned: memoised normalisation chooses exactly the same contexts -----------------


def _pinned_examples() -> list[PositionExample]:
    """Accents, hyphenated answers, empty answers, shared and duplicate passages, answer-bearing
    distractors and ids equal to the gold's: every rule of the distractor choice gets exercised."""
    rows: list[PositionExample] = []
    for i in range(24):
        answers = (f"K-{i}", "") if i % 3 == 0 else (f"Caf\u00e9 {i}", f"K{i}Z")
        gold = Document(f"The code of item {i} is K {i} at Cafe\u0301 {i}.", title=f"Gold {i}", id=f"g{i}")
        distractors = [
            Document(f"Note {j} about the shelf of {['an', 'the', 'a'][j % 3]} aisle {(i + j) % 7}.", title=f"N {j}")
            for j in range(6)
        ]
        distractors += [
            Document(f"Item {i} is K/{i}, not K{i}Z!", title="Leak"),  # contains an answer ("K-i" / "Kiz")
            Document(f"NOTE 0 about THE shelf of an aisle {i % 7}.", title="n 0"),  # duplicate once normalised
            Document("same id as the gold", id=f"g{i}"),
            Document(f"Shared passage {i % 4}: caf\u00e9 {i + 1} is elsewhere."),
        ]
        rows.append(PositionExample(f"What is the code of item {i}?", answers, gold, tuple(distractors), id=str(i)))
    return rows


def _pinned_plans(plan: Any, pool: Any) -> list[list[list[tuple[str, str, str | None]]]]:
    examples = _pinned_examples()
    out = []
    for n, ex in enumerate(examples):
        hard = [Document(f"Retrieved {ex.question} doc {j}.") for j in range(3)] if n % 2 else []
        for n_docs, tokens in ((5, None), (6, 400)):
            p = plan(ex, n_docs, seed=n % 5, pool=pool, hard_negatives=hard, context_tokens=tokens)
            out.append([[(d.title, d.text, d.id) for d in p.at(pos)] for pos in range(n_docs)])
            out[-1].append([("", str(p.approx_tokens), str(p.hard_negatives))])
    return out


# sha256 of the plans above, computed with the code before normalisation was memoised
PINNED_PLANS = "892d74f11ba25e8b063bdbc917ff8a1e74e56df745d82b20b67892646fa7ca6c"


def _digest(plans: Any) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(plans, ensure_ascii=False).encode()).hexdigest()


def test_plans_are_pinned_cold_and_warm() -> None:
    from pytest_ragprobe import contexts

    contexts._NORMALIZED.clear()
    for _ in range(2):  # cold, then every document's normalised text memoised
        pool = DocumentPool.from_examples(_pinned_examples())
        assert len(pool.documents) == 115  # of 24 x 11: duplicates (once normalised) dropped
        assert _digest(_pinned_plans(plan_context, pool)) == PINNED_PLANS
    saved = contexts._NORMALIZED.limit
    contexts._NORMALIZED.limit = 200  # a memo that keeps filling up is emptied, never wrong
    try:
        contexts._NORMALIZED.clear()
        pool = DocumentPool.from_examples(_pinned_examples())
        assert _digest(_pinned_plans(plan_context, pool)) == PINNED_PLANS
        assert contexts._NORMALIZED.chars <= 200
    finally:
        contexts._NORMALIZED.limit = saved


def test_answers_in_matches_the_scorer_with_memoised_documents() -> None:
    from pytest_ragprobe.contexts import answers_in
    from pytest_ragprobe.scoring import match_contains

    class Shown(Document):
        def render(self) -> str:  # a subclass rendering otherwise is normalised from its own render
            return "K9Z"

    docs = [d for ex in _pinned_examples() for d in (ex.gold, *ex.distractors)]
    docs += [Shown("nothing"), Document("x", title="K9Z"), Document("\u00c9cole K-9 \u2013 the end")]
    answer_sets = [("K9Z",), ("K 9",), ("", "ecole"), ("Caf\u00e9 3",), ("the end",), ("nothing",)]
    for _ in range(2):
        for d in docs:
            for answers in answer_sets:
                assert answers_in(d, answers) is match_contains(d.render(), answers), (d, answers)
    assert answers_in(Shown("nothing"), ["K9Z"]) and not answers_in(Shown("nothing"), ["nothing"])
    assert approx_tokens(Shown("nothing")) == 1 and approx_tokens(Document("abcde", title="t")) == 2


# -- a user's own, messy files ----------------------------------------------------------------------


def test_bom_and_crlf_data_loads(tmp_path: Path) -> None:
    # Was: "line 1: invalid JSON: Unexpected UTF-8 BOM" (the facts loader tolerated a BOM, data did not).
    text = json.dumps(litm(0, question="Où est né Gaël?"), ensure_ascii=False) + "\r\n\r\n"
    text += json.dumps(litm(1)) + "\r\n"
    path = tmp_path / "qa.jsonl"
    path.write_bytes(text.encode("utf-8-sig"))
    assert [e.question for e in load_litm(path)] == ["Où est né Gaël?", "What is the code of item 1?"]
    gz = tmp_path / "qa.jsonl.gz"
    gz.write_bytes(gzip.compress(text.encode("utf-8-sig")))
    assert len(load_litm(gz)) == 2
    listed = tmp_path / "qa.json"
    listed.write_bytes(json.dumps([litm(0)]).encode("utf-8-sig"))
    assert len(load_examples(str(listed))[0]) == 1


def test_numeric_answers_keep_the_text_as_written(tmp_path: Path) -> None:
    # Was: "answers": [1.50] became "1.5", which a document saying "1.50" does not contain.
    row = litm(0) | {"question": "What ratio does the manual give?"}
    row["ctxs"][0]["text"] = "The manual gives a ratio of 1.50."
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps(row).replace('["K0Z"]', "[1.50, 2]") + "\n", encoding="utf-8")
    (example,) = load_litm(path)
    assert example.answers == ("1.50", "2")
    assert example.gold.text == "The manual gives a ratio of 1.50."


def test_a_directory_is_not_a_data_file(tmp_path: Path) -> None:
    (tmp_path / "qa.jsonl").mkdir()
    with pytest.raises(DataError) as info:
        load_litm(tmp_path / "qa.jsonl")
    d = tmp_path / "qa.jsonl"
    assert str(info.value) == f"{d}: is a directory, not a data file (resolved to {d})"


def test_a_question_listed_twice_or_a_repeated_id_is_refused(tmp_path: Path) -> None:
    # Was: accepted, each asked and counted twice (overstating the evidence); ids clashed in the report.
    path = write_jsonl(tmp_path / "qa.jsonl", [litm(0), litm(1), "", litm(0)])
    with pytest.raises(DataError) as info:
        load_litm(path)
    assert str(info.value) == (
        f"{path}: line 4: duplicate of line 1: the same question and gold document; "
        "a question listed twice is counted twice, so remove one"
    )
    path = write_jsonl(tmp_path / "ids.jsonl", [litm(0, id=7), litm(1, id="7")])
    with pytest.raises(DataError) as info:
        load_litm(path)
    assert str(info.value) == f"{path}: line 2: field 'id': duplicate id '7' (first at line 1)"
    listed = tmp_path / "qa.json"
    listed.write_text(json.dumps([litm(0), litm(0)]), encoding="utf-8")
    with pytest.raises(DataError, match=r"qa\.json: \[1\]: duplicate of \[0\]: the same question"):
        load_examples(str(listed))
    # the same question with another gold passage is another example
    other = litm(0)
    other["ctxs"][0]["text"] = "Item 0's code, K0Z, is printed on the lid."
    assert len(load_litm(write_jsonl(tmp_path / "ok.jsonl", [litm(0), other]))) == 2


def test_contexts_for_refuses_what_it_read_wrongly() -> None:
    """A str pool or hard_negatives was read letter by letter (each letter a distractor), an int pool,
    positions=2 or a str context_tokens failed with a bare TypeError, context_tokens=-5 was taken as no
    padding, and a list of examples read as "expected a JSON object"."""
    ex = litm(0, n_distractors=3)
    documents = "must be a list of documents (ragprobe.Document, dicts with 'text' or str), got"
    for kwargs, error, message in [
        ({"pool": "Shelf 9 notes."}, DataError, f"pool {documents} str 'Shelf 9 notes.' (one document? give a list: [it])"),
        ({"pool": 5}, DataError, f"pool {documents} int 5"),
        ({"hard_negatives": "abc"}, DataError, f"hard_negatives {documents} str 'abc' (one document? give a list: [it])"),
        (
            {"positions": 2},
            TypeError,
            "positions must be an iterable of ints in [0, n_docs=4) (a list, tuple or range), got int 2",
        ),
        ({"context_tokens": -5}, ValueError, "context_tokens must be an int >= 1 (or None: no padding), got -5"),
        (
            {"context_tokens": "100"},
            TypeError,
            "context_tokens must be an int >= 1 (or None: no padding), got str '100'",
        ),
    ]:
        args: dict[str, Any] = {"positions": [0, 3], **kwargs}
        with pytest.raises(error) as info:
            contexts_for(ex, 4, args.pop("positions"), **args)
        assert str(info.value) == message
    with pytest.raises(DataError) as info:
        contexts_for([ex, litm(1)], 4, [0, 3])
    assert str(info.value) == (
        "example: expected one example (a dict with question, answers and ctxs, or a FactPair), got a list of "
        "2 items: one example at a time"
    )
    with pytest.raises(DataError, match=r"got a list of 1 item: one example at a time$"):
        contexts_for([ex], 4, [0, 3])


def test_contexts_for_takes_any_iterable_of_positions_and_no_hard_negatives() -> None:
    """positions=(0, 4), range(5) or a generator was refused ("must be a list"), and hard_negatives=None
    (no hard negatives, as pool=None is no pool) failed as "must be a list of documents"."""
    ex = litm(0, n_distractors=6)
    want = list(contexts_for(ex, 5, [0, 2, 4], seed=3))
    for positions in ((0, 2, 4), range(0, 5, 2), (p for p in [0, 2, 4])):
        assert list(contexts_for(ex, 5, positions, seed=3)) == want
    assert list(contexts_for(ex, 5, [0, 2, 4], seed=3, hard_negatives=None)) == want


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((5, "0,4"), {}, "positions must be an iterable of ints in [0, n_docs=5) (a list, tuple or range), got str '0,4'"),
        ((5, {0: 1}), {}, "positions must be an iterable of ints in [0, n_docs=5) (a list, tuple or range), got dict {0: 1}"),
        ((5, ["0", 1.5]), {}, "positions must be ints in [0, n_docs=5), got str '0', float 1.5"),
        ((5, [0, True]), {}, "positions must be ints in [0, n_docs=5), got bool True"),
        (("5", [0, 4]), {}, "n_docs must be an int >= 2, got str '5'"),
        ((5, [0, 4]), {"hard_negatives": 3}, "hard_negatives must be a list of documents (ragprobe.Document, dicts "
         "with 'text' or str), got int 3"),
        ((5, [0, 4]), {"context_tokens": 1.5}, "context_tokens must be an int >= 1 (or None: no padding), got float 1.5"),
    ],
)
def test_contexts_for_wrong_types_are_type_errors_naming_the_argument(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    """A wrong type was a ValueError (or DataError): now a TypeError naming the argument, still a
    DataError (a ValueError) for code that caught those."""
    with pytest.raises(TypeError) as info:
        contexts_for(litm(0, n_distractors=6), *args, **kwargs)
    assert str(info.value) == message
    assert isinstance(info.value, ContextArgumentError) and isinstance(info.value, DataError)


def test_contexts_for_values_out_of_range_stay_value_errors() -> None:
    for args in ((5, [0, 5]), (1, [0]), (5, [-1, 2])):
        with pytest.raises(ValueError) as info:
            contexts_for(litm(0, n_distractors=6), *args)
        assert not isinstance(info.value, TypeError)


def test_ragprobe_contexts_fixture_takes_a_range_and_no_hard_negatives(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_it(ragprobe_contexts):
            ex = {"question": "q?", "answers": ["K0Z"], "gold": "The code is K0Z.",
                  "distractors": [f"Note {j}." for j in range(6)]}
            got = list(ragprobe_contexts(ex, 5, range(0, 5, 2), hard_negatives=None))
            assert [p for p, _ in got] == [0, 2, 4]
            assert [p for p, _ in ragprobe_contexts(ex, 5, (p for p in (1, 3)))] == [1, 3]
        """
    )
    pytester.runpytest("-p", "no:xdist").assert_outcomes(passed=1)

