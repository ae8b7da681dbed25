"""check_reverse / check_position inside a pytest run find relative data files where the marks do
(beside the test file, then the rootdir), and a str given as the pipeline is named as such."""

from __future__ import annotations

import json

import pytest

FACTS = "facts:\n" + "".join(
    f"  - forward: {{question: 'Which controller fits pump P-{i}?', answer: C-{i}}}\n"
    f"    reverse: {{question: 'Which pump fits controller C-{i}?', answer: P-{i}}}\n"
    for i in range(6)
)


def qa_lines(n: int = 6) -> str:
    lines = []
    for i in range(n):
        ctxs = [{"title": f"Item {i}", "text": f"The code of item {i} is Q{i}X.", "isgold": True}]
        ctxs += [{"title": f"Note {i}.{j}", "text": f"Shelf note {j}.", "isgold": False} for j in range(4)]
        lines.append(json.dumps({"question": f"What is the code of item {i}?", "answers": [f"Q{i}X"], "ctxs": ctxs}))
    return "\n".join(lines) + "\n"


RAG = """
import re

class Rag:
    def answer(self, question):
        kind, num = re.search(r"(P|C)-(\\d+)", question).groups()
        return ("C-" if kind == "P" else "P-") + num

    def generate(self, question, documents):
        item = re.search(r"item (\\d+)", question).group(1)
        for d in documents:
            m = re.search(rf"code of item {item} is (\\w+)", d.text)
            if m:
                return m.group(1)
        return "I do not know"
"""

TEST_REL = """
import pytest_ragprobe as ragprobe
from rag import Rag

def test_reverse_beside_the_test():
    result = ragprobe.check_reverse(Rag(), "parts.yaml")
    assert (result.n, result.forward.accuracy, result.reverse.accuracy) == (6, 1.0, 1.0)

def test_position_beside_the_test():
    result = ragprobe.check_position(Rag(), "qa.jsonl", n_docs=3)
    assert result.n == 6 and set(result.metrics["accuracy_by_position"].values()) == {1.0}

def test_reverse_in_the_rootdir():
    result = ragprobe.check_reverse(Rag(), "data/root_parts.yaml")
    assert result.n == 6

@ragprobe.reverse(facts="parts.yaml")
def test_the_mark_finds_it_too(ragprobe_result):
    assert ragprobe_result.n == 6
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\n")  # the rootdir: pytester.path
    sub = pytester.mkpydir("tests") / "sub"
    sub.mkdir()
    (sub / "parts.yaml").write_text(FACTS, encoding="utf-8")
    (sub / "qa.jsonl").write_text(qa_lines(), encoding="utf-8")
    (sub / "test_rel.py").write_text(TEST_REL, encoding="utf-8")
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "root_parts.yaml").write_text(FACTS, encoding="utf-8")
    pytester.makepyfile(rag=RAG)
    pytester.makeconftest(
        "import pytest\nfrom rag import Rag\n\n"
        "@pytest.fixture(scope='session')\ndef ragprobe_pipeline():\n    return Rag()\n"
    )
    pytester.syspathinsert()
    return pytester


def test_check_functions_find_files_beside_the_test_and_in_the_rootdir(project: pytest.Pytester) -> None:
    """Was: ``FactsError: parts.yaml: facts file not found (resolved to <cwd>/parts.yaml)`` while the
    mark beside them found the same file."""
    result = project.runpytest("--ragprobe-no-cache", "tests/sub/test_rel.py")
    result.assert_outcomes(passed=4)


def test_the_rootdir_is_searched_when_pytest_runs_from_elsewhere(project: pytest.Pytester) -> None:
    """Invoked from tests/ (the cwd is not the rootdir): 'data/root_parts.yaml' is still found."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project.path / "tests")
        result = project.runpytest("--ragprobe-no-cache", "sub/test_rel.py", "-k", "rootdir")
    result.assert_outcomes(passed=1)


def test_a_fixture_returning_the_pipeline_spec_string(pytester: pytest.Pytester) -> None:
    """Was: "@ragprobe.reverse needs the pipeline's `answer` but builtins.str only offers: index"."""
    pytester.makefile(".yaml", parts=FACTS)
    pytester.makeconftest(
        "import pytest\n\n@pytest.fixture(scope='session')\ndef ragprobe_pipeline():\n"
        "    return 'myapp.rag:answer'\n"
    )
    pytester.makepyfile(
        "import pytest_ragprobe as ragprobe\n\n"
        "@ragprobe.reverse(facts='parts.yaml')\ndef test_rev(ragprobe_result):\n    pass\n"
    )
    result = pytester.runpytest("--ragprobe-no-cache")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*pytest-ragprobe: ragprobe_pipeline is a str ('myapp.rag:answer'): pass the pipeline object "
            "itself, or name it with --ragprobe-pipeline / ini ragprobe_pipeline*"
        ]
    )
    result.stdout.no_fnmatch_line("*only offers: index*")


FIXTURE_ERRORS = """
import pytest
import pytest_ragprobe as ragprobe

EX = {"question": "Which controller fits P-1?", "answers": ["C-1"], "gold": "Pump P-1 fits C-1.",
      "distractors": ["a", "b", "c"]}

@pytest.mark.parametrize("call", [
    lambda fp, cx: fp(5),
    lambda fp, cx: fp({"subject": "P-1", "relation": "compatible_with", "object": "C-1"}),
    lambda fp, cx: fp("parts.yaml", sead=1),
    lambda fp, cx: cx(EX, 3, pol=["x"]),
    lambda fp, cx: cx(EX, "3"),
    lambda fp, cx: cx(EX, 3, context_tokens=-5),
    lambda fp, cx: cx(EX, 3, pool="Shelf 9 notes."),
    lambda fp, cx: cx(EX, 6),
], ids=["facts_int", "facts_dict", "typo", "option_typo", "n_docs_str", "tokens", "pool_str", "too_few"])
def test_bad(call, ragprobe_fact_pairs, ragprobe_contexts):
    call(ragprobe_fact_pairs, ragprobe_contexts)   # raises at the call, not when iterated
"""


def test_fixture_factories_name_a_wrong_argument(pytester: pytest.Pytester) -> None:
    """Were: TypeError: 'int' object is not iterable (facts=5, and pool=5), a dict of one fact read as a
    list of its keys, "make() got an unexpected keyword argument", "contexts_for() got ...", a negative
    context_tokens taken as no padding, a str pool read letter by letter, and too few distractors said
    nothing of pool=."""
    pytester.makepyfile(test_bad=FIXTURE_ERRORS)
    pytester.path.joinpath("parts.yaml").write_text(FACTS, encoding="utf-8")
    result = pytester.runpytest("-p", "no:xdist", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=8)
    lists = "must be a file path, 'synthetic:N' or a list"
    result.stdout.fnmatch_lines_random(
        [
            f"E *MarkArgumentError: ragprobe_fact_pairs: argument 'facts' {lists}, got int 5",
            f"E *MarkArgumentError: ragprobe_fact_pairs: argument 'facts' {lists}, got dict * (one fact? give a "
            "list of them: [[]it])",
            "E *MarkArgumentError: ragprobe_fact_pairs: unknown argument 'sead' (did you mean 'seed'?); allowed: "
            "facts, n, seed",
            "E *MarkArgumentError: ragprobe_contexts: unknown argument 'pol' (did you mean 'pool'?)*",
            "E *MarkArgumentError: ragprobe_contexts: argument 'n_docs' must be an int, got str '3'",
            "E *MarkArgumentError: ragprobe_contexts: argument 'context_tokens' must be >= 1, got -5",
            "E *ContextArgumentError: pool must be a list of documents (ragprobe.Document, dicts with 'text' or str), got str "
            "'Shelf 9 notes.' (one document? give a list: [[]it])",
            "E *DataError: example: question 'Which controller fits P-1?' has only 3 usable distractor(s) * but "
            "n_docs=6 needs 5; lower n_docs, or pass documents to borrow as distractors with pool=[[]...] (other "
            "questions' passages, for one): 2 more needed",
        ]
    )
