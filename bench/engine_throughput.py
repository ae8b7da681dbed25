"""Run-engine throughput: N calls to a loopback server with fixed latency at concurrency 1, 8, 32.

Prints, per concurrency: wall time, the ideal (calls x latency / concurrency), efficiency = ideal / wall,
the CPU time per call of this (client) process and of the server process (tests/faults.py, run as a
subprocess; read from /proc, "n/a" elsewhere), and a bare asyncio + httpx loop for comparison
(semaphore, one ``httpx.AsyncClient`` with httpx's default transport and 100 connections: the naive
setup); then the harness overhead per call with a zero-latency async pipeline (engine vs bare asyncio
loop), and a warm-cache rerun (zero server requests, wall ratio). Prints ratios only; no assertions.

The server (tests/faults.py ``LatencyServer``, its own process) holds every reply until 50 ms after
its request was read, on a thread per connection (``time.sleep`` is precise to ~0.1 ms); it reports
its measured mean service time, printed at the end. Earlier versions used the fault tests'
single-event-loop asyncio server: its timers fire up to 1 ms late (epoll's millisecond timeouts)
and a burst of replies queues in its one loop, ~2-4 ms extra per request at 32 connections that
the client measured as its own (engine and a bare aiohttp loop alike reached only 84-91%). The last
line repeats concurrency 32 against that server for comparison.

Where the client time goes (2-core VM; time.process_time in this process, /proc for the server):
with httpx's default transport (httpcore + anyio + h11, pure Python) the client spent ~1.1-1.3 ms
of CPU per request at concurrency 32; httpcore's pool also costs O(connections^2) per request (the
naive bare loop below). HTTPPipeline sends through aiohttp (``pytest_ragprobe._transport``), plain
JSON POSTs skip httpx's per-request objects (``adapters._Direct``) and the per-call timeout costs no
task: ~0.3 ms of client CPU per request (of which ~0.1-0.15 ms is the kernel's loopback ``send``).
What remains at concurrency 32: the first round starts 32 requests at once (their replies then
queue in the client for a few rounds until the workers drift apart), ~1 ms per round trip of
wake-ups, and 1,000 calls at 32 need 32 rounds where the ideal counts 31.25 (at most 97.7%). Runs
vary by +-2 points, more when other processes keep the cores busy: compare runs on an idle machine
(``uptime``).

    python bench/engine_throughput.py            # 1,000 calls, 50 ms latency (about 70 s)
    python bench/engine_throughput.py --calls 200
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_ragprobe.adapters import HTTPPipeline  # noqa: E402
from pytest_ragprobe.engine import Call, Engine, EngineSettings  # noqa: E402
from pytest_ragprobe.pipeline import PipelineAdapter  # noqa: E402


def start_server(latency: float, kind: str = "threads") -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "faults.py"), "--latency", str(latency),
         "--lifetime", "900", "--server", kind],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    return proc, f"http://127.0.0.1:{line[1]}"


def server_service_ms(proc: subprocess.Popen[str]) -> tuple[int, float]:
    """(requests served, mean ms from request read to the start of the reply) as the server measured them."""
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("stats\n")
    proc.stdin.flush()
    _, n, ms = proc.stdout.readline().split()
    return int(n), float(ms)


def stop_server(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(10)


async def bare_http(url: str, n: int, concurrency: int) -> float:
    import httpx

    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(limits=limits) as client:
        async def one(i: int) -> str:
            async with sem:
                r = await client.post(url + "/answer", json={"question": f"q{i}"})
                r.raise_for_status()
                return str(r.json()["answer"])

        t = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - t


def server_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by process ``pid`` (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def engine_wall(pipeline: object, n: int, concurrency: int, cache: Path | None = None,
                prefix: str = "q") -> float:
    settings = EngineSettings(concurrency=concurrency, timeout=60, retries=0)
    engine = Engine(PipelineAdapter(pipeline), settings, cache_dir=cache)
    calls = [Call("answer", f"{prefix}{i}") for i in range(n)]
    t = time.perf_counter()
    out = asyncio.run(engine.run(calls))
    wall = time.perf_counter() - t
    assert all(o.ok for o in out), [o.error for o in out if not o.ok][:3]
    return wall


async def bare_noop(n: int, concurrency: int) -> float:
    sem = asyncio.Semaphore(concurrency)

    async def answer(q: str) -> str:
        await asyncio.sleep(0)
        return q

    async def one(i: int) -> str:
        async with sem:
            return await answer(f"q{i}")

    t = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    n, latency = args.calls, args.latency
    proc, url = start_server(latency)
    try:
        print(f"{n} calls to a {latency * 1000:.0f} ms loopback server ({url}), cache off")
        print(f"{'conc':>5} {'wall s':>8} {'ideal s':>8} {'eff':>6} {'client':>8} {'server':>8} "
              f"{'bare s':>8} {'bare eff':>8} {'engine/bare':>11}   (client, server: CPU ms/call)")
        for c in args.concurrency:
            pipe = HTTPPipeline(url)
            engine_wall(pipe, min(n, 2 * c), c, prefix="warm")  # warm-up (imports, first loop)
            cpu0, srv0 = time.process_time(), server_cpu(proc.pid)
            wall = engine_wall(pipe, n, c)
            cpu1, srv1 = time.process_time(), server_cpu(proc.pid)
            client_ms = f"{(cpu1 - cpu0) / n * 1e3:.2f}"
            server_ms = "n/a" if srv0 is None or srv1 is None else f"{(srv1 - srv0) / n * 1e3:.2f}"
            bare = asyncio.run(bare_http(url, n, c))
            ideal = n * latency / c
            print(f"{c:>5} {wall:>8.2f} {ideal:>8.2f} {ideal / wall:>6.1%} {client_ms:>8} "
                  f"{server_ms:>8} {bare:>8.2f} {ideal / bare:>8.1%} {wall / bare:>11.3f}")

        async def noop(q: str) -> str:
            await asyncio.sleep(0)
            return q

        m = max(n, 2000)
        engine_noop = min(engine_wall(noop, m, 32) for _ in range(3))
        bare = min(asyncio.run(bare_noop(m, 32)) for _ in range(3))
        print(f"harness overhead, zero-latency async pipeline, {m} calls at concurrency 32: "
              f"engine {engine_noop / m * 1e6:.1f} us/call vs bare asyncio {bare / m * 1e6:.1f} "
              f"us/call (+{(engine_noop - bare) / m * 1e6:.1f} us/call)")

        with tempfile.TemporaryDirectory() as cache:
            pipe = HTTPPipeline(url)
            cold = engine_wall(pipe, n, 32, Path(cache), prefix="cache")
            warm = engine_wall(pipe, n, 32, Path(cache), prefix="cache")
            print(f"cache: cold {cold:.2f}s (writes {n} entries), warm {warm:.3f}s, "
                  f"warm/cold = {warm / cold:.3f}")
        served, service = server_service_ms(proc)
        print(f"server: {served} requests, mean {service:.2f} ms from request read to the start of the reply "
              f"(nominal {latency * 1e3:.0f} ms)")
    finally:
        stop_server(proc)

    # The same engine against the single-event-loop asyncio server of the fault tests: its timers
    # fire late and replies queue behind each other, which the client sees as extra latency.
    proc, url = start_server(latency, "asyncio")
    try:
        c = max(args.concurrency)
        pipe = HTTPPipeline(url)
        engine_wall(pipe, min(n, 2 * c), c, prefix="warm")
        wall = engine_wall(pipe, n, c)
        ideal = n * latency / c
        print(f"for comparison, asyncio fault server at concurrency {c}: wall {wall:.2f}s, "
              f"eff {ideal / wall:.1%}")
    finally:
        stop_server(proc)


if __name__ == "__main__":
    main()
