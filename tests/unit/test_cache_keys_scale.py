"""Cache keys miss exactly where the answers may differ (tests of the cache's keying at scale: see also
test_cache.py)."""

from __future__ import annotations

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
