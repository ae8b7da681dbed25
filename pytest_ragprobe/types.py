"""Plain value types shared by every layer: documents and answers.

Stdlib only, so the plugin's import path stays light.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar


class PipelineOutputError(TypeError):
    """The pipeline returned something that is not a documented answer or document shape.

    ``cause``, when set, is the message without the per-call value (the returned repr differs from
    question to question): the engine groups failed calls by it and fail-fast compares it."""

    cause: str | None = None

    def __init__(self, message: str, cause: str | None = None) -> None:
        super().__init__(message)
        if cause is not None:
            self.cause = cause


@dataclass(frozen=True)
class Document:
    """One retrievable passage. ``metadata`` is free-form; ``id`` is optional but helps attribution."""

    text: str
    title: str = ""
    id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Checked here, at the user's line: a None text otherwise fails much later, in scoring, as
        # "normalize() argument 2 must be str", or renders as "title: None" to the reader.
        if not isinstance(self.text, str):
            raise TypeError(
                f"ragprobe.Document text must be a str, got {type(self.text).__name__}: {self.text!r:.60}"
            )

    def render(self) -> str:
        """The passage as a reader sees it: ``title: text`` (or just text)."""
        return f"{self.title}: {self.text}" if self.title else self.text

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "title": self.title, "id": self.id, "metadata": dict(self.metadata)}

    def __hash__(self) -> int:
        return hash((self.text, self.title, self.id))


class _Unreported(tuple):  # type: ignore[type-arg]
    """Answer.documents when the pipeline did not say what it retrieved: empty like (), but told apart
    from an explicit ``documents=[]`` (it retrieved nothing: a retrieval miss)."""

    __slots__ = ()


NOT_REPORTED: Sequence[Document] = _Unreported()


@dataclass(frozen=True)
class Answer:
    """A pipeline's answer, optionally with the documents it retrieved (enables miss attribution)."""

    text: str
    documents: Sequence[Document] = NOT_REPORTED

    @property
    def reports_documents(self) -> bool:
        """True when the pipeline said what it retrieved, even nothing (``documents=[]``)."""
        return not isinstance(self.documents, _Unreported)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "documents": [d.to_dict() for d in self.documents]}


def to_document(value: object, *, where: str = "pipeline") -> Document:
    """Accept a Document, a dict with Document's keys, or a plain string."""
    if isinstance(value, Document):
        if not isinstance(value.text, str):  # a subclass that skips the check in __post_init__
            raise PipelineOutputError(
                f"{where}: ragprobe.Document needs a string text, got {type(value.text).__name__}"
            )
        return value
    if isinstance(value, str):
        return Document(text=value)
    if isinstance(value, Mapping):
        text = value.get("text", value.get("page_content", value.get("content")))
        if not isinstance(text, str):
            raise PipelineOutputError(
                f"{where}: document dict needs a string 'text' field, got keys {sorted(value)}"
            )
        raw_id = value.get("id")
        meta = value.get("metadata") or {}
        if not isinstance(meta, Mapping):
            raise PipelineOutputError(f"{where}: document 'metadata' must be a mapping")
        return Document(
            text=text,
            title=str(value.get("title") or ""),
            id=None if raw_id is None else str(raw_id),
            metadata=dict(meta),
        )
    expected = "expected a ragprobe.Document, a dict with 'text' or a str"
    raise _wrong_type(where, expected, value, _DOCUMENT_HINTS, "give ragprobe.Document(that) or a dict")


def to_documents(values: object, *, where: str = "pipeline") -> list[Document]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise _wrong_type(where, "expected a list of documents", values, _DOCUMENTS_HINTS)
    return [to_document(v, where=f"{where}[{i}]") for i, v in enumerate(values)]


def to_answer(value: object, *, where: str = "pipeline") -> Answer:
    """Accept an Answer, a str, or a dict ``{"text"|"answer": str, "documents": [...]}``."""
    if isinstance(value, Answer):
        if not isinstance(value.text, str):
            raise PipelineOutputError(
                f"{where}: ragprobe.Answer.text must be a str, got {type(value.text).__name__}"
            )
        given: object = value.documents
        if given is None:  # Answer(text, documents=None): not said, like a dict's "documents": null
            return Answer(text=value.text)
        if isinstance(value.documents, tuple) and all(
            isinstance(d, Document) and isinstance(d.text, str) for d in value.documents
        ):
            return value
        # Answer(text, documents=[...]) may carry dicts or strings too; coerce them like any documents.
        docs = to_documents(value.documents, where=f"{where}.documents")
        return Answer(text=value.text, documents=tuple(docs))
    if isinstance(value, str):
        return Answer(text=value)
    if isinstance(value, Mapping):
        error = reported_error(value)
        if error is not None:  # {"answer": "", "error": "..."} is a failed call, not an empty answer to score
            raise PipelineOutputError(
                f"{where}: the answer dict reports an error: {error[:300]!r}",
                f"{where}: the answer dict reports an error: {one_line(error)!r}",
            )
        text = value.get("text", value.get("answer"))
        if not isinstance(text, str):
            key = "text" if "text" in value else "answer" if "answer" in value else None
            wrong = "" if key is None else f" ({key!r} is {type(value[key]).__name__})"
            raise PipelineOutputError(
                f"{where}: answer dict needs a string 'text' or 'answer', got keys {sorted(value)}{wrong}"
            )
        key = "documents" if "documents" in value else "contexts" if "contexts" in value else None
        if key is None:
            return Answer(text=text)
        if value[key] is None:
            return Answer(text=text)
        docs = value[key]
        return Answer(text=text, documents=tuple(to_documents(docs, where=f"{where}.{key}")))
    raise _wrong_type(where, "expected str or ragprobe.Answer", value, _ANSWER_HINTS)


def reported_error(value: Mapping[Any, Any]) -> str | None:
    """The text of a non-empty ``error`` field (a string, or an object/list such as OpenAI's
    ``{"error": {"message": ...}}``) in a pipeline's or service's reply, else None."""
    error = value.get("error")
    if isinstance(error, str) and error.strip():
        return error.strip()
    if isinstance(error, Mapping) and error:
        message = error.get("message")
        return message if isinstance(message, str) and message else repr(dict(error))
    if isinstance(error, list) and error:
        return repr(error)
    return None


def one_line(text: str, limit: int = 60) -> str:
    """``text`` on one line, clipped: short enough that calls failing with the same text group together."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# What a common wrong value most likely is, and what to return instead: (test, hint).
_ANSWER_HINTS: tuple[tuple[Callable[[object], bool], str], ...] = (
    (
        lambda v: isinstance(v, tuple) and len(v) == 2,
        "an (answer, documents) pair? return ragprobe.Answer(answer, documents=docs)",
    ),
    (lambda v: inspect.isgenerator(v) or inspect.isasyncgen(v), "a token stream? return the joined str"),
    (lambda v: isinstance(v, (bytes, bytearray)), "decode it to a str"),
)
_DOCUMENT_HINTS: tuple[tuple[Callable[[object], bool], str], ...] = (
    (lambda v: isinstance(v, tuple) and len(v) == 2, "a (document, score) pair? give the document only"),
)
_DOCUMENTS_HINTS: tuple[tuple[Callable[[object], bool], str], ...] = (
    (lambda v: getattr(v, "ndim", None) == 1 and hasattr(v, "tolist"), "an array? give its .tolist()"),
    (lambda v: inspect.isgenerator(v) or inspect.isasyncgen(v), "a generator? give a list"),
)
# Text-holding attributes of other frameworks' objects (LangChain's AIMessage.content and
# Document.page_content, LlamaIndex's Response.response, pydantic models with an answer field).
_TEXT_ATTRIBUTES = ("content", "text", "page_content", "response", "answer", "result", "output")


def _wrong_type(
    where: str,
    expected: str,
    value: object,
    hints: tuple[tuple[Callable[[object], bool], str], ...],
    use_text: str = "return that",
) -> PipelineOutputError:
    """The error for a value of the wrong type. Its ``cause`` names the type (and what to do) but
    not the value, so calls that all return, say, a tuple group as one cause and trip fail-fast."""
    hint = next((text for test, text in hints if test(value)), "")
    if not hint and not isinstance(value, (str, bytes, Mapping, Sequence)) and value is not None:
        for attr in _TEXT_ATTRIBUTES:
            try:
                held = getattr(value, attr, None)
            except Exception:  # an odd property: no hint, never a crash
                held = None
            if isinstance(held, str):
                hint = f"its .{attr} is a str: {use_text}"
                break
    hint = f" ({hint})" if hint else ""
    kind = type(value).__name__
    return PipelineOutputError(
        f"{where}: {expected}, got {kind}: {value!r:.80}{hint}", f"{where}: {expected}, got {kind}{hint}"
    )


_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once at import: os.umask can only be read by setting it


def atomic_write(path: Path, text: str) -> None:
    """Write via a temp file + rename, so a crash or a concurrent reader never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:16]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; reports are meant to be shared like any file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_K = TypeVar("_K")


class TextMemo(Generic[_K]):
    """Strings derived from hashable keys (a document's normalised text, its key JSON), kept until they
    hold ``limit`` characters (keys and values), then emptied: recomputing is always correct."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._data: dict[_K, str] = {}
        self._chars = 0

    def get(self, key: _K) -> str | None:
        return self._data.get(key)

    def put(self, key: _K, value: str, size: int) -> None:
        """Keep ``value`` for ``key``; ``size``: the characters it holds, key included."""
        if self._chars + size > self.limit:
            self.clear()
        self._data[key] = value
        self._chars += size

    def clear(self) -> None:
        self._data.clear()
        self._chars = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def chars(self) -> int:
        return self._chars

