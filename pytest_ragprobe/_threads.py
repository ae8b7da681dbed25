"""A bounded thread pool whose threads do not hold the process open, and that replaces a thread
stuck in an abandoned call.

Sync pipeline calls run on a pool of ``concurrency`` threads (the engine's in-flight bound). A call
that times out is recorded as an error, but Python cannot stop the thread running it:

* With ``ThreadPoolExecutor`` (whose threads the interpreter joins at exit) one call that never
  returns (a socket read without a timeout) kept pytest from exiting after the run had finished, so
  a CI job ran into its own time limit instead of reporting. The threads here are daemon threads:
  the process exits when pytest is done, abandoning such a call.
* A hung call also kept its thread, so a few hung requests left later calls queued for a thread
  until they too "timed out" without ever being sent. Here a call is *abandoned* when its future is
  cancelled while it runs (what asyncio does to ``run_in_executor`` when the awaiting task times
  out): its thread keeps running it, but no longer counts against ``max_workers``, and a
  replacement thread takes the queued work. The thread exits when the abandoned call returns.

Bounds: at most ``max_workers`` calls that are not abandoned run at once (the rest queue), and at
most ``max_abandoned`` abandoned calls free their slot, so no more than ``max_workers +
max_abandoned`` threads are ever alive; past that an abandoned call keeps its slot, as before.
``shutdown(cancel_futures=True)`` cancels what has not started.

A caller that wants to know when its call leaves the queue (the engine: its timeout must not count
the wait for a thread) sets :data:`WATCHER` in the context that calls :meth:`submit`.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

_T = TypeVar("_T")


class Watcher(Protocol):
    def submitted(self) -> None:
        """Called by ``submit`` in the submitting thread."""

    def started(self) -> None:
        """Called in the worker thread as the call starts (not for a call cancelled while queued).
        Must be quick and must not block."""


#: Read by :meth:`DaemonThreadPool.submit` (``run_in_executor`` submits in the awaiting task's context).
WATCHER: ContextVar[Watcher | None] = ContextVar("ragprobe_pool_watcher", default=None)


@dataclass
class _Worker:
    current: Future[Any] | None = None
    abandoned: bool = False


class _PoolFuture(Future[_T]):
    """A future that tells its pool when it is cancelled too late to stop it: the call is abandoned."""

    def __init__(self, pool: DaemonThreadPool) -> None:
        super().__init__()
        self._pool = pool

    def cancel(self) -> bool:
        with self._pool._lock:  # serialised with the worker starting / finishing it
            if super().cancel():
                return True
            if self.running():  # not finished: the call goes on without anyone waiting for it
                self._pool._abandon(self)
            return False


_Work = tuple[_PoolFuture[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any], Watcher | None]


class DaemonThreadPool(Executor):
    """``ThreadPoolExecutor``'s bounded pool (threads made on demand, idle ones reused), with daemon
    threads that the interpreter does not wait for at exit, and abandoned calls replaced (at most
    ``max_workers + max_abandoned`` threads alive; ``max_abandoned`` defaults to ``4 * max_workers``)."""

    def __init__(
        self, max_workers: int, thread_name_prefix: str = "ragprobe", max_abandoned: int | None = None
    ) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        self._max_workers = max_workers
        # Bounds the threads left running hung calls (each holds a socket and a stack).
        self._max_abandoned = 4 * max_workers if max_abandoned is None else max(0, max_abandoned)
        self._prefix = thread_name_prefix
        self._work: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []  # alive ones (dead abandoned threads pruned)
        self._workers: dict[threading.Thread, _Worker] = {}
        self._slots = 0  # threads counting against max_workers (idle or running a live call)
        self.abandoned = 0  # threads running an abandoned call
        self._started = 0
        self._lock = threading.RLock()
        self._shutdown = False

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        future: _PoolFuture[_T] = _PoolFuture(self)
        watcher = WATCHER.get()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if watcher is not None:
                watcher.submitted()
            self._work.put((future, fn, args, kwargs, watcher))
            if not self._idle.acquire(blocking=False):
                self._spawn()
        return future

    def _spawn(self) -> None:
        """Start a thread if a slot is free (call with the lock held)."""
        if self._slots >= self._max_workers or self._shutdown:
            return
        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=self._run, name=f"{self._prefix}_{self._started}", daemon=True)
        self._started += 1
        self._workers[thread] = _Worker()
        self._slots += 1
        self._threads.append(thread)
        thread.start()

    def _abandon(self, future: Future[Any]) -> None:
        """``future`` was cancelled while running (call with the lock held): free its slot."""
        if self.abandoned >= self._max_abandoned:
            return  # thread bound reached: the call keeps its slot
        for worker in self._workers.values():
            if worker.current is future and not worker.abandoned:
                worker.abandoned = True
                self.abandoned += 1
                self._slots -= 1
                if not self._work.empty():  # queued work needs the replacement now
                    self._spawn()
                return

    def _run(self) -> None:
        worker = self._workers[threading.current_thread()]
        while True:
            work = self._work.get()
            if work is None:
                self._work.put(None)  # wake the next idle thread: it stops too
                with self._lock:
                    self._slots -= 1
                    del self._workers[threading.current_thread()]
                return
            future, fn, args, kwargs, watcher = work
            del work
            with self._lock:  # a cancel() either wins before this or abandons a running call
                run = future.set_running_or_notify_cancel()
                if run:
                    worker.current = future
                    if watcher is not None:
                        with contextlib.suppress(Exception):  # e.g. the caller's loop is closed
                            watcher.started()
            if run:
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del future, fn, args, kwargs, watcher  # no references kept while idle
            with self._lock:
                worker.current = None
                if worker.abandoned:  # a replacement holds our slot: this thread ends
                    self.abandoned -= 1
                    del self._workers[threading.current_thread()]
                    return
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while True:
                    try:
                        work = self._work.get_nowait()
                    except queue.Empty:
                        break
                    if work is not None:
                        Future.cancel(work[0])  # not queued any more: nothing to abandon
            self._work.put(None)
            threads = list(self._threads)
        if wait:
            for thread in threads:
                thread.join()
