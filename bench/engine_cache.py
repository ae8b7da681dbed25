"""Warm-cache rerun of a probe suite: a pytest run against a 50 ms loopback service, then the same run
again. Prints server requests per run (the rerun should make zero), whether verdicts and numbers are
identical, and the wall-time ratio (includes pytest start-up, which dominates a warm run).

    python bench/engine_cache.py [--facts 100]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from faults import FaultServer, Reply, Request  # noqa: E402


def handler(req: Request) -> Reply:
    q = str((req.json or {}).get("question", ""))
    i = int(q.rsplit("-", 1)[1].rstrip("?"))
    if q.startswith("Which controller"):
        return Reply(json={"answer": f"C-{i}"}, delay=0.05)
    return Reply(json={"answer": f"P-{i}" if i % 4 else "?"}, delay=0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--facts", type=int, default=100)
    args = parser.parse_args()
    with FaultServer(handler, max_requests=100_000, lifetime=600) as server, \
            tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        facts = ["facts:"] + [
            f"  - forward: {{question: 'Which controller works with pump P-{i}?', answer: C-{i}}}\n"
            f"    reverse: {{question: 'Which pump works with controller C-{i}?', answer: P-{i}}}"
            for i in range(args.facts)
        ]
        (d / "facts.yaml").write_text("\n".join(facts) + "\n")
        (d / "conftest.py").write_text(
            "import pytest, pytest_ragprobe as ragprobe\n"
            "@pytest.fixture(scope='session')\n"
            f"def ragprobe_pipeline():\n    return ragprobe.HTTPPipeline({server.url!r})\n"
        )
        (d / "test_suite.py").write_text(
            "import pytest\n"
            "@pytest.mark.ragprobe_reverse(facts='facts.yaml', max_drop=0.5)\n"
            "def test_loose(ragprobe_result): pass\n"
            "@pytest.mark.ragprobe_reverse(facts='facts.yaml', max_drop=0.05, match='exact')\n"
            "def test_strict(ragprobe_result): pass\n"
        )
        runs = []
        for name in ("cold", "warm"):
            before = server.requests
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist",
                            f"--ragprobe-report={name}"], cwd=d, capture_output=True, check=False)
            wall = time.perf_counter() - t
            report = json.loads((d / name / "report.json").read_text())
            numbers = [(p["nodeid"], p["verdict"], p["n"], p["metrics"]["reverse_accuracy"])
                       for p in report["probes"]]
            runs.append((name, server.requests - before, wall, numbers))
            entries = len(list((d / ".ragprobe_cache" / "answers").rglob("*.json")))  # (not tables, plans)
            split = [(p["calls"], p["cached_calls"]) for p in report["probes"]]
            print(f"  cache entries {entries}; (calls, cached) per probe {split}")
            print(f"{name}: {server.requests - before} pipeline requests, {wall:.2f}s wall, "
                  f"verdicts {[v for _, v, _, _ in numbers]}")
        print(f"same verdicts and numbers: {runs[0][3] == runs[1][3]}; "
              f"warm/cold wall = {runs[1][2] / runs[0][2]:.3f}")


if __name__ == "__main__":
    main()
