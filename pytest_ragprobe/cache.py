"""Answer cache: one small JSON file per pipeline call, so a rerun with unchanged inputs calls
nothing.

Location: ``.ragprobe_cache/`` in the rootdir by default (``--ragprobe-cache=DIR`` / ini
``ragprobe_cache``), laid out as ``DIR/answers/v1/ab/abcdef….json``.

Key: a SHA-256 of the pipeline identity (``PipelineAdapter.cache_identity``: the pipeline's ``name``
or its qualified class/function name, its ``version`` string, and a hash of its own code and
plain-data configuration, see ``pipeline._state``: ``SimReader(0.9)`` and ``SimReader(0.8)`` never
share entries, while counters a pipeline updates as it runs do not change its key), the probe
namespace (probe settings that change what an answer means, e.g. the matcher), the call kind
(answer / generate / retrieve) and its inputs (question, documents, k).

Invalidation:
* bump the pipeline's ``version`` (``ragprobe.Pipeline(..., version="2")``, a ``version`` attribute
  on your object, ``HTTPPipeline(..., version=...)``): every key changes;
* run with ``--ragprobe-no-cache`` (nothing read or written);
* delete the directory (``rm -rf .ragprobe_cache``), or prune what no run has used for a while:
  ``ragprobe cache --prune DAYS`` (an entry's modification time is refreshed on every hit).
The cache cannot see changes inside your pipeline's dependencies (a new model, a re-built index, a
client configured differently) unless ``version`` says so.

Safety: only successful results are stored (errors never are). Each entry is written to a temp file
in the same directory and moved into place with ``os.replace``, so concurrent writers (xdist
workers, parallel CI jobs on a shared disk) never produce a torn file; at worst two writers store
the same answer twice. An entry that cannot be read or parsed is treated as a miss and rewritten;
cache I/O errors never fail a run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ragprobe.types import Answer, Document, atomic_write

if TYPE_CHECKING:
    from pytest_ragprobe.engine import Call, Value

FORMAT = 1
_README = (
    "pytest-ragprobe answer cache. Safe to delete at any time "
    "(or run pytest with --ragprobe-no-cache).\n"
    "Entries are keyed by pipeline identity + version, probe settings and call inputs.\n"
)


@dataclass(frozen=True)
class Hit:
    value: Value


def _encode_doc(doc: Document) -> dict[str, Any]:
    return {"text": doc.text, "title": doc.title, "id": doc.id, "metadata": dict(doc.metadata)}


def _decode_doc(data: Any) -> Document:
    if not isinstance(data, Mapping) or not isinstance(data.get("text"), str):
        raise ValueError("bad document")
    meta = data.get("metadata") or {}
    if not isinstance(meta, Mapping):
        raise ValueError("bad metadata")
    raw_id = data.get("id")
    return Document(
        text=data["text"],
        title=str(data.get("title") or ""),
        id=None if raw_id is None else str(raw_id),
        metadata=dict(meta),
    )


def encode_value(value: Value) -> dict[str, Any]:
    if isinstance(value, Answer):
        return {
            "type": "answer",
            "text": value.text,
            "documents": [_encode_doc(d) for d in value.documents],
            "reported": value.reports_documents,
        }
    if isinstance(value, str):
        return {"type": "text", "text": value}
    return {"type": "documents", "documents": [_encode_doc(d) for d in value]}


def decode_value(data: Any) -> Value:
    if not isinstance(data, Mapping):
        raise ValueError("bad value")
    kind = data.get("type")
    if (
        kind == "answer"
        and isinstance(data.get("text"), str)
        and isinstance(data.get("documents"), list)
    ):
        docs = tuple(_decode_doc(d) for d in data["documents"])
        # entries from before "reported" was stored: an empty list meant "not reported" then
        if not data.get("reported", bool(docs)):
            return Answer(text=data["text"])
        return Answer(text=data["text"], documents=docs)
    if kind == "text" and isinstance(data.get("text"), str):
        return str(data["text"])
    if kind == "documents" and isinstance(data.get("documents"), list):
        return [_decode_doc(d) for d in data["documents"]]
    raise ValueError(f"unknown cached value type {kind!r}")


class AnswerCache:
    """File-per-key cache for one (pipeline identity, namespace). Never raises on I/O trouble."""

    def __init__(self, root: Path, identity: str, namespace: str = "") -> None:
        self.root = Path(root)
        self.dir = self.root / "answers" / f"v{FORMAT}"
        self.identity = identity
        self.namespace = namespace
        self.writable = True
        self._marked = False
        self.hits = 0
        self.misses = 0
        self.corrupt = 0

    def key(self, call: Call) -> str:
        payload = {
            "format": FORMAT,
            "pipeline": self.identity,
            "namespace": self.namespace,
            "kind": call.kind,
            "question": call.question,
            "documents": [_encode_doc(d) for d in call.documents],
            "k": call.k,
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=repr)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str) -> Hit | None:
        try:
            raw = self.path(key).read_bytes()
        except OSError:
            self.misses += 1
            return None
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("key") != key:
                raise ValueError("key mismatch")
            hit = Hit(decode_value(data["value"]))
        except (ValueError, KeyError, TypeError, RecursionError):
            self.corrupt += 1  # ignored now, overwritten by the next successful call
            self.misses += 1
            return None
        self.hits += 1
        with contextlib.suppress(OSError):  # "last used", for `ragprobe cache --prune DAYS`
            os.utime(self.path(key))
        return hit

    def put(self, key: str, call: Call, value: Value) -> bool:
        """Store a successful result atomically; False when it could not be stored (never
        raises)."""
        if not self.writable:
            return False
        try:
            text = json.dumps(
                {
                    "key": key,
                    "pipeline": self.identity,
                    "kind": call.kind,
                    "question": call.question,
                    "value": encode_value(value),
                },
                ensure_ascii=False,
            )
        except (TypeError, ValueError):  # metadata that JSON cannot hold: just do not cache it
            return False
        target = self.path(key)
        try:
            if not self._marked:
                self.root.mkdir(parents=True, exist_ok=True)
                if not (self.root / ".gitignore").exists():
                    _write_markers(self.root)
                self._marked = True
            atomic_write(target, text)
        except OSError:
            self.writable = False  # read-only or full disk: carry on uncached
            return False
        return True


def _write_markers(root: Path) -> None:
    for name, text in (
        (".gitignore", "# created by pytest-ragprobe\n*\n"),
        ("README.md", _README),
        (
            "CACHEDIR.TAG",
            "Signature: 8a477f597d28d172789f06886806bc55\n# pytest-ragprobe answer cache\n",
        ),
    ):
        with contextlib.suppress(OSError):
            (root / name).write_text(text, encoding="utf-8")


@dataclass
class CacheStats:
    entries: int = 0
    bytes: int = 0
    oldest: float | None = None  # last-used times (mtime), epoch seconds
    newest: float | None = None
    by_pipeline: dict[str, int] | None = None
    last_used: dict[str, float] | None = None  # per pipeline identity: its newest entry's mtime
    removed: int = 0
    removed_bytes: int = 0
    tables: int = 0  # stored critical-value tables (tables/, see stats.set_table_dir)
    tables_bytes: int = 0
    removed_tables: int = 0


def _files(
    paths: Iterable[Path], prune_before: float | None
) -> Iterator[tuple[Path, os.stat_result, bool]]:
    """(path, stat, removed) per file, in name order: a file last used before ``prune_before`` is
    deleted (removed=True). Files that vanish meanwhile, or cannot be deleted, are skipped."""
    for path in sorted(paths):
        try:
            st = path.stat()
        except OSError:
            continue
        if prune_before is not None and st.st_mtime < prune_before:
            try:
                path.unlink()
            except OSError:
                continue
            yield path, st, True
        else:
            yield path, st, False


def scan(root: Path, *, prune_before: float | None = None) -> CacheStats:
    """Count the entries of the cache at ``root`` (per pipeline identity) and its statistics
    tables; with ``prune_before`` (epoch seconds), delete the entries and tables last used before
    it. Unreadable entries count as pipeline "?"; files that vanish meanwhile (a concurrent run)
    are skipped."""
    stats = CacheStats(by_pipeline={}, last_used={})
    assert stats.by_pipeline is not None and stats.last_used is not None
    for path, st, removed in _files((Path(root) / "answers").glob("v*/*/*.json"), prune_before):
        if removed:
            stats.removed += 1
            stats.removed_bytes += st.st_size
            continue
        try:
            pipeline = str(json.loads(path.read_bytes()).get("pipeline", "?"))
        except (OSError, ValueError, AttributeError):
            pipeline = "?"
        stats.entries += 1
        stats.bytes += st.st_size
        stats.by_pipeline[pipeline] = stats.by_pipeline.get(pipeline, 0) + 1
        stats.last_used[pipeline] = max(stats.last_used.get(pipeline, 0.0), st.st_mtime)
        stats.oldest = st.st_mtime if stats.oldest is None else min(stats.oldest, st.st_mtime)
        stats.newest = st.st_mtime if stats.newest is None else max(stats.newest, st.st_mtime)
    for _path, st, removed in _files((Path(root) / "tables").glob("*.json"), prune_before):
        if removed:
            stats.removed_tables += 1
        else:
            stats.tables += 1
            stats.tables_bytes += st.st_size
    if prune_before is not None:  # drop emptied shard directories
        for shard in sorted((Path(root) / "answers").glob("v*/*")):
            with contextlib.suppress(OSError):
                shard.rmdir()
    return stats


def days_ago(days: float, now: float | None = None) -> float:
    return (time.time() if now is None else now) - days * 86400.0
