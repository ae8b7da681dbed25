"""The parse memo: a facts (or position data) file is parsed once per content and process, shared by the cost
plan, every probe on it and ragprobe_fact_pairs; a changed file is read again; callers cannot change it."""

from __future__ import annotations

import copy
import json
import os
import pickle
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_ragprobe import facts as facts_mod
from pytest_ragprobe import position_probe
from pytest_ragprobe.facts import Answers, FactsError, ParseMemo, Question, load_facts_file, resolve_pairs
from pytest_ragprobe.position_probe import load_examples

CSV = (
    "forward_question,forward_answer,reverse_question,reverse_answer\n"
    "Which controller fits pump P-1?,C-1,Which pump fits controller C-1?,P-1|Pump 1\n"
    "Which controller fits pump P-2?,C-2,Which pump fits controller C-1?,P-2\n"
)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The sources parsed (not served from the memo) while the test runs; the memo starts empty."""
    seen: list[str] = []
    real = facts_mod._parse_facts_text
    monkeypatch.setattr(facts_mod, "_parse_facts_text", lambda s, x, t: seen.append(s) or real(s, x, t))
    facts_mod._FACTS_MEMO.clear()
    yield seen
    facts_mod._FACTS_MEMO.clear()


def test_the_same_file_is_parsed_once_by_every_caller(tmp_path: Path, parses: list[str]) -> None:
    (tmp_path / "f.csv").write_text(CSV, encoding="utf-8")
    first = resolve_pairs("f.csv", base_dirs=[tmp_path])  # as the plan and each probe ask for it
    again = resolve_pairs("f.csv", seed=7, base_dirs=[tmp_path])  # a file's facts do not depend on the seed
    assert parses == [str(tmp_path / "f.csv")]
    assert first == again and first is not again
    assert [p.id for p in first] == ["0", "1"]
    # the one-to-many merge is in the shared parse, with each fact's own answers kept
    assert [p.reverse.answers for p in first] == [["P-1", "Pump 1", "P-2"]] * 2
    assert first[1].own_answers == (("C-2",), ("P-2",))


def test_a_changed_file_is_read_again_even_with_the_same_size_and_time(tmp_path: Path, parses: list[str]) -> None:
    path = tmp_path / "f.csv"
    path.write_text(CSV, encoding="utf-8")
    before = load_facts_file(path)
    stat = path.stat()
    path.write_text(CSV.replace("P-", "Q-"), encoding="utf-8")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same time
    after = load_facts_file(path)
    assert len(parses) == 2
    assert "P-1" in before[0].forward.question and "Q-1" in after[0].forward.question
    # a longer edit too, and going back to the first text is served from the memo
    path.write_text(CSV + "Which controller fits pump P-3?,C-3,Which pump fits controller C-3?,P-3\n")
    assert len(load_facts_file(path)) == 3 and len(parses) == 3
    path.write_text(CSV, encoding="utf-8")
    assert load_facts_file(path) == before and len(parses) == 3


def test_the_same_text_under_another_name_is_its_own_entry(tmp_path: Path, parses: list[str]) -> None:
    """Pairs name their source (reports, qualified ids): a.csv's facts are not b.csv's."""
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text(CSV, encoding="utf-8")
    a, b = (load_facts_file(tmp_path / name) for name in ("a.csv", "b.csv"))
    assert len(parses) == 2 and a[0].source.endswith("a.csv") and b[0].source.endswith("b.csv")


def test_callers_cannot_change_the_shared_parse(tmp_path: Path, parses: list[str]) -> None:
    path = tmp_path / "f.csv"
    path.write_text(CSV, encoding="utf-8")
    pairs = load_facts_file(path)
    pairs.reverse()
    pairs.append(pairs[0])
    answers = pairs[0].forward.answers
    for change in (
        lambda: answers.append("x"),
        lambda: answers.extend(["x"]),
        lambda: answers.insert(0, "x"),
        lambda: answers.remove("C-2"),
        answers.pop,
        answers.clear,
        answers.sort,
        answers.reverse,
        lambda: answers.__setitem__(0, "x"),
        lambda: answers.__delitem__(0),
        lambda: answers.__iadd__(["x"]),
        lambda: answers.__imul__(2),
    ):
        with pytest.raises(TypeError, match="answers are read-only"):
            change()
    with pytest.raises(Exception, match="frozen"):
        pairs[0].forward.question = "changed"  # type: ignore[misc]
    fresh = load_facts_file(path)
    assert len(parses) == 1
    assert [p.id for p in fresh] == ["0", "1"] and fresh[1].forward.answers == ["C-2"]
    # a copy is an ordinary list; the read-only one still compares, dumps, pickles and copies as a list
    assert [*answers, "x"] == ["C-2", "x"] and answers + ["x"] == ["C-2", "x"]  # noqa: RUF005
    assert json.dumps(answers) == '["C-2"]' and fresh[1].model_dump()["forward"]["answers"] == ["C-2"]
    for twin in (pickle.loads(pickle.dumps(fresh[1])), copy.deepcopy(fresh[1]), fresh[1].model_copy(deep=True)):
        assert twin == fresh[1] and isinstance(twin.forward.answers, Answers)


def test_every_question_has_read_only_answers() -> None:
    """Not only the memo's: a Question given by hand, and the pairs of a facts list, behave the same."""
    q = Question(question="Who?", answer=["A", " B "])  # type: ignore[call-arg]
    assert q.answers == ["A", "B"] and isinstance(q.answers, Answers)
    (pair,) = resolve_pairs([{"subject": "P-1", "relation": "compatible_with", "object": "C-1"}])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        pair.reverse.answers.append("P-2")


def test_templated_questions_built_without_validation_equal_validated_ones() -> None:
    """build_pairs skips re-validating a template's plainly valid questions: the same Question results."""
    facts = [
        {"subject": "P-1", "relation": "compatible_with", "object": "C-1", "object_aliases": ["c1", " "]},
        {"subject": "P-2", "relation": "compatible_with", "object": "C-2"},
    ]
    pairs = resolve_pairs(facts)  # type: ignore[arg-type]
    assert pairs[0].forward == Question(question=pairs[0].forward.question, answers=["C-1", "c1"])
    assert pairs[0].forward.model_fields_set == {"question", "answers"}
    assert pairs[1].reverse == Question(question="Which pump is compatible with controller C-2?", answers=["P-2"])
    # a blank alias (kept by the fact) is dropped from the answers, as validation drops it
    assert pairs[0].forward.answers == ["C-1", "c1"]


def test_synthetic_facts_are_kept_per_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[int, int]] = []
    real = facts_mod.synthetic_facts
    monkeypatch.setattr(facts_mod, "synthetic_facts", lambda n, seed=0: made.append((n, seed)) or real(n, seed))
    facts_mod._FACTS_MEMO.clear()
    a0, a0_again, a1 = (resolve_pairs("synthetic:12", seed=s) for s in (0, 0, 1))
    assert made == [(12, 0), (12, 1)]
    assert a0 == a0_again and a0 != a1
    resolve_pairs("synthetic:6", seed=0)  # another N: its own entry
    assert made[-1] == (6, 0)
    facts_mod._FACTS_MEMO.clear()


def test_a_broken_file_is_not_kept(tmp_path: Path, parses: list[str]) -> None:
    path = tmp_path / "f.csv"
    path.write_text(CSV.replace(",C-2,", ",,"), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(FactsError, match=r"row 3: field 'forward_answer' is missing or empty"):
            load_facts_file(path)
    assert len(parses) == 2 and len(facts_mod._FACTS_MEMO) == 0


def test_the_memo_is_bounded_least_recently_used_first() -> None:
    memo: ParseMemo[str, str] = ParseMemo(entries=2, chars=10)
    made: list[str] = []

    def get(key: str, size: int = 1) -> str:
        return memo.get(key, lambda: made.append(key) or key.upper(), size)

    assert get("a") == "A" and get("b") == "B" and get("a") == "A"  # a is the most recent now
    get("c")  # three entries: b, the least recently used, goes
    assert len(memo) == 2 and made == ["a", "b", "c"]
    get("a")
    get("b")
    assert made == ["a", "b", "c", "b"]
    get("big", 10)  # over the character bound with the others: the oldest go until it fits
    assert len(memo) == 1 and get("big", 10) == "BIG" and made[-1] == "big"
    get("huge", 11)  # larger than the bound alone: made, not kept
    assert len(memo) == 1 and (memo.hits, memo.misses) == (3, 6)
    memo.clear()
    assert len(memo) == 0


def test_a_data_file_is_parsed_once_and_its_pool_is_the_callers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        {"question": f"who wrote book {i}?", "answers": [f"Author {i}"],
         "ctxs": [{"title": f"Book {i}", "text": f"Author {i} wrote book {i}.", "isgold": True},
                  {"title": "Other", "text": f"Filler {i}.", "isgold": False}]}
        for i in range(4)
    ]
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    seen: list[str] = []
    real = position_probe._parse_data
    monkeypatch.setattr(position_probe, "_parse_data", lambda p, t, n, c: seen.append(t) or real(p, t, n, c))
    position_probe._DATA_MEMO.clear()
    examples, pool = load_examples("qa.jsonl", base_dirs=[tmp_path])
    examples.clear()
    pool.documents.clear()
    again, _ = load_examples(str(path))
    assert len(seen) == 2  # another spelling of the path: its own entry (errors name the path as given)
    third, pool_third = load_examples("qa.jsonl", base_dirs=[tmp_path])
    assert len(seen) == 2 and len(third) == 4 and len(pool_third.documents) == 8
    assert [e.id for e in third] == [e.id for e in again]
    # rewritten with the same size and time: read again
    stat = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("Author", "Writer"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    changed, _ = load_examples("qa.jsonl", base_dirs=[tmp_path])
    assert len(seen) == 3 and changed[0].answers == ("Writer 0",)
    position_probe._DATA_MEMO.clear()


def test_answers_merge_as_before_when_little_or_nothing_is_shared() -> None:
    """merge_shared_answers returns the pairs as they are only when no question is asked twice and no answer
    given twice; an alias repeated within one question, or a question asked both ways, still merges."""
    facts = [
        {"forward": {"question": "Q1?", "answer": ["A", "A", "a"]}, "reverse": {"question": "R1?", "answer": "B"}},
        {"forward": {"question": "Q2?", "answer": "C"}, "reverse": {"question": "R2?", "answer": "D"}},
        {"forward": {"question": "Q3?", "answer": "E"}, "reverse": {"question": "q3?", "answer": "F"}},
    ]
    got = [(p.forward.answers, p.reverse.answers, p.own_answers) for p in resolve_pairs(facts)]  # type: ignore[arg-type]
    assert got == [
        (["A", "a"], ["B"], (("A", "A", "a"), ("B",))),
        (["C"], ["D"], None),
        (["E", "F"], ["E", "F"], (("E",), ("F",))),
    ]
    plain = resolve_pairs(facts[1:2])  # type: ignore[arg-type]
    assert [(p.forward.answers, p.own_answers) for p in plain] == [(["C"], None)]


def test_parse_memo_survives_threads_evicting_what_another_looks_up() -> None:
    """check_reverse in several threads: a hit's move_to_end raced another thread's eviction (KeyError).
    A stress test: without the lock it failed in about half the runs here."""
    memo: ParseMemo[int, int] = ParseMemo(entries=1, chars=10**9)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(20_000):
                key = (i + offset) % 3
                assert memo.get(key, lambda k=key: k * 10, 1) == key * 10
        except BaseException as exc:
            errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows within a run
    try:
        threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert errors == []
    assert len(memo) <= 1
