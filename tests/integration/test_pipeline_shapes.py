"""Acceptance: pipelines shaped like real stacks, wired the documented ways, end as one clear test
error (what came back, for which question, what to return instead) instead of a silent score."""

from __future__ import annotations

import json

import pytest

FACTS = "facts:\n" + "".join(
    f"  - forward: {{question: 'Which controller fits pump P-{i}?', answer: C-{i}}}\n"
    f"    reverse: {{question: 'Which pump fits controller C-{i}?', answer: P-{i}}}\n"
    for i in range(12)
)

RAG = """
import re

def lookup(question):
    kind, num = re.search(r"(P|C)-(\\d+)", question).groups()
    return ("C-" if kind == "P" else "P-") + num

def as_tuple(question):  # a LangChain-style (answer, source documents) pair
    return lookup(question), ["doc about " + lookup(question)]

calls = [0]

def overloaded(question):  # a service wrapper that swallows its errors into the reply
    calls[0] += 1
    if calls[0] % 3 == 0:
        return {"answer": "", "error": "model overloaded"}
    return {"answer": lookup(question), "documents": ["doc"]}

class Rag:
    def answer(self, question):
        return lookup(question)

def buggy(question):  # a bug in the pipeline's own code: raised, not retried
    return len(question) + "?"

class DictReader:  # an existing reader written for its own retriever's dicts
    def retrieve(self, query, k):
        return [{"text": "Pump P-{0} fits controller C-{0}.".format(lookup(query)[2:])}]

    def generate(self, question, documents):
        return lookup(question) if documents[0]["text"] else ""
"""

TEST = """
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="facts.yaml", max_drop=0.2)
def test_rev(ragprobe_result):
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".yaml", facts=FACTS)
    pytester.makepyfile(rag=RAG, test_rev=TEST)
    pytester.syspathinsert()
    return pytester


def test_same_wrong_shape_every_call_stops_early_and_names_question_and_value(project: pytest.Pytester) -> None:
    """Each call's cause held its own returned value: no fail-fast (all 24 calls made), "most common
    cause (1x)", and no word on which question got what. The hint is said once (it was repeated in the
    "first for" part, and so was the cause: the value alone follows it now)."""
    result = project.runpytest("--ragprobe-pipeline=rag:as_tuple", "--ragprobe-no-cache")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "pytest-ragprobe: 5 of 5 pipeline calls failed (limit 10%); most common cause (5x): rag.as_tuple.answer: "
            "expected str or ragprobe.Answer, got tuple (an (answer, documents) pair? return "
            "ragprobe.Answer(answer, documents=docs)); first for 'Which * fits *?': ('*', [[]'doc about *']); "
            "19 more not attempted (fail-fast: the first 5 calls all failed this way)",
        ]
    )


def test_an_error_field_in_the_answer_is_an_error_not_a_wrong_answer(project: pytest.Pytester) -> None:
    """{"answer": "", "error": ...} on a third of the calls was scored as wrong answers (a FAIL or an
    INCONCLUSIVE blaming the pipeline's accuracy)."""
    result = project.runpytest("--ragprobe-pipeline=rag:overloaded", "--ragprobe-no-cache")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "pytest-ragprobe: 8 of 24 pipeline calls failed (limit 10%); most common cause (8x): "
            "rag.overloaded.answer: the answer dict reports an error: 'model overloaded'; first for 'Which *?'"
        ]
    )


def test_fixture_returning_the_class_is_one_config_error(project: pytest.Pytester) -> None:
    project.makeconftest(
        """
import pytest
import rag

@pytest.fixture
def ragprobe_pipeline():
    return rag.Rag
"""
    )
    result = project.runpytest("--ragprobe-no-cache")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "pytest-ragprobe: ragprobe_pipeline is the class rag.Rag, not an instance of it: return Rag(...) from "
            "the fixture (--ragprobe-pipeline=module:Rag instantiates a class itself)"
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


def test_an_ini_pipeline_not_on_the_import_path_names_the_ini_value_and_pythonpath(
    pytester: pytest.Pytester,
) -> None:
    """Code in src/myapp/, ini `ragprobe_pipeline = myapp.rag:MyRag`, no `pythonpath`: each test said
    "--ragprobe-pipeline='myapp.rag:MyRag': cannot import ..." (an option never given), and nothing of
    src/."""
    pytester.makefile(".yaml", facts=FACTS)
    pytester.makepyfile(test_rev=TEST)
    (pytester.path / "src" / "shapes_srcapp").mkdir(parents=True)
    (pytester.path / "src" / "shapes_srcapp" / "__init__.py").write_text("")
    (pytester.path / "src" / "shapes_srcapp" / "rag.py").write_text(RAG)
    pytester.makeini("[pytest]\nragprobe_pipeline = shapes_srcapp.rag:Rag\n")
    result = pytester.runpytest("--ragprobe-no-cache")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*pytest-ragprobe: ini ragprobe_pipeline='shapes_srcapp.rag:Rag' (tox.ini): cannot import "
            "'shapes_srcapp.rag': No module named 'shapes_srcapp'. shapes_srcapp/ is in src/, not on the import "
            "path: add `pythonpath = src` to the ini file (tox.ini)*"
        ]
    )
    result.stdout.no_fnmatch_line("*--ragprobe-pipeline=*")
    # and the advice works
    pytester.makeini("[pytest]\npythonpath = src\nragprobe_pipeline = shapes_srcapp.rag:Rag\n")
    pytester.runpytest("--ragprobe-no-cache").assert_outcomes(passed=1)


def test_an_ini_pipeline_naming_a_plain_factory_function_calls_it(pytester: pytest.Pytester) -> None:
    """`def make_pipeline(): return Rag()` without @ragprobe.factory: every call failed with "its
    signature () cannot take that"."""
    pytester.makefile(".yaml", facts=FACTS)
    pytester.makepyfile(test_rev=TEST, shapes_factory=RAG + "\ndef make_pipeline():\n    return Rag()\n")
    pytester.makeini("[pytest]\npythonpath = .\nragprobe_pipeline = shapes_factory:make_pipeline\n")
    result = pytester.runpytest("--ragprobe-no-cache")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*(n=12, 24 calls)*"])


def test_a_spec_naming_data_says_what_a_spec_should_name(project: pytest.Pytester) -> None:
    """`--ragprobe-pipeline=mypipe:FACTS` (a dict) said "ragprobe_pipeline is a dict"."""
    project.makepyfile(shapes_data="FACTS = {'P-1': 'C-1'}\n")
    result = project.runpytest("--ragprobe-pipeline=shapes_data:FACTS", "--ragprobe-no-cache")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*pytest-ragprobe: --ragprobe-pipeline='shapes_data:FACTS' names a dict ({'P-1': 'C-1'}), not a "
            "pipeline: name a function question -> answer, *"
        ]
    )


def test_a_fixture_returning_a_coroutine_is_told_to_await_it(project: pytest.Pytester) -> None:
    project.makeconftest(
        """
import pytest
import rag

async def make_rag():
    return rag.Rag()

@pytest.fixture
def ragprobe_pipeline():
    return make_rag()
"""
    )
    result = project.runpytest("--ragprobe-no-cache", "-W", "error::RuntimeWarning")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*pytest-ragprobe: ragprobe_pipeline is a coroutine (make_rag(...) not awaited): await it (an async "
            "fixture needs pytest-asyncio; or return the pipeline from a sync fixture)*"
        ]
    )
    result.stdout.no_fnmatch_line("*never awaited*")


def test_a_bug_in_the_pipeline_names_the_question_and_shows_its_own_frames(project: pytest.Pytester) -> None:
    """A TypeError in the pipeline said "(n=0, 0 calls)", named no question, and its traceback began
    in the plugin's adapter and thread pool."""
    result = project.runpytest("--ragprobe-pipeline=rag:buggy", "--ragprobe-no-cache", "--ragprobe-concurrency=1")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "pytest-ragprobe: the pipeline raised TypeError on 'Which * fits *?': unsupported operand type(s) "
            "for +: 'int' and 'str'",
            "Traceback (most recent call last):",
            '  File "*rag.py", line *, in buggy',
            "*",
            "TypeError: unsupported operand type(s) for +: 'int' and 'str'",
        ]
    )
    assert "pytest_ragprobe" not in result.stdout.str().split("Traceback", 1)[1].split("TypeError:", 1)[0]
    result.stdout.fnmatch_lines(["ERROR *test_rev.py::test_rev [[]reverse] the pipeline raised TypeError on * (n=0, 1 call)"])


def test_a_reader_written_for_dicts_is_told_it_gets_documents(project: pytest.Pytester) -> None:
    """generate() reading its retriever's dicts (doc["text"]) ended in "'Document' object is not
    subscriptable", with no word that ragprobe hands it Documents whatever retrieve returned."""
    result = project.runpytest("--ragprobe-pipeline=rag:DictReader", "--ragprobe-no-cache", "--ragprobe-report=out")
    result.assert_outcomes(errors=1)
    note = (
        "ragprobe hands index() and generate() their documents as ragprobe.Document objects, whatever "
        "retrieve returns (dicts, strings): read doc.text, doc.title, doc.id and doc.metadata, or convert them "
        "with doc.to_dict()"
    )
    result.stdout.fnmatch_lines(
        [
            f"pytest-ragprobe: the pipeline raised TypeError on *: 'Document' object is not subscriptable; {note}",
            "Traceback (most recent call last):",
            '  File "*rag.py", line *, in generate',
            "*",
            "TypeError: 'Document' object is not subscriptable",
        ]
    )
    # once, up top (not again under the traceback); the short summary, whole on CI (CI=true), repeats it
    assert result.stdout.str().split("short test summary info")[0].count(note) == 1
    # the reports, read in CI, carry it too: they keep the reason, not the traceback
    (probe,) = json.loads((project.path / "out" / "report.json").read_text(encoding="utf-8"))["probes"]
    assert probe["reason"].endswith(f"'Document' object is not subscriptable; {note}")
    report_md = (project.path / "out" / "report.md").read_text(encoding="utf-8")
    assert "ragprobe hands index() and generate() their documents as ragprobe.Document objects" in report_md


def test_a_bug_in_ragprobe_itself_is_not_blamed_on_the_pipeline(project: pytest.Pytester) -> None:
    """An exception raised inside the plugin (no frame of the pipeline's own on its way) said "the
    pipeline raised ..." and showed a traceback from the plugin's code."""
    project.makeconftest(
        """
        import functools
        from pytest_ragprobe import stats

        real = stats.compare_paired

        def pytest_configure(config):
            # a stand-in for a bug of the plugin's: the call inside reverse_probe raises TypeError
            stats.compare_paired = functools.partial(real, bogus=1)

        def pytest_unconfigure(config):
            stats.compare_paired = real
        """
    )
    result = project.runpytest("--ragprobe-pipeline=rag:Rag", "--ragprobe-no-cache")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "pytest-ragprobe: internal error in pytest-ragprobe: TypeError: compare_paired() got an unexpected "
            "keyword argument 'bogus'",
            "A bug in pytest-ragprobe, not in the pipeline: please report it with this traceback.",
            "Traceback (most recent call last):",
            '  File "*reverse_probe.py", line *',
        ]
    )
    result.stdout.no_fnmatch_line("*the pipeline raised*")
