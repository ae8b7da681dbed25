"""Run engine against a rate-limited service: fixed vs adaptive concurrency.

A loopback service (tests/faults.py ``FaultServer``, in this process, 127.0.0.1, bounded lifetime)
answers in 50 ms and turns calls away with HTTP 429 in two ways:

* ``concurrency``: it takes at most 2 calls at once; a 429 carries no Retry-After.
* ``window``: at most 20 calls per 1-second window; a 429 says ``Retry-After: 1`` (whole seconds,
  as services send it), or nothing.
* ``dead``: every call gets a 429 with ``Retry-After: 2`` (a quota used up): the probe can only end
  as an ERROR, and what counts is how soon and after how many requests (fail-fast: the first 5 calls
  and their retries). Refused retries used to put the shared hold off one after another at
  concurrency 1, 2 s per attempt in turn; now a call waits at most what its own retries would.
* ``quota``: the first 20 calls are answered, then every call gets 429 with ``Retry-After: 3600`` (a
  quota used up mid-probe, past fail-fast). A wait longer than ragprobe waits for a Retry-After (the
  60 s timeout) is not retried and sets no hold: each call ends at once (it used to wait 2 x 20 s and
  hold the others, ~45 s per call at concurrency 1: 922 s for 30 refused calls).

Each is run with the engine as it is (adaptive: a 429 halves the calls allowed in flight, successes
raise it again, a Retry-After holds every call) and with adaptivity switched off (the engine before
it: the limit never lowered, only the retried call honours Retry-After), at --ragprobe-concurrency 8
and the default retries (2) and backoff (0.5 s, doubling). Prints, per service and engine: wall
time, requests sent, 429s, calls that ended as errors (a probe with more than 10% of them is an
ERROR), the lowest concurrency reached, and the fixed/adaptive ratios. Ratios only, no assertions.

    python bench/rate_limit.py             # 120 calls per run, about 70 s
    python bench/rate_limit.py --calls 60
    python bench/rate_limit.py --workers 3  # and 3 runs of 2 xdist-like workers (below), ~2.5 min more

``--workers N``: two worker processes (as pytest-xdist runs them) each send 60 calls at concurrency 8 to
one token bucket (10 calls/s, bursts of 5, ``Retry-After`` the seconds until a token is back), N runs
each with the workers sharing Retry-After holds (``engine.HoldBoard``, as on an xdist worker) and not.
Per run: calls failed, retries, 429s, wall time. With shared holds a worker's new calls used to go at
the hold's end while another worker's retries slept its jitter, so those met a 429 again: 4-9 calls
failed a run; 0-3 since new calls also wait for the other workers' sleeping retries.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from faults import FaultServer, Handler, Reply, Request  # noqa: E402

from pytest_ragprobe import engine as engine_module  # noqa: E402
from pytest_ragprobe.adapters import HTTPPipeline  # noqa: E402
from pytest_ragprobe.engine import Call, Engine, EngineSettings  # noqa: E402
from pytest_ragprobe.pipeline import PipelineAdapter  # noqa: E402

LATENCY = 0.05


def concurrency_limited(limit: int = 2) -> Handler:
    """At most ``limit`` calls at once (each busy for LATENCY from its arrival); 429 otherwise."""
    busy_until: list[float] = []

    def handle(req: Request) -> Reply:
        now = time.monotonic()
        busy_until[:] = [t for t in busy_until if t > now]
        if len(busy_until) >= limit:
            return Reply(status=429, json={"error": "too many concurrent requests"})
        busy_until.append(now + LATENCY)
        return Reply(json={"answer": req.json["question"]}, delay=LATENCY)

    return handle


def window_limited(retry_after: bool = True, per_window: int = 20, window: float = 1.0) -> Handler:
    """At most ``per_window`` calls per fixed window; 429 (with Retry-After in whole seconds) otherwise."""
    start = time.monotonic()
    counts: dict[int, int] = {}

    def handle(req: Request) -> Reply:
        now = time.monotonic() - start
        w = int(now // window)
        counts[w] = counts.get(w, 0) + 1
        if counts[w] > per_window:
            wait = max(1, math.ceil((w + 1) * window - now))
            return Reply(status=429, headers={"Retry-After": str(wait)} if retry_after else {},
                         json={"error": "rate limit exceeded"})
        return Reply(json={"answer": req.json["question"]}, delay=LATENCY)

    return handle


def quota_after(answered: int = 20, retry_after: int = 3600) -> Handler:
    """The first ``answered`` requests are answered; then 429 with ``Retry-After`` (a quota used up)."""

    def handle(req: Request) -> Reply:
        if req.n <= answered:
            return Reply(json={"answer": req.json["question"]}, delay=LATENCY)
        return Reply(status=429, headers={"Retry-After": str(retry_after)},
                     json={"error": "quota exceeded"}, delay=LATENCY)

    return handle


def token_bucket(rate: float = 10.0, burst: float = 5.0) -> Handler:
    """``rate`` calls/s in bursts of ``burst``; 429 with the whole seconds until a token is back."""
    lock = threading.Lock()
    state = {"tokens": burst, "last": time.monotonic()}

    def handle(req: Request) -> Reply:
        with lock:
            now = time.monotonic()
            state["tokens"] = min(burst, state["tokens"] + (now - state["last"]) * rate)
            state["last"] = now
            if state["tokens"] < 1:
                wait = max(1, math.ceil((1 - state["tokens"]) / rate))
                return Reply(status=429, headers={"Retry-After": str(wait)}, json={"error": "rate"},
                             delay=0.005)
            state["tokens"] -= 1
        return Reply(json={"answer": req.json["question"]}, delay=0.005)

    return handle


def always_limited(retry_after: int = 2) -> Handler:
    """Every call: 429 with ``Retry-After`` (after the same 50 ms)."""

    def handle(req: Request) -> Reply:
        return Reply(status=429, headers={"Retry-After": str(retry_after)},
                     json={"error": "quota exceeded"}, delay=LATENCY)

    return handle


class _FixedGate(engine_module._Gate):
    """The engine before adaptive concurrency: a 429 neither lowers the limit nor holds other calls."""

    def rate_limited(self, window: int, retry_after: float | None) -> None:
        pass


@contextmanager
def fixed_concurrency() -> Iterator[None]:
    adaptive = engine_module._Gate
    engine_module._Gate = _FixedGate  # type: ignore[misc]
    try:
        yield
    finally:
        engine_module._Gate = adaptive  # type: ignore[misc]


def run(handler: Handler, n: int, concurrency: int) -> dict[str, float]:
    with FaultServer(handler, max_requests=50_000, lifetime=300) as server:
        settings = EngineSettings(concurrency=concurrency, timeout=30)  # default retries, backoff
        engine = Engine(PipelineAdapter(HTTPPipeline(server.url)), settings)
        calls = [Call("answer", f"q{i}") for i in range(n)]
        t = time.perf_counter()
        out = asyncio.run(engine.run(calls))
        wall = time.perf_counter() - t
        assert all(o.ok or o.cause == f"HTTP 429 from {server.url}/answer" for o in out)
        return {
            "wall": wall,
            "requests": server.requests,
            "429s": server.statuses[429],
            "errors": sum(not o.ok for o in out),
            "lowest": engine.stats.lowest_concurrency or concurrency,
        }


def as_worker(url: str, holds: str, worker: str, n: int, seed: int) -> None:
    """One worker process: ``n`` calls, sharing Retry-After holds in ``holds`` (if given) as an xdist
    worker does; prints its counts as JSON."""
    if holds:
        engine_module.share_holds(engine_module.HoldBoard(Path(holds), worker))
    engine = Engine(PipelineAdapter(HTTPPipeline(url)), EngineSettings())
    engine._rng = random.Random(seed)  # jitter only
    t = time.perf_counter()
    out = asyncio.run(engine.run([Call("answer", f"{worker}-q{i}") for i in range(n)]))
    print(json.dumps({"wall": time.perf_counter() - t, "failed": sum(not o.ok for o in out),
                      "retries": engine.stats.retries}))


def two_workers(shared: bool, seed: int, n: int = 60) -> dict[str, float]:
    with FaultServer(token_bucket(), max_requests=50_000, lifetime=300) as server, \
            tempfile.TemporaryDirectory() as holds:
        argv = [sys.executable, __file__, "--as-worker", server.url, holds if shared else ""]
        procs = [subprocess.Popen([*argv, f"gw{w}", str(n), str(seed + w)], stdout=subprocess.PIPE, text=True)
                 for w in range(2)]
        res = [json.loads(p.communicate(timeout=280)[0]) for p in procs]
        return {"failed": sum(r["failed"] for r in res), "retries": sum(r["retries"] for r in res),
                "429s": server.statuses[429], "wall": max(r["wall"] for r in res)}


def main() -> None:
    if sys.argv[1:2] == ["--as-worker"]:
        url, holds, worker, n, seed = sys.argv[2:7]
        return as_worker(url, holds, worker, int(n), int(seed))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=120)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=0, metavar="RUNS",
                        help="also RUNS runs of 2 worker processes against a token bucket (default 0)")
    args = parser.parse_args()
    n, c = args.calls, args.concurrency
    print(f"{n} calls at concurrency {c}, retries 2, backoff 0.5 s; service latency {LATENCY * 1e3:.0f} ms")
    print(f"{'service':<39} {'engine':<9} {'wall s':>7} {'requests':>9} {'429s':>6} {'errors':>7} "
          f"{'lowest':>7}")
    services = [("concurrency: 2 at once, no Retry-After", concurrency_limited),
                ("window: 20 per s, no Retry-After", lambda: window_limited(retry_after=False)),
                ("window: 20 per s, Retry-After", window_limited),
                ("dead: always 429, Retry-After: 2", always_limited),
                ("quota: 20 answered, then 3600 s", quota_after)]
    for name, make in services:  # a new server each run: the same limits from the first call
        with fixed_concurrency():
            fixed = run(make(), n, c)
        adaptive = run(make(), n, c)
        for label, r in (("fixed", fixed), ("adaptive", adaptive)):
            print(f"{name:<39} {label:<9} {r['wall']:>7.2f} {r['requests']:>9.0f} {r['429s']:>6.0f} "
                  f"{r['errors']:>7.0f} {r['lowest']:>7.0f}")
        print(f"{'':<39} {'ratio':<9} {fixed['wall'] / adaptive['wall']:>7.2f} "
              f"{fixed['requests'] / adaptive['requests']:>9.2f} "
              f"{fixed['429s'] / max(1, adaptive['429s']):>6.1f}   (fixed / adaptive)")
    if args.workers:
        print("\n2 worker processes x 60 calls at concurrency 8; token bucket 10 calls/s, bursts of 5")
        print(f"{'holds':<9} {'run':>4} {'failed':>7} {'retries':>8} {'429s':>6} {'wall s':>7}")
        for label in ("shared", "own"):
            for run_ in range(args.workers):
                r = two_workers(label == "shared", 10 * run_)
                print(f"{label:<9} {run_:>4} {r['failed']:>7.0f} {r['retries']:>8.0f} {r['429s']:>6.0f} "
                      f"{r['wall']:>7.2f}")


if __name__ == "__main__":
    main()
