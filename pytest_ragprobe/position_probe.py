"""The position probe (lost in the middle): each question asked with its gold document everywhere.

For every sampled question the distractors are chosen and ordered once
(:mod:`pytest_ragprobe.contexts`), then the reader (the pipeline's ``generate(question,
documents)``) is called once per position with the gold document moved there. Calls are ordered
question-major (all positions of one question back to back), which lets readers with a prompt-prefix
cache (llama.cpp) reuse it. Outcomes are paired per question and compared with
:func:`pytest_ragprobe.stats.compare_positions`: drop = best edge minus worst position.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ragprobe.contexts import (
    ContextPlan,
    DataError,
    DocumentPool,
    PositionExample,
    _read_text,
    answers_in,
    check_unique,
    example_from_pair,
    load_litm,
    load_litm_json,
    load_litm_yaml,
    plan_context,
    to_example,
)
from pytest_ragprobe.engine import Call, CallOutcome
from pytest_ragprobe.facts import (
    SYNTHETIC_RE,
    Fact,
    FactPair,
    ParseMemo,
    find_file,
    gc_paused,
    question_key,
    resolve_pairs,
    sample,
    split_lines,
)
from pytest_ragprobe.markers import POSITION_MARK, PositionSpec, build_call_spec, default_positions
from pytest_ragprobe.render import near, threshold
from pytest_ragprobe.results import DirectionSummary, ProbeResult
from pytest_ragprobe.reverse_probe import (
    LOW_ACCURACY,
    MAX_EXAMPLES,
    accepts_text,
    floor_out_of_reach,
    low_accuracy_inconclusive,
    sample_size_notes,
    settings_dict,
)
from pytest_ragprobe.runner import ProbeContext, ProbeError, call_options, context_for, run_sync
from pytest_ragprobe.scoring import check_patterns, score
from pytest_ragprobe.types import Answer, Document, content_digest

if TYPE_CHECKING:  # (stats imports numpy/scipy: loaded when a probe runs)
    from pytest_ragprobe.stats import PositionComparison

GENERATE_HINT = (
    "Position tests hand the reader a fixed list of documents, so they need the reader "
    "separately from the retriever: give the pipeline a generate(question, documents) -> str "
    "method, or build it as ragprobe.Pipeline(answer=my_answer, generate=my_generate) (the answer or "
    "retrieve function you have, and the reader's generate(question, documents))."
)
# extra documents asked of retrieve() so the gold / answer-bearing ones can be dropped
RETRIEVER_SLACK = 5


# -- sources ---------------------------------------------------------------------------------------


def _is_fact_list(items: Sequence[Any]) -> bool:
    return bool(items) and all(isinstance(i, (Fact, FactPair)) for i in items)


def distinct_examples(examples: Sequence[PositionExample], seed: int) -> list[PositionExample]:
    """One example per question (case and spacing ignored), a seeded draw: facts of a one-subject,
    several-objects relation, or data listing a question with several gold documents, ask one question more
    than once, and its outcomes are not independent pairs (see :func:`facts.distinct_questions`). The kept
    example accepts the answers of all its copies, so their gold documents are not used as distractors
    (a context would hold a second answer that was scored wrong)."""
    keys = [question_key(ex.question) for ex in examples]
    if len(set(keys)) == len(keys):
        return list(examples)  # no question twice: nothing to choose (the sample is unchanged)
    order = list(range(len(examples)))
    random.Random(f"{seed}:distinct").shuffle(order)
    kept: dict[str, int] = {}
    for i in order:
        kept.setdefault(keys[i], i)
    accepted: dict[str, dict[str, None]] = {}
    for key, ex in zip(keys, examples, strict=True):
        accepted.setdefault(key, {}).update(dict.fromkeys(ex.answers))
    return [dataclasses.replace(examples[i], answers=tuple(accepted[keys[i]])) for i in sorted(kept.values())]


def repeated_question_note(
    examples: Sequence[PositionExample], distinct: Sequence[PositionExample], unit: str
) -> str:
    counts = Counter(question_key(ex.question) for ex in examples)
    shared = next(ex for ex in distinct if counts[question_key(ex.question)] > 1)
    repeats = sum(n for n in counts.values() if n > 1)
    example = accepts_text(shared.question, shared.answers)
    return (
        f"{repeats} of {len(examples)} {unit} share their question with another (each with its own gold "
        f"document; e.g. {example}): any of those answers is scored right, and "
        f"each question is probed once, sampled from {len(distinct)} {unit}: a question's answers move "
        "together, so its copies would read as independent evidence they are not"
    )


def _from_pairs(pairs: Sequence[FactPair]) -> tuple[list[PositionExample], DocumentPool]:
    examples = [example_from_pair(p) for p in pairs]
    return examples, DocumentPool.from_examples(examples)


_FACTS_NOT_DATA = (
    "this is facts (subject, relation and object, or forward and reverse questions, per fact), not "
    "lost-in-the-middle data; use it with facts=... instead of data=..."
)


def _is_fact_row(row: object) -> bool:
    keys = {"subject", "relation", "object", "forward", "reverse", "forward_question", "relations"}
    return isinstance(row, Mapping) and "question" not in row and bool(keys & set(row))


def _first_row_is_a_fact(path: Path) -> bool:
    """For a data file that failed to load: does it hold facts (JSON / JSONL) instead?"""
    try:
        gz = path.name.lower().endswith(".gz")
        with gzip.open(path, "rt", encoding="utf-8-sig") if gz else path.open(encoding="utf-8-sig") as fh:
            text = fh.read()
        if path.name.lower().endswith(".json"):
            data = json.loads(text)
            first = data[0] if isinstance(data, list) and data else data
            return _is_fact_row(first) or (isinstance(data, Mapping) and "facts" in data)
        return _is_fact_row(json.loads(next(line for line in split_lines(text) if line.strip())))
    except (OSError, ValueError, EOFError, StopIteration):
        return False


def _yaml_holds_facts(path: Path) -> bool:
    """For a YAML data file that failed to load: is it a facts file (a facts: mapping or fact rows)?"""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, yaml.YAMLError):
        return False
    if isinstance(data, Mapping):
        return "facts" in data or _is_fact_row(data)
    return isinstance(data, list) and bool(data) and _is_fact_row(data[0])


# Parsed data files (examples, and the pool of their documents), shared by every caller: immutable.
_DATA_MEMO: ParseMemo[tuple[str, str, str], tuple[tuple[PositionExample, ...], tuple[Document, ...]]] = (
    ParseMemo(entries=4, chars=64_000_000)
)


def _parse_data(
    path: Path, text: str, name: str, content: str
) -> tuple[tuple[PositionExample, ...], tuple[Document, ...]]:
    """A data file's examples from its ``content``; ``text``: the path as given (errors name it)."""
    with gc_paused():
        if name.endswith((".yaml", ".yml")):
            # A YAML list of examples; a YAML facts file (a facts: mapping, or fact records) is told to
            # use facts=, as JSON facts are (facts= in turn sends question + ctxs records here).
            try:
                examples = load_litm_yaml(path, text, content)
            except DataError:
                if _yaml_holds_facts(path):
                    raise DataError(
                        f"{text}: this is a facts file (facts: with subject, relation and object, or "
                        "forward and reverse questions), not lost-in-the-middle data; use facts=... "
                        "instead of data=..."
                    ) from None
                raise
        else:
            try:
                examples = (load_litm_json if name.endswith(".json") else load_litm)(path, text, content)
            except DataError:
                if _first_row_is_a_fact(path):
                    raise DataError(f"{text}: {_FACTS_NOT_DATA}") from None
                raise
        return tuple(examples), tuple(DocumentPool.from_examples(examples).documents)


def load_examples(
    source: str | Path | Sequence[Any],
    *,
    seed: int = 0,
    base_dirs: Sequence[Path] = (),
    facts: bool = False,
) -> tuple[list[PositionExample], DocumentPool]:
    """Examples and the shared distractor pool from ``data=`` / ``facts=``.

    ``facts=True`` reads a path as a facts file (YAML / JSON / JSONL / CSV), not as
    lost-in-the-middle data.
    """
    if isinstance(source, (str, Path)):
        text = str(source)
        if SYNTHETIC_RE.match(text) or facts:
            return _from_pairs(resolve_pairs(source, seed=seed, base_dirs=base_dirs))
        path = find_file(source, base_dirs, "data file", DataError)
        name = path.name.lower()
        if path.is_dir():
            raise DataError(f"{text}: is a directory, not a data file (resolved to {path.resolve()})")
        if not name.endswith((".yaml", ".yml", ".json", ".jsonl", ".jsonl.gz")):
            raise DataError(
                f"{text}: data= expects a lost-in-the-middle JSONL file (.jsonl or .jsonl.gz) with "
                "question, answers and ctxs per line (or a .json / .yaml list of them); for a facts "
                "file (YAML / CSV) use facts=..."
            )
        content = _read_text(path, text)
        # The cost plan and the probe read the same file: parsed once per content (see facts._FACTS_MEMO)
        parsed, documents = _DATA_MEMO.get(
            (text, name, content),
            lambda: _parse_data(path, text, name, content),
            len(text) + len(content),
        )
        return list(parsed), DocumentPool(list(documents))
    items = list(source)
    if not items:
        raise DataError("data: the list of examples is empty")
    if facts or _is_fact_list(items):
        return _from_pairs(resolve_pairs(items, seed=seed, base_dirs=base_dirs))
    if _is_fact_row(items[0]):
        raise DataError(f"data: {_FACTS_NOT_DATA}")
    examples = check_unique([to_example(e, f"data[{i}]", ident=str(i)) for i, e in enumerate(items)], "data")
    return examples, DocumentPool.from_examples(examples)


# -- the probe -------------------------------------------------------------------------------------


def _namespace(spec: PositionSpec) -> str:
    """The cache-key part for what changes answers without showing in the call: nothing. Each call
    carries its question and the whole context (n_docs, positions, distractors are in its
    documents, k in retrieve calls); the matcher only scores answers."""
    del spec
    return ""


def _row(
    ex: PositionExample, position: int, outcome: CallOutcome, correct: bool | None, index: int
) -> dict[str, Any]:
    value = outcome.value
    answer = value.text if isinstance(value, Answer) else value if isinstance(value, str) else None
    return {
        "id": ex.id,
        "question": ex.question,
        "expected": list(ex.answers),
        "answer": answer,
        "position": position,
        "index": index,
        "correct": correct,
        "error": outcome.error,
    }


async def _hard_negatives(
    ctx: ProbeContext, spec: PositionSpec, batch: Sequence[PositionExample], namespace: str
) -> list[list[Document] | None]:
    """The retriever's own top documents for each question (None where retrieve failed)."""
    k = spec.n_docs - 1 + RETRIEVER_SLACK
    outcomes = await ctx.run_calls([Call("retrieve", ex.question, k=k) for ex in batch], namespace)
    out: list[list[Document] | None] = []
    for ex, o in zip(batch, outcomes, strict=True):
        if not o.ok or not isinstance(o.value, list):
            out.append(None)
            continue
        out.append([d for d in o.value if not answers_in(d, ex.answers)])
    return out


async def run_position(
    ctx: ProbeContext,
    spec: PositionSpec,
    examples: Sequence[PositionExample],
    pool: DocumentPool | None = None,
) -> ProbeResult:
    from pytest_ragprobe import stats

    confidence = ctx.confidence(spec)
    seed = ctx.seed(spec)
    probe = "check_position" if ctx.direct else "@ragprobe.position"  # what the user wrote
    ctx.adapter.require("generate", probe, GENERATE_HINT)
    if spec.distractors == "retriever":
        ctx.adapter.require(
            "retrieve",
            f"{probe}(distractors='retriever') (hard negatives come from the pipeline's retriever)",
            "Add retrieve(query, k), e.g. ragprobe.Pipeline(retrieve=..., generate=...), or use "
            "distractors='given'.",
        )
    positions = list(spec.positions or default_positions(spec.n_docs))
    edges = {positions[0], positions[-1]}
    distinct = distinct_examples(examples, seed)  # independent questions only, as for reverse probes
    chosen: list[PositionExample] = sample(distinct, ctx.sample_size(spec, len(distinct)), seed, "position")
    if not chosen:
        raise ProbeError("no questions to probe")
    digest = examples_digest(chosen)
    probed = settings_dict(spec, confidence, seed, n_planned=len(chosen), sample_digest=digest)
    check_patterns(spec.match, ((ex.answers, f"question {ex.id!r} ({ex.question!r})") for ex in chosen))

    design, looks = ctx.looks(spec, len(chosen), confidence)

    outcomes_by_pos: dict[int, list[bool | None]] = {p: [] for p in positions}
    rows: list[list[dict[str, Any]]] = []  # per question, one row per position
    errored: list[dict[str, Any]] = []
    failed_at: Counter[int] = Counter()  # failed / answered calls per position: each held to the error limit
    asked_at: Counter[int] = Counter()
    plans: list[ContextPlan] = []
    short_hard = 0
    done = 0
    stopped_early = False
    # Positions still asked: a sequential probe stops asking one once every comparison it is in has
    # passed (settled); its questions so far still count.
    active = list(positions)
    dropped: dict[int, int] = {}  # position -> questions asked there before it settled
    # With min_accuracy each position's floor is a group-sequential test too and stays passed once
    # it passes; a position settles only when its floor has passed as well, and the probe stops on a
    # FAIL of either check or once both have passed everywhere.
    floor_passed: set[int] = set()
    # With min_accuracy the probe FAILs when either check does: the drop comparisons FAIL at alpha / 2 over
    # their family and the k floors at alpha / (2 k) each (Bonferroni), so a pipeline at both boundaries at
    # once FAILs at most alpha of the time; the PASS sides (intersection-union) stay at alpha.
    fail_alpha = (1.0 - confidence) / 2.0 if spec.min_accuracy is not None else None
    floor_tests = len(positions) * (2 if spec.min_accuracy is not None else 1)
    namespace = _namespace(spec)
    # With the data's own distractors every context is known before any call: a question short of
    # distractors (n_docs too large for the data) is an error before the pipeline is called, not at
    # a later sequential look after the earlier looks' calls were spent.
    given = (
        [plan_context(ex, spec.n_docs, seed, pool=pool, context_tokens=spec.context_tokens) for ex in chosen]
        if spec.distractors == "given"
        else None
    )
    for look, size in enumerate(looks):
        batch = chosen[done:size]
        hard: list[list[Document] | None] = [[] for _ in batch]
        if spec.distractors == "retriever":
            hard = await _hard_negatives(ctx, spec, batch, namespace)
        batch_plans: list[ContextPlan | None] = []
        for ex, negatives in zip(batch, hard, strict=True):
            if given is not None:
                batch_plans.append(given[done + len(batch_plans)])
                continue
            if negatives is None:  # retrieve failed for this question (counted as a pipeline error)
                batch_plans.append(None)
                continue
            plan = plan_context(
                ex,
                spec.n_docs,
                seed,
                pool=pool,
                hard_negatives=negatives,
                context_tokens=spec.context_tokens,
            )
            if spec.distractors == "retriever" and plan.hard_negatives < spec.n_docs - 1:
                short_hard += 1
            batch_plans.append(plan)
        # Question-major: all positions of one question back to back (prefix caches reuse them).
        calls = [
            Call("generate", p.example.question, documents=tuple(p.at(pos)))
            for p in batch_plans
            if p is not None
            for pos in active
        ]
        outcomes = await ctx.run_calls(calls, namespace)
        it = iter(outcomes)
        for ex, maybe_plan in zip(batch, batch_plans, strict=True):
            if maybe_plan is None:
                for pos in active:
                    outcomes_by_pos[pos].append(None)
                errored.append(
                    {
                        "id": ex.id,
                        "question": ex.question,
                        "expected": list(ex.answers),
                        "position": None,
                        "correct": None,
                        "error": "retrieve failed (distractors='retriever')",
                    }
                )
                continue
            plan = maybe_plan
            plans.append(plan)
            q_rows: list[dict[str, Any]] = []
            for pos in active:
                o = next(it)
                ok: bool | None = None
                asked_at[pos] += not o.budget_exhausted
                if o.ok and isinstance(o.value, str):
                    where = f"question {ex.id!r} ({ex.question!r}) at position {pos}"
                    ok = score(spec.match, o.value, ex.answers, where)
                elif not o.budget_exhausted:
                    failed_at[pos] += 1
                    errored.append(_row(ex, pos, o, None, plan.index_of(pos)))
                outcomes_by_pos[pos].append(ok)
                q_rows.append(_row(ex, pos, o, ok, plan.index_of(pos)))
            if all(r["correct"] is not None for r in q_rows):
                rows.append(q_rows)
        done = size
        ctx.check_error_rate({f"at position {p}": (failed_at[p], asked_at[p]) for p in positions})
        if ctx.budget_hit:
            break
        if design is not None and look < len(looks) - 1 and rows:
            decision, now = design.decide_positions(
                outcomes_by_pos, look=look, max_drop=spec.max_drop, fail_alpha=fail_alpha
            )
            if spec.min_accuracy is not None and decision != "fail":
                for pos in active:
                    if pos in floor_passed:
                        continue
                    floor = design.decide_floor(
                        now.correct[pos], now.n_by_position[pos], spec.min_accuracy, look=look,
                        tests=floor_tests,
                    )
                    if floor == "pass":
                        floor_passed.add(pos)
                    elif floor == "fail":
                        decision = "fail"
                if decision == "pass" and len(floor_passed) < len(positions):
                    decision = "continue"
            if decision != "continue":
                stopped_early = True
                break
            for pos in now.settled:
                if spec.min_accuracy is None or pos in floor_passed:
                    dropped.setdefault(pos, size)
            active = [p for p in positions if p not in dropped]

    if not rows and ctx.budget_hit:  # out of budget, as a reverse probe would be: nothing measured
        return ctx.result(
            kind="position",
            verdict="inconclusive",
            settings=probed,
            reason=f"pipeline call budget exhausted: 0 of {len(chosen)} questions answered at every position",
        )
    if not rows:
        raise ProbeError("no question was answered at every position (every question had a failed call)")
    floors: dict[int, str] = {}
    if design is not None:
        last = looks.index(done)
        decision, cmp = design.decide_positions(
            outcomes_by_pos, look=last, max_drop=spec.max_drop, fail_alpha=fail_alpha
        )
        verdict = "inconclusive" if decision == "continue" else decision
        if spec.min_accuracy is not None:
            for p in cmp.accuracy:
                v = "pass" if p in floor_passed else design.decide_floor(
                    cmp.correct[p], cmp.n_by_position[p], spec.min_accuracy, look=last,
                    tests=floor_tests,
                )
                floors[p] = "inconclusive" if v == "continue" else v
    else:
        cmp = stats.compare_positions(
            outcomes_by_pos, max_drop=spec.max_drop, confidence=confidence, fail_alpha=fail_alpha
        )
        verdict = cmp.verdict

    notes: list[str] = []
    if spec.n is not None and spec.n > len(distinct):  # the power planned for n is not there
        held = f"{len(distinct)} questions" + ("" if len(distinct) == len(examples) else " of their own")
        notes.append(f"n={spec.n} asked for, but the data holds only {held}: probed all of them")
    if capped := ctx.cap_note(spec, len(distinct), "questions"):
        notes.append(capped)
    if len(distinct) < len(examples):
        unit = "facts" if spec.data is None else "questions"
        notes.append(repeated_question_note(examples, distinct, unit))
    # a question asked again adds nothing: say which questions count
    distinct_unit = "questions" if len(distinct) == len(examples) else "distinct questions"
    reason = ""
    if spec.min_accuracy is not None and cmp.n:
        # Every position is held to the floor (each on the questions asked there), so a FAIL needs one
        # below it at alpha / (2 positions) (Bonferroni over the positions and the drop test's half).
        floors = floors or {
            p: stats.accuracy_verdict(
                cmp.correct[p], cmp.n_by_position[p], spec.min_accuracy, confidence, tests=floor_tests
            )
            for p in cmp.accuracy
        }
        below = sorted((p for p, v in floors.items() if v == "fail"), key=lambda p: cmp.accuracy[p])
        unclear = sorted((p for p, v in floors.items() if v == "inconclusive"), key=lambda p: cmp.accuracy[p])
        if below:
            verdict = "fail"
            also = len(below) - 1
            others = f" (so is the accuracy at {also} more position{'s' if also > 1 else ''})" if also else ""
            reason = (
                f"accuracy {cmp.accuracy[below[0]]:.2f} at position {below[0]} is below "
                f"min_accuracy {threshold(spec.min_accuracy)}{others}"
            )
        elif unclear and verdict == "pass":
            verdict = "inconclusive"
            asked = cmp.n_by_position.get(unclear[0], cmp.n)
            notes.append(
                f"accuracy {cmp.accuracy[unclear[0]]:.2f} at position {unclear[0]} is not clearly above "
                f"min_accuracy {threshold(spec.min_accuracy)}"
                + floor_out_of_reach(asked, distinct_unit, spec.min_accuracy, confidence)
            )
    if ctx.budget_hit:
        verdict = "inconclusive" if verdict != "fail" else verdict
        reason = reason or (
            f"pipeline call budget exhausted: {cmp.n} of {len(chosen)} questions answered at every "
            "position asked"
        )
    if stopped_early:
        notes.append(f"sequential stopping: decided after {done} of {len(chosen)} questions")
    if dropped and len(dropped) < len(positions):
        where = ", ".join(f"{p} after {q} questions" for p, q in sorted(dropped.items()))
        notes.append(
            f"sequential stopping: stopped asking at position {where} (every comparison with it "
            + ("and its min_accuracy floor " if spec.min_accuracy is not None else "")
            + "had passed)"
        )
    if verdict == "inconclusive" and cmp.n:
        # the FAIL side of one comparison among 2 (k - 1): at least as strict as Bonferroni's share
        family = (1.0 - confidence) if fail_alpha is None else fail_alpha
        fail_conf = 1.0 - family / max(1, 2 * (len(cmp.accuracy) - 1))
        more, sized = _more_needed(cmp, spec.max_drop, confidence, fail_conf)
        # never sampled, and under a call budget that ended the probe also sampled but not answered
        left = len(distinct) - (cmp.n if ctx.budget_hit else len(chosen))
        out_of_reach = more is None and sized  # (not: no comparison to size)
        notes += sample_size_notes(
            more, cmp.n, left, distinct_unit, spec.max_drop, confidence, out_of_reach=out_of_reach,
            budget_calls=len(positions) if ctx.budget_hit else 0,  # (a question: asked at every position)
        )
        if max(cmp.accuracy.values()) < LOW_ACCURACY:
            best = max(cmp.accuracy.values())
            notes.append(low_accuracy_inconclusive(f"every position is at {best:.2f} or below"))
    if short_hard:
        notes.append(
            f"the retriever gave fewer than {spec.n_docs - 1} usable hard negatives for "
            f"{short_hard} question(s); the rest came from the data's own distractors"
        )
    if spec.match in ("contains", "exact"):
        # An isgold flag on the wrong ctx (off by one) leaves no answer in any context: every position
        # is wrong alike and the probe measures nothing. A paraphrasing gold passage is legitimate.
        blind = [p.example for p in plans if not answers_in(p.example.gold, p.example.answers)]
        if blind:
            in_file = {id(ex): i for i, ex in enumerate(distinct)}  # (questions are asked in a seeded order)
            first = min(blind, key=lambda ex: in_file.get(id(ex), 0))
            notes.append(
                f"{len(blind)} of {len(plans)} gold documents contain none of the accepted answers "
                f"(first: {first.where or repr(first.question)}); check that each gold document "
                "(isgold: true) is the passage that holds the answer"
            )
    tokens = [p.approx_tokens for p in plans]
    sizes = [p.size for p in plans]
    if spec.context_tokens is not None and tokens and min(tokens) < spec.context_tokens:
        short = sum(t < spec.context_tokens for t in tokens)
        notes.append(
            f"{short} context(s) stayed below context_tokens={spec.context_tokens} (not enough "
            f"distractors to pad; shortest ~{min(tokens)} tokens)"
        )
    notes += unprobed_edges_note(positions, spec.n_docs)
    best_acc = max(cmp.accuracy.values())
    if verdict == "pass" and spec.min_accuracy is None and best_acc < LOW_ACCURACY:
        notes.append(
            f"every position is at {best_acc:.2f} or below: PASS only says the middle is not worse than the "
            "edges; set min_accuracy=... to require a floor"
        )
    if verdict == "fail" and not reason:
        reason = (
            f"accuracy at position {cmp.worst} is {cmp.drop:.2f} below the best edge "
            f"(position {cmp.best_edge}); "
            f"lower bound {near(cmp.drop_ci[0], spec.max_drop)} > max_drop {threshold(spec.max_drop)}"
        )

    examples_out = _examples(rows, edges, cmp.best_edge, cmp.worst)
    best_vs_worst = cmp.comparisons.get(cmp.worst)
    metrics: dict[str, Any] = {
        "accuracy_by_position": {p: cmp.accuracy[p] for p in cmp.positions},
        "ci_by_position": {p: list(cmp.ci[p]) for p in cmp.positions},
        "correct_by_position": {p: cmp.correct[p] for p in cmp.positions},
        "n_by_position": {p: cmp.n_by_position[p] for p in cmp.positions},
        "drop": cmp.drop,
        "drop_ci": list(cmp.drop_ci),
        "p_value": cmp.p_value,
        "best_edge": cmp.best_edge,
        "worst_position": cmp.worst,
        "shape": cmp.shape,
        # a dip the data cannot tell from none (the drop's lower bound <= 0): 30 questions at 0.9 / 0.8 / 0.9
        # read "U-shaped" in a bold badge next to a PASS
        "shape_within_noise": cmp.shape == "U-shaped" and cmp.drop_ci[0] <= 0.0,
        "max_drop": spec.max_drop,
        "confidence": confidence,
        "n_docs": spec.n_docs,
        "positions": list(cmp.positions),
        "distractors": spec.distractors,
        "approx_context_tokens": round(sum(tokens) / len(tokens)) if tokens else 0,
        # the mean hides one oversized context (a 20k-token document a reader refuses at every position)
        "approx_context_tokens_max": max(tokens) if tokens else 0,
        "docs_per_context": [min(sizes), max(sizes)] if sizes else [spec.n_docs, spec.n_docs],
    }
    if best_vs_worst is not None:
        metrics["discordant"] = {"edge_only": best_vs_worst.n10, "worst_only": best_vs_worst.n01}
    if spec.min_accuracy is not None:
        metrics["min_accuracy"] = spec.min_accuracy
    return ctx.result(
        kind="position",
        verdict=verdict,
        n=cmp.n,
        metrics=metrics,
        examples=examples_out[: MAX_EXAMPLES - len(errored[:10])] + errored[:10],
        settings=probed,
        reason=reason,
        notes=notes,
        stopped_early=stopped_early,
        positions={
            p: DirectionSummary(
                accuracy=cmp.accuracy[p], correct=cmp.correct[p], n=cmp.n_by_position[p], ci=cmp.ci[p]
            )
            for p in cmp.positions
        },
    )


def unprobed_edges_note(positions: Sequence[int], n_docs: int) -> list[str]:
    """Positions that leave out the context's first or last slot compare their own outermost positions as
    "edges": a PASS of positions=[3, 4, 5] said nothing of slots 0 and 9, where a U-shaped reader is best."""
    missing = [p for p in dict.fromkeys((0, n_docs - 1)) if p not in positions]
    if not missing:
        return []
    if len(missing) == 2:
        slots = f"first and last slots (positions {missing[0]} and {missing[1]}) were"
    else:
        slots = f"{'first' if missing[0] == 0 else 'last'} slot (position {missing[0]}) was"
    them = "them" if len(missing) == 2 else "it"
    return [
        f"the context's {slots} not probed: the edges compared are the outermost positions probed "
        f"({positions[0]} and {positions[-1]}), so the verdict says nothing of {them}"
    ]


def _examples(
    rows: Sequence[Sequence[dict[str, Any]]], edges: set[int], best_edge: int, worst: int
) -> list[dict[str, Any]]:
    """One row per (question, position), most telling first.

    Order: right at an edge but wrong in the middle or at the worst position (that one first), then other
    wrong answers, then right ones. ``edge_correct`` = the question was right at an edge position.
    """
    out: list[dict[str, Any]] = []
    for q_rows in rows:
        edge_ok = any(r["correct"] for r in q_rows if r["position"] in edges)
        for r in q_rows:
            out.append({**r, "edge_correct": edge_ok})

    def key(r: dict[str, Any]) -> tuple[bool, bool, bool, bool]:
        # a miss at the worst position counts when that is an edge too (the context's other end read better)
        missed = r["edge_correct"] and r["correct"] is False
        telling = missed and (r["position"] not in edges or r["position"] == worst)
        return (
            not telling,
            r["correct"] is not False,
            r["position"] != worst,
            r["position"] == best_edge,
        )

    out.sort(key=key)
    return out


async def run_position_spec(ctx: ProbeContext, spec: PositionSpec) -> ProbeResult:
    """Plugin entry point: load the spec's data (relative to ctx.base_dirs) and run the probe."""
    seed = ctx.seed(spec)
    if spec.data is not None:
        examples, pool = load_examples(spec.data, seed=seed, base_dirs=ctx.base_dirs)
    elif spec.facts is not None:
        examples, pool = load_examples(spec.facts, seed=seed, base_dirs=ctx.base_dirs, facts=True)
    else:  # build_spec guarantees one of them
        raise DataError("@ragprobe.position needs data=... or facts=...")
    return await run_position(ctx, spec, examples, pool)


def _more_needed(
    cmp: PositionComparison, max_drop: float, confidence: float, fail_confidence: float
) -> tuple[int | None, bool]:
    """About how many more questions would likely decide an INCONCLUSIVE position probe, and whether
    any comparison was there to size it on. Sized on the undecided edge comparisons (both edges'; the
    best edge's alone gave no figure when only the other edge's were undecided): one heading for FAIL
    decides the probe alone (the fewest such), else every one must PASS (the most; None if one is out
    of reach). The worst position's alone said 0, and the probe nothing, when it had PASSed and another
    comparison was still undecided."""
    from pytest_ragprobe import stats

    # (their verdicts are the ones the probe's verdict read: a sequential comparison that settled at an
    # earlier look reads passed)
    undecided = [c for c in cmp.edge_comparisons.values() if c.verdict == "inconclusive"]
    if not undecided:
        return None, False
    sizes = [
        (c.drop > max_drop, stats.more_needed(
            c, max_drop=max_drop, confidence=confidence, fail_confidence=fail_confidence
        ))
        for c in undecided
    ]  # fmt: skip
    failing = [m for heads_to_fail, m in sizes if heads_to_fail and m is not None]
    if failing:
        return min(failing), True
    passing = [m for _, m in sizes]
    return (None if None in passing else max(m for m in passing if m is not None)), True


def check_position(
    pipeline: object,
    examples: str | Path | Sequence[Any] | None = None,
    *,
    timeout: float | None = None,
    retries: int | None = None,
    concurrency: int | None = None,
    max_error_rate: float | None = None,
    **mark_args: Any,
) -> ProbeResult:
    """Run a position probe outside the marks; returns the same result as ``ragprobe_result``.

    ``examples``: a lost-in-the-middle JSONL path, ``"synthetic:N"``, or a list of example dicts /
    ``PositionExample`` / ``ragprobe.Fact``. ``mark_args`` are the mark's arguments (``n_docs``,
    ``positions``, ``max_drop``, ...; ``data=`` / ``facts=`` instead of ``examples`` also work).
    ``timeout`` (seconds per call), ``retries``, ``concurrency`` and ``max_error_rate`` are the
    ``--ragprobe-*`` options of the same names (unset: the pytest run's values, else the defaults).
    """
    given = {"timeout": timeout, "retries": retries, "concurrency": concurrency}
    options = call_options("check_position", {**given, "max_error_rate": max_error_rate})
    args = dict(mark_args)
    if examples is not None:
        if "data" in args or "facts" in args:
            raise TypeError(
                "check_position: pass the examples either positionally or as data=/facts=, not both"
            )
        # (only a list can be a list of facts: anything else goes to data=, whose check names it; list()
        # of an int raised a bare "'int' object is not iterable", and of a generator consumed it)
        handed: object = examples
        is_facts = isinstance(handed, Sequence) and not isinstance(handed, str) and _is_fact_list(handed)
        args["facts" if is_facts else "data"] = examples
    spec = build_call_spec(POSITION_MARK, args, "check_position")
    assert isinstance(spec, PositionSpec)
    # base_dirs: relative paths as the marks find them
    ctx = context_for(pipeline, "check_position", **options)
    return run_sync(lambda: run_position_spec(ctx, spec))


def examples_digest(chosen: Sequence[PositionExample]) -> str:
    """The digest of a position probe's sample: each question, its answers, gold and own distractors."""
    return content_digest(
        [ex.question, list(ex.answers), ex.gold.render(), [d.render() for d in ex.distractors]]
        for ex in chosen
    )
