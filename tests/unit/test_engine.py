from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_ragprobe._xdist import budget_share
from pytest_ragprobe.engine import (
    Budget,
    Call,
    Engine,
    EngineSettings,
    EngineStats,
    classify,
    parse_retry_after,
)
from pytest_ragprobe.pipeline import Pipeline, PipelineAdapter
from pytest_ragprobe.progress import LiveLine, finished_line, status_line
from pytest_ragprobe.types import Answer


def run(engine: Engine, calls: list[Call]) -> Any:
    return asyncio.run(engine.run(calls))


def calls(n: int) -> list[Call]:
    return [Call("answer", f"q{i}") for i in range(n)]


FAST = EngineSettings(concurrency=4, timeout=2.0, retries=2, backoff=0.001, max_backoff=0.01)


class HTTPError(Exception):
    def __init__(self, status: int, retry_after: str | None = None) -> None:
        super().__init__(f"status {status}")
        headers = {"retry-after": retry_after} if retry_after else {}
        self.response = SimpleNamespace(status_code=status, headers=headers, text="body",
                                        url="http://x/answer")


def test_results_keep_plan_order_and_concurrency_is_bounded_async() -> None:
    in_flight = peak = 0

    async def answer(q: str) -> str:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001 * (hash(q) % 7))
        in_flight -= 1
        return q.upper()

    out = run(Engine(PipelineAdapter(answer), FAST), calls(40))
    assert [o.value.text for o in out] == [f"Q{i}" for i in range(40)]
    assert peak == 4


def test_sync_pipeline_runs_in_a_bounded_pool() -> None:
    lock = threading.Lock()
    in_flight = peak = 0
    main = threading.get_ident()
    seen_threads: set[int] = set()

    def answer(q: str) -> str:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
            seen_threads.add(threading.get_ident())
        time.sleep(0.005)
        with lock:
            in_flight -= 1
        return q

    out = run(Engine(PipelineAdapter(answer), FAST), calls(20))
    assert [o.value.text for o in out] == [f"q{i}" for i in range(20)]
    assert peak <= 4 and main not in seen_threads


def test_transient_errors_are_retried_and_others_are_not() -> None:
    attempts: dict[str, int] = {}

    async def answer(q: str) -> str:
        attempts[q] = attempts.get(q, 0) + 1
        if q == "q0" and attempts[q] < 3:
            raise HTTPError(503)
        if q == "q1":
            raise ValueError("bad question")
        if q == "q2":
            raise HTTPError(404)
        if q == "q3":
            raise ConnectionResetError("reset")
        return "ok"

    out = run(Engine(PipelineAdapter(answer), FAST), calls(6))
    assert out[0].ok and out[0].attempts == 3
    assert not out[1].ok and attempts["q1"] == 1
    # grouped by type and place (the message often names the call), the message kept in the error
    assert re.fullmatch(r"ValueError at \S*test_engine\.py:\d+", out[1].cause or "")
    assert out[1].error == "ValueError: bad question"
    assert out[2].cause == "HTTP 404 from http://x/answer" and attempts["q2"] == 1
    assert out[3].cause == "ConnectionResetError: reset" and attempts["q3"] == 3
    assert out[4].ok and out[5].ok


def test_connection_errors_keep_their_message_in_the_cause() -> None:
    """ConnectionError("db down") was summarised as "ConnectionError", while RuntimeError kept its text."""
    assert classify(ConnectionError("db down"), 1).cause == "ConnectionError: db down"
    assert classify(ConnectionRefusedError(111, "Connection refused"), 1).cause == (
        "ConnectionRefusedError: [Errno 111] Connection refused"
    )
    assert classify(ConnectionError(), 1).cause == "ConnectionError"
    assert classify(ConnectionError("db down"), 1).retryable
    assert classify(RuntimeError("backend exploded"), 1).cause == "RuntimeError: backend exploded"


def test_connection_errors_differing_by_object_address_still_group() -> None:
    count = 0

    async def answer(q: str) -> str:
        nonlocal count
        count += 1
        raise ConnectionError(f"<HTTPConnection object at {0x7F3A00000000 + count:#x}>: refused")

    settings = EngineSettings(concurrency=2, retries=0, backoff=0.001, fail_fast=5)
    out = run(Engine(PipelineAdapter(answer), settings), calls(50))
    assert {o.cause for o in out} == {"ConnectionError: <HTTPConnection object at 0x…>: refused"}
    assert "0x7f3a" in (out[0].error or "")  # the full text stays in the call's error
    assert count <= 8  # fail-fast still trips: the causes are equal


def test_timeouts_are_retried_then_recorded_with_the_limit() -> None:
    async def answer(q: str) -> str:
        if q == "q1":
            await asyncio.sleep(5)
        return q

    settings = EngineSettings(concurrency=2, timeout=0.05, retries=1, backoff=0.001)
    out = run(Engine(PipelineAdapter(answer), settings), calls(3))
    assert out[1].error == "timeout after 0.05s" and out[1].attempts == 2
    assert out[0].ok and out[2].ok


def test_retry_after_is_honoured_and_capped() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert classify(HTTPError(429, "7"), 1).retry_after == 7.0
    stamps: list[float] = []

    async def answer(q: str) -> str:
        stamps.append(time.monotonic())
        if len(stamps) == 1:
            raise HTTPError(429, "0.2")
        return q

    settings = EngineSettings(concurrency=1, retries=2, backoff=0.001, max_backoff=0.15)
    out = run(Engine(PipelineAdapter(answer), settings), calls(1))
    assert out[0].ok
    assert 0.14 <= stamps[1] - stamps[0] < 1.0  # waited the capped Retry-After, not 0.001 s


def test_retry_after_ms_is_read_first() -> None:
    # OpenAI and Azure OpenAI send retry-after-ms (some services only it): was ignored, so a call retried after
    # the engine's own short backoff, straight into the next 429
    def refused(headers: dict[str, str]) -> Exception:
        exc = HTTPError(429)
        exc.response.headers = headers
        return exc

    assert classify(refused({"retry-after-ms": "1500"}), 1).retry_after == 1.5
    assert classify(refused({"retry-after-ms": "250", "retry-after": "1"}), 1).retry_after == 0.25
    assert classify(refused({"Retry-After-Ms": "20"}), 1).retry_after == 0.02
    # a bad or negative one: Retry-After as before
    assert classify(refused({"retry-after-ms": "soon", "retry-after": "3"}), 1).retry_after == 3.0
    assert classify(refused({"retry-after-ms": "-5", "retry-after": "3"}), 1).retry_after == 3.0
    assert classify(refused({"retry-after-ms": "nan"}), 1).retry_after is None


def test_fatal_wiring_errors_propagate() -> None:
    def answer(q: str) -> str:
        raise AttributeError("no such thing")

    with pytest.raises(AttributeError):
        run(Engine(PipelineAdapter(answer), FAST), calls(10))


def test_pipeline_output_errors_are_outcomes() -> None:
    out = run(Engine(PipelineAdapter(lambda q: 42), FAST), calls(2))
    assert not out[0].ok and "expected str" in (out[0].error or "") and out[0].attempts == 1


def test_fail_fast_stops_hammering_a_dead_service() -> None:
    count = 0

    async def answer(q: str) -> str:
        nonlocal count
        count += 1
        raise HTTPError(500)

    settings = EngineSettings(concurrency=2, retries=2, backoff=0.001, fail_fast=5)
    out = run(Engine(PipelineAdapter(answer), settings), calls(100))
    assert all(o.cause == "HTTP 500 from http://x/answer" for o in out)
    assert count <= 3 * 6
    assert sum(o.attempts == 0 for o in out) >= 90


def test_no_fail_fast_when_some_calls_succeed() -> None:
    async def answer(q: str) -> str:
        if q in {"q0", "q1", "q2", "q3"}:
            raise HTTPError(500)
        return q

    out = run(Engine(PipelineAdapter(answer), FAST), calls(30))
    assert sum(o.ok for o in out) == 26


def test_fail_fast_ignores_instant_429s_while_the_first_call_is_answered() -> None:
    """Reviewer's repro: a rate-limited service turns calls away with instant 429s while it is busy
    answering the first one (slowly, and well). With retries=0 the 429s finished first and fail-fast
    gave up on a service that works: the calls after them were never sent. (Each 429 also halves
    the concurrency, 8 -> 4 -> 2 -> 1: the fifth call waits for the first one's slot.)"""
    busy = True
    turned_away = 0
    crowd = asyncio.Event()  # the three calls sent beside the first one have been turned away

    async def answer(q: str) -> str:
        nonlocal busy, turned_away
        if q == "q0":
            await crowd.wait()  # (never set: the engine's 30 s timeout fails the call instead)
            busy = False
            return "slow answer"
        if busy:
            turned_away += 1
            if turned_away == 3:
                crowd.set()
            raise HTTPError(429)
        return q

    settings = EngineSettings(concurrency=8, timeout=30.0, retries=0, fail_fast=5)
    engine = Engine(PipelineAdapter(answer), settings)
    out = run(engine, calls(20))
    assert engine.stats.skipped == 0 and all(o.attempts == 1 for o in out)  # none abandoned
    assert out[0].ok and out[0].value.text == "slow answer"
    assert [o.cause for o in out if not o.ok] == ["HTTP 429 from http://x/answer"] * 3
    assert turned_away == 3  # the calls after the first four waited for the first one's answer


def test_fail_fast_hold_ends_at_the_first_success() -> None:
    """Calls after the first five wait only until fail-fast is decided, and one success decides it:
    they go out while the first call is still in flight (here it waits for one of them)."""
    entered = 0
    later_answered = asyncio.Event()

    async def answer(q: str) -> str:
        nonlocal entered
        entered += 1
        if q == "q0":
            await later_answered.wait()  # (never set: the engine's 30 s timeout fails the call)
            return q
        if q == "q1":
            raise HTTPError(500)
        if entered > 5:
            later_answered.set()
        return q

    settings = EngineSettings(concurrency=3, timeout=30.0, retries=0, fail_fast=5)
    out = run(Engine(PipelineAdapter(answer), settings), calls(10))
    assert [o.ok for o in out] == [True, False] + [True] * 8


def test_fail_fast_holds_later_calls_so_a_dead_service_gets_only_the_first_ones() -> None:
    """Whatever the concurrency, a dead service sees the first fail_fast calls and their retries,
    no more (calls sent while the first ones were retried went beyond that)."""
    count = 0

    async def answer(q: str) -> str:
        nonlocal count
        count += 1
        raise HTTPError(500)

    settings = EngineSettings(concurrency=8, retries=2, backoff=0.001, max_backoff=0.01, fail_fast=5)
    engine = Engine(PipelineAdapter(answer), settings)
    out = run(engine, calls(100))
    assert count == 5 * 3 and engine.stats.retries == 5 * 2
    assert [o.attempts for o in out].count(3) == 5 and engine.stats.skipped == 95
    assert all(o.cause == "HTTP 500 from http://x/answer" for o in out)


def test_budget_caps_real_calls_and_cache_hits_are_free(tmp_path: Path) -> None:
    made = 0

    def answer(q: str) -> str:
        nonlocal made
        made += 1
        return q

    budget = Budget(5)
    engine = Engine(PipelineAdapter(answer), FAST, budget, cache_dir=tmp_path)
    out = run(engine, calls(8))
    assert made == 5 and budget.exhausted
    assert sum(o.budget_exhausted for o in out) == 3
    # the 5 answered calls are now cached: served without budget
    out2 = run(Engine(PipelineAdapter(answer), FAST, budget, cache_dir=tmp_path), calls(5))
    assert made == 5 and all(o.cached and o.ok for o in out2)


def test_cache_key_includes_identity_namespace_and_inputs(tmp_path: Path) -> None:
    made: list[str] = []

    def gen(q: str, docs: list[Any]) -> str:
        made.append(q)
        return "x"

    def adapter(version: str) -> PipelineAdapter:
        return PipelineAdapter(Pipeline(generate=gen, name="p", version=version))

    from pytest_ragprobe.types import Document

    c = [Call("generate", "q", (Document("a"), Document("b")))]
    swapped = [Call("generate", "q", (Document("b"), Document("a")))]
    run(Engine(adapter("1"), FAST, cache_dir=tmp_path, namespace="n"), c)
    run(Engine(adapter("1"), FAST, cache_dir=tmp_path, namespace="n"), c)
    assert len(made) == 1
    run(Engine(adapter("2"), FAST, cache_dir=tmp_path, namespace="n"), c)
    run(Engine(adapter("1"), FAST, cache_dir=tmp_path, namespace="other"), c)
    run(Engine(adapter("1"), FAST, cache_dir=tmp_path, namespace="n"), swapped)
    assert len(made) == 4


def test_errors_are_never_cached(tmp_path: Path) -> None:
    fail = True

    def answer(q: str) -> str:
        if fail:
            raise ValueError("nope")
        return q

    run(Engine(PipelineAdapter(answer), FAST, cache_dir=tmp_path), calls(2))
    fail = False
    out = run(Engine(PipelineAdapter(answer), FAST, cache_dir=tmp_path), calls(2))
    assert all(o.ok and not o.cached for o in out)


def test_progress_callback_sees_every_call() -> None:
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int, stats: EngineStats) -> None:
        seen.append((done, total))

    run(Engine(PipelineAdapter(lambda q: q), FAST, progress=progress), calls(7))
    assert seen[-1] == (7, 7) and len(seen) == 8  # once after cache lookups, then per call


def test_status_line_and_live_line() -> None:
    stats = EngineStats(total=10, done=4, calls=4, errors=1)
    line = status_line("test_x", 4, 10, stats)
    assert line.startswith("ragprobe test_x: 4/10 calls, 1 error, ") and "ETA" in line

    class Reporter:
        def __init__(self) -> None:
            self.lines: list[str] = []
            self.newlines = 0

        def ensure_newline(self) -> None:
            self.newlines += 1

        def rewrite(self, line: str, **markup: bool) -> None:
            self.lines.append(line)

        def flush(self) -> None:
            pass

        def write_fspath_result(self, nodeid: str, res: str) -> None:
            self.lines.append(f"<{nodeid}>")

    reporter = Reporter()
    live = LiveLine(reporter, None, "tests/test_a.py::test_x")
    for done in range(1, 11):
        live(done, 10, EngineStats(total=10, done=done, calls=done))
    assert reporter.newlines == 1
    assert reporter.lines[0].startswith("ragprobe test_x: 1/10")
    assert reporter.lines[-1] == "<tests/test_a.py::test_x>"  # file name put back for pytest
    assert "10/10 calls" in reporter.lines[-2] and "done in" in reporter.lines[-2]
    assert len(reporter.lines) < 10  # throttled
    assert finished_line({"verdict": "pass", "n": 3, "calls": 6, "errors": 0}).startswith(
        "    ragprobe: PASS n=3 calls=6")


@pytest.mark.parametrize("budget,workers", [(25, 2), (7, 3), (1, 4), (100, 8)])
def test_budget_shares_add_up(budget: int, workers: int) -> None:
    shares = [budget_share(budget, workers, i) for i in range(workers)]
    assert sum(shares) == budget and max(shares) - min(shares) <= 1


def test_answer_values_roundtrip_through_the_cache(tmp_path: Path) -> None:
    from pytest_ragprobe.types import Document

    def answer(q: str) -> Answer:
        return Answer(q, (Document("t", title="T", id="1", metadata={"s": 1}),))

    first = run(Engine(PipelineAdapter(answer), FAST, cache_dir=tmp_path), calls(1))
    second = run(Engine(PipelineAdapter(answer), FAST, cache_dir=tmp_path), calls(1))
    assert second[0].cached and second[0].value == first[0].value


def test_pipeline_max_concurrency_caps_calls_in_flight() -> None:
    import threading

    from pytest_ragprobe.engine import Call
    from pytest_ragprobe.runner import context_for, run_sync

    class Local:
        max_concurrency = 1

        def __init__(self) -> None:
            self.active = 0
            self.peak = 0
            self.order: list[str] = []
            self.lock = threading.Lock()

        def answer(self, question: str) -> str:
            with self.lock:
                self.active += 1
                self.peak = max(self.peak, self.active)
                self.order.append(question)
            threading.Event().wait(0.002)
            with self.lock:
                self.active -= 1
            return question

    pipe = Local()
    ctx = context_for(pipe, "check_reverse")
    calls = [Call("answer", f"q{i}") for i in range(12)]
    outcomes = run_sync(lambda: ctx.run_calls(calls))
    assert [o.value.text for o in outcomes] == [f"q{i}" for i in range(12)]  # type: ignore[union-attr]
    assert pipe.peak == 1
    assert pipe.order == [f"q{i}" for i in range(12)]  # plan order when one call is in flight


def test_retries_count_against_the_budget() -> None:
    attempts: dict[str, int] = {}

    def answer(q: str) -> str:
        attempts[q] = attempts.get(q, 0) + 1
        if attempts[q] == 1:
            raise TimeoutError("slow upstream")  # retryable: the first attempt of each call fails
        return q

    budget = Budget(3)
    settings = EngineSettings(concurrency=1, timeout=2.0, retries=2, backoff=0.001, max_backoff=0.01)
    out = run(Engine(PipelineAdapter(answer), settings, budget), calls(3))
    # q0: call + retry (2 of 3); q1: call (3 of 3), its retry is refused; q2: not attempted
    assert sum(attempts.values()) == 3 and budget.used == 3
    assert out[0].ok and out[0].value is not None and out[0].attempts == 2
    # a retry the budget cannot pay is a budget stop (the probe is INCONCLUSIVE), not an error
    assert not out[1].ok and out[1].budget_exhausted and out[1].attempts == 1
    assert out[1].cause == "budget exhausted"
    # (the pipeline's own TimeoutError, said as its error: not "timeout after 2s", the engine's timeout)
    error = out[1].error or ""
    assert error.startswith("pipeline call budget exhausted (not retried after: timeout raised by the pipeline ")
    assert error.endswith(f"test_engine.py:{answer.__code__.co_firstlineno + 3}: slow upstream)")
    assert out[2].budget_exhausted and out[2].attempts == 0


def test_hung_sync_calls_do_not_starve_the_pool_for_later_calls() -> None:
    """Two hung calls held both threads of the pool: the other 8 calls queued behind them until their
    own timeout fired, and were reported as "timeout" although never sent (10 errors, 2 calls made)."""
    hang = threading.Event()
    sent: list[str] = []
    lock = threading.Lock()

    def answer(q: str) -> str:
        with lock:
            sent.append(q)
        if q in ("q0", "q1"):
            hang.wait(30)  # a socket read without a timeout (released at the end of the test)
        return q

    settings = EngineSettings(concurrency=2, timeout=0.5, retries=0, fail_fast=0)
    try:
        out = run(Engine(PipelineAdapter(answer), settings), calls(10))
    finally:
        hang.set()
    assert [o.cause for o in out[:2]] == ["timeout after 0.5s"] * 2
    assert [o.value.text for o in out[2:]] == [f"q{i}" for i in range(2, 10)]  # type: ignore[union-attr]
    assert sorted(sent) == sorted(f"q{i}" for i in range(10))


def test_waiting_for_a_thread_is_not_a_pipeline_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no thread to spare (the bound on abandoned threads reached), a call queued behind a hung
    one was reported as "timeout after 0.3s" although the pipeline never saw it."""
    import functools

    from pytest_ragprobe import engine as engine_module

    monkeypatch.setattr(
        engine_module, "DaemonThreadPool", functools.partial(engine_module.DaemonThreadPool, max_abandoned=0)
    )
    hang = threading.Event()
    sent: list[str] = []

    def answer(q: str) -> str:
        sent.append(q)
        hang.wait(30)
        return q

    settings = EngineSettings(concurrency=1, timeout=0.3, retries=0, fail_fast=0)
    try:
        out = run(Engine(PipelineAdapter(answer), settings), calls(3))
    finally:
        hang.set()
    assert sent == ["q0"]
    assert out[0].cause == "timeout after 0.3s"
    assert [o.cause for o in out[1:]] == ["not started within 0.3s"] * 2
    assert out[1].error == (
        "not started within 0.3s: no free thread (calls that timed out earlier still run on all of them)"
    )


def test_the_timeout_does_not_count_the_wait_for_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """q1 waits ~0.8 s for the thread q0 holds, then runs 1 s: each under the 1.5 s timeout, though
    together over it (it used to time out)."""
    import functools

    from pytest_ragprobe import engine as engine_module

    monkeypatch.setattr(
        engine_module, "DaemonThreadPool", functools.partial(engine_module.DaemonThreadPool, max_abandoned=0)
    )

    def answer(q: str) -> str:
        threading.Event().wait(2.3 if q == "q0" else 1.0)
        return q

    settings = EngineSettings(concurrency=1, timeout=1.5, retries=0, fail_fast=0)
    out = run(Engine(PipelineAdapter(answer), settings), calls(2))
    assert out[0].cause == "timeout after 1.5s"
    assert out[1].ok and out[1].value is not None and out[1].value.text == "q1"


def test_retry_count_is_in_the_engine_stats_after_the_run() -> None:
    attempts: dict[str, int] = {}

    async def answer(q: str) -> str:
        attempts[q] = attempts.get(q, 0) + 1
        if attempts[q] < 3 and q in ("q0", "q1"):
            raise HTTPError(503)
        return q

    engine = Engine(PipelineAdapter(answer), FAST)
    out = run(engine, calls(4))
    assert all(o.ok for o in out)
    # what the runner reads after ``await engine.run(calls)``: 2 retries each for q0 and q1
    assert engine.stats.retries == 4 == sum(o.attempts - 1 for o in out)


def test_budget_stop_on_a_retry_is_not_a_probe_error() -> None:
    """--ragprobe-budget running out at a retry ended the probe as ERROR ("2 of 13 pipeline calls
    failed ... HTTP 503") instead of INCONCLUSIVE for the budget."""
    from pytest_ragprobe.runner import context_for, run_sync

    attempts: dict[str, int] = {}

    def answer(q: str) -> str:
        attempts[q] = attempts.get(q, 0) + 1
        if attempts[q] == 1:
            raise HTTPError(503)
        return q

    ctx = context_for(answer, "check_reverse", engine=EngineSettings(concurrency=1, retries=2, backoff=0.001))
    ctx.budget = Budget(5)
    outcomes = run_sync(lambda: ctx.run_calls(calls(4)))
    # q0, q1: call + retry (4 units); q2: call (5th unit), retry refused; q3: never sent
    assert [o.ok for o in outcomes] == [True, True, False, False]
    assert sum(attempts.values()) == 5
    assert ctx.errors == 0 and not ctx.error_causes and ctx.budget_hit
    ctx.check_error_rate()  # no ProbeError: the probe reports the budget, not pipeline errors
    assert (ctx.calls, ctx.retries) == (3, 2)  # q2 was sent (a call); only its retry was refused


def test_rate_limited_probe_error_says_how_far_the_concurrency_was_lowered() -> None:
    from pytest_ragprobe.runner import ProbeError, context_for, run_sync

    async def answer(q: str) -> str:
        raise HTTPError(429)

    settings = EngineSettings(concurrency=4, retries=0, backoff=0.001, fail_fast=0)
    ctx = context_for(answer, "check_reverse", engine=settings)
    run_sync(lambda: ctx.run_calls(calls(8)))
    assert ctx.concurrency_lowered == (1, 4)  # 4 -> 2 -> 1, and not below
    lowered = r"\(rate limited: concurrency lowered to 1 of 4; raise retries="
    with pytest.raises(ProbeError, match=r"HTTP 429 from http://x/answer " + lowered):
        ctx.check_error_rate()
    assert "concurrency lowered to 1 of 4" in ctx.top_cause()


class _StubHeaders(dict[str, str]):
    pass


def _requests_like() -> SimpleNamespace:
    """requests' exception classes (it is not installed here): matched by module and name."""
    ns: dict[str, Any] = {"__module__": "requests.exceptions"}
    base = type("RequestException", (OSError,), dict(ns))
    conn = type("ConnectionError", (base,), dict(ns))
    timeout = type("Timeout", (base,), dict(ns))
    return SimpleNamespace(
        ConnectionError=conn,
        Timeout=timeout,
        ConnectTimeout=type("ConnectTimeout", (conn, timeout), dict(ns)),
        ReadTimeout=type("ReadTimeout", (timeout,), dict(ns)),
        ChunkedEncodingError=type("ChunkedEncodingError", (base,), dict(ns)),
        HTTPError=type("HTTPError", (base,), dict(ns)),
        InvalidURL=type("InvalidURL", (base, ValueError), dict(ns)),
    )


def test_stdlib_and_requests_errors_are_classified_and_retried() -> None:
    """Only ``exc.response.status_code`` was known: urllib's HTTPError 503, a refused connection
    through urlopen and requests' ConnectionError were never retried."""
    import email.message
    import http.client
    import urllib.error

    headers = email.message.Message()
    headers["Retry-After"] = "3"
    e503 = urllib.error.HTTPError("http://svc/answer", 503, "Service Unavailable", headers, None)
    f = classify(e503, 1)
    assert (f.cause, f.retryable, f.retry_after) == ("HTTP 503 from http://svc/answer", True, 3.0)
    e404 = urllib.error.HTTPError("http://svc/answer", 404, "Not Found", email.message.Message(), None)
    assert (classify(e404, 1).cause, classify(e404, 1).retryable) == ("HTTP 404 from http://svc/answer", False)

    refused = urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))
    f = classify(refused, 1)
    assert f.retryable and f.cause == "ConnectionRefusedError: [Errno 111] Connection refused"
    assert f.error.startswith("URLError: ConnectionRefusedError")
    f = classify(urllib.error.URLError(TimeoutError("timed out")), 1)
    assert f.retryable and f.cause == "timeout (URLError)"
    assert not classify(urllib.error.URLError("unknown url type: htp"), 1).retryable
    f = classify(http.client.IncompleteRead(b"ab", 10), 1)
    assert f.retryable and f.cause == "transport error (IncompleteRead)"
    assert classify(http.client.RemoteDisconnected("closed"), 1).retryable

    req = _requests_like()
    request = SimpleNamespace(url="http://svc/answer")
    for cls, kind in [
        (req.ConnectionError, "transport error"),
        (req.ChunkedEncodingError, "transport error"),
        (req.ReadTimeout, "timeout"),
        (req.ConnectTimeout, "timeout"),
    ]:
        exc = cls("HTTPConnectionPool(host='svc'): <urllib3.connection.HTTPConnection object at 0x7f3a2b1c4d50>")
        exc.request = request
        f = classify(exc, 1)
        assert f.retryable, cls
        assert f.cause == f"{kind} ({cls.__name__}) from http://svc/answer"
        assert "0x7f3a" not in f.error
    http_error = req.HTTPError("503 Server Error")
    http_error.request = request
    http_error.response = SimpleNamespace(
        status_code=503, headers=_StubHeaders({"Retry-After": "2"}), url="http://svc/answer", text="busy"
    )
    f = classify(http_error, 1)
    assert (f.cause, f.error, f.retryable, f.retry_after) == (
        "HTTP 503 from http://svc/answer", "HTTP 503 from http://svc/answer: busy", True, 2.0)
    assert not classify(req.InvalidURL("bad"), 1).retryable


def test_any_error_with_an_http_status_attribute_is_judged_by_it() -> None:
    class SDKError(Exception):
        def __init__(self, **attrs: Any) -> None:
            super().__init__("sdk failure")
            self.__dict__.update(attrs)

    assert classify(SDKError(status_code=502), 1).retryable
    assert classify(SDKError(status=503, headers={"Retry-After": "4"}), 1).retry_after == 4.0
    assert classify(SDKError(code=429), 1).cause == "HTTP 429 from the pipeline"
    assert not classify(SDKError(status_code=400), 1).retryable
    assert not classify(SDKError(code=2), 1).retryable  # a library's own error code, not HTTP
    assert classify(SDKError(code=2), 1).cause == "SDKError: sdk failure"
    assert not classify(SDKError(status=True), 1).retryable


def test_urllib_pipeline_is_retried_against_a_real_server() -> None:
    """A sync urllib pipeline against a service failing each first try with 503: 12 of 12 calls used to
    fail (fail-fast then skipped the rest); now every call succeeds on its retry."""
    import json
    import sys
    import urllib.request

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from faults import FaultServer, Reply, Request

    def handler(req: Request) -> Reply:
        if req.attempt == 1:
            return Reply(status=503, json={"error": "warming up"})
        return Reply(json={"answer": str(req.json["question"]).upper()})

    with FaultServer(handler, max_requests=100, lifetime=60) as server:

        def answer(q: str) -> str:
            body = json.dumps({"question": q}).encode()
            request = urllib.request.Request(
                server.url + "/answer", data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=10) as reply:
                return str(json.loads(reply.read())["answer"])

        out = run(Engine(PipelineAdapter(answer), FAST), calls(8))
        requests = server.requests
    assert [o.value.text for o in out] == [f"Q{i}" for i in range(8)]  # type: ignore[union-attr]
    assert [o.attempts for o in out] == [2] * 8 and requests == 16


def test_retry_after_gets_jitter_on_top_and_is_honoured_up_to_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every call told "Retry-After: 1" waited exactly 1 s, so they all came back in the same instant.
    A Retry-After is waited out up to the call's timeout (at least max_backoff): "45" in full (it was
    cut to 20 s, and the retry came back early into the same refusal); "100", more than that, is not
    retried at all (it waited 2 x 20 s for nothing)."""
    from pytest_ragprobe import engine as engine_module

    waits: list[float] = []  # the retries' waits (not the shared Retry-After hold of new calls)
    real_sleep, real_delay = asyncio.sleep, Engine._delay

    async def fake_sleep(delay: float) -> None:
        await real_sleep(0)

    def delay(self: Engine, attempt: int, failure: Any) -> float:
        waits.append(real_delay(self, attempt, failure))
        return waits[-1]

    monkeypatch.setattr(engine_module.asyncio, "sleep", fake_sleep)
    monkeypatch.setattr(Engine, "_delay", delay)
    seen: dict[str, int] = {}

    async def answer(q: str) -> str:
        seen[q] = seen.get(q, 0) + 1
        if seen[q] == 1:
            raise HTTPError(429, {"q0": "45", "q1": "100"}.get(q, "1"))
        return q

    settings = EngineSettings(concurrency=4, timeout=60.0, retries=1, backoff=0.001, max_backoff=20.0)
    assert settings.longest_wait == 60.0
    out = run(Engine(PipelineAdapter(answer), settings), calls(30))
    assert out[1].attempts == 1 and out[1].error == (
        "HTTP 429 from http://x/answer: body (the service asked to wait 100 s, more than the 60 s ragprobe "
        "waits for a Retry-After: not retried)"
    )
    assert all(o.ok for o in out[:1] + out[2:]) and len(waits) == 29 and seen["q1"] == 1
    long = [w for w in waits if w >= 20]
    assert len(long) == 1 and 45 <= long[0] <= 54  # Retry-After 45 waited in full, + <=20%
    rest = [w for w in waits if w < 20]
    assert all(1.0 <= w <= 1.2 for w in rest) and len(set(rest)) == 28
    # without a longer timeout, max_backoff is the longest wait
    assert EngineSettings(timeout=5.0).longest_wait == EngineSettings(timeout=None).longest_wait == 20.0


def test_advice_for_rate_limiting() -> None:
    from pytest_ragprobe.engine import advice

    assert advice("HTTP 429 from http://x/answer", (2, 8)) == (
        " (rate limited: concurrency lowered to 2 of 8; raise --ragprobe-retries to wait longer"
        " between attempts)"
    )
    assert advice("HTTP 429 from http://x/answer") == (  # e.g. at concurrency 1: nothing to lower
        " (rate limited: raise --ragprobe-retries to wait longer between attempts)"
    )
    assert advice("HTTP 500 from http://x/answer") == ""
    assert advice("timeout after 1s") == (
        " (raise --ragprobe-timeout, or lower --ragprobe-concurrency if the pipeline slows under load)"
    )


class _Limited:
    """A fake service that answers at most ``limit`` calls at once and turns the others away with
    HTTP 429 (after the same short work, so they are in flight meanwhile too). Work is a few
    event-loop turns, not a sleep, and the engine's backoff is 0: the run is deterministic."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self.rate_limited = 0  # 429s sent
        self.requests = 0
        self.peak_after_429 = 0  # most calls in flight when one arrived after the first 429

    async def answer(self, q: str) -> str:
        self.requests += 1
        self.in_flight += 1
        if self.rate_limited:
            self.peak_after_429 = max(self.peak_after_429, self.in_flight)
        try:
            over = self.in_flight > self.limit
            for _ in range(3):
                await asyncio.sleep(0)
            if over:
                self.rate_limited += 1
                raise HTTPError(429)
            return q
        finally:
            self.in_flight -= 1


NO_WAIT = EngineSettings(concurrency=8, retries=2, backoff=0.0, max_backoff=0.0)


def test_http_429_lowers_the_concurrency_so_rate_limited_calls_stop_failing() -> None:
    """At a fixed concurrency of 8 against a service taking 2 calls at once, every freed slot was
    refilled at once: 170 of the 174 requests got 429 and 56 of the 60 calls ran out of retries (a
    probe ERROR). Adaptive: 8 -> 4 -> 2, then a try at 3 now and then; no call fails (12 429s)."""
    service = _Limited(2)
    engine = Engine(PipelineAdapter(service.answer), NO_WAIT)
    out = run(engine, calls(60))
    assert engine.stats.errors == 0 and all(o.attempts <= 2 for o in out)
    assert [o.value.text for o in out if o.value is not None] == [f"q{i}" for i in range(60)]
    assert engine.stats.lowest_concurrency == 2
    assert service.peak_after_429 <= 4  # the first 429 halved 8 in flight
    assert service.rate_limited <= 15 and service.requests == 60 + engine.stats.retries


def test_the_next_batch_of_a_probe_starts_at_the_concurrency_the_last_one_learned() -> None:
    """A sequential probe runs one batch per look, each with a new engine: each started at 8 again and
    met the rate limit anew (8 calls in flight, a burst of 429s per look)."""
    from pytest_ragprobe.runner import ProbeContext, RunSettings

    service = _Limited(2)
    ctx = ProbeContext(PipelineAdapter(service.answer), RunSettings(engine=NO_WAIT))
    asyncio.run(ctx.run_calls(calls(40)))
    assert service.rate_limited >= 1
    service.rate_limited, service.peak_after_429 = 1, 0  # (1: the fake records the peak from the first call)
    out = asyncio.run(ctx.run_calls(calls(40)))
    assert all(o.ok for o in out)
    # from 2, a try at 3 now and then: after a 429 at 3 only every 32 successes (was every 8: 4 429s)
    assert (service.peak_after_429, service.rate_limited - 1) == (3, 2)
    assert ctx.rate_limit == 2  # carried on: it ended at 2, after a try at 3 drew a 429


def test_a_burst_of_429s_lowers_the_concurrency_once_and_successes_raise_it_back() -> None:
    """Calls sent together that all get 429 met one overload: halve once, not once per 429 (8 of
    them would take it to 1). Successes then raise it one step per 8, back to 8."""
    burst = asyncio.Event()
    arrived = in_flight = 0
    seen: list[int] = []  # calls in flight at each arrival after the burst

    async def answer(q: str) -> str:
        nonlocal arrived, in_flight
        arrived += 1
        in_flight += 1
        try:
            if arrived <= 8:  # the first 8 are held together, then all turned away
                if arrived == 8:
                    burst.set()
                await burst.wait()
                raise HTTPError(429)
            seen.append(in_flight)
            await asyncio.sleep(0)
            return q
        finally:
            in_flight -= 1

    settings = EngineSettings(concurrency=8, retries=2, backoff=0.0, max_backoff=0.0, fail_fast=0)
    engine = Engine(PipelineAdapter(answer), settings)
    out = run(engine, calls(100))
    assert all(o.ok for o in out) and engine.stats.lowest_concurrency == 4
    assert max(seen[:8]) == 4 and max(seen) == 8  # 4 after the burst, back to 8 later


def test_retry_after_holds_new_calls_too_not_only_the_retried_one() -> None:
    """Only the call that got "429, Retry-After: 0.05" waited: the other workers went on sending,
    into the same refusal."""
    until: float | None = None
    early = 0  # requests that came while the service had said to wait

    async def answer(q: str) -> str:
        nonlocal until, early
        now = asyncio.get_running_loop().time()
        if until is None:
            until = now + 0.05
            raise HTTPError(429, "0.05")
        if now < until:
            early += 1
            raise HTTPError(429, f"{until - now:.3f}")
        return q

    settings = EngineSettings(concurrency=8, retries=2, backoff=0.001, max_backoff=1.0)
    engine = Engine(PipelineAdapter(answer), settings)
    out = run(engine, calls(20))
    assert all(o.ok for o in out) and early == 0
    assert [o.attempts for o in out] == [2] + [1] * 19


def test_live_line_shows_at_one_q_and_hides_at_two(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_ragprobe import progress

    class Plugins:
        def get_plugin(self, name: str) -> Any:
            return SimpleNamespace(isatty=True) if name == "terminalreporter" else None

    def config(verbose: int) -> Any:
        return SimpleNamespace(
            pluginmanager=Plugins(), option=SimpleNamespace(verbose=verbose), get_verbosity=lambda: verbose
        )

    assert progress.make_progress(config(-1), "t.py::test_a") is not None  # -q
    assert progress.make_progress(config(-2), "t.py::test_a") is None  # -q -q
    assert progress.make_progress(config(0), "t.py::test_a") is not None
