"""A ``name=`` on ``ragprobe.Pipeline(...)`` replaces its readable label only: its cache identity still
carries the parts' code and configuration, as an unnamed one's does, so a named pipeline built around
another configuration (or other code) never replays the answers cached for the old one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pytest_ragprobe.cache import identity_base
from pytest_ragprobe.engine import Call, CallOutcome, Engine, EngineSettings
from pytest_ragprobe.pipeline import Pipeline, PipelineAdapter, describe, identity_parts
from pytest_ragprobe.types import Answer

FAST = EngineSettings(concurrency=2, timeout=2.0, retries=0, backoff=0.001, max_backoff=0.01)


class Rag:
    def __init__(self, rev: float) -> None:
        self.rev = rev

    def answer(self, question: str) -> str:
        return f"{question}:{self.rev}"


def _other_code(question: str) -> str:
    return question.upper()


def test_a_named_pipeline_is_keyed_by_its_parts_configuration() -> None:
    good = Pipeline(answer=Rag(1.0).answer, name="my-rag")
    worse = Pipeline(answer=Rag(0.5).answer, name="my-rag")
    assert describe(good) == describe(worse) == "my-rag"  # the label reports show is the name
    ident_good, ident_worse = describe(good, fingerprint=True), describe(worse, fingerprint=True)
    assert ident_good.startswith("my-rag#") and identity_base(ident_good) == "my-rag"
    assert ident_good != ident_worse
    assert ident_good == describe(Pipeline(answer=Rag(1.0).answer, name="my-rag"), fingerprint=True)  # stable
    assert PipelineAdapter(good).cache_identity != PipelineAdapter(worse).cache_identity
    # other code behind the same name: another identity too
    assert describe(Pipeline(answer=_other_code, name="my-rag"), fingerprint=True) != ident_good


def test_a_named_pipeline_records_the_same_parts_as_an_unnamed_one() -> None:
    named = identity_parts(Pipeline(answer=Rag(1.0).answer, name="my-rag"))
    unnamed = identity_parts(Pipeline(answer=Rag(1.0).answer))
    assert named == unnamed and {"answer:code", "answer:rev"} <= set(named)
    worse = identity_parts(Pipeline(answer=Rag(0.5).answer, name="my-rag"))
    assert [k for k in named if named[k] != worse[k]] == ["answer:rev"]  # what the notice would name


def test_unnamed_and_versioned_identities_are_unchanged() -> None:
    fn = Rag(1.0).answer
    # an unnamed composition is named by its parts, each with its own hash, as before
    assert describe(Pipeline(answer=fn), fingerprint=True) == f"Pipeline(answer={describe(fn, fingerprint=True)})"
    versioned = Pipeline(answer=fn, name="named", version="3")
    assert describe(versioned) == "named@3"
    assert identity_base(describe(versioned, fingerprint=True)) == "named@3"
    # a version owns the configuration (as for an unnamed one): code still counts
    assert describe(versioned, fingerprint=True) == describe(
        Pipeline(answer=Rag(0.5).answer, name="named", version="3"), fingerprint=True
    )
    assert describe(Pipeline(answer=_other_code, name="named", version="3"), fingerprint=True) != describe(
        versioned, fingerprint=True
    )


def test_a_named_pipeline_with_another_configuration_misses_the_cache(tmp_path: Path) -> None:
    calls = [Call("answer", f"q{i}") for i in range(3)]

    def run(rev: float) -> list[CallOutcome]:
        adapter = PipelineAdapter(Pipeline(answer=Rag(rev).answer, name="my-rag"))
        return asyncio.run(Engine(adapter, FAST, cache_dir=tmp_path).run(calls))

    first = run(1.0)
    assert not any(o.cached for o in first)
    again = run(1.0)
    assert all(o.cached for o in again)
    changed = run(0.5)
    assert not any(o.cached for o in changed)
    assert [o.value for o in changed] == [Answer(f"q{i}:0.5") for i in range(3)]
