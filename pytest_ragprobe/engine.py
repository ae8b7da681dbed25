"""Run engine: executes a probe plan's pipeline calls with bounded concurrency, timeouts, retries and a budget.

Results come back in plan order. A call that still fails after its retries is an *error* outcome, never a
wrong answer; the probe decides what an error rate means.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pytest_ragprobe.pipeline import PipelineAdapter, PipelineConfigError
from pytest_ragprobe.types import Answer, Document, PipelineOutputError

CallKind = Literal["answer", "generate", "retrieve"]


@dataclass(frozen=True)
class Call:
    kind: CallKind
    question: str
    documents: tuple[Document, ...] = ()
    k: int = 0


@dataclass
class CallOutcome:
    value: Answer | list[Document] | str | None = None
    error: str | None = None
    cached: bool = False
    attempts: int = 0
    budget_exhausted: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class EngineSettings:
    concurrency: int = 8
    timeout: float | None = 60.0
    retries: int = 2
    backoff: float = 0.5
    max_backoff: float = 20.0


class Budget:
    """A run-wide cap on real pipeline calls (cache hits are free). Thread-safe."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.limit is not None and self.used >= self.limit:
                return False
            self.used += 1
            return True

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.used >= self.limit


@dataclass
class EngineStats:
    calls: int = 0
    cached: int = 0
    errors: int = 0
    retries: int = 0
    error_causes: dict[str, int] = field(default_factory=dict)


ProgressCallback = Callable[[int, int, EngineStats], None]

# Not retried: these are bugs in the pipeline wiring or output, the same on every attempt.
_FATAL = (PipelineConfigError, PipelineOutputError, TypeError, AttributeError, NotImplementedError)


def retryable(exc: BaseException) -> bool:
    """Transient failures worth another attempt: timeouts, connection trouble, HTTP 429 and 5xx."""
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError, ConnectionError)):
        return True
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int):
        return status == 429 or status >= 500
    return type(exc).__module__.startswith("httpx") and "Error" in type(exc).__name__


class Engine:
    def __init__(
        self,
        adapter: PipelineAdapter,
        settings: EngineSettings | None = None,
        budget: Budget | None = None,
        progress: ProgressCallback | None = None,
        *,
        cache_dir: Path | None = None,
        namespace: str = "",
    ) -> None:
        self.adapter = adapter
        self.cache_dir = cache_dir  # answer cache: keyed by adapter.identity + namespace + call
        self.namespace = namespace
        self.settings = settings or EngineSettings()
        self.budget = budget or Budget(None)
        self.progress = progress
        self.stats = EngineStats()

    async def _invoke(self, call: Call) -> Answer | list[Document] | str:
        if call.kind == "answer":
            return await self.adapter.answer(call.question)
        if call.kind == "generate":
            return await self.adapter.generate(call.question, call.documents)
        return await self.adapter.retrieve(call.question, call.k)

    async def _one(self, call: Call, sem: asyncio.Semaphore) -> CallOutcome:
        s = self.settings
        async with sem:
            if not self.budget.take():
                return CallOutcome(error="budget exhausted", budget_exhausted=True)
            attempt = 0
            while True:
                attempt += 1
                try:
                    value = await asyncio.wait_for(self._invoke(call), s.timeout)
                    self.stats.calls += 1
                    return CallOutcome(value=value, attempts=attempt)
                except _FATAL:
                    raise
                except Exception as exc:
                    cause = (
                        f"timeout after {s.timeout:g}s"
                        if isinstance(exc, asyncio.TimeoutError)
                        else f"{type(exc).__name__}: {exc}"
                    )
                    if attempt > s.retries or not retryable(exc):
                        self.stats.calls += 1
                        self.stats.errors += 1
                        key = cause.split(":")[0]
                        self.stats.error_causes[key] = self.stats.error_causes.get(key, 0) + 1
                        return CallOutcome(error=cause, attempts=attempt)
                    self.stats.retries += 1
                    delay = min(s.max_backoff, s.backoff * 2 ** (attempt - 1))
                    await asyncio.sleep(delay * (0.5 + random.random() / 2))

    async def run(self, calls: Sequence[Call]) -> list[CallOutcome]:
        sem = asyncio.Semaphore(max(1, self.settings.concurrency))
        pool = ThreadPoolExecutor(max_workers=max(1, self.settings.concurrency), thread_name_prefix="ragprobe")
        self.adapter.executor = pool
        try:
            tasks = [asyncio.ensure_future(self._one(c, sem)) for c in calls]
            done = 0
            for fut in asyncio.as_completed(tasks):
                await fut
                done += 1
                if self.progress is not None:
                    self.progress(done, len(tasks), self.stats)
            return [t.result() for t in tasks]
        finally:
            self.adapter.executor = None
            pool.shutdown(wait=False, cancel_futures=True)
