"""Cache keys miss exactly where the answers may differ (tests of the cache's keying at scale: see also
test_cache.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ragprobe.adapters import OpenAIGenerator
from pytest_ragprobe.pipeline import make_adapter


def test_named_openai_generator_keys_apart_another_model() -> None:
    """A ``name`` (given so that a server on another port keeps the cache) kept the cached answers of one
    model for another: the ``model`` sent with every request was in no key."""

    def identity(model: str, name: str | None = "reader") -> str:
        return make_adapter(OpenAIGenerator("http://127.0.0.1:1/v1", model, name=name)).cache_identity

    assert identity("llama-8b") != identity("llama-70b")
    assert identity("llama-8b", None) != identity("llama-70b", None)
    # the same model under the same name at another port: one identity, as the name promises
    other_port = make_adapter(OpenAIGenerator("http://127.0.0.1:2/v1", "llama-8b", name="reader"))
    assert other_port.cache_identity == identity("llama-8b")


PROMPTS = """
PROMPT = "Answer: {q}"
CALLS = []
"""

RAG = """
import prompts_mod


class Rag:
    def answer(self, question):
        prompts_mod.CALLS.append(question)  # a call log in the module: state, not configuration
        return prompts_mod.PROMPT.format(q=question)
"""


def test_a_prompt_read_from_a_module_of_the_project_keys_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``prompts.PROMPT`` (a constant of the user's own module, read through the module) was in no key:
    editing the prompt reused the answers made with the old one (``from prompts import PROMPT`` did key)."""
    (tmp_path / "prompts_mod.py").write_text(PROMPTS)
    (tmp_path / "rag_mod.py").write_text(RAG)
    monkeypatch.syspath_prepend(str(tmp_path))
    import prompts_mod  # type: ignore[import-not-found]
    import rag_mod  # type: ignore[import-not-found]

    def identity() -> str:
        return make_adapter(rag_mod.Rag()).cache_identity

    before = identity()
    assert rag_mod.Rag().answer("q") == "Answer: q"  # the call log grows: the same identity
    assert identity() == before
    monkeypatch.setattr(prompts_mod, "PROMPT", "Answer briefly: {q}")
    assert identity() != before
    monkeypatch.setattr(prompts_mod, "PROMPT", "Answer: {q}")
    assert identity() == before
