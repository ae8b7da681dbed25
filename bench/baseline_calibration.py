"""Monte Carlo check of the baseline comparison (``--ragprobe-baseline``): false and true regressions.

Each run probes a simulated pipeline twice through the real probes (``check_reverse`` /
``check_position``, so the metric names the comparison reads are the ones the probes write) and
compares the second result with the first as ``--ragprobe-baseline`` does:

* **same**: both runs have the same true accuracies, with fresh noise per run (every answer is an
  independent coin flip, the noisiest a pipeline can be). A "regression" here is a false alarm:
  its rate should stay at or below 1 - confidence (the comparison is Holm-corrected over its tests).
* **worse**: the second run is worse by ``--delta`` on the reverse side / at the middle position.
  The rate is the power to notice it.

Prints each rate with its Monte Carlo standard error. No assertions; about 3 minutes at 200 runs.

    python bench/baseline_calibration.py            # 200 runs per cell
    python bench/baseline_calibration.py --sims 1000
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest_ragprobe as ragprobe
from pytest_ragprobe.baseline import compare
from pytest_ragprobe.results import ProbeResult

N = 100  # facts / questions per run
CONFIDENCE = 0.95
FACTS = [
    ragprobe.Fact(
        forward={"question": f"Forward {i}?", "answer": f"B{i:03d}"},  # type: ignore[arg-type]
        reverse={"question": f"Reverse {i}?", "answer": f"A{i:03d}"},  # type: ignore[arg-type]
    )
    for i in range(N)
]
EXAMPLES = [
    {
        "question": f"Which code is item {i}?",
        "answers": [f"Z{i:03d}"],
        "ctxs": [{"text": f"Code Z{i:03d} is item {i}.", "isgold": True}]
        + [{"text": f"Filler text number {j}."} for j in range(9)],
    }
    for i in range(N)
]


def reverse_run(run: int, forward: float, reverse: float) -> ProbeResult:
    def answer(question: str) -> str:
        i = int(question.split()[1].rstrip("?"))
        rng = random.Random(f"{run}|{question}")
        if question.startswith("Forward"):
            return f"B{i:03d}" if rng.random() < forward else "no idea"
        return f"A{i:03d}" if rng.random() < reverse else "no idea"

    return ragprobe.check_reverse(ragprobe.Pipeline(answer=answer, name="sim"), FACTS, max_drop=0.1)


def position_run(run: int, accuracy: dict[int, float]) -> ProbeResult:
    def generate(question: str, documents: list[ragprobe.Document]) -> str:
        i = int(question.split()[-1].rstrip("?"))
        gold = next(k for k, d in enumerate(documents) if d.text.startswith("Code"))
        right = random.Random(f"{run}|{question}|{gold}").random() < accuracy[gold]
        return f"Z{i:03d}" if right else "no idea"

    return ragprobe.check_position(
        ragprobe.Pipeline(generate=generate, name="sim"),
        EXAMPLES,
        n_docs=10,
        positions=sorted(accuracy),
        max_drop=0.1,
    )


def reverse_pair(
    before: tuple[float, float], after: tuple[float, float]
) -> Callable[[int], tuple[ProbeResult, ProbeResult]]:
    return lambda s: (reverse_run(2 * s, *before), reverse_run(2 * s + 1, *after))


def position_pair(
    before: dict[int, float], after: dict[int, float]
) -> Callable[[int], tuple[ProbeResult, ProbeResult]]:
    return lambda s: (position_run(2 * s, before), position_run(2 * s + 1, after))


def rate(sims: int, pair: Callable[[int], tuple[ProbeResult, ProbeResult]]) -> tuple[float, str]:
    hits = 0
    for s in range(sims):
        before, after = pair(s)
        verdict = compare(after, before.model_dump(mode="json"), confidence=CONFIDENCE)
        hits += verdict.status == "regression"
    p = hits / sims
    return p, f"{p:6.3f} ± {math.sqrt(max(p * (1 - p), 1 / sims) / sims):.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=200, help="runs per cell (default 200)")
    ap.add_argument("--delta", type=float, default=0.2, help="how much worse the 'worse' run is")
    args = ap.parse_args()
    sims, delta = args.sims, args.delta
    u_curve = {0: 0.8, 2: 0.65, 4: 0.6, 6: 0.65, 9: 0.75}
    flat = dict.fromkeys(u_curve, 0.5)
    worse_middle = {**u_curve, 4: u_curve[4] - delta}
    cells: list[tuple[str, Callable[[int], tuple[ProbeResult, ProbeResult]]]] = [
        ("reverse   fwd 0.90 rev 0.75, same", reverse_pair((0.9, 0.75), (0.9, 0.75))),
        ("reverse   fwd 0.50 rev 0.50, same", reverse_pair((0.5, 0.5), (0.5, 0.5))),
        (f"reverse   rev 0.75 -> {0.75 - delta:.2f}", reverse_pair((0.9, 0.75), (0.9, 0.75 - delta))),
        ("position  U-curve, same", position_pair(u_curve, u_curve)),
        ("position  flat 0.50, same", position_pair(flat, flat)),
        (f"position  U-curve, middle -{delta:.2f}", position_pair(u_curve, worse_middle)),
    ]
    print(
        f"ragprobe baseline comparison: n = {N}, confidence = {CONFIDENCE}, {sims} runs per cell; "
        f"'same' rates are false regressions (want <= {1 - CONFIDENCE:.2f}), the others power"
    )
    for name, pair in cells:
        start = time.perf_counter()
        _, text = rate(sims, pair)
        print(f"  {name:36} regression rate {text}   ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
