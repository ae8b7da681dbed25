"""pipeline.py: every accepted pipeline shape behind one async adapter; loading by 'module:attr'."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import importlib.util
import os
import subprocess
import sys
import textwrap
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

import pytest

import pytest_ragprobe as ragprobe
from pytest_ragprobe.pipeline import (
    Pipeline,
    PipelineAdapter,
    PipelineConfigError,
    describe,
    factory,
    load_pipeline_spec,
    make_adapter,
)
from pytest_ragprobe.types import Answer, Document, PipelineOutputError

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def echo(question: str) -> str:
    return f"echo: {question}"


class SyncRag:
    """An object with all four methods, sync."""

    def __init__(self) -> None:
        self.indexed: list[Document] = []
        self.calls: list[tuple[str, Any]] = []

    def retrieve(self, query: str, k: int) -> list[Any]:
        self.calls.append(("retrieve", (query, k)))
        return ["plain text doc", {"text": "dict doc", "title": "T", "id": 7}, Document("doc", title="D")][:k]

    def generate(self, question: str, documents: list[Document]) -> str:
        self.calls.append(("generate", (question, [d.text for d in documents])))
        return f"gen({question}, {len(documents)})"

    def index(self, documents: list[Document]) -> None:
        self.indexed.extend(documents)


class AsyncRag:
    async def answer(self, question: str) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"answer": question.upper(), "documents": [{"text": "ctx"}]}

    async def retrieve(self, query: str, k: int) -> list[str]:
        return [f"{query}#{i}" for i in range(k)]

    async def generate(self, question: str, documents: list[Document]) -> Answer:
        return Answer(text=f"{question}:{len(documents)}")

    async def index(self, documents: list[Document]) -> None:
        self.indexed = list(documents)


class AsyncCallable:
    async def __call__(self, question: str) -> str:
        return "async call " + question


# -- shapes ----------------------------------------------------------------------------------------


def test_plain_callable() -> None:
    adapter = PipelineAdapter(echo)
    assert adapter.capabilities == frozenset({"answer"})
    assert run(adapter.answer("q")) == Answer(text="echo: q")
    assert adapter.identity == f"{__name__}.echo"


def test_lambda_and_async_function() -> None:
    async def coro_fn(q: str) -> str:
        return q[::-1]

    assert run(PipelineAdapter(lambda q: q * 2).answer("ab")) == Answer("abab")
    assert run(PipelineAdapter(coro_fn).answer("abc")) == Answer("cba")
    assert run(PipelineAdapter(AsyncCallable()).answer("x")) == Answer("async call x")


def test_sync_wrapper_returning_a_coroutine_is_awaited() -> None:
    async def inner(q: str) -> str:
        return "inner " + q

    def wrapper(q: str) -> Coroutine[Any, Any, str]:
        return inner(q)

    assert run(PipelineAdapter(wrapper).answer("q")) == Answer("inner q")


def test_callable_object_with_only_some_methods_answers_by_being_called() -> None:
    class Reader:
        def __call__(self, question: str) -> str:
            return "called " + question

        def generate(self, question: str, documents: list[str]) -> str:
            return f"read {len(documents)}"

    adapter = PipelineAdapter(Reader())
    assert adapter.capabilities == frozenset({"answer", "generate"})
    assert run(adapter.answer("q")) == Answer("called q")
    assert run(adapter.generate("q", [Document("d")])) == "read 1"


def test_sync_object_composes_answer_from_retrieve_and_generate() -> None:
    rag = SyncRag()
    adapter = PipelineAdapter(rag, top_k=2)
    assert adapter.capabilities == frozenset({"answer", "retrieve", "generate", "index"})
    out = run(adapter.answer("Which pump?"))
    assert out.text == "gen(Which pump?, 2)"
    assert out.documents == (Document("plain text doc"), Document("dict doc", title="T", id="7"))
    assert isinstance(out.documents, tuple)
    assert rag.calls == [
        ("retrieve", ("Which pump?", 2)),
        ("generate", ("Which pump?", ["plain text doc", "dict doc"])),
    ]


def test_an_object_s_own_top_k_or_k_is_the_retrieval_depth() -> None:
    """Answering through retrieve + generate always asked for 5 documents, whatever depth the pipeline runs
    with: the probe measured a different pipeline."""

    class Deep(SyncRag):
        top_k = 1

    class K(SyncRag):
        def __init__(self) -> None:
            super().__init__()
            self.k = 3

    deep, k = Deep(), K()
    run(make_adapter(deep).answer("q"))
    run(make_adapter(k).answer("q"))
    assert (deep.calls[0], k.calls[0]) == (("retrieve", ("q", 1)), ("retrieve", ("q", 3)))
    assert make_adapter(SyncRag()).top_k == 5  # none of its own: the default

    class Flag(SyncRag):
        k = True  # not a depth

    assert make_adapter(Flag()).top_k == 5


def test_sync_object_direct_calls_coerce_outputs() -> None:
    rag = SyncRag()
    adapter = PipelineAdapter(rag)
    docs = run(adapter.retrieve("q", 3))
    assert docs == [
        Document("plain text doc"),
        Document("dict doc", title="T", id="7"),
        Document("doc", title="D"),
    ]
    assert run(adapter.generate("q", tuple(docs))) == "gen(q, 3)"
    run(adapter.index([Document("a"), Document("b")]))
    assert rag.indexed == [Document("a"), Document("b")]


def test_async_object() -> None:
    rag = AsyncRag()
    adapter = make_adapter(rag)
    assert adapter.capabilities == frozenset({"answer", "retrieve", "generate", "index"})
    assert run(adapter.answer("hi")) == Answer("HI", documents=(Document("ctx"),))
    assert run(adapter.retrieve("q", 2)) == [Document("q#0"), Document("q#1")]
    assert run(adapter.generate("q", [Document("x")])) == "q:1"
    run(adapter.index([Document("z")]))
    assert rag.indexed == [Document("z")]


def test_object_with_only_answer() -> None:
    class OnlyAnswer:
        def answer(self, question: str) -> str:
            return "A"

        retrieve = "not callable"

    adapter = PipelineAdapter(OnlyAnswer())
    assert adapter.capabilities == frozenset({"answer"})
    with pytest.raises(PipelineConfigError, match=r"OnlyAnswer has no retrieve"):
        run(adapter.retrieve("q", 1))
    with pytest.raises(PipelineConfigError, match=r"has no generate"):
        run(adapter.generate("q", []))
    with pytest.raises(PipelineConfigError, match=r"has no index"):
        run(adapter.index([]))


def test_ragprobe_pipeline_dataclass() -> None:
    seen: list[int] = []

    def retrieve(q: str, k: int) -> list[str]:
        seen.append(k)
        return ["d1", "d2"]

    async def generate(q: str, docs: list[Document]) -> str:
        return "+".join(d.text for d in docs)

    pipe = ragprobe.Pipeline(retrieve=retrieve, generate=generate, top_k=3)
    assert isinstance(pipe, Pipeline)
    adapter = PipelineAdapter(pipe, top_k=99)
    assert adapter.top_k == 3  # the Pipeline's own top_k wins
    assert adapter.capabilities == frozenset({"answer", "retrieve", "generate"})
    assert run(adapter.answer("q")) == Answer("d1+d2", documents=(Document("d1"), Document("d2")))
    assert seen == [3]


def test_pipeline_explicit_answer_is_used_over_composition() -> None:
    pipe = Pipeline(answer=lambda q: "direct", retrieve=lambda q, k: ["x"], generate=lambda q, d: "composed")
    assert run(PipelineAdapter(pipe).answer("q")) == Answer("direct")


def test_make_adapter_passes_adapters_through() -> None:
    adapter = PipelineAdapter(echo)
    assert make_adapter(adapter) is adapter
    assert isinstance(make_adapter(echo), PipelineAdapter)


def test_not_a_pipeline() -> None:
    with pytest.raises(PipelineConfigError) as info:
        PipelineAdapter(42)
    assert str(info.value).startswith(
        "ragprobe_pipeline is an int, which is neither callable nor has any of "
        "answer, retrieve, generate, index."
    )


def test_a_fixture_that_returned_nothing_is_asked_about_its_return() -> None:
    # was "ragprobe_pipeline is a NoneType, which is neither callable nor has any of ..."
    with pytest.raises(PipelineConfigError) as info:
        PipelineAdapter(None)
    assert str(info.value) == (
        "ragprobe_pipeline is None: did the ragprobe_pipeline fixture forget to return (or yield) the pipeline?"
    )
    with pytest.raises(PipelineConfigError, match=r"^the pipeline given to check_reverse is a NoneType, "):
        PipelineAdapter(None, source="check_reverse")


# -- outputs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("plain", Answer("plain")),
        (Answer("obj", documents=(Document("d"),)), Answer("obj", documents=(Document("d"),))),
        ({"text": "t"}, Answer("t")),
        (
            {"answer": "a", "contexts": ["c1", {"text": "c2", "title": "T2"}]},
            Answer("a", documents=(Document("c1"), Document("c2", title="T2"))),
        ),
        (
            Answer("x", documents=["s", {"text": "t"}]),  # type: ignore[list-item]
            Answer("x", documents=(Document("s"), Document("t"))),
        ),
    ],
)
def test_answer_outputs_are_coerced(output: object, expected: Answer) -> None:
    got = run(PipelineAdapter(lambda q: output).answer("q"))
    assert got == expected
    assert all(isinstance(d, Document) for d in got.documents)


@pytest.mark.parametrize(
    ("output", "type_name"),
    [(None, "None (did it return nothing?"), (42, "int: "), (["a"], "list: "), (b"bytes", "bytes: ")],
)
def test_junk_answer_names_pipeline_and_type(output: object, type_name: str) -> None:
    def bad_pipeline(q: str) -> object:
        return output

    with pytest.raises(PipelineOutputError) as info:
        run(PipelineAdapter(bad_pipeline).answer("q"))
    msg = str(info.value)
    ident = f"{__name__}.test_junk_answer_names_pipeline_and_type.<locals>.bad_pipeline"
    assert msg.startswith(f"{ident}.answer: expected str or ragprobe.Answer, got {type_name}")


def test_junk_retrieve_and_generate_outputs() -> None:
    class Bad:
        name = "badrag"

        def retrieve(self, q: str, k: int) -> object:
            return "one string, not a list"

        def generate(self, q: str, docs: list[Document]) -> object:
            return 3.5

    adapter = PipelineAdapter(Bad())
    with pytest.raises(PipelineOutputError) as info:
        run(adapter.retrieve("q", 1))
    assert (
        str(info.value) == "badrag.retrieve: expected a list of documents, got str: 'one string, not a list'"
    )
    with pytest.raises(PipelineOutputError) as info:
        run(adapter.generate("q", []))
    assert str(info.value) == "badrag.generate: expected str or ragprobe.Answer, got float: 3.5"
    with pytest.raises(PipelineOutputError) as info:
        run(adapter.answer("q"))  # composition surfaces the retrieve error too
    assert str(info.value).startswith("badrag.retrieve: ")


def test_junk_document_in_list_names_index() -> None:
    adapter = PipelineAdapter(Pipeline(retrieve=lambda q, k: [Document("ok"), 5], name="p"))
    with pytest.raises(PipelineOutputError) as info:
        run(adapter.retrieve("q", 2))
    assert str(info.value) == (
        "p.retrieve[1]: expected a ragprobe.Document, a dict with 'text' or a str, got int: 5"
    )


def test_answer_dict_without_text() -> None:
    with pytest.raises(PipelineOutputError) as info:
        run(PipelineAdapter(Pipeline(answer=lambda q: {"result": "x"}, name="p")).answer("q"))
    assert str(info.value) == "p.answer: answer dict needs a string 'text' or 'answer', got keys ['result']"


def test_pipeline_exceptions_propagate_unchanged() -> None:
    def broken(q: str) -> str:
        raise RuntimeError("backend down")

    with pytest.raises(RuntimeError, match="backend down"):
        run(PipelineAdapter(broken).answer("q"))


def test_a_generate_written_for_dicts_is_told_it_gets_documents() -> None:
    # An existing reader written for its own retriever's dicts met only "'Document' object is not
    # subscriptable", with no word of where a Document came from.
    class DictReader:
        def retrieve(self, query: str, k: int) -> list[dict[str, str]]:
            return [{"text": "Pump P-200 fits C-17."}]

        def generate(self, question: str, documents: list[dict[str, str]]) -> str:
            return " ".join(d["text"] for d in documents)

        def index(self, documents: list[Any]) -> None:
            documents[0].get("text")

    adapter = PipelineAdapter(DictReader())
    with pytest.raises(TypeError, match="not subscriptable") as info:
        run(adapter.answer("Which controller fits P-200?"))  # retrieve's dicts reach generate as Documents
    assert info.value.__notes__ == [
        "ragprobe hands index() and generate() their documents as ragprobe.Document objects, whatever "
        "retrieve returns (dicts, strings): read doc.text, doc.title, doc.id and doc.metadata, or convert them "
        "with doc.to_dict()"
    ]
    with pytest.raises(AttributeError, match="has no attribute 'get'") as info:
        run(adapter.index([Document("x")]))
    assert info.value.__notes__[0].startswith("ragprobe hands index() and generate() their documents as")

    class Indexing:  # index() keeps the Documents it is handed; retrieve() then reads them as dicts
        def __init__(self) -> None:
            self.pages: list[Any] = []

        def index(self, documents: list[Any]) -> None:
            self.pages.extend(documents)

        def answer(self, question: str) -> str:
            return " ".join(p["text"] for p in self.pages)

    indexing = PipelineAdapter(Indexing())
    run(indexing.index([Document("Pump P-200 fits C-17.")]))
    with pytest.raises(TypeError, match="not subscriptable") as info:
        run(indexing.answer("Which controller fits P-200?"))
    assert info.value.__notes__[0].startswith("ragprobe hands index() and generate() their documents as")
    # other errors are the pipeline's own, left as they are
    with pytest.raises(TypeError) as other:
        run(PipelineAdapter(Pipeline(generate=lambda q, docs: len(q) + "x")).generate("q", []))
    assert not hasattr(other.value, "__notes__")


def test_another_librarys_document_in_an_answer_gets_no_note_of_ragprobes() -> None:
    """An answer() over its own retriever's LangChain Documents ("'Document' object is not subscriptable"
    too) was told that ragprobe hands index() and generate() ragprobe.Document objects: it never had."""

    class LangChainDocument:
        def __init__(self, page_content: str) -> None:
            self.page_content = page_content

    LangChainDocument.__name__ = LangChainDocument.__qualname__ = "Document"  # langchain_core's name

    def answer(question: str) -> str:
        docs: list[Any] = [LangChainDocument("Pump P-200 fits C-17.")]
        return str(docs[0]["page_content"])

    with pytest.raises(TypeError, match="'Document' object is not subscriptable") as info:
        run(PipelineAdapter(answer).answer("Which controller fits P-200?"))
    assert not hasattr(info.value, "__notes__")
    # a ragprobe Document an earlier probe's index() kept, read back as a dict in a later one's adapter
    pages = [Document("Pump P-200 fits C-17.")]

    def reads_back(question: str) -> str:
        return " ".join(p["text"] for p in pages)

    with pytest.raises(TypeError, match="not subscriptable") as info:
        run(PipelineAdapter(reads_back).answer("q"))
    assert info.value.__notes__[0].startswith("ragprobe hands index() and generate() their documents as")


# -- capabilities ------------------------------------------------------------------------------------


def test_capabilities_and_require_messages() -> None:
    adapter = PipelineAdapter(Pipeline(retrieve=lambda q, k: [], name="search-only"))
    assert adapter.capabilities == frozenset({"retrieve"})
    adapter.require("retrieve", "anything")  # present: no error
    with pytest.raises(PipelineConfigError) as info:
        adapter.require("generate", "A position probe", "Add generate(question, documents).")
    assert str(info.value) == (
        "A position probe needs the pipeline's `generate` but search-only only offers: retrieve. "
        "Add generate(question, documents)."
    )
    with pytest.raises(PipelineConfigError) as info:
        run(adapter.answer("q"))
    assert (
        str(info.value)
        == "Asking a question needs the pipeline's `answer` but search-only only offers: retrieve."
    )


def test_require_on_empty_pipeline_says_nothing() -> None:
    adapter = PipelineAdapter(Pipeline(name="empty"))
    assert adapter.capabilities == frozenset()
    with pytest.raises(PipelineConfigError) as info:
        adapter.require("index", "facts='synthetic:N'")
    assert (
        str(info.value) == "facts='synthetic:N' needs the pipeline's `index` but empty only offers: nothing."
    )


# -- describe --------------------------------------------------------------------------------------


def test_describe() -> None:
    assert describe(echo) == f"{__name__}.echo"
    assert describe(SyncRag()) == f"{__name__}.SyncRag"
    assert describe(SyncRag) == f"{__name__}.SyncRag"

    class Versioned:
        name = "my-rag"
        version = "2024-06"

        def answer(self, q: str) -> str:
            return q

    assert describe(Versioned()) == "my-rag@2024-06"
    assert describe(Pipeline(answer=echo, name="named", version="3")) == "named@3"
    assert describe(Pipeline(answer=echo, version="3")) == f"Pipeline(answer={__name__}.echo)@3"


def test_describe_distinguishes_pipeline_compositions() -> None:
    def gen_a(q: str, d: list[Document]) -> str:
        return "a"

    def gen_b(q: str, d: list[Document]) -> str:
        return "b"

    a = PipelineAdapter(Pipeline(retrieve=SyncRag().retrieve, generate=gen_a)).identity
    b = PipelineAdapter(Pipeline(retrieve=SyncRag().retrieve, generate=gen_b)).identity
    assert a != b  # the answer cache is keyed by identity: different pipelines must not share it
    assert a == (
        f"Pipeline(retrieve={__name__}.SyncRag.retrieve, "
        f"generate={__name__}.test_describe_distinguishes_pipeline_compositions.<locals>.gen_a)"
    )


def test_pipeline_cache_identity_fingerprints_its_parts() -> None:
    first = PipelineAdapter(Pipeline(answer=lambda q: "alpha"))
    second = PipelineAdapter(Pipeline(answer=lambda q: "beta"))
    assert first.identity == second.identity  # same qualname '<lambda>' in the same scope
    assert first.cache_identity != second.cache_identity  # ... but different code
    calls_echo = PipelineAdapter(Pipeline(answer=lambda q: echo(q)))  # noqa: PLW0108
    calls_repr = PipelineAdapter(Pipeline(answer=lambda q: repr(q)))  # noqa: PLW0108
    assert calls_echo.cache_identity != calls_repr.cache_identity  # same bytecode, other names
    adapter = PipelineAdapter(Pipeline(answer=echo, version="2"))
    assert adapter.cache_identity == f"Pipeline(answer={describe(echo, fingerprint=True)})@2"
    assert describe(echo, fingerprint=True).startswith(f"{__name__}.echo#")


class Tuned:
    """A pipeline configured by its constructor; it also keeps state as it runs."""

    def __init__(
        self, accuracy: float, *, mode: str = "plain", docs: list[str] | None = None, top: int = 3
    ) -> None:
        self.accuracy = accuracy
        self._mode = mode
        self.docs = docs or []  # a list named like its parameter: configuration
        self.k = top  # named otherwise, but never reassigned after __init__: configuration
        self.calls = 0
        self.seen: list[str] = []
        self.last = ""

    def answer(self, question: str) -> str:
        self.calls += 1
        self.last = question
        self.seen.append(question)
        return f"{self.accuracy}"


def _key(obj: object) -> str:
    return PipelineAdapter(obj).cache_identity


THRESHOLD = 0.5


class CallableReader(Tuned):
    def __call__(self, question: str) -> str:
        return self.answer(question)


READER, OTHER = CallableReader(0.9), CallableReader(0.8)


def test_cache_identity_sees_constructor_arguments_not_running_state() -> None:
    base = _key(Tuned(0.9))
    assert base.startswith(f"{__name__}.Tuned#")
    assert _key(Tuned(0.8)) != base  # another argument: other answers, another key
    assert _key(Tuned(0.9, mode="strict")) != base  # stored as self._mode
    assert _key(Tuned(0.9, docs=["a"])) != _key(Tuned(0.9, docs=["b"]))
    assert _key(Tuned(0.9, top=5)) != base
    used = Tuned(0.9)
    used.answer("q")  # counters, logs and what answer() assigns are running state
    assert (used.calls, used.seen, used.last) == (1, ["q"], "q")
    assert _key(used) == base == _key(Tuned(0.9))
    # a bound method carries its instance's configuration; so does a Pipeline part
    assert _key(Tuned(0.9).answer) != _key(Tuned(0.8).answer)
    assert _key(Pipeline(answer=Tuned(0.9).answer)) != _key(Pipeline(answer=Tuned(0.8).answer))
    # ... and an object a function uses, two levels deep
    low, high = Tuned(0.1), Tuned(0.2)
    assert _key(lambda q: low.answer(q)) != _key(lambda q: high.answer(q))  # noqa: PLW0108
    assert _key(lambda q: READER(q)) != _key(lambda q: OTHER(q))  # noqa: PLW0108  (callable objects)
    # a pipeline that sets `version` owns its identity: volatile settings (a temp dir made in
    # __init__) then cannot cost it its cached answers on every run
    class Owned(Tuned):
        version = "1"

    assert _key(Owned(0.9)) == _key(Owned(0.8)) != _key(Tuned(0.9))
    assert _key(Pipeline(answer=Tuned(0.9).answer, version="1")) == _key(
        Pipeline(answer=Tuned(0.8).answer, version="1")
    )


@dataclasses.dataclass
class Passage:
    text: str


class Record:
    def __init__(self, text: str) -> None:
        self.text = text


class Client:  # not data: holds a callable
    def __init__(self, text: str) -> None:
        self.text = text
        self.send = print


def test_cache_identity_sees_a_corpus_of_records_and_a_big_corpus() -> None:
    """A corpus held as ragprobe Documents, dataclasses or plain records counted for nothing, and one of more
    than 100,000 items by its length: an edited corpus replayed stale answers."""
    for make in (Document, Passage, Record):
        one = _key(Tuned(0.9, docs=[make("Pump P-1 fits C-1.")]))  # type: ignore[list-item]
        assert one != _key(Tuned(0.9, docs=[make("Pump P-1 fits C-2.")]))  # type: ignore[list-item]
        assert one == _key(Tuned(0.9, docs=[make("Pump P-1 fits C-1.")]))  # type: ignore[list-item]
    # a list of objects that are not data is left out, as before
    assert _key(Tuned(0.9, docs=[Client("a")])) == _key(Tuned(0.9, docs=[Client("b")]))  # type: ignore[list-item]
    big = [{"id": f"d{i}", "text": f"Filler page {i}."} for i in range(60_000)]
    edited = [*big[:1], {"id": "d1", "text": "Filler page one."}, *big[2:]]
    assert _key(Tuned(0.9, docs=big)) != _key(Tuned(0.9, docs=edited))  # type: ignore[arg-type]
    assert _key(Tuned(0.9, docs=big)) == _key(Tuned(0.9, docs=list(big)))  # type: ignore[arg-type]


def test_cache_identity_sees_closures_defaults_partials_and_globals_a_function_reads() -> None:
    def make(accuracy: float) -> Any:
        calls = 0

        def answer(question: str) -> str:
            nonlocal calls  # assigned by the function: state, not configuration
            calls += 1
            return f"{accuracy} {THRESHOLD}"

        return answer

    assert _key(make(0.9)) != _key(make(0.8))
    first = make(0.9)
    before = _key(first)
    first("q")
    assert _key(first) == before == _key(make(0.9))

    def with_default(question: str, k: int = 3) -> str:
        return question * k

    def with_other_default(question: str, k: int = 4) -> str:
        return question * k

    with_other_default.__code__ = with_default.__code__  # same code, other default
    assert _key(with_default) != _key(with_other_default)

    def scored(question: str, *, accuracy: float) -> str:
        return f"{accuracy}"

    a, b = functools.partial(scored, accuracy=0.9), functools.partial(scored, accuracy=0.8)
    assert PipelineAdapter(a).identity == f"partial({describe(scored)})"
    assert _key(a) != _key(b)
    assert _key(functools.partial(scored, accuracy=0.9)) == _key(a)

    def reads_global(question: str) -> str:
        return f"{question} {THRESHOLD}"

    before = _key(reads_global)
    global THRESHOLD
    THRESHOLD = 0.7
    try:
        assert _key(reads_global) != before  # a module constant it reads changed
    finally:
        THRESHOLD = 0.5
    assert _key(reads_global) == before


def test_cache_identity_of_a_mock_is_what_it_returns() -> None:
    assert _key(mock.Mock(return_value="C-1")) != _key(mock.Mock(return_value="C-2"))
    assert _key(mock.Mock(side_effect=lambda q: "A")) != _key(mock.Mock(side_effect=lambda q: "B"))
    for double in (mock.Mock(return_value="C-1"), mock.MagicMock(), mock.Mock(side_effect=str.upper)):
        before = _key(double)
        double("q")  # call records and lazily made children are not configuration
        assert _key(double) == before


def test_cache_identity_survives_objects_that_misbehave_when_inspected() -> None:
    class Proxy:
        def __init__(self) -> None:
            self.target = "x"

        def __getattribute__(self, name: str) -> Any:
            if name == "__dict__":
                raise RuntimeError("lazy proxy: not loaded")
            return object.__getattribute__(self, name)

        def answer(self, question: str) -> str:
            return question

    assert _key(Proxy()).startswith(f"{__name__}.")  # code only, no crash


def test_cache_identity_of_the_adapters_is_their_name_and_version() -> None:
    # HTTPPipeline names itself by URL (+ version); headers and timeouts do not change answers.
    plain = _key(ragprobe.HTTPPipeline("http://127.0.0.1:9/"))
    assert plain == _key(ragprobe.HTTPPipeline("http://127.0.0.1:9/", headers={"Authorization": "x"}, timeout=3))
    assert plain != _key(ragprobe.HTTPPipeline("http://127.0.0.1:9/", version="2"))


# -- load_pipeline_spec ----------------------------------------------------------------------------


@pytest.fixture
def pipeline_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"ragprobe_test_pipes_{abs(hash(str(tmp_path)))}"
    pkg = tmp_path / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "rag.py").write_text(
        textwrap.dedent(
            """
            from pytest_ragprobe.pipeline import factory

            def pipeline(question):
                return "answer to " + question

            class Rag:
                instances = 0

                def __init__(self):
                    type(self).instances += 1

                def answer(self, question):
                    return "rag"

            @factory
            def build():
                return Rag()

            class Holder:
                inner = staticmethod(pipeline)

            raise_on_import = False
            """
        )
    )
    (pkg / "broken.py").write_text("import not_a_module_anywhere_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[mod]


def test_load_function_attribute(pipeline_module: str) -> None:
    target = load_pipeline_spec(f"{pipeline_module}.rag:pipeline")
    assert callable(target)
    assert run(PipelineAdapter(target).answer("q")) == Answer("answer to q")


def test_load_class_is_instantiated(pipeline_module: str) -> None:
    target = load_pipeline_spec(f"{pipeline_module}.rag:Rag")
    mod = sys.modules[f"{pipeline_module}.rag"]
    assert isinstance(target, mod.Rag)
    assert mod.Rag.instances == 1


def test_load_factory_is_called(pipeline_module: str) -> None:
    target = load_pipeline_spec(f"{pipeline_module}.rag:build")
    assert type(target).__name__ == "Rag"


def test_load_dotted_attribute(pipeline_module: str) -> None:
    target = load_pipeline_spec(f"{pipeline_module}.rag:Holder.inner")
    assert run(PipelineAdapter(target).answer("x")) == Answer("answer to x")


@pytest.mark.parametrize("spec", ["no_colon_here", ":attr", "module:", ""])
def test_load_bad_format(spec: str) -> None:
    with pytest.raises(PipelineConfigError) as info:
        load_pipeline_spec(spec)
    assert str(info.value) == (
        f"--ragprobe-pipeline={spec!r}: expected 'package.module:attribute', e.g. 'myapp.rag:pipeline'"
    )


def test_a_module_without_its_attribute_is_told_to_name_it(pipeline_module: str) -> None:
    # was "(did you mean '<package>:rag'?)": the module taken for the attribute
    with pytest.raises(PipelineConfigError) as info:
        load_pipeline_spec(f"{pipeline_module}.rag")
    assert str(info.value).endswith(
        f"expected 'package.module:attribute', e.g. 'myapp.rag:pipeline' ('{pipeline_module}.rag' is a module: "
        f"name the pipeline in it, '{pipeline_module}.rag:<attribute>')"
    )
    with pytest.raises(PipelineConfigError, match=rf"\(did you mean '{pipeline_module}\.rag:build'\?\)$"):
        load_pipeline_spec(f"{pipeline_module}.rag.build")


def test_load_missing_module() -> None:
    with pytest.raises(PipelineConfigError) as info:
        load_pipeline_spec("no_such_module_ragprobe_xyz.rag:pipeline")
    assert str(info.value).startswith(
        "--ragprobe-pipeline='no_such_module_ragprobe_xyz.rag:pipeline': cannot import "
        "'no_such_module_ragprobe_xyz.rag': No module named 'no_such_module_ragprobe_xyz'"
    )


def test_load_module_with_failing_import(pipeline_module: str) -> None:
    with pytest.raises(
        PipelineConfigError, match=r"cannot import '.*\.broken': No module named 'not_a_module"
    ):
        load_pipeline_spec(f"{pipeline_module}.broken:x")


def test_load_missing_attribute(pipeline_module: str) -> None:
    spec = f"{pipeline_module}.rag:Holder.missing"
    with pytest.raises(PipelineConfigError) as info:
        load_pipeline_spec(spec)
    assert str(info.value) == (
        f"--ragprobe-pipeline={spec!r}: module '{pipeline_module}.rag' has no attribute 'Holder.missing'"
    )


def test_factory_marks_function() -> None:
    def f() -> int:
        return 1

    assert factory(f) is f
    assert f.__ragprobe_factory__ is True  # type: ignore[attr-defined]


def test_pipeline_field_given_an_object_with_that_method_uses_the_method() -> None:
    """`ragprobe.Pipeline(generate=OpenAIGenerator(...))`, as OpenAIGenerator's docstring shows: the object
    is not callable; its .generate is meant (it failed on every call with 'the first argument must be
    callable')."""

    class Reader:
        def generate(self, question: str, documents: list[Document]) -> str:
            return f"read {len(documents)}"

    adapter = PipelineAdapter(ragprobe.Pipeline(generate=Reader()))
    assert adapter.capabilities == frozenset({"generate"})
    assert run(adapter.generate("q", [Document("d")])) == "read 1"
    with pytest.raises(PipelineConfigError, match=r"Pipeline\(retrieve=\.\.\.\) got a Reader, which is neither"):
        PipelineAdapter(ragprobe.Pipeline(retrieve=Reader()))  # type: ignore[arg-type]


# -- cache identity: process-independent, sees templates, helpers, parameters, dict configuration ----


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Load (and reload) a module of the user's own from source, as a file outside site-packages."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # same-size rewrites must not load stale .pyc
    loaded: set[str] = set()

    def load(name: str, source: str) -> Any:
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loaded.add(name)
        spec.loader.exec_module(module)
        return module

    yield load
    for name in loaded:
        sys.modules.pop(name, None)


SET_LITERALS = """
class Stopper:
    KEEP = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}

    def answer(self, q):
        return " ".join(w for w in q.split() if w not in {"the", "a", "an", "of", "to", "in"})

def answer(q):
    words = [w for w in q.split() if w.lower() not in {"the", "a", "an", "of", "to", "in"}]
    return " ".join(w for w in words if (w, 1) not in {("x", 1), ("y", 1), ("z", 1)})
"""


def test_cache_identity_is_the_same_in_every_process(tmp_path: Path) -> None:
    """A set literal compiles to a frozenset constant whose repr order follows PYTHONHASHSEED: the
    identity must not, or no run (and no xdist worker) ever hits another one's answers."""
    (tmp_path / "stopwords_rag.py").write_text(SET_LITERALS)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import stopwords_rag as m\n"
        "from pytest_ragprobe.pipeline import describe\n"
        "print(describe(m.answer, fingerprint=True), describe(m.Stopper(), fingerprint=True))\n"
    )
    seen = set()
    for seed in ("0", "1", "2", "3", "4"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONDONTWRITEBYTECODE": "1"}
        out = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path)],
            env=env, cwd=tmp_path, capture_output=True, text=True, check=True,
        )
        seen.add(out.stdout.strip())
    assert len(seen) == 1
    (identity,) = seen
    assert identity.startswith("stopwords_rag.answer#") and " stopwords_rag.Stopper#" in identity


TEMPLATED = """
TEMPLATE = "{template}"

def fmt(x):
    return "{fmt}" + x

def answer(q):
    return fmt(q)

class Rag:
    PROMPT = "{prompt}"

    def __init__(self, top_k=3):
        self.top_k = top_k
        self.calls = 0

    def answer(self, q):
        self.calls += 1
        return self.PROMPT.format(q=q) + TEMPLATE.format(x=q) + self.tail(q)

    def tail(self, q):
        return "{tail}"
"""


def test_cache_identity_sees_prompt_templates_and_helpers_it_uses(user_module: Any) -> None:
    """Editing a prompt template (a class attribute, a module constant a method reads) or a helper
    the pipeline calls (a module-level function, another method of a bound method's object) changes
    answers: the key must change with it, or the run replays stale answers (wrong verdicts)."""
    base = {"template": "T {x}", "fmt": "A: ", "prompt": "P {q}", "tail": "."}

    def keys(**change: str) -> dict[str, str]:
        mod = user_module("templated_rag", TEMPLATED.format(**{**base, **change}))
        rag = mod.Rag()
        return {
            "function": _key(mod.answer),
            "object": _key(rag),
            "bound": _key(Pipeline(answer=rag.answer)),
        }

    first = keys()
    assert keys() == first  # the same source again: the same keys
    assert keys(fmt="B: ")["function"] != first["function"]  # a helper's code
    assert keys(prompt="Q {q}")["object"] != first["object"]  # self.PROMPT
    assert keys(template="U {x}")["object"] != first["object"]  # a module constant a method reads
    assert keys(tail="!")["bound"] != first["bound"]  # self.tail() of a bound method's object
    mod = user_module("templated_rag", TEMPLATED.format(**base))
    used = mod.Rag()
    used.answer("q")  # running state still does not count
    assert _key(used) == first["object"]


class Resizable:
    def __init__(self, top_k: int = 3) -> None:
        self.top_k = top_k
        self.calls = 0

    def set_top_k(self, k: int) -> None:
        self.top_k = k

    def answer(self, question: str) -> str:
        self.calls += 1
        return question * self.top_k


def test_cache_identity_keeps_constructor_parameters_a_method_reassigns() -> None:
    """MyRag(top_k=3) and MyRag(top_k=10) answer differently even if set_top_k() exists."""
    assert _key(Resizable(3)) != _key(Resizable(10))
    rag = Resizable(3)
    rag.answer("q")  # self.calls, reassigned by a method and no parameter: running state
    assert _key(rag) == _key(Resizable(3))


SETTINGS = {"mode": "good"}
MEMO: dict[str, str] = {}


def test_cache_identity_sees_dict_configuration_not_memo_tables() -> None:
    """Lists, dicts and sets in closures, defaults and globals are configuration, unless the function
    changes them in place (call logs, memo tables: their growth must not change the key)."""

    def make_cfg(cfg: dict[str, str]) -> Any:
        memo: dict[str, str] = {}
        log: list[str] = []

        def answer(question: str) -> str:
            log.append(question)
            if question not in memo:
                memo[question] = question if cfg["mode"] == "good" else "dunno"
            return memo[question]

        return answer

    assert _key(make_cfg({"mode": "good"})) != _key(make_cfg({"mode": "bad"}))
    pipe = make_cfg({"mode": "good"})
    pipe("q")
    assert _key(pipe) == _key(make_cfg({"mode": "good"}))  # memo and log grew: same key

    def with_defaults(question: str, opts: dict[str, int] = {"k": 3}, seen: list[str] = []) -> str:  # noqa: B006
        seen.append(question)
        return question * opts["k"]

    def with_other_defaults(question: str, opts: dict[str, int] = {"k": 4}, seen: list[str] = []) -> str:  # noqa: B006
        return question

    with_other_defaults.__code__ = with_defaults.__code__
    before = _key(with_defaults)
    assert _key(with_other_defaults) != before
    with_defaults("q")
    assert _key(with_defaults) == before  # `seen` is appended to: state

    def reads_settings(question: str) -> str:
        MEMO[question] = SETTINGS["mode"]
        return MEMO[question]

    before = _key(reads_settings)
    reads_settings("q")
    assert _key(reads_settings) == before  # MEMO is changed in place by the function
    SETTINGS["mode"] = "bad"
    try:
        assert _key(reads_settings) != before  # a dict constant it reads
    finally:
        SETTINGS["mode"] = "good"
        MEMO.clear()


@pytest.mark.parametrize(
    ("spec", "hint"),
    [
        ("myrag.make_good", "(did you mean 'myrag:make_good'?)"),
        ("app.rag.pipe", "(did you mean 'app.rag:pipe'?)"),
        ("rag.py", "(a file path? name its module and the pipeline in it: 'rag:<attribute>')"),  # not 'rag:py'
        ("src/app/rag.py", "(a file path? name its module and the pipeline in it: 'rag:<attribute>')"),
    ],
)
def test_a_dotted_spec_or_a_file_gets_the_colon_form_suggested(spec: str, hint: str) -> None:
    with pytest.raises(PipelineConfigError) as info:
        load_pipeline_spec(spec)
    assert str(info.value).endswith(f"e.g. 'myapp.rag:pipeline' {hint}")


def test_articles_follow_how_a_word_is_said() -> None:
    # Was: "is a HTTPPipeline, which is neither callable nor ..."
    from pytest_ragprobe.pipeline import _a

    assert [_a(w) for w in ("HTTPPipeline", "URL", "answer", "dict", "NoneType", "int", "SQLStore")] == [
        "an HTTPPipeline", "a URL", "an answer", "a dict", "a NoneType", "an int", "an SQLStore",
    ]


class Node:
    def __init__(self) -> None:
        self.parent: Node | None = None
        self.kids: list[Node] = []


class TreeRag:
    def __init__(self, top_k: int) -> None:
        self.top_k = top_k
        root, leaf = Node(), Node()
        leaf.parent = root
        root.kids.append(leaf)
        self.nodes = [root, leaf]  # records that refer to each other

    def answer(self, question: str) -> str:
        return question


def test_records_that_refer_to_each_other_cost_no_other_configuration() -> None:
    """Keying records inside a list recursed without end on a cycle (parent / child pointers): the
    RecursionError dropped the whole configuration, so TreeRag(3) and TreeRag(10) shared answers."""
    assert _key(TreeRag(3)) != _key(TreeRag(10))
    assert _key(TreeRag(3)) == _key(TreeRag(3))


def test_a_pipeline_that_writes_into_document_metadata_does_not_change_the_probes_documents() -> None:
    """A data file's documents are parsed once per process and shared by every probe on it (and keyed into the
    answer cache): a generate() / index() that notes a score in doc.metadata changed them for every later
    call and probe."""
    from pytest_ragprobe.pipeline import make_adapter
    from pytest_ragprobe.types import Document

    class Noting:
        def generate(self, question: str, documents: list[Document]) -> str:
            for d in documents:
                d.metadata["score"] = 0.5  # type: ignore[index]
            return "x"

        def index(self, documents: list[Document]) -> None:
            documents[0].metadata["indexed"] = True  # type: ignore[index]

    docs = [Document("a", title="A", metadata={"src": "qa.jsonl"}), Document("b")]
    adapter = make_adapter(Noting())
    assert asyncio.run(adapter.generate("q?", docs)) == "x"
    asyncio.run(adapter.index(docs))
    assert [d.metadata for d in docs] == [{"src": "qa.jsonl"}, {}]


def test_require_does_not_list_the_answer_ragprobe_composes_as_the_pipelines_own() -> None:
    """Was: "... needs the pipeline's `index` but rg only offers: answer, generate, retrieve": the answer
    is only composed by ragprobe from retrieve + generate."""
    adapter = PipelineAdapter(Pipeline(retrieve=lambda q, k: [], generate=lambda q, d: "x", name="rg"))
    assert "answer" in adapter.capabilities
    with pytest.raises(PipelineConfigError) as info:
        adapter.require("index", "facts='synthetic:N'")
    assert str(info.value).startswith(
        "facts='synthetic:N' needs the pipeline's `index` but rg only offers: generate, retrieve (ragprobe "
        "answers with retrieve, then generate)."
    )
