"""Secrets stay out of what the plugin writes and prints (reports, cache files, messages), while the
cache identity still tells endpoints and configurations apart; a key rotation keeps cached answers."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_ragprobe import cache as cache_mod
from pytest_ragprobe.adapters import HTTPPipeline, MalformedResponseError, OpenAIGenerator
from pytest_ragprobe.baseline import _pipeline_change
from pytest_ragprobe.engine import Call, classify
from pytest_ragprobe.pipeline import Pipeline, identity_parts, make_adapter
from pytest_ragprobe.types import PipelineOutputError, redact, redact_url, register_secret, secret_name

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from faults import FaultServer, Reply, Request

SEEN: list[Request] = []


def echoing(req: Request) -> Reply:
    """A service that quotes the credentials it got back in its errors, as some APIs do."""
    SEEN.append(req)
    auth = req.headers.get("authorization", "")
    if req.path.startswith("/deny"):
        return Reply(status=401, body=f"bad credentials {auth} for {req.path}".encode(),
                     headers={"Retry-After": "7"})
    if req.path.startswith("/error"):
        return Reply(json={"answer": "", "error": f"invalid key {req.headers.get('x-api-key')}"})
    if req.path.startswith("/shape"):
        return Reply(json={"choices": [], "echo": auth})
    if req.path.startswith("/v1/chat/completions"):
        return Reply(status=403, body=f"Incorrect API key provided: {auth}".encode())
    return Reply(json={"answer": req.path})


@pytest.fixture
def server() -> Any:
    SEEN.clear()
    with FaultServer(echoing, max_requests=100, lifetime=60) as srv:
        yield srv


def test_secret_names() -> None:
    for name in ("api_key", "apiKey", "X-Api-Key", "Authorization", "password", "access_token", "auth",
                 "AWS_SECRET_ACCESS_KEY", "OPENAI_API_KEY", "GITHUB_TOKEN", "token", "_api_key",
                 "Ocp-Apim-Subscription-Key", "client_secret", "Cookie", b"authorization"):
        assert secret_name(name), name
    for name in ("max_tokens", "eos_token", "tokenizer", "key", "cache_key", "model", "top_k",
                 "token_limit", "author", "headers", "SSH_AUTH_SOCK", ""):
        assert not secret_name(name), name
    assert secret_name("key", query=True) and secret_name("sig", query=True)


def test_redact_url_hides_password_and_key_parameters_only() -> None:
    assert redact_url("https://alice:pw@api.example:8443/v1?api_key=K1&mode=fast#x") == (
        "https://alice:***@api.example:8443/v1?api_key=***&mode=fast#x"
    )
    assert redact_url("https://ghp_TOKENASUSER@github.com/o/r") == "https://***@github.com/o/r"
    assert redact_url("http://h/x?key=AIza123&token=&sig=abc") == "http://h/x?key=***&token=&sig=***"
    assert redact_url("http://127.0.0.1:8000/answer") == "http://127.0.0.1:8000/answer"
    assert redact("HTTP 500 from http://u:pw@h/a?access_token=T; Bearer abcdef0123456789xyz") == (
        "HTTP 500 from http://u:***@h/a?access_token=***; Bearer ***"
    )


def test_registered_and_environment_secrets_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    register_secret("Bearer s13-registered-0001")
    monkeypatch.setenv("MY_SERVICE_API_KEY", "s13-env-value-0002")
    monkeypatch.setenv("MY_SERVICE_MODEL", "s13-not-a-secret-0003")
    text = "got s13-registered-0001 and s13-env-value-0002 with s13-not-a-secret-0003"
    assert redact(text) == "got *** and *** with s13-not-a-secret-0003"
    register_secret("short")  # too short to replace safely: left alone
    assert redact("a short text") == "a short text"


def test_environment_variables_naming_a_path_are_not_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``PWD`` is named like a password: its value, the working directory, made every path in a
    message read ``***/facts.yaml``. A path that exists is no secret; a secret beginning with "/"
    (base64 may) still is."""
    monkeypatch.setenv("PWD", str(tmp_path))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path))
    monkeypatch.setenv("DB_PASSWORD", "/s13+base64/secret==")
    text = f"looked for {tmp_path}/facts.yaml with /s13+base64/secret=="
    assert redact(text) == f"looked for {tmp_path}/facts.yaml with ***"


def test_http_pipeline_identity_has_no_secrets_and_survives_a_key_rotation() -> None:
    def pipe(url: str, key: str = "s13-hdr-0010") -> HTTPPipeline:
        return HTTPPipeline(url, headers={"Authorization": f"Bearer {key}", "X-Tenant": "t1"})

    a = pipe("http://alice:s13-pw-0011@rag.example:8000/v1?api_key=s13-qk-0012&mode=fast")
    assert a.name == "http:http://alice:***@rag.example:8000/v1?api_key=***&mode=fast"
    assert repr(a) == (
        "HTTPPipeline('http://alice:***@rag.example:8000/v1?api_key=***&mode=fast', "
        "name='http:http://alice:***@rag.example:8000/v1?api_key=***&mode=fast', version='')"
    )
    # the key stays in the request URL, after the path (it was appended inside the query before)
    assert a.answer_url == "http://rag.example:8000/v1/answer?api_key=s13-qk-0012&mode=fast"
    ident = make_adapter(a).cache_identity
    for secret in ("s13-hdr-0010", "s13-pw-0011", "s13-qk-0012"):
        assert secret not in ident and secret not in make_adapter(a).identity
    rotated = pipe("http://alice:s13-pw-0099@rag.example:8000/v1?api_key=s13-qk-0098&mode=fast", "s13-hdr-0097")
    assert make_adapter(rotated).cache_identity == ident
    for other in ("http://alice:p@rag.example:8001/v1?api_key=k&mode=fast",
                  "http://alice:p@rag.example:8000/v2?api_key=k&mode=fast",
                  "http://alice:p@rag.example:8000/v1?api_key=k&mode=slow",
                  "http://bob:p@rag.example:8000/v1?api_key=k&mode=fast"):
        assert make_adapter(pipe(other)).cache_identity != ident, other


def test_openai_generator_identity_and_repr_have_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "s13-env-openai-0020")
    gen = OpenAIGenerator("https://u:s13-pw-0021@llm.example/v1", "m")
    assert gen.name.startswith("openai:m@https://u:***@llm.example/v1")
    assert repr(gen) == "OpenAIGenerator('https://u:***@llm.example/v1', 'm')"
    rotated = OpenAIGenerator("https://u:s13-pw-0022@llm.example/v1", "m", api_key="s13-other-0023")
    assert make_adapter(gen).cache_identity == make_adapter(rotated).cache_identity
    assert "s13" not in make_adapter(Pipeline(generate=gen)).cache_identity
    keyed = [OpenAIGenerator("https://llm.example/v1", "m", extra_body={"api_key": k, "top_p": 0.5})
             for k in ("s13-body-0024", "s13-body-0025")]
    assert keyed[0].version == keyed[1].version
    assert keyed[0].version != OpenAIGenerator("https://llm.example/v1", "m", extra_body={"top_p": 0.9}).version
    assert redact("s13-body-0024") == "***"


class Client:
    def __init__(self, api_key: str, headers: dict[str, str], model: str) -> None:
        self.api_key = api_key
        self.headers = headers
        self.model = model


class KeyedRag:
    PASSWORD = "s13-class-attr-0030"

    def __init__(self, api_key: str, model: str = "small") -> None:
        self.api_key = api_key
        self.model = model
        self.client = Client(api_key, {"Authorization": f"Bearer {api_key}", "X-Model": model}, model)

    def answer(self, question: str) -> str:
        return f"{self.model}: {question}"


def test_user_pipeline_secrets_are_not_part_of_its_identity() -> None:
    one = make_adapter(KeyedRag("s13-user-key-0031"))
    rotated = make_adapter(KeyedRag("s13-user-key-0032"))
    other_model = make_adapter(KeyedRag("s13-user-key-0031", model="large"))
    assert one.cache_identity == rotated.cache_identity
    assert one.cache_identity != other_model.cache_identity
    parts = identity_parts(KeyedRag("s13-user-key-0031"))
    assert sorted(parts) == ["client.headers", "client.model", "code", "model", "ref.test_secrets_redacted.Client"]
    # the value is now known as a secret: an error quoting it is redacted (engine, cache, reports)
    assert redact("401: key s13-user-key-0031 rejected") == "401: key *** rejected"
    assert redact("PASSWORD=s13-class-attr-0030") == "PASSWORD=***"


def test_closure_and_default_secrets_are_not_part_of_the_identity() -> None:
    def make(api_key: str, temperature: float) -> Any:
        def answer(question: str, token: str = api_key) -> str:
            return f"{question}{api_key}{temperature}{token}"
        return answer

    assert make_adapter(make("s13-closure-0040", 0.0)).cache_identity == make_adapter(
        make("s13-closure-0041", 0.0)
    ).cache_identity
    assert make_adapter(make("s13-closure-0040", 0.0)).cache_identity != make_adapter(
        make("s13-closure-0040", 0.5)
    ).cache_identity


def test_http_errors_are_scrubbed_before_the_engine_names_them(server: FaultServer) -> None:
    pipe = HTTPPipeline(f"{server.url}/deny?api_key=s13-qk-0050", headers={"Authorization": "Bearer s13-hdr-0051"})

    async def go() -> BaseException:
        try:
            await pipe.answer("q")
        except Exception as exc:
            return exc
        finally:
            await pipe.aclose()
        raise AssertionError("no error")

    exc = asyncio.run(go())
    assert SEEN[-1].path == "/deny/answer?api_key=s13-qk-0050"  # the service got the real key
    assert SEEN[-1].headers["authorization"] == "Bearer s13-hdr-0051"
    assert isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 401
    failure = classify(exc, None)
    assert failure.cause == f"HTTP 401 from {server.url}/deny/answer?api_key=***"
    assert failure.error == f"{failure.cause}: bad credentials Bearer *** for /deny/answer?api_key=***"
    assert failure.retry_after == 7.0 and not failure.retryable
    assert "s13" not in str(exc)


def test_url_credentials_are_sent_as_basic_auth_beside_other_headers(server: FaultServer) -> None:
    """user:password@ in the URL with an Authorization header: aiohttp refused every call ("Cannot
    combine AUTHORIZATION header with AUTH argument or credentials encoded in URL"), and the URL,
    password included, named the pipeline in every report."""
    url = server.url.replace("http://", "http://alice:s13-pw-0060@")
    pipe = HTTPPipeline(url, headers={"Authorization": "Bearer s13-hdr-0061", "X-Tenant": "t"})

    async def go() -> Any:
        try:
            return await pipe.answer("q")
        finally:
            await pipe.aclose()

    assert asyncio.run(go()).text == "/answer"
    # as httpx does for credentials in a URL: they win over the header
    assert SEEN[-1].headers["authorization"] == "Basic " + base64.b64encode(b"alice:s13-pw-0060").decode()
    assert SEEN[-1].headers["x-tenant"] == "t"
    assert pipe.name == f"http:{server.url.replace('http://', 'http://alice:***@')}"


def test_error_fields_and_malformed_bodies_quoting_a_key_are_redacted(server: FaultServer) -> None:
    headers = {"X-Api-Key": "s13-hdr-0070"}
    bad = HTTPPipeline(f"{server.url}/error", headers=headers)
    shape = OpenAIGenerator(f"{server.url}/shape", "m", api_key="s13-openai-0071")
    denied = OpenAIGenerator(f"{server.url}/v1", "m", api_key="s13-openai-0072")

    async def go() -> list[BaseException]:
        out: list[BaseException] = []
        for call in (lambda: bad.answer("q"), lambda: shape.generate("q", []),
                     lambda: denied.generate("q", [])):
            try:
                await call()
            except Exception as exc:
                out.append(exc)
        for p in (bad, shape, denied):
            await p.aclose()
        return out

    error_field, malformed, status = asyncio.run(go())
    assert isinstance(error_field, PipelineOutputError)
    assert str(error_field) == f"{server.url}/error/answer answered with an error field: 'invalid key ***'"
    assert isinstance(malformed, MalformedResponseError)
    assert str(malformed) == (
        f"malformed response from {server.url}/shape/chat/completions: expected "
        "choices[0].message.content, got \"{'choices': [], 'echo': 'Bearer ***'}\""
    )
    assert isinstance(status, httpx.HTTPStatusError)
    assert classify(status, None).error == (
        f"HTTP 403 from {server.url}/v1/chat/completions: Incorrect API key provided: Bearer ***"
    )


def test_cache_files_and_listing_hold_no_secrets(tmp_path: Path) -> None:
    register_secret("s13-cache-0080")
    identity = "http:http://h/v1?api_key=s13-cache-0080#0123456789ab"
    cache = cache_mod.AnswerCache(tmp_path, identity)
    call = Call(kind="answer", question="q")
    key = cache.key(call)
    assert cache.put(key, call, "a")
    texts = [p.read_text() for p in tmp_path.rglob("*.json")]
    assert len(texts) == 2 and not any("s13-cache-0080" in t for t in texts)
    sidecar = json.loads(next((tmp_path / "identities").glob("*.json")).read_text())
    assert sidecar["identity"] == "http:http://h/v1?api_key=***#0123456789ab"
    assert sidecar["base"] == "http:http://h/v1?api_key=***"
    assert cache_mod.scan(tmp_path).by_pipeline == {"http:http://h/v1?api_key=***#0123456789ab": 1}
    # the key is still the real identity's: the entry is found again
    assert cache_mod.AnswerCache(tmp_path, identity).get(key) == cache_mod.Hit("a")


def test_baseline_message_does_not_quote_an_old_report_s_credentials() -> None:
    old = "http:http://alice:s13-pw-0090@h:1/v1?api_key=s13-qk-0091"
    assert _pipeline_change(old, "http:http://alice:***@h:1/v1?api_key=***") == ""
    assert _pipeline_change(old, "my-rag@2") == "pipeline http:http://alice:***@h:1/v1?api_key=*** -> my-rag@2"


class VersionedRag(KeyedRag):
    version = "7"


def test_a_versioned_pipeline_s_secrets_are_redacted_too() -> None:
    """A pipeline that sets ``version`` owns its identity (its configuration is not read for it), but
    an error quoting its key must still be redacted."""
    make_adapter(VersionedRag("s13-versioned-0100"))
    make_adapter(Pipeline(answer=VersionedRag("s13-versioned-0101").answer, version="1"))
    assert redact("no s13-versioned-0100, s13-versioned-0101 here") == "no ***, *** here"
    assert make_adapter(VersionedRag("s13-versioned-0102")).cache_identity == make_adapter(
        VersionedRag("s13-versioned-0103")
    ).cache_identity


# -- report.html with hostile strings: everything escaped, nothing runs (even without its CSP) ------------

def _pwn(n: int) -> str:
    return f"document.documentElement.setAttribute('data-pwned','{n}')"


HOSTILE = [
    f"<script>{_pwn(1)}</script>",
    f"</script><script>{_pwn(2)}</script>",
    f"<img src=x onerror=\"{_pwn(3)}\">",
    f"\"'><svg onload=\"{_pwn(4)}\">",
    f"</title></style></textarea><iframe srcdoc=\"<script>parent.{_pwn(5)}</script>\"></iframe>",
    f"javascript:{_pwn(6)}",
    f"]]><!-- --><script>{_pwn(7)}</script>",
]


def _hostile_report() -> Any:
    from factories import report, reverse_probe

    from pytest_ragprobe.results import DirectionSummary, ProbeResult

    evil = " ".join(HOSTILE)
    examples = [
        {"question": h, "expected": [h, "P-1"], "answer": h, "correct": False, "forward_answer": h,
         "forward_correct": True, "miss": "reading", "error": h}
        for h in HOSTILE
    ]
    rev = reverse_probe(
        f"tests/test_x.py::test_rev[{HOSTILE[1]}]", verdict="fail", drop=0.3, reason=evil, notes=HOSTILE,
        pipeline=evil, examples=examples, error_cause=evil, expected_failure=True, xfail_reason=evil,
        baseline="regression", baseline_message=evil, test_outcome="failed", test_message=evil,
        settings={"facts": evil, "match": evil},
    )
    pos = ProbeResult(
        nodeid=f"tests/test_x.py::test_pos[{HOSTILE[3]}]", kind="position", verdict="error", n=10,
        calls=30, errors=3, reason=evil, pipeline=evil, error_cause=evil,
        positions={0: DirectionSummary(accuracy=0.5, correct=5, n=10, ci=(0.2, 0.8)),
                   9: DirectionSummary(accuracy=0.6, correct=6, n=10, ci=(0.3, 0.9))},
        metrics={"accuracy_by_position": {0: 0.5, 9: 0.6}, "drop": 0.1, "drop_ci": [0.0, 0.2],
                 "max_drop": 0.1, "confidence": 0.95, "shape": evil},
        examples=[{"question": h, "expected": [h], "answers": {"0": h, "9": h}, "position": 0, "answer": h,
                   "correct": False} for h in HOSTILE],
    )
    return report(rev, pos, pipeline=evil, baseline=evil)


def _elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Parser().feed(html)
    return found


def test_report_html_escapes_hostile_strings(tmp_path: Path) -> None:
    from pytest_ragprobe.reporting import write_reports

    write_reports(tmp_path, _hostile_report())
    html = (tmp_path / "report.html").read_text()
    # the payloads are in the page, as text
    assert html.count("&lt;script&gt;" + _pwn(1).replace("'", "&#39;")) >= 3
    # and never as markup: the page's elements and attributes are its own
    tags = _elements(html)
    assert not {t for t, _ in tags} & {"script", "img", "iframe", "object", "embed"}
    assert [(t, a) for t, attrs in tags for a, _ in attrs if a.startswith("on")] == []
    links = [v or "" for _, attrs in tags for a, v in attrs if a in ("href", "src")]
    assert links and all(v.startswith(("#", "data:")) for v in links), links
    assert "default-src 'none'" in html  # the CSP: no script would run anyway


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/install-browser.sh)")
@pytest.mark.parametrize("csp", [True, False], ids=["as-written", "without-csp"])
def test_no_script_runs_in_chromium(tmp_path: Path, csp: bool) -> None:
    """Loaded in headless chromium, the report's DOM is the report's: no payload ran (a run payload
    marks <html data-pwned=...>). Without its CSP too: the escaping alone holds."""
    from pytest_ragprobe.reporting import write_reports

    write_reports(tmp_path, _hostile_report())
    page = tmp_path / "report.html"
    html = page.read_text()
    if not csp:
        html, n = re.subn(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
        assert n == 1
        page.write_text(html)
    assert CHROMIUM is not None
    out = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    dom = out.stdout
    assert "</html>" in dom, out.stderr[-2000:]
    assert "data-pwned" in dom  # the payload text is there...
    assert re.search(r"<html[^>]*data-pwned", dom) is None  # ...but never ran
    assert "<iframe" not in dom and "<script" not in dom and "<img" not in dom


# -- files: a crash mid-write, YAML, no network of the plugin's own ---------------------------------------

def test_truncated_cache_files_are_misses_then_rewritten(tmp_path: Path) -> None:
    """A crash or a full disk can leave a truncated entry or sidecar (atomic_write does not fsync):
    the next run treats the entry as a miss and rewrites both; a truncated sidecar used to be kept for
    good (``record_identity`` saw that it existed), losing what the identity was made of."""
    identity = "conftest.Rag#0123456789ab"
    call = Call(kind="answer", question="q")
    first = cache_mod.AnswerCache(tmp_path, identity)
    key = first.key(call)
    assert first.put(key, call, "a")
    entry, sidecar = first.path(key), next((tmp_path / "identities").glob("*.json"))
    for path in (entry, sidecar):
        path.write_bytes(path.read_bytes()[:17])
    assert cache_mod.identities(tmp_path) == []  # unreadable: skipped, not an error
    again = cache_mod.AnswerCache(tmp_path, identity)
    assert again.get(key) is None and again.corrupt == 1
    assert again.put(key, call, "a")
    assert cache_mod.AnswerCache(tmp_path, identity).get(key) == cache_mod.Hit("a")
    assert [i.identity for i in cache_mod.identities(tmp_path)] == [identity]


def test_prune_removes_temp_files_of_interrupted_writes(tmp_path: Path) -> None:
    import os
    import time

    cache = cache_mod.AnswerCache(tmp_path, "conftest.Rag")
    call = Call(kind="answer", question="q")
    key = cache.key(call)
    assert cache.put(key, call, "a")
    shard = cache.path(key).parent
    old, fresh = shard / f".{key[:16]}.abc123.tmp", shard / f".{key[:16]}.def456.tmp"
    old.write_text('{"key": "')  # what a killed writer leaves behind
    fresh.write_text('{"key": "')  # a concurrent run writing now
    long_ago = time.time() - 30 * 86400
    os.utime(old, (long_ago, long_ago))
    os.utime(cache.path(key), (long_ago, long_ago))
    stats = cache_mod.scan(tmp_path, prune_before=time.time() - 86400)
    assert stats.removed == 1 and stats.entries == 0
    assert sorted(p.name for p in shard.iterdir()) == [fresh.name]


def test_yaml_facts_are_loaded_safely(tmp_path: Path) -> None:
    from pytest_ragprobe.facts import FactsError, load_facts_file

    marker = tmp_path / "pwned"
    facts = tmp_path / "facts.yaml"
    facts.write_text(
        f"facts:\n  - !!python/object/apply:os.system ['touch {marker}']\n"
        "  - {subject: P-1, relation: r, object: C-1}\n"
    )
    with pytest.raises(FactsError, match="python/object/apply"):
        load_facts_file(facts)
    assert not marker.exists()


def test_a_probe_and_its_reports_make_no_network_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No telemetry: a probe of an in-process pipeline, the answer cache and the three reports open no
    socket to anywhere (the user's own pipeline is the only thing that may)."""
    import socket

    import pytest_ragprobe as ragprobe
    from pytest_ragprobe.reporting import write_reports

    attempts: list[object] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args[1:] or kwargs)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    facts = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}")
             for i in range(30)]

    def answer(question: str) -> str:  # the other end of the fact the question names
        found = re.search(r"([PC])-(\d+)", question)
        assert found is not None
        return ("C-" if found[1] == "P" else "P-") + found[2]

    result = ragprobe.check_reverse(answer, facts, max_drop=0.1)
    assert result.verdict == "pass" and result.errors == 0
    from factories import report

    write_reports(tmp_path / "out", report(result))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html", "report.json", "report.md"]
    assert attempts == []


def test_redact_is_idempotent_and_keeps_punctuation_after_a_url() -> None:
    """An adapter redacts an HTTP error and the engine redacts what it names again: the second pass
    swallowed the colon after "?api_key=***"."""
    text = "HTTP 401 from http://h:1/v1/answer?api_key=s13-idem-0001: bad (see http://h:1/docs)."
    once = redact(text)
    assert once == "HTTP 401 from http://h:1/v1/answer?api_key=***: bad (see http://h:1/docs)."
    assert redact(once) == once
