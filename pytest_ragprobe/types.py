"""Plain value types shared by every layer: documents and answers.

Stdlib only, so the plugin's import path stays light.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar


class PipelineOutputError(TypeError):
    """The pipeline returned something that is not a documented answer or document shape."""


@dataclass(frozen=True)
class Document:
    """One retrievable passage. ``metadata`` is free-form; ``id`` is optional but helps attribution."""

    text: str
    title: str = ""
    id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

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
    raise PipelineOutputError(
        f"{where}: expected a ragprobe.Document, a dict with 'text' or a str, "
        f"got {type(value).__name__}: {value!r:.80}"
    )


def to_documents(values: object, *, where: str = "pipeline") -> list[Document]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise PipelineOutputError(
            f"{where}: expected a list of documents, got {type(values).__name__}: {values!r:.80}"
        )
    return [to_document(v, where=f"{where}[{i}]") for i, v in enumerate(values)]


def to_answer(value: object, *, where: str = "pipeline") -> Answer:
    """Accept an Answer, a str, or a dict ``{"text"|"answer": str, "documents": [...]}``."""
    if isinstance(value, Answer):
        if not isinstance(value.text, str):
            raise PipelineOutputError(
                f"{where}: ragprobe.Answer.text must be a str, got {type(value.text).__name__}"
            )
        if all(isinstance(d, Document) for d in value.documents) and isinstance(value.documents, tuple):
            return value
        # Answer(text, documents=[...]) may carry dicts or strings too; coerce them like any documents.
        docs = to_documents(value.documents, where=f"{where}.documents")
        return Answer(text=value.text, documents=tuple(docs))
    if isinstance(value, str):
        return Answer(text=value)
    if isinstance(value, Mapping):
        text = value.get("text", value.get("answer"))
        if not isinstance(text, str):
            raise PipelineOutputError(
                f"{where}: answer dict needs a string 'text' or 'answer', got keys {sorted(value)}"
            )
        key = "documents" if "documents" in value else "contexts" if "contexts" in value else None
        if key is None:
            return Answer(text=text)
        if value[key] is None:
            return Answer(text=text)
        docs = value[key]
        return Answer(text=text, documents=tuple(to_documents(docs, where=f"{where}.{key}")))
    raise PipelineOutputError(
        f"{where}: expected str or ragprobe.Answer, got {type(value).__name__}: {value!r:.80}"
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

