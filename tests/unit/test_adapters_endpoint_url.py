"""HTTPPipeline given its endpoint's URL (``HTTPPipeline("http://host:8000/answer")``): it adds
answer_path to the url, so every call went to /answer/answer and ended "HTTP 404 from
http://host:8000/answer/answer" with no word of why (OpenAIGenerator's 404s suggest the base_url)."""

from __future__ import annotations

import asyncio
from typing import Any

from faults import FaultServer, Reply, Request

from pytest_ragprobe.adapters import HTTPPipeline
from pytest_ragprobe.engine import Call, Engine, EngineSettings
from pytest_ragprobe.pipeline import PipelineAdapter
from pytest_ragprobe.types import Document


def service(req: Request) -> Reply:
    if req.path == "/rag/answer":
        return Reply(json={"answer": "C-17"})
    if req.path == "/rag/search":
        return Reply(json={"documents": ["d"]})
    return Reply(status=404, json={"detail": "Not Found"})


def run(pipe: HTTPPipeline, kind: Any = "answer") -> Any:
    call = Call(kind, "q", (Document("d"),), k=2)
    return asyncio.run(Engine(PipelineAdapter(pipe), EngineSettings(retries=0)).run([call]))[0]


def test_a_404_from_a_url_that_ends_with_the_endpoint_suggests_the_base_url() -> None:
    with FaultServer(service, max_requests=20, lifetime=60) as srv:
        out = run(HTTPPipeline(srv.url + "/rag/answer"))
        assert out.cause == f"HTTP 404 from {srv.url}/rag/answer/answer"  # groups as before
        assert out.error == (
            f"HTTP 404 from {srv.url}/rag/answer/answer: did you mean HTTPPipeline('{srv.url}/rag')? (it adds "
            "answer_path='/answer' to the url); the server said: {\"detail\": \"Not Found\"}"
        )
        # another endpoint's path, and a trailing slash
        out = run(HTTPPipeline(srv.url + "/rag/search/", answer_path=None, retrieve_path="/search"), "retrieve")
        assert f"did you mean HTTPPipeline('{srv.url}/rag')? (it adds retrieve_path='/search' to the url)" in (
            out.error
        )
        # the suggestion works
        assert run(HTTPPipeline(srv.url + "/rag")).value.text == "C-17"


def test_no_hint_for_another_404() -> None:
    with FaultServer(service, max_requests=20, lifetime=60) as srv:
        out = run(HTTPPipeline(srv.url + "/other"))
        assert out.error == f"HTTP 404 from {srv.url}/other/answer: {{\"detail\": \"Not Found\"}}"
