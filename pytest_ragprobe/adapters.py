"""HTTP adapters: a RAG service behind JSON endpoints, and any OpenAI-compatible chat server as a
reader.

Both are async (an ``httpx.AsyncClient``, over aiohttp's HTTP/1.1 connections unless proxy
variables are set: see ``_transport``),
carry ``name``/``version`` (their cache identity) and leave retries, timeouts per call and
concurrency to the run engine: they raise ``httpx.HTTPStatusError`` for non-2xx responses (the
engine retries 429/5xx, honouring ``Retry-After``), httpx's transport exceptions for connection
trouble, and :class:`MalformedResponseError` (a ``PipelineOutputError``) when a body is not the
documented JSON, naming the URL. Each event loop gets its own client; the engine closes it when a
probe's calls are done.

httpx is imported lazily, so importing this module (and ``pytest --help``) stays light.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import string
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from pytest_ragprobe.types import (
    Answer,
    Document,
    PipelineOutputError,
    closest,
    one_line,
    redact,
    redact_url,
    register_basic_auth,
    register_secret,
    reported_error,
    secret_name,
    to_answer,
    to_documents,
)

if TYPE_CHECKING:
    import httpx

    from pytest_ragprobe._transport import AiohttpTransport

DEFAULT_PROMPT = (
    "Answer the question using only the documents below. Reply with the answer only, as briefly as "
    "possible.\n\n{context}\n\nQuestion: {question}\nAnswer:"
)


class MalformedResponseError(PipelineOutputError):
    """A response body is not the JSON an endpoint documents. ``cause`` (the form the run summary
    groups by) names the URL and, given ``summary``, what was expected and what came back; the
    message adds ``detail``."""

    def __init__(self, url: str, detail: str, summary: str | None = None) -> None:
        # redacted: the URL may carry a key (?api_key=), the body may quote one back
        self.url = url = redact_url(url)
        self.cause = redact(f"malformed response from {url}" + (f": {summary}" if summary else ""))
        super().__init__(redact(f"malformed response from {url}: {detail}"))


#: What the answer and generate endpoints must return (``types.to_answer``).
_ANSWER_SHAPE = (
    "a JSON object with a string 'answer' or 'text' (and optional 'documents'), or a JSON string"
)
_DOCUMENTS_SHAPE = "a list of strings or of objects with a string 'text'"
_JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def _excerpt(text: str, limit: int = 60) -> str:
    return repr(one_line(text, limit))


def _received(data: object) -> str:
    """What a JSON body held, for a message: its keys, or a clipped excerpt of anything else."""
    if data is None:
        return "an empty body or JSON null"
    if isinstance(data, Mapping):
        return f"JSON keys {sorted(map(str, data))}" if data else "an empty JSON object"
    kind = _JSON_TYPES.get(type(data), type(data).__name__)
    return f"a JSON {kind}: {_excerpt(json.dumps(data, ensure_ascii=False))}"


def _bad_documents(url: str, expected: str, exc: PipelineOutputError) -> MalformedResponseError:
    """The body has the right shape but a document is wrong: the cause says what is wrong, without
    the index (which differs from call to call), the message also says which document."""
    problem = re.sub(r"^response[\w.\[\]]*: ", "", exc.cause or str(exc))  # cause: without the value
    return MalformedResponseError(url, f"expected {expected}; {exc}", f"expected {expected}; {problem}")


def _malformed_answer(
    url: str, data: object, exc: PipelineOutputError, method: str = "answer(question)"
) -> MalformedResponseError:
    """For a body ``types.to_answer`` rejected: what was expected and what came back."""
    if isinstance(data, Mapping) and isinstance(data.get("text", data.get("answer")), str):
        return _bad_documents(url, f"'documents' as {_DOCUMENTS_SHAPE}", exc)
    summary = f"expected {_ANSWER_SHAPE}, got {_received(data)}"
    if isinstance(data, Mapping):  # {"answer": null} read "got JSON keys ['answer']": say what is wrong
        key = "text" if "text" in data else "answer" if "answer" in data else None
        if key is not None:
            value = data[key]
            kind = "null" if value is None else _JSON_TYPES.get(type(value), "not a string")
            summary += f" ({key!r} is {kind})"
        elif data:  # a JSON shape of the service's own ({"response": ...}): HTTPPipeline has no field option
            summary += _own_shape_hint(f"{method} calls the service and returns its answer text")
    return MalformedResponseError(url, summary, summary)


def _own_shape_hint(method: str) -> str:
    """The way out when a service's JSON names its fields otherwise: HTTPPipeline reads only its own
    field names, so a user whose service says ``{"response": ...}`` was left to guess."""
    return f"; for a service with a JSON shape of its own, make the pipeline an object whose {method}"


def _check_reported_error(url: str, data: object) -> None:
    """A 2xx reply whose JSON carries an ``error`` (``{"answer": "", "error": "model overloaded"}``)
    is a failed call: scored, its empty answer would count as a wrong one (or its empty documents
    as a retrieval miss)."""
    error = reported_error(data) if isinstance(data, Mapping) else None
    if error is not None:
        url, error = redact_url(url), redact(error)  # "invalid key sk-..." quotes the key back
        raise PipelineOutputError(
            f"{url} answered with an error field: {error[:300]!r}",
            f"{url} answered with an error field: {_excerpt(error)}",
        )


_SSL_CONTEXT: Any = None


def _ssl_context() -> Any:
    """One verifying SSL context per process (building one costs ~0.2 s; clients are made per loop)."""
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        import ssl

        try:
            import certifi

            _SSL_CONTEXT = ssl.create_default_context(cafile=certifi.where())
        except ImportError:
            _SSL_CONTEXT = ssl.create_default_context()
    return _SSL_CONTEXT


#: Connections per ``httpx.AsyncClient`` when httpx's own transport is used (proxies configured in
#: the environment, see ``_transport.env_proxies``). httpcore's pool re-scans all of its connections
#: (and polls each idle socket) several times per request, roughly O(connections^2) per request:
#: with one pool of 32 busy connections the client spent ~5 ms of CPU per request (~1.5 ms over one
#: connection) on a 2-core machine, so 32 concurrent calls to a 50 ms loopback service ran at a third
#: of the ideal rate (bench/engine_throughput.py). Several small pools keep the cost per request
#: nearly flat. Otherwise one client over ``_transport.AiohttpTransport`` (one aiohttp pool, ~0.2 ms
#: of CPU per request on the wire) holds all connections.
_CONNECTIONS_PER_POOL = 8


def _checked_content(response: httpx.Response) -> bytes:
    response.raise_for_status()
    content = response.content
    if response.history and content:  # a redirect followed: a body that is not JSON is a login page, mostly
        try:
            json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            # (here, not in _post_json: the cache identity of HTTPPipeline / OpenAIGenerator hashes the code
            # of their methods, _LoopBoundClient's included: a change there misses every cached answer once)
            text = content.decode("utf-8", "replace")
            urls = [redact_url(str(r.url)) for r in (*response.history, response)]
            hops = ", ".join(
                f"{r.status_code}{f' from {urls[0]}' if i == 0 else ''} to {urls[i + 1]}"
                for i, r in enumerate(response.history)
            )
            auth = "the endpoint probably needs auth headers (headers={'Authorization': ...})"
            note = f"redirected ({hops}): {auth}"
            raise MalformedResponseError(
                urls[0],
                f"not JSON ({exc.__class__.__name__}): {text[:120]!r}; {note}",
                f"expected JSON, got {_excerpt(text)}; {note}",
            ) from None
    return content


class _Direct:
    """The common case of an adapter's POST, sent straight through the aiohttp session of the
    client's ``AiohttpTransport``, without httpx's per-request objects (request and response
    models, auth and redirect flows, cookie extraction: about half of the client's CPU per request).

    Used only where those steps have nothing to do: no ``auth``, no cookie held, and the endpoint has
    not redirected. Anything else gets httpx's own handling: a reply that sets a cookie or is
    compressed is turned into an ``httpx.Response`` (the client keeps the cookie, httpx decodes the
    body), a non-2xx reply raises ``httpx.HTTPStatusError`` from such a response, transport failures
    raise the httpx exceptions of ``_transport.httpx_error``, and a redirect returns None: the caller
    then sends the same POST through the client, whose transport answers it with the redirect already
    received (``AiohttpTransport.replay_once``), so httpx follows it and the endpoint sees one POST.
    """

    def __init__(
        self, client: httpx.AsyncClient, transport: AiohttpTransport, timeout: httpx.Timeout
    ) -> None:
        from pytest_ragprobe._transport import client_timeout

        self.client = client
        self.transport = transport
        self.headers = [*client.headers.multi_items(), ("Content-Type", "application/json")]
        self.timeout = client_timeout(timeout.as_dict())

    async def post_json(self, url: httpx.URL, payload: Any) -> bytes | None:
        import aiohttp
        import httpx
        import yarl

        from pytest_ragprobe._transport import httpx_error, response_extensions

        # the body httpx sends for ``json=``
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        try:
            async with self.transport.session().post(
                yarl.URL(str(url), encoded=True),
                data=body.encode("utf-8"),
                headers=self.headers,
                allow_redirects=False,
                timeout=self.timeout,
            ) as reply:
                content = await reply.read()
        except aiohttp.ClientError as exc:
            raise httpx_error(exc, self.client.build_request("POST", url, json=payload)) from exc
        headers = reply.headers
        if (
            200 <= reply.status < 300
            and "Set-Cookie" not in headers
            and "Content-Encoding" not in headers
        ):
            return content
        response = httpx.Response(
            reply.status,
            headers=list(reply.raw_headers),
            content=content,  # decoded by httpx according to Content-Encoding
            request=self.client.build_request("POST", url, json=payload),
            extensions=response_extensions(reply),
        )
        self.client.cookies.extract_cookies(response)
        if response.is_redirect:  # httpx follows it from this reply, not by re-sending the POST
            self.transport.replay_once(response.request, response)
            return None
        response.raise_for_status()
        return response.content


class _LoopBoundClient:
    """Holds the ``httpx.AsyncClient`` shards of the running event loop (a client must not cross
    loops). Normally one client whose transport is aiohttp's (``_transport.AiohttpTransport``), and
    plain JSON POSTs take the :class:`_Direct` path through that transport's session; with proxies
    set in the environment, httpx's own transport (which honours them), with ``max_connections``
    split over pools of at most ``_CONNECTIONS_PER_POOL``, each request going to the pool with the
    fewest requests in flight (the first one when idle)."""

    def __init__(
        self,
        *,
        headers: Mapping[str, str] | None,
        auth: Any,
        timeout: float | None,
        verify: bool,
        max_connections: int,
    ) -> None:
        self._headers = dict(headers or {})
        self._auth = auth
        self._timeout = timeout
        self._verify = verify
        self._max_connections = max(1, max_connections)
        self._aiohttp = True
        self._pool_sizes = [self._max_connections]
        self._clients: list[httpx.AsyncClient | None] = [None]
        self._direct: list[_Direct | None] = [None]
        self._in_flight = [0]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._parsed_urls: dict[str, httpx.URL] = {}
        self._redirecting: set[str] = set()  # endpoints that answered with a redirect

    def _bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Forget the clients (made in another loop, or closed) and choose the transport anew."""
        from pytest_ragprobe._transport import env_proxies

        self._aiohttp = not env_proxies()
        per_pool = self._max_connections if self._aiohttp else _CONNECTIONS_PER_POOL
        n = -(-self._max_connections // per_pool)
        per, extra = divmod(self._max_connections, n)
        self._pool_sizes = [per + (i < extra) for i in range(n)]
        self._clients = [None] * n
        self._direct = [None] * n
        self._in_flight = [0] * n
        self._loop = loop

    def _make_client(self, shard: int) -> httpx.AsyncClient:
        import httpx

        size = self._pool_sizes[shard]
        verify = _ssl_context() if self._verify else False
        aio: AiohttpTransport | None = None
        if self._aiohttp:
            from pytest_ragprobe._transport import AiohttpTransport

            aio = AiohttpTransport(verify=verify, max_connections=size)
        timeout = httpx.Timeout(self._timeout)
        client = httpx.AsyncClient(
            headers=self._headers,
            auth=self._auth,
            timeout=timeout,
            verify=verify,
            limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
            follow_redirects=True,
            transport=aio,
        )
        use_direct = aio is not None and self._auth is None
        self._direct[shard] = _Direct(client, aio, timeout) if use_direct and aio else None
        return client

    def _get_client(self, shard: int = 0) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._bind(loop)
        client = self._clients[shard]
        if client is None or client.is_closed:
            client = self._clients[shard] = self._make_client(shard)
        return client

    async def _post_json(self, url: str, payload: Any) -> Any:
        self._get_client()  # binds to this loop (resets the counts for a new one)
        target = self._parsed_urls.get(url)
        if target is None:  # parsed once per endpoint, not on every request
            import httpx

            target = self._parsed_urls[url] = httpx.URL(url)
        in_flight = self._in_flight
        shard = in_flight.index(min(in_flight))
        client = self._get_client(shard)
        direct = self._direct[shard]
        in_flight[shard] += 1
        try:
            if direct is not None and url not in self._redirecting and not client.cookies:
                content = await direct.post_json(target, payload)
                if content is None:  # a redirect: httpx follows it, now and from now on
                    self._redirecting.add(url)
                    content = _checked_content(await client.post(target, json=payload))
            else:
                content = _checked_content(await client.post(target, json=payload))
        except Exception as exc:
            scrubbed = _scrubbed(exc)
            if scrubbed is exc:
                raise
            raise scrubbed from None  # the original's chain would quote the secrets again
        finally:
            in_flight[shard] -= 1
        if not content:
            return None
        try:
            return json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            text = content.decode("utf-8", "replace")
            raise MalformedResponseError(
                url,
                f"not JSON ({exc.__class__.__name__}): {text[:120]!r}",
                f"expected JSON, got {_excerpt(text)}",
            ) from None

    async def aclose(self) -> None:
        """Close the clients of the current loop (new ones are made on the next call)."""
        clients = self._clients
        self._bind(None)
        for client in clients:
            if client is not None and not client.is_closed:
                with contextlib.suppress(RuntimeError):  # made in a loop that is gone: drop it
                    await client.aclose()

    async def _ragprobe_prepare(self) -> None:
        self._get_client()  # import httpx and build the client before any call's timeout starts

    async def _ragprobe_release(self) -> None:
        await self.aclose()

    async def __aenter__(self) -> _LoopBoundClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _scrubbed(exc: Exception) -> Exception:
    """An httpx error without the secrets it may quote, else ``exc`` itself: its request URL (the
    run summary names it: ``HTTP 401 from URL``) as :func:`redact_url` leaves it, and its message
    and response body (shown after the status; a 401 often quotes the key back) redacted. Same
    type, status and headers (``Retry-After``), so it is retried or not alike."""
    import httpx

    if not isinstance(exc, (httpx.HTTPStatusError, httpx.RequestError)):
        return exc
    try:
        request = exc.request
    except RuntimeError:  # no request attached: only the message can quote anything
        return exc
    url = str(request.url)
    safe_url = redact_url(url)
    message = redact(str(exc).replace(url, safe_url))
    response = exc.response if isinstance(exc, httpx.HTTPStatusError) else None
    try:
        body = "" if response is None else response.text
    except Exception:  # undecodable or streamed: nothing quoted that can be read
        body = ""
    safe_body = redact(body)
    if safe_url == url and message == str(exc) and safe_body == body:
        return exc
    safe_request = httpx.Request(request.method, safe_url)
    if response is None:
        return type(exc)(message, request=safe_request)  # type: ignore[call-arg]  # a RequestError
    kept = ("content-length", "content-encoding", "transfer-encoding")
    safe_response = httpx.Response(
        response.status_code,
        headers=[(k, v) for k, v in response.headers.multi_items() if k.lower() not in kept],
        content=safe_body.encode("utf-8"),
        request=safe_request,
        extensions=response.extensions,
    )
    safe_response.history = response.history  # (the error says the redirects, their URLs redacted)
    return httpx.HTTPStatusError(message, request=safe_request, response=safe_response)


def _register_secrets(headers: Mapping[str, str] | None, auth: Any) -> None:
    """Remember the secrets an adapter is configured with, for :func:`redact` to remove from every
    message, report and cache file: header values named like secrets (``Authorization``,
    ``X-Api-Key``) and ``auth`` (a (user, password) pair, or an ``httpx.Auth``'s credentials)."""
    for name, value in (headers or {}).items():
        if secret_name(name):
            register_secret(value)
    if isinstance(auth, (tuple, list)) and len(auth) == 2:
        register_basic_auth(*(a.decode() if isinstance(a, bytes) else a for a in auth))
    elif auth is not None and hasattr(auth, "__dict__"):
        for name, value in vars(auth).items():  # httpx.BasicAuth keeps "_auth_header"
            if secret_name(name) or name.lstrip("_").startswith("auth_header"):
                register_secret(value)


def _url_secrets(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without ``user:password@`` and those credentials (None when it has none), their secrets
    and those of its query (``?api_key=``) registered (see :func:`_register_secrets`)."""
    parts = urlsplit(url)
    for name, value in (p.partition("=")[::2] for p in parts.query.split("&") if p):
        if secret_name(unquote(name), query=True):
            register_secret(unquote(value))
    if "@" not in parts.netloc:
        return url, None
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    register_basic_auth(user, password)
    if not password:  # a lone user name in a URL is usually a token
        register_secret(user)
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=host).geturl(), (user, password)


def _check_options(
    owner: str, headers: object, timeout: object, max_connections: object, **more: object
) -> None:
    """ValueError / TypeError at construction for values every call would trip over (a bare "Header value
    must be str or bytes" mid-probe; timeout=-1 failing calls erratically). ``more``: ``top_k`` (int >= 1),
    ``temperature`` (>= 0), ``max_tokens`` (int >= 1)."""

    def whole(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    def real(v: object) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if headers is not None:
        if not isinstance(headers, Mapping):
            raise TypeError(f"{owner}: headers must be a mapping of str to str, got {type(headers).__name__}")
        for key, value in headers.items():
            if not isinstance(key, str) or not isinstance(value, (str, bytes)):
                shown = "***" if isinstance(key, str) and secret_name(key) else repr(value)
                got = f"{type(value).__name__} ({shown})"
                raise TypeError(f"{owner}: header {key!r} must be a str, got {got}")
    if timeout is not None and (not real(timeout) or not timeout > 0):  # type: ignore[operator]
        raise ValueError(f"{owner}: timeout must be a number of seconds > 0 (or None), got {timeout!r}")
    checks = {"max_connections": max_connections, **more}
    for name, value in checks.items():
        if name == "temperature":
            ok = real(value) and value >= 0  # type: ignore[operator]
            want = "a number >= 0"
        else:
            ok = whole(value) and value >= 1  # type: ignore[operator]
            want = "an int >= 1"
        if not ok:
            raise ValueError(f"{owner}: {name} must be {want}, got {value!r}")


def _check_url(owner: str, arg: str, url: object) -> None:
    """A ValueError at construction unless ``url`` is an http(s) URL with a host: httpx would
    otherwise fail every call alike ("transport error (UnsupportedProtocol)")."""
    if not isinstance(url, str):
        raise TypeError(f"{owner}: {arg} must be a str URL, got {type(url).__name__}")
    parts = urlsplit(url)
    shown = redact_url(url)
    if parts.scheme.lower() not in ("http", "https"):
        hint = f" (e.g. 'http://{shown}')" if url and "://" not in url else ""
        raise ValueError(f"{owner}: {arg} {shown!r} needs http:// or https://{hint}")
    if not parts.hostname:
        raise ValueError(f"{owner}: {arg} {shown!r} has no host")


def _join(base: str, path: str) -> str:
    """``path`` after ``base``'s path, keeping ``base``'s query (``http://h/v1?api_key=K`` and
    ``/answer`` give ``http://h/v1/answer?api_key=K``, not a path inside the query)."""
    if not path:
        return base
    if path.startswith(("http://", "https://")):
        return path
    parts = urlsplit(base)
    extra = urlsplit(path)
    query = "&".join(q for q in (parts.query, extra.query) if q)
    joined = parts.path.rstrip("/") + "/" + extra.path.lstrip("/")
    return parts._replace(path=joined, query=query, fragment="").geturl()


def _docs_payload(documents: Sequence[Document]) -> list[dict[str, Any]]:
    return [d.to_dict() for d in documents]


class HTTPPipeline(_LoopBoundClient):
    """A RAG service reached over HTTP, JSON in and out.

    ``HTTPPipeline("http://localhost:8000", headers={"X-Key": "..."})`` POSTs
    ``{"question": "..."}`` to ``url + answer_path`` and expects ``{"answer": "..."}`` or ``{"text":
    "..."}``, optionally with ``"documents": [{"text", "title", "id", "metadata"} | "plain text",
    ...]`` (the retrieved passages, which enables retrieval-vs-reading attribution); a bare JSON
    string is accepted too. A reply (from any endpoint) whose JSON object has a non-empty ``"error"``
    is a failed call, even with an ``"answer"`` beside it.

    Optional endpoints, enabled by giving their path (``None`` = the capability is absent):

    * ``retrieve_path``: ``{"query": q, "k": k}`` -> ``{"documents": [...]}`` or a JSON list;
    * ``generate_path``: ``{"question": q, "documents": [...]}`` -> ``{"answer"|"text": ...}``
      (needed by position probes);
    * ``index_path``: ``{"documents": [...]}`` -> anything (needed by ``facts="synthetic:N"``).

    ``answer_path=None`` with retrieve and generate set answers as ``generate(q, retrieve(q,
    top_k))``.
    ``auth`` is anything httpx accepts (``("user", "pass")``, an ``httpx.Auth``). ``timeout`` is
    httpx's own per-request timeout (default: none; the engine's ``--ragprobe-timeout`` applies per
    call anyway).
    ``name`` defaults to the URL; change ``version`` whenever the service's behaviour changes, so
    cached answers are not reused (see ``pytest_ragprobe.cache``).
    The probes open and close its connections themselves; called directly (``await
    pipe.answer(q)``), use ``async with HTTPPipeline(...) as pipe:`` or ``await pipe.aclose()``:
    otherwise its connections stay open until it is garbage-collected, and Python reports them
    in ``ResourceWarning`` warnings such as "Unclosed client session" (requests are made with
    httpx, over an aiohttp connection pool unless proxy variables are set).
    """

    def __init__(
        self,
        url: str,
        *,
        answer_path: str | None = "/answer",
        retrieve_path: str | None = None,
        generate_path: str | None = None,
        index_path: str | None = None,
        headers: Mapping[str, str] | None = None,
        auth: Any = None,
        timeout: float | None = None,
        verify: bool = True,
        max_connections: int = 100,
        name: str | None = None,
        version: str = "",
        top_k: int = 5,
    ) -> None:
        _check_url("HTTPPipeline", "url", url)
        _check_options("HTTPPipeline", headers, timeout, max_connections, top_k=top_k)
        if not any((answer_path, retrieve_path, generate_path, index_path)):
            raise ValueError(
                "HTTPPipeline: no endpoint: give answer_path (default '/answer'), or retrieve_path and "
                "generate_path (it then answers by retrieving and generating)"
            )
        # user:password@ in the URL is sent as Basic auth (as httpx does when no auth= is given), not
        # left in the URL: aiohttp refuses credentials in a URL beside an Authorization header, and a
        # URL is named in the report, the cache and error messages.
        endpoint, credentials = _url_secrets(url)
        if auth is None and credentials is not None and any(credentials):
            auth = credentials
        _register_secrets(headers, auth)
        super().__init__(
            headers=headers,
            auth=auth,
            timeout=timeout,
            verify=verify,
            max_connections=max_connections,
        )
        self.url = url
        # The default name (the cache identity and the report's label) is the URL without its
        # secrets: rotating a key keeps the cached answers, another endpoint does not.
        self.name = name or f"http:{redact_url(url.rstrip('/'))}"
        self.version = version
        self.top_k = top_k
        for path in (answer_path, retrieve_path, generate_path, index_path):
            if path and path.startswith(("http://", "https://")):
                _url_secrets(path)
        self.answer_url = None if answer_path is None else _join(endpoint, answer_path)
        self.retrieve_url = None if retrieve_path is None else _join(endpoint, retrieve_path)
        self.generate_url = None if generate_path is None else _join(endpoint, generate_path)
        self.index_url = None if index_path is None else _join(endpoint, index_path)
        # each endpoint's URL: the argument that added its path (for a 404's hint, see _post_json)
        self._paths = {
            u: (f"{kind}_path", path)
            for kind, path, u in (
                ("index", index_path, self.index_url),
                ("generate", generate_path, self.generate_url),
                ("retrieve", retrieve_path, self.retrieve_url),
                ("answer", answer_path, self.answer_url),
            )
            if u is not None and path
        }
        # Capabilities the service does not offer are hidden (the adapter looks for callables).
        for capability, endpoint_url in (
            ("retrieve", self.retrieve_url),
            ("generate", self.generate_url),
            ("index", self.index_url),
        ):
            if endpoint_url is None:
                setattr(self, capability, None)
        if self.answer_url is None and (self.retrieve_url is None or self.generate_url is None):
            self.answer = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"HTTPPipeline({redact_url(self.url)!r}, name={self.name!r}, version={self.version!r})"

    async def _post_json(self, url: str, payload: Any) -> Any:
        import httpx

        try:
            return await super()._post_json(url, payload)
        except httpx.HTTPStatusError as exc:
            hint = self._doubled_path_hint(url) if exc.response.status_code == 404 else None
            if hint is None:
                raise
            raise _with_hint(exc, hint) from None

    def _doubled_path_hint(self, url: str) -> str | None:
        """For a 404 from an endpoint whose path the url given already ended with (the endpoint's own URL
        given, ``HTTPPipeline("http://h/answer")`` calling http://h/answer/answer): the base URL."""
        kind, path = self._paths.get(url, ("", ""))
        added = "/" + urlsplit(path).path.strip("/")
        given = urlsplit(redact_url(self.url))
        if path.startswith(("http://", "https://")) or added == "/" or not (
            given.path.rstrip("/").endswith(added)
        ):
            return None
        base = given._replace(path=given.path.rstrip("/")[: -len(added)]).geturl()
        return f"did you mean HTTPPipeline({base!r})? (it adds {kind}={path!r} to the url)"

    def _ragprobe_service(self) -> str | None:
        """The service, when the cache knows it by its address alone (no ``version``): answers cached
        from it are reused after a redeployment behind the same URL (see engine.unversioned_services)."""
        return None if self.version else redact_url(self.url)

    def _ragprobe_missing(self, capability: str) -> str:
        """The fix to name when a probe needs an endpoint this pipeline was not given (instead of
        the generic "add a generate() method" advice, which does not apply to a service)."""
        if capability == "answer":
            return "Give HTTPPipeline answer_path='/answer', or retrieve_path= and generate_path=."
        return (
            f"Give HTTPPipeline {capability}_path='/{capability}' (the path of the service's "
            f"{capability} endpoint)."
        )

    async def answer(self, question: str) -> Answer:
        if self.answer_url is None:
            docs = await self.retrieve(question, self.top_k)
            return Answer(text=await self.generate(question, docs), documents=tuple(docs))
        url = self.answer_url
        data = await self._post_json(url, {"question": question})
        _check_reported_error(url, data)
        try:
            return to_answer(data, where="response")
        except PipelineOutputError as exc:
            raise _malformed_answer(url, data, exc) from None

    async def retrieve(self, query: str, k: int) -> list[Document]:
        url = self.retrieve_url
        if url is None:
            raise NotImplementedError("HTTPPipeline has no retrieve_path")
        body = await self._post_json(url, {"query": query, "k": k})
        _check_reported_error(url, body)
        data, where = body, "response"
        if isinstance(body, Mapping):
            data, where = body.get("documents", body.get("contexts")), "response.documents"
        try:
            return to_documents(data, where=where)
        except PipelineOutputError as exc:
            expected = f"a JSON list or an object with 'documents', holding {_DOCUMENTS_SHAPE}"
            if isinstance(data, list):
                raise _bad_documents(url, expected, exc) from None
            summary = f"expected {expected}, got {_received(body)}"
            fields = [k for k in ("documents", "contexts") if isinstance(body, Mapping) and k in body]
            if fields:  # {"documents": null}: its field name, a wrong value (not a JSON shape of its own)
                value = body[fields[0]]
                kind = "null" if value is None else _JSON_TYPES.get(type(value), "not a list")
                summary += f" ({fields[0]!r} is {kind})"
            elif isinstance(body, Mapping) and body:  # {"hits": [...]}: its own field name
                summary += _own_shape_hint("retrieve(query, k) calls the service and returns its documents")
            raise MalformedResponseError(url, summary, summary) from None

    async def generate(self, question: str, documents: Sequence[Document]) -> str:
        url = self.generate_url
        if url is None:
            raise NotImplementedError("HTTPPipeline has no generate_path")
        data = await self._post_json(
            url, {"question": question, "documents": _docs_payload(documents)}
        )
        _check_reported_error(url, data)
        try:
            return to_answer(data, where="response").text
        except PipelineOutputError as exc:
            raise _malformed_answer(url, data, exc, "generate(question, documents)") from None

    async def index(self, documents: Sequence[Document]) -> None:
        url = self.index_url
        if url is None:
            raise NotImplementedError("HTTPPipeline has no index_path")
        await self._post_json(url, {"documents": _docs_payload(documents)})


def render_context(documents: Sequence[Document]) -> str:
    """Documents as numbered passages, the layout of the lost-in-the-middle experiments."""
    return "\n\n".join(f"Document [{i}] {d.render()}" for i, d in enumerate(documents, 1))


#: The placeholders of ``OpenAIGenerator``'s prompt.
_PROMPT_FIELDS = ("context", "question")
#: Names other frameworks use for them (LlamaIndex: ``{context_str}``, ``{query_str}``).
_PROMPT_ALIASES = {
    "documents": "context", "docs": "context", "passages": "context", "contexts": "context",
    "context_str": "context", "ctx": "context", "query": "question", "query_str": "question",
    "q": "question", "input": "question",
}


def _prompt_fields(template: str) -> list[str]:
    """The placeholders of a format string, those nested in a format spec (``{question:{w}}``)
    included; ValueError for unbalanced braces."""
    fields = []
    for _, field, spec, _ in string.Formatter().parse(template):
        if field is not None:
            fields.append(field)
            if spec:
                fields.extend(_prompt_fields(spec))
    return fields


def _suggest_field(field: str) -> str | None:
    name = re.split(r"[.\[!:]", field.strip(), maxsplit=1)[0].strip().lower()
    if name in _PROMPT_FIELDS:  # {context[0]}, {question.upper}, { question }
        return name
    return _PROMPT_ALIASES.get(name) or closest(name, _PROMPT_FIELDS, cutoff=0.6)


def _check_prompt(prompt: object) -> None:
    """A ValueError at construction unless ``prompt`` is a template of ``{context}`` and
    ``{question}``: otherwise every call failed alike (``KeyError: 'contexts'``), or the documents
    never reached the model and a probe measured nothing."""
    if not isinstance(prompt, str):
        raise TypeError(f"OpenAIGenerator: prompt must be a str, got {type(prompt).__name__}")
    rules = (
        "its placeholders are {context} (the numbered documents) and {question}; write a literal "
        "brace as {{ or }}"
    )
    try:
        fields = _prompt_fields(prompt)
    except ValueError as exc:
        raise ValueError(f"OpenAIGenerator: prompt is not a valid template ({exc}); {rules}") from None
    unknown = [f for f in dict.fromkeys(fields) if f not in _PROMPT_FIELDS]
    if unknown:
        named = []
        for field in unknown:
            guess = _suggest_field(field)
            named.append("{" + field + "}" + (f" (did you mean {{{guess}}}?)" if guess else ""))
        which = "placeholder" if len(unknown) == 1 else "placeholders"
        raise ValueError(f"OpenAIGenerator: prompt has unknown {which} {', '.join(named)}; {rules}")
    if "question" not in fields:
        raise ValueError(
            "OpenAIGenerator: prompt has no {question} placeholder, so the model would never see "
            f"the question; {rules}"
        )
    if "context" not in fields:
        raise ValueError(
            "OpenAIGenerator: prompt has no {context} placeholder, so the documents would never "
            "reach the model (and a probe would measure nothing); put {context} where the "
            "numbered documents go, as pytest_ragprobe.adapters.DEFAULT_PROMPT does"
        )
    try:
        prompt.format(question="?", context="?")
    except (ValueError, TypeError, AttributeError, LookupError) as exc:  # {question:d}, {question!x}
        raise ValueError(
            f"OpenAIGenerator: prompt cannot be filled in ({type(exc).__name__}: {exc}); {rules}"
        ) from None


def _not_found_hint(base_url: str) -> str | None:
    """What to try when ``base_url + "/chat/completions"`` is not found: the ``/v1`` that
    OpenAI-compatible servers put before it, unless the path already has a version segment."""
    path = urlsplit(base_url).path.rstrip("/")
    base_url = redact_url(base_url)
    if path.endswith("/chat/completions"):
        return f"did you mean base_url={base_url[: -len('/chat/completions')]!r}?"
    if any(re.fullmatch(r"v\d+\w*", segment) for segment in path.split("/")):
        return None
    return (
        f"did you mean base_url={base_url + '/v1'!r}? (OpenAI-compatible servers serve "
        "/v1/chat/completions)"
    )


def _with_hint(exc: httpx.HTTPStatusError, hint: str) -> httpx.HTTPStatusError:
    """``exc`` with ``hint`` before the body of its response (which the run summary shows after
    the status) and in its message: the same type and status, so it is retried (or not) alike."""
    import httpx

    old = exc.response
    kept = ("content-length", "content-encoding", "transfer-encoding", "content-type")
    headers = [(k, v) for k, v in old.headers.multi_items() if k.lower() not in kept]
    try:
        said = old.text.strip()
    except Exception:  # a body that cannot be decoded: the status says enough
        said = ""
    text = hint + (f"; the server said: {said}" if said else "")
    response = httpx.Response(
        old.status_code,
        headers=[*headers, ("Content-Type", "text/plain; charset=utf-8")],
        content=text.encode("utf-8"),
        request=exc.request,
        extensions=old.extensions,
    )
    return httpx.HTTPStatusError(f"{exc}\n{hint}", request=exc.request, response=response)


class OpenAIGenerator(_LoopBoundClient):
    """The reader of a pipeline: any OpenAI-compatible chat-completions server (OpenAI, vLLM,
    llama.cpp server, Ollama, LM Studio, ...).

    ``generate(question, documents)`` sends ``prompt.format(question=..., context=...)``
    (``context`` = numbered passages) as one user message (after ``system`` if given, sent as is)
    to ``base_url + "/chat/completions"`` with ``model``, ``temperature`` (default 0: greedy,
    repeatable) and ``max_tokens``, and returns ``choices[0].message.content``. ``base_url`` is
    the server's API root, usually ending in ``/v1`` (``http://localhost:8000/v1``). ``prompt``
    must contain both ``{context}`` and ``{question}`` and no other placeholder (a literal brace is
    written ``{{`` or ``}}``): anything else is a ValueError here, not a failure on every call.
    ``api_key`` defaults to ``$OPENAI_API_KEY`` (sent as a Bearer token; never part of the cache
    key). Use it as the ``generate`` of a pipeline, e.g.
    ``ragprobe.Pipeline(retrieve=my_search, generate=OpenAIGenerator("http://localhost:8080/v1",
    "gemma"))``, or directly as the pipeline of position probes (which only need ``generate``).

    Cache identity: ``name`` (default ``openai:MODEL@BASE_URL``) plus ``version``, which folds in a
    hash of the prompt, system message, temperature and max_tokens (and of the model when ``name``
    is given), so changing any of them invalidates cached answers; add your own ``version`` text
    when the served model changes under the same name.
    Called directly (``await gen.generate(q, docs)``), use ``async with OpenAIGenerator(...) as
    gen:`` or ``await gen.aclose()``, as with :class:`HTTPPipeline`.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        temperature: float = 0.0,
        max_tokens: int = 256,
        prompt: str = DEFAULT_PROMPT,
        system: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        verify: bool = True,
        max_connections: int = 100,
        extra_body: Mapping[str, Any] | None = None,
        name: str | None = None,
        version: str = "",
    ) -> None:
        _check_url("OpenAIGenerator", "base_url", base_url)
        _check_options(
            "OpenAIGenerator", headers, timeout, max_connections,
            temperature=temperature, max_tokens=max_tokens,
        )
        _check_prompt(prompt)
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        all_headers = dict(headers or {})
        if key:
            all_headers.setdefault("Authorization", f"Bearer {key}")
            register_secret(key)
        _register_secrets(all_headers, None)
        _url_secrets(base_url)
        super().__init__(
            headers=all_headers,
            auth=None,
            timeout=timeout,
            verify=verify,
            max_connections=max_connections,
        )
        self.base_url = base_url.rstrip("/")
        self.url = self.base_url + "/chat/completions"
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.prompt = prompt
        self.system = system
        self.extra_body = dict(extra_body or {})
        self.name = name or f"openai:{model}@{redact_url(self.base_url)}"
        # a key in the body (extra_body={"api_key": ...}) is not a setting: rotating it keeps the cache
        for field, value in self.extra_body.items():
            if secret_name(field):
                register_secret(value)
        body_settings = {k: v for k, v in self.extra_body.items() if not secret_name(k)}
        # The default name holds the model; a given one does not: the model sent then goes in here (a
        # named generator kept one model's cached answers for another). Unnamed, the digest is as before.
        named_model = [model] if name else []
        settings = json.dumps(
            [prompt, system, temperature, max_tokens, body_settings, *named_model],
            sort_keys=True,
            default=repr,
        )
        digest = hashlib.sha256(settings.encode("utf-8")).hexdigest()[:12]
        self.version = f"{version}+{digest}" if version else digest

    def __repr__(self) -> str:
        return f"OpenAIGenerator({redact_url(self.base_url)!r}, {self.model!r})"

    def _ragprobe_service(self) -> str | None:
        """As HTTPPipeline's: the server, unless a ``version`` was given (the digest alone covers the
        prompt and settings, not a model swapped under the same name)."""
        return None if "+" in self.version else f"{self.model} at {redact_url(self.base_url)}"

    def messages(self, question: str, documents: Sequence[Document]) -> list[dict[str, str]]:
        content = self.prompt.format(question=question, context=render_context(documents))
        out = [{"role": "system", "content": self.system}] if self.system else []
        return [*out, {"role": "user", "content": content}]

    async def generate(self, question: str, documents: Sequence[Document]) -> str:
        body = {
            **self.extra_body,
            "model": self.model,
            "messages": self.messages(question, documents),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        import httpx  # (imported already, with the client)

        try:
            data = await self._post_json(self.url, body)
        except httpx.HTTPStatusError as exc:
            hint = _not_found_hint(self.base_url) if exc.response.status_code == 404 else None
            if hint is None:
                raise
            raise _with_hint(exc, hint) from None
        _check_reported_error(self.url, data)
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise MalformedResponseError(
                self.url,
                f"expected choices[0].message.content, got {str(data)[:120]!r}",
                f"expected choices[0].message.content, got {_received(data)}",
            ) from None
        if not isinstance(content, str):
            problem = f"message content is {type(content).__name__}, not text"
            raise MalformedResponseError(self.url, problem, problem)
        return content.strip()


__all__ = [
    "DEFAULT_PROMPT",
    "HTTPPipeline",
    "MalformedResponseError",
    "OpenAIGenerator",
    "render_context",
]
