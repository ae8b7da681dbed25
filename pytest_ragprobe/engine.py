"""Run engine: executes a probe plan's pipeline calls with bounded concurrency, timeouts, retries, a
cache and a budget.

* Async core. Async pipelines are awaited directly; sync ones run on a thread pool bounded by
  ``EngineSettings.concurrency`` (handed to the adapter as ``adapter.executor``; daemon threads, so a
  sync call that never returns cannot keep the process from exiting, and a timed-out call's thread
  is replaced, see ``_threads``). At most ``concurrency`` calls are in flight per probe, and results
  come back in plan order whatever order they finish in.
* Adaptive concurrency (:class:`_Gate`): HTTP 429 halves the calls allowed in flight (not below 1)
  and successes raise it again, slowly, back to ``concurrency``; a 429's ``Retry-After`` holds
  every call until then, not only its own retry. This changes only when attempts start, not which
  calls are made or the outcomes' order. A call turned away with a ``Retry-After`` waits at most
  as long as its own retries would (``retries`` x the wait it was told, +20%): when the
  service keeps putting the hold off (each refused attempt does, and at a lowered concurrency the
  calls behind it go one per hold), the call ends with its 429 instead of waiting its turn, so a
  dead rate-limited service costs about that long, not that long per call.
  What a run learned (the lowered limit, the successes towards raising it, a Retry-After hold not
  over yet) is kept per pipeline identity for the process: the next probe of the same pipeline
  starts there, not at full concurrency straight into the same limit, and climbs back as its
  calls succeed. Under pytest-xdist the workers of one machine also share the Retry-After holds
  (:class:`HoldBoard`): a service's "wait" told to one worker holds the others' calls too, and their
  calls not yet tried also wait for the retries it sleeps out a hold (as its own do). Each
  worker lowers and raises its own concurrency.
* Each attempt has a timeout, which does not count a sync call's wait for a free thread (a call
  that finds none within the timeout fails as "not started", never as a pipeline timeout).
  An async pipeline method that blocks the event loop (no ``await`` while it works) keeps the timeout's
  timer from firing: an attempt whose pipeline code returned past its deadline (by more than
  ``min(0.02, timeout / 10)`` s, the race a timer may lose on time) is a timeout all the same (when the
  loop got to the result does not count: a loop held after it is not the pipeline), and how long the
  pipeline's coroutines held the loop is measured per step (``_blocking``; ``EngineStats.loop``),
  for the probe to say why and what to do (``LoopBlock.message``, given as ``advice(..., blocked=)``).
  Timeouts, HTTP 429 / 5xx (honouring ``Retry-After`` up to ``EngineSettings.longest_wait``, the
  longer of the timeout and ``max_backoff`` (``max_backoff`` alone without a timeout), plus up to 20%
  jitter; a call told to wait longer, by a 429 or a 5xx, is not retried and its error says so) and
  transport errors (httpx, requests, urllib, ``ConnectionError``) are retried with exponential
  backoff and jitter; anything else is not retried.
* A call that still fails is an *error* outcome (``CallOutcome.error`` plus a short ``cause`` such
  as ``"HTTP 500 from http://127.0.0.1:8000/answer"``), never a wrong answer; the probe decides
  what an error rate means (``runner.ProbeContext.check_error_rate``). An exception raised in the
  pipeline's own code is grouped by type and place, ``"KeyError at rag/app.py:12"``, as its message
  often names the question (``error`` keeps it: ``"KeyError: 'Which pump ...?'"``), and keeps its
  traceback (``CallOutcome.traceback``).
* Fail-fast: when the first ``fail_fast`` calls of a run (in plan order, the order they are sent)
  are all real calls and all fail with the same cause, the remaining calls are not attempted (they
  become error outcomes with that cause), so a dead service is not hammered. No further call is
  sent until that is decided (all of those calls finished, or one succeeded), so a dead service
  gets at most ``fail_fast`` calls (with their retries). A cache hit is a success: one among the
  first ``fail_fast`` calls means fail-fast cannot trip. (A rerun's real calls are the ones that
  failed before, as failures are not cached: that they fail again says nothing of the service,
  and the rerun must end as the run without the cache would.)
* Cache (``cache.AnswerCache``): hits are served without calling the pipeline, do not use the budget
  and are marked ``cached=True``. Only successful results are written.
* Budget: each real (non-cached) call takes one unit from the run-wide :class:`Budget`, and so
  does each retry; when it runs out the remaining calls come back with ``budget_exhausted=True``, as
  does a call whose retry it cannot pay for (a budget stop, not an error). A unit is taken before an
  attempt is sent (and given back when a held retry is then not sent), so the requests a pipeline
  sees never exceed the budget, retries included. Under pytest-xdist the workers of one machine
  take from one pool (:class:`SharedBudget`); a worker that cannot reach it has an even share. Calls
  made outside the engine (``index()`` of synthetic facts) are not in it.
* ``Engine.stats`` (:class:`EngineStats`) holds the last run's counters, retries included.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import datetime
import email.utils
import hashlib
import http
import http.client
import math
import os
import random
import re
import site
import sys
import sysconfig
import threading
import time
import traceback
import urllib.error
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Literal

from pytest_ragprobe._blocking import METER, LoopBlock, StepMeter
from pytest_ragprobe._threads import WATCHER, DaemonThreadPool
from pytest_ragprobe.pipeline import PipelineAdapter, PipelineConfigError
from pytest_ragprobe.types import (
    Answer,
    Document,
    PipelineOutputError,
    atomic_write,
    one_line,
    redact,
    redact_url,
)

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
    # for an exception raised in the pipeline's own code (not a timeout, HTTP status or connection
    # error): its traceback, formatted, from the pipeline's first frame (the engine's cut off)
    traceback: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class EngineSettings:
    concurrency: int = 8
    timeout: float | None = 60.0
    retries: int = 2
    backoff: float = 0.5  # first retry waits about this long (jittered), doubling each time
    max_backoff: float = 20.0  # cap on one backoff wait (+ up to 20% jitter); see ``longest_wait``
    fail_fast: int = 5  # stop when this many first real calls all fail the same way (0: never)

    @property
    def longest_wait(self) -> float:
        """The longest ``Retry-After`` a call waits out (+ up to 20% jitter): the longer of the timeout
        and ``max_backoff``. A call told to wait longer is not retried: it ends with its 429 at once
        (waiting the cap and asking again, as before, met the same refusal: a service saying "3600"
        took 2 x 20 s to end in ERROR), and no hold comes of it."""
        return self.max_backoff if self.timeout is None else max(self.max_backoff, self.timeout)


class Budget:
    """A run-wide cap on real pipeline calls, retries included (cache hits are free). Thread-safe.

    One per pytest process; under pytest-xdist the workers of one machine share it (:class:`SharedBudget`).
    """

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

    def refund(self) -> None:
        """Give back a unit taken for a call that was then not sent."""
        with self._lock:
            self.used = max(0, self.used - 1)

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.used >= self.limit


class SharedBudget(Budget):
    """The run-wide budget pooled by the pytest-xdist workers of one machine: the count of units taken
    is a number in a file the controller made, read and written under an exclusive ``flock``. A worker
    whose probes need more than an even share uses what the others leave (with fixed shares, 40 + 40
    calls on one worker ran out of a 100-call budget while 40 units of the other's share went unspent).

    ``used`` counts this process's units; the pool's count is in the file, written in place in one
    fixed-width write (a worker killed mid-update must not leave an empty file that reads as 0 and hands
    the pool out again). A pool that cannot be read counts as spent: the worker stops rather than risk
    going over the budget."""

    def __init__(self, limit: int, path: Path) -> None:
        super().__init__(limit)
        self.path = path
        self._failed = False

    def _step(self, delta: int) -> bool:
        """Add ``delta`` to the pool's count (a take only below the limit); False when the file fails."""
        import fcntl

        if self._failed:
            return False
        try:
            fd = os.open(self.path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # released on close (also when the process dies)
                pool = _pool_count(os.pread(fd, 64, 0))
                if delta > 0 and (self.limit is None or pool >= self.limit):
                    return False
                os.pwrite(fd, pool_text(max(0, pool + delta)), 0)
                return True
            finally:
                os.close(fd)
        except (OSError, ValueError):
            self._failed = True
            return False

    def take(self) -> bool:
        with self._lock:
            taken = self._step(1)
            if taken:
                self.used += 1
            return taken

    def refund(self) -> None:
        with self._lock:
            if self.used > 0 and self._step(-1):
                self.used -= 1

    @property
    def exhausted(self) -> bool:
        if self._failed:
            return True
        try:
            return self.limit is None or _pool_count(self.path.read_bytes()) >= self.limit
        except (OSError, ValueError):
            return True


def pool_text(count: int) -> bytes:
    """The pool file's content: the count zero-padded to a fixed width (overwritten in place)."""
    return f"{count:020d}".encode("ascii")


def _pool_count(raw: bytes) -> int:
    text = raw.strip()
    if not text.isdigit():  # empty or damaged: refuse (ValueError) rather than read it as 0
        raise ValueError(f"budget pool holds {raw[:40]!r}")
    return int(text)


def worker_budget(limit: int | None, share: int | None = None, pool: str | None = None) -> Budget:
    """A process's budget: the run-wide ``limit``; under pytest-xdist the pool the controller made
    (``pool``, a file on this machine) or, where that cannot be used (a worker on another machine, no
    ``fcntl``), this worker's even ``share``."""
    if limit is None or share is None:
        return Budget(limit)
    if pool and os.path.isfile(pool):
        try:
            import fcntl  # noqa: F401  (POSIX only)
        except ImportError:
            return Budget(share)
        return SharedBudget(limit, Path(pool))
    return Budget(share)


@dataclass
class EngineStats:
    """Live counters of one engine run (also what the progress callback sees)."""

    total: int = 0
    done: int = 0
    calls: int = 0  # real pipeline calls that finished (success or error)
    cached: int = 0
    errors: int = 0
    retries: int = 0  # retries made (each also a real, billed call)
    skipped: int = 0  # not attempted: budget exhausted or fail-fast
    lowest_concurrency: int | None = None  # calls allowed in flight after HTTP 429s (None: not lowered)
    rate_limited: int = 0  # HTTP 429 replies (each attempt that got one)
    held: float = 0.0  # seconds calls were held for the Retry-After of 429s (holds overlapping counted once)
    # the longest Retry-After a 429 or 5xx asked for beyond ``longest_wait``, per failure cause (none: none
    # did), for the advice: it goes with the cause that asked (not a 503 beside one 429)
    retry_after_by_cause: dict[str, float] = field(default_factory=dict)
    error_causes: dict[str, int] = field(default_factory=dict)
    # how long the pipeline's async code held the event loop (``loop.message()``: what to say of it)
    loop: LoopBlock = field(default_factory=LoopBlock)
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


class PipelineExit(Exception):
    """A pipeline call raised SystemExit (``sys.exit()``, argparse on bad arguments): carried through the
    event loop as an ordinary exception, and raised again (``exit``) by ``runner.run_sync`` out of it. Let
    out of an asyncio task, SystemExit stops the loop, which the next probes reuse."""

    def __init__(self, exit: SystemExit) -> None:
        super().__init__(exit.code)
        self.exit = exit


# A call's note when its Retry-After asked for more than ragprobe waits (Engine._last_failure): "the service
# asked to wait 3600 s, more than the 20 s ragprobe waits for a Retry-After: not retried". The probe's error
# says it with what to raise (advice()), and leaves the note out of its example of the cause.
WAIT_ASKED = "the service asked to wait"
WAIT_NOT_RETRIED = "ragprobe waits for a Retry-After: not retried"


@dataclass(frozen=True)
class Failure:
    cause: str  # groupable: "HTTP 500 from http://host/answer", "timeout after 2s"
    error: str  # cause plus detail
    retryable: bool
    retry_after: float | None = None
    rate_limited: bool = False  # HTTP 429: the engine lowers its concurrency (see _Gate)
    # its Retry-After asked for more than ``EngineSettings.longest_wait``: not retried (see _last_failure)
    too_long: bool = False
    traceback: str | None = None  # formatted, for an exception raised in the pipeline's own code


def _attr(obj: object, name: str) -> Any:
    try:
        return getattr(obj, name, None)
    except Exception:  # httpx raises RuntimeError for an unset .request; odd properties elsewhere
        return None


def _request_url(exc: BaseException) -> str | None:
    url = _attr(_attr(exc, "request"), "url")  # httpx, requests
    if url is None:
        url = _attr(_attr(exc, "response"), "url")
    if url is None:
        url = _attr(_attr(exc, "request_info"), "url")  # aiohttp
    if url is None and isinstance(exc, urllib.error.HTTPError):
        url = _attr(exc, "url") or exc.filename
    return str(url) if url is not None and str(url) else None


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
    if when.tzinfo is None:  # "-0000" or an asctime date: HTTP dates are GMT, never local time
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


#: ``<... object at 0x7f3a...>`` in messages (urllib3's connection errors): differs on every call.
_ADDRESS_RE = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")


def _is_from(exc: BaseException, package: str, *names: str) -> bool:
    """Whether ``exc`` is one of ``package``'s exception classes ``names`` (by name: the package
    need not be installed, nor imported here)."""
    return any(
        c.__module__.split(".")[0] == package and c.__name__ in names for c in type(exc).__mro__
    )


def _is_httpx(exc: BaseException, name: str) -> bool:
    return _is_from(exc, "httpx", name)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _http_status(exc: BaseException) -> tuple[int, Any] | None:
    """The HTTP status a failure carries and the object with its headers / body, if any.

    ``exc.response.status_code`` (httpx, requests), ``exc.code`` (urllib's HTTPError), and as a
    fallback any int ``status_code`` / ``status`` / ``code`` attribute (SDK and aiohttp errors); a
    bare ``code`` (meaning differs between libraries) only when it is 429 or 5xx."""
    response = _attr(exc, "response")
    status = _int(_attr(response, "status_code"))
    if status is not None:
        return status, response
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code, exc
    for name in ("status_code", "status", "code"):
        status = _int(_attr(exc, name))
        if status is not None and (status == 429 or 500 <= status <= 599 or (
            name != "code" and 400 <= status <= 499
        )):
            return status, response if response is not None else exc
    return None


def _redirected(response: Any, status: int) -> str:
    """For an HTTP error reached through redirects (``history`` of an httpx or requests response): where from,
    and what it likely means; else "". The error's URL alone was one the pipeline was not given."""
    history = _attr(response, "history")
    if not isinstance(history, list) or not history:
        return ""
    try:
        urls = [redact_url(str(r.url)) for r in (*history, response)]
        hops = ", ".join(
            f"{r.status_code}{f' from {urls[0]}' if i == 0 else ''} to {urls[i + 1]}"
            for i, r in enumerate(history)
        )
        sent, resent = str(history[0].request.method), str(response.request.method)
    except Exception:  # (a response of another shape: the status and URL say enough)
        return ""
    if status in (401, 403):  # (to a login page, mostly)
        why = ": the endpoint probably needs auth headers (headers={'Authorization': ...})"
    elif sent != resent:  # 301/302/303 resend a POST as a GET, without its body
        why = (
            f", which turned the {sent} into a {resent} without its body: give the pipeline the URL it "
            "redirects to"
        )
    else:
        why = ""
    return f" (redirected: {hops}{why})"


def _retry_after(*holders: Any) -> float | None:
    """The wait a refusal asks for: ``retry-after-ms`` (milliseconds, sent by OpenAI and Azure OpenAI, more
    precise; some services send only it) first, then ``Retry-After``."""
    for holder in holders:
        headers = _attr(holder, "headers")
        get = _attr(headers, "get")
        if not callable(get):
            continue
        try:
            millis = float(_header(get, "retry-after-ms", "Retry-After-Ms", "Retry-After-MS") or "nan")
        except ValueError:
            millis = math.nan
        if math.isfinite(millis) and millis >= 0:
            return millis / 1000.0
        value = _header(get, "retry-after", "Retry-After")
        if value is not None:
            return parse_retry_after(value)
    return None


def _header(get: Callable[[str], Any], *keys: str) -> str | None:
    """The first of ``keys`` a headers object has as a str (plain dicts are case-sensitive)."""
    for key in keys:
        try:
            value = get(key)
        except Exception:
            value = None
        if isinstance(value, str):
            return value
    return None


def _transport(exc: BaseException, kind: str) -> Failure:
    import ssl

    # A TLS failure is no service down (the advice for a refused connection sent users looking for a
    # server that was running): said apart, and an untrusted certificate is not retried (it comes back).
    tls = next((e for e in _chain(exc) if isinstance(e, ssl.SSLError)), None)
    untrusted = isinstance(tls, ssl.SSLCertVerificationError)
    if tls is not None and kind == "transport error":
        kind = UNTRUSTED if untrusted else "TLS error"
    target = _request_url(exc)
    where = f" from {target}" if target else ""
    cause = f"{kind} ({type(exc).__name__}){where}"
    detail = one_line(_ADDRESS_RE.sub("0x…", str(exc)), 200)
    return Failure(cause, f"{cause}: {detail}" if detail else cause, retryable=not untrusted)


UNTRUSTED = "untrusted TLS certificate"
# the cause of a TimeoutError the pipeline raised (not --ragprobe-timeout firing: "timeout after 60s")
OWN_TIMEOUT = "timeout raised by the pipeline"


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it wraps (``__cause__``, ``__context__``, the ``reason`` of urllib3's
    MaxRetryError, the ``os_error`` of aiohttp's, requests' first argument), nearest first."""
    found: list[BaseException] = []
    todo = [exc]
    while todo and len(found) < 16:
        e = todo.pop(0)
        if any(e is f for f in found):
            continue
        found.append(e)
        inner = [e.__cause__, e.__context__, _attr(e, "reason"), _attr(e, "os_error"), *e.args[:1]]
        todo += [x for x in inner if isinstance(x, BaseException)]
    return found


# A connection that could not be opened (refused, no route, a name not resolved), by the library a user's
# pipeline called its service with: urllib3's (under requests) and aiohttp's (not its TLS failures).
_CONNECT_ERRORS = {"urllib3": ("NewConnectionError",), "aiohttp": ("ClientConnectorError",)}
_NOT_CONNECT = ("ClientSSLError", "ClientConnectorCertificateError", "ClientConnectorSSLError")
# the causes advice() asks of whether the service is running
_COULD_NOT_CONNECT = (
    "transport error (ConnectError)",  # httpx's (the adapters')
    "ConnectionRefusedError",
    *(f"transport error ({name})" for names in _CONNECT_ERRORS.values() for name in names),
)


def _connect_failure(exc: BaseException) -> Failure | None:
    """A requests, urllib3 or aiohttp error for a service that could not be reached, said as the built-in
    adapter says it ("cannot connect to HOST:PORT: Connection refused"), named by the library's
    connect error so that :func:`advice` asks whether the service is running; None for anything else."""
    import socket

    chain = _chain(exc)
    # (named by the base class: urllib3's NameResolutionError, aiohttp's ClientConnectorDNSError are too)
    failed, name = next(
        ((e, n) for e in chain for pkg, ns in _CONNECT_ERRORS.items() for n in ns if _is_from(e, pkg, n)),
        (None, ""),
    )
    if failed is None or _is_from(failed, "aiohttp", *_NOT_CONNECT):
        return None
    holder = _attr(failed, "conn") or failed  # urllib3's connection; aiohttp's error has them itself
    host, port = _attr(holder, "host"), _attr(holder, "port")
    # the socket's own error, deepest first (the libraries' errors are OSErrors too: not those)
    own = ("builtins", "socket")
    os_error = next((e for e in chain[::-1] if isinstance(e, OSError) and type(e).__module__ in own), None)
    if isinstance(os_error, socket.gaierror):  # "Name or service not known"
        reason = str(os_error.strerror or os_error)
    elif os_error is not None and os_error.errno:
        reason = os.strerror(os_error.errno)
    elif os_error is not None and str(os_error):  # several addresses tried: "Multiple exceptions: ..."
        reason = one_line(str(os_error), 200)
    else:
        reason = one_line(_ADDRESS_RE.sub("0x…", str(failed)), 200)
    target = _request_url(exc) or (f"{host}:{port}" if host and port else None)
    cause = f"transport error ({name})" + (f" from {target}" if target else "")
    detail = f"cannot connect to {host}:{port}: {reason}" if host and port else reason
    return Failure(cause, f"{cause}: {detail}", retryable=True)


# pytest-ragprobe's own directory: its frames are never the pipeline's (runner uses it too)
PACKAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")


def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {paths.get(k, "") for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    with contextlib.suppress(Exception):  # (site.getsitepackages is missing in some old virtualenvs)
        dirs.update(site.getsitepackages())
    with contextlib.suppress(Exception):
        dirs.add(site.getusersitepackages())
    return tuple(os.path.join(os.path.abspath(d), "") for d in dirs if d)


_LIBRARY_DIRS = _library_dirs()


def _own_code(filename: str) -> bool:
    """Whether a frame's file is the pipeline's own code: not ragprobe's, not the standard library's,
    not an installed package's (``<string>`` counts as the pipeline's; ``<frozen ...>`` does not)."""
    if filename.startswith("<"):
        return not filename.startswith("<frozen")
    path = os.path.abspath(filename)
    if path.startswith((PACKAGE_DIR, *_LIBRARY_DIRS)):
        return False
    parts = path.split(os.sep)
    return "site-packages" not in parts and "dist-packages" not in parts


def _frames(exc: BaseException) -> list[tuple[FrameType, int]]:
    return list(traceback.walk_tb(exc.__traceback__))


def raised_inside_ragprobe(exc: BaseException) -> bool:
    """Whether ``exc`` is a bug of ragprobe's own: raised in its code (not the reference pipeline's)
    without passing through the pipeline's own code, so an error must not blame the pipeline."""
    frames = _frames(exc)
    if not frames or any(_own_code(f.f_code.co_filename) for f, _ in frames):
        return False
    path = os.path.abspath(frames[-1][0].f_code.co_filename)
    return path.startswith(PACKAGE_DIR) and not path.startswith(os.path.join(PACKAGE_DIR, "reference", ""))


def pipelines_base_exception(exc: BaseException) -> bool:
    """Whether ``exc``, a BaseException but not an Exception, is one the pipeline's own code raised that ends
    no more than its call, or its probe (a custom BaseException subclass, GeneratorExit), as pytest takes
    one raised in a test as that test's failure. Not Ctrl-C nor sys.exit() (handled apart), nor pytest's
    outcomes (pytest-timeout's pytest.fail, raised from a signal handler into whatever code runs), nor a
    GeneratorExit thrown in by closing a coroutine of ragprobe's (no frame of the pipeline's own then)."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
        return False
    if isinstance(exc, BaseExceptionGroup) and exc.subgroup((KeyboardInterrupt, SystemExit)) is not None:
        return False
    outcomes = sys.modules.get("_pytest.outcomes")  # (only where pytest is loaded: never imported here)
    if outcomes is not None and isinstance(exc, outcomes.OutcomeException):
        return False
    return any(_own_code(f.f_code.co_filename) for f, _ in _frames(exc))


def _raised_at(exc: BaseException) -> str | None:
    """``file:line`` of the innermost frame of the pipeline's own code the exception passed through
    (the file relative to the working directory when inside it), or None."""
    own = [(f, n) for f, n in _frames(exc) if _own_code(f.f_code.co_filename)]
    if not own:
        return None
    frame, line = own[-1]
    filename = frame.f_code.co_filename
    if not filename.startswith("<"):
        path, cwd = os.path.abspath(filename), os.path.join(os.getcwd(), "")
        filename = os.path.relpath(path) if path.startswith(cwd) else os.path.basename(path)
    return f"{filename}:{line}"


def _format_traceback(exc: BaseException, limit: int = 20) -> str | None:
    """The exception as Python prints it, from the first frame of the pipeline's own code (the
    engine's, asyncio's and the thread pool's frames before it are left out); at most ``limit``
    frames, the innermost."""
    frames = _frames(exc)
    if not frames:
        return None
    start = next((i for i, (f, _) in enumerate(frames) if _own_code(f.f_code.co_filename)), None)
    if start is None:  # none of the pipeline's own: from the first frame outside ragprobe
        start = next(
            (i for i, (f, _) in enumerate(frames)
             if not os.path.abspath(f.f_code.co_filename).startswith(PACKAGE_DIR)),
            len(frames) - 1,
        )
    try:
        formatted = traceback.TracebackException(type(exc), exc, exc.__traceback__)
        formatted.stack = traceback.StackSummary.extract(iter(frames[start:][-limit:]))
        return "".join(formatted.format())
    except Exception:  # an exception whose str() fails, a source file that vanished: no traceback
        return None


def classify(exc: BaseException, timeout: float | None, *, expired: bool = False) -> Failure:
    """How a failed attempt is reported and whether it is worth another attempt. Its texts go to
    the terminal, every report and JUnit XML: secrets the plugin knows of (a URL's password or key
    parameter, registered header values and pipeline attributes, secret-named environment
    variables) are redacted (``types.redact``). ``expired``: the attempt's own timer (``timeout``) fired;
    else a TimeoutError is the pipeline's own."""
    failure = _classify(exc, timeout, expired)
    return dataclasses.replace(
        failure,
        cause=_printable(redact(failure.cause)),
        error=_printable(redact(failure.error)),
        traceback=None if failure.traceback is None else _printable(redact(failure.traceback)),
    )


# Terminal escapes (colours, cursor moves) and other control characters but tab and newline: a
# service's reply quoted in an error must not recolour or rewrite the user's terminal.
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]")


def _printable(text: str) -> str:
    """Without terminal escapes; bidi controls (an RLO reversed the rest of pytest's ERROR line, the
    plugin's "; first for '<question>'" too) and C1 controls left as their escapes, as the reports do."""
    from pytest_ragprobe.reporting import visible_controls

    return visible_controls(_CONTROL.sub("", text))


def _str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # (an exception class whose __str__ is broken: traceback says the same)
        return "<str() failed>"


def _classify(exc: BaseException, timeout: float | None, expired: bool = False) -> Failure:
    if isinstance(exc, _Late) or (expired and isinstance(exc, TimeoutError)):
        cause = f"timeout after {timeout:g}s" if timeout is not None else "timeout"
        return Failure(cause, cause, retryable=True)
    if isinstance(exc, TimeoutError):  # the pipeline's own (its client's, a socket's, its code's): retried
        where = _raised_at(exc)
        target = _request_url(exc)
        at = f" from {target}" if target else f" at {where}" if where else ""
        cause = one_line(f"{OWN_TIMEOUT} ({type(exc).__name__}){at}", 120)
        said = one_line(_ADDRESS_RE.sub("0x…", _str(exc)), 200)
        error = f"{cause}: {said}" if said else cause
        return Failure(cause, error, retryable=True, traceback=_format_traceback(exc))
    found = _http_status(exc)
    if found is not None:
        status, response = found
        url = _request_url(exc) or "the pipeline"
        cause = f"HTTP {status} from {url}{_redirected(response, status)}"
        body = ""
        if response is not exc:  # urllib's HTTPError: reading its body could block
            try:
                body = one_line(str(_attr(response, "text") or ""), 160)
            except Exception:  # a streamed or undecodable body: the status says enough
                body = ""
        elif not isinstance(exc, urllib.error.HTTPError):
            # an SDK's error that carries only a status: its message is the only detail (aiohttp's
            # str() repeats the status and URL around its message, a reason phrase unless one was given)
            aiohttp = _is_from(exc, "aiohttp", "ClientResponseError")
            said = str(_attr(exc, "message") or "") if aiohttp else _str(exc)
            standard = next((c.phrase for c in http.HTTPStatus if c == status), "")
            body = "" if said == standard else one_line(said, 160)
        return Failure(
            cause,
            f"{cause}: {body}" if body else cause,
            retryable=status == 429 or 500 <= status <= 599,
            retry_after=_retry_after(response, exc),
            rate_limited=status == 429,
        )
    if _is_httpx(exc, "TransportError"):
        return _transport(exc, "timeout" if _is_httpx(exc, "TimeoutException") else "transport error")
    if _is_from(exc, "requests", "Timeout"):  # before ConnectionError: ConnectTimeout is both
        return _transport(exc, "timeout")
    if _is_from(exc, "requests", "ConnectionError") or _is_from(exc, "urllib3", "HTTPError") or (
        _is_from(exc, "aiohttp", "ClientError")
    ):  # a pipeline's own client: a service that is down is said as the adapters' ConnectError is
        connect = _connect_failure(exc)
        if connect is not None:
            return connect
    if _is_from(exc, "requests", "ConnectionError", "ChunkedEncodingError") or (
        _is_from(exc, "aiohttp", "ClientConnectionError", "ClientPayloadError")
    ):  # (aiohttp's: reset, hung up, a broken reply; not its InvalidURL, nor a reply that is not JSON)
        return _transport(exc, "transport error")
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        # urlopen wraps the socket error: judge that (refused, reset: retried)
        reason = exc.reason
        if isinstance(reason, TimeoutError):  # the socket's own timeout, not the engine's
            return _transport(exc, "timeout")
        inner = classify(reason, timeout)
        return dataclasses.replace(inner, error=f"{type(exc).__name__}: {inner.error}")
    if isinstance(exc, (http.client.IncompleteRead, http.client.BadStatusLine)):
        return _transport(exc, "transport error")  # the connection broke mid-response
    if isinstance(exc, ConnectionError):
        # The message says what is down ("db down", "[Errno 111] Connection refused"); only object
        # addresses are masked, so the same failure still groups (and trips fail-fast) on every call.
        error = one_line(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, 200)
        return Failure(one_line(_ADDRESS_RE.sub("0x…", error), 120), error, retryable=True)
    if isinstance(exc, PipelineOutputError):
        named = getattr(exc, "cause", None)
        text = one_line(str(exc), 300)
        if isinstance(named, str) and " ".join(str(exc).split()) == named:
            # the whole message is the cause (a long malformed-response summary): clipped, the error
            # differed from it and the probe's error said all of it twice
            text = named
        # Raised in the pipeline's own code (ragprobe.Answer(None) checks its text when built): its
        # traceback shows the line; the plugin's own checks of a returned value have no such frame.
        own = _raised_at(exc) is not None
        return Failure(
            named if isinstance(named, str) else one_line(text, 120),
            text,
            retryable=False,
            traceback=_format_traceback(exc) if own else None,
        )
    said = _str(exc)
    text = one_line(f"{type(exc).__name__}: {said}" if said else type(exc).__name__, 200)
    where = _raised_at(exc)
    # Grouped by type and place, not by message: a message often names the call ("KeyError:
    # 'Which pump ...?'", "no context for <question>"), so it would differ on every call, and
    # fail-fast never trip on a pipeline broken for every question. The message stays in ``error``.
    cause = text if where is None else one_line(f"{type(exc).__name__} at {where}", 120)
    return Failure(cause, text, retryable=False, traceback=_format_traceback(exc))


def _seconds(value: float) -> str:
    return f"{round(value, 1):g}"


def advice(
    cause: str,
    lowered: tuple[int, int] | None = None,
    asked: tuple[float, float, float] | None = None,
    *,
    direct: bool = False,
    blocked: str = "",
) -> str:
    """What to try, to add after a failure cause in a message (or ""); ``direct``: name the keyword
    arguments of ``check_reverse`` / ``check_position`` instead of the command-line options.
    ``blocked``: ``LoopBlock.message()`` when the pipeline's async code blocked the event loop (said
    instead of the advice for a timeout).

    ``lowered``: (lowest, configured) concurrency when the engine lowered it for HTTP 429s.
    ``asked``: (longest Retry-After a 429 or 5xx asked for, ``longest_wait``, ``max_backoff``) when it asked
    for more than ragprobe waits (``EngineSettings.longest_wait``, ``EngineStats.retry_after_by_cause``):
    those calls were not retried, and more retries would not help."""
    if cause.startswith("HTTP 429"):
        done = f"concurrency lowered to {lowered[0]} of {lowered[1]}; " if lowered else ""
        if asked is not None and asked[0] > asked[1]:
            timeout = _option("timeout", direct)
            return (
                f" (rate limited: {done}the service asked to wait {_seconds(asked[0])} s, more than ragprobe "
                f"waits for a Retry-After ({_seconds(asked[1])} s: the longer of {timeout} and "
                f"{_seconds(asked[2])} s), so those calls were not retried: run again once its limit resets, "
                f"or raise {timeout} to {_seconds(asked[0])} to wait that long)"
            )
        return f" (rate limited: {done}raise {_option('retries', direct)} to wait longer between attempts)"
    if cause.startswith("HTTP 503") and asked is not None and asked[0] > asked[1]:
        timeout = _option("timeout", direct)
        return (
            f" (the service asked to wait {_seconds(asked[0])} s, more than ragprobe waits for a Retry-After "
            f"({_seconds(asked[1])} s: the longer of {timeout} and {_seconds(asked[2])} s), so those calls "
            f"were not retried: run again once it is back, or raise {timeout} to {_seconds(asked[0])} to "
            "wait that long)"
        )
    if cause.startswith(UNTRUSTED):
        return (
            " (the service's TLS certificate could not be verified, e.g. a self-signed one: HTTPPipeline and "
            "OpenAIGenerator take verify=False to skip the check)"
        )
    if cause.startswith("TLS error"):
        return (
            " (the TLS handshake failed: is the service served over https? One served over plain HTTP "
            "needs an http:// URL)"
        )
    if cause.startswith(_COULD_NOT_CONNECT):
        return " (could not connect: is the service running, and listening at that address?)"
    if cause.startswith("not started"):
        return " (sync calls that timed out still run on every thread: fix the hang or raise the timeout)"
    if cause.startswith(OWN_TIMEOUT):
        return f" (its own timeout, e.g. its HTTP client's: {_option('timeout', direct)} does not set it)"
    if cause.startswith("timeout after"):
        if blocked:  # raising the timeout would not help: it cannot fire while the loop is blocked
            return f" ({blocked})"
        timeout, concurrency = _option("timeout", direct), _option("concurrency", direct)
        return f" (raise {timeout}, or lower {concurrency} if the pipeline slows under load)"
    return ""


def _option(name: str, direct: bool) -> str:
    return f"{name}=" if direct else f"--ragprobe-{name}"


def _being_cancelled() -> bool:
    """Whether the running task has been asked to cancel (``Task.cancelling()``): a CancelledError it meets
    is then its own; else it was raised by the code it awaited."""
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


class _Late(asyncio.TimeoutError):
    """An attempt that returned after its timeout (the event loop was blocked): a timeout."""

    def __init__(self, elapsed: float) -> None:
        super().__init__(f"returned after {elapsed:.2f}s")
        self.elapsed = elapsed


class _AttemptClock:
    """The timeout of one attempt, stopped while a sync call waits for a pool thread.

    The pool reports (``_threads.WATCHER``) when a call is queued and when a thread picks it up:
    the deadline is put off while it waits and restored, with the time that was left, once it
    runs. The wait itself is bounded by the same timeout; past it the attempt failed without being
    sent (``waiting``), which must not read as the pipeline being slow (``asyncio.timeout`` reschedules).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.loop = loop
        self.timeout = timeout
        self.cm: Any = None  # the attempt's asyncio.Timeout
        self.waiting = 0  # calls submitted to the pool and not started yet
        self.active = True
        self._left: float | None = None
        self._lock = threading.Lock()

    def _reschedule(self, when: float | None) -> None:
        if self.active and self.cm is not None and not self.cm.expired():
            self.cm.reschedule(when)

    def submitted(self) -> None:  # the event loop's thread, inside the attempt
        with self._lock:
            self.waiting += 1
            first = self.waiting == 1
        if first and self.cm is not None:
            now, when = self.loop.time(), self.cm.when()
            self._left = None if when is None else max(0.0, when - now)
            self._reschedule(now + self.timeout)  # the longest wait for a thread

    def started(self) -> None:  # the worker thread
        with self._lock:
            self.waiting -= 1
            last = self.waiting == 0
        if last and self.cm is not None:
            self.loop.call_soon_threadsafe(self._resume)

    def _resume(self) -> None:
        if self.waiting == 0 and self._left is not None:
            self._reschedule(self.loop.time() + self._left)


class _Gate:
    """Adaptive concurrency of one run: how many attempts may be in flight, and when they may start.

    At a fixed concurrency a rate-limited service gets every slot refilled at once, so calls meet
    429 again and exhaust their retries. Instead (AIMD, as TCP does) a 429 halves the limit (not
    below 1) once per window: only if its attempt started after the last decrease, as calls sent
    together meet the same overload. Each ``top`` successes of attempts started since then raise it
    by one, back to ``top``: slowly, so that a call retried after a 429 gets its slot (at most
    ``top - 1`` others wait before it) before the limit is tried higher again. A 429's Retry-After
    is the service's, not only that call's: no attempt starts before then (``not_before``; a later
    429 moves it to the later of the two ends, never adds). A retried call may give a ``deadline``:
    past it, it does not wait for the hold (``enter`` returns None).
    """

    def __init__(
        self, limit: int, start: int | None = None, board: HoldBoard | None = None, key: str = ""
    ) -> None:
        self.top = limit
        # ``start``: the limit an earlier batch of the same pipeline ended with (the service's limit
        # does not reset between a sequential probe's looks, nor between tests)
        self.limit = limit if start is None else max(1, min(limit, start))
        self.lowest: int | None = None  # lowest limit reached (None: never lowered)
        self.in_flight = 0
        self.window = 0  # decreases so far; an attempt is judged by the window it started in
        self.successes = 0  # counted towards the next increase
        # one below the limit the last 429 was drawn at: climbing to it was a 429 (a retry, a budget unit,
        # a Retry-After hold) every ``top`` successes on a service capped there; above it, 4x slower
        self.ceiling = self.top
        self.not_before = 0.0  # event-loop time
        self.board, self.key = board, key  # holds shared with other processes (see HoldBoard)
        # Slots go first come, first served: a worker that just finished must not take its slot
        # straight back (it would starve the waiting calls, which then got in only when the limit
        # rose, straight into the next 429, until they ran out of retries).
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        # Calls retried after a 429 go first, and while one waits out a Retry-After (``asleep``: its
        # backoff, jittered past the hold) no call not yet tried takes a slot: those went at the
        # hold's end, spent the service's allowance, and the retries met a 429 again, hold after
        # hold, until they gave up (a 10/s limiter with Retry-After: 1 ended probes in ERROR).
        self._retrying: collections.deque[asyncio.Future[None]] = collections.deque()
        self.asleep = 0
        self.others_back = 0.0  # event-loop time: other workers' retries sleeping out a hold are back

    def _admit(self) -> None:
        while self.in_flight < self.limit:
            if self._retrying:
                waiter = self._retrying.popleft()
            elif self._waiters and not self.asleep:
                waiter = self._waiters.popleft()
            else:
                break
            if not waiter.done():  # (cancelled)
                self.in_flight += 1  # handed over: counted here, not by the waiter
                waiter.set_result(None)

    async def enter(
        self, deadline: float | None = None, *, retry: bool = False, woke: bool = False
    ) -> int | None:
        """Take a slot, then wait for ``not_before``; returns the window the attempt starts in, or
        None (without a slot) when ``not_before`` is, or is put off to, after ``deadline``.
        ``retry``: a call retried after a 429, which goes before calls not yet tried; ``woke``: one
        counted ``asleep`` until now."""
        loop = asyncio.get_running_loop()
        self._pull()
        if woke:
            self.asleep -= 1
        if deadline is not None and self._start_at(retry) > max(deadline, loop.time()):
            self._admit()
            return None
        line = self._retrying if retry else self._waiters
        waited = bool(line or self._retrying or (not retry and self.asleep)) or self.in_flight >= self.limit
        if waited:
            waiter = asyncio.get_running_loop().create_future()
            line.append(waiter)
            self._admit()  # (the calls a woken retry held back)
            try:
                await waiter
            except BaseException:
                if waiter.cancelled():
                    with contextlib.suppress(ValueError):
                        line.remove(waiter)
                else:  # handed a slot, then cancelled: give it back
                    self.leave()
                raise
        else:
            self.in_flight += 1
            self._admit()
        try:  # holding the slot, so at most ``limit`` calls go when the wait ends
            if waited:
                self._pull()
            while (wait := self._start_at(retry) - loop.time()) > 0:
                if deadline is not None and self._start_at(retry) > deadline:
                    self.leave()
                    return None
                until = self._start_at(retry)
                await asyncio.sleep(wait)
                self._pull()
                if self._start_at(retry) <= until:  # not put off meanwhile
                    break
        except BaseException:
            self.leave()
            raise
        return self.window

    def _pull(self) -> None:
        """Take on a hold another process was told (a millisecond's drift between the two clocks
        is not a new hold), and when its retries sleeping one out are back (``others_back``)."""
        if self.board is None:
            return
        hold, back = self.board.read(self.key)
        wall, now = self.board.now(), asyncio.get_running_loop().time()
        if hold > wall and now + hold - wall > self.not_before + 0.001:
            self.not_before = now + hold - wall
        self.others_back = now + back - wall if back > wall else 0.0

    def _start_at(self, retry: bool) -> float:
        """When an attempt may start: a call not retried after a 429 also waits for the retries
        other workers sleep out a hold (see HoldBoard), as for this process's own (``asleep``)."""
        return self.not_before if retry else max(self.not_before, self.others_back)

    def sleeping(self, until: float) -> None:
        """A retry of this process sleeps out a hold until ``until`` (event-loop time): other
        workers' new calls wait for it (see HoldBoard)."""
        if self.board is not None:
            left = until - asyncio.get_running_loop().time()
            self.board.publish(self.key, self.board.now() + left, back=True)

    def leave(self) -> None:
        self.in_flight -= 1
        self._admit()

    def succeeded(self, window: int) -> None:
        if window == self.window and self.limit < self.top:  # (sent at the current limit)
            self.successes += 1
            # (a service's limit can rise again, and a 429 can have been a burst's: above the ceiling slowly)
            if self.successes >= (self.top if self.limit < self.ceiling else 4 * self.top):
                self.limit, self.successes = self.limit + 1, 0
                self.ceiling = max(self.ceiling, self.limit)
                self._admit()

    def rate_limited(self, window: int, retry_after: float | None) -> float:
        """Lower the limit, hold calls for ``retry_after``; returns the seconds the hold was extended by."""
        added = 0.0
        if retry_after is not None:
            now = asyncio.get_running_loop().time()
            added = max(0.0, now + retry_after - max(self.not_before, now))
            self.not_before = max(self.not_before, now + retry_after)
            if self.board is not None:
                self.board.publish(self.key, self.board.now() + retry_after)
        if window == self.window and self.limit > 1:
            self.ceiling = self.limit - 1
            self.window += 1
            self.limit, self.successes = (self.limit + 1) // 2, 0
            self.lowest = min(self.limit, self.lowest or self.limit)
        return added


class HoldBoard:
    """Retry-After holds shared by the pytest-xdist workers of one machine. A service's Retry-After
    is usually for the client (its API key), not for the one call: without this, the other workers
    sent their next calls into the same refusal, each a 429 to retry (or, with
    ``--ragprobe-retries=0``, an error) and a halved concurrency.

    One file per pipeline identity and worker in a directory the xdist controller names, holding the
    wall-clock time the hold ends (``time.time()``, the clock the processes share), replaced whole
    (``os.replace``) so a reader never sees half a value; a reader takes the latest end over all the
    workers' files. Best effort: a file that cannot be written or read is no hold.

    Beside it (``<file>.back``, ``back=True``): when the retries a worker sleeps out a hold are back
    (each sleeps the Retry-After plus up to 20% jitter). A worker's own sleeping retries hold its new
    calls (``_Gate.asleep``), but the other workers' new calls went at the hold's end and spent the
    service's allowance first, so those retries met a 429 again; they now wait for them too (a time,
    not a count: a worker that dies holds no one past it)."""

    def __init__(self, directory: Path, worker: str) -> None:
        self.directory = directory
        self.worker = worker
        self._published: dict[tuple[str, bool], float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _prefix(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16] + "."

    def now(self) -> float:
        """The clock the holds are in (the processes' shared wall clock; a test's may be virtual)."""
        return time.time()

    def publish(self, key: str, until: float, *, back: bool = False) -> None:
        with self._lock:  # (engines of one process may run in several threads)
            if until <= self._published.get((key, back), 0.0):
                return
            name = self._prefix(key) + self.worker + (".back" if back else "")
            try:  # (Windows: the rename fails while a reader has the file open; the next 429 retries)
                atomic_write(self.directory / name, repr(until))
            except OSError:
                return
            self._published[(key, back)] = until

    def read(self, key: str) -> tuple[float, float]:
        """The latest end of a hold on ``key`` any worker published, and the latest time another
        worker's retries sleeping one out are back (0.0: none)."""
        prefix, hold, back = self._prefix(key), 0.0, 0.0
        own = prefix + self.worker + ".back"  # (its own sleeping retries are counted in-process)
        try:
            with os.scandir(self.directory) as entries:  # (absent until a first hold: cheap)
                for entry in entries:
                    name = entry.name
                    if not name.startswith(prefix) or name.endswith(".tmp") or name == own:
                        continue
                    with contextlib.suppress(OSError, ValueError):
                        value = float(Path(entry.path).read_text(encoding="ascii"))
                        if name.endswith(".back"):
                            back = max(back, value)
                        else:
                            hold = max(hold, value)
        except OSError:
            return 0.0, 0.0
        return hold, back

    def until(self, key: str) -> float:
        """The latest end of a hold on ``key`` any worker published (0.0: none)."""
        return self.read(key)[0]


# This process's board (set on an xdist worker of a local run, see _xdist.share_holds).
_BOARD: HoldBoard | None = None


def share_holds(board: HoldBoard | None) -> None:
    global _BOARD
    _BOARD = board


@dataclass
class _Learned:
    """What HTTP 429s taught about one pipeline, for the next engine run on it in this process."""

    limit: int | None = None  # calls allowed in flight (None: not lowered)
    successes: int = 0  # successes counted towards the next raise of ``limit`` (see _Gate.succeeded)
    hold_until: float = 0.0  # time.monotonic() before which its Retry-After asked not to be called


# Per pipeline identity (``adapter.cache_identity``: its code and configuration, e.g. an HTTP
# service's URL), for the pytest process: each probe runs a new engine in a new event loop, and
# each started at full concurrency, with no Retry-After hold, so the next test met the rate limit
# an earlier one had just backed off from. Under xdist each worker learns its own limit (the
# Retry-After holds are also shared, see HoldBoard).
_LEARNED: dict[str, _Learned] = {}
_LEARNED_LOCK = threading.Lock()


def _learned(key: str) -> _Learned | None:
    with _LEARNED_LOCK:
        found = _LEARNED.get(key)
        return None if found is None else dataclasses.replace(found)


def _learn(key: str, learned: _Learned) -> None:
    with _LEARNED_LOCK:
        if learned.limit is None and learned.hold_until <= time.monotonic():
            _LEARNED.pop(key, None)  # recovered: nothing left to carry
        elif key in _LEARNED or len(_LEARNED) < 1000:  # (bounded: one entry per configuration)
            _LEARNED[key] = learned


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
        start_limit: int | None = None,
    ) -> None:
        self.adapter = adapter
        # calls allowed in flight, learned from HTTP 429s by an earlier batch (None: the configured
        # concurrency; what this process learned about the pipeline, _LEARNED, comes first); after
        # run(), what this batch ends with, for the next one
        self.start_limit = start_limit
        self.cache_dir = cache_dir  # answer cache: keyed by adapter.identity + namespace + call
        self.namespace = namespace
        self.settings = settings or EngineSettings()
        self.budget = budget or Budget(None)
        self.progress = progress
        self.stats = EngineStats()
        # the question of the first call whose pipeline code raised a _FATAL error (for that error)
        self.fatal_question: str | None = None
        self._rng = random.Random()  # jitter only; never affects results
        # fail-fast: causes of the first real calls by the order they were sent (None = success)
        self._first: dict[int, str | None] = {}
        self._sent = 0  # real calls sent so far (their order)
        self._settled = asyncio.Event()  # set once fail-fast is decided, or cannot trip
        self._abort: str | None = None
        self._gate = _Gate(self.settings.concurrency)
        # after run(): the answer-cache key of each call (cache.UNCACHEABLE where none; empty without a
        # cache), in plan order, for the probe's plan record (cache.write_plan_record)
        self.keys: list[str] = []

    async def _invoke(self, call: Call) -> Value:
        if call.kind == "answer":
            return await self.adapter.answer(call.question)
        if call.kind == "generate":
            return await self.adapter.generate(call.question, call.documents)
        return await self.adapter.retrieve(call.question, call.k)

    def _record_first(self, seq: int, cause: str | None) -> None:
        n = self.settings.fail_fast
        if self._settled.is_set() or seq >= n:
            return
        self._first[seq] = cause
        causes = set(self._first.values())
        if len(self._first) == n and len(causes) == 1 and cause is not None:
            self._abort = cause
        if len(self._first) == n or None in causes:  # decided; a success means it cannot trip
            self._settled.set()

    def _error(self, failure: Failure, attempts: int) -> CallOutcome:
        self.stats.errors += 1
        causes = self.stats.error_causes
        causes[failure.cause] = causes.get(failure.cause, 0) + 1
        return CallOutcome(
            error=failure.error, cause=failure.cause, attempts=attempts, traceback=failure.traceback
        )

    def _last_failure(self, failure: Failure, gave_up: tuple[float, float] | None = None) -> Failure:
        """A call's final failure, saying why waiting longer for a rate-limited (or unavailable: a 503
        with a Retry-After) service would not help: it asked for more than ``longest_wait`` (so it was
        not retried), or (``gave_up``: seconds waited since the call's first 429, seconds its retries
        wait at most) it still asked to wait when this call's next attempt could only start after that."""
        cap, asked = self.settings.longest_wait, failure.retry_after
        if asked is None:
            return failure
        if failure.too_long:
            # (the probe's error adds what to raise: an option, or check_*'s argument)
            note = f"{WAIT_ASKED} {_seconds(asked)} s, more than the {_seconds(cap)} s {WAIT_NOT_RETRIED}"
        elif gave_up is not None and failure.rate_limited:
            # (the probe's error adds what to raise: an option, or check_*'s argument)
            note = (
                f"not retried after {_seconds(gave_up[0])} s: the service's 429s (to this call and "
                f"others) kept asking to wait past the {_seconds(gave_up[1])} s its retries may wait"
            )
        else:
            return failure
        return dataclasses.replace(failure, error=f"{failure.error} ({note})")

    def _hold_deadline(self, since: float, attempt: int, wait: float) -> float:
        """The latest a rate-limited call still waits for, since its first 429 (``since``, after
        attempt number ``attempt``, told to wait ``wait`` s, capped): as long as its own remaining
        retries would wait, each at most the longer of its backoff and the Retry-After (+20%)."""
        s = self.settings
        return since + sum(
            max(min(s.max_backoff, s.backoff * 2.0 ** (a - 1)), min(s.longest_wait, wait) * 1.2)
            for a in range(attempt, s.retries + 1)
        )

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

    async def _attempt(self, call: Call, clock: _AttemptClock | None) -> Value:
        if clock is None:
            return await self._invoke(call)
        loop = clock.loop
        start = loop.time()
        async with asyncio.timeout(clock.timeout) as cm:  # in this task (wait_for ran each call in a new one)
            clock.cm = cm
            value = await self._invoke(call)
        deadline = cm.when()  # (put off by the wait for a thread, see _AttemptClock)
        assert deadline is not None
        # Returned past its deadline: the event loop was blocked (an async pipeline method that does not
        # await, or another call's), so the timer could not fire. A timeout, as the call is when it
        # awaits: its wall time is what a user's timeout bounds. (Within a hundredth of a second or so
        # the timer itself may lose the race with the result: on time, as asyncio has it.)
        # Judged by when the pipeline's code returned (a sync method's thread, a coroutine's last step), not
        # by when the loop got to its result: a loop held after it (the engine's own work, a GC pause, a
        # busy machine) does not make a result that was in before the timer late.
        # An async pipeline none of whose steps held the loop longer than the tolerance did not keep the timer
        # off: a busy loop resumed it late, after waking it before the timer (on time, as asyncio has it).
        now = loop.time()
        meter = METER.get()
        tolerance = min(0.02, clock.timeout / 10)
        returned = now if meter is None or meter.returned is None else (
            now - max(0.0, time.perf_counter() - meter.returned)
        )
        held = meter is None or not meter.steps or meter.longest > tolerance
        if returned - deadline > tolerance and held:
            raise _Late(now - start)
        return value

    def _delay(self, attempt: int, failure: Failure) -> float:
        """Seconds to wait before retry number ``attempt``: jittered exponential backoff, or the
        server's ``Retry-After`` if longer (at most ``longest_wait``) plus up to 20%, so calls told
        the same time do not all come back in the same instant."""
        s = self.settings
        delay = min(s.max_backoff, s.backoff * 2.0 ** (attempt - 1)) * (0.5 + self._rng.random() / 2)
        if failure.retry_after is not None:
            delay = max(delay, min(s.longest_wait, failure.retry_after) * (1 + self._rng.random() / 5))
        return delay

    async def _one(self, call: Call) -> CallOutcome:
        s = self.settings
        if self._sent >= s.fail_fast and not self._settled.is_set():
            # Judged in the order sent, not finished (a rate-limited service's instant 429s would
            # outrun a slow first success), so hold the later calls until the first ones are in:
            # calls sent meanwhile would reach a dead service, beyond fail_fast.
            await self._settled.wait()
        if self._abort is not None:
            return self._skipped_by_fail_fast()
        if not self.budget.take():
            self.stats.skipped += 1
            return CallOutcome(
                error="pipeline call budget exhausted",
                cause="budget exhausted",
                budget_exhausted=True,
            )
        loop = asyncio.get_running_loop()
        seq, self._sent = self._sent, self._sent + 1
        blocked = self.stats.loop
        attempt = 0
        failure: Failure | None = None
        # After a 429 with a Retry-After: the call's first such (time, attempt), the longest wait it
        # was told (capped), and the latest it waits for the shared hold until (see _hold_deadline).
        # Each refused attempt puts the hold off again, and at a lowered concurrency the calls
        # waiting behind it go one per hold: without a deadline a dead rate-limited service kept
        # 5 calls x 2 retries waiting 20 s each in turn (186 s), not side by side (~45 s).
        limited: tuple[float, int] | None = None
        told = 0.0
        deadline: float | None = None
        retry = asleep = False  # retried after a 429; waited out its Retry-After (see _Gate)
        while True:
            attempt += 1
            # (not part of the attempt's timeout)
            window = await self._gate.enter(deadline, retry=retry, woke=asleep)
            if window is None:  # the hold ends after this call's deadline: its retry is not sent
                assert failure is not None and limited is not None and deadline is not None
                self.budget.refund()
                self.stats.retries -= 1
                self.stats.calls += 1
                self._record_first(seq, failure.cause)
                waited = (loop.time() - limited[0], deadline - limited[0])
                return self._error(self._last_failure(failure, waited), attempt - 1)
            clock = None if s.timeout is None else _AttemptClock(loop, s.timeout)
            token = WATCHER.set(clock)  # the pool reads it in run_in_executor's submit
            meter = StepMeter()
            metering = METER.set(meter)  # the adapter times an async method's steps into it
            late = False
            try:
                value = await self._attempt(call, clock)
            except PipelineOutputError as exc:
                failure = classify(exc, s.timeout)
            except _FATAL as exc:
                if any(_own_code(f.f_code.co_filename) for f, _ in _frames(exc)):
                    self.stats.calls += 1  # raised in the pipeline's own code: a call it made
                    if self.fatal_question is None:  # for the error: which question
                        self.fatal_question = call.question
                raise
            except SystemExit as exc:  # the pipeline's own (nothing else in a call raises it): never retried
                self.stats.calls += 1
                if self.fatal_question is None:
                    self.fatal_question = call.question
                raise PipelineExit(exc) from exc
            except asyncio.CancelledError as exc:
                if _being_cancelled():  # the probe is being stopped (Ctrl-C, the run ended): not the call's
                    raise
                # Raised by the pipeline's own code (an SDK's, a sync method's): that call's error. Let out,
                # it ended the probe, and (a BaseException in a test's setup) broke pytest's fixture state.
                failure = classify(exc, s.timeout)
            except Exception as exc:
                expired = clock is not None and clock.cm is not None and clock.cm.expired()
                failure = classify(exc, s.timeout, expired=expired)
                if isinstance(exc, _Late):
                    late = True
                    failure = dataclasses.replace(
                        failure,
                        error=f"{failure.error} (returned after {exc.elapsed:.2f}s: the event loop was "
                        "blocked, so the timeout could not fire)",
                    )
                wait = failure.retry_after
                if failure.retryable and wait is not None and wait > s.longest_wait:
                    # Longer than a call waits (a 429's quota used up, a 503's maintenance window): not
                    # retried, and no hold (no call would wait it out; the others are sent, each
                    # ending at once if it is told the same). A 503 waited the cap and asked again.
                    by_cause = self.stats.retry_after_by_cause
                    by_cause[failure.cause] = max(by_cause.get(failure.cause, 0.0), wait)
                    failure = dataclasses.replace(failure, retryable=False, too_long=True)
                    wait = None
                if failure.rate_limited:  # before leave(), which hands the slot on
                    self.stats.rate_limited += 1
                    self.stats.held += self._gate.rate_limited(window, wait)
                    self.stats.lowest_concurrency = self._gate.lowest
                    if wait is not None:  # told to wait: this, or the hold already in force
                        limited = limited or (loop.time(), attempt)
                        told = max(told, wait, self._gate.not_before - loop.time())
                        deadline = self._hold_deadline(*limited, told)
                if clock is not None and clock.waiting and isinstance(exc, asyncio.TimeoutError):
                    cause = f"not started within {clock.timeout:g}s"
                    failure = Failure(
                        cause,
                        f"{cause}: no free thread (calls that timed out earlier still run on all "
                        "of them)",
                        retryable=False,
                    )
            except BaseException as exc:
                if not pipelines_base_exception(exc):  # Ctrl-C, pytest.fail from a signal handler, a close()
                    raise
                # A custom BaseException subclass or a GeneratorExit the pipeline's own code raised: that
                # call's error, as a CancelledError raised there is. Let out, it broke pytest's fixture state
                # (a BaseException in a test's setup), and a GeneratorExit thrown into engine.run by gather
                # closed it ("coroutine ignored GeneratorExit", blamed on ragprobe).
                failure = classify(exc, s.timeout)
            else:
                self.stats.calls += 1
                self._gate.succeeded(window)
                self._record_first(seq, None)
                return CallOutcome(value=value, attempts=attempt)
            finally:
                self._gate.leave()
                WATCHER.reset(token)
                METER.reset(metering)
                blocked.add(meter, late)
                if clock is not None:
                    clock.active = False
            if attempt > s.retries or not failure.retryable or self._abort is not None:
                self.stats.calls += 1
                self._record_first(seq, failure.cause)
                return self._error(self._last_failure(failure), attempt)
            delay = self._delay(attempt, failure)
            if deadline is not None and limited is not None and (
                max(loop.time() + delay, self._gate.not_before) > deadline
            ):  # the retry would start after this call's deadline (held up behind other calls)
                self.stats.calls += 1
                self._record_first(seq, failure.cause)
                waited = (loop.time() - limited[0], deadline - limited[0])
                return self._error(self._last_failure(failure, waited), attempt)
            if not self.budget.take():  # a retry is a real (billed) call too
                # A budget stop, like the calls never sent: the probe ends INCONCLUSIVE, not ERROR.
                self.stats.calls += 1
                self._record_first(seq, failure.cause)
                return CallOutcome(
                    error=f"pipeline call budget exhausted (not retried after: {failure.error})",
                    cause="budget exhausted",
                    attempts=attempt,
                    budget_exhausted=True,
                )
            self.stats.retries += 1
            retry = failure.rate_limited
            self._gate._pull()  # (a hold another worker was told, since this attempt started, counts too)
            asleep = retry and self._gate.not_before > loop.time()
            if asleep:
                self._gate.asleep += 1
                self._gate.sleeping(loop.time() + delay)
            try:
                await asyncio.sleep(delay)
            except BaseException:
                if asleep:
                    self._gate.asleep -= 1
                    self._gate._admit()
                raise

    async def run(self, calls: Sequence[Call]) -> list[CallOutcome]:
        from pytest_ragprobe.cache import AnswerCache

        stats = self.stats = EngineStats(total=len(calls))
        stats.loop.timeout = self.settings.timeout
        self._first, self._sent, self._abort = {}, 0, None
        self._settled = asyncio.Event()
        if self.settings.fail_fast <= 0 or stats.total <= self.settings.fail_fast:
            self._settled.set()  # fail-fast is off, or too few calls for it: no hold
        outcomes: list[CallOutcome | None] = [None] * len(calls)
        cache = (
            AnswerCache(self.cache_dir, self.adapter.cache_identity, self.namespace)
            if self.cache_dir is not None
            else None
        )
        keys: list[str] = []
        self.keys = keys
        pending: list[int] = []
        for i, call in enumerate(calls):
            if cache is not None:
                key = cache.key(call)
                keys.append(key)
                hit = cache.get(key, call.kind)
                if hit is not None:
                    outcomes[i] = CallOutcome(value=hit.value, cached=True)
                    stats.cached += 1
                    stats.done += 1
                    continue
            pending.append(i)
        self._report()
        if not pending:
            return [o for o in outcomes if o is not None]
        # Fail-fast judges the first fail_fast calls in plan order, a cache hit among them being a
        # success, as it would have been without the cache: a hit before the first fail_fast real
        # calls means it cannot trip (nor can it with no real call left after them): no hold.
        first_hit = next((i for i, o in enumerate(outcomes) if o is not None), len(calls))
        if first_hit < self.settings.fail_fast or len(pending) <= self.settings.fail_fast:
            self._settled.set()

        workers = max(1, min(self.settings.concurrency, len(pending)))
        stats.loop.concurrency = workers
        key = self.adapter.cache_identity
        learned = _learned(key)
        start = self.start_limit if learned is None else learned.limit
        gate = self._gate = _Gate(workers, start, _BOARD, key)
        started_at = gate.limit
        loop = asyncio.get_running_loop()
        if learned is not None:
            if gate.limit < gate.top:  # climbing back: the successes an earlier run counted still count
                gate.successes = min(learned.successes, gate.top - 1)
            # in this loop's time (another loop's clock, e.g. a test's virtual one, need not be monotonic())
            gate.not_before = loop.time() + max(0.0, learned.hold_until - time.monotonic())
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
            limit = learned.limit if learned is not None else self.start_limit
            # this batch learned or kept a limit, or raised it (not: only ran fewer calls than that)
            if gate.lowest is not None or gate.limit < workers or gate.limit > started_at:
                limit = gate.limit if gate.limit < self.settings.concurrency else None
            self.start_limit = limit
            hold = gate.not_before - loop.time()
            successes = learned.successes if learned is not None else 0
            if gate.limit < gate.top:  # (at its top this batch counted none)
                successes = gate.successes
            _learn(key, _Learned(
                limit=limit,
                successes=successes if limit is not None else 0,
                hold_until=time.monotonic() + hold if hold > 0 else 0.0,
            ))
        return [o if o is not None else CallOutcome(error="not run") for o in outcomes]

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.stats.done, self.stats.total, self.stats)


_CAPABILITIES = ("answer", "retrieve", "generate", "index")


def _owners(adapter: PipelineAdapter, kinds: Collection[str] | None = None) -> list[Any]:
    """The pipeline and the objects behind its methods; ``kinds``: only those behind calls of these
    kinds (None: every method)."""
    fns = getattr(adapter, "_fns", {})
    names = _CAPABILITIES if kinds is None else _behind(fns, kinds)
    owners: list[Any] = [adapter.obj]
    owners += [getattr(fns.get(n), "__self__", None) for n in names]
    owners += [getattr(adapter.obj, n, None) for n in names]
    out: list[Any] = []
    for owner in owners:
        if owner is not None and all(owner is not o for o in out):
            out.append(owner)
    return out


def _behind(fns: dict[str, Any], kinds: Collection[str]) -> list[str]:
    """The pipeline's methods that calls of ``kinds`` go to: an answer goes to retrieve and generate
    when the pipeline has no answer of its own (as ``PipelineAdapter.answer`` does)."""
    names = set(kinds)
    if "answer" in names and fns.get("answer") is None:
        names.update(("retrieve", "generate"))
    return [n for n in _CAPABILITIES if n in names]


def unversioned_services(adapter: PipelineAdapter, kinds: Collection[str] | None = None) -> list[str]:
    """The remote services (HTTPPipeline, OpenAIGenerator) the pipeline calls that the answer cache
    knows by their address alone, none of them given a ``version`` (nor the pipeline around them): a
    probe answered from the cache alone did not see a new deployment behind that address. ``kinds``:
    the calls the probe asked (a reverse probe's answers never reach a generate-only OpenAIGenerator
    beside an answer endpoint, and naming it said the probe skipped a service it never uses)."""
    found: list[str] = []
    for owner in _owners(adapter, kinds):
        hook = getattr(owner, "_ragprobe_service", None)
        if callable(hook):
            service = hook()
            if isinstance(service, str) and service not in found:
                found.append(service)
    own = getattr(adapter.obj, "version", None)
    if own and not callable(getattr(adapter.obj, "_ragprobe_service", None)):
        return []  # a Pipeline(..., version=...) owns its identity: its author bumps it
    return found


async def prepare(adapter: PipelineAdapter) -> None:
    """Let the pipeline's objects set up per-loop resources before any call's timeout starts."""
    for owner in _owners(adapter):
        hook = getattr(owner, "_ragprobe_prepare", None)
        if callable(hook):
            await hook()


async def release(adapter: PipelineAdapter) -> None:
    """Close per-event-loop resources (HTTP clients) of the pipeline and of the objects behind its
    methods.

    Probes share one event loop per thread (``runner.run_sync``), but a probe may run in another thread's
    loop (a notebook), and an ``httpx.AsyncClient`` must not outlive the loop it was made in: ours are closed
    after each probe. Objects opt in with an async ``_ragprobe_release()`` (see ``adapters.py``).
    """
    for owner in _owners(adapter):
        hook = getattr(owner, "_ragprobe_release", None)
        if callable(hook):
            with contextlib.suppress(Exception):  # best effort; the results are already in
                await hook()
