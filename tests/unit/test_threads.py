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
    for _ in range(1000):  # bounded: let the first calls fill the pool before any returns
        with lock:
            if running >= 3:
                break
        threading.Event().wait(0.01)
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


def _hang_until(started: threading.Event, release: threading.Event) -> str:
    started.set()
    release.wait(30)  # bounded, but the test releases it well before
    return "late"


def _alive(pool: DaemonThreadPool) -> int:
    return sum(t.is_alive() for t in pool._threads)


def test_a_call_cancelled_while_running_is_abandoned_and_its_slot_reused() -> None:
    """A hung call kept its thread: with one worker, later calls waited for ever behind it."""
    pool = DaemonThreadPool(1)
    started, release = threading.Event(), threading.Event()
    try:
        hung = pool.submit(_hang_until, started, release)
        assert started.wait(10)
        assert not hung.cancel()  # too late to stop it: asyncio's timeout does this
        assert pool.abandoned == 1
        assert [pool.submit(str, i).result(10) for i in range(3)] == ["0", "1", "2"]
        assert _alive(pool) == 2  # the abandoned thread plus its replacement
    finally:
        release.set()
    assert hung.result(10) == "late"  # the call still finishes; nobody is waiting for it
    for thread in list(pool._threads):
        if thread.name == "ragprobe_0":
            thread.join(10)  # the abandoned thread ends after its call instead of rejoining
            assert not thread.is_alive()
    assert pool.abandoned == 0
    pool.shutdown(wait=True)
    assert _alive(pool) == 0


def test_abandoned_calls_are_bounded_then_keep_their_slot() -> None:
    pool = DaemonThreadPool(1, max_abandoned=2)
    release = threading.Event()
    try:
        for _ in range(3):
            started = threading.Event()
            future = pool.submit(_hang_until, started, release)
            assert started.wait(10)
            assert not future.cancel()
        assert pool.abandoned == 2 and _alive(pool) == 3  # max_workers + max_abandoned threads
        queued = pool.submit(str, 1)
        assert not queued.running() and not queued.done()  # no free slot: it waits
    finally:
        release.set()
    assert queued.result(10) == "1"  # the third hung call returned and gave back its slot
    pool.shutdown(wait=True)


def test_watcher_hears_when_a_queued_call_starts() -> None:
    from pytest_ragprobe._threads import WATCHER

    events: list[str] = []

    class Watch:
        def submitted(self) -> None:
            events.append("submitted")

        def started(self) -> None:
            events.append("started")

    pool = DaemonThreadPool(1)
    token = WATCHER.set(Watch())
    try:
        assert pool.submit(str, 1).result(10) == "1"
    finally:
        WATCHER.reset(token)
    assert pool.submit(str, 2).result(10) == "2"  # no watcher set: nothing reported
    assert events == ["submitted", "started"]
    pool.shutdown()
