"""Run engine: executes a probe plan's pipeline calls with bounded concurrency, timeouts, retries, a
cache and a budget.

* Async core. Async pipelines are awaited directly; sync ones run on a thread pool bounded by
  ``EngineSettings.concurrency`` (handed to the adapter as ``adapter.executor``; daemon threads, so a
  sync call that never returns cannot keep the process from exiting, see ``_threads``). At most
  ``concurrency`` calls are in flight per probe, and results come back in plan order whatever order
  they finish in.
* Each attempt has a timeout. Timeouts, HTTP 429 / 5xx (honouring ``Retry-After``, capped) and
  transport errors are retried with exponential backoff and jitter; anything else is not retried.
* A call that still fails is an *error* outcome (``CallOutcome.error`` plus a short ``cause`` such
  as ``"HTTP 500 from http://127.0.0.1:8000/answer"``), never a wrong answer; the probe decides
  what an error rate means (``runner.ProbeContext.check_error_rate``).
* Fail-fast: when the first ``fail_fast`` real calls of a run all fail with the same cause, the
  remaining calls are not attempted (they become error outcomes with that cause), so a dead service
  is not hammered.
* Cache (``cache.AnswerCache``): hits are served without calling the pipeline, do not use the budget
  and are marked ``cached=True``. Only successful results are written.
* Budget: each real (non-cached) call takes one unit from the run-wide :class:`Budget` (retries of
  the same call do not); when it runs out the remaining calls come back with
  ``budget_exhausted=True``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import email.utils
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pytest_ragprobe._threads import DaemonThreadPool
from pytest_ragprobe.pipeline import PipelineAdapter, PipelineConfigError
from pytest_ragprobe.types import Answer, Document, PipelineOutputError

CallKind = Literal["answer", "generate", "retrieve"]
Value = Answer | list[Document] | str


@dataclass(frozen=True)
class Call:
    kind: CallKind
    question: str
    documents: tuple[Document, ...] = ()
    k: int = 0


@dataclass
class CallOutcome:
    value: Value | None = None
    error: str | None = None
    cached: bool = False
    attempts: int = 0
    budget_exhausted: bool = False
    cause: str | None = None  # short, groupable form of ``error`` (no per-call detail)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class EngineSettings:
    concurrency: int = 8
    timeout: float | None = 60.0
    retries: int = 2
    backoff: float = 0.5  # first retry waits about this long (jittered), doubling each time
    max_backoff: float = 20.0  # cap on one wait, also on a server's Retry-After
    fail_fast: int = 5  # stop when this many first real calls all fail the same way (0: never)


class Budget:
    """A run-wide cap on real pipeline calls, retries included (cache hits are free). Thread-safe."""

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
    """Live counters of one engine run (also what the progress callback sees)."""

    total: int = 0
    done: int = 0
    calls: int = 0  # real pipeline calls that finished (success or error)
    cached: int = 0
    errors: int = 0
    retries: int = 0
    skipped: int = 0  # not attempted: budget exhausted or fail-fast
    error_causes: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    @property
    def rate(self) -> float:
        """Real calls finished per second so far."""
        elapsed = self.elapsed
        return self.calls / elapsed if elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds until this run is done at the current pace (None until there is a pace)."""
        left = self.total - self.done
        if left <= 0:
            return 0.0
        elapsed = self.elapsed
        if self.done <= self.cached or elapsed <= 0:
            return None
        return left * elapsed / (self.done - self.cached)


ProgressCallback = Callable[[int, int, EngineStats], None]

# Raised, not recorded: the pipeline's wiring is wrong (same on every call) or a bug in its code.
# The session turns these into a test error with the traceback. PipelineOutputError (a TypeError
# subclass: the pipeline's output has the wrong shape) is checked first and recorded as an error
# outcome instead.
_FATAL = (PipelineConfigError, TypeError, AttributeError, NotImplementedError)


@dataclass(frozen=True)
class Failure:
    cause: str  # groupable: "HTTP 500 from http://host/answer", "timeout after 2s"
    error: str  # cause plus detail
    retryable: bool
    retry_after: float | None = None


def _request_url(exc: BaseException) -> str | None:
    try:
        request = getattr(exc, "request", None)  # httpx raises RuntimeError when unset
    except RuntimeError:
        request = None
    url = getattr(request, "url", None)
    if url is None:
        url = getattr(getattr(exc, "response", None), "url", None)
    return str(url) if url is not None else None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None if
    absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


#: ``<... object at 0x7f3a...>`` in messages (urllib3's connection errors): differs on every call.
_ADDRESS_RE = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_httpx(exc: BaseException, name: str) -> bool:
    return any(c.__module__.startswith("httpx") and c.__name__ == name for c in type(exc).__mro__)


def classify(exc: BaseException, timeout: float | None) -> Failure:
    """How a failed attempt is reported and whether it is worth another attempt."""
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        cause = f"timeout after {timeout:g}s" if timeout is not None else "timeout"
        return Failure(cause, cause, retryable=True)
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        url = _request_url(exc) or "the pipeline"
        cause = f"HTTP {status} from {url}"
        body = ""
        try:
            body = _short(str(getattr(response, "text", "") or ""), 160)
        except Exception:  # a streamed or undecodable body: the status says enough
            body = ""
        headers = getattr(response, "headers", None)
        retry_after = parse_retry_after(headers.get("retry-after")) if headers is not None else None
        return Failure(
            cause,
            f"{cause}: {body}" if body else cause,
            retryable=status == 429 or status >= 500,
            retry_after=retry_after,
        )
    if _is_httpx(exc, "TransportError"):
        target = _request_url(exc)
        where = f" from {target}" if target else ""
        kind = "timeout" if _is_httpx(exc, "TimeoutException") else "transport error"
        cause = f"{kind} ({type(exc).__name__}){where}"
        return Failure(cause, f"{cause}: {exc}" if str(exc) else cause, retryable=True)
    if isinstance(exc, ConnectionError):
        # The message says what is down ("db down", "[Errno 111] Connection refused"); only object
        # addresses are masked, so the same failure still groups (and trips fail-fast) on every call.
        error = _short(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        return Failure(_short(_ADDRESS_RE.sub("0x…", error), 120), error, retryable=True)
    if isinstance(exc, PipelineOutputError):
        named = getattr(exc, "cause", None)
        text = _short(str(exc), 300)
        return Failure(
            named if isinstance(named, str) else _short(text, 120), text, retryable=False
        )
    text = _short(f"{type(exc).__name__}: {exc}")
    return Failure(text, text, retryable=False)


def retryable(exc: BaseException) -> bool:
    """Transient failures worth another attempt: timeouts, connection trouble, HTTP 429 and 5xx."""
    return classify(exc, None).retryable


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
        self._rng = random.Random()  # jitter only; never affects results
        self._first: list[
            str | None
        ] = []  # causes of the first real calls (None = success), for fail-fast
        self._abort: str | None = None

    async def _invoke(self, call: Call) -> Value:
        if call.kind == "answer":
            return await self.adapter.answer(call.question)
        if call.kind == "generate":
            return await self.adapter.generate(call.question, call.documents)
        return await self.adapter.retrieve(call.question, call.k)

    def _record_first(self, cause: str | None) -> None:
        n = self.settings.fail_fast
        if n <= 0 or self._abort is not None or len(self._first) >= n or self.stats.total <= n:
            return
        self._first.append(cause)
        if len(self._first) == n and self._first[0] is not None and len(set(self._first)) == 1:
            self._abort = self._first[0]

    def _error(self, failure: Failure, attempts: int) -> CallOutcome:
        self.stats.errors += 1
        causes = self.stats.error_causes
        causes[failure.cause] = causes.get(failure.cause, 0) + 1
        return CallOutcome(error=failure.error, cause=failure.cause, attempts=attempts)

    def _skipped_by_fail_fast(self) -> CallOutcome:
        assert self._abort is not None
        self.stats.skipped += 1
        return self._error(
            Failure(
                self._abort,
                f"{self._abort} (not attempted: the first {self.settings.fail_fast} calls "
                "all failed this way)",
                retryable=False,
            ),
            0,
        )

    async def _one(self, call: Call) -> CallOutcome:
        s = self.settings
        if self._abort is not None:
            return self._skipped_by_fail_fast()
        if not self.budget.take():
            self.stats.skipped += 1
            return CallOutcome(
                error="pipeline call budget exhausted",
                cause="budget exhausted",
                budget_exhausted=True,
            )
        attempt = 0
        while True:
            attempt += 1
            try:
                if s.timeout is None:
                    value = await self._invoke(call)
                elif sys.version_info >= (3, 11):  # in this task: wait_for runs each call in a new one
                    async with asyncio.timeout(s.timeout):
                        value = await self._invoke(call)
                else:
                    value = await asyncio.wait_for(self._invoke(call), s.timeout)
            except PipelineOutputError as exc:
                failure = classify(exc, s.timeout)
            except _FATAL:
                raise
            except Exception as exc:
                failure = classify(exc, s.timeout)
            else:
                self.stats.calls += 1
                self._record_first(None)
                return CallOutcome(value=value, attempts=attempt)
            if attempt > s.retries or not failure.retryable or self._abort is not None:
                self.stats.calls += 1
                self._record_first(failure.cause)
                return self._error(failure, attempt)
            if not self.budget.take():  # a retry is a real (billed) call too
                self.stats.calls += 1
                self._record_first(failure.cause)
                note = " (not retried: pipeline call budget exhausted)"
                return self._error(dataclasses.replace(failure, error=failure.error + note), attempt)
            self.stats.retries += 1
            delay = min(s.max_backoff, s.backoff * 2 ** (attempt - 1)) * (
                0.5 + self._rng.random() / 2
            )
            if failure.retry_after is not None:
                delay = max(delay, min(s.max_backoff, failure.retry_after))
            await asyncio.sleep(delay)

    async def run(self, calls: Sequence[Call]) -> list[CallOutcome]:
        from pytest_ragprobe.cache import AnswerCache

        stats = self.stats = EngineStats(total=len(calls))
        self._first, self._abort = [], None
        outcomes: list[CallOutcome | None] = [None] * len(calls)
        cache = (
            AnswerCache(self.cache_dir, self.adapter.cache_identity, self.namespace)
            if self.cache_dir is not None
            else None
        )
        keys: list[str] = []
        pending: list[int] = []
        for i, call in enumerate(calls):
            if cache is not None:
                key = cache.key(call)
                keys.append(key)
                hit = cache.get(key)
                if hit is not None:
                    outcomes[i] = CallOutcome(value=hit.value, cached=True)
                    stats.cached += 1
                    stats.done += 1
                    continue
            pending.append(i)
        self._report()
        if not pending:
            return [o for o in outcomes if o is not None]

        workers = max(1, min(self.settings.concurrency, len(pending)))
        pool = DaemonThreadPool(workers)  # a hung sync call must not keep pytest from exiting
        self.adapter.executor = pool
        queue = iter(pending)

        async def worker() -> None:
            for i in queue:  # a shared iterator: each index is taken by exactly one worker
                outcome = await self._one(calls[i])
                outcomes[i] = outcome
                if cache is not None and outcome.ok and outcome.value is not None:
                    cache.put(keys[i], calls[i], outcome.value)
                stats.done += 1
                self._report()

        tasks: list[asyncio.Future[None]] = []
        try:
            await prepare(self.adapter)
            tasks = [asyncio.ensure_future(worker()) for _ in range(workers)]
            await asyncio.gather(*tasks)
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            self.adapter.executor = None
            pool.shutdown(wait=False, cancel_futures=True)
            await release(self.adapter)
        return [o if o is not None else CallOutcome(error="not run") for o in outcomes]

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.stats.done, self.stats.total, self.stats)


def _owners(adapter: PipelineAdapter) -> list[Any]:
    owners: list[Any] = [adapter.obj]
    owners += [getattr(fn, "__self__", None) for fn in getattr(adapter, "_fns", {}).values()]
    owners += [getattr(adapter.obj, n, None) for n in ("answer", "retrieve", "generate", "index")]
    out: list[Any] = []
    for owner in owners:
        if owner is not None and all(owner is not o for o in out):
            out.append(owner)
    return out


async def prepare(adapter: PipelineAdapter) -> None:
    """Let the pipeline's objects set up per-loop resources before any call's timeout starts."""
    for owner in _owners(adapter):
        hook = getattr(owner, "_ragprobe_prepare", None)
        if callable(hook):
            await hook()


async def release(adapter: PipelineAdapter) -> None:
    """Close per-event-loop resources (HTTP clients) of the pipeline and of the objects behind its
    methods.

    Each probe runs in its own event loop; an ``httpx.AsyncClient`` must not outlive the loop it was
    made in. Objects opt in with an async ``_ragprobe_release()`` (see ``adapters.py``).
    """
    for owner in _owners(adapter):
        hook = getattr(owner, "_ragprobe_release", None)
        if callable(hook):
            with contextlib.suppress(Exception):  # best effort; the results are already in
                await hook()
