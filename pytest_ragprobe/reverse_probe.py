"""The reverse probe: every fact asked forward and reverse, outcomes paired, drop tested against max_drop."""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_ragprobe.engine import Call, CallOutcome
from pytest_ragprobe.facts import (
    Fact,
    FactPair,
    SampledPairs,
    distinct_questions,
    question_key,
    resolve_pairs,
    sample,
)
from pytest_ragprobe.markers import REVERSE_MARK, ReverseSpec, build_call_spec
from pytest_ragprobe.render import near, threshold
from pytest_ragprobe.results import DirectionSummary, ProbeResult
from pytest_ragprobe.runner import ProbeContext, ProbeError, call_options, context_for, run_sync
from pytest_ragprobe.scoring import check_patterns, matcher_name, normalize, score
from pytest_ragprobe.types import Answer, Document, content_digest

MAX_EXAMPLES = 50


def _mentions(doc: Document, names: Sequence[str]) -> bool:
    text = f" {normalize(doc.render())} "
    return any(f" {normalize(n)} " in text for n in names if normalize(n))


# Below this, a PASS (no drop) is worth a note: a pipeline that is wrong both ways does not drop either.
LOW_ACCURACY = 0.5
# The "N more would decide" figure takes the observed rates as the truth: near the margin it is optimistic.
ROUGH = "(a rough estimate from the rates seen so far)"


def _count(n: int, unit: str) -> str:
    """``n`` with ``unit`` (a plural: "facts", "distinct questions"), singular for one: "1 fact"."""
    return f"{n} {unit.removesuffix('s') if n == 1 else unit}"


def sample_size_notes(
    more: int | None,
    n: int,
    left: int,
    unit: str,
    max_drop: float,
    confidence: float,
    *,
    out_of_reach: bool = False,
    budget_calls: int = 0,
) -> list[str]:
    """An INCONCLUSIVE probe's notes on its sample size: about how many more would likely decide it
    (``more``, from stats.more_needed; with the total, and what the data holds when that is fewer:
    ``left``, items never sampled), and, with too few for any PASS, the least a PASS needs. Said in one
    note when both apply: "about 66 more" beside "a PASS needs at least 29" read as a contradiction.
    ``out_of_reach``: more_needed gave up (the drop seen sits at or next to max_drop). ``budget_calls``: the
    call budget stopped the probe, which makes this many calls an item (said: the budget to raise)."""
    from pytest_ragprobe.stats import MAX_MORE_PAIRS

    few = undecidable_note(n, unit, max_drop, confidence, hedge=not more)
    if not more:
        if few or not out_of_reach:
            return [few] if few else []
        # (said nothing at all before: the warning promises a word on how many more would decide it.) Only
        # the drop seen is that close: its bounds often allow a true drop far enough from max_drop that a few
        # hundred more decide it, so no claim that more cannot settle it, or that the pipeline sits there.
        return [
            f"the drop seen is too close to max_drop {threshold(max_drop)} to say how many more {unit} would "
            f"settle it: at the rates seen so far over {MAX_MORE_PAIRS:,} more; a true drop further from "
            "max_drop than the one seen needs far fewer"
        ]
    tail = ""
    if budget_calls:  # the budget, not the data, stopped it (the data may fall short as well)
        tail = (
            f"; the call budget stopped the probe: asking them takes about {more * budget_calls} more "
            "pipeline calls (raise --ragprobe-budget)"
        )
        if left <= 0:
            tail += f", and these are all the {unit} given: add more"
        elif left < more:
            tail += f", and the data holds only {left} more: add more {unit}"
    elif left <= 0:
        tail = f"; these are all the {unit} given: add more to decide it"
    elif left < more:
        tail = f"; the data holds {left} more: add more to decide it"
    likely = f"({n + more} in all) would likely decide"
    if _below_least(n, max_drop, confidence):  # too few for any PASS: the least first, then the likely total
        # Two figures, each said for what it is: "a PASS needs at least 29" beside "about 97 more (103 in
        # all)" read as a contradiction. (The rates are named once: not again in ROUGH.)
        estimate = f"at the rates seen so far, about {more} more {likely} it, PASS or FAIL (a rough estimate)"
        return [f"{undecidable_note(n, unit, max_drop, confidence, estimate=estimate)}{tail}"]
    more_items = f"{more} more {unit.removesuffix('s') if more == 1 else unit}"  # ("1 more fact")
    notes = [f"about {more_items} {likely} this {ROUGH}{tail}"]
    return [*notes, few] if few else notes


def floor_out_of_reach(n: int, unit: str, floor: float, confidence: float) -> str:
    """For a min_accuracy floor the data do not settle: ": ..." when no run of ``n`` could PASS it, even
    with every answer right ("" otherwise: more of the same would do). The exact lower bound of n right of
    n is alpha^(1/n), below a floor of 0.99 until 299 answers; no sample reaches a floor of 1."""
    from pytest_ragprobe import stats
    from pytest_ragprobe.render import percent

    if floor >= 1.0:
        return f": no sample can show an accuracy of at least {threshold(floor)} (set min_accuracy below 1)"
    if floor <= 0.0 or stats.accuracy_verdict(n, n, floor, confidence) == "pass":
        return ""
    least = max(n + 1, math.ceil(math.log(1.0 - confidence) / math.log(floor)) - 1)
    while stats.accuracy_verdict(least, least, floor, confidence) != "pass":  # (the closed form, rounded)
        least += 1
    return (
        f": with {_count(n, unit)} no run can show it, even with every answer right it takes at least "
        f"{_count(least, unit)} (at {percent(confidence)})"
    )


def _below_least(n: int, max_drop: float, confidence: float) -> bool:
    """Fewer than the least sample that can PASS at all (the case undecidable_note opens "with n ...")."""
    from pytest_ragprobe import stats

    if max_drop <= 0:
        return False
    least = stats.min_pass_n(max_drop=max_drop, confidence=confidence)
    return least is not None and n < least


def undecidable_note(
    n: int, unit: str, max_drop: float, confidence: float, *, hedge: bool = True, estimate: str = ""
) -> str:
    """For an INCONCLUSIVE probe with too few items for any PASS: "" otherwise. (Its 'about N more' note
    assumes the rates seen; this one holds whatever the answers.) ``hedge``: say that disagreeing
    answers need more (when no rate-based figure follows). ``estimate``: that rate-based figure, said
    after the least as a different thing (the least is a minimum, reached only if every answer agreed)."""
    from pytest_ragprobe import stats
    from pytest_ragprobe.render import percent

    if max_drop <= 0:  # was: no word, and "about N more" suggested more data would do
        return (
            f"no run can PASS at max_drop {threshold(max_drop)}: a PASS shows the drop is at most max_drop, "
            "and no sample shows a drop of at most 0; it can only FAIL or stay INCONCLUSIVE (set max_drop "
            "above 0 to allow a PASS)"
        )
    least = stats.min_pass_n(max_drop=max_drop, confidence=confidence)
    if least is None:
        limit = threshold(max_drop)
        return f"no run of up to 10,000 {unit} can PASS at max_drop {limit} (at {percent(confidence)})"
    if n >= least:
        return ""
    if estimate:
        return (
            f"with {_count(n, unit)} no run can PASS at max_drop {threshold(max_drop)}: the minimum for a "
            f"PASS is {_count(least, unit)}, reached only if every answer agreed (at {percent(confidence)}); "
            f"{estimate}"
        )
    return (
        f"with {_count(n, unit)} no run can PASS at max_drop {threshold(max_drop)}: even if every answer "
        f"agreed, a PASS needs at least {_count(least, unit)} "
        f"(at {percent(confidence)}{'; more when some disagree' if hedge else ''})"
    )


def low_accuracy_inconclusive(accuracies: str) -> str:
    """An INCONCLUSIVE probe whose accuracies are all low: the drop says little there, and a pipeline
    wrong nearly everywhere is more often set up wrong than reversal-blind."""
    return (
        f"{accuracies}: the pipeline answers nearly nothing right; check its setup (the answer field, "
        "the prompt, the documents indexed) before reading the drop"
    )


def attribute_miss(pair: FactPair, answer: Answer) -> str | None:
    """'retrieval' when no retrieved document holds both of the fact's entities, else 'reading'.

    The fact's two entities are the forward answer and the reverse answer, so this works for templated and
    explicit facts alike. None when the pipeline did not report its documents; 'retrieval' when it reported
    none (an empty retrieval is the plainest retrieval miss).
    """
    if not answer.reports_documents:
        return None
    if not answer.documents:
        return "retrieval"
    # this fact's own entities: with one-to-many facts the merged answers hold other facts' too, and their
    # pages are not this fact's
    fwd, rev = pair.own_answers or (pair.forward.answers, pair.reverse.answers)
    gold_seen = any(_mentions(d, fwd) and _mentions(d, rev) for d in answer.documents)
    return "reading" if gold_seen else "retrieval"


def shared_question_notes(pairs: Sequence[FactPair], pool: int) -> list[str]:
    """A note per way in which several facts ask the same question (a one-to-many relation; a symmetric
    one asks a fact's forward question as another's reverse): its answers count for each of them, which a
    user reading one fact's expected answer would not guess; and one fact per question is probed (``pool``
    of the facts could be: :func:`distinct_questions`)."""
    forward = Counter(question_key(p.forward.question) for p in pairs)
    reverse = Counter(question_key(p.reverse.question) for p in pairs)
    notes: list[str] = []
    for direction, shape, counts in (
        ("reverse", "one object, several subjects", reverse),
        ("forward", "one subject, several objects", forward),
    ):
        questions = [p.reverse if direction == "reverse" else p.forward for p in pairs]
        shared = [q for q in questions if counts[question_key(q.question)] > 1]
        if shared:
            example = accepts_text(shared[0].question, shared[0].answers)
            notes.append(
                f"{len(shared)} of {len(pairs)} facts share their {direction} question with another fact "
                f"({shape}; e.g. {example}): any of those answers is scored right"
            )
    crossed = [p.forward for p in pairs if question_key(p.forward.question) in reverse]
    if crossed:
        example = accepts_text(crossed[0].question, crossed[0].answers)
        notes.append(
            f"{len(crossed)} of {len(pairs)} facts ask as their forward question another fact's reverse "
            f"question (e.g. {example}): one question, asked once"
        )
    if pool < len(pairs):
        notes.append(
            f"one fact per question is probed, sampled from {pool} of {len(pairs)} facts: a question's one "
            "answer counted once per fact would read as independent evidence it is not"
        )
    return notes


def accepts_text(question: str, answers: Sequence[str]) -> str:
    """"'Which pump fits C-7?' accepts P-1, P-2" (at most five answers shown)."""
    shown = ", ".join(answers[:5]) + (", ..." if len(answers) > 5 else "")
    return f"{question!r} accepts {shown}"


def _namespace(spec: ReverseSpec, pairs: Sequence[FactPair] = ()) -> str:
    """The cache-key part for what changes answers without showing in the call (question, k): for
    ``synthetic:N``, the fictitious facts indexed first. Not the matcher (answers do not depend on
    how they are scored) nor the probe kind (the same call gets the same answer)."""
    if isinstance(spec.facts, str) and spec.facts.startswith("synthetic:"):
        return json.dumps({"indexed": spec.facts}, sort_keys=True)
    if sources := sorted({p.source for p in synthetic_pairs(pairs)}):
        return json.dumps({"indexed": sources}, sort_keys=True)
    return ""


def synthetic_pairs(pairs: Sequence[FactPair]) -> list[FactPair]:
    """Pairs ``ragprobe_fact_pairs("synthetic:N")`` made, handed over as a list: fictitious facts no
    pipeline knows until they are indexed, as ``facts="synthetic:N"`` indexes them."""
    return [p for p in pairs if p.source.startswith("synthetic:")]


async def index_synthetic(ctx: ProbeContext, pairs: Sequence[FactPair]) -> None:
    ctx.adapter.require(
        "index",
        "facts='synthetic:N' (the fictitious facts must be indexed first)",
        "Add an index(documents) method, or pass a facts file the pipeline already knows.",
    )
    docs = [Document(text=p.statement, title=p.subject or "", id=f"ragprobe-{p.id}") for p in pairs]
    await ctx.adapter.index(docs)


def _example(pair: FactPair, direction: str, outcome: CallOutcome, correct: bool | None) -> dict[str, Any]:
    q = pair.forward if direction == "forward" else pair.reverse
    answer = outcome.value if isinstance(outcome.value, Answer) else None
    return {
        "id": pair.id,
        "direction": direction,
        "question": q.question,
        "expected": q.answers,
        "answer": answer.text if answer else None,
        "correct": correct,
        "error": outcome.error,
    }


def _where(pair: FactPair, direction: str) -> str:
    q = pair.forward if direction == "forward" else pair.reverse
    return f"fact {pair.id!r}, {direction} question {q.question!r}"


async def run_reverse(ctx: ProbeContext, spec: ReverseSpec, pairs: Sequence[FactPair]) -> ProbeResult:
    from pytest_ragprobe import stats

    confidence = ctx.confidence(spec)
    seed = ctx.seed(spec)
    ctx.adapter.require(
        "answer",
        "check_reverse" if ctx.direct else "@ragprobe.reverse",  # what the user wrote
        "Give a callable question -> str, an answer() method, or retrieve() + generate().",
    )
    if isinstance(spec.facts, str) and spec.facts.startswith("synthetic:"):
        await index_synthetic(ctx, pairs)
    elif synthetic := synthetic_pairs(pairs):  # (unindexed, every answer was a miss: a PASS at 0.00 / 0.00)
        await index_synthetic(ctx, synthetic)
    pool = distinct_questions(pairs, seed)  # independent pairs only: shared questions are one observation
    chosen: list[FactPair] = sample(pool, ctx.sample_size(spec, len(pool)), seed, "reverse")
    if not chosen:
        raise ProbeError("no facts to probe")
    probed = settings_dict(spec, confidence, seed, n_planned=len(chosen), sample_digest=sample_digest(chosen))
    both = ("forward", "reverse")
    check_patterns(spec.match, ((getattr(p, d).answers, _where(p, d)) for p in chosen for d in both))

    design, looks = ctx.looks(spec, len(chosen), confidence)

    fwd: list[bool] = []
    rev: list[bool] = []
    used_pairs: list[tuple[FactPair, CallOutcome, CallOutcome, bool, bool]] = []
    errored: list[dict[str, Any]] = []
    done = 0
    stopped_early = False
    # Sequential with min_accuracy: the drop test and the floor test each decide at their own look and
    # stay decided (each keeps its level whenever it crosses); the probe stops once the drop has failed,
    # the floor has failed, or both have passed.
    drop_passed: stats.PairedComparison | None = None  # the comparison at the look the drop passed
    floor_passed = spec.min_accuracy is None
    # With min_accuracy the probe FAILs when either check FAILs: each FAILs at alpha / 2 (Bonferroni), so a
    # pipeline at both boundaries at once FAILs at most alpha of the time. PASS needs both to pass (an
    # intersection-union test): each PASS side stays at alpha.
    split = spec.min_accuracy is not None
    fail_alpha = (1.0 - confidence) / 2.0 if split else None
    floor_tests = 2 if split else 1
    namespace = _namespace(spec, pairs)
    for look, size in enumerate(looks):
        batch = chosen[done:size]
        calls = [Call("answer", q) for p in batch for q in (p.forward.question, p.reverse.question)]
        outcomes = await ctx.run_calls(calls, namespace)
        for i, pair in enumerate(batch):
            fo, ro = outcomes[2 * i], outcomes[2 * i + 1]
            if not (fo.ok and ro.ok):
                if any(not o.ok and not o.budget_exhausted for o in (fo, ro)):  # unasked: no example
                    errored += [_example(pair, "forward", fo, None), _example(pair, "reverse", ro, None)]
                continue
            assert isinstance(fo.value, Answer) and isinstance(ro.value, Answer)
            f_ok = score(spec.match, fo.value.text, pair.forward.answers, _where(pair, "forward"))
            r_ok = score(spec.match, ro.value.text, pair.reverse.answers, _where(pair, "reverse"))
            fwd.append(f_ok)
            rev.append(r_ok)
            used_pairs.append((pair, fo, ro, f_ok, r_ok))
        done = size
        ctx.check_error_rate()
        if ctx.budget_hit:
            break
        if design is not None and look < len(looks) - 1 and fwd:
            failed = False
            if drop_passed is None:
                decision, now = design.decide(
                    fwd, rev, look=look, max_drop=spec.max_drop, fail_alpha=fail_alpha
                )
                drop_passed = now if decision == "pass" else None
                failed = decision == "fail"
            if not failed and not floor_passed and spec.min_accuracy is not None:
                interim = design.decide_floor(
                    sum(rev), len(rev), spec.min_accuracy, look=look, tests=floor_tests
                )
                floor_passed = interim == "pass"
                failed = interim == "fail"
            if failed or (drop_passed is not None and floor_passed):
                stopped_early = True
                break

    if not fwd and ctx.budget_hit:  # nothing measured: no accuracies to show (not 0.00)
        return ctx.result(
            kind="reverse",
            verdict="inconclusive",
            settings=probed,
            reason=f"pipeline call budget exhausted: 0 of {len(chosen)} facts answered both ways",
            examples=errored[:MAX_EXAMPLES],
        )
    floor: str | None = None
    if design is not None and fwd:
        last = looks.index(done)
        decision, cmp = design.decide(fwd, rev, look=last, max_drop=spec.max_drop, fail_alpha=fail_alpha)
        if drop_passed is not None and decision != "pass":  # passed at an earlier look: stays passed
            decision = "pass"
            hi = drop_passed.drop_ci[1]
            cmp = dataclasses.replace(cmp, drop_ci=(min(cmp.drop_ci[0], hi), hi), verdict="pass")
        verdict = "inconclusive" if decision == "continue" else decision
        if spec.min_accuracy is not None:
            floor = "pass" if floor_passed else design.decide_floor(
                cmp.b_correct, cmp.n, spec.min_accuracy, look=last, tests=floor_tests
            )
            floor = "inconclusive" if floor == "continue" else floor
    else:
        cmp = stats.compare_paired(
            fwd, rev, max_drop=spec.max_drop, confidence=confidence, fail_alpha=fail_alpha
        )
        verdict = cmp.verdict

    notes: list[str] = []
    if spec.n is not None and spec.n > len(pool):  # the power planned for n is not there
        held = f"{len(pool)} facts" + ("" if len(pool) == len(pairs) else " with questions of their own")
        notes.append(f"n={spec.n} asked for, but the facts hold only {held}: probed all of them")
    if capped := ctx.cap_note(spec, len(pool), "facts"):
        notes.append(capped)
    notes += shared_question_notes(pairs, len(pool))
    # a fact that shares a question with one already probed adds nothing: say which facts count
    unit = "facts" if len(pool) == len(pairs) else "facts with questions of their own"
    reason = ""
    if spec.min_accuracy is not None and cmp.n:
        if floor is None:
            floor = stats.accuracy_verdict(
                cmp.b_correct, cmp.n, spec.min_accuracy, confidence, tests=floor_tests
            )
        if floor == "fail":
            verdict = "fail"
            reason = f"reverse accuracy {cmp.acc_b:.2f} is below min_accuracy {threshold(spec.min_accuracy)}"
        elif floor == "inconclusive" and verdict == "pass":
            verdict = "inconclusive"
            notes.append(
                f"reverse accuracy {cmp.acc_b:.2f} is not clearly above min_accuracy "
                f"{threshold(spec.min_accuracy)}"
                + floor_out_of_reach(cmp.n, unit, spec.min_accuracy, confidence)
            )
    if ctx.budget_hit:
        verdict = "inconclusive" if verdict != "fail" else verdict
        reason = reason or (
            f"pipeline call budget exhausted: {len(fwd)} of {len(chosen)} facts answered both ways"
        )
    if stopped_early:
        notes.append(f"sequential stopping: decided after {done} of {len(chosen)} facts")
    if verdict == "inconclusive" and cmp.n:
        more = stats.more_needed(
            cmp,
            max_drop=spec.max_drop,
            confidence=confidence,
            fail_confidence=None if fail_alpha is None else 1.0 - fail_alpha,
        )
        # never sampled, and under a call budget that ended the probe also sampled but not answered
        left = len(pool) - (cmp.n if ctx.budget_hit else len(chosen))
        notes += sample_size_notes(
            more, cmp.n, left, unit, spec.max_drop, confidence, out_of_reach=more is None,
            budget_calls=2 if ctx.budget_hit else 0,  # (a fact: asked forward and reverse)
        )
        if max(cmp.acc_a, cmp.acc_b) < LOW_ACCURACY:
            notes.append(low_accuracy_inconclusive(f"forward {cmp.acc_a:.2f} and reverse {cmp.acc_b:.2f}"))
    if verdict == "pass" and spec.min_accuracy is None and max(cmp.acc_a, cmp.acc_b) < LOW_ACCURACY:
        notes.append(
            f"forward {cmp.acc_a:.2f} and reverse {cmp.acc_b:.2f} are both low: PASS only says the reverse "
            "answers are not worse; set min_accuracy=... to require a floor"
        )
    if verdict == "fail" and not reason:
        reason = (
            f"reverse accuracy dropped by {cmp.drop:.2f} (lower bound {near(cmp.drop_ci[0], spec.max_drop)}) "
            f"> max_drop {threshold(spec.max_drop)}"
        )

    misses = {"retrieval": 0, "reading": 0, "unknown": 0}
    # the reversal failures proper (the forward_only pairs): a fact missed both ways is not known at all,
    # and what to fix for it is not what fixes a one-way fact
    reversal = dict(misses)
    examples: list[dict[str, Any]] = []
    for pair, fo, ro, f_ok, r_ok in used_pairs:
        assert isinstance(ro.value, Answer)
        miss = attribute_miss(pair, ro.value) if not r_ok else None
        if not r_ok:
            misses[miss or "unknown"] += 1
            if f_ok:
                reversal[miss or "unknown"] += 1
        ex = _example(pair, "reverse", ro, r_ok)
        ex["forward_question"] = pair.forward.question  # (a forward miss is shown by its own question)
        ex["forward_expected"] = pair.forward.answers
        ex["forward_answer"] = fo.value.text if isinstance(fo.value, Answer) else None
        ex["forward_correct"] = f_ok
        ex["miss"] = miss
        examples.append(ex)
    # Most telling first: right forward but wrong reverse, then both wrong, then forward misses alone
    # (what a fallen forward accuracy is made of), then the rest.
    examples.sort(
        key=lambda e: (not (e["forward_correct"] and not e["correct"]), e["correct"], e["forward_correct"])
    )

    metrics: dict[str, Any] = {
        "forward_accuracy": cmp.acc_a,
        "reverse_accuracy": cmp.acc_b,
        "drop": cmp.drop,
        "drop_ci": list(cmp.drop_ci),
        "p_value": cmp.p_value,
        "forward_ci": list(cmp.ci_a),
        "reverse_ci": list(cmp.ci_b),
        "discordant": {"forward_only": cmp.n10, "reverse_only": cmp.n01},
        "max_drop": spec.max_drop,
        "confidence": confidence,
    }
    if misses["retrieval"] or misses["reading"]:
        metrics["reverse_misses"] = misses
        metrics["reversal_misses"] = reversal
    if verdict == "fail" and (advice := mitigation_note(misses, reversal)):
        notes.append(advice)
    return ctx.result(
        kind="reverse",
        verdict=verdict,
        n=cmp.n,
        metrics=metrics,
        examples=(examples + errored)[:MAX_EXAMPLES],
        settings=probed,
        reason=reason,
        notes=notes,
        stopped_early=stopped_early,
        forward=DirectionSummary(accuracy=cmp.acc_a, correct=cmp.a_correct, n=cmp.n, ci=cmp.ci_a),
        reverse=DirectionSummary(accuracy=cmp.acc_b, correct=cmp.b_correct, n=cmp.n, ci=cmp.ci_b),
    )


def mitigation_note(misses: Mapping[str, int], reversal: Mapping[str, int] | None = None) -> str:
    """What to try on a reversal FAIL, from where its reverse misses were made; "" with none.

    ``reversal``: the misses of facts answered right forward. When it holds attributed misses the advice
    follows them: facts missed both ways (not in the index, a reader that never knew them) can outnumber
    the one-way misses and point at the wrong fix."""
    if reversal is not None and (reversal["retrieval"] or reversal["reading"]) and reversal != misses:
        counts, what = reversal, "reverse misses of facts answered right forward"
    else:
        counts, what = misses, "reverse misses"
    retrieval, reading, unknown = counts["retrieval"], counts["reading"], counts["unknown"]
    index_fix = (
        "index each fact both ways (a statement per direction), or put the reverse question's entity in "
        "the page's title or text"
    )
    reader_fix = (
        "state each fact both ways on its page and show the reader a reverse question with its answer "
        "(one-shot); a small reader tends to repeat the question's entity"
    )
    # "most" of the misses the documents attribute: with unattributed ones counted in, "most reverse misses
    # (2 of 30)" named a minority, and a tie was called "most ... reading misses"
    without = f", {unknown} without documents" if unknown else ""
    attributed = f"{retrieval + reading} attributed{without}" if unknown else str(retrieval + reading)
    if retrieval and retrieval == reading:
        return (
            f"{what} are as often retrieval misses as reading misses ({retrieval} each{without}): "
            f"{index_fix}; and {reader_fix}"
        )
    if retrieval > reading:
        return (
            f"most {what} ({retrieval} of {attributed}) are retrieval misses, the "
            f"fact's page not retrieved for the reverse question: {index_fix}"
        )
    if reading:
        return (
            f"most {what} ({reading} of {attributed}) are reading misses, the "
            f"page retrieved and the answer wrong: {reader_fix}"
        )
    if unknown:
        return (
            "to tell retrieval misses from reading misses, return ragprobe.Answer(text, documents=[...]) "
            "with the documents the answer was read from"
        )
    return ""


def settings_dict(
    spec: Any, confidence: float, seed: int, *, n_planned: int | None, sample_digest: str | None = None
) -> dict[str, Any]:
    """The settings that make two runs comparable (baselines report changes in these); ``n_planned``
    None: nothing was sampled (a probe that errored first); ``sample_digest``: of what was sampled
    (:func:`sample_digest`), so that a facts file changed under the same path is not compared."""
    out: dict[str, Any] = {}
    for key, raw in vars(spec).items():
        value: Any = raw
        if key == "match":
            value = matcher_name(raw)
        elif isinstance(raw, Path):
            value = str(raw)
        elif isinstance(raw, tuple):
            value = (
                f"<{len(raw)} items>"
                if len(raw) > 20
                else [v if isinstance(v, (str, int, float, bool)) or v is None else repr(v) for v in raw]
            )
        out[key] = value
    out.update(confidence=confidence, seed=seed)
    if n_planned is not None:
        out["n_planned"] = n_planned
    if sample_digest is not None:
        out["sample_digest"] = sample_digest
    return out


def sample_digest(chosen: Sequence[FactPair]) -> str:
    """The digest of a reverse probe's sample: every question with its accepted answers, in any order ("set:"
    marks it): every fact probed under another seed is the same sample, asked in another order (baselines
    compare it; the digest in order said "seed changed" every time)."""
    items = [[p.forward.question, p.forward.answers, p.reverse.question, p.reverse.answers] for p in chosen]
    return "set:" + content_digest(sorted(items, key=lambda item: json.dumps(item, ensure_ascii=False)))


def ask_order_digest(chosen: Sequence[FactPair]) -> str:
    """The questions of a reverse probe's sample in the order it asks them: what, with the settings, fixes
    which calls a sequential probe makes before it stops (``sample_digest`` leaves the order out, so that a
    baseline under another seed compares; the plan's record of the calls must not: plan.probe_digest)."""
    return content_digest([p.forward.question, p.reverse.question] for p in chosen)


def check_reverse(
    pipeline: object,
    pairs: str | Path | Sequence[Fact] | Sequence[FactPair] | None = None,
    *,
    timeout: float | None = None,
    retries: int | None = None,
    concurrency: int | None = None,
    max_error_rate: float | None = None,
    **mark_args: Any,
) -> ProbeResult:
    """Run a reverse probe outside the marks; returns the same result as ``ragprobe_result``.

    ``pairs`` (or ``facts=``, the mark's name): a facts file, ``"synthetic:N"`` or a list of
    ``ragprobe.Fact`` / ``FactPair``. A relative path is looked up beside the calling file, then
    the rootdir of the pytest run (if any), then the cwd. ``timeout`` (seconds per call),
    ``retries``, ``concurrency`` and ``max_error_rate`` are the ``--ragprobe-*`` options of the
    same names (unset: the pytest run's values, else the defaults)."""
    given = {"timeout": timeout, "retries": retries, "concurrency": concurrency}
    options = call_options("check_reverse", {**given, "max_error_rate": max_error_rate})
    args = dict(mark_args)
    if pairs is not None:
        if "facts" in args:  # one would silently win, and the other be recorded in the settings
            raise TypeError("check_reverse: pass the facts either positionally or as facts=, not both")
        args["facts"] = pairs
    handed = args.get("facts")
    spec = build_call_spec(REVERSE_MARK, args, "check_reverse")
    assert isinstance(spec, ReverseSpec)
    ctx = context_for(pipeline, "check_reverse", **options)
    # ragprobe_fact_pairs(facts, n, seed) handed over as made: probed as the mark with those facts and n
    # (the same sample: this list; and the same notes on what --ragprobe-samples cut and the data holds)
    origin = handed.origin(ctx.seed(spec)) if isinstance(handed, SampledPairs) and spec.n is None else None
    if origin is not None:
        resolved, n = origin
        spec = dataclasses.replace(spec, n=n)
    else:
        resolved = resolve_pairs(spec.facts, seed=ctx.seed(spec), base_dirs=ctx.base_dirs)
    return run_sync(lambda: run_reverse(ctx, spec, resolved))
