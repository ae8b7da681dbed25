"""What HTTP 429s taught one probe carries over to the next probe of the same pipeline in the process
(the lowered concurrency, the successes towards raising it again, a Retry-After hold not over yet).

Each probe here is a new ProbeContext around a new adapter of the same pipeline, as the plugin makes
them per test. The fake services set ``version``, so their identity is theirs: their counters (plain
data a closure reads) would otherwise be part of it, and each probe would see another pipeline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import SimpleNamespace

from pytest_ragprobe.engine import Call, CallOutcome, EngineSettings
from pytest_ragprobe.pipeline import PipelineAdapter
from pytest_ragprobe.runner import ProbeContext, RunSettings

URL = "http://x/answer"
NO_WAIT = EngineSettings(concurrency=8, retries=2, backoff=0.0, max_backoff=0.0)


class HTTPError(Exception):
    def __init__(self, status: int, retry_after: str | None = None) -> None:
        super().__init__(f"status {status}")
        headers = {"retry-after": retry_after} if retry_after else {}
        self.response = SimpleNamespace(status_code=status, headers=headers, text="slow down", url=URL)


@dataclass
class Counts:
    limit: int
    in_flight: int = 0
    peak: int = 0  # most calls in flight at once
    requests: int = 0
    rate_limited: int = 0  # 429s sent


def limited(limit: int, version: str) -> tuple[Callable[[str], Awaitable[str]], Counts]:
    """A service that answers at most ``limit`` calls at once and turns the others away with HTTP 429
    (after the same few event-loop turns, so they are in flight meanwhile too): no sleeps, and the
    engine's backoff is 0, so the counts are deterministic. ``version``: one per test, as what a test
    taught about a pipeline stays for the next one (what this is about)."""
    counts = Counts(limit)

    async def answer(q: str) -> str:
        counts.requests += 1
        counts.in_flight += 1
        counts.peak = max(counts.peak, counts.in_flight)
        try:
            over = counts.in_flight > counts.limit
            for _ in range(3):
                await asyncio.sleep(0)
            if over:
                counts.rate_limited += 1
                raise HTTPError(429)
            return q
        finally:
            counts.in_flight -= 1

    answer.version = version  # type: ignore[attr-defined]
    return answer, counts


def probe(answer: Callable[[str], Awaitable[str]], n: int, settings: EngineSettings = NO_WAIT) -> ProbeContext:
    """One probe (a new context and adapter, as for each test) of ``n`` calls; its context after."""
    ctx = ProbeContext(PipelineAdapter(answer), RunSettings(engine=settings))
    out = asyncio.run(ctx.run_calls([Call("answer", f"q{i}") for i in range(n)]))
    assert all(o.ok for o in out)
    return ctx


def test_the_next_probe_of_a_rate_limited_pipeline_starts_at_the_concurrency_it_learned() -> None:
    """Each probe started at 8 calls in flight against a service that takes 2: probe B met the same
    burst of 429s as probe A (10 of them). Now B starts at the 2 A ended with (after 8 -> 4 -> 2 and a
    try at 3 that drew a 429: 3 is then tried again only after 32 successes, not 8), and only its tries
    at 3 get turned away."""
    answer, service = limited(2, "next")
    first = probe(answer, 40)
    assert (service.rate_limited, first.concurrency_lowered, first.rate_limit) == (8, (2, 8), 2)
    service.rate_limited = service.peak = 0
    second = probe(answer, 40)
    assert (service.rate_limited, service.peak, second.retries) == (2, 3, 2)  # was 4 and 4 before the ceiling
    assert second.rate_limit == 2


def test_a_recovered_service_gets_the_full_concurrency_back_probe_by_probe() -> None:
    """The learned limit decays as calls succeed, one step per ``concurrency`` successes (at most the
    probe's calls), counted across probes, back to the full 8: then nothing is carried."""
    answer, service = limited(2, "decay")
    probe(answer, 40)  # ends at 2 in flight
    service.limit = 100  # the service's limit is lifted
    peaks = []
    for n in (5, 5, 5, 40, 40):
        service.peak = 0
        last = probe(answer, n)
        peaks.append((service.peak, last.rate_limit))
    # 5 calls: 5 successes a step, up to 5 in flight; 40 calls: 8 a step, from 5 to 8 in 24 calls
    assert peaks == [(3, 3), (3, 4), (4, 5), (8, None), (8, None)]
    assert service.rate_limited == 8  # all of them the first probe's


def test_a_pending_retry_after_holds_the_next_probe_of_the_same_pipeline() -> None:
    """Probe A's last call got "429, Retry-After: 1" (not retried: --ragprobe-retries=0); probe B,
    started at once, sent its first call into that same refusal (an error). Now it waits for it."""
    closed_until = 0.0
    early = 0  # requests that came while the service had said to wait
    requests = 0

    async def answer(q: str) -> str:
        nonlocal closed_until, early, requests
        requests += 1
        now = time.monotonic()
        if requests == 3:  # A's last call
            closed_until = now + 1.0
            raise HTTPError(429, "1")
        if now < closed_until:
            early += 1
            raise HTTPError(429, "1")
        return q

    answer.version = "hold"  # type: ignore[attr-defined]
    settings = EngineSettings(concurrency=1, retries=0)
    ctx = ProbeContext(PipelineAdapter(answer), RunSettings(engine=settings))
    out: list[CallOutcome] = asyncio.run(ctx.run_calls([Call("answer", f"a{i}") for i in range(3)]))
    assert [o.ok for o in out] == [True, True, False] and out[2].cause == f"HTTP 429 from {URL}"
    # (B cannot be early: the engine's hold starts when it reads the 429, after the service set its own)
    second = probe(answer, 3, settings)
    assert early == 0 and second.errors == 0 and requests == 6


def test_a_service_that_was_never_rate_limited_keeps_the_full_concurrency() -> None:
    answer, service = limited(100, "never")
    probe(answer, 20)
    probe(answer, 20)
    assert service.peak == 8 and service.rate_limited == 0
