"""An HTTP endpoint that redirects to a login page (no auth headers sent): the error said only "malformed
response: expected JSON, got '<html>login…'", with no word of the redirect that led there."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_ragprobe.adapters import HTTPPipeline, MalformedResponseError, OpenAIGenerator
from pytest_ragprobe.engine import Call, Engine, EngineSettings
from pytest_ragprobe.pipeline import PipelineAdapter
from pytest_ragprobe.types import Document

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from faults import FaultServer, Reply, Request

PAGE = b"<html><head><title>Sign in</title></head><body><form>login</form></body></html>"


def handle(req: Request) -> Reply:
    if req.path.startswith("/login"):
        return Reply(body=PAGE, headers={"Content-Type": "text/html"})
    if req.path == "/sso":  # two hops
        return Reply(status=302, headers={"Location": "/login?next=/answer"})
    if req.path in ("/answer", "/v1/chat/completions"):
        return Reply(status=302, headers={"Location": "/login?next=/answer"})
    if req.path == "/gate":
        return Reply(status=307, headers={"Location": "/sso"})
    return Reply(status=404, json={})


@pytest.fixture
def server() -> Any:
    with FaultServer(handle, max_requests=100, lifetime=60) as srv:
        yield srv


def _error(pipe: Any, call: Any) -> MalformedResponseError:
    async def go() -> None:
        async with pipe:
            await call(pipe)

    with pytest.raises(MalformedResponseError) as info:
        asyncio.run(go())
    return info.value


AUTH = "the endpoint probably needs auth headers (headers={'Authorization': ...})"


def test_a_redirect_to_a_login_page_is_said_with_where_it_went(server: FaultServer) -> None:
    url = server.url
    pipe = HTTPPipeline(url)
    out = asyncio.run(Engine(PipelineAdapter(pipe), EngineSettings(retries=0)).run([Call("answer", "q")] * 2))
    summary = (
        f"malformed response from {url}/answer: expected JSON, got '<html><head><title>Sign in</title></head>"
        f"<body><form>login<…'; redirected (302 from {url}/answer to {url}/login?next=/answer): {AUTH}"
    )
    assert [o.cause for o in out] == [summary] * 2  # (the second call takes httpx's path from the start)
    error = _error(HTTPPipeline(url), lambda p: p.answer("q"))
    assert error.cause == summary
    assert str(error).endswith(f"; redirected (302 from {url}/answer to {url}/login?next=/answer): {AUTH}")


def test_every_hop_is_said(server: FaultServer) -> None:
    url = server.url
    error = _error(HTTPPipeline(url, answer_path="/gate"), lambda p: p.answer("q"))
    assert error.cause is not None and error.cause.endswith(
        f"; redirected (307 from {url}/gate to {url}/sso, 302 to {url}/login?next=/answer): {AUTH}"
    )


def test_openai_generator_redirected_says_so(server: FaultServer) -> None:
    url = server.url
    error = _error(OpenAIGenerator(f"{url}/v1", "m", api_key=""), lambda g: g.generate("q", [Document("d")]))
    assert error.cause is not None and error.cause.endswith(
        f"; redirected (302 from {url}/v1/chat/completions to {url}/login?next=/answer): {AUTH}"
    )

