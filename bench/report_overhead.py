"""Plugin overhead of a suite of many small probes with a report: N reverse probes of 20 facts each (one
YAML file per probe) against an in-process dict pipeline, so nearly all the time is the plugin's own.
Runs the same suite with report.html / report.md rewritten after every probe (RENDER_EVERY_S = 0, what
the plugin did before) and at most every 5 s (the default), cold and warm cache, in one go, and prints
wall times and their ratios (includes pytest start-up).

    python bench/report_overhead.py [--probes 200]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _suite import write_probes  # (bench/, beside this script)

CONFTEST = '''
import pytest
import pytest_ragprobe.session

RENDER = {render}
if RENDER is not None:
    pytest_ragprobe.session.RENDER_EVERY_S = RENDER

def answer(question):
    i = question.rsplit("-", 1)[1].rstrip("?")
    return ("C-" if question.startswith("Which controller") else "P-") + i

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
'''


def write_suite(root: Path, probes: int, render: float | None) -> None:
    root.mkdir(parents=True)
    (root / "conftest.py").write_text(CONFTEST.format(render=render), encoding="utf-8")
    write_probes(root, probes, max_drop=0.5)


def run(root: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:xdist", "--ragprobe-report=rep",
         "--ragprobe-no-progress", str(root / "test_many.py")],
        cwd=root, capture_output=True, text=True, check=False,
    )
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"pytest failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        times: dict[str, tuple[float, float]] = {}
        for label, render in (("every probe", 0.0), ("every 5 s", None)):
            root = Path(tmp) / label.replace(" ", "_")
            write_suite(root, args.probes, render)
            times[label] = (run(root), run(root))  # cold cache, then warm
        print(f"{args.probes} probes x 20 facts, in-process dict pipeline, with --ragprobe-report")
        for label, (cold, warm) in times.items():
            print(f"  html/md rewritten {label:<12} cold {cold:6.1f} s   warm {warm:6.1f} s")
        (c0, w0), (c1, w1) = times["every probe"], times["every 5 s"]
        print(f"  ratio (every probe / every 5 s): cold {c0 / c1:.2f}x, warm {w0 / w1:.2f}x")


if __name__ == "__main__":
    main()
