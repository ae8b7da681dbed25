"""Many probes at once, and sharded: ``--probes`` reverse probes (default 100; the brief's check used 500)
over one 200-fact file against an in-process pipeline that logs each call (no LLM, no network).

One run each, and it prints:

* the unsharded run under ``-n 2``, cold (empty answer cache), then warm: pipeline calls (the warm run should
  make none), wall times and their ratio, and whether the two reports hold the same verdicts and numbers;
* two ``-k`` shards (one plain, one under ``-n 2``, as two CI jobs might run), merged with ``ragprobe merge``:
  whether the merged report equals the unsharded one, probe for probe;
* the merge of one shard alone (the other left out): its exit status and whether its note names the probes
  no shard ran.

    python bench/shards_merge.py [--probes 100]
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

ROOT = Path(__file__).resolve().parents[1]

CONFTEST = """
import os
import pytest

LOG = os.environ["BENCH_CALLS"]

def answer(question):
    with open(LOG, "a") as f:
        f.write(question + "\\n")
    i = int(question.rsplit("-", 1)[1].rstrip("?"))
    if question.startswith("Which controller"):
        return f"C-{i}"
    return f"P-{i}" if (i * 7919) % 100 < 70 else "?"

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
"""


def write_suite(d: Path, probes: int) -> None:
    (d / "conftest.py").write_text(CONFTEST)
    facts = ["facts:"]
    for i in range(200):
        facts.append(f"  - forward: {{question: 'Which controller works with pump P-{i}?', answer: C-{i}}}")
        facts.append(f"    reverse: {{question: 'Which pump works with controller C-{i}?', answer: P-{i}}}")
    (d / "facts.yaml").write_text("\n".join(facts) + "\n")
    body = ["import pytest_ragprobe as ragprobe", ""]
    for j in range(probes):
        max_drop = (0.1, 0.2, 0.3, 0.4)[j % 4]
        body.append(f"@ragprobe.reverse(facts='facts.yaml', n={20 + j % 30}, seed={j}, max_drop={max_drop})")
        body.append(f"def test_p{j}(ragprobe_result):\n    pass\n")
    (d / "test_many.py").write_text("\n".join(body))


def pytest_run(d: Path, *args: str) -> tuple[int, float]:
    """(pipeline calls, wall s) of one pytest run in ``d``."""
    log = d / "calls.log"
    log.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CI": "true", "BENCH_CALLS": str(log)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *args],
        cwd=d, env=env, capture_output=True, check=False,
    )
    wall = time.perf_counter() - start
    calls = len(log.read_text().splitlines()) if log.exists() else 0
    return calls, wall


def results(path: Path) -> dict[str, str]:
    """Each probe's verdict and numbers (run bookkeeping left out: calls, cached calls, duration)."""
    report = json.loads(path.read_text())
    return {
        p["nodeid"]: json.dumps([p["verdict"], p["n"], p["metrics"], p["examples"]], sort_keys=True)
        for p in report["probes"]
    }


def merge(d: Path, out: str, *shards: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "pytest_ragprobe", "merge", out, *shards]
    return subprocess.run(command, cwd=d, env=env, capture_output=True, text=True, check=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        write_suite(d, args.probes)
        cold_calls, cold_wall = pytest_run(d, "-n", "2", "--ragprobe-report=cold")
        warm_calls, warm_wall = pytest_run(d, "-n", "2", "--ragprobe-report=warm")
        whole = results(d / "cold" / "report.json")
        print(f"{len(whole)} probes, -n 2: cold {cold_calls} pipeline calls, {cold_wall:.1f} s wall; "
              f"warm {warm_calls} calls, {warm_wall:.1f} s wall (warm/cold {warm_wall / cold_wall:.2f}); "
              f"same verdicts and numbers: {results(d / 'warm' / 'report.json') == whole}")
        pytest_run(d, "-k", "test_p1", "--ragprobe-report=s1")
        pytest_run(d, "-n", "2", "-k", "not test_p1", "--ragprobe-report=s2")
        done = merge(d, "merged", "s1", "s2")
        merged = results(d / "merged" / "report.json")
        sizes = [len(results(d / s / "report.json")) for s in ("s1", "s2")]
        print(f"-k shards of {sizes[0]} and {sizes[1]} probes merged (exit {done.returncode}): "
              f"equal to the unsharded run: {merged == whole}")
        alone = merge(d, "alone", "s2")
        missing = len(whole) - len(results(d / "alone" / "report.json"))
        note = f"{missing} probe{'s' if missing != 1 else ''} deselected in a shard ran in no shard"
        print(f"one shard left out: merge exit {alone.returncode}, {missing} probes missing, "
              f"named in its note: {note in alone.stderr}")


if __name__ == "__main__":
    main()
