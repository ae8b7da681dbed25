"""Bad inputs to the public API (check_reverse / check_position, Document, the HTTP adapters, the
pipeline object) end in a clear error at the call that made them, not a crash or a silent choice later."""

from __future__ import annotations

import re
import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

import pytest_ragprobe as ragprobe
from pytest_ragprobe.pipeline import PipelineAdapter, PipelineConfigError
from pytest_ragprobe.runner import ProbeError
from pytest_ragprobe.types import Answer, Document, PipelineOutputError, to_answer

FIVE = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(5)]
FACTS_YAML = "facts:\n" + "".join(
    f"  - forward: {{question: 'Which controller fits pump P-{i}?', answer: C-{i}}}\n"
    f"    reverse: {{question: 'Which pump fits controller C-{i}?', answer: P-{i}}}\n"
    for i in range(4)
)


def lookup(question: str) -> str:
    found = re.search(r"(P|C)-(\d+)", question)
    assert found is not None
    kind, num = found.groups()
    return ("C-" if kind == "P" else "P-") + num


# -- 1: relative paths beside the calling file -----------------------------------------------------------


def test_check_reverse_finds_a_relative_facts_file_beside_the_calling_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: ``FactsError: parts.yaml: facts file not found (resolved to <cwd>/parts.yaml)``."""
    (tmp_path / "parts.yaml").write_text(FACTS_YAML)
    (tmp_path / "rag_helper_rel.py").write_text(
        textwrap.dedent(
            """
            import pytest_ragprobe as ragprobe

            def probe(pipeline):
                return ragprobe.check_reverse(pipeline, "parts.yaml")
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(Path(__file__).parent)  # not tmp_path: the file is found beside the caller
    import rag_helper_rel  # type: ignore[import-not-found]

    try:
        result = rag_helper_rel.probe(lookup)
    finally:
        sys.modules.pop("rag_helper_rel", None)
    assert (result.n, result.forward.accuracy, result.reverse.accuracy) == (4, 1.0, 1.0)


# -- 2: facts given twice ------------------------------------------------------------------------------


def test_check_reverse_refuses_facts_given_both_ways() -> None:
    """Was: the positional 'synthetic:30' silently won and facts= was only recorded in the settings."""
    with pytest.raises(TypeError) as info:
        ragprobe.check_reverse(lambda q: "x", "synthetic:30", facts=FIVE)
    assert str(info.value) == "check_reverse: pass the facts either positionally or as facts=, not both"


def test_check_reverse_takes_the_facts_as_a_keyword_like_check_position() -> None:
    assert ragprobe.check_reverse(lookup, facts=FIVE).n == 5


# -- 3: a Document whose text is not a str ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "shown"),
    [
        ({"text": None, "title": "t"}, "None (a search hit without its text? leave it out, or fetch its text)"),
        ({"text": 5}, "int: 5"),
        ({"text": b"P-200"}, "bytes: b'P-200' (decode it to a str)"),
    ],
)
def test_document_text_must_be_a_str_when_built(kwargs: dict[str, object], shown: str) -> None:
    """Was: built fine, then ``normalize() argument 2 must be str`` in scoring, or read as "t: None". A
    PipelineOutputError (a TypeError) as Answer's, in the same words."""
    with pytest.raises(PipelineOutputError) as info:
        Document(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == f"ragprobe.Document: text must be a str, got {shown}"


class _LaxDocument(Document):
    def __post_init__(self) -> None:  # a subclass that skips the check
        pass


def test_a_document_with_a_non_str_text_in_an_answer_names_its_place() -> None:
    with pytest.raises(PipelineOutputError) as info:  # in an Answer: when the Answer is built
        Answer("x", documents=(_LaxDocument(text=None),))  # type: ignore[arg-type]
    assert str(info.value) == "ragprobe.Answer documents[0]: ragprobe.Document needs a string text, got NoneType"
    with pytest.raises(PipelineOutputError) as info:  # in an answer dict: when the answer is read
        to_answer({"text": "x", "documents": [_LaxDocument(text=None)]}, where="rag.answer")  # type: ignore[arg-type]
    assert str(info.value) == "rag.answer.documents[0]: ragprobe.Document needs a string text, got NoneType"


def test_check_reverse_reports_the_bad_document_not_a_scoring_crash() -> None:
    def pipeline(question: str) -> Answer:
        return Answer(lookup(question), documents=(_LaxDocument(text=None),))  # type: ignore[arg-type]

    with pytest.raises(ProbeError, match=r"Answer documents\[0\]: ragprobe\.Document needs a string text"):
        ragprobe.check_reverse(pipeline, FIVE)


def test_a_pipeline_building_a_bad_document_fails_at_its_own_line() -> None:
    """Was a plain TypeError that ended the whole probe as a bug, while Answer(None) is a failed call:
    now both are, and the error names what was given and its traceback the pipeline's line."""

    def pipeline(question: str) -> Answer:
        return Answer(lookup(question), documents=[Document(text=None)])  # type: ignore[arg-type]

    with pytest.raises(ProbeError) as info:
        ragprobe.check_reverse(pipeline, FIVE)
    assert "most common cause (5x): ragprobe.Document: text must be a str, got None" in str(info.value)
    assert info.value.traceback is not None and "documents=[Document(text=None)]" in info.value.traceback

    def sometimes(question: str) -> Answer:  # one hit without text: that call fails, the probe goes on
        docs = [Document(text=None)] if "P-1" in question else []  # type: ignore[arg-type]
        return Answer(lookup(question), documents=docs)

    r = ragprobe.check_reverse(sometimes, FIVE, max_drop=0.5)
    assert r.verdict != "error" and r.errors >= 1


# -- 4: a str (or another builtin value) as the pipeline -------------------------------------------------

NAMED = "--ragprobe-pipeline / ini ragprobe_pipeline"


def test_check_reverse_refuses_a_pipeline_spec_string() -> None:
    """Was: "@ragprobe.reverse needs the pipeline's `answer` but builtins.str only offers: index"."""
    with pytest.raises(PipelineConfigError) as info:
        ragprobe.check_reverse("myapp.rag:answer", FIVE)
    assert str(info.value) == (
        "the pipeline given to check_reverse is a str ('myapp.rag:answer'): pass the pipeline object "
        f"itself (the ragprobe_pipeline fixture holds the one named by {NAMED})"
    )


def test_check_position_refuses_a_pipeline_spec_string() -> None:
    with pytest.raises(PipelineConfigError) as info:
        ragprobe.check_position("myapp.rag:generate", "synthetic:4", n_docs=3)
    assert str(info.value).startswith(
        "the pipeline given to check_position is a str ('myapp.rag:generate'): pass the pipeline object itself"
    )


def test_the_fixture_path_refuses_a_string_too() -> None:
    with pytest.raises(PipelineConfigError) as info:
        PipelineAdapter("myapp.rag:answer")
    assert str(info.value) == (
        f"ragprobe_pipeline is a str ('myapp.rag:answer'): pass the pipeline object itself, or name it with {NAMED}"
    )


@pytest.mark.parametrize("value", [b"myapp.rag:answer", ["rag"], ("rag",), range(3)])
def test_builtin_values_have_no_capabilities(value: object) -> None:
    """bytes.index, list.index, tuple.index and range.index are not an index capability; a module, a
    class of static methods and a NamedTuple (types from builtins, or a tuple) still offer theirs."""
    with pytest.raises(PipelineConfigError, match="ragprobe_pipeline is a"):
        PipelineAdapter(value)
    module = types.ModuleType("rag_module")
    module.answer = lookup  # type: ignore[attr-defined]

    class Static:
        @staticmethod
        def index(documents: list[Document]) -> None:
            pass

    class Parts(NamedTuple):
        answer: Callable[[str], str]

    assert PipelineAdapter(module).capabilities == {"answer"}
    assert "index" in PipelineAdapter(Static).capabilities
    assert PipelineAdapter(Parts(lookup)).capabilities == {"answer"}


def test_pipeline_parts_given_as_strings_are_no_methods() -> None:
    with pytest.raises(PipelineConfigError) as info:
        PipelineAdapter(ragprobe.Pipeline(answer=lookup, index="myapp.rag:index"))  # type: ignore[arg-type]
    assert str(info.value) == (
        "ragprobe.Pipeline(index=...) got a str, which is neither callable nor has an index() method"
    )


# -- 5: URLs without http(s):// --------------------------------------------------------------------------


def test_http_pipeline_needs_a_scheme() -> None:
    """Was: built fine, then every call failed with ``transport error (UnsupportedProtocol)``."""
    with pytest.raises(ValueError) as info:
        ragprobe.HTTPPipeline("localhost:18765")
    assert str(info.value) == (
        "HTTPPipeline: url 'localhost:18765' needs http:// or https:// (e.g. 'http://localhost:18765')"
    )
    assert ragprobe.HTTPPipeline("HTTPS://rag.example:8443/v1").url == "HTTPS://rag.example:8443/v1"
    assert ragprobe.HTTPPipeline("http://[::1]:8000").url == "http://[::1]:8000"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://files.example/rag", "HTTPPipeline: url 'ftp://files.example/rag' needs http:// or https://"),
        ("http://", "HTTPPipeline: url 'http://' has no host"),
        ("", "HTTPPipeline: url '' needs http:// or https://"),
    ],
)
def test_http_pipeline_url_problems(url: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        ragprobe.HTTPPipeline(url)
    assert str(info.value) == message



def test_openai_generator_needs_a_scheme() -> None:
    with pytest.raises(ValueError) as info:
        ragprobe.OpenAIGenerator(base_url="localhost:8080/v1", model="gemma")
    assert str(info.value) == (
        "OpenAIGenerator: base_url 'localhost:8080/v1' needs http:// or https:// "
        "(e.g. 'http://localhost:8080/v1')"
    )


def test_http_adapters_refuse_values_every_call_would_trip_over() -> None:
    # Was: accepted, then timeout=-1 failed calls erratically, a header value 1 ended the probe with a bare
    # "TypeError: Header value must be str or bytes", answer_path=None alone read "neither callable nor has
    # any of answer, retrieve, generate, index", and top_k=0 / max_tokens=0 / temperature=-1 went through.
    url = "http://127.0.0.1:9"
    for kwargs, error, message in (
        ({"timeout": -1}, ValueError, r"^HTTPPipeline: timeout must be a number of seconds > 0 \(or None\), got -1$"),
        ({"headers": {"X-N": 1}}, TypeError, r"^HTTPPipeline: header 'X-N' must be a str, got int \(1\)$"),
        ({"headers": {"X-Api-Key": 12345}}, TypeError, r"must be a str, got int \(\*\*\*\)$"),
        ({"top_k": 0}, ValueError, r"^HTTPPipeline: top_k must be an int >= 1, got 0$"),
        ({"max_connections": 0}, ValueError, r"^HTTPPipeline: max_connections must be an int >= 1, got 0$"),
        ({"answer_path": None}, ValueError, r"^HTTPPipeline: no endpoint: give answer_path"),
    ):
        with pytest.raises(error, match=message):
            ragprobe.HTTPPipeline(url, **kwargs)
    for kwargs, message in (
        ({"temperature": -1}, r"^OpenAIGenerator: temperature must be a number >= 0, got -1$"),
        ({"max_tokens": 0}, r"^OpenAIGenerator: max_tokens must be an int >= 1, got 0$"),
    ):
        with pytest.raises(ValueError, match=message):
            ragprobe.OpenAIGenerator(url, "m", api_key="k", **kwargs)
    ragprobe.HTTPPipeline(url, answer_path=None, retrieve_path="/hits")  # a retriever alone is fine


# -- 6: an Answer whose text is not a str ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (None, "got None (did the model or a function return nothing?)"),  # an LLM client's refusal
        (b"C-17", "got bytes: b'C-17' (decode it to a str)"),
        (("C-17", []), "got tuple: ('C-17', []) (an (answer, documents) pair? give ragprobe.Answer(answer, "
         "documents=docs))"),
        (17, "got int: 17"),
    ],
)
def test_answer_text_must_be_a_str_when_built(text: object, shown: str) -> None:
    """Was: Answer(None) built fine and was refused only when a probe read the answer, far from the line."""
    with pytest.raises(TypeError) as info:
        Answer(text)  # type: ignore[arg-type]
    assert str(info.value) == f"ragprobe.Answer: text must be a str, {shown}"


def test_answer_documents_are_checked_when_built_and_what_was_accepted_still_is() -> None:
    accepted = "ragprobe.Document, dicts with 'text' or str (or None: not reported)"
    with pytest.raises(TypeError) as info:
        Answer("C-17", documents="Pump P-200 fits C-17.")  # type: ignore[arg-type]
    assert str(info.value) == f"ragprobe.Answer: documents must be a list of {accepted}, got str: 'Pump P-200 fits C-17.'"
    with pytest.raises(TypeError, match=r"^ragprobe\.Answer documents\[1\]: expected a ragprobe\.Document"):
        Answer("C-17", documents=["ok", 3])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"^ragprobe\.Answer documents\[0\]: document dict needs a string 'text'"):
        Answer("C-17", documents=[{"title": "no text"}])  # type: ignore[list-item]
    # every shape to_answer took stays accepted, and is coerced when read as before
    mixed = Answer("C-17", documents=[Document("d"), {"text": "t", "title": "T"}, "s"])  # type: ignore[list-item]
    assert to_answer(mixed).documents == (Document("d"), Document("t", title="T"), Document("s"))
    assert not to_answer(Answer("C-17", documents=None)).reports_documents  # type: ignore[arg-type]
    assert Answer("C-17", documents=()).reports_documents and Answer("").text == ""


def test_answer_none_from_a_pipeline_is_a_failed_call_naming_its_line() -> None:
    """Still a failed call (an LLM's None on one question is not a bug ending the probe), but the error says
    what was wrong with the Answer and its traceback shows the pipeline's line."""

    def pipeline(question: str) -> Answer:
        return Answer(None)  # type: ignore[arg-type]

    with pytest.raises(ProbeError) as info:
        ragprobe.check_reverse(pipeline, FIVE)
    assert "most common cause (5x): ragprobe.Answer: text must be a str, got None" in str(info.value)
    assert info.value.traceback is not None
    assert "return Answer(None)" in info.value.traceback


# -- 7: a single record, an int or a generator where a list of facts / examples goes ----------------------


def test_check_functions_name_a_record_or_an_iterator_given_for_a_list() -> None:
    pipeline = ragprobe.Pipeline(answer=lookup, generate=lambda q, docs: "x")
    lists = "must be a file path, 'synthetic:N' or a list"
    with pytest.raises(ragprobe.MarkArgumentError) as info:  # was: TypeError: 'int' object is not iterable
        ragprobe.check_position(pipeline, 5)
    assert str(info.value) == f"check_position: argument 'data' {lists}, got int 5"
    with pytest.raises(ragprobe.MarkArgumentError, match=r"got dict .* \(one example\? give a list of them: \[it\]\)$"):
        ragprobe.check_position(pipeline, {"question": "q", "answers": ["a"], "ctxs": []}, n_docs=3)
    with pytest.raises(ragprobe.MarkArgumentError, match=r"got generator .* \(an iterator\? give a list\)$"):
        ragprobe.check_position(pipeline, (f for f in FIVE), n_docs=3)  # was: consumed, then refused
    with pytest.raises(ragprobe.MarkArgumentError) as info:
        ragprobe.check_reverse(pipeline, FIVE[0])
    assert str(info.value).startswith(f"check_reverse: argument 'facts' {lists}, got Fact Fact(")
    assert str(info.value).endswith(" (one fact? give a list of them: [it])")
    assert ragprobe.check_position(pipeline, tuple(FIVE), n_docs=3).n == 5  # a tuple of facts still is one


def test_a_facts_file_loaded_by_hand_is_named_as_such_and_clipped() -> None:
    """A facts YAML loaded with yaml.safe_load and handed over ({relations, facts}) was told "one fact? give
    a list of them: [it]", in an 18 kB message holding every fact's repr."""
    doc = {
        "relations": {"fits": {"forward": "Which controller fits pump {subject}?", "reverse": "Which pump fits {object}?"}},
        "facts": [{"subject": f"P-{i}", "relation": "fits", "object": f"C-{i}"} for i in range(300)],
    }
    with pytest.raises(ragprobe.MarkArgumentError) as info:
        ragprobe.check_reverse(lookup, doc)
    message = str(info.value)
    assert message.startswith("check_reverse: argument 'facts' must be a file path, 'synthetic:N' or a list, got dict {")
    assert message.endswith("… (a facts file's contents? give the file's path)") and len(message) < 300
