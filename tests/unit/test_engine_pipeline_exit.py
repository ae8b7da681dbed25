"""A pipeline that calls sys.exit() under the direct API (check_reverse): the caller gets that SystemExit, as
from any code it calls, and the event loop the probes share (runner.run_sync) is kept: let out of an asyncio
task, the SystemExit stopped the loop, which was dropped, so the pipeline's own async clients bound to it
failed in every later probe."""

from __future__ import annotations

import asyncio
import sys

import pytest

import pytest_ragprobe as ragprobe
from pytest_ragprobe import runner

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(30)]


class Exits:
    """Calls sys.exit() until told not to; notes the event loops it ran in."""

    def __init__(self) -> None:
        self.loops: set[int] = set()
        self.exit = True

    async def answer(self, question: str) -> str:
        self.loops.add(id(asyncio.get_running_loop()))
        if self.exit:
            sys.exit(3)
        if "controller is compatible with pump" in question:
            return "C-" + question.rsplit("P-", 1)[1].rstrip("?")
        return "P-" + question.rsplit("C-", 1)[1].rstrip("?")


async def _loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
def test_sys_exit_reaches_the_caller_and_the_loop_is_kept(sync: bool) -> None:
    service = Exits()

    def answer(question: str) -> str:  # (a sync pipeline: called in a pool thread)
        sys.exit(3)

    first = runner.run_sync(_loop)
    with pytest.raises(SystemExit) as raised:
        ragprobe.check_reverse(answer if sync else service, FACTS, max_drop=0.2, concurrency=2)
    assert raised.value.code == 3
    assert raised.traceback[-1].frame.code.name == "answer"  # raised where the pipeline called it
    service.exit = False
    assert runner.run_sync(_loop) is first  # the same loop: not dropped
    assert ragprobe.check_reverse(service, FACTS, max_drop=0.2).verdict == "pass"
    assert service.loops == {id(first)}
