"""Collection of a suite over a large facts file: 10,000 and 100,000 facts (YAML triples under a relation
template, and JSONL rows with explicit questions), one reverse probe (n=100) per file.

For each size it runs ``pytest --collect-only`` in a fresh process (the cost plan parses every facts file
at collection, as each xdist worker does again) and prints its wall time, CPU time and peak memory (max
RSS), the same for a ``-p no:ragprobe`` collection (pytest's own share), the plugin's share per fact (CPU and
peak memory beyond pytest alone), and the ratios of that share at the largest size to the smallest: about
10x for 10x the facts is linear. Measured once, not a test.

    python bench/facts_scale.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CONFTEST = """
import pytest

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return lambda question: "?"
"""


def write_suite(d: Path, n: int) -> None:
    (d / "conftest.py").write_text(CONFTEST)
    with open(d / "facts.yaml", "w") as f:
        f.write(
            "relations:\n  fits:\n    forward: 'Which controller works with pump {subject}?'\n"
            "    reverse: 'Which pump works with controller {object}?'\nfacts:\n"
        )
        f.writelines(f"  - {{subject: P-{i}, relation: fits, object: C-{i}}}\n" for i in range(n))
    with open(d / "facts.jsonl", "w") as f:
        for i in range(n):
            row = {
                "forward": {"question": f"Which controller works with pump P-{i}?", "answer": f"C-{i}"},
                "reverse": {"question": f"Which pump works with controller C-{i}?", "answer": f"P-{i}"},
            }
            f.write(json.dumps(row) + "\n")
    probes = [
        f"@ragprobe.reverse(facts='facts.{ext}', n=100, max_drop=0.3)\n"
        f"def test_{ext}(ragprobe_result):\n    pass\n"
        for ext in ("yaml", "jsonl")
    ]
    (d / "test_big.py").write_text("import pytest_ragprobe as ragprobe\n\n" + "\n".join(probes))


def collect(d: Path, *extra: str) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one ``pytest --collect-only`` in ``d``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CI": "true"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # (each run is the only child waited for meanwhile: the children's usage delta is its own; max RSS is
    # the maximum over the children so far, so sizes are measured smallest first)
    command = [sys.executable, "-m", "pytest", "-q", "--collect-only"]
    command += ["-p", "no:randomly", "-p", "no:cacheprovider", *extra]
    out = subprocess.run(command, cwd=d, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        sys.exit(f"collection failed in {d}:\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    rows: dict[int, tuple[float, float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        write_suite(base, 10)
        base_wall, base_cpu, base_rss = collect(base, "-p", "no:ragprobe")
        print(f"pytest alone (-p no:ragprobe): {base_wall:.2f} s wall, {base_cpu:.2f} s CPU, ", end="")
        print(f"peak {base_rss:.0f} MB")
        for n in sizes:
            d = Path(tmp) / str(n)
            d.mkdir()
            write_suite(d, n)
            wall, cpu, rss = collect(d, "--ragprobe-no-cache")
            rows[n] = (wall, cpu - base_cpu, rss - base_rss)  # the plugin's share: beyond pytest alone
            print(
                f"{n:>7,} facts x 2 files: collection {wall:.2f} s wall, {cpu:.2f} s CPU, peak {rss:.0f} MB; "
                f"beyond pytest alone {(cpu - base_cpu) / (2 * n) * 1e6:.0f} us CPU and "
                f"{(rss - base_rss) * 1024 / (2 * n):.1f} KB per fact"
            )
    if len(sizes) > 1:
        lo, hi = rows[sizes[0]], rows[sizes[-1]]
        print(
            f"{sizes[-1] / sizes[0]:g}x the facts: {hi[1] / lo[1]:.1f}x the CPU time and "
            f"{hi[2] / lo[2]:.1f}x the memory beyond pytest alone"
        )


if __name__ == "__main__":
    main()
