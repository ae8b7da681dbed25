"""A list of accepted answers is shown joined by " | ": one answer that itself held " | " read as two
(["AC | DC", "ACDC"] was shown as three answers). An answer holding a pipe is quoted, the same way in the
terminal, report.md and report.html."""

from __future__ import annotations

from factories import report, reverse_probe

from pytest_ragprobe import render
from pytest_ragprobe.html import clip_text
from pytest_ragprobe.reporting import md_text, render_html, render_markdown

ANSWERS = ["AC | DC", "ACDC"]


def test_terminal_quotes_an_answer_that_holds_the_separator() -> None:
    assert render.clip(ANSWERS) == """'"AC | DC" | ACDC'"""
    assert render.clip(["Paris", "City of Light"]) == "'Paris | City of Light'"  # (unchanged)
    assert render.clip("AC | DC") == "'AC | DC'"  # one answer, not a list: nothing to tell apart


def test_markdown_quotes_it() -> None:
    assert md_text(ANSWERS) == '"AC \\| DC" \\| ACDC'
    assert md_text(["Paris", "City of Light"]) == "Paris \\| City of Light"


def test_html_quotes_it() -> None:
    assert clip_text(ANSWERS) == '"AC | DC" | ACDC'
    assert clip_text(["Paris", "City of Light"]) == "Paris | City of Light"


def test_every_report_shows_the_example_so() -> None:
    example = {
        "question": "Which band?",
        "expected": ANSWERS,
        "answer": "Queen",
        "correct": False,
        "forward_correct": True,
        "miss": "reading",
        "error": None,
    }
    p = reverse_probe("t.py::test_rev", "fail", drop=0.3, examples=[example])
    assert """expected '"AC | DC" | ACDC', got 'Queen'""" in render.explain(p)
    assert '| "AC \\| DC" \\| ACDC |' in render_markdown(report(p))
    assert 'data-label="expected"><bdi>&#34;AC | DC&#34; | ACDC</bdi></td>' in render_html(report(p))
