"""Unicode bidirectional controls (U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates) in a
pipeline's answer or error reached report.html and report.md as they were. A browser applies them to the
rest of their paragraph: an error quoting "\\u202e..." showed the plugin's own "; first for 'Which
controller is compatible with pump A?'" after it reversed ("'?A pmup htiw elbitapmoc si rellortnoc"), and an
answer's text read backwards ("gnol rewsna"). They are written as their escapes, as the terminal summary
prints an answer (its repr), and plain right-to-left text (Hebrew, Arabic) is left as it is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_ragprobe.cli import main
from pytest_ragprobe.reporting import render_html, render_markdown, visible_controls, write_reports
from pytest_ragprobe.results import DirectionSummary, ProbeResult, Report

BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
RLO_CAUSE = "ConnectionError: ALL GREEN \u202eesrever"
RTL = "שלום עולם مرحبا"  # right-to-left text without any control: shown as it is


def report() -> Report:
    failing = ProbeResult(
        nodeid="t.py::test_x",
        kind="reverse",
        verdict="fail",
        n=2,
        calls=4,
        reason="reverse accuracy dropped",
        metrics={
            "forward_accuracy": 1.0, "reverse_accuracy": 0.0, "drop": 1.0, "drop_ci": [0.5, 1.0],
            "p_value": 0.5, "discordant": {"forward_only": 2, "reverse_only": 0}, "max_drop": 0.1,
            "confidence": 0.95,
        },
        forward=DirectionSummary(accuracy=1.0, correct=2, n=2, ci=(0.3, 1.0)),
        reverse=DirectionSummary(accuracy=0.0, correct=0, n=2, ci=(0.0, 0.7)),
        examples=[
            {"direction": "reverse", "question": f"Who is {RTL}?", "expected": ["\u2067P-1\u2069", "P-2"],
             "answer": "\u202elong answer", "correct": False, "forward_correct": True, "miss": None},
        ],
    )
    errored = ProbeResult(
        nodeid="t.py::test_y",
        kind="reverse",
        verdict="error",
        calls=2,
        errors=2,
        reason=f"2 of 2 pipeline calls failed; most common cause (2x): {RLO_CAUSE}; first for 'Which pump?'",
    )
    return Report(probes=[failing, errored])


def test_visible_controls_writes_bidi_controls_as_escapes() -> None:
    assert visible_controls("a\u202ab\u202bc\u202cd\u202de\u202ef\u2066g\u2067h\u2068i\u2069j") == (
        "a\\u202ab\\u202bc\\u202cd\\u202de\\u202ef\\u2066g\\u2067h\\u2068i\\u2069j"
    )
    # the marks that only tip a neutral character (no scope to leak out of) and RTL letters stay
    assert visible_controls(f"\u200e\u200f{RTL}") == f"\u200e\u200f{RTL}"


def test_html_shows_bidi_controls_as_escapes() -> None:
    html = render_html(report())
    assert not BIDI.search(html)
    assert "ConnectionError: ALL GREEN \\u202eesrever; first for &#39;Which pump?&#39;" in html
    assert '<td class="text" data-label="got"><bdi>\\u202elong answer</bdi></td>' in html
    assert "\\u2067P-1\\u2069 | P-2" in html
    assert RTL in html


def test_markdown_shows_bidi_controls_as_escapes() -> None:
    md = render_markdown(report())
    assert not BIDI.search(md)
    assert "ALL GREEN \\\\u202eesrever; first for 'Which pump?'" in md  # (md_text escapes the backslash)
    assert "\\\\u202elong answer" in md
    assert RTL in md


def test_show_writes_no_bidi_control(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_reports(tmp_path, report())
    capsys.readouterr()
    for fmt in ("text", "markdown"):
        main(["show", str(path), "--format", fmt, "--explain"] if fmt == "text" else ["show", str(path), "--format", fmt])
        out = capsys.readouterr().out
        assert not BIDI.search(out), fmt
        assert "\\u202eesrever" in out, fmt

