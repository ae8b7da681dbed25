"""types.py: Document / Answer and the coercion of pipeline outputs."""

from __future__ import annotations

import dataclasses

import pytest

import pytest_ragprobe as ragprobe
from pytest_ragprobe.types import Answer, Document, PipelineOutputError, to_answer, to_document, to_documents


def test_public_names() -> None:
    assert ragprobe.Document is Document
    assert ragprobe.Answer is Answer
    assert issubclass(PipelineOutputError, TypeError)


def test_document_defaults_render_and_dict() -> None:
    doc = Document("Pump P-200 fits C-17.")
    assert (doc.text, doc.title, doc.id, dict(doc.metadata)) == ("Pump P-200 fits C-17.", "", None, {})
    assert doc.render() == "Pump P-200 fits C-17."
    titled = Document("fits C-17", title="P-200", id="d1", metadata={"page": 3})
    assert titled.render() == "P-200: fits C-17"
    assert titled.to_dict() == {"text": "fits C-17", "title": "P-200", "id": "d1", "metadata": {"page": 3}}


def test_document_is_frozen_and_hashable_despite_metadata() -> None:
    doc = Document("t", metadata={"k": [1]})
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.text = "x"  # type: ignore[misc]
    assert hash(doc) == hash(Document("t", metadata={"other": 1}))
    assert len({Document("a"), Document("a"), Document("b")}) == 2
    assert Document("a", metadata={"x": 1}) != Document("a")


def test_answer_defaults_and_dict() -> None:
    assert Answer("x").documents == ()
    ans = Answer("C-17", documents=(Document("d", title="T"),))
    assert ans.to_dict() == {
        "text": "C-17",
        "documents": [{"text": "d", "title": "T", "id": None, "metadata": {}}],
    }


def test_to_document_shapes() -> None:
    doc = Document("same")
    assert to_document(doc) is doc
    assert to_document("plain") == Document("plain")
    assert to_document({"text": "t", "title": "T", "id": 5, "metadata": {"a": 1}}) == Document(
        "t", title="T", id="5", metadata={"a": 1}
    )
    # LangChain / LlamaIndex style keys
    assert to_document({"page_content": "pc", "metadata": None}) == Document("pc")
    assert to_document({"content": "c", "title": None}) == Document("c")


def test_to_document_errors() -> None:
    with pytest.raises(PipelineOutputError) as info:
        to_document({"body": "x"}, where="rag.retrieve[0]")
    assert str(info.value) == "rag.retrieve[0]: document dict needs a string 'text' field, got keys ['body']"
    # a dict with its text field, of the wrong type: "got keys ['text']" did not say what was wrong
    with pytest.raises(PipelineOutputError) as info:
        to_document({"text": None, "title": "T"}, where="rag.retrieve[0]")
    assert str(info.value) == (
        "rag.retrieve[0]: document dict: its 'text' must be a str, got None (a search hit without its text? "
        "leave it out, or fetch its text)"
    )
    with pytest.raises(PipelineOutputError) as info:
        to_document({"page_content": b"x"}, where="w")
    assert str(info.value) == "w: document dict: its 'page_content' must be a str, got bytes: b'x' (decode it to a str)"
    with pytest.raises(PipelineOutputError) as info:
        to_document({"text": "x", "metadata": [1]}, where="w")
    assert str(info.value) == "w: document 'metadata' must be a mapping"
    with pytest.raises(PipelineOutputError) as info:
        to_document(12, where="w")
    assert str(info.value) == "w: expected a ragprobe.Document, a dict with 'text' or a str, got int: 12"


def test_to_document_error_value_is_truncated() -> None:
    with pytest.raises(PipelineOutputError) as info:
        to_document(list(range(1000)), where="w")
    assert len(str(info.value)) < 200


def test_to_documents() -> None:
    assert to_documents([]) == []
    assert to_documents(("a", {"text": "b"})) == [Document("a"), Document("b")]
    with pytest.raises(PipelineOutputError, match=r"^w: expected a list of documents, got str: 'abc'$"):
        to_documents("abc", where="w")
    with pytest.raises(PipelineOutputError, match=r"^w: expected a list of documents, got None$"):
        to_documents(None, where="w")
    with pytest.raises(PipelineOutputError, match=r"^w\[2\]: expected a ragprobe\.Document"):
        to_documents(["a", "b", 3], where="w")


def test_to_answer_shapes() -> None:
    ans = Answer("x", documents=(Document("d"),))
    assert to_answer(ans) is ans
    assert to_answer("txt") == Answer("txt")
    assert to_answer({"text": "t", "documents": ["d1"]}) == Answer("t", documents=(Document("d1"),))
    assert to_answer({"answer": "a", "contexts": [{"text": "c"}]}) == Answer("a", documents=(Document("c"),))
    assert to_answer({"text": "t", "documents": None}) == Answer("t")
    # what it retrieved, said or not: an explicit empty list is "nothing retrieved"
    assert not Answer("x").reports_documents and not to_answer("txt").reports_documents
    assert not to_answer({"text": "t"}).reports_documents
    assert not to_answer({"text": "t", "documents": None}).reports_documents
    assert Answer("x", documents=[]).reports_documents and to_answer(Answer("x", documents=[])).reports_documents
    assert to_answer({"text": "t", "contexts": []}).reports_documents
    # and they print apart: both read "documents=()"
    assert repr(Answer("x")) == "Answer(text='x', documents=<not reported>)"
    assert repr(Answer("x", documents=[])) == "Answer(text='x', documents=[])"
    got = to_answer({"text": "t", "documents": ["d"]})
    assert isinstance(got.documents, tuple)


def test_to_answer_coerces_documents_inside_an_answer() -> None:
    got = to_answer(Answer("t", documents=["s", {"text": "u", "title": "U"}]))  # type: ignore[list-item]
    assert got == Answer("t", documents=(Document("s"), Document("u", title="U")))
    assert to_answer(Answer("t", documents=[Document("d")])) == Answer("t", documents=(Document("d"),))
    # refused when built (test_api_inputs_unit), and by to_answer when a subclass skips that check
    with pytest.raises(PipelineOutputError, match=r"^p\.documents\[0\]: expected a ragprobe\.Document"):
        to_answer(_LaxAnswer("t", documents=[1]), where="p")  # type: ignore[list-item]
    with pytest.raises(PipelineOutputError, match=r"^p: ragprobe\.Answer\.text must be a str, got NoneType$"):
        to_answer(_LaxAnswer(None), where="p")  # type: ignore[arg-type]


class _LaxAnswer(Answer):
    def __post_init__(self) -> None:  # a subclass that skips the check
        pass


def test_to_answer_errors() -> None:
    with pytest.raises(PipelineOutputError) as info:
        to_answer({"text": 3}, where="p.answer")
    assert str(info.value) == (
        "p.answer: answer dict needs a string 'text' or 'answer', got keys ['text'] ('text' is int)"
    )
    with pytest.raises(PipelineOutputError) as info:
        to_answer(None, where="p.answer")
    assert str(info.value) == (
        "p.answer: expected str or ragprobe.Answer, got None (did it return nothing? a function that ends "
        "without `return` gives None)"
    )
    with pytest.raises(
        PipelineOutputError, match=r"^p\.answer\.documents: expected a list of documents, got int"
    ):
        to_answer({"text": "t", "documents": 5}, where="p.answer")
