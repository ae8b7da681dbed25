"""``ReferencePipeline``: hybrid retriever + gemma-3-270m reader, with switches that make the
two failure modes visible (and their mitigations testable).

* ``index_mode="as_written"`` indexes the documents as given; ``"symmetric"`` also indexes
  reverse pages derived at index time (see :mod:`.symmetric`).
* ``order="retrieval"`` feeds the reader the documents in the order received (retrieval order
  for ``answer``, the caller's order for ``generate``); ``"edges"`` reranks them against the
  question and puts the best ones at the start and the end of the context; ``"best_last"`` moves
  the best one (reranked against the question) to the end, next to the question, the others kept
  in the order received.
* ``entity_index`` keys retrieval on the entities (part numbers) named in the question: pages
  mentioning them are returned first and exclusively (fixes reverse *retrieval* misses).
* ``one_shot`` adds a fixed worked example to the prompt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

from pytest_ragprobe.reference._extra import require_reference_extra
from pytest_ragprobe.reference.reader import Reader
from pytest_ragprobe.reference.retriever import HybridRetriever, edges_order, rank_documents
from pytest_ragprobe.reference.symmetric import DEFAULT_ENTITY_PATTERN, derive_reverse_pages
from pytest_ragprobe.types import Answer, Document, to_documents

# Bump when the prompt, derivation or any behaviour that changes answers changes: the plugin
# cache keys results on ``ReferencePipeline.version``.
BEHAVIOUR_VERSION = "2"

IndexMode = Literal["as_written", "symmetric"]
Order = Literal["retrieval", "edges", "best_last"]


class ReferencePipeline:
    """The embedded reference RAG pipeline (extra ``[reference]``).

    Models load lazily, once per process, and are shared by every instance.
    """

    # One llama.cpp model behind a lock: extra calls in flight only queue, and calls in plan order
    # (all positions of a question back to back) let llama.cpp reuse the shared prompt prefix.
    max_concurrency = 1

    def __init__(
        self,
        documents: object = None,
        *,
        k: int = 3,
        index_mode: IndexMode = "as_written",
        order: Order = "retrieval",
        one_shot: bool = False,
        entity_index: bool = False,
        max_tokens: int = 16,
        n_ctx: int = 4096,
        n_threads: int = 2,
        entity_pattern: str = DEFAULT_ENTITY_PATTERN,
        memo_size: int = 1024,
    ) -> None:
        require_reference_extra("ReferencePipeline")  # at construction, not at the first answer
        if index_mode not in ("as_written", "symmetric"):
            raise ValueError(f"index_mode must be 'as_written' or 'symmetric', got {index_mode!r}")
        if order not in ("retrieval", "edges", "best_last"):
            raise ValueError(f"order must be 'retrieval', 'edges' or 'best_last', got {order!r}")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = k
        self.index_mode: IndexMode = index_mode
        self.order: Order = order
        self.one_shot = one_shot
        self.entity_pattern = entity_pattern
        self.entity_index = entity_index
        self.retriever = HybridRetriever(entity_pattern=entity_pattern if entity_index else None)
        self.reader = Reader(max_tokens=max_tokens, n_ctx=n_ctx, n_threads=n_threads,
                             one_shot=one_shot, memo_size=memo_size)
        self._corpus_hash = hashlib.sha256()
        if documents is not None:
            self.index(documents)

    # -- identity -----------------------------------------------------------------------
    @property
    def version(self) -> str:
        """Behaviour + settings + indexed corpus; changes whenever answers could change."""
        shot = "1shot" if self.one_shot else "0shot"
        corpus = self._corpus_hash.hexdigest()[:12]
        return (
            f"ragprobe-reference/{BEHAVIOUR_VERSION}/{self.index_mode}/{self.order}/{shot}"
            f"/{'entity' if self.entity_index else 'hybrid'}"
            f"/k{self.k}/t{self.reader.max_tokens}/corpus-{corpus}"
        )

    def __repr__(self) -> str:
        return f"ReferencePipeline({self.version})"

    @property
    def documents(self) -> list[Document]:
        """Everything indexed, derived pages included."""
        return self.retriever.documents

    # -- capabilities ---------------------------------------------------------------------
    def index(self, documents: object) -> None:
        docs = to_documents(documents, where="ReferencePipeline.index")
        # Pages already indexed are skipped: a second facts='synthetic:N' probe on the same pipeline
        # indexed its pages again (duplicates in the index, and a new version, so no cache hits).
        have = {(d.id, d.title, d.text) for d in self.retriever.documents}
        new: list[Document] = []
        for d in docs:
            if (d.id, d.title, d.text) not in have:
                have.add((d.id, d.title, d.text))
                new.append(d)
        if not new:
            return
        docs = new
        if self.index_mode == "symmetric":
            # Derive from the whole corpus so far (a mention and its target page may arrive in
            # different index() calls). The flat index cannot replace a page, so a reverse page
            # already indexed is kept as is and only pages for new entities are added.
            seen = {d.id for d in self.retriever.documents}
            originals = [d for d in self.retriever.documents if not _is_derived(d)] + docs
            derived = [
                p for p in derive_reverse_pages(originals, self.entity_pattern) if p.id not in seen
            ]
            docs = docs + derived
        for d in docs:
            self._corpus_hash.update(repr((d.id, d.title, d.text)).encode("utf-8"))
        self.retriever.index(docs)

    def retrieve(self, query: str, k: int | None = None) -> list[Document]:
        return self.retriever.search(query, self.k if k is None else k)

    def arrange(self, question: str, documents: Sequence[Document]) -> list[Document]:
        """The context as the reader will see it."""
        docs = list(documents)
        if self.order == "edges" and len(docs) > 2:
            # Rank a canonical ordering so that the arranged context depends only on the set of
            # documents, not on the order they came in (ties cannot leak the input position).
            docs.sort(key=lambda d: (d.render(), d.id or ""))
            ranked = rank_documents(question, docs)
            docs = [docs[i] for i in edges_order(ranked)]
        elif self.order == "best_last" and len(docs) > 1:
            # This reader leans on the passage nearest the question (the U-curve's higher edge is the
            # last position): the best passage goes there, the rest stay as received.
            best = rank_documents(question, docs)[0]
            docs = docs[:best] + docs[best + 1 :] + [docs[best]]
        return docs

    def generate(self, question: str, documents: object) -> str:
        docs = to_documents(documents, where="ReferencePipeline.generate")
        return self.reader.answer(question, self.arrange(question, docs))

    def answer(self, question: str) -> Answer:
        docs = self.retrieve(question)
        return Answer(text=self.reader.answer(question, self.arrange(question, docs)),
                      documents=tuple(docs))

    def __call__(self, question: str) -> Answer:
        return self.answer(question)


def _is_derived(doc: Document) -> bool:
    return doc.metadata.get("derived") == "reverse"
