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
