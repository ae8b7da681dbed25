"""Acceptance: a reverse probe against a loopback HTTP service that injects latency, 429 + Retry-After,
500s, timeouts and malformed JSON. The probe finishes, errors are counted apart from answers, and the
accuracy over the answers that succeeded is exact."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from factories import facts_yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from faults import FaultServer, Reply, Request

N_FACTS = 30
ALWAYS_500_FORWARD = {12, 22}
MALFORMED_REVERSE = {17}
RATE_LIMITED_ONCE = {13, 23}  # both directions: 429 + Retry-After on the first attempt
HANG_ONCE_FORWARD = {14, 24}  # first attempt never answers: the 1 s call timeout fires


def handler(req: Request) -> Reply:
    question = str((req.json or {}).get("question", ""))
    forward = question.startswith("Which controller")
    i = int(question.rsplit("-", 1)[1].rstrip("?"))
    if forward and i in ALWAYS_500_FORWARD:
        return Reply(status=500, json={"error": "boom"})
    if not forward and i in MALFORMED_REVERSE:
        return Reply(body=b'{"answer": "P-17", ')
    if i in RATE_LIMITED_ONCE and req.attempt == 1:
        return Reply(status=429, headers={"Retry-After": "0.3"}, json={"error": "slow down"})
    if forward and i in HANG_ONCE_FORWARD and req.attempt == 1:
        return Reply(hang=True)
    delay = 0.05 if i % 5 == 0 else 0.0
    if forward:
        return Reply(json={"answer": f"It is C-{i}.", "documents": [f"P-{i} works with C-{i}."]},
                     delay=delay)
    text = "I do not know." if i % 3 == 0 else f"Pump P-{i}."
    return Reply(json={"text": text}, delay=delay)


CONFTEST = """
import pytest
import pytest_ragprobe as ragprobe

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.HTTPPipeline("{url}")
"""

# pytest.mark.ragprobe_reverse is the same mark as ragprobe.reverse; used here because in-process
# pytester runs import the submodule pytest_ragprobe.reverse, which shadows the package attribute.
TEST = """
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.10)
def test_catalog(ragprobe_result):
    pass
"""


def test_probe_survives_injected_faults_with_exact_numbers(pytester: pytest.Pytester) -> None:
    with FaultServer(handler, max_requests=500, lifetime=120, hang_limit=5) as server:
        pytester.makeconftest(CONFTEST.format(url=server.url))
        pytester.makefile(".yaml", facts=facts_yaml(N_FACTS))
        pytester.makepyfile(test_catalog=TEST)
        result = pytester.runpytest("--ragprobe-report=rep", "--ragprobe-timeout=1", "-p", "no:xdist")
        requests = server.requests
    report = json.loads((pytester.path / "rep" / "report.json").read_text())
    (probe,) = report["probes"]
    failed_calls = len(ALWAYS_500_FORWARD) + len(MALFORMED_REVERSE)
    excluded = ALWAYS_500_FORWARD | MALFORMED_REVERSE
    kept = [i for i in range(N_FACTS) if i not in excluded]
    reverse_right = [i for i in kept if i % 3 != 0]
    assert probe["errors"] == failed_calls == 3
    assert probe["calls"] == 2 * N_FACTS
    assert probe["n"] == len(kept) == 27
    assert probe["metrics"]["forward_accuracy"] == 1.0
    assert probe["metrics"]["reverse_accuracy"] == len(reverse_right) / len(kept) == 18 / 27
    assert probe["verdict"] == "fail"  # drop 0.33 > max_drop 0.10: a real verdict, not an error
    result.assert_outcomes(failed=1)
    # 60 calls + 2 retries for each always-500 call + one per 429 (4 calls) + one per hang (2 calls);
    # the malformed body is not retried.
    assert requests == 2 * N_FACTS + 2 * 2 + 4 + 2
    errors = [e for e in probe["examples"] if e.get("error")]
    assert any(f"HTTP 500 from {server.url}/answer" in e["error"] for e in errors)
    assert any(f"malformed response from {server.url}/answer" in e["error"] for e in errors)


def test_dead_service_is_an_error_naming_the_cause_and_is_not_hammered(
    pytester: pytest.Pytester,
) -> None:
    with FaultServer(lambda req: Reply(status=500, json={"error": "down"}), lifetime=60) as server:
        pytester.makeconftest(CONFTEST.format(url=server.url))
        pytester.makefile(".yaml", facts=facts_yaml(N_FACTS))
        pytester.makepyfile(test_catalog=TEST)
        result = pytester.runpytest("--ragprobe-report=rep", "-p", "no:xdist",
                                    "--ragprobe-concurrency=2")
        requests = server.requests
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*most common cause*HTTP 500 from {server.url}/answer*"])
    # fail-fast: far fewer than 60 calls x 3 attempts reach the dead service
    assert requests <= 3 * 8
    report = json.loads((pytester.path / "rep" / "report.json").read_text())
    probe = report["probes"][0]
    assert probe["verdict"] == "error"
    # only the calls actually sent count (each up to 3 attempts); the rest are named as not attempted
    assert probe["calls"] == probe["errors"] and probe["calls"] <= requests <= 3 * probe["calls"]
    not_sent = 2 * N_FACTS - probe["calls"]
    result.stdout.fnmatch_lines(
        [f"*{probe['calls']} of {probe['calls']} pipeline calls failed*; {not_sent} more not attempted (fail-fast*"]
    )


def test_slow_service_times_out_with_the_timeout_named(pytester: pytest.Pytester) -> None:
    with FaultServer(lambda req: Reply(hang=True), lifetime=60, hang_limit=3) as server:
        pytester.makeconftest(CONFTEST.format(url=server.url))
        pytester.makefile(".yaml", facts=facts_yaml(N_FACTS))
        pytester.makepyfile(test_catalog=TEST)
        result = pytester.runpytest("-p", "no:xdist", "--ragprobe-timeout=0.3",
                                    "--ragprobe-retries=0")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*most common cause*timeout after 0.3s*"])


HUNG_SYNC = """
import threading
import pytest

FOREVER = threading.Event()  # never set

def answer(question):
    FOREVER.wait()  # a sync call that never returns (a socket read without a timeout)
    return "unreachable"

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
"""


def test_a_sync_call_that_never_returns_does_not_keep_pytest_from_exiting(
    pytester: pytest.Pytester,
) -> None:
    """The timed-out call's thread is abandoned, not joined at exit: the run ends and reports (under a
    ThreadPoolExecutor the process never exited and this subprocess hit its timeout)."""
    pytester.makeconftest(HUNG_SYNC)
    pytester.makefile(".yaml", facts=facts_yaml(N_FACTS))
    pytester.makepyfile(test_catalog=TEST)
    result = pytester.runpytest_subprocess(
        "-p", "no:xdist", "--ragprobe-timeout=0.2", "--ragprobe-retries=0", "--ragprobe-no-cache",
        "--ragprobe-report=rep", timeout=120,
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*most common cause*timeout after 0.2s*"])
    report = json.loads((pytester.path / "rep" / "report.json").read_text())
    assert report["probes"][0]["verdict"] == "error" and not report["partial"]


def test_malformed_json_names_the_expected_keys_and_the_keys_received(pytester: pytest.Pytester) -> None:
    """The summary said only "malformed response from http://127.0.0.1:PORT/answer"."""
    with FaultServer(lambda req: Reply(json={"result": "C-500"}), lifetime=60) as server:
        pytester.makeconftest(CONFTEST.format(url=server.url))
        pytester.makefile(".yaml", facts=facts_yaml(N_FACTS))
        pytester.makepyfile(test_catalog=TEST)
        result = pytester.runpytest("-p", "no:xdist", "--ragprobe-no-cache")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*most common cause (*x): malformed response from {server.url}/answer: expected a JSON object "
            "with a string 'answer' or 'text' (and optional 'documents'), or a JSON string, "
            "got JSON keys [[]'result']*"
        ]
    )


DB_DOWN = """
import pytest

def answer(question):
    raise ConnectionError("db down")

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
"""


def test_connection_error_summary_keeps_the_message(pytester: pytest.Pytester) -> None:
    """ConnectionError("db down") was summarised as "most common cause (80x): ConnectionError"."""
    pytester.makeconftest(DB_DOWN)
    pytester.makefile(".yaml", facts=facts_yaml(N_FACTS))
    pytester.makepyfile(test_catalog=TEST)
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-no-cache", "--ragprobe-retries=0")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*most common cause (*x): ConnectionError: db down;*"])


def test_budget_running_out_at_a_retry_is_inconclusive_not_an_error(pytester: pytest.Pytester) -> None:
    """Every call fails its first try (503) and --ragprobe-budget=5 runs out at the third call's retry:
    that call was counted as a pipeline error, so the probe ended as ERROR ("1 of 3 pipeline calls
    failed (limit 10%) ... HTTP 503") instead of INCONCLUSIVE (budget)."""

    def first_try_fails(req: Request) -> Reply:
        if req.attempt == 1:
            return Reply(status=503, json={"error": "warming up"})
        return handler(req)

    with FaultServer(first_try_fails, max_requests=200, lifetime=60) as server:
        pytester.makeconftest(CONFTEST.format(url=server.url))
        pytester.makefile(".yaml", facts=facts_yaml(N_FACTS))
        pytester.makepyfile(test_catalog=TEST)
        result = pytester.runpytest("--ragprobe-report=rep", "-p", "no:xdist", "--ragprobe-no-cache",
                                    "--ragprobe-budget=5", "--ragprobe-retries=2",
                                    "--ragprobe-concurrency=1")
        requests = server.requests
    assert requests == 5  # every attempt is billed, retries included: 2 + 2 + 1
    (probe,) = json.loads((pytester.path / "rep" / "report.json").read_text())["probes"]
    assert probe["verdict"] == "inconclusive" and probe["errors"] == 0
    # three questions were sent (the third's retry was not): calls count questions, retries the extra tries
    assert (probe["calls"], probe["retries"]) == (3, 2)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["INCONCLUSIVE *test_catalog* (n=*, 3 calls, 2 retried)*"])


def test_a_quota_used_up_ends_the_probe_at_once_naming_the_option(pytester: pytest.Pytester) -> None:
    """Every call: "429, Retry-After: 3600". The test ERRORed after ~43 s (each fail-fast call retried
    twice after 20 s, into the same refusal); now at once, saying what the service asked and what
    would wait that long."""
    def quota(req: Request) -> Reply:
        return Reply(status=429, headers={"Retry-After": "3600"}, json={"error": "quota exceeded"})

    with FaultServer(quota, max_requests=100, lifetime=60) as server:
        pytester.makeconftest(CONFTEST.format(url=server.url))
        pytester.makefile(".yaml", facts=facts_yaml(10))
        pytester.makepyfile(test_catalog=TEST)
        result = pytester.runpytest("-p", "no:xdist")
        requests = server.requests
    result.assert_outcomes(errors=1)
    assert requests == 5  # the fail-fast calls, once each (was 8: two retried after 20 s each)
    result.stdout.fnmatch_lines([
        "*5 of 5 pipeline calls failed*HTTP 429 from*the service asked to wait 3600 s, more than ragprobe "
        "waits for a Retry-After (60 s: the longer of --ragprobe-timeout and 20 s), so those calls were not "
        "retried: run again once its limit resets, or raise --ragprobe-timeout to 3600 to wait that long)*"
    ])
