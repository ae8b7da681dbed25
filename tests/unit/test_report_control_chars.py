"""Control characters in a pipeline's answer, a question or an error (a terminal escape, a NUL, a bell) reached
report.md and report.html as they were: `ragprobe show --format markdown` (and `cat report.md` in a CI log)
let them clear and recolour the reader's terminal, and a browser showed them as nothing. The terminal summary
prints such answers as their escapes ('evil\\x1b[2J'); the reports now do too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_ragprobe.cli import main
from pytest_ragprobe.reporting import render_html, render_markdown, write_reports
from pytest_ragprobe.results import DirectionSummary, ProbeResult, Report

EVIL = "evil\x1b[2J\x1b[31mRED\x00nul\x07bell\x9bC1"
SHOWN = "evil\\x1b[2J\\x1b[31mRED\\x00nul\\x07bell\\x9bC1"
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def report() -> Report:
    probe = ProbeResult(
        nodeid="t.py::test_x",
        kind="reverse",
        verdict="fail",
        n=2,
        calls=4,
        reason=f"reverse accuracy dropped: {EVIL}",
        metrics={
            "forward_accuracy": 1.0, "reverse_accuracy": 0.0, "drop": 1.0, "drop_ci": [0.5, 1.0],
            "p_value": 0.5, "discordant": {"forward_only": 2, "reverse_only": 0}, "max_drop": 0.1,
            "confidence": 0.95,
        },
        forward=DirectionSummary(accuracy=1.0, correct=2, n=2, ci=(0.3, 1.0)),
        reverse=DirectionSummary(accuracy=0.0, correct=0, n=2, ci=(0.0, 0.7)),
        examples=[
            {"direction": "reverse", "question": f"q {EVIL}?", "expected": ["a"], "answer": EVIL,
             "correct": False, "forward_correct": True, "miss": None},
        ],
        pipeline=f"conftest.{EVIL}",
    )
    return Report(probes=[probe])


def test_markdown_shows_control_characters_as_escapes() -> None:
    md = render_markdown(report())
    assert not CONTROL.search(md)
    assert SHOWN.replace("\\", "\\\\").replace("[", "\\[") in md  # (md_text escapes \ and [ as well)
    assert f"`conftest.{SHOWN}`" in md  # a code span shows its text as it is


def test_html_shows_control_characters_as_escapes() -> None:
    html = render_html(report())
    assert not CONTROL.search(html)
    assert f'<td class="text" data-label="got"><bdi>{SHOWN}</bdi></td>' in html


def test_show_markdown_writes_no_terminal_escape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_reports(tmp_path, report())
    capsys.readouterr()
    assert main(["show", str(path), "--format", "markdown"]) == 1
    assert "\x1b" not in capsys.readouterr().out
