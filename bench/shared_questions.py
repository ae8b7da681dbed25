"""False FAIL rate of the reverse probe when facts share a question (a one-to-many relation).

Run: ``python bench/shared_questions.py [--sims N] [--seed S]``.

Each reverse question is shared by ``m`` facts ("Which pump fits controller C-7?" for P-1..P-m): the
pipeline answers it once, so its outcome is the same for all m facts, while each fact's forward question
is its own. The script simulates such a pipeline at the boundary (forward 0.80, reverse 0.70, max_drop
0.10, so the true drop is exactly max_drop) and at drop 0.25 = max_drop + 0.15 (reverse 0.55), and
prints the FAIL rate of the fixed-design verdict (``stats.compare_paired``) when

* every fact counts as a pair (what the probe did before: the shared answer is read m times), and
* one fact per question is kept (``facts.distinct_questions``, what the probe samples from now).

A calibrated test FAILs at most 5% of the time at the boundary. Each rate carries its Monte Carlo
standard error sqrt(p (1 - p) / sims).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_ragprobe.facts import FactPair, Question, distinct_questions
from pytest_ragprobe.stats import compare_paired

MAX_DROP = 0.10
CONFIDENCE = 0.95


def catalog(n_facts: int, m: int) -> list[FactPair]:
    """Pump i fits controller i // m: each reverse question is shared by m facts."""
    return [
        FactPair(
            id=str(i),
            forward=Question(question=f"Which controller fits pump P-{i}?", answers=[f"C-{i // m}"]),
            reverse=Question(question=f"Which pump fits controller C-{i // m}?", answers=[f"P-{i}"]),
            statement=f"Pump P-{i} fits controller C-{i // m}.",
        )
        for i in range(n_facts)
    ]


def fail_rate(
    n_facts: int, m: int, fwd: float, rev: float, sims: int, seed: int, distinct: bool
) -> tuple[float, int]:
    """FAIL rate over ``sims`` simulated runs and the number of pairs each run tests."""
    rng = np.random.default_rng(seed)
    pairs = catalog(n_facts, m)
    fails = 0
    n = n_facts
    for run in range(sims):
        forward = rng.random(n_facts) < fwd
        reverse = np.repeat(rng.random(-(-n_facts // m)) < rev, m)[:n_facts]
        if distinct:
            keep = [int(p.id) for p in distinct_questions(pairs, seed=run)]
            forward, reverse, n = forward[keep], reverse[keep], len(keep)
        cmp = compare_paired(
            forward.tolist(), reverse.tolist(), max_drop=MAX_DROP, confidence=CONFIDENCE
        )
        fails += cmp.verdict == "fail"
    return fails / sims, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"max_drop {MAX_DROP}, confidence {CONFIDENCE}, {args.sims} runs per cell; forward 0.80")
    head = ("facts per reverse question", "pairs counted", "FAIL@drop 0.10", "FAIL@drop 0.25")
    print(f"{head[0]:<28}{head[1]:<28}{head[2]:>16}{head[3]:>16}")
    for m, n_facts in ((1, 100), (2, 100), (5, 100), (5, 500)):
        for distinct in (False, True):
            cells = []
            for rev in (0.70, 0.55):
                p, n = fail_rate(n_facts, m, 0.80, rev, args.sims, args.seed, distinct)
                se = (p * (1 - p) / args.sims) ** 0.5
                cells.append(f"{p:.3f}±{se:.3f}")
            how = f"one per question (n={n})" if distinct else f"every fact (n={n_facts})"
            print(f"{m:<28}{how:<28}{cells[0]:>16}{cells[1]:>16}")


if __name__ == "__main__":
    main()
