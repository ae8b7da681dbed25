"""engine.HoldBoard: the Retry-After holds the pytest-xdist workers of one machine share (a file per
pipeline identity and worker), and the adaptive gate that reads them before each attempt."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from factories import VirtualClockLoop

from pytest_ragprobe.engine import Call, Engine, EngineSettings, HoldBoard, _Gate
from pytest_ragprobe.pipeline import PipelineAdapter


class RateLimited(Exception):
    """HTTP 429 without a Retry-After."""

    def __init__(self) -> None:
        super().__init__("status 429")
        self.response = SimpleNamespace(status_code=429, headers={}, text="slow down", url="http://x/answer")


def test_a_hold_one_worker_publishes_is_read_by_the_others(tmp_path: Path) -> None:
    gw0, gw1 = HoldBoard(tmp_path / "holds", "gw0"), HoldBoard(tmp_path / "holds", "gw1")
    assert gw1.until("http://a") == 0.0  # no directory yet: no hold
    gw0.publish("http://a", 1000.5)
    assert gw1.until("http://a") == 1000.5
    assert gw1.until("http://b") == 0.0  # another pipeline is not held
    gw1.publish("http://a", 2000.25)
    assert gw0.until("http://a") == 2000.25  # the latest end over the workers
    gw0.publish("http://a", 900.0)  # an earlier end does not shorten a hold
    assert gw1.until("http://a") == 2000.25
    assert sorted(p.name.split(".")[1] for p in (tmp_path / "holds").iterdir()) == ["gw0", "gw1"]


def test_damaged_or_half_written_files_are_no_hold(tmp_path: Path) -> None:
    board = HoldBoard(tmp_path, "gw0")
    board.publish("k", 50.0)
    prefix = board._prefix("k")
    (tmp_path / f"{prefix}gw1").write_text("not a time")
    (tmp_path / f"{prefix}gw2.tmp").write_text("99999")  # a write not replaced into place yet
    assert HoldBoard(tmp_path, "gw3").until("k") == 50.0


def test_a_board_that_cannot_be_written_is_no_hold(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    board = HoldBoard(blocker / "holds", "gw0")  # its directory cannot be made
    board.publish("k", time.time() + 60)
    assert board.until("k") == 0.0


async def _hold_seen_by_another_gate(board_a: HoldBoard, board_b: HoldBoard) -> tuple[float, int | None]:
    loop = asyncio.get_running_loop()
    told, other = _Gate(4, board=board_a, key="svc"), _Gate(4, board=board_b, key="svc")
    window = await told.enter()
    assert window is not None
    told.rate_limited(window, 0.4)  # the service said "Retry-After: 0.4" to this process
    told.leave()
    # a retried call of the other process whose deadline ends before the hold is not sent
    assert await other.enter(deadline=loop.time() + 0.1) is None
    start = loop.time()
    assert await other.enter() == 0
    return loop.time() - start, other.window


def test_another_process_waits_out_a_retry_after_this_one_was_told(tmp_path: Path) -> None:
    waited, window = asyncio.run(
        _hold_seen_by_another_gate(HoldBoard(tmp_path, "gw0"), HoldBoard(tmp_path, "gw1"))
    )
    assert waited >= 0.35  # (0.4 s less the time spent before it)
    assert window == 0  # the hold alone does not halve the other worker's concurrency


async def _unshared() -> float:
    loop = asyncio.get_running_loop()
    told, other = _Gate(4, key="svc"), _Gate(4, key="svc")
    window = await told.enter()
    assert window is not None
    told.rate_limited(window, 5.0)
    start = loop.time()
    await other.enter()
    return loop.time() - start


def test_without_a_board_gates_hold_only_their_own_calls() -> None:
    assert asyncio.run(_unshared()) < 1.0


async def _retries_another_worker_sleeps(board_a: HoldBoard, board_b: HoldBoard) -> tuple[float, float, float]:
    loop = asyncio.get_running_loop()
    told, other = _Gate(4, board=board_a, key="svc"), _Gate(4, board=board_b, key="svc")
    window = await told.enter()
    assert window is not None
    start = loop.time()
    told.rate_limited(window, 0.2)  # "Retry-After: 0.2" to this process
    told.leave()
    told.sleeping(start + 0.6)  # its retry sleeps the hold out, jittered past its end
    assert await other.enter(retry=True) is not None  # the other's retried call: the hold only
    retried = loop.time() - start
    other.leave()
    await told.enter()  # this process's own new call: its own retries are counted in-process
    own = loop.time() - start
    told.leave()
    await other.enter()  # the other's new call waits for those retries too
    return retried, own, loop.time() - start


def test_new_calls_wait_for_the_retries_another_worker_sleeps_out_a_hold(tmp_path: Path) -> None:
    """A worker's retries sleeping out a Retry-After (+ up to 20% jitter) held only its own new calls: the
    other workers' went at the hold's end, spent the service's allowance, and the retries met a 429 again
    (2 workers x 60 calls against 10 calls/s: 4-9 calls gave up per run, 0-3 now). On a virtual clock,
    shared by the two boards, so the waits below are the gates' own, not the machine's."""
    loop = VirtualClockLoop()

    class Board(HoldBoard):
        def now(self) -> float:
            return 1e6 + loop.time()

    try:
        retried, own, new = loop.run_until_complete(
            _retries_another_worker_sleeps(Board(tmp_path, "gw0"), Board(tmp_path, "gw1"))
        )
    finally:
        loop.close()
    assert retried == pytest.approx(0.2, abs=0.01)  # a retry waits for the hold alone
    assert own == pytest.approx(0.2, abs=0.01)  # (its own process's sleeping retries: counted by asleep)
    assert new == pytest.approx(0.6, abs=0.01)  # was at the hold's end, 0.2


def test_a_retry_sleeping_through_a_hold_another_worker_published_holds_new_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call turned away with a 429 that says no Retry-After while another worker's hold is in force:
    its retry counted as "asleep" (new calls wait for it) only with a hold of its own process, so the
    next call went first, at the hold's end, and spent the service's allowance before the retry."""
    from pytest_ragprobe import engine as engine_module

    monkeypatch.setattr(engine_module, "_BOARD", HoldBoard(tmp_path, "gw0"))
    other = HoldBoard(tmp_path, "gw1")
    sent: list[str] = []

    async def answer(q: str) -> str:
        sent.append(q)
        if sent == ["q0"]:
            await asyncio.sleep(0.01)  # (q1 is sent meanwhile)
            other.publish(adapter.cache_identity, time.time() + 0.3)  # the service told the other worker
            raise RateLimited()
        await asyncio.sleep(0.05)
        return q

    adapter = PipelineAdapter(answer)
    # the retry's backoff (0.4-0.8 s, jittered) ends after the hold; q1 is in flight meanwhile
    settings = EngineSettings(concurrency=2, retries=1, backoff=0.8, max_backoff=0.8)
    out = asyncio.run(Engine(adapter, settings).run([Call("answer", f"q{i}") for i in range(3)]))
    assert all(o.ok for o in out)
    assert sent == ["q0", "q1", "q0", "q2"]  # q2 was sent at the hold's end (0.3 s), before q0's retry
