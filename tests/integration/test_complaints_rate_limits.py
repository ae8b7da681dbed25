"""A run slowed by a rate-limited service says so: how many calls met HTTP 429 and how long the
Retry-After holds kept calls waiting, beside the retries (the result's notes, so report.json / .md / .html
and explain() carry it)."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest
from factories import facts_yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from faults import FaultServer, Reply, Request

N_FACTS = 20  # 40 calls

CONFTEST = """
import pytest
import pytest_ragprobe as ragprobe

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.HTTPPipeline("{url}", name="svc")
"""

TEST = """
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.5)
def test_a(ragprobe_result):
    pass
"""


class TurnsAwayOnce:
    """Answers right, but the first attempt of the calls in ``limited`` (by request number) gets
    "429, Retry-After: ``wait``" (``wait`` None: no Retry-After)."""

    def __init__(self, limited: set[int], wait: str | None) -> None:
        self.limited, self.wait = limited, wait
        self.refused = 0
        self._lock = threading.Lock()

    def __call__(self, req: Request) -> Reply:
        if req.attempt == 1 and req.n in self.limited:
            with self._lock:
                self.refused += 1
            headers = {} if self.wait is None else {"Retry-After": self.wait}
            return Reply(status=429, headers=headers, json={"error": "slow down"})
        question = str((req.json or {}).get("question", ""))
        i = question.rsplit("-", 1)[1].rstrip("?")
        return Reply(json={"answer": f"C-{i}" if question.startswith("Which controller") else f"P-{i}"})


def _run(pytester: pytest.Pytester, service: TurnsAwayOnce) -> dict[str, object]:
    with FaultServer(service, max_requests=200, lifetime=60) as server:
        pytester.makeconftest(CONFTEST.format(url=server.url))
        pytester.makefile(".yaml", facts=facts_yaml(N_FACTS))
        pytester.makepyfile(test_rl=TEST)
        result = pytester.runpytest_subprocess(
            "--ragprobe-report=rep", "--ragprobe-no-cache", "-p", "no:xdist", "--ragprobe-concurrency=4"
        )
    result.assert_outcomes(passed=1)
    (probe,) = json.loads((pytester.path / "rep" / "report.json").read_text(encoding="utf-8"))["probes"]
    assert isinstance(probe, dict)
    return probe


def test_429s_waited_out_are_reported(pytester: pytest.Pytester) -> None:
    service = TurnsAwayOnce({3, 10}, wait="1")
    probe = _run(pytester, service)
    assert service.refused == 2
    assert (probe["verdict"], probe["errors"], probe["retries"]) == ("pass", 0, 2)
    (note,) = [n for n in probe["notes"] if n.startswith("rate limited")]
    # each hold is at least the 1 s asked for (two holds, apart or overlapping: 1 to 2 s, plus scheduling)
    held = note.split("held calls ")[1].split(" s")[0]
    assert 1.0 <= float(held) <= 2.6
    # (halved once or twice: the second 429 may come from a call sent before or after the first)
    low = note.split("lowered to ")[1][0]
    assert low in "12"
    assert note == (
        f"rate limited: the service turned away 2 requests with HTTP 429; its Retry-After held calls {held} s "
        f"in all; calls in flight lowered to {low} of 4 (--ragprobe-concurrency)"
    )


def test_429s_without_retry_after_are_reported(pytester: pytest.Pytester) -> None:
    probe = _run(pytester, TurnsAwayOnce({5}, wait=None))
    assert probe["retries"] == 1
    (note,) = [n for n in probe["notes"] if n.startswith("rate limited")]
    assert note == (
        "rate limited: the service turned away 1 request with HTTP 429 (no Retry-After); calls in flight "
        "lowered to 2 of 4 (--ragprobe-concurrency)"
    )
