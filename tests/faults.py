"""A loopback HTTP server that injects faults, for tests and benchmarks.

* Binds 127.0.0.1 on port 0 only; serves at most ``max_requests`` requests and stops by itself after
  ``lifetime`` seconds (or when the ``with`` block ends). Runs its own asyncio loop in a daemon thread,
  so a slow reply costs a timer, not a thread; HTTP/1.1 with keep-alive.
* Replies come from ``handler(request) -> Reply``; ``Reply`` can delay, set any status and headers
  (429 + ``Retry-After``), send a malformed body, or ``hang`` (never answer, like a stuck upstream).
* ``python tests/faults.py --latency 0.05`` runs a fixed-latency JSON echo server in its own process
  (for bench/), printing ``PORT <n>`` once it listens; a line ``stats`` on its stdin prints
  ``STATS <requests> <mean service ms>``. By default that is ``LatencyServer`` (a thread per
  connection, ``time.sleep`` to the deadline: replies leave within ~0.1 ms of the latency);
  ``--server asyncio`` runs ``FaultServer``'s echo instead, whose timers fire up to 1 ms late
  (epoll's millisecond timeouts) and whose single event loop queues bursts of replies, adding
  ~2-4 ms per request at 32 concurrent connections.

Stdlib only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass
class Request:
    method: str
    path: str
    body: bytes
    json: Any
    n: int  # 1-based request number on this server
    attempt: int  # how many times this (path, body) has been seen, including this one
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | None = None  # raw body (e.g. malformed JSON); wins over ``json``
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never reply (the client's timeout fires); the connection is dropped later


Handler = Callable[[Request], Reply]


def echo_handler(latency: float = 0.0) -> Handler:
    """Answers ``{"answer": <question>}`` after ``latency`` seconds."""

    def handle(req: Request) -> Reply:
        q = req.json.get("question", "") if isinstance(req.json, dict) else ""
        return Reply(json={"answer": q}, delay=latency)

    return handle


class FaultServer:
    def __init__(
        self,
        handler: Handler,
        *,
        max_requests: int = 10_000,
        lifetime: float = 120.0,
        hang_limit: float = 30.0,
    ) -> None:
        self.handler = handler
        self.max_requests = max_requests
        self.lifetime = lifetime
        self.hang_limit = hang_limit
        self.requests = 0
        self.by_path: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self._seen: Counter[tuple[str, bytes]] = Counter()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FaultServer:
        self._thread = threading.Thread(target=self._run, name="fault-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fault server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._server = await asyncio.start_server(self._conn, "127.0.0.1", 0, backlog=512)
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop.wait(), self.lifetime)  # stops by itself
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- HTTP -----------------------------------------------------------------------------------
    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                with self._lock:
                    self.requests += 1
                    n = self.requests
                    self.by_path[path] += 1
                    self._seen[(path, body)] += 1
                    attempt = self._seen[(path, body)]
                if n > self.max_requests:
                    reply = Reply(status=503, json={"error": "fault server request limit reached"})
                else:
                    try:
                        parsed = json.loads(body) if body else None
                    except ValueError:
                        parsed = None
                    reply = self.handler(Request(method, path, body, parsed, n, attempt, headers))
                if reply.hang:
                    await asyncio.sleep(self.hang_limit)
                    break
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                self.statuses[reply.status] += 1
                payload = reply.body if reply.body is not None else json.dumps(reply.json).encode()
                out = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}",
                       "Content-Type: application/json", f"Content-Length: {len(payload)}"]
                out += [f"{k}: {v}" for k, v in reply.headers.items()]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + payload)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:  # server shutting down
            pass
        finally:
            writer.close()
            # CancelledError too: a connection still open when the server stops is cancelled here
            # (Python 3.11 logs "Exception in callback" for a stream task that ends cancelled).
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()


class LatencyServer:
    """A JSON echo server (``{"answer": <question>}``) whose every reply leaves ``latency`` seconds
    after its request was read, for throughput benchmarks.

    A thread per connection sleeps to the deadline (``time.sleep`` is precise to ~0.1 ms), so the
    server adds neither timer rounding nor event-loop queueing to what the client measures. Keep-alive
    HTTP/1.1 with TCP_NODELAY (headers and body are separate writes: with Nagle's algorithm the body
    would wait for the client's delayed ACK, ~40 ms). Serves at most ``max_requests`` (then 503) and
    stops after ``lifetime`` seconds.
    """

    def __init__(self, latency: float, *, max_requests: int = 1_000_000,
                 lifetime: float = 600.0) -> None:
        self.latency = latency
        self.max_requests = max_requests
        self.lifetime = lifetime
        self.requests = 0
        self.service = 0.0  # total seconds from "request read" to the start of the reply
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                start = time.monotonic()
                with outer._lock:
                    outer.requests += 1
                    over = outer.requests > outer.max_requests
                try:
                    parsed = json.loads(body) if body else None
                except ValueError:
                    parsed = None
                q = parsed.get("question", "") if isinstance(parsed, dict) else ""
                status, reply = (503, {"error": "request limit reached"}) if over else (200, {"answer": q})
                payload = json.dumps(reply).encode()
                wait = start + outer.latency - time.monotonic()
                if wait > 0 and not over:
                    time.sleep(wait)
                # counted before the reply leaves: a client that has its answer sees it in the mean
                with outer._lock:
                    outer.service += time.monotonic() - start
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 512

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._timer = threading.Timer(lifetime, self._server.shutdown)  # stops by itself
        self._timer.daemon = True

    def start(self) -> LatencyServer:
        self._thread.start()
        self._timer.start()
        return self

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()

    def mean_service(self) -> float:
        with self._lock:
            return self.service / self.requests if self.requests else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="loopback echo server with fixed latency")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--lifetime", type=float, default=600.0)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--server", choices=["threads", "asyncio"], default="threads")
    args = parser.parse_args(argv)
    if args.server == "threads":
        server: LatencyServer | FaultServer = LatencyServer(
            args.latency, max_requests=args.max_requests, lifetime=args.lifetime).start()
    else:
        server = FaultServer(echo_handler(args.latency), max_requests=args.max_requests,
                             lifetime=args.lifetime).start()
    print(f"PORT {server.port}", flush=True)
    try:
        # exit when the parent closes our stdin (or after the lifetime)
        while (line := sys.stdin.readline()) != "":
            if line.strip() == "stats" and isinstance(server, LatencyServer):
                print(f"STATS {server.requests} {server.mean_service() * 1e3:.3f}", flush=True)
            if isinstance(server, LatencyServer) and not server.alive():
                break
    finally:
        server.stop()

if __name__ == "__main__":
    main()
