"""Facts that share a question (one-to-many relations) are probed one fact per question, so that the
paired test's pairs are independent (counting the shared answer once per fact made it overconfident)."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np

import pytest_ragprobe as ragprobe
from pytest_ragprobe.facts import FactPair, Question, distinct_questions, question_key
from pytest_ragprobe.stats import compare_paired


def pair(i: int, forward: str, reverse: str) -> FactPair:
    return FactPair(
        id=str(i),
        forward=Question(question=forward, answers=[f"b{i}"]),
        reverse=Question(question=reverse, answers=[f"a{i}"]),
        statement=f"fact {i}",
    )


def star_catalog(n: int, m: int) -> list[FactPair]:
    """Pump i fits controller i // m: m facts share each reverse question."""
    return [pair(i, f"Which controller fits pump P-{i}?", f"Which pump fits controller C-{i // m}?") for i in range(n)]


def questions(pairs: list[FactPair]) -> list[str]:
    return [question_key(q.question) for p in pairs for q in (p.forward, p.reverse)]


def test_without_shared_questions_every_pair_is_kept_in_order() -> None:
    pairs = star_catalog(30, 1)
    assert distinct_questions(pairs, seed=5) == pairs


def test_one_fact_per_shared_question_and_no_question_twice() -> None:
    pairs = star_catalog(100, 5)
    kept = distinct_questions(pairs, seed=3)
    assert len(kept) == 20  # one per controller
    assert [int(p.id) // 5 for p in kept] == list(range(20))  # file order, one from each star
    assert max(Counter(questions(kept)).values()) == 1


def test_the_choice_is_seeded_and_varies_with_the_seed() -> None:
    pairs = star_catalog(100, 5)
    ids = {s: [p.id for p in distinct_questions(pairs, seed=s)] for s in range(6)}
    assert ids[2] == [p.id for p in distinct_questions(pairs, seed=2)]
    assert len({tuple(v) for v in ids.values()}) == 6
    # every fact of a star is picked about equally often over seeds (a fair choice, not the first one)
    picks = Counter(int(p.id) % 5 for s in range(200) for p in distinct_questions(pairs, seed=s))
    assert min(picks.values()) > 0.15 * sum(picks.values())


def test_questions_are_compared_across_directions_case_and_spacing() -> None:
    pairs = [
        pair(0, "Who is A married to?", "Who is B married to?"),
        pair(1, "who is  B married to?", "Who is A married to?"),  # the same two questions, swapped
        pair(2, "Who is C married to?", "Who is D married to?"),
    ]
    kept = distinct_questions(pairs, seed=0)
    assert len(kept) == 2 and kept[-1].id == "2"
    assert max(Counter(questions(kept)).values()) == 1


def test_the_kept_set_is_maximal() -> None:
    # a chain 0 -rev- 1 -fwd- 2 -rev- 3: any pair left out shares a question with a kept one
    pairs = [
        pair(0, "f0", "r01"),
        pair(1, "f12", "r01"),
        pair(2, "f12", "r23"),
        pair(3, "f3", "r23"),
    ]
    for seed in range(20):
        kept = distinct_questions(pairs, seed=seed)
        used = set(questions(kept))
        for p in pairs:
            if p not in kept:
                assert {question_key(p.forward.question), question_key(p.reverse.question)} & used


def test_shared_reverse_questions_no_longer_inflate_false_fails() -> None:
    # The pipeline answers each shared question once: its outcome is the same for every fact of the
    # star. At the boundary (drop == max_drop) counting every fact FAILed ~18% of runs (5 facts per
    # question); the kept pairs are independent and stay at <= 5%. 300 runs each; the 3-SE Monte Carlo
    # tolerance at p = 0.05 is 0.038, and the two rates are ~0.13 apart.
    pairs = star_catalog(250, 5)
    rng = np.random.default_rng(7)
    fails_all = fails_kept = 0
    runs = 300
    for run in range(runs):
        forward = rng.random(250) < 0.8
        reverse = np.repeat(rng.random(50) < 0.7, 5)
        all_cmp = compare_paired(forward.tolist(), reverse.tolist(), max_drop=0.1)
        keep = [int(p.id) for p in distinct_questions(pairs, seed=run)]
        kept_cmp = compare_paired(forward[keep].tolist(), reverse[keep].tolist(), max_drop=0.1)
        fails_all += all_cmp.verdict == "fail"
        fails_kept += kept_cmp.verdict == "fail"
    assert fails_kept / runs <= 0.05 + 0.038
    assert fails_all / runs >= 0.10  # the old count was overconfident: this test can tell


def facts_with_shared_controllers() -> list[ragprobe.Fact]:
    return [
        ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i // 3}") for i in range(12)
    ]


def test_check_reverse_asks_each_question_once_and_says_why() -> None:
    asked: list[str] = []

    def answer(question: str) -> str:
        asked.append(question)
        return "no idea"

    r = ragprobe.check_reverse(answer, facts_with_shared_controllers(), max_drop=0.2)
    assert r.n == 4 and len(asked) == 8 and len(set(asked)) == 8  # one fact per controller
    assert [n for n in r.notes if "share" in n or "one fact per question" in n] == [
        "12 of 12 facts share their reverse question with another fact (one object, several subjects; e.g. "
        "'Which pump is compatible with controller C-0?' accepts P-0, P-1, P-2): any of those answers is "
        "scored right",
        "one fact per question is probed, sampled from 4 of 12 facts: a question's one answer counted once "
        "per fact would read as independent evidence it is not",
    ]


def test_n_larger_than_the_distinct_facts_says_so() -> None:
    r = ragprobe.check_reverse(lambda q: "x", facts_with_shared_controllers(), n=10, max_drop=0.2)
    assert r.n == 4
    assert "n=10 asked for, but the facts hold only 4 facts with questions of their own: probed all of them" in r.notes


def test_the_plan_counts_the_facts_that_will_be_probed() -> None:
    from pytest_ragprobe.markers import ReverseSpec
    from pytest_ragprobe.plan import plan_probe
    from pytest_ragprobe.runner import RunSettings

    plan = plan_probe("t.py::t", ReverseSpec(facts=facts_with_shared_controllers()), RunSettings(), ())
    assert (plan.n, plan.calls_max) == (4, 8)


def test_a_seeded_run_probes_the_same_facts() -> None:
    facts = facts_with_shared_controllers()
    random.Random(0).shuffle(facts)

    def asked(seed: int) -> list[str]:
        calls: list[str] = []
        ragprobe.check_reverse(lambda q: calls.append(q) or "x", facts, seed=seed, max_drop=0.2)
        return sorted(calls)  # calls run concurrently: compare what was asked, not the order

    assert asked(11) == asked(11)
    assert {tuple(asked(s)) for s in range(5)} != {tuple(asked(11))}  # the choice depends on the seed


def test_check_position_asks_a_repeated_question_once() -> None:
    # ten pumps with two controllers each: each forward question is asked by two facts
    facts = [ragprobe.Fact(subject=f"P-{i // 2}", relation="compatible_with", object=f"C-{i}") for i in range(20)]
    asked: list[str] = []

    def generate(question: str, documents: list[ragprobe.Document]) -> str:
        asked.append(question)
        return "no idea"

    r = ragprobe.check_position(ragprobe.Pipeline(generate=generate), facts, n_docs=3, max_drop=0.2)
    assert r.n == 10 and len(asked) == 30 and Counter(asked).most_common(1)[0][1] == 3  # once per position
    assert (
        "20 of 20 facts share their question with another (each with its own gold document; e.g. 'Which "
        "controller is compatible with pump P-0?' accepts C-0, C-1): any of those answers is scored right, "
        "and each question is probed once, sampled from 10 facts: a question's answers move together, so "
        "its copies would read as independent evidence they are not"
    ) in r.notes


def test_a_many_to_many_chain_keeps_the_most_facts_for_every_seed() -> None:
    # pump P-i fits C-i and C-(i+1): 40 facts, at most 20 without a shared question (a greedy pass had
    # kept 15-20 depending on the seed)
    chain = [pair(i, f"controller of P-{i // 2}?", f"pump of C-{(i + 1) // 2}?") for i in range(40)]
    sizes = {len(distinct_questions(chain, seed=s)) for s in range(50)}
    assert sizes == {20}


def test_questions_that_differ_in_case_or_spacing_pool_their_answers() -> None:
    # Was: the two were one question for sampling, but the fact kept accepted only its own pump, so the
    # pipeline's right "P-2" was scored wrong for seeds that kept P-1's fact.
    pairs = [
        ragprobe.FactPair(
            id="1",
            forward=Question(question="Which controller fits pump P-1?", answers=["C-7"]),
            reverse=Question(question="Which pump fits controller C-7?", answers=["P-1"]),
            statement="Pump P-1 fits controller C-7.",
        ),
        ragprobe.FactPair(
            id="2",
            forward=Question(question="Which controller fits pump P-2?", answers=["C-7"]),
            reverse=Question(question="which pump fits  controller C-7?", answers=["P-2"]),
            statement="Pump P-2 fits controller C-7.",
        ),
    ]

    def answer(question: str) -> str:
        return "C-7" if "pump P-" in question else "P-2"

    for seed in range(6):  # FactPair lists pool answers too (they had been used as given)
        r = ragprobe.check_reverse(answer, pairs, seed=seed, max_drop=0.5)
        assert (r.n, r.reverse.correct) == (1, 1)
        (reverse,) = [e for e in r.examples if e["direction"] == "reverse"]
        assert reverse["expected"] == ["P-1", "P-2"]


def test_a_symmetric_relation_notes_the_question_asked_both_ways() -> None:
    facts = [
        ragprobe.FactPair(
            id=a,
            forward=Question(question=f"Who is {a} married to?", answers=[b]),
            reverse=Question(question=f"Who is {b} married to?", answers=[a]),
            statement=f"{a} is married to {b}.",
        )
        for a, b in (("Ann", "Bob"), ("Bob", "Ann"), ("Cy", "Di"))
    ]
    r = ragprobe.check_reverse(lambda q: "?", facts, max_drop=0.5)
    assert r.n == 2
    assert (
        "2 of 3 facts ask as their forward question another fact's reverse question (e.g. 'Who is Ann married "
        "to?' accepts Bob): one question, asked once"
    ) in r.notes


def test_the_advice_counts_facts_with_questions_of_their_own() -> None:
    r = ragprobe.check_reverse(lambda q: "x", facts_with_shared_controllers(), max_drop=0.2)
    assert r.verdict == "inconclusive"
    assert any(
        n.startswith(
            "with 4 facts with questions of their own no run can PASS at max_drop 0.20: the minimum for a PASS "
            "is 14 facts with questions of their own, reached only if every answer agreed (at 95%); at the "
            "rates seen so far, about "
        )
        for n in r.notes
    ), r.notes


def test_position_data_listing_a_question_twice_accepts_both_answers_and_keeps_golds_out() -> None:
    # Was: the dropped copy's gold ("Pump P-2 fits controller C-7.") was a distractor beside the kept one's,
    # and an answer from it was scored wrong.
    def row(i: int, pump: str) -> dict[str, object]:
        return {
            "id": str(i),
            "question": "Which pump fits controller C-7?" if i < 2 else f"Which pump fits controller C-{10 + i}?",
            "answers": [pump],
            "ctxs": [
                {"title": "", "text": f"Pump {pump} fits controller C-{7 if i < 2 else 10 + i}.", "isgold": True},
                *({"title": "", "text": f"Filler {i}-{k}.", "isgold": False} for k in range(6)),
            ],
        }

    data = [row(0, "P-1"), row(1, "P-2"), *(row(i, f"P-{i}") for i in range(2, 8))]
    contexts: list[str] = []

    def generate(question: str, documents: list[ragprobe.Document]) -> str:
        if "C-7" in question:
            contexts.append(" ".join(d.text for d in documents))
        return "P-2"

    for seed in range(4):
        contexts.clear()
        r = ragprobe.check_position(ragprobe.Pipeline(generate=generate), data, n_docs=6, seed=seed, max_drop=0.5)
        assert r.n == 7
        assert all(c.count("fits controller C-7") == 1 for c in contexts)  # its own gold only
        assert r.positions[0].correct >= 1  # "P-2" is right for C-7 whichever copy was kept
