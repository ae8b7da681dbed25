"""The terminal's ragprobe section (and `ragprobe show`) prints one line per probe. A multi-line xfail or skip
reason, or a test's multi-line failure, went into it as it was: the probe's line broke in two or three, the
next lines read as other probes. Its whitespace now collapses into single spaces, as an ERROR's reason did."""

from __future__ import annotations

from pytest_ragprobe.render import summary_line, summary_lines
from pytest_ragprobe.results import DirectionSummary, ProbeResult


def probe(nodeid: str, **update: object) -> ProbeResult:
    base = ProbeResult(
        nodeid=nodeid,
        kind="reverse",
        verdict="fail",
        n=30,
        calls=60,
        metrics={"forward_accuracy": 1.0, "reverse_accuracy": 0.0, "drop": 1.0, "drop_ci": [0.9, 1.0]},
        forward=DirectionSummary(accuracy=1.0, correct=30, n=30, ci=(0.88, 1.0)),
        reverse=DirectionSummary(accuracy=0.0, correct=0, n=30, ci=(0.0, 0.12)),
    )
    return base.model_copy(update=update)


def test_multi_line_reasons_stay_on_the_probes_line() -> None:
    xfailed = probe("t.py::test_x", expected_failure=True, xfail_reason="known issue:\n  see ticket\tRAG-12")
    skipped = probe("t.py::test_s", test_outcome="skipped", test_message="multi\nline\r\nskip")
    lines = summary_lines([xfailed, skipped])
    assert len(lines) == 2 and not any(c in line for line in lines for c in "\n\r\t")
    assert lines[0].endswith("(n=30, 60 calls) - expected, xfail: known issue: see ticket RAG-12")
    assert lines[1].endswith("(n=30, 60 calls) - skipped: multi line skip")
    failed = probe("t.py::test_f", verdict="pass", test_outcome="failed", test_message="AssertionError:\nboom")
    assert summary_line(failed).endswith(" - the test failed after the probe: AssertionError: boom")
