"""The embedded reference RAG pipeline (install with the ``[reference]`` extra).

Importing this package is cheap (stdlib only); torch, sentence-transformers, faiss, rank-bm25
and llama-cpp-python load on first use, once per process.

    from pytest_ragprobe.reference import ReferencePipeline
    pipe = ReferencePipeline(documents, index_mode="symmetric", one_shot=True)
    pipe.answer("Which pump is compatible with controller C-38?")
"""

from __future__ import annotations

from pytest_ragprobe.reference.pipeline import BEHAVIOUR_VERSION, ReferencePipeline
from pytest_ragprobe.reference.reader import Reader, build_prompt, ensure_model_file, model_dir
from pytest_ragprobe.reference.retriever import HybridRetriever, edges_order, rrf_fuse, tokenize
from pytest_ragprobe.reference.symmetric import derive_reverse_pages

__all__ = [
    "BEHAVIOUR_VERSION",
    "HybridRetriever",
    "Reader",
    "ReferencePipeline",
    "build_prompt",
    "derive_reverse_pages",
    "edges_order",
    "ensure_model_file",
    "model_dir",
    "rrf_fuse",
    "tokenize",
]
