"""Against a loopback HTTP service: a Retry-After that one test's probe was told and had not waited out
holds the next test's probe of the same pipeline (it sent its first calls straight into the same
refusal), and the warning about tolerated errors says whether they were retried."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from factories import facts_yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from faults import FaultServer, Reply, Request

N_FACTS = 20  # 40 calls a probe

CONFTEST = """
import pytest
import pytest_ragprobe as ragprobe

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.HTTPPipeline("{url}")
"""

ONE_TEST = """
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.5)
def test_a(ragprobe_result):
    pass
"""

TESTS = ONE_TEST + """
@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.5)
def test_b(ragprobe_result):
    pass
"""


def right_answer(req: Request) -> Reply:
    question = str((req.json or {}).get("question", ""))
    i = question.rsplit("-", 1)[1].rstrip("?")
    return Reply(json={"answer": f"C-{i}" if question.startswith("Which controller") else f"P-{i}"})


class ClosesAfter:
    """Answers right, except request ``trigger`` (the first probe's last call): "429, Retry-After:
    2", and every request in the 2 s after it gets a 429 too (``early``)."""

    def __init__(self, trigger: int) -> None:
        self.trigger = trigger
        self.closed_until = 0.0
        self.early = 0
        self._lock = threading.Lock()

    def __call__(self, req: Request) -> Reply:
        with self._lock:
            now = time.monotonic()
            if req.n == self.trigger:
                self.closed_until = now + 2.0
            elif now < self.closed_until:
                self.early += 1
            else:
                return right_answer(req)
        return Reply(status=429, headers={"Retry-After": "2"}, json={"error": "slow down"})


@pytest.mark.parametrize("xdist", [[], ["-n", "2", "--dist", "loadfile"]], ids=["serial", "xdist2"])
def test_the_next_test_waits_out_the_retry_after_the_last_one_was_told(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    """The first probe's last call is turned away (not retried: --ragprobe-retries=0) and the
    service closes for 2 s. The second test's probe started at once, its first 5 calls into 429s,
    and fail-fast took the service for dead (an ERROR: "5 of 5 pipeline calls failed ...; 35 more
    not attempted"); now it waits for the hold and gets none."""
    service = ClosesAfter(trigger=2 * N_FACTS)
    with FaultServer(service, lifetime=120) as server:
        pytester.makeconftest(CONFTEST.format(url=server.url))
        pytester.makefile(".yaml", facts=facts_yaml(N_FACTS))
        pytester.makepyfile(test_pair=TESTS)
        result = pytester.runpytest(
            *xdist, "-p", "no:randomly", "--ragprobe-retries=0", "--ragprobe-no-cache"
        )
        requests, statuses = server.requests, dict(server.statuses)
    assert service.early == 0
    assert requests == 2 * 2 * N_FACTS and statuses == {200: 4 * N_FACTS - 1, 429: 1}
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*::test_a: 1 of 40 pipeline calls failed (not retried: --ragprobe-retries=0) and were left "
            f"out of the statistics (n=19); most common cause: HTTP 429 from {server.url}/answer (1x)*"
        ]
    )


def test_the_warning_says_errors_that_are_not_retryable_were_not_retried(pytester: pytest.Pytester) -> None:
    """HTTP 400 is not retried (default --ragprobe-retries=2): the warning said "failed after retries"."""

    def handler(req: Request) -> Reply:
        if str((req.json or {}).get("question", "")).endswith("P-3?"):
            return Reply(status=400, json={"error": "bad question"})
        return right_answer(req)

    with FaultServer(handler, lifetime=120) as server:
        pytester.makeconftest(CONFTEST.format(url=server.url))
        pytester.makefile(".yaml", facts=facts_yaml(N_FACTS))
        pytester.makepyfile(test_pair=ONE_TEST)
        result = pytester.runpytest("-p", "no:xdist", "--ragprobe-no-cache")
        requests = server.requests
    assert requests == 2 * N_FACTS
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*::test_a: 1 of 40 pipeline calls failed (not retried) and were left out of the statistics "
            f"(n=19); most common cause: HTTP 400 from {server.url}/answer (1x)"
        ]
    )


def test_the_warning_counts_the_retries_made(pytester: pytest.Pytester) -> None:
    """HTTP 500 is retried: twice by default, for the one call that fails every time."""

    def handler(req: Request) -> Reply:
        if str((req.json or {}).get("question", "")).endswith("P-3?"):
            return Reply(status=500, json={"error": "boom"})
        return right_answer(req)

    with FaultServer(handler, lifetime=120) as server:
        pytester.makeconftest(CONFTEST.format(url=server.url))
        pytester.makefile(".yaml", facts=facts_yaml(N_FACTS))
        pytester.makepyfile(test_pair=ONE_TEST)
        result = pytester.runpytest("-p", "no:xdist", "--ragprobe-no-cache")
        requests = server.requests
    assert requests == 2 * N_FACTS + 2
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*::test_a: 1 of 40 pipeline calls failed (2 retries in this probe) and were left out of the statistics "
            f"(n=19); most common cause: HTTP 500 from {server.url}/answer (1x)"
        ]
    )


CONFTEST_WITH_STATE = CONFTEST + """
import json
import time
import urllib.request

@pytest.fixture
def wait_for_refusal():
    def wait(margin):
        end = time.monotonic() + 60
        while time.monotonic() < end:
            with urllib.request.urlopen("{url}/state", timeout=5) as reply:
                if json.load(reply)["refused"]:
                    time.sleep(margin)  # for the refused worker to be told
                    return
            time.sleep(0.05)
        raise AssertionError("the other worker's probe was never refused")
    return wait
"""

REFUSED_FIRST = """
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.5)
def test_refused_first(ragprobe_result):
    pass
"""

ASKS_LATER = """
import pytest

def test_wait(wait_for_refusal):
    wait_for_refusal(1.0)

@pytest.mark.ragprobe_reverse(facts="facts_b.yaml", max_drop=0.5)
def test_asks_during_the_hold(ragprobe_result):
    pass
"""


class RefusesFirstCall:
    """The first pipeline call gets "429, Retry-After: 4", and so does every call in the 4 s after it
    (``early``: those of facts above P-99, which only the second probe asks); ``GET /state`` says
    whether that has happened."""

    def __init__(self) -> None:
        self.closed_until: float | None = None
        self.early = 0
        self._lock = threading.Lock()

    def __call__(self, req: Request) -> Reply:
        with self._lock:
            if req.path == "/state":
                return Reply(json={"refused": self.closed_until is not None})
            now = time.monotonic()
            if self.closed_until is None:
                self.closed_until = now + 4.0
            elif now < self.closed_until:
                question = str((req.json or {}).get("question", ""))
                self.early += int(question.rsplit("-", 1)[1].rstrip("?")) >= 100
            else:
                return right_answer(req)
        return Reply(status=429, headers={"Retry-After": "4"}, json={"error": "slow down"})


def test_xdist_workers_share_a_retry_after(pytester: pytest.Pytester) -> None:
    """Worker A's first call is told to wait 4 s. Worker B's probe starts a second later: it waits
    out A's hold instead of sending its calls into the same refusal (with --ragprobe-retries=0 each
    would be an error, and a 429 halves B's concurrency); before the board, B learned only from
    its own 429s."""
    service = RefusesFirstCall()
    with FaultServer(service, lifetime=120) as server:
        pytester.makeconftest(CONFTEST_WITH_STATE.format(url=server.url))
        pytester.makefile(".yaml", facts=facts_yaml(N_FACTS))
        later = "\n".join(line for line in facts_yaml(100 + N_FACTS).splitlines()[1:][200:])
        pytester.makefile(".yaml", facts_b="facts:\n" + later + "\n")
        pytester.makepyfile(test_a=REFUSED_FIRST, test_b=ASKS_LATER)
        result = pytester.runpytest(
            "-n", "2", "--dist", "loadfile", "-v", "-p", "no:randomly", "--ragprobe-no-cache",
            "--ragprobe-retries=1",
        )
        statuses = dict(server.statuses)
    workers = {
        name: line.split("]", 1)[0].lstrip("[")
        for line in result.outlines
        for name in ("test_refused_first", "test_asks_during_the_hold")
        if line.startswith("[gw") and name in line
    }
    assert len(set(workers.values())) == 2, result.outlines  # the two files ran on two workers
    assert service.early == 0
    assert statuses[429] <= 8  # the first call and the other calls of its probe then in flight
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["PASS*test_asks_during_the_hold*(n=20, 40 calls)"])
