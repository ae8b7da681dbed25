"""A SystemExit raised in a probe's own task, outside the engine's calls (a pipeline's ``index()``, which the
probe awaits itself): the caller gets it, and the event loop the probes share (runner.run_sync) is kept, as
for a call's sys.exit() (test_engine_pipeline_exit). It was dropped, so a pipeline's async clients bound to it
failed in every later probe. Ctrl-C still replaces it."""

from __future__ import annotations

import asyncio
import sys

import pytest

import pytest_ragprobe as ragprobe
from pytest_ragprobe import runner


async def _loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


class Indexes:
    """An async pipeline whose index() calls sys.exit() (in a task of its own when ``spawn``) until told not
    to; notes the event loops it ran in."""

    def __init__(self, spawn: bool = False) -> None:
        self.loops: set[int] = set()
        self.exit, self.spawn = True, spawn
        self.pages: list[str] = []

    async def _index(self, documents: list[ragprobe.Document]) -> None:
        if self.exit:
            sys.exit(5)
        self.pages = [d.text for d in documents]

    async def index(self, documents: list[ragprobe.Document]) -> None:
        self.loops.add(id(asyncio.get_running_loop()))
        if self.spawn:
            await asyncio.gather(asyncio.ensure_future(self._index(documents)))
        else:
            await self._index(documents)

    async def answer(self, question: str) -> str:
        self.loops.add(id(asyncio.get_running_loop()))
        tail = question.rstrip("?").rsplit(" ", 1)[1]
        return next((page for page in self.pages if tail in page), "")


@pytest.mark.parametrize("spawn", [False, True], ids=["in-the-probe", "in-a-task-of-its-own"])
def test_sys_exit_in_index_reaches_the_caller_and_the_loop_is_kept(spawn: bool) -> None:
    service = Indexes(spawn)
    first = runner.run_sync(_loop)
    with pytest.raises(SystemExit) as raised:
        ragprobe.check_reverse(service, "synthetic:4", max_drop=0.2)
    assert raised.value.code == 5
    assert raised.traceback[-1].frame.code.name == "_index"  # raised where the pipeline called it
    assert runner.run_sync(_loop) is first  # the same loop: not dropped
    service.exit = False
    result = ragprobe.check_reverse(service, "synthetic:4", max_drop=0.2)
    assert (result.verdict, result.calls, result.errors) == ("inconclusive", 8, 0)
    assert service.loops == {id(first)}


def test_sys_exit_in_a_sync_index_keeps_the_loop() -> None:
    def index(documents: list[ragprobe.Document]) -> None:  # (a sync method: run in a pool thread)
        sys.exit(5)

    first = runner.run_sync(_loop)
    with pytest.raises(SystemExit):
        ragprobe.check_reverse(ragprobe.Pipeline(answer=lambda q: "", index=index), "synthetic:4", max_drop=0.2)
    assert runner.run_sync(_loop) is first


def test_sys_exit_keeps_the_loop_thread_of_a_caller_inside_a_running_loop() -> None:
    service = Indexes()

    async def cell() -> tuple[asyncio.AbstractEventLoop, asyncio.AbstractEventLoop]:
        first = runner.run_sync(_loop)  # (ragprobe's own loop thread: this one is running)
        with pytest.raises(SystemExit):
            ragprobe.check_reverse(service, "synthetic:4", max_drop=0.2)
        return first, runner.run_sync(_loop)

    first, after = asyncio.run(cell())
    assert after is first


def test_a_keyboard_interrupt_in_index_still_replaces_the_loop() -> None:
    class Interrupted(Indexes):
        async def index(self, documents: list[ragprobe.Document]) -> None:
            raise KeyboardInterrupt

    first = runner.run_sync(_loop)
    with pytest.raises(KeyboardInterrupt):
        ragprobe.check_reverse(Interrupted(), "synthetic:4", max_drop=0.2)
    assert runner.run_sync(_loop) is not first  # the run stops: none of the old loop's tasks run on
