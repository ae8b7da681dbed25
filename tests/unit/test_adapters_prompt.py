"""OpenAIGenerator's prompt template is checked when it is made, a 404 from a base URL without /v1
says so, and the adapters' docstrings describe what actually happens."""

from __future__ import annotations

import asyncio
import gc
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from pytest_ragprobe.adapters import DEFAULT_PROMPT, HTTPPipeline, OpenAIGenerator
from pytest_ragprobe.engine import Call, Engine, EngineSettings
from pytest_ragprobe.pipeline import PipelineAdapter
from pytest_ragprobe.types import Document

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from faults import FaultServer, Reply, Request

BASE = "http://127.0.0.1:9/v1"  # never contacted: construction only
RULES = "its placeholders are {context} (the numbered documents) and {question}"


# -- 1. the prompt template -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        # the audit's typo: every call failed with "KeyError: 'contexts'"
        ("{contexts}\n{question}", "unknown placeholder {contexts} (did you mean {context}?)"),
        ("{docs}\n{query}", "unknown placeholders {docs} (did you mean {context}?), "
                            "{query} (did you mean {question}?)"),
        ("{context_str} {query_str}", "{context_str} (did you mean {context}?)"),
        ("{ context } {question}", "unknown placeholder { context } (did you mean {context}?)"),
        ("{context[0]} {question}", "unknown placeholder {context[0]} (did you mean {context}?)"),
        ("{} {context}", "unknown placeholder {};"),
        ('{context} {question} Reply as {"answer": "..."}', 'unknown placeholder {"answer"}'),
        ("{context} {question:{width}}", "unknown placeholder {width}"),
        ("{context} {question", "prompt is not a valid template (expected '}' before end of string)"),
        ("{context} } {question}", "not a valid template (Single '}' encountered in format string)"),
        ("{context} {question:d}", "cannot be filled in (ValueError: Unknown format code 'd'"),
        ("{context} {question!x}", "cannot be filled in (ValueError: Unknown conversion specifier x)"),
        ("{context}", "prompt has no {question} placeholder"),
        ("{{question}} {context}", "prompt has no {question} placeholder"),
    ],
)
def test_a_broken_prompt_is_a_value_error_naming_the_problem(prompt: str, expected: str) -> None:
    with pytest.raises(ValueError) as info:
        OpenAIGenerator(BASE, "m", prompt=prompt)
    message = str(info.value)
    assert message.startswith("OpenAIGenerator: prompt ")
    assert expected in message
    assert RULES in message and "write a literal brace as {{ or }}" in message


@pytest.mark.parametrize("prompt", ["Q: {question}", "{question}", "{{context}}\n{question}"])
def test_a_prompt_without_the_documents_is_refused(prompt: str) -> None:
    """Without {context} the documents never reached the model: a position probe "passed" at
    0.00 everywhere, measuring nothing."""
    with pytest.raises(ValueError) as info:
        OpenAIGenerator(BASE, "m", prompt=prompt, system="Documents: {context}")
    assert str(info.value).startswith("OpenAIGenerator: prompt has no {context} placeholder, so ")
    assert "the documents would never reach the model" in str(info.value)
    assert "pytest_ragprobe.adapters.DEFAULT_PROMPT" in str(info.value)


def test_a_prompt_that_is_not_a_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="prompt must be a str, got NoneType"):
        OpenAIGenerator(BASE, "m", prompt=None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "prompt",
    [
        DEFAULT_PROMPT,
        "{context}\n{question}",
        "Question: {question}\n\nDocuments:\n{context}\n{context}",
        'Use {context}. Reply as JSON {{"answer": ...}} to {question!r:>3}',
    ],
)
def test_valid_prompts_are_accepted_and_filled_in(prompt: str) -> None:
    gen = OpenAIGenerator(BASE, "m", prompt=prompt, system="Be brief {not a template}")
    messages = gen.messages("Q?", [Document("P-200 fits C-17.")])
    assert messages[0] == {"role": "system", "content": "Be brief {not a template}"}
    assert messages[1]["content"] == prompt.format(
        question="Q?", context="Document [1] P-200 fits C-17."
    )
    assert "Document [1] P-200 fits C-17." in messages[1]["content"]


# -- 2. a base URL without /v1 --------------------------------------------------------------------


def openai_server(req: Request) -> Reply:
    if req.path == "/v1/chat/completions":
        return Reply(json={"choices": [{"message": {"content": "C-17"}}]})
    return Reply(status=404, body=b"not found")


@pytest.fixture
def server() -> Any:
    with FaultServer(openai_server, max_requests=50, lifetime=60) as srv:
        yield srv


def _run(gen: OpenAIGenerator, retries: int = 2) -> Any:
    calls = [Call("generate", f"q{i}", (Document("d"),)) for i in range(2)]
    return asyncio.run(Engine(PipelineAdapter(gen), EngineSettings(retries=retries)).run(calls))


def test_a_404_from_a_base_url_without_v1_suggests_it(server: FaultServer) -> None:
    out = _run(OpenAIGenerator(server.url, "m"))
    hint = f"did you mean base_url='{server.url}/v1'?"
    for outcome in out:
        assert not outcome.ok and outcome.attempts == 1  # a 404 is still not retried
        assert outcome.cause == f"HTTP 404 from {server.url}/chat/completions"  # groups as before
        assert outcome.error.startswith(f"HTTP 404 from {server.url}/chat/completions: {hint}")
        assert outcome.error.endswith("; the server said: not found")
    assert server.requests == 2
    # the suggestion works
    assert [o.value for o in _run(OpenAIGenerator(server.url + "/v1/", "m"))] == ["C-17"] * 2


def test_the_hinted_404_is_still_an_httpx_status_error(server: FaultServer) -> None:
    import httpx

    async def go() -> BaseException:
        async with OpenAIGenerator(server.url + "/api", "m") as gen:
            try:
                await gen.generate("q", [Document("d")])
            except Exception as exc:
                return exc
        raise AssertionError("no error")

    exc = asyncio.run(go())
    assert isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 404
    assert str(exc.request.url) == f"{server.url}/api/chat/completions"
    hint = f"did you mean base_url='{server.url}/api/v1'?"
    assert str(exc).endswith("\n" + hint + " (OpenAI-compatible servers serve /v1/chat/completions)")
    assert exc.response.text.startswith(hint) and exc.response.text.endswith("not found")


def test_a_base_url_ending_in_chat_completions_suggests_cutting_it(server: FaultServer) -> None:
    (outcome, _) = _run(OpenAIGenerator(server.url + "/v1/chat/completions", "m"))
    assert f"did you mean base_url='{server.url}/v1'?" in outcome.error


def test_no_hint_when_the_path_has_a_version_or_the_status_is_not_404() -> None:
    def handle(req: Request) -> Reply:
        if req.path.startswith("/v1beta"):
            return Reply(status=404, body=b"no such model")
        return Reply(status=400, body=b"bad request")

    with FaultServer(handle, max_requests=20, lifetime=60) as srv:
        for base, status, body in [
            (srv.url + "/v1beta/openai", 404, "no such model"),
            (srv.url, 400, "bad request"),
        ]:
            (outcome, _) = _run(OpenAIGenerator(base, "m"), retries=0)
            assert outcome.error == f"HTTP {status} from {base}/chat/completions: {body}"


# -- 3. docstrings --------------------------------------------------------------------------------


def test_the_unclosed_warning_the_docstring_names_is_the_one_python_gives() -> None:
    """The docstring blamed "aiohttp" for a warning without naming it; it now names the warning
    a user sees (from aiohttp's pool, which carries httpx's requests)."""
    doc = " ".join((HTTPPipeline.__doc__ or "").split())  # (Python 3.13 dedents docstrings)
    assert "or aiohttp warns" not in doc
    assert 'ResourceWarning`` warnings such as "Unclosed client session"' in doc
    assert "requests are made with httpx, over an aiohttp connection pool" in doc
    assert "aclose()" in (OpenAIGenerator.__doc__ or "")

    with FaultServer(lambda req: Reply(json={"answer": "x"}), max_requests=5, lifetime=30) as srv:
        pipe = HTTPPipeline(srv.url)
        assert asyncio.run(pipe.answer("q")).text == "x"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del pipe
            gc.collect()
    texts = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert any(t.startswith("Unclosed client session") for t in texts), texts
