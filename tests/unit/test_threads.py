"""_threads.DaemonThreadPool: ThreadPoolExecutor's contract, with daemon threads."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError

import pytest

from pytest_ragprobe._threads import DaemonThreadPool


def test_results_exceptions_and_at_most_max_workers_at_once() -> None:
    pool = DaemonThreadPool(3)
    lock = threading.Lock()
    running, peak = 0, 0
    release = threading.Event()

    def work(i: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        release.wait(10)
        with lock:
            running -= 1
        if i == 7:
            raise ValueError("seven")
        return i * i

    futures = [pool.submit(work, i) for i in range(10)]
    release.set()
    assert [f.result(10) for f in futures if f is not futures[7]] == [i * i for i in range(10) if i != 7]
    with pytest.raises(ValueError, match="seven"):
        futures[7].result(10)
    assert peak == 3
    assert len(pool._threads) == 3 and all(t.daemon for t in pool._threads)
    pool.shutdown(wait=True)
    assert not any(t.is_alive() for t in pool._threads)


def test_idle_threads_are_reused() -> None:
    pool = DaemonThreadPool(4)
    for i in range(20):
        assert pool.submit(lambda x: x + 1, i).result(10) == i + 1  # one at a time
    assert len(pool._threads) == 1
    pool.shutdown()


def test_shutdown_cancels_what_has_not_started_and_refuses_new_work() -> None:
    pool = DaemonThreadPool(1)
    started, hang = threading.Event(), threading.Event()

    def blocked() -> str:
        started.set()
        hang.wait()  # never set: a call that does not return
        return "never"

    first = pool.submit(blocked)
    queued = [pool.submit(str, i) for i in range(3)]
    assert started.wait(10)
    pool.shutdown(wait=False, cancel_futures=True)
    assert all(f.cancelled() for f in queued)
    with pytest.raises(CancelledError):
        queued[0].result(0)
    assert first.running()  # abandoned, on a daemon thread: the process may still exit
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(str, 1)


def test_max_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_workers must be >= 1, got 0"):
        DaemonThreadPool(0)
