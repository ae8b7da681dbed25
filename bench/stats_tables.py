"""Cold vs warm cost of the exact critical-value tables (stats.set_table_dir).

Run: ``python bench/stats_tables.py``. Each measurement is a fresh Python process (the in-process
lru_caches start empty, as in a new pytest run or an xdist worker) that builds the tables a probe
needs: a fixed and a sequential position probe (5 positions) and a reverse probe, at n = 100 and
n = 200. The first process computes and stores them, the second reads them back. Prints seconds
and the warm/cold ratio measured in this run.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
import pytest_ragprobe.stats as S
S.set_table_dir(Path({tables!r}))
t = time.perf_counter()
n = {n}
S.critical_values(n, max_drop=0.1)
S.position_fail_cuts(n, 5, max_drop=0.1)
d = S.SequentialDesign(n)
d.thresholds(max_drop=0.1, side="fail")
d.thresholds(max_drop=0.1, side="pass")
d.position_thresholds(max_drop=0.1, k=5)
print(time.perf_counter() - t)
"""


def run(n: int, tables: Path) -> float:
    code = CHILD.format(root=str(ROOT), tables=str(tables), n=n)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> int:
    print(f"{'n':>5} {'cold s':>8} {'warm s':>8} {'warm/cold':>10}")
    for n in (100, 200):
        with tempfile.TemporaryDirectory() as tmp:
            cold = run(n, Path(tmp))
            warm = run(n, Path(tmp))
            files = len(list(Path(tmp).glob("*.json")))
        print(f"{n:>5} {cold:>8.2f} {warm:>8.3f} {warm / cold:>10.4f}   ({files} tables)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
