"""What rewriting report.json after every probe costs: N reverse probes of 20 facts each against an
in-process pipeline whose answers are ordinary sentences (~150 characters; half the reverse answers wrong,
so each probe keeps examples). Counts the bytes written to report.json over the run and the time spent
building and writing the reports (``record`` and ``finish`` of the session), against the whole run. Runs
the suite twice in one go: report.json rewritten after every probe (JSON_WRITE_SHARE = 1, what the plugin
did before) and as the plugin does now (the default), and prints the ratios.

    python bench/report_json_rewrites.py [--probes 300] [--answer-chars 150]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _suite import write_probes  # (bench/, beside this script)

CONFTEST = '''
import json, os, time
import pytest
import pytest_ragprobe.reporting as reporting
import pytest_ragprobe.session as session

SHARE = {share}
if SHARE is not None:
    session.JSON_WRITE_SHARE = SHARE

STATS = {{"json_bytes": 0, "json_writes": 0, "report_s": 0.0}}
_write = reporting.atomic_write

def counted(path, text):
    if path.name == "report.json":
        STATS["json_bytes"] += len(text.encode("utf-8"))
        STATS["json_writes"] += 1
    _write(path, text)

reporting.atomic_write = counted

def timed(fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            STATS["report_s"] += time.perf_counter() - start
    return wrapper

session.RagprobeSession.record = timed(session.RagprobeSession.record)
session.RagprobeSession.finish = timed(session.RagprobeSession.finish)

def pytest_unconfigure(config):
    with open(os.environ["BENCH_STATS"], "w") as fh:
        json.dump(STATS, fh)

FILLER = "The part you are asking about is listed in the catalogue under its own number, " * 4

def answer(question):
    i = question.rsplit("-", 1)[1].rstrip("?")
    if question.startswith("Which controller"):
        return "C-" + i + ". " + FILLER[:{answer_chars}]
    wrong = int(i.rsplit("x", 1)[1]) % 2 == 0
    return ("P-999" if wrong else "P-" + i) + ". " + FILLER[:{answer_chars}]

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
'''


def write_suite(root: Path, probes: int, answer_chars: int, share: float | None) -> None:
    root.mkdir(parents=True)
    conftest = CONFTEST.format(answer_chars=answer_chars, share=share)
    (root / "conftest.py").write_text(conftest, encoding="utf-8")
    write_probes(root, probes, max_drop=0.9)


def run(root: Path) -> tuple[float, dict[str, float]]:
    stats = root / "stats.json"
    start = time.perf_counter()
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:xdist", "-p",
               "no:cacheprovider", "--ragprobe-report=rep", "--ragprobe-no-progress", "--ragprobe-no-cache",
               str(root / "test_many.py")]
    env = {**os.environ, "BENCH_STATS": str(stats)}
    proc = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False, env=env)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"pytest failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return took, json.loads(stats.read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=300)
    parser.add_argument("--answer-chars", type=int, default=150)
    args = parser.parse_args()
    print(f"{args.probes} reverse probes x 20 facts, answers ~{args.answer_chars} chars, --ragprobe-report")
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, share in (("after every probe", 1.0), ("throttled (default)", None)):
            root = Path(tmp) / label.split()[0]
            write_suite(root, args.probes, args.answer_chars, share)
            took, stats = run(root)
            final = (root / "rep" / "report.json").stat().st_size
            runs[label] = (took, stats)
            print(f"  report.json {label:<20} run {took:5.1f} s, reports {stats['report_s']:5.1f} s "
                  f"({stats['report_s'] / took:4.0%} of the run); {int(stats['json_writes'])} writes, "
                  f"{stats['json_bytes'] / 1e6:7.1f} MB written "
                  f"({stats['json_bytes'] / final:.0f}x the final {final / 1e6:.2f} MB)")
    (t0, s0), (t1, s1) = runs.values()
    print(f"  ratio (every probe / throttled): run {t0 / t1:.2f}x, "
          f"report time {s0['report_s'] / s1['report_s']:.1f}x, "
          f"bytes written {s0['json_bytes'] / s1['json_bytes']:.1f}x")


if __name__ == "__main__":
    main()
