"""Small builders of report objects shared by the unit tests (tests/ is on sys.path, like faults.py)."""

from __future__ import annotations

from typing import Any

from pytest_ragprobe.results import DirectionSummary, ProbeResult


def reverse_probe(nodeid: str, verdict: str = "pass", drop: float = 0.02, **extra: Any) -> ProbeResult:
    return ProbeResult(
        nodeid=nodeid,
        kind="reverse",
        verdict=verdict,  # type: ignore[arg-type]
        n=20,
        calls=40,
        metrics={
            "forward_accuracy": 0.9,
            "reverse_accuracy": 0.9 - drop,
            "drop": drop,
            "drop_ci": [drop - 0.1, drop + 0.1],
            "p_value": 0.5,
            "discordant": {"forward_only": 2, "reverse_only": 1},
            "max_drop": 0.1,
            "confidence": 0.95,
        },
        forward=DirectionSummary(accuracy=0.9, correct=18, n=20, ci=(0.7, 0.97)),
        reverse=DirectionSummary(accuracy=0.9 - drop, correct=18, n=20, ci=(0.6, 0.95)),
        **extra,
    )
