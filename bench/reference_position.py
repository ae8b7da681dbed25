"""Per-position accuracy of the reference reader on fixtures/films/qa.jsonl.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/reference_position.py [n_questions] [order ...]

For each question: take the gold passage and the first n_docs-1 distractors, move the gold to
each position (the others keep their order), call ``generate``; prints accuracy per position
and the correlation (phi) of one question's outcomes between positions: how "paired" the data
are, which sets the power of the paired position test (bench/calibration.py scenarios).
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
    orders = argv[1:] or ["retrieval", "best_last", "edges"]
    rows = [json.loads(line) for line in (ROOT / "fixtures/films/qa.jsonl").open()][:n]
    for order in orders:
        pipe = ReferencePipeline(order=order, one_shot=True)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        hits = dict.fromkeys(POSITIONS, 0)
        outcomes: dict[int, list[bool]] = {p: [] for p in POSITIONS}
        for row in rows:
            gold = next(c for c in row["ctxs"] if c["isgold"])
            others = [c for c in row["ctxs"] if not c["isgold"]][: N_DOCS - 1]
            for p in POSITIONS:
                ctxs = [*others[:p], gold, *others[p:]]
                docs = [Document(text=c["text"], title=c["title"]) for c in ctxs]
                out = pipe.generate(row["question"], docs)
                ok = any(a in out for a in row["answers"])
                hits[p] += ok
                outcomes[p].append(ok)
        dt = time.perf_counter() - t0
        calls = len(rows) * len(POSITIONS)
        table = "  ".join(f"{p}:{hits[p] / len(rows):.2f}" for p in POSITIONS)
        print(f"order={order:9s} n={len(rows)}  {table}   ({calls} calls, {dt / calls:.2f}s/call)",
              flush=True)
        print("  phi between positions: " + "  ".join(
            f"{a}-{b}:{_phi(outcomes[a], outcomes[b]):+.2f}"
            for i, a in enumerate(POSITIONS) for b in POSITIONS[i + 1:]
        ), flush=True)


def _phi(x: list[bool], y: list[bool]) -> float:
    """Pearson correlation of two 0/1 vectors (nan when one is constant)."""
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / n
    sx, sy = (mx * (1 - mx)) ** 0.5, (my * (1 - my)) ** 0.5
    return cov / (sx * sy) if sx and sy else float("nan")


if __name__ == "__main__":
    main(sys.argv[1:])
