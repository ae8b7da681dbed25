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
    if req.path.startswith("/old"):  # moved for good: a 301 resends a POST as a GET without its body
        query = req.path.partition("?")[2]
        return Reply(status=301, headers={"Location": "/v2/answer" + (f"?{query}" if query else "")})
    if req.path.startswith("/v2/answer"):
        return Reply(status=405, json={"detail": "Method Not Allowed"})
    if req.path == "/private":
        return Reply(status=302, headers={"Location": "/auth"})
    if req.path == "/auth":
        return Reply(status=401, json={"detail": "Not authenticated"})
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



def _cause(pipe: HTTPPipeline) -> str | None:
    (out,) = asyncio.run(Engine(PipelineAdapter(pipe), EngineSettings(retries=0)).run([Call("answer", "q")]))
    return out.cause


def test_an_http_error_after_a_redirect_says_where_from_and_why(server: FaultServer) -> None:
    """It read "HTTP 405 from URL/v2/answer", a URL the pipeline was not given, with no word of the 301 that
    turned its POST into a GET without its body."""
    url = server.url
    assert _cause(HTTPPipeline(url, answer_path="/old")) == (
        f"HTTP 405 from {url}/v2/answer (redirected: 301 from {url}/old to {url}/v2/answer, which turned the "
        "POST into a GET without its body: give the pipeline the URL it redirects to)"
    )
    assert _cause(HTTPPipeline(url, answer_path="/private")) == (
        f"HTTP 401 from {url}/auth (redirected: 302 from {url}/private to {url}/auth: {AUTH})"
    )


def test_the_redirect_is_said_with_a_secret_in_the_url_redacted(server: FaultServer) -> None:
    url = server.url
    cause = _cause(HTTPPipeline(url, answer_path="/old?api_key=s3cr3t-value"))
    assert cause is not None and "s3cr3t" not in cause
    # (kept to the end: the error's request URL is redacted too, into a new error)
    assert cause.startswith(f"HTTP 405 from {url}/v2/answer?api_key=")
    assert f" (redirected: 301 from {url}/old?api_key=" in cause
