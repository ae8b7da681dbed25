"""A user's RAG service over HTTP (``ragprobe.HTTPPipeline``), as a loopback fault server: what a run
ends with, and what it says, when the service refuses, is away or answers in a shape of its own."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from factories import facts_yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from faults import FaultServer, Reply, Request

CONFTEST = """
import pytest
import pytest_ragprobe as ragprobe

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.HTTPPipeline("{url}", name="svc")
"""

TEST = """
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.10)
def test_catalog(ragprobe_result):
    pass
"""


def good(req: Request) -> Reply:
    question = str((req.json or {}).get("question", ""))
    i = int(question.rsplit("-", 1)[1].rstrip("?"))
    if question.startswith("Which controller"):
        return Reply(json={"answer": f"It is C-{i}."})
    return Reply(json={"text": f"Pump P-{i}."})


def project(pytester: pytest.Pytester, url: str, n: int = 10) -> None:
    pytester.makeconftest(CONFTEST.format(url=url))
    pytester.makefile(".yaml", facts=facts_yaml(n))
    pytester.makepyfile(test_catalog=TEST)


def test_a_service_down_for_maintenance_ends_at_once_saying_what_it_asked(pytester: pytest.Pytester) -> None:
    """"503, Retry-After: 3600": the fail-fast calls each waited 60 s twice (over 2 minutes) and the
    error said only "HTTP 503"; now they are not retried, and the error says why and what would wait."""

    def maintenance(req: Request) -> Reply:
        return Reply(status=503, headers={"Retry-After": "3600"}, json={"error": "maintenance"})

    with FaultServer(maintenance, max_requests=50, lifetime=60) as server:
        project(pytester, server.url)
        result = pytester.runpytest("-p", "no:xdist")
        requests = server.requests
    result.assert_outcomes(errors=1)
    assert requests == 5  # the fail-fast calls, once each
    result.stdout.fnmatch_lines([
        f"*5 of 5 pipeline calls failed*HTTP 503 from {server.url}/answer (the service asked to wait 3600 s, "
        "more than ragprobe waits for a Retry-After (60 s: the longer of --ragprobe-timeout and 20 s), so "
        "those calls were not retried: run again once it is back, or raise --ragprobe-timeout to 3600 to "
        "wait that long)*"
    ])


def test_a_json_answer_of_another_shape_is_said_once(pytester: pytest.Pytester) -> None:
    """``{"result": {...}}``: the ERROR said what was expected, what came and what to do, then said all
    of it again, clipped, after "first for '<question>'" (the cause is longer than an error's 300
    characters, so the two differed)."""
    with FaultServer(lambda req: Reply(json={"result": {"text": "x"}}), max_requests=50, lifetime=60) as server:
        project(pytester, server.url)
        result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(errors=1)
    (line,) = [x for x in result.stdout.lines if "5 of 5 pipeline calls failed" in x and "ERROR " not in x]
    assert line.count("got JSON keys ['result']") == 1
    assert line.count("make the pipeline an object whose answer(question) calls the service") == 1
    assert "; first for 'Which controller works with pump P-1?'; 15 more not attempted" in line


def test_a_service_not_started_says_so_and_what_to_check(pytester: pytest.Pytester) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    project(pytester, url)
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-retries=0")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        f"*5 of 5 pipeline calls failed (limit 10%); most common cause (5x): transport error (ConnectError) "
        f"from {url}/answer (could not connect: is the service running, and listening at that address?); "
        f"first for 'Which controller works with pump P-1?': cannot connect to 127.0.0.1:{port}: Connection "
        "refused; 15 more not attempted*"
    ])


def test_ctrl_c_mid_run_then_a_rerun_asks_only_what_was_not_answered(pytester: pytest.Pytester) -> None:
    """Ctrl-C (SIGINT) while the 6th call is at the service: pytest stops (exit 2), and the rerun asks
    only the calls not answered before it (the 6th, whose answer never arrived, again)."""
    import signal
    import subprocess

    proc: subprocess.Popen[bytes] | None = None
    asked: list[str] = []

    def interrupting(req: Request) -> Reply:
        asked.append(str((req.json or {}).get("question", "")))
        if req.n == 6 and proc is not None:
            proc.send_signal(signal.SIGINT)
            return Reply(hang=True)  # the answer never arrives
        return good(req)

    args = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:randomly", "--ragprobe-concurrency=1"]
    with FaultServer(interrupting, max_requests=100, lifetime=60, hang_limit=5) as server:
        project(pytester, server.url)
        proc = pytester.popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out = proc.communicate(timeout=60)[0].decode()
        assert proc.returncode == 2, out  # pytest's "interrupted"
        assert "KeyboardInterrupt" in out
    first, asked[:] = list(asked), []
    proc = None
    with FaultServer(interrupting, max_requests=100, lifetime=60) as server:  # (proc None: no signal)
        project(pytester, server.url)
        rerun = pytester.runpytest("-p", "no:xdist")
    rerun.assert_outcomes(passed=1)
    assert len(first) == 6 and len(asked) == 20 - 5
    assert set(first[:5]).isdisjoint(asked) and first[5] in asked
    rerun.stdout.fnmatch_lines(["*(n=10, 15 calls, 5 cached)*"])


def test_a_run_stopped_by_the_budget_resumes_from_the_cache(pytester: pytest.Pytester) -> None:
    asked: list[str] = []

    def counting(req: Request) -> Reply:
        asked.append(str((req.json or {}).get("question", "")))
        return good(req)

    with FaultServer(counting, max_requests=100, lifetime=60) as server:
        project(pytester, server.url)
        first = pytester.runpytest("-p", "no:xdist", "--ragprobe-budget=7")
        first.assert_outcomes(passed=1)  # INCONCLUSIVE: a budget stop is not an error
        first.stdout.fnmatch_lines(["INCONCLUSIVE *(n=3 of 10, budget exhausted, 7 calls)*"])
        before, asked[:] = list(asked), []
        second = pytester.runpytest("-p", "no:xdist")
    second.assert_outcomes(passed=1)
    assert len(before) == 7 and len(asked) == 13 and set(before).isdisjoint(asked)
    second.stdout.fnmatch_lines(["*(n=10, 13 calls, 7 cached)*"])
