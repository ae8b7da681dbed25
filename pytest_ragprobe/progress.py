"""Progress of running probes, through pytest's terminal reporter.

* On a terminal (and not under xdist, and without ``--ragprobe-no-progress``): one live line
  per running probe, ``ragprobe <test>: 120/400 calls, 2 errors, 35.1 calls/s, ETA 8s``, redrawn at
  most ten times a second on its own line (pytest's own output resumes on the next line; the line's
  final state stays as a record of the probe's calls). Writes suspend output capturing, like
  pytest's live logging.
* Without a terminal (CI logs, pipes): a probe still running after :data:`PERIODIC_INTERVAL` seconds
  prints the same status as a plain line, at most once per interval, and its final state once a line was
  printed (a cold run of a slow pipeline was minutes of silence in a CI log, and some CI services stop a
  job that prints nothing for 10 minutes). Probes that end sooner print nothing.
* Under pytest-xdist (terminal or not): the same periodic lines, prefixed with the worker,
  ``[gw0] ragprobe <test>: ...``. A worker's output reaches nobody (execnet points its stdout at
  /dev/null; its stderr is the controller's on POSIX, but a line written there lands in the middle of
  the controller's line of results), so the worker sends each line to the controller
  (:class:`WorkerLine`) on an execnet channel the controller opened for it in ``pytest_configure_node``
  and handed over in ``node.workerinput`` (the way the cost plan's file name travels, see ``_xdist``);
  the controller prints it through its terminal reporter (:class:`Relay`), on the receiving thread,
  under a lock that its own result output also holds, so a line never splits one of pytest's. Anything
  unexpected on the way (no channel, a closed one, an xdist that stops carrying it) means no lines,
  never a failed run.
* With ``-v`` (also under xdist, on the controller): one line per finished probe after its result.
"""

from __future__ import annotations

import threading
import time
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_ragprobe.engine import EngineStats

MIN_INTERVAL = 0.1
#: Seconds between two plain progress lines of a probe when the output is not a terminal (or under xdist).
PERIODIC_INTERVAL = 30.0
#: The ``workerinput`` key of the channel an xdist worker sends its progress lines on.
WORKER_CHANNEL = "ragprobe_progress_channel"
#: Seconds the controller waits for its own output to finish a line before it drops a worker's line.
RELAY_WAIT = 5.0


def _fmt_seconds(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def status_line(name: str, done: int, total: int, stats: EngineStats, *, earlier: int = 0) -> str:
    """The text of a live progress line (pure, for tests)."""
    parts = [f"{earlier + done}/{earlier + total} calls"]
    if stats.cached:
        parts.append(f"{stats.cached} cached")
    parts.append(f"{stats.errors} error" + ("" if stats.errors == 1 else "s"))
    if stats.retries:
        parts.append(f"{stats.retries} retried")
    parts.append(f"{stats.rate:.1f} calls/s")
    if done >= total:
        parts.append(f"done in {_fmt_seconds(stats.elapsed)}")
    else:
        eta = stats.eta
        parts.append("ETA ?" if eta is None else f"ETA {_fmt_seconds(eta)}")
    return f"ragprobe {name}: " + ", ".join(parts)


def _uncaptured(capture: Any) -> Any:
    """Output capturing suspended while a progress line is written (as pytest's live logging does)."""
    return nullcontext() if capture is None else capture.global_and_fixture_disabled()


class LiveLine:
    """The engine's progress callback for one probe: redraws a single terminal line."""

    def __init__(self, reporter: Any, capture: Any, nodeid: str, *, verbose: bool = False) -> None:
        self.reporter = reporter
        self.capture = capture
        self.nodeid = nodeid
        self.verbose = verbose
        self.name = nodeid.rsplit("::", 1)[-1]
        self._last = 0.0
        self._started = False
        self._lock = threading.Lock()
        self._earlier = 0  # calls of earlier batches of this probe (sequential looks)
        self._batch_total = -1

    def __call__(self, done: int, total: int, stats: EngineStats) -> None:
        now = time.monotonic()
        finished = done >= total
        if not finished and now - self._last < MIN_INTERVAL:
            return
        with self._lock:
            self._last = now
            line = status_line(self.name, done, total, stats, earlier=self._earlier)
            try:
                with _uncaptured(self.capture):
                    if not self._started:
                        self.reporter.ensure_newline()  # pytest re-prints the file name after us
                        self._started = True
                    self.reporter.rewrite(line, erase=True)
                    if finished:
                        # End our line. pytest prints the next result letter wherever the cursor is
                        # (non-verbose), so put the file name back first; with -v it starts its own.
                        self.reporter.currentfspath = None
                        if not self.verbose:
                            self.reporter.write_fspath_result(self.nodeid, "")
                        self._started = False
                    self.reporter.flush()
            except Exception:  # progress must never break a run (closed terminal, odd reporter)
                return
            if finished:
                self._earlier += total



class PeriodicLine:
    """The engine's progress callback for one probe without a terminal: a plain status line once the probe
    (or a sequential probe's batch) has run :data:`PERIODIC_INTERVAL` seconds, then at most once per
    interval, and the batch's last state when it ends if a line was printed for it."""

    def __init__(
        self,
        reporter: Any,
        capture: Any,
        nodeid: str,
        *,
        verbose: bool = False,
        interval: float | None = None,
    ) -> None:
        self.reporter = reporter
        self.capture = capture
        self.nodeid = nodeid
        self.verbose = verbose
        self.name = nodeid.rsplit("::", 1)[-1]
        self.interval = PERIODIC_INTERVAL if interval is None else interval
        self._last = time.monotonic()  # (the first line only after a whole interval of running)
        self._printed = False  # a line was printed since the batch began
        self._lock = threading.Lock()
        self._earlier = 0  # calls of earlier batches of this probe (sequential looks)
        self._open = False  # a line of this probe's may be the terminal's current, unended one

    def __call__(self, done: int, total: int, stats: EngineStats) -> None:
        now = time.monotonic()
        finished = done >= total
        with self._lock:
            if now - self._last >= self.interval or (finished and self._printed):
                self._last = now
                self._printed = not finished
                self._write(status_line(self.name, done, total, stats, earlier=self._earlier), finished)
            if finished:
                self._earlier += total

    def _write(self, line: str, last: bool) -> None:
        # A line is left open (the next one, or what ends the batch, ends it): a newline after each would
        # leave an empty line before pytest's next output. The batch's last line gives pytest its file name
        # back, as LiveLine does, for the result letter; with -v pytest starts its own line.
        try:
            with _uncaptured(self.capture):
                if self.reporter.currentfspath is None and self._open:
                    self.reporter.write("\n")  # (ends this probe's previous line)
                else:
                    self.reporter.ensure_newline()  # (ends pytest's "test_a.py ." or -v's test id)
                self.reporter.write(line)
                self.reporter.currentfspath = None
                self._open = not last or self.verbose  # (-v: pytest, or our next line, ends it)
                if last and not self.verbose:
                    self.reporter.write_fspath_result(self.nodeid, "")
                self.reporter.flush()
        except Exception:  # progress must never break a run (closed stream, odd reporter)
            return


class WorkerLine(PeriodicLine):
    """:class:`PeriodicLine` on an xdist worker: the same lines at the same times, sent to the controller
    (which prints them, :class:`Relay`) rather than written."""

    def __init__(self, channel: Any, nodeid: str, *, interval: float | None = None) -> None:
        super().__init__(None, None, nodeid, interval=interval)
        self.channel = channel

    def _write(self, line: str, last: bool) -> None:
        try:
            self.channel.send(line)  # (one message per line: lines of two workers never mix)
        except Exception:  # a closed channel, a controller gone: no line, never a failed probe
            return


def make_progress(config: pytest.Config, nodeid: str) -> Any:
    """The engine's progress callback ``(done, total, stats)`` for one probe: a live line on a terminal,
    periodic plain lines without one, periodic lines sent to the controller on an xdist worker (when the
    controller opened a channel for them), None with ``-qq``."""
    if config.get_verbosity() < -1:  # -q -q: keep it quiet (one -q still shows it)
        return None
    if hasattr(config, "workerinput"):  # xdist workers have no output of their own
        channel = getattr(config, "workerinput", {}).get(WORKER_CHANNEL)
        return WorkerLine(channel, nodeid) if callable(getattr(channel, "send", None)) else None
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return None
    capture = config.pluginmanager.get_plugin("capturemanager")
    verbose = config.get_verbosity() > 0
    if not _isatty(reporter):
        return PeriodicLine(reporter, capture, nodeid, verbose=verbose)
    return LiveLine(reporter, capture, nodeid, verbose=verbose)


class Relay:
    """On the xdist controller: prints the progress lines workers send, ``[gw0] ragprobe <test>: ...``.

    Lines arrive on execnet's receiving thread while the main thread prints results. The plugin's hook
    wrappers hold :attr:`lock` while pytest prints a test's start and result, so a line never lands inside
    one of pytest's; between them the line goes on a line of its own: after the results' dots (ending
    their line; pytest's next dot starts a new one) or, with ``-v``, after a test's id or result line,
    left open for pytest, whose next line ends it (a newline after it would leave an empty line)."""

    def __init__(self, reporter: Any, *, verbose: bool) -> None:
        self.reporter = reporter
        self.verbose = verbose
        self.lock = threading.RLock()
        self.closed = False

    def receiver(self, worker: str) -> Any:
        """The channel callback for one worker's lines."""

        def show(line: object) -> None:
            if isinstance(line, str):
                self.show(f"[{worker}] {line}")

        return show

    def show(self, line: str) -> None:
        if not self.lock.acquire(timeout=RELAY_WAIT):
            return  # pytest's output is stuck (a blocked pipe): drop the line rather than the receiver
        try:
            if self.closed:
                return
            reporter = self.reporter
            width = open_line_width(reporter)  # (unknown: always a newline)
            if width != 0:
                reporter.write("\n")  # (ends the dots, a test's id or result, or our previous line)
            reporter.write(line)
            if self.verbose:
                reporter.currentfspath = -2  # like pytest after a verbose result: its next write ends it
            else:
                reporter.write("\n")  # pytest writes its next dot where the cursor is
                reporter.currentfspath = None
            reporter.flush()
        except Exception:  # progress must never break a run (closed stream, odd reporter)
            return
        finally:
            self.lock.release()

    def close(self) -> None:
        """No more lines (the session is finishing: every line came before its test's result, and none
        belongs in the summary)."""
        with self.lock:
            self.closed = True


_RELAY = pytest.StashKey[Relay]()


def relay_worker_progress(config: pytest.Config, node: Any) -> Relay | None:
    """On the xdist controller, for a worker about to start (``pytest_configure_node``): open a channel for
    its progress lines and hand it over in its ``workerinput``; return the run's relay, whose lock the
    plugin's hooks hold while pytest prints. None when progress is off (``-qq``, no terminal reporter) or
    the gateway offers no channel (``--ragprobe-no-progress``: the plugin does not call this)."""
    if config.get_verbosity() < -1:
        return None
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return None
    relay = config.stash.get(_RELAY, None)
    if relay is None:
        relay = config.stash[_RELAY] = Relay(reporter, verbose=config.get_verbosity() > 0)
    try:
        channel = node.gateway.newchannel()
        channel.setcallback(relay.receiver(str(node.gateway.id)))
        node.workerinput[WORKER_CHANNEL] = channel
    except Exception:  # an xdist or execnet that works otherwise: no lines from this worker
        return None
    return relay


def open_line_width(reporter: Any) -> int | None:
    """How much the terminal reporter has written on its current line (the results' dots; -1 for a line
    redrawn with "\\r", like xdist's "ready: 2/2 workers": wcswidth of a control character), None when
    unknown (pytest's writer is a private attribute of its reporter)."""
    width = getattr(getattr(reporter, "_tw", None), "width_of_current_line", None)
    return width if isinstance(width, int) else None


def _isatty(reporter: Any) -> bool:
    flag = getattr(reporter, "isatty", False)
    try:
        return bool(flag() if callable(flag) else flag)
    except Exception:
        return False


def finished_line(data: dict[str, Any]) -> str:
    """One line for a finished probe (``-v``): verdict, sample size, calls, errors, time."""
    bits = [
        str(data.get("verdict", "?")).upper(),
        f"n={data.get('n', 0)}",
        f"calls={data.get('calls', 0)}",
    ]
    if data.get("cached_calls"):
        bits.append(f"cached={data['cached_calls']}")
    bits.append(f"errors={data.get('errors', 0)}")
    bits.append(f"{float(data.get('duration_s') or 0.0):.1f}s")
    drop = (data.get("metrics") or {}).get("drop")
    if isinstance(drop, (int, float)):
        bits.append(f"drop={drop:+.3f}")
    return "    ragprobe: " + " ".join(bits)


def report_finished(config: pytest.Config, report: pytest.TestReport) -> None:
    """With ``-v``, one line per finished probe, after pytest's own result line (controller only)."""
    data = getattr(report, "ragprobe", None)
    if not isinstance(data, dict) or config.get_verbosity() <= 0:
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    reporter.ensure_newline()
    reporter.write(finished_line(data))
    reporter.currentfspath = -2  # like pytest after a verbose result: the next write starts a new line
