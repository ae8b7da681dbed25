"""An HTTP service's cache identity is its URL unless it is named: a test server on a random port
gets a new identity every run, which the end-of-run notice names (suggesting ``name=``), grouping
the identities whose URLs differ only in the port (on this machine, in host and port)."""

from __future__ import annotations

from pathlib import Path

from factories import run_starts

import pytest_ragprobe as ragprobe
from pytest_ragprobe.cache import AnswerCache, identity_notices, service_group
from pytest_ragprobe.engine import Call
from pytest_ragprobe.pipeline import describe, make_adapter


def _store(root: Path, obj: object) -> None:
    cache = AnswerCache(root, make_adapter(obj).cache_identity, "ns")
    call = Call("answer", "q")
    assert cache.put(cache.key(call), call, "a")


def _run(root: Path, url: str, *, hits: int = 0) -> list[str]:
    """One run of an HTTPPipeline at ``url`` storing an answer, then its end-of-run notices."""
    pipe = ragprobe.HTTPPipeline(url)
    since = run_starts()
    _store(root, pipe)
    return identity_notices(root, {describe(pipe): (24, hits)}, since)


def test_a_composition_over_a_service_on_a_random_port_gets_the_name_advice(tmp_path: Path) -> None:
    # Pipeline(answer=http.answer) was labelled by the method's qualified name: the port moved in its parts
    # and the advice was to set a `version`, not to name the service
    def run(port: int) -> list[str]:
        composed = ragprobe.Pipeline(answer=ragprobe.HTTPPipeline(f"http://127.0.0.1:{port}").answer)
        since = run_starts()
        _store(tmp_path, composed)
        return identity_notices(tmp_path, {describe(composed): (24, 0)}, since)

    assert run(40001) == [] and run(40002) == []
    (notice,) = run(40003)
    assert "what differs from the latest: the URL (http://127.0.0.1:40002 then)." in notice
    assert 'give it `name="my-rag"`' in notice and "set a `version` attribute" not in notice


def test_service_group_leaves_out_the_port_and_a_local_host() -> None:
    local = "http:http://<local>:<port>"
    assert service_group("http:http://127.0.0.1:41877") == local
    assert service_group("http:http://localhost:8000") == local
    assert service_group("http:http://[::1]:5/api@2") == "http:http://<local>:<port>/api@2"
    assert service_group("http:https://rag.example:8443/x") == "http:https://rag.example:<port>/x"
    assert service_group("http:https://rag.example:8443/x") != service_group("http:https://other.example:8443/x")
    assert service_group("http:http://127.0.0.1:1/a") != service_group("http:http://127.0.0.1:1/b")
    assert service_group("openai:m@http://127.0.0.1:9/v1@abc") == "openai:m@http://<local>:<port>/v1@abc"
    for plain in ("conftest.Pipe", "my-rag@2", "Pipeline(answer=m.f, generate=m.g)"):
        assert service_group(plain) == plain


def test_a_service_on_a_random_port_each_run_is_named_from_the_third_run(tmp_path: Path) -> None:
    """Each port was a pipeline of its own (its base name is its URL): the notice never came."""
    assert _run(tmp_path, "http://127.0.0.1:40001") == []
    assert _run(tmp_path, "http://127.0.0.1:40002") == []  # one change may be on purpose
    (notice,) = _run(tmp_path, "http://localhost:40003")
    assert notice.startswith(
        "ragprobe: the answer cache had no answers for http:http://localhost:40003#"
    )
    assert (
        "(24 calls); it holds 2 other identities of http:http://localhost:<port> (the same service at "
        "another port), last used "
    ) in notice
    assert "; what differs from the latest: the URL (http://127.0.0.1:40002 then)." in notice
    assert 'give it `name="my-rag"` (ragprobe.HTTPPipeline(url, name="my-rag"))' in notice
    assert "set a `version` attribute" not in notice


def test_a_service_at_a_fixed_address_or_another_host_gets_no_notice(tmp_path: Path) -> None:
    assert _run(tmp_path, "http://127.0.0.1:40001") == []
    assert _run(tmp_path, "http://127.0.0.1:40002") == []
    # another host is another service, whatever its port
    assert _run(tmp_path, "http://rag.example:40003") == []
    # the same address again: its identity exists, nothing new was made
    assert _run(tmp_path, "http://127.0.0.1:40002", hits=24) == []


def test_a_named_service_keeps_its_identity_across_ports(tmp_path: Path) -> None:
    identities = {
        make_adapter(ragprobe.HTTPPipeline(f"http://127.0.0.1:{port}", name="my-rag")).cache_identity
        for port in (40001, 40002)
    }
    assert len(identities) == 1


def test_a_service_at_a_stable_address_whose_other_part_changes_gets_the_version_advice(tmp_path: Path) -> None:
    """The URL is in the base name, but it did not change: `name=` would not help."""
    http = ragprobe.HTTPPipeline("http://127.0.0.1:40001", retrieve_path="/retrieve", answer_path=None)

    def pipeline_with(workdir: str) -> ragprobe.Pipeline:
        def generate(question: str, documents: object) -> str:
            return workdir + question

        return ragprobe.Pipeline(retrieve=http, generate=generate)  # type: ignore[arg-type]

    said = []
    for workdir in ("/tmp/a", "/tmp/b", "/tmp/c"):
        pipe = pipeline_with(workdir)
        since = run_starts()
        _store(tmp_path, pipe)
        said.append(identity_notices(tmp_path, {describe(pipe): (24, 0)}, since))
    assert "http:http://127.0.0.1:40001" in describe(pipe)
    assert said[:2] == [[], []] and len(said[2]) == 1
    notices = said[2]
    assert "what differs from the latest: generate's closure variable 'workdir'." in notices[0]
    assert "set a `version` attribute" in notices[0] and "name=" not in notices[0]


def test_a_bound_method_or_held_adapter_carries_the_service_identity() -> None:
    """Pipeline(answer=http.answer, generate=gen.generate) (or a closure / an attribute holding
    an adapter) was keyed by the method's qualified name alone: another model or URL reused the
    cached answers of the old one."""

    class Rag:  # holds its reader (only the model's name tells two of them apart)
        def __init__(self, model: str) -> None:
            self.gen = ragprobe.OpenAIGenerator("http://127.0.0.1:40001/v1", model)

        def generate(self, question: str, documents: object) -> str:
            return question

    def compositions(model: str, port: int) -> list[object]:
        gen = ragprobe.OpenAIGenerator("http://127.0.0.1:40001/v1", model)
        http = ragprobe.HTTPPipeline(f"http://127.0.0.1:{port}")
        return [
            ragprobe.Pipeline(answer=http.answer, generate=gen.generate),
            # closures over the adapters
            ragprobe.Pipeline(answer=lambda q: http.answer(q), generate=lambda q, d: gen.generate(q, d)),  # noqa: PLW0108
            Rag(model),
        ]

    base = compositions("m1", 40002)
    for changed in (compositions("m2", 40002), compositions("m1", 40003)):
        for i, (old, new) in enumerate(zip(base, changed, strict=True)):
            if isinstance(old, Rag) and old.gen.model == new.gen.model:  # type: ignore[attr-defined]
                continue  # (Rag has no URL of its own to change)
            assert make_adapter(old).cache_identity != make_adapter(new).cache_identity, i
    # unchanged settings keep the identity (and a key rotation does not change it either)
    again = compositions("m1", 40002)
    for old, new in zip(base, again, strict=True):
        assert make_adapter(old).cache_identity == make_adapter(new).cache_identity
    keyed = ragprobe.OpenAIGenerator("http://127.0.0.1:40001/v1", "m1", api_key="sk-secret-1")
    rotated = ragprobe.OpenAIGenerator("http://127.0.0.1:40001/v1", "m1", api_key="sk-secret-2")
    assert make_adapter(ragprobe.Pipeline(generate=keyed.generate)).cache_identity == make_adapter(
        ragprobe.Pipeline(generate=rotated.generate)
    ).cache_identity
    # the composition reads as its services (was "Pipeline(answer=pytest_ragprobe.adapters.HTTPPipeline.answer,
    # generate=pytest_ragprobe.adapters.OpenAIGenerator.generate)" in reports, naming neither)
    label = describe(base[0])
    assert label.startswith("Pipeline(answer=http:http://127.0.0.1:40002, generate=openai:m1@http://127.0.0.1:40001/v1")
    assert "m2@" in describe(compositions("m2", 40002)[0])
