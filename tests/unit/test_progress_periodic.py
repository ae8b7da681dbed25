"""Progress without a terminal (CI logs, pipes): plain status lines once a probe has run a while."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pytest_ragprobe import progress
from pytest_ragprobe.engine import EngineStats
from pytest_ragprobe.progress import LiveLine, PeriodicLine


class Reporter:
    """What PeriodicLine uses of pytest's terminal reporter, as a transcript."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.currentfspath: object = "somewhere"

    def ensure_newline(self) -> None:
        self.out.append("<newline>")

    def write(self, text: str) -> None:
        self.out.append(text)

    def write_fspath_result(self, nodeid: str, res: str) -> None:
        self.out.append(f"<{nodeid}>")

    def flush(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lines(reporter: Reporter) -> list[str]:
    return [t for t in reporter.out if t.startswith("ragprobe ")]


def test_a_probe_that_ends_within_the_interval_prints_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(progress.time, "monotonic", clock)
    reporter = Reporter()
    line = PeriodicLine(reporter, None, "t.py::test_a")
    for done in range(1, 11):
        clock.now += 2.9  # 29 s in all
        line(done, 10, EngineStats(total=10, done=done, calls=done))
    assert reporter.out == []


def test_a_long_probe_prints_once_per_interval_and_its_end(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(progress.time, "monotonic", clock)
    reporter = Reporter()
    line = PeriodicLine(reporter, None, "t.py::test_a")
    for done in range(1, 11):  # one call every 10 s: 100 s
        clock.now += 10.0
        line(done, 10, EngineStats(total=10, done=done, calls=done))
    shown = lines(reporter)
    assert [s.split(",")[0] for s in shown] == [
        "ragprobe test_a: 3/10 calls", "ragprobe test_a: 6/10 calls", "ragprobe test_a: 9/10 calls",
        "ragprobe test_a: 10/10 calls",
    ]
    assert "done in" in shown[-1] and "ETA" in shown[0]
    # left open, with no current file: pytest ends the line and writes the file name before the result
    assert reporter.out == [
        "<newline>", shown[0], "\n", shown[1], "\n", shown[2], "\n", shown[3], "<t.py::test_a>",
    ]
    assert reporter.currentfspath is None


def test_a_sequential_probes_batches_count_on_and_a_quiet_batch_stays_quiet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    monkeypatch.setattr(progress.time, "monotonic", clock)
    reporter = Reporter()
    line = PeriodicLine(reporter, None, "t.py::test_seq", verbose=True)
    for done in range(1, 5):  # a first batch of 4 in 40 s: one line at 30 s, then its end
        clock.now += 10.0
        line(done, 4, EngineStats(total=4, done=done, calls=done))
    for done in range(1, 5):  # a second batch of 4 in 40 s: a line when the interval is up again, its end
        clock.now += 10.0
        line(done, 4, EngineStats(total=4, done=done, calls=done))
    for done in range(1, 5):  # a third batch of 4 in 8 s: nothing
        clock.now += 2.0
        line(done, 4, EngineStats(total=4, done=done, calls=done))
    assert [s.split(",")[0] for s in lines(reporter)] == [
        "ragprobe test_seq: 3/4 calls", "ragprobe test_seq: 4/4 calls", "ragprobe test_seq: 7/8 calls",
        "ragprobe test_seq: 8/8 calls",
    ]
    # the first line starts a line of its own, the others end the one before; pytest ends the last
    assert reporter.out[:2] == ["<newline>", lines(reporter)[0]] and reporter.out[2] == "\n"
    assert reporter.out.count("<newline>") == 1 and not any(t.startswith("<t.py") for t in reporter.out)


def test_progress_never_breaks_a_run() -> None:
    class Broken(Reporter):
        def write(self, text: str) -> None:
            raise OSError("closed")

    line = PeriodicLine(Broken(), None, "t.py::test_a", interval=0.0)
    line(1, 2, EngineStats(total=2, done=1, calls=1))  # no exception


@pytest.mark.parametrize("tty,kind", [(True, LiveLine), (False, PeriodicLine)])
def test_a_terminal_gets_the_live_line_and_a_log_the_periodic_one(tty: bool, kind: type) -> None:
    class Plugins:
        def get_plugin(self, name: str) -> Any:
            return SimpleNamespace(isatty=tty) if name == "terminalreporter" else None

    def config(verbose: int, **extra: Any) -> Any:
        return SimpleNamespace(
            pluginmanager=Plugins(), option=SimpleNamespace(verbose=verbose), get_verbosity=lambda: verbose, **extra
        )

    assert isinstance(progress.make_progress(config(0), "t.py::test_a"), kind)
    assert progress.make_progress(config(-2), "t.py::test_a") is None  # -q -q
    assert progress.make_progress(config(0, workerinput={}), "t.py::test_a") is None  # an xdist worker
