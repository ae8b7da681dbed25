"""A facts file or QA set whose accepted answer is punctuation only ("%") errors before any pipeline call,
naming the file's fact or question, for a reverse and a position probe alike (under "exact" an empty answer
was scored right; under "contains" no answer could be)."""

from __future__ import annotations

import json

import pytest

CONFTEST = """
import pytest
import pytest_ragprobe as ragprobe

CALLS = []

def answer(question):
    CALLS.append(question)
    return ""

def generate(question, documents):
    CALLS.append(question)
    return ""

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.Pipeline(answer=answer, generate=generate, name="blank")
"""

TESTS = """
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="signs.yaml", match="exact", max_drop=0.2)
def test_rev(ragprobe_result):
    pass

@ragprobe.position(data="qa.jsonl", n_docs=2, max_drop=0.2)
def test_pos(ragprobe_result):
    pass
"""


def test_punctuation_only_answers_error_before_any_call(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_signs=TESTS)
    (pytester.path / "signs.yaml").write_text(
        "facts:\n"
        "  - forward: {question: Which sign means percent?, answer: '%'}\n"
        "    reverse: {question: What does the sign % mean?, answer: percent}\n",
        encoding="utf-8",
    )
    row = {
        "question": "Which sign means percent?",
        "answers": ["%"],
        "ctxs": [
            {"title": "Signs", "text": "The percent sign is %.", "isgold": True},
            {"title": "Other", "text": "The ampersand means and.", "isgold": False},
        ],
    }
    (pytester.path / "qa.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    result = pytester.runpytest("--ragprobe-no-cache", *plugin_args)
    result.assert_outcomes(errors=2)
    out = result.stdout.str()
    assert (
        "pytest-ragprobe: match='exact': accepted answer '%' of fact '0', forward question 'Which sign means "
        "percent?' is punctuation only: scoring drops punctuation, so it would match any answer of punctuation "
        "only (an empty one too); write it in words, or score it with match='regex' or a callable"
    ) in out
    assert (
        "pytest-ragprobe: match='contains': accepted answer '%' of question 'line1' ('Which sign means "
        "percent?') is punctuation only: scoring drops punctuation, so it would match no answer; write it in "
        "words, or score it with match='regex' or a callable"
    ) in out
    assert out.count("(n=0, 0 calls)") == 2
