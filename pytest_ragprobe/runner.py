"""Shared probe machinery: run settings, the probe context, sync/async bridging and error accounting."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import math
import os
import sys
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from pytest_ragprobe._blocking import LoopBlock
from pytest_ragprobe.engine import (
    PACKAGE_DIR,
    WAIT_ASKED,
    WAIT_NOT_RETRIED,
    Budget,
    Call,
    CallOutcome,
    Engine,
    EngineSettings,
    ProgressCallback,
    advice,
)
from pytest_ragprobe.markers import PositionSpec, ProbeSpec, default_positions
from pytest_ragprobe.pipeline import PipelineAdapter, _a, make_adapter

if TYPE_CHECKING:
    from pytest_ragprobe.results import ProbeResult
    from pytest_ragprobe.stats import SequentialDesign

T = TypeVar("T")


class ProbeError(Exception):
    """The probe could not produce a verdict (pipeline errors, bad data, missing capability)."""

    def __init__(self, message: str, traceback: str | None = None) -> None:
        super().__init__(message)
        # when the pipeline raised: the first failed call's traceback, of the most common cause
        self.traceback = traceback


@dataclass(frozen=True)
class RunSettings:
    """Run-wide settings a probe needs (from the pytest config, or defaults for direct API use)."""

    confidence: float = 0.95
    seed: int = 0
    samples: int | None = None
    samples_by: str = ""  # how samples was given ("ragprobe_samples = 5 in pytest.ini"); "": the flag
    sequential: bool = False
    max_error_rate: float = 0.1
    engine: EngineSettings = field(default_factory=EngineSettings)
    cache_dir: Path | None = None
    tables_dir: Path | None = None  # stats tables: kept even when the answer cache is off


def capped_size(n: int | None, available: int, samples: int | None) -> int:
    """Items sampled of ``available``: all, or ``n`` (asked), capped by ``samples`` (--ragprobe-samples).
    The marks, ``check_*`` and the ``ragprobe_fact_pairs`` fixture all size their samples so."""
    size = available if n is None else min(n, available)
    return size if samples is None else min(size, samples)


def sample_size(spec: ProbeSpec, available: int, settings: RunSettings) -> int:
    """Facts / questions a probe samples: all available, capped by the mark's n and --ragprobe-samples."""
    return capped_size(spec.n, available, settings.samples)


def cap_note(spec: ProbeSpec, available: int, settings: RunSettings, unit: str) -> str | None:
    """Said when ``--ragprobe-samples`` cut the sample below what the probe would have taken (all of
    them, or its ``n``): a check_reverse(n=10) that ran 5 used to say nothing."""
    wanted = available if spec.n is None else min(spec.n, available)
    cap = settings.samples
    if cap is None or cap >= wanted:
        return None
    without = f"n={spec.n}" if spec.n is not None and spec.n <= available else f"all {wanted}"
    by = settings.samples_by or f"--ragprobe-samples={cap}"  # (the ini key when it came from the ini)
    return f"{by} capped the sample at {cap} {unit} ({without} without it)"


def looks(
    spec: ProbeSpec, n: int, confidence: float, settings: RunSettings
) -> tuple[SequentialDesign | None, list[int]]:
    """Cumulative sample sizes to evaluate at: interim looks when sequential (and n is big enough)."""
    sequential = spec.sequential if spec.sequential is not None else settings.sequential
    if not (sequential and n >= 8):
        return None, [n]
    from pytest_ragprobe.stats import sequential_design

    positions = None
    if isinstance(spec, PositionSpec):  # few positions get their own look schedule
        positions = len(spec.positions or default_positions(spec.n_docs))
    design = sequential_design(n, confidence=confidence, positions=positions)
    return design, list(design.sizes)


@dataclass
class RunTally:
    """Counts over the probes that share one call budget (a pytest run's: ``RagprobeSession.budget``),
    for the run-end line of a run stopped early (Ctrl-C, --ragprobe-budget): the answers it got are in
    the answer cache and a re-run resumes from them. Kept per budget, not per process: pytester runs
    sessions inside a test's, and their counts must not reach its line."""

    answered: int = 0  # real calls answered with the answer cache on (so stored there)
    budget_cuts: int = 0  # calls the budget did not let through


_TALLIES: weakref.WeakKeyDictionary[Budget, RunTally] = weakref.WeakKeyDictionary()


def tally(budget: Budget) -> RunTally:
    """The counts of the probes run with ``budget`` (none yet: zeros)."""
    found = _TALLIES.get(budget)
    if found is None:
        found = _TALLIES[budget] = RunTally()
    return found


@dataclass
class ProbeContext:
    adapter: PipelineAdapter
    settings: RunSettings = field(default_factory=RunSettings)
    budget: Budget = field(default_factory=lambda: Budget(None))
    nodeid: str = ""
    base_dirs: Sequence[Path] = ()
    progress: ProgressCallback | None = None
    direct: bool = False  # check_reverse / check_position: advice names their keyword arguments
    calls: int = 0
    cached_calls: int = 0
    errors: int = 0
    retries: int = 0  # extra attempts after transient failures (each took a budget unit)
    skipped: int = 0  # calls fail-fast never sent (the first ones all failed the same way)
    # calls made (or served from the cache) before the batch in which fail-fast first tripped
    fail_fast_after: int | None = None
    error_causes: Counter[str] = field(default_factory=Counter)
    # the first call that failed with each cause: (question, full error), for the ProbeError to show
    # which question got what (a cause leaves out the per-call detail, e.g. the value returned)
    error_examples: dict[str, tuple[str, str]] = field(default_factory=dict)
    # the first failed call's traceback, per cause, for causes raised in the pipeline's own code
    error_tracebacks: dict[str, str] = field(default_factory=dict)
    # the longest Retry-After a 429 or 5xx asked for beyond what the engine waits, per failure cause, for the
    # advice: the probe-wide longest put "the service asked to wait 3600 s" (one 429's quota refusal) after
    # the plain 503s that were the most common cause
    retry_after_by_cause: dict[str, float] = field(default_factory=dict)
    budget_hit: bool = False
    # the question a bug in the pipeline raised on (engine._FATAL: raised, not recorded), for that error
    fatal_question: str | None = None
    # (lowest, configured) calls in flight when HTTP 429s made the engine lower it, for the advice
    concurrency_lowered: tuple[int, int] | None = None
    # calls in flight the last batch ended with after HTTP 429s: the next batch starts there
    rate_limit: int | None = None
    # HTTP 429 replies over the probe's runs, and the seconds their Retry-After held calls (for the note
    # that says why a probe was slow: its retries alone did not say a service had turned calls away)
    rate_limited: int = 0
    held: float = 0.0
    # how long the pipeline's async code held the event loop, over the probe's runs (see _blocking)
    loop_block: LoopBlock = field(default_factory=LoopBlock)
    started: float = field(default_factory=time.perf_counter)
    # With the answer cache: the keys of the calls asked so far (cache.pack_key of each, concatenated:
    # 32 bytes a call) and how many calls were asked (those that could not be keyed too), for the probe's
    # plan record (cache.write_plan_record: the next run's cost plan counts those cached)
    asked_keys: bytearray = field(default_factory=bytearray)
    asked: int = 0
    # the kinds of call asked (answer, retrieve, generate), cached or not: which services it would call
    kinds: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        from pytest_ragprobe import stats

        # the exact critical values take seconds at n in the hundreds: keep them beside the answers, also
        # under --ragprobe-no-cache (they are the same numbers on every run; answers are what it refuses)
        tables = self.settings.tables_dir
        if tables is None and self.settings.cache_dir is not None:
            tables = Path(self.settings.cache_dir) / "tables"
        stats.set_table_dir(tables)

    def confidence(self, spec: ProbeSpec) -> float:
        return spec.confidence if spec.confidence is not None else self.settings.confidence

    def seed(self, spec: ProbeSpec) -> int:
        return spec.seed if spec.seed is not None else self.settings.seed

    def sample_size(self, spec: ProbeSpec, available: int) -> int:
        return sample_size(spec, available, self.settings)

    def cap_note(self, spec: ProbeSpec, available: int, unit: str) -> str | None:
        return cap_note(spec, available, self.settings, unit)

    def looks(self, spec: ProbeSpec, n: int, confidence: float) -> tuple[SequentialDesign | None, list[int]]:
        return looks(spec, n, confidence, self.settings)

    def make_engine(self, namespace: str, kinds: Collection[str] | None = None) -> Engine:
        """An engine for one batch; ``namespace`` holds the settings that change answers (cache key part).

        A pipeline may declare ``max_concurrency`` (e.g. 1 for a local model behind a lock): more calls in
        flight would only queue, and running them in plan order lets a local reader reuse its prompt cache.
        So may a part of it (``Pipeline(generate=reader)``, a bound method's object) that calls of ``kinds``
        (None: any) reach: the lowest counts.
        """
        from pytest_ragprobe.engine import _owners

        settings = self.settings.engine
        for owner in _owners(self.adapter, kinds):
            limit = getattr(owner, "max_concurrency", None)
            if isinstance(limit, int) and not isinstance(limit, bool) and 1 <= limit < settings.concurrency:
                settings = replace(settings, concurrency=limit)
        return Engine(
            self.adapter,
            settings,
            self.budget,
            self.progress,
            cache_dir=self.settings.cache_dir,
            namespace=namespace,
            start_limit=self.rate_limit,
        )

    async def run_calls(self, calls: Sequence[Call], namespace: str = "") -> list[CallOutcome]:
        kinds = {call.kind for call in calls}
        engine = self.make_engine(namespace, kinds)
        self.kinds.update(kinds)
        try:
            outcomes = await engine.run(calls)
        except BaseException:  # a bug in the pipeline raised mid-run: the calls made still count
            self.calls += engine.stats.calls
            if self.settings.cache_dir is not None:  # (Ctrl-C: those answered are in the cache)
                tally(self.budget).answered += max(0, engine.stats.calls - engine.stats.errors)
            self.fatal_question = self.fatal_question or engine.fatal_question
            raise
        finally:
            self.loop_block.merge(engine.stats.loop)
        self.rate_limit = engine.start_limit
        if engine.keys:
            from pytest_ragprobe.cache import pack_key

            self.asked += len(engine.keys)
            for key in engine.keys:
                if (packed := pack_key(key)) is not None:
                    self.asked_keys += packed
        self.retries += engine.stats.retries
        self.rate_limited += engine.stats.rate_limited
        self.held += engine.stats.held
        low = engine.stats.lowest_concurrency
        if low is not None:
            before = self.concurrency_lowered
            self.concurrency_lowered = (min(low, before[0]) if before else low, engine.settings.concurrency)
        for cause, wait in engine.stats.retry_after_by_cause.items():
            self.retry_after_by_cause[cause] = max(wait, self.retry_after_by_cause.get(cause, 0.0))
        if self.fail_fast_after is None and any(
            o.attempts == 0 and o.error is not None and not o.cached and not o.budget_exhausted
            for o in outcomes
        ):
            self.fail_fast_after = self.calls + self.cached_calls
        if self.settings.cache_dir is not None:
            tally(self.budget).answered += sum(1 for o in outcomes if o.ok and not o.cached)
        for call, o in zip(calls, outcomes, strict=True):
            if o.budget_exhausted:
                self.budget_hit = True
                tally(self.budget).budget_cuts += 1
                if o.attempts:  # sent; only its retry was beyond the budget
                    self.calls += 1
                continue
            if o.cached:
                self.cached_calls += 1
            elif o.attempts == 0 and o.error is not None:  # fail-fast: not sent, so not a call
                self.skipped += 1
                continue
            else:
                self.calls += 1
            if o.error is not None:
                self.errors += 1
                cause = o.cause or o.error.split(":")[0].strip()
                self.error_causes[cause] += 1
                self.error_examples.setdefault(cause, (call.question, o.error))
                if o.traceback is not None:
                    self.error_tracebacks.setdefault(cause, o.traceback)
        return outcomes

    def check_error_rate(self, by_group: Mapping[str, tuple[int, int]] | None = None) -> None:
        """End the probe as an error when too many calls failed, naming the most common cause.

        ``by_group``: (failed, asked) calls per group (a position probe's positions), each held to the
        limit too: a question with a failed call is left out at every position, so failures at one
        position (a reader that times out where it is lost) leave out the questions it finds hard there,
        while the probe's overall rate, diluted by the other positions, stays within the limit."""
        total = self.calls + self.cached_calls  # a cache hit is a successful call
        limit = self.settings.max_error_rate
        over = bool(total) and self.errors / total > limit
        if total and (self.skipped or over):
            skipped = ""
            if self.skipped:
                n, after = self.settings.engine.fail_fast, self.fail_fast_after
                # tripped in a later batch (look) of the probe: its first calls are not the probe's
                which = f"{n} calls after the first {after}" if after else f"first {n} calls"
                skipped = f"; {self.skipped} more not attempted (fail-fast: the {which} all failed this way)"
            # Only fail-fast ends a probe whose rate is within the limit: never cite the limit as why.
            why = f"limit {limit:.0%}"
            if not over:
                why = f"within the {limit:.0%} limit, but fail-fast stopped the probe"
            self._raise_errors(f"{self.errors} of {total} pipeline calls failed ({why})", skipped)
        for group, (failed, asked) in (by_group or {}).items():
            if asked and failed / asked > limit:
                self._raise_errors(
                    f"{failed} of {asked} pipeline calls {group} failed (limit {limit:.0%}; {self.errors} of "
                    f"{total} over the probe: a question with a failed call is left out at every position, "
                    "so failures at one position leave out the questions that are hard there)"
                )

    def _raise_errors(self, head: str, tail: str = "") -> NoReturn:
        cause, count = self.error_causes.most_common(1)[0]
        question, error = self.error_examples.get(cause, ("", cause))
        # a long question (often repeated in the error: KeyError: '<question>') buried the cause
        short = question if len(question) <= 80 else question[:79] + "…"
        first = f"; first for {short!r}" if question else ""
        told = self._advice(cause)
        wait = error.rfind(f" ({WAIT_ASKED} ")
        if WAIT_ASKED in told and wait >= 0 and error.endswith(f"{WAIT_NOT_RETRIED})"):
            # the call's "(the service asked to wait 3600 s, more than the 20 s ragprobe waits ...: not
            # retried)": the advice just said it, and what to raise (was said twice)
            error = error[:wait]
        if first and error != cause:
            trimmed = _without_shared_hint(error, cause)  # the cause just said it
            # the cause before that hint: "...got tuple (an (answer, documents) pair? ...)" said the cause
            # again before the value ("...got tuple: ('C-1', [])")
            said = cause[: len(cause) - (len(error) - len(trimmed))]
            error = trimmed
            if error.startswith(said + ": ") and error[len(said) + 2 :].strip():
                # "transport error (ConnectError) from URL" (an HTTP status, a malformed response) was
                # said again before its detail: the detail alone
                error = error[len(said) + 2 :]
            else:
                # "malformed response from URL: expected JSON, got ..." and its error "malformed response
                # from URL: not JSON ...": the shared head (up to a ": " in both) was said twice
                # (where one begins with the other, it is left whole: that is no head of both)
                differ = next((i for i, (x, y) in enumerate(zip(said, error, strict=False)) if x != y), 0)
                cut = said.rfind(": ", 0, differ) + 2
                if cut > 2 and error[cut:].strip():
                    error = error[cut:]
            if len(question) > 80:  # said in "first for", clipped: not again in full (what follows is kept)
                at = error.find(question[:40])
                if question in error:
                    error = error.replace(question, "<the question>")
                elif at >= 0:  # (the call's error was clipped inside it)
                    error = error[:at] + "<the question>…"
            first += ": " + error[:300]
        raise ProbeError(
            f"{head}; most common cause ({count}x): {cause}{told}{first}{tail}",
            traceback=self.error_tracebacks.get(cause),
        )

    def _advice(self, cause: str) -> str:
        # (the error is clipped: asyncio's names a Task and a Future first; the traceback ends with all of it)
        error = self.error_examples.get(cause, ("", ""))[1] + (self.error_tracebacks.get(cause) or "")
        if any(text in error for text in _OTHER_LOOP):
            return _OTHER_LOOP_ADVICE
        asked, engine = self.retry_after_by_cause.get(cause), self.settings.engine
        return advice(
            cause,
            self.concurrency_lowered,
            None if asked is None else (asked, engine.longest_wait, engine.max_backoff),
            direct=self.direct,
            blocked=self.loop_block.message(self.direct),
        )

    def rate_limit_note(self) -> str:
        """What HTTP 429s cost the probe: a slow run says why (its retries alone did not say)."""
        k = self.rate_limited
        note = f"rate limited: the service turned away {k} request{'s' if k != 1 else ''} with HTTP 429"
        held = f"; its Retry-After held calls {self.held:.1f} s in all"
        note += held if self.held > 0 else " (no Retry-After)"
        if self.concurrency_lowered is not None:
            low, top = self.concurrency_lowered
            option = "concurrency=" if self.direct else "--ragprobe-concurrency"
            note += f"; calls in flight lowered to {low} of {top} ({option})"
        return note

    def top_cause(self) -> str:
        """The most common cause of the calls that failed, with what to try ("" without failures)."""
        if not self.error_causes:
            return ""
        cause, count = self.error_causes.most_common(1)[0]
        first = ""
        if cause in self.error_tracebacks:  # raised in the pipeline: the cause is only where; say what
            _, error = self.error_examples.get(cause, ("", cause))
            first = f", first: {error}" if error != cause else ""
        return f"{cause} ({count}x){first}{self._advice(cause)}"

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def result(self, **fields: Any) -> ProbeResult:
        """A ProbeResult carrying this context's test id, call counts and duration."""
        from pytest_ragprobe.results import ProbeResult

        if self.calls == 0 and self.cached_calls > 0:
            from pytest_ragprobe.engine import unversioned_services

            services = unversioned_services(self.adapter, self.kinds)
            if services:
                named = named_services(self.adapter, self.kinds)
                note = cache_only_note(services, self.cached_calls, named)
                fields["notes"] = [*fields.get("notes", []), note]
                fields["cache_only_services"] = {s: named.get(s) for s in services}
        if self.rate_limited and fields.get("verdict") != "error":  # (an ERROR's cause says it)
            fields["notes"] = [*fields.get("notes", []), self.rate_limit_note()]
        blocked = self.loop_block.message(self.direct)
        if blocked and blocked not in self.top_cause():  # (a timeout's cause already says it)
            fields["notes"] = [*fields.get("notes", []), blocked]
        settings = fields.get("settings")
        if isinstance(settings, dict) and settings.get("sequential") is None:
            # the mark left it unset: record what the probe ran with (--ragprobe-sequential / ini), as looks()
            fields["settings"] = {**settings, "sequential": self.settings.sequential}
        result = ProbeResult(
            nodeid=self.nodeid,
            calls=self.calls,
            cached_calls=self.cached_calls,
            errors=self.errors,
            retries=self.retries,
            error_cause=self.top_cause(),
            duration_s=round(self.elapsed(), 3),
            pipeline=self.adapter.identity,
            pipeline_identity=self.adapter.cache_identity,
            **fields,
        )
        if result.verdict in ("inconclusive", "pass") and not result.reason:
            from pytest_ragprobe.render import derived_reason

            # `result.reason` says why as explain() does (was "": a script reading report.json got nothing)
            result.reason = derived_reason(result)
        return result


def _without_shared_hint(error: str, cause: str) -> str:
    """``error`` without the parenthesised hint that ends both it and ``cause`` (types._wrong_type puts
    one at the end of each): the ERROR message gave "(an (answer, documents) pair? return
    ragprobe.Answer(...))" twice, in its cause and again in its "first for" part."""
    if not cause.endswith(")"):
        return error
    depth = 0
    for i in range(len(cause) - 1, -1, -1):  # the "(" that opens the final group (hints nest parentheses)
        depth += {")": 1, "(": -1}.get(cause[i], 0)
        if depth == 0:
            hint = cause[i:]
            if i > 0 and cause[i - 1] == " " and error.endswith(" " + hint) and len(error) > len(hint) + 1:
                return error[: -len(hint) - 1]
            return error
    return error


CACHE_ONLY = "answered from the answer cache alone"


# asyncio's errors for an object made on one event loop and used on another (or whose loop has closed)
# (aiohttp's: its timer finds no task of the loop its session was made on running)
_OTHER_LOOP = (
    "attached to a different loop", "bound to a different event loop", "Event loop is closed",
    "Timeout context manager should be used inside a task",
)
_OTHER_LOOP_ADVICE = (
    " (the pipeline uses asyncio objects made on another event loop: probes run on pytest-ragprobe's own, and"
    " an async ragprobe_pipeline fixture (pytest-asyncio) builds the pipeline on the test's: create its"
    " clients, sessions and locks inside its async methods, on first use, or build it in a sync fixture)"
)


def cache_only_note(services: Sequence[str], cached: int, named: Mapping[str, str] | None = None) -> str:
    """A probe of a remote service that made no call: a deploy gate run this way tested nothing new.
    ``named``: the services given a ``name=`` (:func:`named_services`), which the cache knows by it."""
    verb = "was" if len(services) == 1 else "were"
    named = {s: n for s, n in (named or {}).items() if s in services}
    one = len(services) == 1
    if not named:
        known, behind = ("a service by its address", "it") if one else ("them by their addresses", "them")
    else:
        known, behind = known_by(services, named, "the service")
    return (
        f"{CACHE_ONLY} ({cached} cached, no call): {', '.join(services)} {verb} not called by this "
        f"probe. The cache knows {known}, so a new deployment behind {behind} is not seen: a deploy gate "
        f"should run with --ragprobe-no-cache, or give {'the service' if one else 'each'} a version= "
        "(its build id)"
    )


def known_by(services: Sequence[str], named: Mapping[str, str], one: str) -> tuple[str, str]:
    """How the answer cache knows ``services`` of which some were given a name= (``named``), and the pronoun
    for them: ("the service by its name= ('rag-prod')", "it") with ``one`` = "the service"; several: each
    as the cache knows it, "A by its name= ('search') and B by its address" ("by its address" was wrong of
    those given a name)."""
    if len(services) == 1:
        return f"{one} by its name= ({named[services[0]]!r})", "it"
    known = " and ".join(
        f"{s} by its name= ({named[s]!r})" if s in named else f"{s} by its address" for s in services
    )
    return known, "them"


def named_services(adapter: PipelineAdapter, kinds: Collection[str] | None = None) -> dict[str, str]:
    """The services of :func:`engine.unversioned_services` given a ``name=`` (HTTPPipeline,
    OpenAIGenerator), by service: the cache knows those by that name, not by their address (the default
    names hold the address; a name that holds it is still said to be known by its address)."""
    from pytest_ragprobe.engine import _owners
    from pytest_ragprobe.types import redact_url

    named: dict[str, str] = {}
    for owner in _owners(adapter, kinds):
        hook = getattr(owner, "_ragprobe_service", None)
        service = hook() if callable(hook) else None
        name, address = getattr(owner, "name", None), getattr(owner, "base_url", getattr(owner, "url", None))
        if (
            isinstance(service, str)
            and isinstance(name, str)
            and isinstance(address, str)
            and redact_url(address.rstrip("/")) not in name
        ):
            named.setdefault(service, name)
    return named


def _new_runner() -> asyncio.Runner:
    # (its run() turns Ctrl-C into cancelling the probe). With a loop factory the runner does not make its
    # loop the thread's current event loop (asyncio.set_event_loop): it was left so after a probe, so a
    # later test's asyncio.get_event_loop() got the kept loop, and its loop.close() made the next probe an
    # ERROR "the pipeline raised RuntimeError: Event loop is closed".
    return asyncio.Runner(loop_factory=asyncio.new_event_loop)


# One event loop per thread for every probe of the process, kept between probes: a pipeline's own async
# clients (httpx.AsyncClient, AsyncOpenAI, a DB pool) bind to the loop they are first used in, and with a
# new loop per probe (asyncio.run) every probe after the first failed with "Event loop is closed".
_LOCAL = threading.local()


def _drop_runner(runner: Any) -> None:
    with contextlib.suppress(BaseException):  # its tasks may refuse to die: the next run starts afresh
        if not runner.get_loop().is_closed():  # (closing a closed loop's runner warns of a coroutine)
            runner.close()


def _run_on_own_loop(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    runner = getattr(_LOCAL, "runner", None)
    if runner is not None and runner.get_loop().is_closed():  # closed by someone else: start afresh
        runner = None
    if runner is None:
        runner = _LOCAL.runner = _new_runner()
    tasks: list[asyncio.Task[Any]] = []

    async def main() -> T:
        tasks.extend(filter(None, [asyncio.current_task()]))
        return await factory()

    try:
        return runner.run(main())
    except (KeyboardInterrupt, SystemExit):  # the next probe gets a fresh loop
        _LOCAL.runner = None
        _drop_runner(runner)
        raise
    except BaseException:
        # The probe's own error: the loop is fine. Unless it was raised into the loop from outside (a signal
        # handler's TimeoutError, pytest.exit, pytest-timeout's pytest.fail) with the probe's task still
        # pending: kept on the loop, that task went on calling the pipeline during the next probe. Stopped
        # as Ctrl-C stops it (cancelled); the loop is kept, so a pipeline's async clients bound to it still
        # work in later probes (dropping it after a test timeout broke them).
        if tasks and not tasks[0].done():
            _stop_task(runner, tasks[0])
        raise


def _stop_task(runner: asyncio.Runner, task: asyncio.Task[Any]) -> None:
    """Cancel a probe's task left pending on ``runner``'s kept loop and run the loop until it has ended."""
    try:
        task.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            runner.get_loop().run_until_complete(task)
    except BaseException:  # interrupted again while it stopped: the next probe gets a fresh loop
        _LOCAL.runner = None
        _drop_runner(runner)
        raise


@atexit.register
def _close_main_runner() -> None:  # (at exit, in the main thread: its loop's leftovers are cancelled)
    runner = getattr(_LOCAL, "runner", None)
    if runner is not None:
        _LOCAL.runner = None
        _drop_runner(runner)


@dataclass
class _Job:
    factory: Callable[[], Coroutine[Any, Any, Any]]
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None
    loop: asyncio.AbstractEventLoop | None = None
    task: asyncio.Task[Any] | None = None


class _LoopThread:
    """Where probes run when their caller is inside a running event loop (a notebook cell, an async
    test): one daemon thread with its own loop, kept for the process, as :func:`_run_on_own_loop` keeps
    the caller's thread's loop."""

    def __init__(self) -> None:
        import queue

        self.jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name="ragprobe-loop", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            job = self.jobs.get()

            async def main(job: _Job = job) -> Any:
                job.loop, job.task = asyncio.get_running_loop(), asyncio.current_task()
                return await job.factory()

            try:
                job.value = _run_on_own_loop(main)
            except BaseException as exc:
                job.error = exc
            finally:
                job.done.set()

    def run(self, factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
        job = _Job(factory)
        self.jobs.put(job)
        try:
            job.done.wait()
        except BaseException:
            # Ctrl-C in a notebook cell (or any exception here): stop the probe as asyncio.run would outside
            # a loop. Was: the caller got control back and the probe went on calling a (paid) pipeline.
            if job.loop is not None and job.task is not None:
                with contextlib.suppress(RuntimeError):  # the loop has just closed
                    job.loop.call_soon_threadsafe(job.task.cancel)
            job.done.wait(timeout=30)
            raise
        if job.error is not None:
            raise job.error
        return job.value  # type: ignore[no-any-return]


_LOOP_THREAD: _LoopThread | None = None
_LOOP_THREAD_LOCK = threading.Lock()


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine from sync code, also when an event loop is already running in this thread, on
    an event loop kept for the next probes (see ``_LOCAL``). A SystemExit the pipeline raised is raised
    again here, out of the loop (the engine carries it through the loop as a PipelineExit)."""
    from pytest_ragprobe.engine import PipelineExit

    try:
        return _run_sync(factory)
    except PipelineExit as exc:
        raise exc.exit from None


def _run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    global _LOOP_THREAD
    try:
        asyncio.get_running_loop()
        in_loop = True
    except RuntimeError:
        in_loop = False
    if not in_loop:  # outside the except block, so errors carry no "no running event loop" context
        return _run_on_own_loop(factory)
    with _LOOP_THREAD_LOCK:
        if _LOOP_THREAD is None:
            _LOOP_THREAD = _LoopThread()
        host = _LOOP_THREAD
    if threading.current_thread() is host.thread:  # a probe started by a pipeline under probe: no deadlock
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["value"] = asyncio.run(factory())
            except BaseException as exc:
                box["error"] = exc

        thread = threading.Thread(target=target, name="ragprobe-nested-loop", daemon=True)
        thread.start()
        thread.join()
        if "error" in box:
            raise box["error"]
        return box["value"]  # type: ignore[no-any-return]
    return host.run(factory)


def caller_base_dirs() -> list[Path]:
    """Where ``check_*`` looks up a relative data path, as the marks do (``session.base_dirs``):
    beside the file that called it (the first frame outside pytest-ragprobe), beside the test being
    run and in the rootdir and invocation dir of the pytest run it is called in, then the cwd.

    The pytest run is found on the stack, in pytest's own frames (the ``Item`` being run, else the
    ``Config``): the API has no request to ask, and the innermost run is met first (pytester nests
    runs). Only pytest's frames are looked into: the user's locals may hold proxies that misbehave."""
    dirs: list[Path] = []
    pytest_pkg = sys.modules.get("_pytest")  # only where pytest is loaded: never imported here
    pytest_dir = os.path.join(os.path.dirname(str(getattr(pytest_pkg, "__file__", ""))), "")
    item_type = getattr(sys.modules.get("_pytest.nodes"), "Item", None)
    config_type = getattr(sys.modules.get("_pytest.config"), "Config", None)
    config: Any = None
    frame: FrameType | None = sys._getframe(1)
    caller_seen = False
    while frame is not None:
        filename = frame.f_code.co_filename
        if not caller_seen and not os.path.abspath(filename).startswith(PACKAGE_DIR):
            caller_seen = True
            if os.path.isfile(filename):  # not "<stdin>" / "<string>"
                dirs.append(Path(filename).resolve().parent)
        if item_type is not None and pytest_pkg is not None and filename.startswith(pytest_dir):
            for value in list(frame.f_locals.values()):
                if isinstance(value, item_type):
                    from pytest_ragprobe.session import base_dirs

                    return list(dict.fromkeys([*dirs, *base_dirs(value), Path.cwd()]))
                if config is None and config_type is not None and isinstance(value, config_type):
                    config = value
        frame = frame.f_back
    if config is not None:
        dirs += [Path(config.rootpath), Path(config.invocation_params.dir)]
    return list(dict.fromkeys([*dirs, Path.cwd()]))


def call_options(api: str, options: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of check_reverse / check_position that set how calls are made (a script or
    notebook has no command line for the ``--ragprobe-*`` options), validated: ``timeout`` (seconds > 0),
    ``retries`` (>= 0), ``concurrency`` (>= 1), ``max_error_rate`` ([0, 1]); None leaves the run's (or the
    default) value."""
    from pytest_ragprobe.markers import int_arg, number_arg

    checks: dict[str, Callable[[object], object]] = {
        "timeout": lambda v: number_arg(api, "timeout", v, 0.0, math.inf, open_lo=True),
        "retries": lambda v: int_arg(api, "retries", v, 0),
        "concurrency": lambda v: int_arg(api, "concurrency", v, 1),
        "max_error_rate": lambda v: number_arg(api, "max_error_rate", v, 0.0, 1.0),
    }
    return {k: checks[k](v) for k, v in options.items() if v is not None}


def context_for(pipeline: object, api: str = "", **overrides: Any) -> ProbeContext:
    """A context for direct API use (``ragprobe.check_reverse``, named by ``api`` in errors): the
    settings, budget and ``pytest_ragprobe_make_pipeline`` hooks of the pytest run in progress
    (command line and ini), else the defaults, and relative data paths looked up as the marks do
    (:func:`caller_base_dirs`). ``overrides``: :func:`call_options` and other :class:`RunSettings`
    fields. Never the answer cache: a pipeline built inside a test is often
    tweaked in ways its cache identity (name, version, code, plain-data configuration) cannot see,
    e.g. a stub client set up differently per test."""
    from pytest_ragprobe._active import active_run

    run = active_run()
    hooked = ""
    if run is not None and (converted := run.adapt(pipeline)) is not None:
        hooked = f"the pipeline given to {api} ({_a(type(pipeline).__name__)})"
        pipeline = converted
    # direct calls neither read nor write the run's cache directory (tables included)
    base = replace(run.settings, cache_dir=None, tables_dir=None) if run is not None else RunSettings()
    given = {k: v for k, v in overrides.items() if v is not None}
    engine = {k: given.pop(k) for k in ("timeout", "retries", "concurrency") if k in given}
    given["engine"] = replace(given.get("engine", base.engine), **engine)
    settings = replace(base, **given)
    budget = run.budget if run is not None else Budget(None)
    return ProbeContext(
        adapter=make_adapter(pipeline, source=api, hooked=hooked),
        settings=settings,
        budget=budget,
        base_dirs=caller_base_dirs(),
        direct=True,
    )
