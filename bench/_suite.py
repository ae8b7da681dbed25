"""The suite the report benchmarks (report_overhead.py, report_json_rewrites.py) run: N reverse probes of 20
facts each, one YAML file per probe, all in test_many.py; each script writes its own conftest.py beside it."""

from __future__ import annotations

from pathlib import Path


def write_probes(root: Path, probes: int, max_drop: float) -> None:
    """f0.yaml .. f{N-1}.yaml (pumps P-{p}x{i} and controllers C-{p}x{i}) and test_many.py, one
    ``@ragprobe.reverse`` test on each at ``max_drop``."""
    tests = ["import pytest_ragprobe as ragprobe\n"]
    for p in range(probes):
        lines = ["facts:"] + [
            f"  - {{subject: P-{p}x{i}, relation: compatible_with, object: C-{p}x{i}}}" for i in range(20)
        ]
        (root / f"f{p}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        mark = f"@ragprobe.reverse(facts='f{p}.yaml', max_drop={max_drop})"
        tests.append(f"{mark}\ndef test_{p}(ragprobe_result):\n    pass\n")
    (root / "test_many.py").write_text("\n".join(tests), encoding="utf-8")
