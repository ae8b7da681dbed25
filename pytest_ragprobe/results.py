"""Result and report models (pydantic, versioned) plus the human-readable failure text."""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pytest_ragprobe.types import atomic_write

SCHEMA_VERSION = 1
__all__ = ["DirectionSummary", "ProbeFailed", "ProbeResult", "Report", "atomic_write", "load_report"]
Verdict = Literal["pass", "fail", "inconclusive", "error"]
Kind = Literal["reverse", "position"]
# How a probe counts for the whole run: its verdict, or how pytest's xfail mark judged its test.
# "regression": a PASS (or INCONCLUSIVE) verdict that --ragprobe-baseline found significantly worse than
# the baseline run, so pytest failed the test. "test_failed": a PASS (or INCONCLUSIVE) probe whose test then
# failed for another reason (an assert in its body, a warning turned into an error); "skipped": the test
# skipped itself after its probe ran. Both follow pytest's outcome, so the reports gate as pytest did.
Outcome = Literal[
    "pass", "fail", "inconclusive", "error", "xfail", "xpass", "xpass_strict", "regression", "test_failed",
    "skipped",
]
VERDICTS: tuple[Verdict, ...] = ("pass", "fail", "inconclusive", "error")
# Outcomes other than a verdict, counted apart (and only when present) in ``Report.counts``.
XFAIL_OUTCOMES: tuple[Outcome, ...] = ("xfail", "xpass", "xpass_strict")
EXTRA_OUTCOMES: tuple[Outcome, ...] = (*XFAIL_OUTCOMES, "regression", "test_failed", "skipped")


def nodeid_key(nodeid: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order of node ids: ``test_x[2]`` before ``test_x[10]`` (plain string order puts
    ``[10]`` ... ``[19]`` between ``[1]`` and ``[2]``)."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", nodeid))


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
    retries: int = 0  # extra attempts after transient failures (timeouts, HTTP 429/5xx): not in ``calls``
    error_cause: str = ""  # the most common cause of the failed calls ("HTTP 503 from ... (3x)")
    metrics: dict[str, Any] = Field(default_factory=dict)
    examples: list[dict[str, Any]] = Field(default_factory=list)
    settings: dict[str, Any] = Field(default_factory=dict)
    reason: str = ""
    notes: list[str] = Field(default_factory=list)
    duration_s: float = 0.0
    pipeline: str = ""  # the pipeline probed: its name or qualified name, and @version when set
    # ``pipeline`` with the hashes of its code and configuration (its answer-cache identity): two
    # configurations of one class share ``pipeline`` and differ here (see distinguish_pipelines)
    pipeline_identity: str = ""
    # Answered from the answer cache alone (no call made): the remote services its calls reach, in the order
    # its note names them, each with the name= the cache knows it by (None: by its address). The run-end line
    # reads them here (under xdist the controller has only the reports): read back from the note's text, a
    # service with ", " in it ("qwen, 7b at URL") beside another split in three, and lost its name=.
    cache_only_services: dict[str, str | None] = Field(default_factory=dict)
    stopped_early: bool = False  # sequential stopping decided before the whole sample (n < n_planned)
    forward: DirectionSummary | None = None
    reverse: DirectionSummary | None = None
    positions: dict[int, DirectionSummary] | None = None
    # What pytest made of the test around the probe, recorded when the test finishes (so always False / ""
    # on ``ragprobe_result`` inside the test body). ``verdict`` stays the statistical verdict either way.
    expected_failure: bool = False  # the test is marked xfail and failed as expected (pytest: xfailed)
    unexpected_pass: bool = False  # the test is marked xfail and passed (pytest: XPASS)
    xpass_strict: bool = False  # that XPASS was under xfail(strict=True): pytest failed the test
    xfail_reason: str = ""  # the xfail mark's reason (expected_failure or unexpected_pass)
    # --ragprobe-baseline: "" (no baseline given), "ok", "regression" (pytest failed the test), "changed"
    # (settings differ, or nothing to compare: not compared) or "new" (not in the baseline: not compared);
    # baseline_message says what regressed or changed.
    baseline: Literal["", "ok", "regression", "changed", "new"] = ""
    baseline_message: str = ""
    # pytest's outcome of the test after its probe, when the probe does not explain it: "failed" (the body's
    # assert, a warning as error, ...) or "skipped" (pytest.skip in the body); test_message says why.
    test_outcome: Literal["", "failed", "skipped"] = ""
    test_message: str = ""

    def __repr__(self) -> str:
        # Short: pytest prints it when an assert on ragprobe_result fails (`assert r.reverse.accuracy > .8`),
        # where the full model (examples, metrics) buried the numbers that matter.
        drop = f", drop={self.drop:+.2f}" if self.drop is not None else ""
        where = f"{self.nodeid!r}, " if self.nodeid else ""  # check_* results have no test
        return f"ProbeResult({where}kind={self.kind!r}, verdict={self.verdict!r}, n={self.n}{drop})"

    def __str__(self) -> str:
        # print(result) in a script or notebook: the explanation, not ~10,000 characters of model fields
        return self.explain()

    def __bool__(self) -> bool:
        # `assert check_reverse(...)` passed on a FAIL (any object is true): refuse, and say what to use
        raise TypeError(
            f"a ragprobe result has no truth value (this one is {self.verdict.upper()}): call "
            "result.assert_ok() to fail on FAIL / ERROR, or test result.passed or result.verdict"
        )

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    @property
    def outcome(self) -> Outcome:
        """How the probe counts for the run: "xfail" / "xpass" / "xpass_strict" when its test was marked
        xfail; "skipped" when the test skipped itself after the probe; "regression" when a PASS or
        INCONCLUSIVE verdict regressed against --ragprobe-baseline (pytest failed the test); "test_failed"
        when the test of a PASS or INCONCLUSIVE probe failed for another reason; else its verdict. An
        expected failure and a skip do not fail the run; a strict XPASS, a regression and a failed test do."""
        if self.expected_failure:
            return "xfail"
        if self.unexpected_pass:
            return "xpass_strict" if self.xpass_strict else "xpass"
        if self.test_outcome == "skipped":
            return "skipped"
        if self.baseline == "regression" and self.verdict in ("pass", "inconclusive"):
            return "regression"
        if self.test_outcome == "failed" and self.verdict in ("pass", "inconclusive"):
            return "test_failed"
        return self.verdict

    @property
    def drop(self) -> float | None:
        value = self.metrics.get("drop")
        return float(value) if value is not None else None

    def explain(self) -> str:
        from pytest_ragprobe.render import explain

        return explain(self)

    def assert_ok(self, *, strict: bool | None = None) -> None:
        """Raise ProbeFailed on FAIL or ERROR (and on INCONCLUSIVE when ``strict``; by default
        ``--ragprobe-strict`` of the pytest run in progress, else False)."""
        __tracebackhide__ = True
        by = "strict=True"
        if strict is None:
            from pytest_ragprobe._active import active_run

            run = active_run()
            strict = run is not None and run.strict
            by = run.strict_by if run is not None else by
        if self.verdict in ("fail", "error"):
            raise ProbeFailed(self.explain())
        if strict and self.verdict == "inconclusive":
            # as a marked test's failure says it: the explanation alone read as a failure without a cause
            raise ProbeFailed(f"{self.explain()}\n({by}: INCONCLUSIVE fails)")
        if not self.nodeid:  # check_* (a marked probe's result is warned about by the plugin, once)
            self._warn()

    def _warn(self) -> None:
        """The warnings a marked probe gives, for a result of check_reverse / check_position: so that
        ``-W error::pytest_ragprobe.RagprobeInconclusiveWarning`` fails an INCONCLUSIVE one too."""
        import warnings

        from pytest_ragprobe.render import brief, failed_calls_note, low_accuracy_note
        from pytest_ragprobe.types import RagprobeInconclusiveWarning, RagprobeWarning

        if self.errors and self.verdict != "error":  # (README: "assert_ok() warns as a mark does")
            warnings.warn(RagprobeWarning(failed_calls_note(self)), stacklevel=3)
        if self.verdict == "inconclusive":
            warnings.warn(RagprobeInconclusiveWarning(brief(self)), stacklevel=3)
        elif low := low_accuracy_note(self):
            warnings.warn(RagprobeWarning(f"PASS, but {low}"), stacklevel=3)
        from pytest_ragprobe._blocking import loop_note

        if self.verdict == "pass" and (blocked := loop_note(self.notes)):
            warnings.warn(RagprobeWarning(f"PASS, but {blocked}"), stacklevel=3)


def distinguish_pipelines(probes: Sequence[ProbeResult]) -> list[ProbeResult]:
    """The probes with ``pipeline`` labels that tell pipelines apart: where one label (``conftest.Rag``)
    names several configurations in the same report (two ``Rag(...)`` instances built with other
    arguments, a parametrized ``ragprobe_pipeline``), each of those probes is labelled by its
    ``pipeline_identity`` (``conftest.Rag#1a2b3c4d5e6f``, the hash its answer cache uses); a label that
    names one configuration is kept as it is. Idempotent, and a merged report's labels are decided over
    all its shards (a label qualified in one shard is grouped by its base again)."""
    from pytest_ragprobe.cache import identity_base

    def base(p: ProbeResult) -> str:
        return identity_base(p.pipeline)

    configurations: dict[str, set[str]] = {}
    for p in probes:
        if p.pipeline and p.pipeline_identity:
            configurations.setdefault(base(p), set()).add(p.pipeline_identity)
    out: list[ProbeResult] = []
    for p in probes:
        known = configurations.get(base(p), set()) if p.pipeline else set()
        label = p.pipeline_identity if len(known) > 1 and p.pipeline_identity else base(p)
        out.append(p if label == p.pipeline else p.model_copy(update={"pipeline": label}))
    return out


class Report(BaseModel):
    """``report.json``: every probe of a run. Bump SCHEMA_VERSION on incompatible changes."""

    model_config = ConfigDict(extra="allow")
    schema_version: Literal[1] = 1
    created: str = Field(default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat())
    plugin_version: str = ""
    partial: bool = False
    seed: int = 0
    confidence: float = 0.95
    settings: dict[str, Any] = Field(default_factory=dict)
    summary: dict[str, int] = Field(default_factory=dict)
    probes: list[ProbeResult] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Probes per outcome: the four verdicts always; "xfail", "xpass", "xpass_strict", "regression",
        "test_failed" and "skipped" only when present.

        Each probe is counted once: a probe whose test xfailed counts under "xfail", not under its verdict.
        """
        out: dict[str, int] = dict.fromkeys(VERDICTS, 0)
        marked = dict.fromkeys(EXTRA_OUTCOMES, 0)
        for p in self.probes:
            outcome = p.outcome
            if outcome in marked:
                marked[outcome] += 1
            else:
                out[outcome] += 1
        out.update((k, v) for k, v in marked.items() if v)
        return out


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(value: Any) -> Any:
    """``value`` (JSON-like: dicts, lists, strings) with every lone surrogate in its strings written as its
    escape ("\\udce9"): a pipeline's answer decoded with errors="surrogateescape", or an error message
    quoting one, cannot be encoded as UTF-8, and report.json, the xdist transfer and report.md / .html all
    encode it. A valid pair (two surrogates from a "\\ud83d\\ude00" string) becomes its character."""
    if isinstance(value, str):
        if not _LONE_SURROGATE.search(value):
            return value
        joined = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
        return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", joined)
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_surrogates(v) for v in value]
    return value


def report_json(report: Report) -> tuple[Report, str]:
    """``report`` as report.json's text, and the report that text holds: ``report`` itself, or when a
    string in it cannot be written as UTF-8 (a lone surrogate), a copy with such characters escaped
    (:func:`without_surrogates`), from which report.md / .html are rendered too."""
    from pydantic_core import PydanticSerializationError

    try:
        return report, report.model_dump_json(indent=2)
    except PydanticSerializationError:
        report = Report.model_validate(without_surrogates(report.model_dump()))
        return report, report.model_dump_json(indent=2)


def load_report(path: str | Path) -> Report:
    p = Path(path)
    try:
        return Report.model_validate(json.loads(p.read_text(encoding="utf-8-sig")))
    except FileNotFoundError:
        raise FileNotFoundError(f"ragprobe report not found: {p}") from None
