"""How long a pipeline's async code holds the event loop.

ragprobe awaits an async pipeline method on its event loop, and runs sync methods in threads. An async
method that blocks (``time.sleep``, a sync HTTP client, CPU work) holds the loop for as long as it runs:
no other call of the probe makes progress meanwhile (the concurrency is in effect 1), and the attempt's
timeout, a timer of that loop, cannot fire, so the call "succeeds" after any time.

The adapter (``PipelineAdapter._call``) drives such a coroutine through :class:`Timed`, which times each
step of it (each stretch between two suspensions, all of it spent holding the loop) into the
:class:`StepMeter` the engine set in :data:`METER` for the attempt. Cost: two ``perf_counter()`` reads
per step, no thread, no timer. Nothing is measured, nor wrapped, outside an engine attempt (``index()``
of synthetic facts) or for sync methods (their step is handing the call to a thread).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Generator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: A step at least this long holds the loop noticeably (asyncio's debug mode warns of callbacks slower
#: than this, ``loop.slow_callback_duration``).
SLOW_STEP = 0.1


class StepMeter:
    """The steps of one attempt's async pipeline code."""

    def __init__(self) -> None:
        self.steps = 0
        self.longest = 0.0  # seconds, the longest step
        self.method = ""  # the pipeline method whose coroutine took the longest step
        # perf_counter() when the pipeline's code last returned (a coroutine's last step, a sync method's
        # thread): the engine judges a late attempt by it, not by when the loop got to the result
        self.returned: float | None = None

    def add(self, seconds: float, method: str) -> None:
        self.steps += 1
        if seconds > self.longest:
            self.longest, self.method = seconds, method

    @property
    def slow(self) -> bool:
        return self.longest >= SLOW_STEP


#: Set by the engine around one attempt; read by the adapter when it awaits an async pipeline method.
METER: ContextVar[StepMeter | None] = ContextVar("ragprobe_step_meter", default=None)


class Timed(Generic[T]):
    """Awaits ``coro`` as ``await coro`` would, timing each of its steps into ``meter``."""

    __slots__ = ("_coro", "_meter", "_method")

    def __init__(self, coro: Coroutine[Any, Any, T], meter: StepMeter, method: str) -> None:
        self._coro, self._meter, self._method = coro, meter, method

    def __await__(self) -> Generator[Any, Any, T]:
        coro, meter, method = self._coro, self._meter, self._method
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            start = time.perf_counter()
            try:
                yielded = coro.send(sent) if thrown is None else coro.throw(thrown)
            except StopIteration as stop:
                meter.returned = time.perf_counter()
                meter.add(meter.returned - start, method)
                return stop.value  # type: ignore[no-any-return]
            except BaseException:
                meter.add(time.perf_counter() - start, method)
                raise
            finally:
                thrown = None  # (no reference kept to a thrown exception: its traceback holds frames)
            meter.add(time.perf_counter() - start, method)
            try:
                sent = yield yielded  # a future for the task to wait on (or None: asyncio.sleep(0))
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation (a timeout), or the awaited future's error
                sent, thrown = None, exc


def stamped(meter: StepMeter, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` (a sync method, in a pool thread), noting in ``meter`` when it returned."""
    value = fn(*args)
    meter.returned = time.perf_counter()
    return value


@dataclass
class LoopBlock:
    """What the async pipeline code of a probe's calls did to the event loop (summed over its runs)."""

    attempts: int = 0  # attempts whose async pipeline code was measured
    slow: int = 0  # of them, those with a step of SLOW_STEP or more
    longest: float = 0.0  # seconds, the longest step of any attempt
    method: str = ""  # the pipeline method that took it
    late: int = 0  # attempts that returned after their timeout (made timeouts)
    timeout: float | None = None
    concurrency: int = 1  # the most calls a run of the probe allowed in flight

    def add(self, meter: StepMeter, late: bool) -> None:
        if not meter.steps:
            return
        self.attempts += 1
        self.slow += meter.slow or late  # (late: it blocked for longer than a timeout under SLOW_STEP)
        self.late += late
        if meter.longest > self.longest:
            self.longest, self.method = meter.longest, meter.method

    def merge(self, other: LoopBlock) -> None:
        self.attempts += other.attempts
        self.slow += other.slow
        self.late += other.late
        if other.longest > self.longest:
            self.longest, self.method = other.longest, other.method
        self.timeout = other.timeout if self.timeout is None else self.timeout
        self.concurrency = max(self.concurrency, other.concurrency)

    @property
    def stalled(self) -> bool:
        """Whether the calls were held up by it: a timeout could not fire in time, or most attempts (at
        least 2) blocked the loop while other calls could have run (a rare slow step, e.g. the machine
        being busy, is not it)."""
        if self.late:
            return True
        return self.concurrency > 1 and self.slow >= 2 and 2 * self.slow >= self.attempts

    def message(self, direct: bool = False) -> str:
        """What it did and what to do, or "" when it held nothing up."""
        if not self.stalled or self.longest <= 0:
            return ""
        timeout = "timeout=" if direct else "--ragprobe-timeout"
        name = f"{self.method}()" if self.method else "method"
        # (late, with no long step of its own: the loop was held by code the meter does not see, e.g. a
        # task the method started)
        span = f" for up to {self.longest:.1f} s per call" if self.longest >= SLOW_STEP / 2 else ""
        count = f"{self.slow} of {self.attempts} attempts"
        head = f"the pipeline's async {name} blocks the event loop{span} ({count})"
        if self.late:
            limit = "timeout" if self.timeout is None else f"{self.timeout:g}s timeout"
            late = f"{self.late} attempt{'s' * (self.late != 1)} returned after it"
            what = (
                f"so the {limit} ({timeout}) could not stop it ({late}: counted as timeouts) and the "
                "probe's other calls waited meanwhile"
            )
        else:
            concurrency = "concurrency=" if direct else "--ragprobe-concurrency"
            what = (
                f"so the probe's calls ran one at a time, not {self.concurrency} at once ({concurrency}), "
                f"and a timeout ({timeout}) cannot stop such a call"
            )
        return (
            f"{head}, {what}: use an async client or asyncio.to_thread() in it, or make the method sync "
            "(ragprobe runs sync methods in threads)"
        )


def loop_note(notes: list[str]) -> str:
    """The note :meth:`LoopBlock.message` left on a probe's result ("" when none)."""
    found = (n for n in notes if n.startswith("the pipeline's async ") and " blocks the event loop " in n)
    return next(found, "")
