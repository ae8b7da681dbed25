"""engine.HoldBoard: the Retry-After holds the pytest-xdist workers of one machine share (a file per
pipeline identity and worker), and the adaptive gate that reads them before each attempt."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from pytest_ragprobe.engine import HoldBoard, _Gate


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
