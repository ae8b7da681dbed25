from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_ragprobe.adapters import HTTPPipeline, MalformedResponseError, OpenAIGenerator
from pytest_ragprobe.engine import Call, Engine, EngineSettings
from pytest_ragprobe.pipeline import PipelineAdapter
from pytest_ragprobe.types import Answer, Document

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from faults import FaultServer, Reply, Request

SEEN: list[Request] = []


def service(req: Request) -> Reply:
    SEEN.append(req)
    body: Any = req.json or {}
    if req.path == "/answer":
        return Reply(json={"answer": body["question"].upper(), "documents": ["d1", {"text": "d2"}]})
    if req.path == "/search":
        return Reply(json={"documents": [f"doc {i}" for i in range(body["k"])]})
    if req.path == "/read":
        return Reply(json={"text": f"{len(body['documents'])} docs"})
    if req.path == "/index":
        return Reply(json={"ok": True})
    if req.path == "/bad":
        return Reply(json={"no": "answer"})
    if req.path == "/v1/chat/completions":
        return Reply(json={"choices": [{"message": {"content": " C-17 \n"}}]})
    return Reply(status=404, json={})


@pytest.fixture
def server() -> Any:
    SEEN.clear()
    with FaultServer(service, max_requests=200, lifetime=60) as srv:
        yield srv


def test_http_pipeline_endpoints_and_capabilities(server: FaultServer) -> None:
    full = HTTPPipeline(server.url, retrieve_path="/search", generate_path="/read",
                        index_path="/index", headers={"X-Key": "k"}, version="3")
    adapter = PipelineAdapter(full)
    assert adapter.capabilities == {"answer", "retrieve", "generate", "index"}
    assert adapter.identity == f"http:{server.url}@3"

    async def go() -> Any:
        a = await adapter.answer("hi")
        docs = await adapter.retrieve("hi", 2)
        text = await adapter.generate("hi", docs)
        await adapter.index([Document("x")])
        await full.aclose()
        return a, docs, text

    a, docs, text = asyncio.run(go())
    assert a == Answer("HI", (Document("d1"), Document("d2")))
    assert docs == [Document("doc 0"), Document("doc 1")] and text == "2 docs"
    assert SEEN[0].json == {"question": "hi"}
    assert SEEN[1].json == {"query": "hi", "k": 2}
    assert PipelineAdapter(HTTPPipeline(server.url)).capabilities == {"answer"}


def test_malformed_answers_name_the_url(server: FaultServer) -> None:
    adapter = PipelineAdapter(HTTPPipeline(server.url, answer_path="/bad"))
    out = asyncio.run(Engine(adapter, EngineSettings(retries=0)).run([Call("answer", "q")]))
    assert out[0].cause == f"malformed response from {server.url}/bad"
    with pytest.raises(MalformedResponseError):
        asyncio.run(HTTPPipeline(server.url, answer_path="/bad").answer("q"))


def test_a_pipeline_survives_many_event_loops(server: FaultServer) -> None:
    adapter = PipelineAdapter(HTTPPipeline(server.url))
    for _ in range(3):  # each probe runs in its own loop; the engine closes the client after each
        out = asyncio.run(Engine(adapter).run([Call("answer", "q")]))
        assert out[0].ok


def test_openai_generator(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    gen = OpenAIGenerator(server.url + "/v1", "tiny", max_tokens=8)
    other = OpenAIGenerator(server.url + "/v1", "tiny", max_tokens=8, prompt="{question}")
    assert gen.version != other.version and "sk-test" not in gen.name + gen.version
    adapter = PipelineAdapter(gen)
    assert adapter.capabilities == {"generate"}
    out = asyncio.run(Engine(adapter).run([Call("generate", "Q?", (Document("P-200 fits C-17."),))]))
    assert out[0].value == "C-17"
    body = SEEN[-1].json
    assert body["model"] == "tiny" and body["temperature"] == 0.0 and body["max_tokens"] == 8
    assert "Document [1] P-200 fits C-17." in body["messages"][0]["content"]
