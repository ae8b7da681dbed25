"""Result and report models (pydantic, versioned) plus the human-readable failure text."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pytest_ragprobe.types import atomic_write

SCHEMA_VERSION = 1
__all__ = ["DirectionSummary", "ProbeFailed", "ProbeResult", "Report", "atomic_write", "load_report"]
Verdict = Literal["pass", "fail", "inconclusive", "error"]
Kind = Literal["reverse", "position"]


class ProbeFailed(AssertionError):
    """Raised by ``ProbeResult.assert_ok()``: the same failure the mark would report."""


class DirectionSummary(BaseModel):
    """Accuracy of one direction (reverse probe) or one position (position probe)."""

    model_config = ConfigDict(frozen=True)
    accuracy: float
    correct: int
    n: int
    ci: tuple[float, float]


class ProbeResult(BaseModel):
    """What a probe measured. ``ragprobe_result`` in a test body is one of these."""

    model_config = ConfigDict(extra="allow")
    nodeid: str = ""
    kind: Kind
    verdict: Verdict
    n: int = 0
    calls: int = 0
    cached_calls: int = 0
    errors: int = 0
    metrics: dict[str, Any] = Field(default_factory=dict)
    examples: list[dict[str, Any]] = Field(default_factory=list)
    settings: dict[str, Any] = Field(default_factory=dict)
    reason: str = ""
    notes: list[str] = Field(default_factory=list)
    duration_s: float = 0.0
    forward: DirectionSummary | None = None
    reverse: DirectionSummary | None = None
    positions: dict[int, DirectionSummary] | None = None

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    @property
    def drop(self) -> float | None:
        value = self.metrics.get("drop")
        return float(value) if value is not None else None

    def explain(self) -> str:
        from pytest_ragprobe.render import explain

        return explain(self)

    def assert_ok(self, *, strict: bool = False) -> None:
        """Raise ProbeFailed on FAIL or ERROR (and on INCONCLUSIVE when ``strict``)."""
        __tracebackhide__ = True
        if self.verdict in ("fail", "error") or (strict and self.verdict == "inconclusive"):
            raise ProbeFailed(self.explain())


class Report(BaseModel):
    """``report.json``: every probe of a run. Bump SCHEMA_VERSION on incompatible changes."""

    model_config = ConfigDict(extra="allow")
    schema_version: Literal[1] = 1
    created: str = Field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat())
    plugin_version: str = ""
    partial: bool = False
    seed: int = 0
    confidence: float = 0.95
    settings: dict[str, Any] = Field(default_factory=dict)
    summary: dict[str, int] = Field(default_factory=dict)
    probes: list[ProbeResult] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {"pass": 0, "fail": 0, "inconclusive": 0, "error": 0}
        for p in self.probes:
            out[p.verdict] += 1
        return out


def load_report(path: str | Path) -> Report:
    p = Path(path)
    try:
        return Report.model_validate(json.loads(p.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise FileNotFoundError(f"ragprobe report not found: {p}") from None
