"""The aiohttp-backed httpx transport: httpx semantics on top, httpx exception types for every
failure, and the adapters' choice of transport."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_ragprobe._transport import AiohttpTransport, env_proxies
from pytest_ragprobe.adapters import HTTPPipeline
from pytest_ragprobe.engine import Call, Engine, EngineSettings, classify
from pytest_ragprobe.pipeline import PipelineAdapter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from faults import FaultServer, Reply, Request

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def no_env_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)


def run_client(fn: Callable[[httpx.AsyncClient], Awaitable[Any]], **client: Any) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient(transport=AiohttpTransport(), **client) as c:
            return await fn(c)

    return asyncio.run(go())


def test_round_trip_keeps_httpx_request_and_response_semantics() -> None:
    seen: list[Request] = []

    def handle(req: Request) -> Reply:
        seen.append(req)
        if req.path == "/start":
            return Reply(status=302, headers={"Location": "/answer", "Set-Cookie": "sid=abc; Path=/"})
        return Reply(json={"path": req.path, "got": req.json}, headers={"X-Reply": "yes"})

    async def calls(c: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        first = await c.post(srv.url + "/start", json={"question": "q"})
        again = await c.post(srv.url + "/answer", json={"question": "ü"})
        return first, again

    with FaultServer(handle, lifetime=30) as srv:
        first, again = run_client(calls, headers={"X-Key": "k"}, auth=("user", "pw"),
                                  follow_redirects=True)
    # httpx followed the redirect (a 302 turns the POST into a GET without a body) ...
    assert [r.status_code for r in first.history] == [302] and first.status_code == 200
    assert first.json() == {"path": "/answer", "got": None}
    assert seen[1].method == "GET"
    # ... kept the cookie it was given, and sent client headers and auth on every request
    assert again.json() == {"path": "/answer", "got": {"question": "ü"}}
    assert again.headers["x-reply"] == "yes" and again.reason_phrase == "OK"
    assert again.http_version == "HTTP/1.1"
    for req in seen:
        assert req.headers["x-key"] == "k"
        assert req.headers["authorization"] == "Basic dXNlcjpwdw=="
        assert req.headers["user-agent"].startswith("python-httpx/")
    assert seen[2].headers["cookie"] == "sid=abc"
    assert seen[2].headers["content-type"] == "application/json"


def test_compressed_bodies_are_decoded_once_by_httpx() -> None:
    body = gzip.compress(json.dumps({"answer": "zipped"}).encode())

    def handle(req: Request) -> Reply:
        return Reply(body=body, headers={"Content-Encoding": "gzip"})

    async def call(c: httpx.AsyncClient) -> Any:
        return (await c.get(srv.url + "/answer")).json()

    with FaultServer(handle, lifetime=30) as srv:
        assert run_client(call) == {"answer": "zipped"}


def test_streamed_responses() -> None:
    def handle(req: Request) -> Reply:
        return Reply(body=b"x" * 200_000 + req.body)

    async def call(c: httpx.AsyncClient) -> int:
        async with c.stream("POST", srv.url + "/s", content=b"ab") as r:
            data = b"".join([chunk async for chunk in r.aiter_bytes()])
        assert data.endswith(b"ab")
        return len(data)

    with FaultServer(handle, lifetime=30) as srv:
        assert run_client(call) == 200_002


def test_http_errors_reach_the_engine_as_httpx_status_errors() -> None:
    def handle(req: Request) -> Reply:
        if req.attempt == 1:
            return Reply(status=429, json={"error": "slow down"}, headers={"Retry-After": "0"})
        return Reply(json={"answer": "ok"})

    with FaultServer(handle, lifetime=30) as srv:
        pipe = HTTPPipeline(srv.url)

        async def first() -> BaseException:
            try:
                await pipe.answer("q")
            except httpx.HTTPStatusError as exc:
                return exc
            finally:
                await pipe.aclose()
            raise AssertionError("no error")

        failure = classify(asyncio.run(first()), None)
        assert failure.cause == f"HTTP 429 from {srv.url}/answer" and failure.retryable
        assert failure.retry_after == 0.0
        out = asyncio.run(Engine(PipelineAdapter(HTTPPipeline(srv.url)),
                                 EngineSettings(backoff=0.01)).run([Call("answer", "z")]))
        assert out[0].ok and out[0].attempts == 2


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def raw_server(reply: bytes) -> tuple[asyncio.base_events.Server, str]:
    async def conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(reply)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(conn, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def error_of(url: str, reply: bytes | None = None, timeout: float | None = None
                   ) -> BaseException:
    server = None
    if reply is not None:
        server, url = await raw_server(reply)
    try:
        async with httpx.AsyncClient(transport=AiohttpTransport(), timeout=timeout) as c:
            await c.post(url + "/answer", json={"question": "q"})
    except Exception as exc:
        return exc
    finally:
        if server is not None:
            server.close()
    raise AssertionError("no error")


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("refused", httpx.ConnectError),
        ("not http", httpx.RemoteProtocolError),
        ("hangs up", httpx.RemoteProtocolError),
        ("short body", httpx.RemoteProtocolError),
        ("scheme", httpx.UnsupportedProtocol),
    ],
)
def test_transport_failures_are_httpx_transport_errors(case: str, expected: type) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    reply = {
        "not http": b"garbage\r\n\r\n",
        "hangs up": b"",
        "short body": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}",
    }.get(case)
    if case == "scheme":
        url = "ftp://127.0.0.1"
    exc = asyncio.run(error_of(url, reply))
    assert isinstance(exc, expected), repr(exc)
    # the engine reports (and retries) it as the transport error httpcore would have raised
    failure = classify(exc, None)
    assert failure.cause.startswith(f"transport error ({expected.__name__}) from ")
    assert failure.cause.endswith("/answer")  # names the request's URL
    assert failure.retryable


def test_a_read_timeout_is_an_httpx_timeout() -> None:
    with FaultServer(lambda req: Reply(hang=True), lifetime=30, hang_limit=2) as srv:
        exc = asyncio.run(error_of(srv.url, timeout=0.2))
    assert isinstance(exc, httpx.ReadTimeout), repr(exc)
    assert classify(exc, None).cause == f"timeout (ReadTimeout) from {srv.url}/answer"


def test_a_server_that_drops_the_connection_without_reply_is_a_protocol_error() -> None:
    with FaultServer(lambda req: Reply(hang=True), lifetime=30, hang_limit=0.1) as srv:
        exc = asyncio.run(error_of(srv.url))
    assert isinstance(exc, httpx.RemoteProtocolError), repr(exc)


def test_adapters_use_aiohttp_unless_proxies_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    with FaultServer(lambda req: Reply(json={"answer": "a"}), lifetime=30) as srv:
        pipe = HTTPPipeline(srv.url, max_connections=32)

        async def transports() -> list[Any]:
            await pipe.answer("q")
            out = [c._transport for c in pipe._clients if c is not None]
            await pipe.aclose()
            return out

        assert env_proxies() == {}
        (only,) = asyncio.run(transports())
        assert isinstance(only, AiohttpTransport) and pipe._pool_sizes == [32]

        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert "http" in env_proxies()
        (fallback,) = asyncio.run(transports())
        assert isinstance(fallback, httpx.AsyncHTTPTransport)  # httpx honours proxy settings
        assert pipe._pool_sizes == [8, 8, 8, 8]


def test_tls_verifies_certificates_unless_told_not_to(tmp_path: Path) -> None:
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    reply = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"answer":"ok"}'

    async def conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = [int(h.split(b":")[1]) for h in head.lower().split(b"\r\n")
                          if h.startswith(b"content-length:")]
                await reader.readexactly(length[0] if length else 0)
                writer.write(reply)
                await writer.drain()
        writer.close()

    async def go() -> list[Any]:
        server = await asyncio.start_server(conn, "127.0.0.1", 0, ssl=server_ctx)
        url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        out: list[Any] = []
        try:
            for verify in (True, False):
                pipe = HTTPPipeline(url, verify=verify)
                try:
                    out.append((await pipe.answer("q")).text)
                except httpx.ConnectError as exc:
                    out.append(exc)
                finally:
                    await pipe.aclose()
            trusted = ssl.create_default_context(cafile=str(cert))
            async with httpx.AsyncClient(transport=AiohttpTransport(verify=trusted)) as c:
                out.append((await c.post(url + "/answer", json={})).json()["answer"])
        finally:
            server.close()
        return out

    refused, unverified, trusted = asyncio.run(go())
    assert isinstance(refused, httpx.ConnectError) and "certificate" in str(refused).lower()
    assert unverified == "ok" and trusted == "ok"


def test_http_pipeline_names_the_endpoint_path_a_probe_is_missing() -> None:
    """Used by ``PipelineAdapter.require``: "needs the pipeline's `generate`" should say generate_path=."""
    pipe = HTTPPipeline("http://127.0.0.1:9")
    assert pipe._ragprobe_missing("generate") == (
        "Give HTTPPipeline generate_path='/generate' (the path of the service's generate endpoint)."
    )
    assert "retrieve_path=" in pipe._ragprobe_missing("answer")
