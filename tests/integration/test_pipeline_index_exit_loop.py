"""Acceptance: a pipeline whose ``index()`` calls ``sys.exit()`` (outside the engine's calls, so not carried as
a PipelineExit) is that probe's ERROR, naming the line, and the probes after it in the session still run on
the event loop they share. The loop was dropped, so a pipeline's async client bound to it (here a real
asyncio.Event) failed every later probe with "is bound to a different event loop"."""

from __future__ import annotations

import json

import pytest
from factories import facts_yaml

CONFTEST = """
import asyncio
import sys

import pytest

class Rag:
    def __init__(self):
        self.ready = asyncio.Event()  # bound to the loop it first waits on, as an async client is
        self.exits = True
        self.pages = []

    async def _round_trip(self):
        self.ready.clear()
        asyncio.get_running_loop().call_soon(self.ready.set)
        await self.ready.wait()

    {index}

    async def answer(self, question):
        await self._round_trip()
        tail = question.rstrip("?").rsplit(" ", 1)[1]
        known = [page for page in self.pages if tail in page]  # synthetic facts: the page indexed
        if known:
            return known[0]
        return tail.replace("P-", "C-") if question.startswith("Which controller") else tail.replace("C-", "P-")

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return Rag()
"""

ASYNC_INDEX = """async def index(self, documents):
        await self._round_trip()
        if self.exits:
            self.exits = False
            sys.exit(4)
        self.pages = [d.text for d in documents]"""

SYNC_INDEX = """def index(self, documents):
        if self.exits:
            self.exits = False
            sys.exit(4)
        self.pages = [d.text for d in documents]"""

TESTS = """
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="facts.yaml", max_drop=0.2)
def test_1_before(ragprobe_result):
    pass

@ragprobe.reverse(facts="synthetic:4", max_drop=0.2)
def test_2_index_exits(ragprobe_result):
    pass

@ragprobe.reverse(facts="facts.yaml", max_drop=0.2)
def test_3_after(ragprobe_result):
    pass

@ragprobe.reverse(facts="synthetic:4", max_drop=0.2)
def test_4_index_again(ragprobe_result):
    pass
"""

TAIL = (
    ": pytest-ragprobe takes it as this probe's error, as pytest takes a SystemExit raised in a test "
    "(the other tests still run)"
)


@pytest.mark.parametrize("index", ["async", "sync"])
@pytest.mark.parametrize("xdist", [("-p", "no:xdist"), ("-n", "2", "--dist", "loadfile")], ids=["plain", "xdist"])
def test_sys_exit_in_index_errors_that_probe_and_later_probes_share_the_loop(
    pytester: pytest.Pytester, index: str, xdist: tuple[str, ...]
) -> None:
    conftest = CONFTEST.replace("{index}", ASYNC_INDEX if index == "async" else SYNC_INDEX)
    pytester.makeconftest(conftest)
    pytester.makefile(".yaml", facts=facts_yaml(4))
    pytester.makepyfile(test_probes=TESTS)  # (one file: --dist loadfile runs it in order on one worker)
    result = pytester.runpytest(
        "-p", "no:randomly", "--ragprobe-no-cache", "--ragprobe-concurrency=1", "--ragprobe-report=out", *xdist
    )
    result.assert_outcomes(errors=1, passed=3)
    line = conftest.lstrip("\n").splitlines().index("            sys.exit(4)") + 1
    said = f"the pipeline called sys.exit(4) at conftest.py:{line}{TAIL}"
    result.stdout.fnmatch_lines([f"pytest-ragprobe: {said}", "*conftest.py*, in index", "*sys.exit(4)"])
    result.stdout.no_fnmatch_line("*different event loop*")
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    probes = {p["nodeid"].rsplit("::", 1)[1]: p for p in report["probes"]}
    assert probes["test_2_index_exits"]["verdict"] == "error"
    assert probes["test_2_index_exits"]["reason"] == said
    for name in ("test_1_before", "test_3_after", "test_4_index_again"):  # (n=4: too few to PASS)
        assert (probes[name]["verdict"], probes[name]["calls"], probes[name]["errors"]) == ("inconclusive", 8, 0)


INTERRUPT = """
import pytest

class Rag:
    async def index(self, documents):
        raise KeyboardInterrupt

    async def answer(self, question):
        return ""

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return Rag()
"""


def test_a_keyboard_interrupt_in_index_still_stops_the_run(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(INTERRUPT)
    pytester.makefile(".yaml", facts=facts_yaml(4))
    pytester.makepyfile(test_probes=TESTS)
    # (in a subprocess: raised in-process, the interrupt would stop this test run too)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:xdist", "--ragprobe-no-cache", "-v")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*KeyboardInterrupt*"])
    result.stdout.no_fnmatch_line("test_probes.py::test_3_after *")  # (-v: a test that ran is listed so)
