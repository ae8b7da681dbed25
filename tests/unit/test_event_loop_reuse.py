"""Probes of one process share an event loop (runner.run_sync): a pipeline's own async client binds to the
loop it is first used in (httpx.AsyncClient, AsyncOpenAI, a database pool), and with a new loop per probe
every probe after the first failed with "Event loop is closed"."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(30)]


class LoopBoundService:
    """Answers through a client bound to the first event loop it is used in, as httpx.AsyncClient is."""

    def __init__(self) -> None:
        self.loops: set[int] = set()
        self.bound: asyncio.AbstractEventLoop | None = None

    async def answer(self, question: str) -> str:
        loop = asyncio.get_running_loop()
        self.bound = self.bound or loop
        if self.bound is not loop:
            raise RuntimeError("Event loop is closed")
        self.loops.add(id(loop))
        await asyncio.sleep(0)
        if "controller is compatible with pump" in question:
            return "C-" + question.rsplit("P-", 1)[1].rstrip("?")
        return "P-" + question.rsplit("C-", 1)[1].rstrip("?")


def test_probes_in_a_row_share_one_event_loop() -> None:
    service = LoopBoundService()
    for _ in range(3):
        result = ragprobe.check_reverse(service, FACTS, max_drop=0.2)
        assert (result.verdict, result.errors) == ("pass", 0)
    assert len(service.loops) == 1


def test_probes_started_inside_a_running_loop_share_one_too() -> None:
    # (a notebook cell, an async test: the probes run in ragprobe's own loop thread, kept between them)
    service = LoopBoundService()

    async def cell() -> list[str]:
        return [ragprobe.check_reverse(service, FACTS, max_drop=0.2).verdict for _ in range(2)]

    assert asyncio.run(cell()) == ["pass", "pass"]
    assert len(service.loops) == 1


def test_a_probe_error_keeps_the_loop_and_an_interrupt_replaces_it() -> None:
    from pytest_ragprobe import runner

    async def boom() -> None:
        raise ValueError("the probe's own error")

    async def interrupted() -> None:
        raise KeyboardInterrupt

    async def loop_id() -> int:
        return id(asyncio.get_running_loop())

    first = runner.run_sync(loop_id)
    with pytest.raises(ValueError, match="the probe's own error"):
        runner.run_sync(boom)
    assert runner.run_sync(loop_id) == first
    with pytest.raises(KeyboardInterrupt):
        runner.run_sync(interrupted)
    assert runner.run_sync(loop_id) != first  # a fresh loop after Ctrl-C: none of the old one's tasks run on


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="SIGALRM")
@pytest.mark.parametrize("fail", [False, True], ids=["TimeoutError", "pytest-timeout's pytest.fail"])
def test_an_error_raised_into_the_loop_from_outside_stops_the_probe_it_interrupted(fail: bool) -> None:
    """A SIGALRM handler raising an Exception (a home-made timeout's TimeoutError, pytest.exit) leaves
    run_until_complete with the probe's task still pending: kept on the loop, it went on calling the
    pipeline during the next probe (measured: an interrupted probe's calls among the next one's).
    pytest-timeout's signal method raises pytest.fail (a BaseException): the loop was dropped then, and a
    pipeline's async clients bound to it broke in later probes."""
    from pytest_ragprobe import runner

    events: list[str] = []

    async def interrupted() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        try:
            await asyncio.sleep(0.3)
            events.append("the interrupted probe went on")
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    async def next_probe() -> int:
        await asyncio.sleep(0.6)
        return id(asyncio.get_running_loop())

    async def loop_id() -> int:
        return id(asyncio.get_running_loop())

    def alarm(signum: int, frame: object) -> None:
        if fail:
            pytest.fail("Timeout (>0.05s) from a signal handler")
        raise TimeoutError("from a signal handler")

    first = runner.run_sync(loop_id)
    old = signal.signal(signal.SIGALRM, alarm)
    try:
        with pytest.raises(pytest.fail.Exception if fail else TimeoutError, match="from a signal handler"):
            runner.run_sync(interrupted)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert runner.run_sync(next_probe) == first  # the loop is kept (the pipeline's clients stay bound to it)
    assert events == ["cancelled"]


MARKED = """
import asyncio
import pytest
import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(30)]

class Service:
    bound = None

    async def answer(self, question):
        loop = asyncio.get_running_loop()
        type(self).bound = type(self).bound or loop
        if type(self).bound is not loop:
            raise RuntimeError("Event loop is closed")
        if "controller is compatible with pump" in question:
            return "C-" + question.rsplit("P-", 1)[1].rstrip("?")
        return "P-" + question.rsplit("C-", 1)[1].rstrip("?")

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return Service()

@ragprobe.reverse(facts=FACTS, max_drop=0.2)
def test_first():
    pass

@ragprobe.reverse(facts=FACTS, max_drop=0.2, seed=1)
def test_second():
    pass
"""


def test_marked_probes_of_a_session_pipeline_share_its_loop(tmp_path: Path) -> None:
    # Was: the second probe ended in an ERROR ("5 of 5 pipeline calls failed ... Event loop is closed").
    (tmp_path / "test_svc.py").write_text(MARKED)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--ragprobe-no-cache", "test_svc.py"],
        check=False, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert "2 passed" in run.stdout
