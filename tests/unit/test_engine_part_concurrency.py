"""A ``max_concurrency`` declared by a part of the pipeline (the local reader behind
``ragprobe.Pipeline(retrieve=search, generate=reader)``, the reference pipeline's methods composed anew)
caps the calls in flight as it does on the pipeline itself: it was read only on the object handed over,
so the parts of a Pipeline(...) got the run's 8 concurrent calls, which queued behind the reader's lock
and spent their timeouts there."""

from __future__ import annotations

import threading

from pytest_ragprobe.engine import Call
from pytest_ragprobe.pipeline import Pipeline
from pytest_ragprobe.runner import context_for, run_sync
from pytest_ragprobe.types import Document


class Reader:
    max_concurrency = 1

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self.lock = threading.Lock()

    def generate(self, question: str, documents: list[Document]) -> str:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        threading.Event().wait(0.002)
        with self.lock:
            self.active -= 1
        return question


def search(query: str, k: int) -> list[str]:
    return ["doc"]


def test_a_parts_max_concurrency_caps_the_calls_in_flight() -> None:
    for reader, pipeline in [
        (r := Reader(), Pipeline(retrieve=search, generate=r.generate)),  # its bound method
        (r2 := Reader(), Pipeline(retrieve=search, generate=r2)),  # the object with the method
    ]:
        ctx = context_for(pipeline, "check_reverse")
        assert ctx.make_engine("").settings.concurrency == 1
        outcomes = run_sync(lambda ctx=ctx: ctx.run_calls([Call("answer", f"q{i}") for i in range(12)]))
        assert all(o.ok for o in outcomes)
        assert reader.peak == 1


def test_the_lowest_cap_of_the_parts_counts_and_none_leaves_the_setting() -> None:
    class Two(Reader):
        max_concurrency = 2

    class Three(Reader):
        max_concurrency = 3

    pipeline = Pipeline(retrieve=Three().generate, generate=Two().generate)
    assert context_for(pipeline, "check_reverse").make_engine("").settings.concurrency == 2
    assert context_for(Pipeline(answer=lambda q: q), "check_reverse").make_engine("").settings.concurrency == 8


def test_only_the_parts_the_calls_reach_cap_them() -> None:
    # a reverse probe's answers never reach the generate-only reader beside the answer function
    ctx = context_for(Pipeline(answer=lambda q: q, generate=Reader()), "check_reverse")
    assert ctx.make_engine("", {"answer"}).settings.concurrency == 8
    assert ctx.make_engine("", {"generate"}).settings.concurrency == 1
