"""An ``httpx`` transport backed by aiohttp: the HTTP adapters' connections, at a fraction of the CPU.

httpx's default transport (httpcore + anyio + h11, all pure Python) costs about 1 ms of CPU per
request over a kept-alive loopback connection, and more with many connections per pool; aiohttp's
client (C-accelerated HTTP parser, plain asyncio protocols) about 0.2 ms. With a 50 ms service at
32 concurrent calls (640 requests/s) that difference is most of a CPU core on a 2-core machine
(``bench/engine_throughput.py``).

Only the wire is aiohttp's. Everything the adapters rely on stays httpx's: the client still builds
requests (headers, auth flows, redirects, cookies, content decoding) and returns ``httpx.Response``,
and aiohttp's errors are re-raised as the httpx exceptions httpcore would have raised (timeouts as
``httpx.TimeoutException`` subclasses, refused/reset connections as ``httpx.ConnectError`` /
``httpx.ReadError``, a peer that hangs up or speaks broken HTTP as ``httpx.RemoteProtocolError``),
so the run engine classifies and retries them exactly as before. So aiohttp must not do any of
that work itself: no redirects, no decompression, no cookie jar, no headers of its own, no
``trust_env`` (which would also send ``~/.netrc`` credentials) — the adapters keep httpx's own
transport when proxy variables are set (:func:`env_proxies`).

aiohttp is imported when the first transport is made, so importing this module stays light.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import urllib.request
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    import aiohttp

#: Headers aiohttp would add when httpx's request does not carry them; httpx decides, not aiohttp.
_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


def env_proxies() -> dict[str, str]:
    """Proxies configured in the environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ...).

    httpx honours them itself; this transport does not, so callers use httpx's own transport when
    any is set."""
    return {k: v for k, v in urllib.request.getproxies().items() if k != "no"}


def client_timeout(timeouts: Mapping[str, float | None]) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for httpx's (``httpx.Timeout.as_dict()``, a request's ``"timeout"``
    extension)."""
    import aiohttp

    connect, read, pool = timeouts.get("connect"), timeouts.get("read"), timeouts.get("pool")
    # aiohttp's ``connect`` covers waiting for a free connection *and* opening one.
    acquire = None if connect is None or pool is None else connect + pool
    return aiohttp.ClientTimeout(total=None, connect=acquire, sock_connect=connect, sock_read=read)


def httpx_error(exc: aiohttp.ClientError, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception httpcore raises for the failure aiohttp reports as ``exc``."""
    import aiohttp

    mapped: type[httpx.TransportError]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        mapped = httpx.ConnectTimeout
    elif isinstance(exc, aiohttp.ServerTimeoutError):
        mapped = httpx.ReadTimeout
    elif isinstance(exc, (aiohttp.ClientProxyConnectionError, aiohttp.ClientHttpProxyError)):
        mapped = httpx.ProxyError
    elif isinstance(exc, aiohttp.ClientConnectorError):  # refused, DNS, TLS handshake
        mapped = httpx.ConnectError
    elif isinstance(
        exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError)
    ):  # hung up before a complete reply, or a reply that is not valid HTTP
        mapped = httpx.RemoteProtocolError
    elif isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        mapped = httpx.UnsupportedProtocol
    elif isinstance(exc, aiohttp.ClientConnectionError):  # reset, broken pipe, ...
        mapped = httpx.ReadError
    else:
        mapped = httpx.TransportError
    return mapped(_message(exc) or type(exc).__name__, request=request)


def _message(exc: aiohttp.ClientError) -> str:
    """``exc``'s text; a failed connect said as the OS said it (``cannot connect to 127.0.0.1:8000:
    Connection refused``, as httpx's own transport says ``[Errno 111] Connection refused``): aiohttp's
    "Cannot connect to host 127.0.0.1:8000 ssl:default [Connect call failed ('127.0.0.1', 8000)]"
    buried "refused" and named TLS settings for a plain http URL. TLS failures keep aiohttp's text."""
    import socket

    import aiohttp

    os_error = getattr(exc, "os_error", None)
    if not isinstance(exc, aiohttp.ClientConnectorError) or isinstance(exc, aiohttp.ClientSSLError) or (
        not isinstance(os_error, OSError)
    ):
        return str(exc)
    if isinstance(os_error, socket.gaierror):  # DNS: "Name or service not known"
        reason = str(os_error.strerror or os_error)
    elif os_error.errno:
        reason = os.strerror(os_error.errno)
    else:  # several addresses tried ("Multiple exceptions: ..."): aiohttp's words for them
        reason = str(os_error) or type(os_error).__name__
    return f"cannot connect to {exc.host}:{exc.port}: {reason}"


@contextlib.contextmanager
def _mapped_errors(request: httpx.Request) -> Iterator[None]:
    import aiohttp

    try:
        yield
    except aiohttp.ClientError as exc:
        raise httpx_error(exc, request) from exc


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped_errors(self._request):
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        self._response.release()  # back to the pool when fully read, else the connection is closed


def response_extensions(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """The ``httpx.Response`` extensions httpcore would set: HTTP version and, when sent, the reason
    phrase (httpx falls back to the standard one)."""
    version = response.version
    extensions: dict[str, Any] = {
        "http_version": f"HTTP/{version.major}.{version.minor}".encode() if version else b"HTTP/1.1"
    }
    if response.reason:
        extensions["reason_phrase"] = response.reason.encode("latin-1", "replace")
    return extensions


class AiohttpTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive over one aiohttp connection pool of ``max_connections``.

    ``verify`` is an ``ssl.SSLContext`` or False (no certificate checks), as the adapters pass it.
    The pool belongs to the event loop of the first request; ``aclose()`` it in that loop (the
    adapters do: one client per loop, closed by the engine after a probe's calls).
    """

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | bool = True,
        max_connections: int = 100,
        keepalive_expiry: float = 5.0,
    ) -> None:
        self._ssl: ssl.SSLContext | bool = verify
        self._max_connections = max(1, max_connections)
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None
        self._replays: dict[tuple[str, str, bytes], httpx.Response] = {}

    def replay_once(self, request: httpx.Request, response: httpx.Response) -> None:
        """Answer the next request identical to ``request`` (method, URL, body) with ``response``
        instead of sending it: a redirect the adapters' direct path already received is handed to
        httpx this way, which then follows it without sending the first hop twice."""
        self._replays[(request.method, str(request.url), request.content)] = response

    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session (made on first use, in the running loop)."""
        if self._session is None:
            import aiohttp

            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                limit_per_host=0,
                ssl=self._ssl,
                keepalive_timeout=self._keepalive_expiry,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=_NO_AUTO_HEADERS,
                auto_decompress=False,
                trust_env=False,
                timeout=aiohttp.ClientTimeout(total=None),
                max_field_size=16_384,
                max_line_size=16_384,
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import yarl

        if request.url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{request.url.scheme}://'.",
                request=request,
            )
        session = self.session()
        try:
            body: bytes | None = request.content
        except httpx.RequestNotRead:
            body = await request.aread()
        if self._replays:
            replay = self._replays.pop((request.method, str(request.url), body or b""), None)
            if replay is not None:
                return httpx.Response(
                    replay.status_code,
                    headers=replay.headers.multi_items(),
                    content=replay.content,
                    request=request,
                    extensions=replay.extensions,
                )
        with _mapped_errors(request):
            response = await session.request(
                request.method,
                yarl.URL(str(request.url), encoded=True),
                headers=list(request.headers.multi_items()),
                data=body or None,
                allow_redirects=False,
                timeout=client_timeout(request.extensions.get("timeout", {})),
            )
        return httpx.Response(
            response.status,
            headers=list(response.raw_headers),
            stream=_ResponseStream(response, request),
            request=request,
            extensions=response_extensions(response),
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()
