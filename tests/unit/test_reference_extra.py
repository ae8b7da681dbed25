"""Without the ``[reference]`` extra, the reference classes say which extra to install (no model loads)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from collections.abc import Callable
from typing import Any

import pytest

from pytest_ragprobe.reference import HybridRetriever, Reader, ReferencePipeline
from pytest_ragprobe.reference._extra import REFERENCE_MODULES


def hide(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make ``names`` look uninstalled to ``importlib.util.find_spec`` (even when already imported), and the
    extra's other modules installed: the messages are the same with or without the extra in this venv."""
    real: Callable[..., Any] = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        if name in names:
            return None
        if name in REFERENCE_MODULES:
            return importlib.machinery.ModuleSpec(name, None)
        return real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_reference_pipeline_names_the_extra_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    # Was: a core install got `No module named 'rank_bm25'` from deep inside the first index(),
    # or, built without documents (--ragprobe-pipeline=...:ReferencePipeline), "nothing indexed".
    hide(monkeypatch, "rank_bm25", "llama_cpp")
    with pytest.raises(ModuleNotFoundError) as info:
        ReferencePipeline()
    message = str(info.value)
    assert "pip install 'pytest-ragprobe[reference]'" in message
    assert "missing: rank-bm25, llama-cpp-python)" in message
    assert info.value.name == "rank_bm25"


def test_retriever_and_reader_need_only_their_own_dependencies(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "llama_cpp")
    with pytest.raises(ModuleNotFoundError, match=r"Reader needs the \[reference\] extra.*llama-cpp-python"):
        Reader()
    HybridRetriever()  # nothing indexed, nothing loaded
    monkeypatch.undo()
    hide(monkeypatch, "faiss")
    with pytest.raises(ModuleNotFoundError, match=r"HybridRetriever needs .*\(missing: faiss-cpu\)"):
        HybridRetriever()
    Reader()
