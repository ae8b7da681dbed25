"""Progress under pytest-xdist: a worker sends its periodic lines (WorkerLine), the controller prints them
(Relay) on a line of their own, prefixed with the worker. The end-to-end runs: tests/integration/
test_progress_xdist.py."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_ragprobe import progress
from pytest_ragprobe.engine import EngineStats
from pytest_ragprobe.plugin import _RelayHooks
from pytest_ragprobe.progress import PeriodicLine, Relay, WorkerLine


class Channel:
    def __init__(self) -> None:
        self.sent: list[object] = []
        self.callback: Any = None

    def send(self, item: object) -> None:
        self.sent.append(item)

    def setcallback(self, callback: Any) -> None:
        self.callback = callback


class Writer:
    """pytest's TerminalWriter, as far as the relay looks at it: the width of the current line."""

    def __init__(self) -> None:
        self.text = ""

    @property
    def width_of_current_line(self) -> int:
        return len(self.text.rsplit("\n", 1)[-1])


class Reporter:
    def __init__(self) -> None:
        self._tw = Writer()
        self.currentfspath: object = None

    def write(self, text: str) -> None:
        self._tw.text += text

    def flush(self) -> None:
        pass


def run_probe(make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    line = make()
    for done in range(1, 11):  # one call every 10 s: 100 s
        clock[0] += 10.0
        line(done, 10, EngineStats(total=10, done=done, calls=done))


def test_a_worker_sends_the_lines_a_log_would_show_at_the_same_times(monkeypatch: pytest.MonkeyPatch) -> None:
    class Plain:
        def __init__(self) -> None:
            self.currentfspath: object = None
            self.written: list[str] = []

        def ensure_newline(self) -> None:
            pass

        def write(self, text: str) -> None:
            if text.startswith("ragprobe "):
                self.written.append(text)

        def write_fspath_result(self, nodeid: str, res: str) -> None:
            pass

        def flush(self) -> None:
            pass

    reporter = Plain()
    run_probe(lambda: PeriodicLine(reporter, None, "t.py::test_a"), monkeypatch)
    channel = Channel()
    run_probe(lambda: WorkerLine(channel, "t.py::test_a"), monkeypatch)
    assert [str(s).split(",")[0] for s in channel.sent] == [s.split(",")[0] for s in reporter.written]
    assert [str(s).split(",")[0] for s in channel.sent] == [
        "ragprobe test_a: 3/10 calls", "ragprobe test_a: 6/10 calls", "ragprobe test_a: 9/10 calls",
        "ragprobe test_a: 10/10 calls",
    ]


def test_a_closed_channel_never_breaks_a_probe() -> None:
    class Closed:
        def send(self, item: object) -> None:
            raise OSError("cannot send to <Channel id=3 closed>")

    WorkerLine(Closed(), "t.py::test_a", interval=0.0)(1, 2, EngineStats(total=2, done=1, calls=1))


def test_a_worker_gets_a_worker_line_only_with_the_controllers_channel() -> None:
    def config(verbose: int, workerinput: dict[str, Any]) -> Any:
        return SimpleNamespace(
            option=SimpleNamespace(verbose=verbose), get_verbosity=lambda: verbose, workerinput=workerinput
        )

    channel = Channel()
    line = progress.make_progress(config(0, {progress.WORKER_CHANNEL: channel}), "t.py::test_a")
    assert isinstance(line, WorkerLine) and line.channel is channel
    assert progress.make_progress(config(0, {}), "t.py::test_a") is None  # a controller that sent none
    assert progress.make_progress(config(0, {progress.WORKER_CHANNEL: "?"}), "t.py::test_a") is None
    assert progress.make_progress(config(-2, {progress.WORKER_CHANNEL: channel}), "t.py::test_a") is None


def test_the_controller_prints_a_line_of_its_own_after_the_dots() -> None:
    reporter = Reporter()
    relay = Relay(reporter, verbose=False)
    show = relay.receiver("gw1")
    reporter.write("..")
    show("ragprobe test_a: 3/10 calls")
    show("ragprobe test_a: 6/10 calls")
    reporter.write(".")  # pytest's next result
    assert reporter._tw.text == "..\n[gw1] ragprobe test_a: 3/10 calls\n[gw1] ragprobe test_a: 6/10 calls\n."
    show(["not", "a", "line"])  # (ignored)
    assert reporter._tw.text.endswith("\n.")


def test_with_v_the_line_is_left_for_pytest_to_end() -> None:
    reporter = Reporter()
    reporter.write("\ntest_a.py::test_a ")
    reporter.currentfspath = "test_a.py::test_a "
    Relay(reporter, verbose=True).receiver("gw0")("ragprobe test_a: 3/10 calls")
    assert reporter._tw.text == "\ntest_a.py::test_a \n[gw0] ragprobe test_a: 3/10 calls"
    assert reporter.currentfspath == -2  # pytest's ensure_newline() ends it before its result line


def test_a_line_waits_for_pytests_output_and_none_comes_after_the_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(progress, "RELAY_WAIT", 0.05)
    reporter = Reporter()
    relay = Relay(reporter, verbose=False)
    hooks = _RelayHooks(relay)
    show = relay.receiver("gw0")
    printing = hooks.pytest_runtest_logreport()  # pytest is printing a result (on the main thread)
    next(printing)
    worker = threading.Thread(target=show, args=("ragprobe test_a: 3/10 calls",))
    worker.start()
    worker.join()
    assert reporter._tw.text == ""  # dropped, not printed inside pytest's output
    with pytest.raises(StopIteration):
        printing.send(None)
    show("ragprobe test_a: 6/10 calls")
    assert reporter._tw.text == "[gw0] ragprobe test_a: 6/10 calls\n"
    hooks.pytest_sessionfinish()
    show("ragprobe test_a: 10/10 calls")
    assert reporter._tw.text == "[gw0] ragprobe test_a: 6/10 calls\n"


def test_the_controller_hands_each_worker_a_channel() -> None:
    reporter = Reporter()

    class Plugins:
        def get_plugin(self, name: str) -> Any:
            return reporter if name == "terminalreporter" else None

    config: Any = SimpleNamespace(pluginmanager=Plugins(), option=SimpleNamespace(verbose=0), stash=pytest.Stash())
    config.get_verbosity = lambda: config.option.verbose  # (as pytest's Config reads it)
    channels = [Channel(), Channel()]
    nodes = [
        SimpleNamespace(gateway=SimpleNamespace(id=f"gw{i}", newchannel=lambda c=c: c), workerinput={})
        for i, c in enumerate(channels)
    ]
    relays = [progress.relay_worker_progress(config, node) for node in nodes]
    assert [n.workerinput[progress.WORKER_CHANNEL] for n in nodes] == channels
    assert isinstance(relays[0], Relay) and relays[1] is relays[0]  # one relay for all workers
    channels[1].callback("ragprobe test_b: 3/10 calls")
    assert reporter._tw.text == "[gw1] ragprobe test_b: 3/10 calls\n"

    def broken() -> Any:
        raise OSError("gateway gone")

    node = SimpleNamespace(gateway=SimpleNamespace(id="gw2", newchannel=broken), workerinput={})
    assert progress.relay_worker_progress(config, node) is None  # no exception, no channel
    assert node.workerinput == {}
    config.option.verbose = -2
    node = SimpleNamespace(gateway=SimpleNamespace(id="gw3", newchannel=Channel), workerinput={})
    assert progress.relay_worker_progress(config, node) is None
    assert node.workerinput == {}


class TWReporter:
    """A terminal reporter over pytest's own TerminalWriter (whose width of a line redrawn with "\\r" is -1)."""

    def __init__(self) -> None:
        import io

        from _pytest._io import TerminalWriter

        self.out = io.StringIO()
        self._tw = TerminalWriter(self.out)
        self.currentfspath: object = None

    def write(self, text: str) -> None:
        self._tw.write(text)

    def ensure_newline(self) -> None:
        pass

    def write_line(self, line: str) -> None:
        self._tw.line(line)

    def rewrite(self, line: str) -> None:  # as pytest's: xdist redraws its status line with it
        self._tw.write("\r" + line)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("status", ["", "ready: 2/2 workers"])
def test_the_plan_starts_a_line_of_its_own_after_xdists_status_line(tmp_path: Any, status: str) -> None:
    # Was, on a terminal: "ready: 2/2 workersragprobe plan: 1 probe, ..." (ensure_newline does not see
    # xdist's status line, redrawn with "\r")
    from pytest_ragprobe._xdist import show_plan

    plan = tmp_path / "plan.json"
    plan.write_text('{"lines": ["ragprobe plan: 1 probe, up to 24 pipeline calls"], "probes": 1}')
    reporter = TWReporter()
    if status:
        reporter.rewrite(status)
    config = SimpleNamespace(
        stash=pytest.Stash(), pluginmanager=SimpleNamespace(get_plugin=lambda name: reporter)
    )
    node = SimpleNamespace(workerinput={"ragprobe_plan_file": str(plan)})
    assert show_plan(config, node) == 1  # type: ignore[arg-type]
    shown = reporter.out.getvalue()
    assert shown == (f"\r{status}\n" if status else "") + "ragprobe plan: 1 probe, up to 24 pipeline calls\n"


def test_a_workers_line_after_xdists_status_line_starts_a_line_of_its_own() -> None:
    reporter = TWReporter()
    reporter.rewrite("ready: 2/2 workers")
    Relay(reporter, verbose=False).show("[gw0] ragprobe test_a: 1/9 calls")
    assert reporter.out.getvalue() == "\rready: 2/2 workers\n[gw0] ragprobe test_a: 1/9 calls\n"
