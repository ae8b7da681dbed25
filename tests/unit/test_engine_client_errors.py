"""A pipeline of the user's own that calls its service with requests, urllib3 or aiohttp: a service that
is down gets the advice, the retries and the plain words the built-in HTTP adapter's gets.

requests' ConnectionError said "transport error (ConnectionError) from URL" with no advice, its detail
clipped just before "Connection refused" (urllib3's text runs past 200 characters); aiohttp's
ClientConnectorError (and a dropped connection) counted as a bug in the pipeline ("ClientConnectorError
at conftest.py:7"): not retried, no advice."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_ragprobe.engine import Call, EngineSettings, classify
from pytest_ragprobe.pipeline import PipelineAdapter
from pytest_ragprobe.runner import ProbeContext, ProbeError, RunSettings

ADVICE = " (could not connect: is the service running, and listening at that address?)"
QUESTION = "Which controller works with pump P-1?"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RequestsConnectionError(OSError):
    """requests.exceptions.ConnectionError (requests is not installed here): matched by module and
    name, made as requests' HTTPAdapter makes it, from urllib3's MaxRetryError."""

    __module__ = "requests.exceptions"

    def __init__(self, *args: object, request: Any = None) -> None:
        super().__init__(*args)
        self.request = request
        self.response = None


RequestsConnectionError.__name__ = RequestsConnectionError.__qualname__ = "ConnectionError"


def requests_error(url: str) -> BaseException:
    """What requests.post(url) raises for a refused connection: urllib3's real error, wrapped."""
    urllib3 = pytest.importorskip("urllib3")  # (requests' transport: not a dependency of ours)

    try:
        urllib3.PoolManager().request("POST", url, retries=urllib3.Retry(0, read=False))
    except urllib3.exceptions.MaxRetryError as exc:
        try:
            raise RequestsConnectionError(exc, request=SimpleNamespace(url=url)) from None
        except RequestsConnectionError as wrapped:
            wrapped.__context__ = exc  # (as requests raises it: inside its except block)
            return wrapped
    raise AssertionError("the connection was not refused")


def probe_error(answer: Callable[..., Any], retries: int = 0) -> tuple[ProbeContext, str]:
    settings = RunSettings(engine=EngineSettings(concurrency=1, timeout=5.0, retries=retries, backoff=0.001,
                                                 fail_fast=0))
    ctx = ProbeContext(PipelineAdapter(answer), settings)
    asyncio.run(ctx.run_calls([Call("answer", QUESTION)]))
    with pytest.raises(ProbeError) as info:
        ctx.check_error_rate()
    return ctx, str(info.value)


def test_requests_refused_connection_is_said_as_the_adapters_with_its_advice() -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}/answer"
    exc = requests_error(url)
    failure = classify(exc, 5.0)
    cause = f"transport error (NewConnectionError) from {url}"
    assert (failure.cause, failure.retryable) == (cause, True)
    assert failure.error == f"{cause}: cannot connect to 127.0.0.1:{port}: Connection refused"

    def answer(question: str) -> str:
        raise exc

    ctx, message = probe_error(answer, retries=1)
    assert ctx.retries == 1  # retried, as a transport error is
    assert message.endswith(
        f"most common cause (1x): {cause}{ADVICE}; first for {QUESTION!r}: cannot connect to 127.0.0.1:{port}: "
        "Connection refused"
    ), message


def test_urllib3_refused_connection_too() -> None:
    urllib3 = pytest.importorskip("urllib3")  # (requests' transport: not a dependency of ours)

    port = closed_port()
    url = f"http://127.0.0.1:{port}/answer"
    for retries in (urllib3.Retry(0, read=False), False):  # MaxRetryError, or the NewConnectionError itself
        with pytest.raises(urllib3.exceptions.HTTPError) as info:
            urllib3.PoolManager().request("POST", url, retries=retries)
        failure = classify(info.value, 5.0)
        assert failure.retryable and failure.cause.startswith("transport error (NewConnectionError)"), failure
        assert failure.error.endswith(f": cannot connect to 127.0.0.1:{port}: Connection refused"), failure


def test_requests_connection_dropped_mid_reply_gets_no_connect_advice() -> None:
    # "Connection aborted." is a ConnectionError too, but the service was reached: no "is it running?"
    url = "http://127.0.0.1:9/answer"
    exc = RequestsConnectionError(
        "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))",
        request=SimpleNamespace(url=url),
    )
    failure = classify(exc, 5.0)
    assert (failure.cause, failure.retryable) == (f"transport error (ConnectionError) from {url}", True)

    def answer(question: str) -> str:
        raise exc

    assert "could not connect" not in probe_error(answer)[1]


def test_aiohttp_refused_connection_is_a_retried_transport_error_with_advice() -> None:
    import aiohttp

    port = closed_port()

    async def answer(question: str) -> str:
        async with aiohttp.ClientSession() as session, session.post(f"http://127.0.0.1:{port}/answer") as reply:
            return await reply.text()

    ctx, message = probe_error(answer, retries=1)
    assert ctx.retries == 1
    cause = f"transport error (ClientConnectorError) from 127.0.0.1:{port}"
    assert message.endswith(
        f"most common cause (1x): {cause}{ADVICE}; first for {QUESTION!r}: cannot connect to 127.0.0.1:{port}: "
        "Connection refused"
    ), message
    assert ctx.error_tracebacks == {}  # not a bug in the pipeline's code


def test_aiohttp_dropped_connection_is_a_retried_transport_error() -> None:
    import aiohttp

    async def answer(question: str) -> str:
        raise aiohttp.ServerDisconnectedError()

    ctx, message = probe_error(answer, retries=1)
    assert ctx.retries == 1
    assert "most common cause (1x): transport error (ServerDisconnectedError); first for" in message, message
    assert "could not connect" not in message
    # a reply the pipeline's own code could not read stays the pipeline's error (its line is named)
    failure = classify(aiohttp.InvalidURL("nope"), 5.0)
    assert not failure.retryable and not failure.cause.startswith("transport error")


def test_a_name_not_resolved_is_a_connect_failure_too() -> None:
    # urllib3's NameResolutionError and aiohttp's ClientConnectorDNSError subclass the connect errors:
    # named by those, so the advice finds them
    urllib3 = pytest.importorskip("urllib3")  # (requests' transport: not a dependency of ours)

    dns = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    conn = urllib3.connection.HTTPConnection("svc.invalid", 80)
    failed = urllib3.exceptions.NameResolutionError("svc.invalid", conn, dns)
    failed.__cause__ = dns  # (as urllib3 raises it: from the socket's error)
    wrapped = RequestsConnectionError(failed, request=SimpleNamespace(url="http://svc.invalid/answer"))
    failure = classify(wrapped, 5.0)
    assert failure.cause == "transport error (NewConnectionError) from http://svc.invalid/answer"
    assert failure.error.endswith(": cannot connect to svc.invalid:80: Name or service not known"), failure
