from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_ragprobe.adapters import HTTPPipeline, MalformedResponseError, OpenAIGenerator
from pytest_ragprobe.engine import Call, Engine, EngineSettings
from pytest_ragprobe.pipeline import Pipeline, PipelineAdapter, make_adapter
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
    if req.path == "/result":
        return Reply(json={"result": "C-500"})
    if req.path == "/html":
        page = b"<html>\n<body>Service   temporarily unavailable, " + b"x" * 200 + b"</body></html>"
        return Reply(body=page)
    if req.path == "/number":
        return Reply(json=[1, 2, 3])
    if req.path == "/bad-doc":
        return Reply(json={"answer": "C-1", "documents": ["fine", {"body": body.get("question", "")}]})
    if req.path == "/hits":
        return Reply(json={"hits": ["a"]})
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
    assert out[0].cause == (
        f"malformed response from {server.url}/bad: expected a JSON object with a string 'answer' or "
        "'text' (and optional 'documents'), or a JSON string, got JSON keys ['no']; for a service with a JSON "
        "shape of its own, make the pipeline an object whose answer(question) calls the service and returns "
        "its answer text"
    )
    with pytest.raises(MalformedResponseError):
        asyncio.run(HTTPPipeline(server.url, answer_path="/bad").answer("q"))


def _answer_error(pipe: HTTPPipeline) -> MalformedResponseError:
    async def go() -> None:
        async with pipe:
            await pipe.answer("q")

    with pytest.raises(MalformedResponseError) as info:
        asyncio.run(go())
    return info.value


def _causes(pipe: HTTPPipeline, calls: list[Call]) -> list[str | None]:
    out = asyncio.run(Engine(PipelineAdapter(pipe), EngineSettings(retries=0)).run(calls))
    assert not any(o.ok for o in out)
    return [o.cause for o in out]


def test_malformed_answer_says_what_was_expected_and_what_came_back(server: FaultServer) -> None:
    """{"result": "C-500"} was reported only as "malformed response from URL" in the run summary."""
    url = f"{server.url}/result"
    pipe = HTTPPipeline(server.url, answer_path="/result")
    causes = _causes(pipe, [Call("answer", f"q{i}") for i in range(3)])
    assert causes == [
        f"malformed response from {url}: expected a JSON object with a string 'answer' or 'text' "
        "(and optional 'documents'), or a JSON string, got JSON keys ['result']; for a service with a JSON "
        "shape of its own, make the pipeline an object whose answer(question) calls the service and returns "
        "its answer text"
    ] * 3
    error = _answer_error(HTTPPipeline(server.url, answer_path="/result"))
    assert str(error) == error.cause
    # the generate endpoint names the method to write in its place
    reader = HTTPPipeline(server.url, answer_path=None, retrieve_path="/search", generate_path="/result")
    (cause,) = _causes(reader, [Call("generate", "q", documents=(Document("d"),))])
    assert cause is not None and cause.endswith(
        "got JSON keys ['result']; for a service with a JSON shape of its own, make the pipeline an object "
        "whose generate(question, documents) calls the service and returns its answer text"
    )


def test_malformed_non_object_bodies_are_clipped_excerpts(server: FaultServer) -> None:
    (html,) = _causes(HTTPPipeline(server.url, answer_path="/html"), [Call("answer", "q")])
    assert html == (
        f"malformed response from {server.url}/html: expected JSON, got "
        f"'<html> <body>Service temporarily unavailable, {'x' * 13}…'"  # 60 characters
    )
    (array,) = _causes(HTTPPipeline(server.url, answer_path="/number"), [Call("answer", "q")])
    assert array is not None and array.endswith("or a JSON string, got a JSON array: '[1, 2, 3]'")
    error = _answer_error(HTTPPipeline(server.url, answer_path="/html"))
    assert "not JSON (JSONDecodeError): '<html>\\n<body>Service   temporarily" in str(error)


def test_malformed_documents_name_the_problem_and_group_across_calls(server: FaultServer) -> None:
    pipe = HTTPPipeline(server.url, answer_path="/bad-doc")
    causes = _causes(pipe, [Call("answer", "q1"), Call("answer", "q2")])
    assert causes == [
        f"malformed response from {server.url}/bad-doc: expected 'documents' as a list of strings or of "
        "objects with a string 'text'; document dict needs a string 'text' field, got keys ['body']"
    ] * 2
    error = _answer_error(HTTPPipeline(server.url, answer_path="/bad-doc"))
    assert str(error).endswith(
        "; response.documents[1]: document dict needs a string 'text' field, got keys ['body']"
    )
    search = HTTPPipeline(server.url, answer_path=None, retrieve_path="/hits", generate_path="/read")
    (cause,) = _causes(search, [Call("retrieve", "q", k=2)])
    assert cause == (
        f"malformed response from {server.url}/hits: expected a JSON list or an object with 'documents', "
        "holding a list of strings or of objects with a string 'text', got JSON keys ['hits']; for a service "
        "with a JSON shape of its own, make the pipeline an object whose retrieve(query, k) calls the service "
        "and returns its documents"
    )


def test_a_pipeline_survives_many_event_loops(server: FaultServer) -> None:
    adapter = PipelineAdapter(HTTPPipeline(server.url))
    for _ in range(3):  # each probe runs in its own loop; the engine closes the client after each
        out = asyncio.run(Engine(adapter).run([Call("answer", "q")]))
        assert out[0].ok


def test_openai_generator(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    gen = OpenAIGenerator(server.url + "/v1", "tiny", max_tokens=8)
    other = OpenAIGenerator(server.url + "/v1", "tiny", max_tokens=8, prompt="{context}\n{question}")
    assert gen.version != other.version and "sk-test" not in gen.name + gen.version
    adapter = PipelineAdapter(gen)
    assert adapter.capabilities == {"generate"}
    out = asyncio.run(Engine(adapter).run([Call("generate", "Q?", (Document("P-200 fits C-17."),))]))
    assert out[0].value == "C-17"
    body = SEEN[-1].json
    assert body["model"] == "tiny" and body["temperature"] == 0.0 and body["max_tokens"] == 8
    assert "Document [1] P-200 fits C-17." in body["messages"][0]["content"]


# -- the direct path (no auth, no cookie, no redirect) and what hands requests back to httpx --------


def test_direct_path_sends_what_httpx_would(server: FaultServer) -> None:
    import httpx

    pipe = HTTPPipeline(server.url, headers={"X-Key": "k"})

    async def go() -> tuple[Answer, bool]:
        answer = await pipe.answer("é?")
        direct = pipe._direct[0] is not None
        client = pipe._get_client()
        # the same request through the httpx client, for comparison
        await client.post(server.url + "/answer", json={"question": "é?"})
        await pipe.aclose()
        return answer, direct

    answer, direct = asyncio.run(go())
    assert direct and answer.text == "É?"
    via_direct, via_httpx = SEEN
    assert via_direct.body == via_httpx.body == '{"question":"é?"}'.encode()
    assert via_direct.headers == via_httpx.headers
    assert via_direct.headers["x-key"] == "k"
    assert via_direct.headers["content-type"] == "application/json"
    assert via_direct.headers["user-agent"] == f"python-httpx/{httpx.__version__}"


def test_cookies_redirects_compression_and_auth_get_httpx_handling() -> None:
    import gzip

    seen: list[Request] = []

    def handle(req: Request) -> Reply:
        seen.append(req)
        if req.path == "/login":
            return Reply(json={"answer": "in"}, headers={"Set-Cookie": "sid=s1; Path=/"})
        if req.path == "/moved":
            return Reply(status=307, headers={"Location": "/answer"})
        if req.path == "/zipped":
            return Reply(body=gzip.compress(b'{"answer": "unzipped"}'),
                         headers={"Content-Encoding": "gzip"})
        return Reply(json={"answer": req.headers.get("cookie", "-")})

    async def go(pipe: HTTPPipeline, paths: list[str]) -> list[str]:
        out = []
        for path in paths:
            pipe.answer_url = pipe.url + path
            out.append((await pipe.answer("q")).text)
        await pipe.aclose()
        return out

    with FaultServer(handle, lifetime=30) as srv:
        # a cookie is kept by the client and sent from then on
        assert asyncio.run(go(HTTPPipeline(srv.url), ["/answer", "/login", "/answer"])) == [
            "-", "in", "sid=s1"]
        # a redirect is followed (307 keeps the method and body), each hop sent once: the first
        # call's redirect came back on the direct path and is not sent again through httpx
        seen.clear()
        assert asyncio.run(go(HTTPPipeline(srv.url), ["/moved", "/moved"])) == ["-", "-"]
        assert [(r.method, r.path) for r in seen] == [("POST", "/moved"), ("POST", "/answer")] * 2
        assert all(r.json == {"question": "q"} for r in seen)
        # a compressed body is decoded
        assert asyncio.run(go(HTTPPipeline(srv.url), ["/zipped"])) == ["unzipped"]
        # with auth, every request goes through httpx (auth flows)
        seen.clear()
        with_auth = HTTPPipeline(srv.url, auth=("u", "p"))
        assert asyncio.run(go(with_auth, ["/answer"])) == ["-"]
        assert with_auth._direct == [None]
        assert seen[0].headers["authorization"] == "Basic dTpw"


def test_direct_path_failures_are_httpx_errors(server: FaultServer) -> None:
    import httpx

    def handle(req: Request) -> Reply:
        return Reply(status=429, body=b"slow down", headers={"Retry-After": "7"})

    async def error(url: str) -> BaseException:
        pipe = HTTPPipeline(url)
        try:
            await pipe.answer("q")
        except Exception as exc:
            return exc
        finally:
            await pipe.aclose()
        raise AssertionError("no error")

    with FaultServer(handle, lifetime=30) as srv:
        status = asyncio.run(error(srv.url))
    assert isinstance(status, httpx.HTTPStatusError)
    assert status.response.status_code == 429 and status.response.text == "slow down"
    assert status.response.headers["retry-after"] == "7"
    assert str(status.request.url) == f"{srv.url}/answer"
    from pytest_ragprobe.engine import classify

    failure = classify(status, None)
    assert failure.cause == f"HTTP 429 from {srv.url}/answer" and failure.retry_after == 7.0

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    refused = asyncio.run(error(f"http://127.0.0.1:{port}"))
    assert isinstance(refused, httpx.ConnectError)
    assert str(refused.request.url) == f"http://127.0.0.1:{port}/answer"


def test_unversioned_services_are_the_remote_ones_the_cache_knows_by_address_alone() -> None:
    from pytest_ragprobe.engine import unversioned_services

    http = HTTPPipeline("http://rag.example:8000/v1?api_key=k-0001")
    gen = OpenAIGenerator("http://llm.example/v1", "m")

    def services(obj: object) -> list[str]:
        return unversioned_services(make_adapter(obj))

    assert services(http) == ["http://rag.example:8000/v1?api_key=***"]
    assert services(HTTPPipeline("http://rag.example:8000", version="build-41")) == []
    assert services(Pipeline(answer=http.answer)) == ["http://rag.example:8000/v1?api_key=***"]
    assert services(Pipeline(answer=http.answer, version="3")) == []  # its author owns the identity
    assert services(Pipeline(answer=lambda q: "x", generate=gen)) == ["m at http://llm.example/v1"]
    assert services(Pipeline(answer=lambda q: "x", generate=OpenAIGenerator("http://llm", "m", version="2"))) == []
    assert services(lambda q: "x") == []


def test_unversioned_services_are_those_behind_the_calls_the_probe_asks() -> None:
    """A reverse probe (answers only) of Pipeline(answer=<service>, generate=OpenAIGenerator(...)) said
    both were not called when answered from the cache: it never calls the generator."""
    from pytest_ragprobe.engine import unversioned_services

    rag, llm = "http://rag.example", "m at http://llm.example/v1"
    http = HTTPPipeline(rag, retrieve_path="/retrieve")
    gen = OpenAIGenerator("http://llm.example/v1", "m")
    both = make_adapter(Pipeline(answer=http.answer, generate=gen))
    assert unversioned_services(both) == [rag, llm]  # (no kinds given: every method)
    assert unversioned_services(both, {"answer"}) == [rag]  # a reverse probe
    assert unversioned_services(both, {"generate"}) == [llm]  # a position probe
    assert unversioned_services(both, {"retrieve", "generate"}) == [llm]  # (no retrieve: nothing behind it)
    # without an answer of its own, an answer goes through retrieve and generate: both are called
    composed = make_adapter(Pipeline(retrieve=http.retrieve, generate=gen))
    assert unversioned_services(composed, {"answer"}) == [rag, llm]
    assert unversioned_services(composed, {"retrieve"}) == [rag]


def test_the_run_end_line_names_a_service_only_when_no_probe_called_it() -> None:
    from factories import report, reverse_probe

    from pytest_ragprobe.runner import cache_only_note
    from pytest_ragprobe.session import RagprobeSession

    note = cache_only_note(["http://rag"], 40)
    assert " was not called by this probe." in note
    assert " were not called by this probe." in cache_only_note(["m at http://llm", "http://rag"], 40)
    rag: dict[str, str | None] = {"http://rag": None}
    replayed = reverse_probe(
        "t.py::test_a", pipeline="http:http://rag", cached_calls=40, notes=[note], cache_only_services=rag
    )
    replayed.calls = 0
    said = RagprobeSession._cache_only_notices(report(replayed))
    assert said == [
        "ragprobe: 1 probe answered from the answer cache alone: the service http://rag was not called "
        "this run, and a new deployment behind its address is not seen; a deploy gate should run with "
        "--ragprobe-no-cache, or give the service a version= (its build id)"
    ]
    # the services the probes' notes name, not the pipeline's label (it names a generator the reverse
    # probe never calls); two probes naming other services of one pipeline: both, once each
    label = "Pipeline(answer=http:http://rag, generate=openai:m@http://llm/v1)"
    reverse = reverse_probe("t.py::test_a", pipeline=label, cached_calls=40, notes=[note], cache_only_services=rag)
    both = reverse_probe("t.py::test_c", pipeline=label, cached_calls=40, notes=[
        cache_only_note(["m at http://llm", "http://rag"], 40)
    ], cache_only_services={"m at http://llm": None, "http://rag": None})
    reverse.calls = both.calls = 0
    (line,) = RagprobeSession._cache_only_notices(report(reverse))
    assert line.startswith("ragprobe: 1 probe answered from the answer cache alone: the service http://rag was not")
    assert "llm" not in line
    (line,) = RagprobeSession._cache_only_notices(report(reverse, both))
    assert line.startswith(
        "ragprobe: 2 probes answered from the answer cache alone: the services http://rag, m at http://llm were "
        "not called this run, and a new deployment behind their addresses is not seen"
    )
    assert line.endswith("or give each a version= (its build id)")
    # another probe of the same service made real calls: "not called this run" would be false
    fresh = reverse_probe("t.py::test_b", pipeline="http:http://rag")  # (40 calls)
    assert RagprobeSession._cache_only_notices(report(replayed, fresh)) == []


@pytest.mark.parametrize(("body", "kind"), [({"documents": None}, "null"), ({"contexts": "d1 d2", "took": 3}, "string")])
def test_retrieve_with_a_wrong_documents_value_says_so_not_a_shape_of_its_own(
    body: dict[str, Any], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """{"documents": null} uses HTTPPipeline's own field name: the hint to wrap "a service with a JSON shape
    of its own" in an object sent the user to rewrite a pipeline whose service only returned no list."""
    pipe = HTTPPipeline("http://127.0.0.1:9", answer_path=None, retrieve_path="/r", generate_path="/g")

    async def post(url: str, payload: object) -> object:
        return body

    monkeypatch.setattr(pipe, "_post_json", post)
    with pytest.raises(MalformedResponseError) as info:
        asyncio.run(pipe.retrieve("q", 2))
    key = next(iter(body))
    assert str(info.value).endswith(f"got JSON keys {sorted(body)} ({key!r} is {kind})")
    assert "shape of its own" not in str(info.value)


def test_an_empty_json_object_gets_no_own_shape_hint() -> None:
    """{} is no JSON shape of the service's own (an empty reply, a stub): the hint to wrap such a service
    read as the fix for what is more likely a service bug."""
    from pytest_ragprobe.adapters import _malformed_answer
    from pytest_ragprobe.types import PipelineOutputError

    error = _malformed_answer("http://x/answer", {}, PipelineOutputError("bad"))
    assert str(error).endswith("got an empty JSON object")
    hinted = _malformed_answer("http://x/answer", {"response": "C-17"}, PipelineOutputError("bad"))
    assert "shape of its own" in str(hinted)
