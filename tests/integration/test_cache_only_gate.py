"""A probe of a remote service answered from the answer cache alone said nothing: a service redeployed
behind the same URL (or one now answering 500 to everything) PASSed a deploy gate from the answers of
the last run. Now the probe carries a note and the run ends with one line per service."""

from __future__ import annotations

import json
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
    return ragprobe.HTTPPipeline("{url}"{extra})
"""

TEST = """
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.5)
def test_a(ragprobe_result):
    pass
"""


class Service:
    def __init__(self) -> None:
        self.dead = False

    def __call__(self, req: Request) -> Reply:
        if self.dead:
            return Reply(status=500, json={"error": "bad deploy"})
        question = str((req.json or {}).get("question", ""))
        i = question.rsplit("-", 1)[1].rstrip("?")
        return Reply(json={"answer": f"C-{i}" if question.startswith("Which controller") else f"P-{i}"})


@pytest.mark.parametrize("extra", ["", ", version='build-41'"], ids=["address-only", "versioned"])
def test_a_run_answered_from_the_cache_alone_says_the_service_was_not_called(
    pytester: pytest.Pytester, extra: str
) -> None:
    service = Service()
    with FaultServer(service, lifetime=120) as server:
        pytester.makeconftest(CONFTEST.format(url=server.url, extra=extra))
        pytester.makefile(".yaml", facts=facts_yaml(10))
        pytester.makepyfile(test_gate=TEST)
        first = pytester.runpytest("-p", "no:xdist")
        service.dead = True  # the next deployment answers nothing
        second = pytester.runpytest("-p", "no:xdist", "--ragprobe-report=out")
        requests = server.requests
        third = pytester.runpytest("-p", "no:xdist", "--ragprobe-no-cache")
    first.assert_outcomes(passed=1)
    assert "answer cache alone" not in first.stdout.str()  # it called the service
    second.assert_outcomes(passed=1)  # as documented: the cache replays the last run's answers
    assert requests == 20
    probe = json.loads((pytester.path / "out" / "report.json").read_text())["probes"][0]
    assert probe["calls"] == 0 and probe["cached_calls"] == 20
    notes = [n for n in probe["notes"] if "answer cache alone" in n]
    if extra:  # a version says which deployment the cached answers are from
        assert notes == []
        assert "answer cache alone" not in second.stdout.str()
        return
    assert notes == [
        f"answered from the answer cache alone (20 cached, no call): {server.url} was not called "
        "by this probe. The cache knows a service by its address, so a new deployment behind it is not seen: "
        "a deploy gate should run with --ragprobe-no-cache, or give the service a version= (its build id)"
    ]
    second.stdout.fnmatch_lines(
        [
            f"ragprobe: 1 probe answered from the answer cache alone: the service {server.url} was not "
            "called this run, and a new deployment behind its address is not seen; a deploy gate "
            "should run with --ragprobe-no-cache, or give the service a version= (its build id)"
        ]
    )
    third.assert_outcomes(errors=1)  # the gate as it should run: the dead service fails it
    third.stdout.fnmatch_lines([f"ERROR*5 of 5 pipeline calls failed*HTTP 500 from {server.url}/answer*"])


GENERATOR_CONFTEST = """
import pytest
import pytest_ragprobe as ragprobe

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    # the generator is for position probes; a reverse probe only asks the answer endpoint
    return ragprobe.Pipeline(
        answer=ragprobe.HTTPPipeline("{url}").answer,
        generate=ragprobe.OpenAIGenerator("http://127.0.0.1:9/v1", "m"),
    )
"""


def test_the_note_names_only_the_services_the_probe_would_have_called(pytester: pytest.Pytester) -> None:
    """A reverse probe answered from the cache alone listed the OpenAI generator beside the answer
    service as "not called by this probe": a reverse probe never calls generate (it asks answers)."""
    with FaultServer(Service(), lifetime=120) as server:
        pytester.makeconftest(GENERATOR_CONFTEST.format(url=server.url))
        pytester.makefile(".yaml", facts=facts_yaml(10))
        pytester.makepyfile(test_gate=TEST)
        first = pytester.runpytest("-p", "no:xdist")
        second = pytester.runpytest("-p", "no:xdist", "--ragprobe-report=out")
    first.assert_outcomes(passed=1)
    second.assert_outcomes(passed=1)
    probe = json.loads((pytester.path / "out" / "report.json").read_text())["probes"][0]
    assert probe["calls"] == 0 and probe["cached_calls"] == 20
    notes = [n for n in probe["notes"] if "answer cache alone" in n]
    assert len(notes) == 1 and f"(20 cached, no call): {server.url} was not called by this probe." in notes[0]
    assert "m at http://127.0.0.1:9/v1" not in second.stdout.str()  # (the note, as the terminal shows it)
    # the run-end line names the same services as the note: it named the pipeline's whole label, with
    # the generator the probe never calls
    (line,) = [s for s in second.stdout.lines if s.startswith("ragprobe: 1 probe") and "cache alone" in s]
    assert line.startswith(
        f"ragprobe: 1 probe answered from the answer cache alone: the service {server.url} was not called "
    ), line
    assert "127.0.0.1:9" not in line
