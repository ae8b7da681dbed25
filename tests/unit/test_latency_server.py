"""The bench's fixed-latency server (tests/faults.py ``LatencyServer``): echoes, keeps connections,
holds each reply at least its latency, stops answering after ``max_requests``."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from pytest_ragprobe.adapters import HTTPPipeline
from pytest_ragprobe.engine import Call, CallOutcome, Engine, EngineSettings
from pytest_ragprobe.pipeline import PipelineAdapter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from faults import LatencyServer


def ask(server: LatencyServer, n: int, concurrency: int) -> list[CallOutcome]:
    engine = Engine(PipelineAdapter(HTTPPipeline(f"http://127.0.0.1:{server.port}")),
                    EngineSettings(concurrency=concurrency, timeout=10, retries=0))
    return asyncio.run(engine.run([Call("answer", f"q{i}") for i in range(n)]))


def test_echoes_through_the_engine_and_counts_requests() -> None:
    server = LatencyServer(0.01, max_requests=20, lifetime=30).start()
    try:
        out = ask(server, 12, concurrency=4)
        assert [o.value.text for o in out if o.value is not None] == [f"q{i}" for i in range(12)]
        assert server.requests == 12
        # held at least the latency (a lower bound measured by the server itself: not a timing test)
        assert server.mean_service() >= 0.01
    finally:
        server.stop()


def test_answers_503_after_max_requests() -> None:
    server = LatencyServer(0.0, max_requests=2, lifetime=30).start()
    try:
        out = ask(server, 3, concurrency=1)
        assert [o.ok for o in out] == [True, True, False]
        assert "503" in (out[2].error or "")
    finally:
        server.stop()
    assert not server.alive()
