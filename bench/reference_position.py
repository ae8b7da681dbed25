"""Per-position accuracy of the reference reader on fixtures/films/qa.jsonl.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/reference_position.py [n_questions] [order ...]

For each question: take the gold passage and the first n_docs-1 distractors, move the gold to
each position (the others keep their order), call ``generate``; prints accuracy per position.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pytest_ragprobe.reference import ReferencePipeline
from pytest_ragprobe.types import Document

ROOT = Path(__file__).resolve().parents[1]
N_DOCS = 10
POSITIONS = [0, 2, 4, 6, 9]


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 20
    orders = argv[1:] or ["retrieval", "edges"]
    rows = [json.loads(line) for line in (ROOT / "fixtures/films/qa.jsonl").open()][:n]
    for order in orders:
        pipe = ReferencePipeline(order=order, one_shot=True)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        hits = dict.fromkeys(POSITIONS, 0)
        for row in rows:
            gold = next(c for c in row["ctxs"] if c["isgold"])
            others = [c for c in row["ctxs"] if not c["isgold"]][: N_DOCS - 1]
            for p in POSITIONS:
                ctxs = [*others[:p], gold, *others[p:]]
                docs = [Document(text=c["text"], title=c["title"]) for c in ctxs]
                out = pipe.generate(row["question"], docs)
                hits[p] += any(a in out for a in row["answers"])
        dt = time.perf_counter() - t0
        calls = len(rows) * len(POSITIONS)
        table = "  ".join(f"{p}:{hits[p] / len(rows):.2f}" for p in POSITIONS)
        print(f"order={order:9s} n={len(rows)}  {table}   ({calls} calls, {dt / calls:.2f}s/call)",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
