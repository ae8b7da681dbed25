"""Harness overhead of a padded position probe: planning contexts and computing cache keys.

Builds the workload of the scale review in memory: 300 lost-in-the-middle questions (20 ctxs each),
``n_docs=20``, 5 positions, ``context_tokens=4000`` (~126 documents per context), distractors from the
pipeline's retriever, and a trivial in-process pipeline (no latency), so what is timed is the harness.

Prints, measured in this one run:

* plan: all 300 ``plan_context`` calls with the memoised normaliser (cold: memo emptied first, as in
  a fresh process; warm: memo filled, as at run time after the plan pass) against a reference copy
  of the old per-candidate code (``normalize`` twice per candidate document, below);
* key: ``AnswerCache.key`` for all 1,500 calls (cold / warm memo) against the old key (the whole
  payload through ``_key_data`` and ``json.dumps`` per call);
* probe: ``run_position`` end to end, cache off, cold cache, warm cache, each with the current code
  and with the reference code patched in ("before");

and checks that contexts, keys and results are identical between the two. Ratios only, no
assertions beyond those identity checks.

    python bench/position_overhead.py [--questions 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_ragprobe import cache as cache_mod  # noqa: E402
from pytest_ragprobe import contexts, position_probe, scoring  # noqa: E402
from pytest_ragprobe.cache import UNCACHEABLE, AnswerCache, _dump, _encode_doc, _key_data  # noqa: E402
from pytest_ragprobe.contexts import ContextPlan, DataError, PositionExample  # noqa: E402
from pytest_ragprobe.engine import Call  # noqa: E402
from pytest_ragprobe.markers import POSITION_MARK, PositionSpec, build_spec  # noqa: E402
from pytest_ragprobe.pipeline import make_adapter  # noqa: E402
from pytest_ragprobe.runner import ProbeContext, RunSettings, run_sync  # noqa: E402
from pytest_ragprobe.types import Document  # noqa: E402

N_DOCS, POSITIONS, TOKENS = 20, [0, 5, 10, 15, 19], 4000
WORDS = "alpha beta gamma delta ember river stone harbor quarry saint tide salt velvet film".split()


def make_rows(n: int) -> list[dict[str, Any]]:
    rnd = random.Random(0)
    rows = []
    for i in range(n):
        gold = {"title": f"Film {i}", "text": f"Film {i} is a drama directed by Director-{i}.",
                "isgold": True}
        others = [
            {
                "title": f"Other {i}-{j}",
                "text": " ".join(rnd.choice(WORDS) for _ in range(15)) + f" directed by Person-{i}-{j}.",
                "isgold": False,
            }
            for j in range(19)
        ]
        question = f"Who directed Film {i}?"
        rows.append({"question": question, "answers": [f"Director-{i}"], "ctxs": [gold, *others]})
    return rows


class Pipe:
    """Trivial reader: answers from the question; a retriever returning fixed filler passages."""

    def generate(self, question: str, documents: list[Document]) -> str:
        return f"Director-{question.split()[3].rstrip('?')}"

    def retrieve(self, query: str, k: int) -> list[str]:
        return [f"Retrieved {query} doc {j} about nothing in particular." for j in range(k)]


# -- the code before memoisation (reference copies, for "before" timings and identity checks) -----

_ART, _SEP, _PUN = scoring._ARTICLES, scoring._SEPARATORS, scoring._PUNCT


def ref_normalize(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.translate(_SEP).translate(_PUN)
    text = _ART.sub(" ", text)
    return " ".join(text.split())


def ref_match_contains(answer: str, golds: Sequence[str]) -> bool:
    padded = f" {ref_normalize(answer)} "
    return any(g and f" {g} " in padded for g in (ref_normalize(x) for x in golds))


def ref_answers_in(doc: Document, answers: Sequence[str]) -> bool:
    return ref_match_contains(doc.render(), answers)


def ref_approx_tokens(doc: Document) -> int:
    return math.ceil(len(doc.render()) / contexts.CHARS_PER_TOKEN)


def ref_plan_context(
    example: PositionExample,
    n_docs: int,
    seed: int = 0,
    *,
    pool: contexts.DocumentPool | None = None,
    hard_negatives: Sequence[Document] = (),
    context_tokens: int | None = None,
) -> ContextPlan:
    rng = contexts._rng(seed, example, "order")
    seen = {ref_normalize(example.gold.render())}
    chosen: list[Document] = []
    tokens = ref_approx_tokens(example.gold)
    need = n_docs - 1

    def want() -> bool:
        return len(chosen) < need or (context_tokens is not None and tokens < context_tokens)

    def take(doc: Document) -> None:
        nonlocal tokens
        key = ref_normalize(doc.render())
        if key in seen or (example.gold.id is not None and doc.id == example.gold.id):
            return
        seen.add(key)
        if ref_answers_in(doc, example.answers):
            return
        chosen.append(doc)
        tokens += ref_approx_tokens(doc)

    for doc in hard_negatives:
        if len(chosen) >= need:
            break
        take(doc)
    hard = len(chosen)
    for doc in example.distractors:
        if not want():
            break
        take(doc)
    if want() and pool is not None and pool.documents:
        contexts._borrow(pool, contexts._rng(seed, example, "pool"), want, take)
    if len(chosen) < need:
        raise DataError("too few distractors")
    rng.shuffle(chosen)
    return ContextPlan(example, n_docs, tuple(chosen), tokens, hard, context_tokens)


def ref_key(self: AnswerCache, call: Call) -> str:
    try:
        payload = {
            "format": cache_mod.FORMAT,
            "pipeline": self.identity,
            "namespace": self.namespace,
            "kind": call.kind,
            "question": _key_data(call.question),
            "documents": [_key_data(_encode_doc(d)) for d in call.documents],
            "k": _key_data(call.k),
        }
        blob = _dump(payload)
    except (cache_mod._NotCanonical, TypeError, ValueError, RecursionError):
        self.uncacheable += 1
        return UNCACHEABLE
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@contextmanager
def before() -> Iterator[None]:
    """Patch the reference (pre-memoisation) planning and keying into the probe."""
    patches = [
        (position_probe, "plan_context", ref_plan_context),
        (position_probe, "answers_in", ref_answers_in),
        (AnswerCache, "key", ref_key),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, value in patches:
        setattr(owner, name, value)
    try:
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


def clear_memos() -> None:
    contexts._NORMALIZED.clear()
    contexts._normalized_chars = 0
    cache_mod._DOC_JSON.clear()
    cache_mod._doc_json_chars = 0


def best(fn: Callable[[], Any], repeat: int, setup: Callable[[], None] = lambda: None) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        setup()
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = make_rows(args.questions)
    examples, pool = position_probe.load_examples(rows)
    pipe = Pipe()
    hard = [
        [d for d in (Document(text=t) for t in pipe.retrieve(ex.question, N_DOCS - 1 + 5))
         if not ref_answers_in(d, ex.answers)]
        for ex in examples
    ]
    print(f"{len(examples)} questions x {len(POSITIONS)} positions, n_docs={N_DOCS}, "
          f"context_tokens={TOKENS}, distractors='retriever', pool of {len(pool.documents)} documents")

    def plan(fn: Callable[..., ContextPlan]) -> list[ContextPlan]:
        return [fn(ex, N_DOCS, 0, pool=pool, hard_negatives=h, context_tokens=TOKENS)
                for ex, h in zip(examples, hard, strict=True)]

    t_ref, ref_plans = best(lambda: plan(ref_plan_context), args.repeat)
    t_cold, plans = best(lambda: plan(contexts.plan_context), args.repeat, clear_memos)
    t_warm, plans = best(lambda: plan(contexts.plan_context), args.repeat)
    same = [p.distractors for p in plans] == [p.distractors for p in ref_plans]
    sizes = [p.size for p in plans]
    print(f"\nplan ({len(plans)} contexts, {min(sizes)}-{max(sizes)} documents each; identical: {same})")
    print(f"  before {t_ref * 1e3:8.1f} ms")
    print(f"  cold   {t_cold * 1e3:8.1f} ms   x{t_ref / t_cold:5.1f}")
    print(f"  warm   {t_warm * 1e3:8.1f} ms   x{t_ref / t_warm:5.1f}")

    calls = [
        Call("generate", p.example.question, documents=tuple(p.at(pos))) for p in plans for pos in POSITIONS
    ]
    ac = AnswerCache(Path(tempfile.gettempdir()), "bench-pipeline")
    t_kref, ref_keys = best(lambda: [ref_key(ac, c) for c in calls], args.repeat)
    t_kcold, keys = best(lambda: [ac.key(c) for c in calls], args.repeat, clear_memos)
    t_kwarm, keys = best(lambda: [ac.key(c) for c in calls], args.repeat)
    print(f"\nkey ({len(calls)} calls; identical: {keys == ref_keys})")
    for label, t in (("before", t_kref), ("cold", t_kcold), ("warm", t_kwarm)):
        ratio = "" if t is t_kref else f"   x{t_kref / t:5.1f}"
        print(f"  {label:6} {t * 1e3:8.1f} ms   {t / len(calls) * 1e6:6.0f} us/call{ratio}")

    spec = build_spec(
        POSITION_MARK,
        {"data": rows, "n_docs": N_DOCS, "positions": POSITIONS, "context_tokens": TOKENS,
         "distractors": "retriever", "max_drop": 0.5},
    )
    assert isinstance(spec, PositionSpec)

    def probe(cache_dir: Path | None) -> tuple[float, Any]:
        ctx = ProbeContext(adapter=make_adapter(Pipe()), settings=RunSettings(cache_dir=cache_dir))
        t = time.perf_counter()
        examples, pool = position_probe.load_examples(rows)
        result = run_sync(lambda: position_probe.run_position(ctx, spec, examples, pool))
        elapsed = time.perf_counter() - t
        return elapsed, (result.verdict, result.metrics.get("accuracy_by_position"), result.calls)

    print("\nprobe (load_examples + run_position, in-process pipeline; best of --repeat)")
    with tempfile.TemporaryDirectory() as tmp:
        probe(Path(tmp) / "tables-warmup")  # statistics tables and imports, outside the timings
        table = []
        for label, patched in (("before", True), ("after", False)):
            d = Path(tmp) / label
            with before() if patched else nullcontext():
                clear_memos()
                off = min(probe(None)[0] for _ in range(args.repeat))
                cold, r_cold = probe(d)
                warm = min(probe(d)[0] for _ in range(args.repeat))
                table.append((label, off, cold, warm, r_cold))
        for label, off, cold, warm, _ in table:
            print(f"  {label:6} cache off {off:6.2f} s   cold {cold:6.2f} s   warm {warm:6.2f} s")
        (_, off0, cold0, warm0, r0), (_, off1, cold1, warm1, r1) = table
        gap = " " * 12
        print(f"  speed-up          x{off0 / off1:5.1f}{gap}x{cold0 / cold1:5.1f}{gap}x{warm0 / warm1:5.1f}")
        print(f"  identical results: {r0 == r1}")
        entries = [
            sorted(p.name for p in (Path(tmp) / x / "answers").rglob("*.json")) for x in ("before", "after")
        ]
        same = entries[0] == entries[1]
        print(f"  identical cache entries (names = keys): {same} ({len(entries[1])} entries)")


if __name__ == "__main__":
    main()
