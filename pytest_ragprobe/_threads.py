"""A bounded thread pool whose threads do not hold the process open.

Sync pipeline calls run on a pool of ``concurrency`` threads (the engine's in-flight bound). A call
that times out is recorded as an error, but Python cannot stop the thread running it: with
``ThreadPoolExecutor`` (whose threads the interpreter joins at exit) one call that never returns (a
socket read without a timeout) kept pytest from exiting after the run had finished, so a CI job ran
into its own time limit instead of reporting. The threads here are daemon threads: the process exits
when pytest is done, abandoning such a call. Same contract otherwise: at most ``max_workers`` calls
run at once (a hung call keeps its thread), the rest queue; ``shutdown(cancel_futures=True)`` cancels
what has not started.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

_T = TypeVar("_T")
_Work = tuple["Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class DaemonThreadPool(Executor):
    """``ThreadPoolExecutor``'s bounded pool (threads made on demand, idle ones reused), with daemon
    threads that the interpreter does not wait for at exit."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "ragprobe") -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        self._max_workers = max_workers
        self._prefix = thread_name_prefix
        self._work: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        future: Future[_T] = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._work.put((future, fn, args, kwargs))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max_workers:
                thread = threading.Thread(
                    target=self._run, name=f"{self._prefix}_{len(self._threads)}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        return future

    def _run(self) -> None:
        while True:
            work = self._work.get()
            if work is None:
                self._work.put(None)  # wake the next idle thread: it stops too
                return
            future, fn, args, kwargs = work
            del work
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del future, fn, args, kwargs  # no references kept while idle
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
                        work[0].cancel()
            self._work.put(None)
        if wait:
            for thread in self._threads:
                thread.join()
