"""What real RAG stacks return, and how the adapter takes it: shapes of other frameworks (LangChain,
LlamaIndex, pydantic, token streams, numpy) fail with one message naming the type, the value and the
fix; errors a pipeline or service reports in a 200 are failed calls, never an empty answer to score;
wiring mistakes (a class for an instance, a retrieve without k) are named before any call."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pytest_ragprobe.adapters import HTTPPipeline, OpenAIGenerator
from pytest_ragprobe.engine import Call, Engine, EngineSettings
from pytest_ragprobe.pipeline import Pipeline, PipelineAdapter, PipelineConfigError
from pytest_ragprobe.types import Answer, Document, PipelineOutputError, to_answer, to_document, to_documents

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from faults import FaultServer, Reply, Request


class AIMessage:  # langchain_core.messages.AIMessage
    def __init__(self, content: str) -> None:
        self.content = content


class LCDocument:  # langchain_core.documents.Document
    def __init__(self, page_content: str) -> None:
        self.page_content = page_content
        self.metadata: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Document(page_content={self.page_content!r})"


def tokens() -> Iterator[str]:
    yield "C-"
    yield "17"


@pytest.mark.parametrize(
    ("value", "cause", "detail"),
    [
        (
            ("C-17", ["doc"]),
            "expected str or ragprobe.Answer, got tuple (an (answer, documents) pair? return "
            "ragprobe.Answer(answer, documents=docs))",
            "('C-17', ['doc'])",
        ),
        (AIMessage("C-17"), "expected str or ragprobe.Answer, got AIMessage (its .content is a str: return that)", ""),
        (b"C-17", "expected str or ragprobe.Answer, got bytes (decode it to a str)", "b'C-17'"),
        (
            None,
            "expected str or ragprobe.Answer, got None (did it return nothing? a function that ends without "
            "`return` gives None)",
            "",
        ),
    ],
)
def test_wrong_answer_type_cause_names_type_and_fix_not_value(value: object, cause: str, detail: str) -> None:
    """The cause (what failed calls are grouped by, what fail-fast compares) held the returned value's
    repr, so a pipeline returning a tuple every time had as many causes as calls."""
    with pytest.raises(PipelineOutputError) as info:
        to_answer(value, where="rag.answer")
    assert info.value.cause == f"rag.answer: {cause}"
    if detail:
        head, _, hint = cause.partition(" (")
        assert str(info.value) == f"rag.answer: {head}: {detail}" + (f" ({hint}" if hint else "")


def test_token_stream_and_document_shapes_get_a_hint() -> None:
    with pytest.raises(PipelineOutputError) as info:
        to_answer(tokens(), where="w")
    assert info.value.cause == "w: expected str or ragprobe.Answer, got generator (a token stream? return the joined str)"
    with pytest.raises(PipelineOutputError) as info:
        to_document(LCDocument("Pump P-200 fits C-17."), where="w[0]")
    assert str(info.value) == (
        "w[0]: expected a ragprobe.Document, a dict with 'text' or a str, got LCDocument: "
        "Document(page_content='Pump P-200 fits C-17.') "
        "(its .page_content is a str: give ragprobe.Document(that) or a dict)"
    )
    with pytest.raises(PipelineOutputError) as info:
        to_documents([("doc", 0.3)], where="w")
    assert info.value.cause == (
        "w[0]: expected a ragprobe.Document, a dict with 'text' or a str, got tuple "
        "(a (document, score) pair? give the document only)"
    )
    with pytest.raises(PipelineOutputError) as info:
        to_documents(np.array(["a", "b"]), where="w")
    assert info.value.cause == "w: expected a list of documents, got ndarray (an array? give its .tolist())"


def test_answer_with_documents_none_is_unreported_not_a_crash() -> None:
    """Answer(text, documents=None) raised a bare TypeError ('NoneType' object is not iterable): a
    test error with a traceback into ragprobe, instead of "documents not said" like a dict's null."""
    got = to_answer(Answer("C-17", documents=None), where="w")  # type: ignore[arg-type]
    assert got == Answer("C-17") and not got.reports_documents
    with pytest.raises(PipelineOutputError, match=r"^ragprobe\.Answer: documents must be a list of .*, got int: 3$"):
        Answer("C-17", documents=3)  # type: ignore[arg-type]  (refused when built)


def test_answer_dict_with_an_error_field_is_a_failed_call() -> None:
    """{"answer": "", "error": "rate limited"} was scored as an empty (wrong) answer."""
    with pytest.raises(PipelineOutputError) as info:
        to_answer({"answer": "", "error": "rate limited"}, where="rag.answer")
    assert str(info.value) == "rag.answer: the answer dict reports an error: 'rate limited'"
    with pytest.raises(PipelineOutputError, match=r"reports an error: 'quota exceeded'$"):
        to_answer({"error": {"message": "quota exceeded", "type": "insufficient_quota"}}, where="w")
    assert to_answer({"answer": "C-17", "error": None}) == Answer("C-17")
    assert to_answer({"answer": "C-17", "error": ""}) == Answer("C-17")


def test_answer_dict_names_the_key_that_is_not_text() -> None:
    with pytest.raises(PipelineOutputError) as info:
        to_answer({"answer": None, "sources": []}, where="w")
    assert str(info.value) == (
        "w: answer dict needs a string 'text' or 'answer', got keys ['answer', 'sources'] ('answer' is NoneType)"
    )


def test_same_wrong_type_on_every_call_trips_fail_fast() -> None:
    """A pipeline returning (answer, docs) tuples was called for every question: each call's cause
    held its own answer, so the first five never 'failed the same way'."""
    seen: list[str] = []

    def rag(question: str) -> object:
        seen.append(question)
        return (question.upper(), ["doc"])

    calls = [Call("answer", f"q{i}") for i in range(12)]
    settings = EngineSettings(retries=0, concurrency=1, fail_fast=5)
    out = asyncio.run(Engine(PipelineAdapter(Pipeline(answer=rag, name="rag")), settings).run(calls))
    assert len(seen) == 5
    assert {o.cause for o in out} == {
        "rag.answer: expected str or ragprobe.Answer, got tuple (an (answer, documents) pair? return "
        "ragprobe.Answer(answer, documents=docs))"
    }
    assert out[0].error is not None and "got tuple: ('Q0', ['doc'])" in out[0].error


def test_a_pipeline_returning_none_is_named_once_with_what_to_check() -> None:
    """A probe whose pipeline returned None for one question ended with the cause said twice: "most
    common cause (1x): rag.answer: expected str or ragprobe.Answer, got NoneType; first for '...':
    rag.answer: expected str or ragprobe.Answer, got NoneType: None", and nothing on what to look at."""
    import pytest_ragprobe as ragprobe

    facts = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(4)]

    def rag(question: str) -> str | None:
        return None if "P-0?" in question else "C-1"

    with pytest.raises(ragprobe.ProbeError) as info:
        ragprobe.check_reverse(rag, facts, max_drop=0.1, retries=0)
    message = str(info.value)
    assert message.count("expected str or ragprobe.Answer") == 1, message
    assert "got None (did it return nothing? a function that ends without `return` gives None)" in message
    assert "NoneType" not in message


class InstanceRag:
    def answer(self, question: str) -> str:
        return "C-17"


class CallableRag:
    def __call__(self, question: str) -> str:
        return "C-17"


class StaticRag:
    @staticmethod
    def answer(question: str) -> str:
        return "C-17"


@pytest.mark.parametrize("cls", [InstanceRag, CallableRag])
def test_a_class_instead_of_an_instance_is_a_config_error(cls: type) -> None:
    """A fixture returning MyRag (not MyRag()) failed on every call: 'answer() missing 1 required
    positional argument', or for a callable class, one instance built per question and reported as
    a wrong answer type."""
    with pytest.raises(PipelineConfigError) as info:
        PipelineAdapter(cls)
    name = cls.__name__
    assert str(info.value) == (
        f"ragprobe_pipeline is the class {__name__}.{name}, not an instance of it: return {name}(...) from "
        f"the fixture (--ragprobe-pipeline=module:{name} instantiates a class itself)"
    )


def test_a_class_of_static_methods_still_works() -> None:
    assert asyncio.run(PipelineAdapter(StaticRag).answer("q")) == Answer("C-17")


def test_a_signature_that_cannot_take_the_call_is_named() -> None:
    """retrieve(query) without k raised a bare TypeError from inside the call."""

    class NoK:
        name = "nok"

        def retrieve(self, query: str) -> list[str]:
            return ["d"]

        def generate(self, question: str, documents: list[Document]) -> str:
            return "C-17"

    with pytest.raises(PipelineConfigError) as info:
        asyncio.run(PipelineAdapter(NoK()).answer("q"))
    assert str(info.value) == (
        "nok: its retrieve is called as retrieve(query, k), but its signature (query) cannot "
        "take that (too many positional arguments). Give it that signature, or adapt it, e.g. "
        "ragprobe.Pipeline(retrieve=lambda ...: ...)"
    )
    with pytest.raises(PipelineConfigError, match=r"^p: its answer is called as answer\(question\), but its "):
        asyncio.run(PipelineAdapter(Pipeline(answer=lambda: "x", name="p")).answer("q"))

    def no_args() -> str:
        return "x"

    with pytest.raises(PipelineConfigError) as info:
        asyncio.run(PipelineAdapter(no_args).answer("q"))
    assert str(info.value).startswith(
        f"{no_args.__module__}.{no_args.__qualname__}: it is called as pipeline(question), but its signature () "
    )
    # defaults, *args and async methods are fine
    ok = Pipeline(retrieve=lambda q, k=3, *rest: ["d"], generate=lambda *a: "C-17", name="ok")
    assert asyncio.run(PipelineAdapter(ok).answer("q")).text == "C-17"


def service(req: Request) -> Reply:
    if req.path == "/answer-error":
        return Reply(json={"answer": "", "error": "model overloaded"})
    if req.path == "/search-error":
        return Reply(json={"documents": [], "error": "index not loaded"})
    if req.path == "/v1/chat/completions":
        return Reply(json={"error": {"message": "model 'x' not found", "type": "invalid_request_error"}})
    if req.path == "/null":
        return Reply(json={"answer": None})
    return Reply(status=404, json={})


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(service, max_requests=50, lifetime=60) as srv:
        yield srv


def _error(coro_fn: Any) -> PipelineOutputError:
    with pytest.raises(PipelineOutputError) as info:
        asyncio.run(coro_fn())
    return info.value


def test_http_200_with_an_error_field_is_a_failed_call(server: FaultServer) -> None:
    """A 200 carrying {"answer": "", "error": ...} was scored as a wrong answer, and {"documents": [],
    "error": ...} as a retrieval miss."""
    url = server.url

    async def answer() -> None:
        async with HTTPPipeline(url, answer_path="/answer-error") as pipe:
            await pipe.answer("q")

    async def retrieve() -> None:
        async with HTTPPipeline(url, answer_path=None, retrieve_path="/search-error") as pipe:
            await pipe.retrieve("q", 3)

    async def generate() -> None:
        async with OpenAIGenerator(f"{url}/v1", "x", api_key="") as gen:
            await gen.generate("q", [Document("d")])

    assert str(_error(answer)) == f"{url}/answer-error answered with an error field: 'model overloaded'"
    assert _error(retrieve).cause == f"{url}/search-error answered with an error field: 'index not loaded'"
    assert str(_error(generate)) == f"{url}/v1/chat/completions answered with an error field: \"model 'x' not found\""


def test_http_answer_null_says_so(server: FaultServer) -> None:
    async def go() -> None:
        async with HTTPPipeline(server.url, answer_path="/null") as pipe:
            await pipe.answer("q")

    assert _error(go).cause == (
        f"malformed response from {server.url}/null: expected a JSON object with a string 'answer' or 'text' "
        "(and optional 'documents'), or a JSON string, got JSON keys ['answer'] ('answer' is null)"
    )
