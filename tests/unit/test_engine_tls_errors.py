"""A TLS failure got the advice for a service that is down ("could not connect: is the service running,
and listening at that address?"): an https:// URL to a plain-HTTP service, or a self-signed certificate,
sent the user looking for a server that was running."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading

import httpx

from pytest_ragprobe.adapters import HTTPPipeline
from pytest_ragprobe.engine import Call, EngineSettings, classify
from pytest_ragprobe.pipeline import PipelineAdapter
from pytest_ragprobe.runner import ProbeContext, ProbeError, RunSettings


def probe_error(pipeline: object) -> str:
    settings = RunSettings(engine=EngineSettings(concurrency=1, timeout=5.0, retries=0, fail_fast=0))
    ctx = ProbeContext(PipelineAdapter(pipeline), settings)
    asyncio.run(ctx.run_calls([Call("answer", "q")]))
    try:
        ctx.check_error_rate()
    except ProbeError as exc:
        return str(exc)
    raise AssertionError("no probe error")


def plain_http_server(replies: int) -> tuple[socket.socket, threading.Thread]:
    """A loopback server that answers whatever it is sent with an HTTP 400, as a plain-HTTP one answers
    a TLS hello, ``replies`` times."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        for _ in range(replies):
            conn, _ = server.accept()
            with conn:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


def test_https_to_a_plain_http_service_asks_whether_it_serves_https() -> None:
    server, thread = plain_http_server(1)
    with server:
        url = f"https://127.0.0.1:{server.getsockname()[1]}"
        message = probe_error(HTTPPipeline(url))
        thread.join()
    cause = f"TLS error (ConnectError) from {url}/answer"
    assert f"most common cause (1x): {cause} (the TLS handshake failed: is the service served over https? " \
        "One served over plain HTTP needs an http:// URL); first for 'q': " in message, message
    assert "could not connect" not in message


def test_an_untrusted_certificate_says_how_to_skip_the_check() -> None:
    url = "https://127.0.0.1:9/answer"
    try:
        try:
            raise ssl.SSLCertVerificationError(
                1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)"
            )
        except ssl.SSLError as tls:
            raise httpx.ConnectError(str(tls), request=httpx.Request("POST", url)) from tls
    except httpx.ConnectError as exc:
        error = exc
    failure = classify(error, 5.0)
    assert failure.cause == f"untrusted TLS certificate (ConnectError) from {url}"
    assert not failure.retryable  # (the same certificate comes back)

    def answer(question: str) -> str:
        raise error

    message = probe_error(answer)
    assert f"{failure.cause} (the service's TLS certificate could not be verified, e.g. a self-signed one: " \
        "HTTPPipeline and OpenAIGenerator take verify=False to skip the check); first for 'q': " in message, message


def test_a_tls_failure_is_said_as_one_when_the_url_holds_a_secret() -> None:
    # the adapter re-raises an error that quotes a secret scrubbed, without its chain (the ssl error)
    server, thread = plain_http_server(1)
    with server:
        port = server.getsockname()[1]
        message = probe_error(HTTPPipeline(f"https://127.0.0.1:{port}?api_key=s3cr3t-tls-key"))
        thread.join()
    assert "s3cr3t-tls-key" not in message
    assert f"most common cause (1x): TLS error (ConnectError) from https://127.0.0.1:{port}/answer?api_key=" in message
    assert "(the TLS handshake failed: is the service served over https?" in message, message
