"""Audit repro: a pipeline that raises for some questions, run twice with the same answer cache. The
rerun sent only the calls that had failed (failures are not cached); the first 5 failed again, and
fail-fast took the service for dead: "5 of 148 pipeline calls failed (limit 10%) ... 12 more not
attempted" after "17 of 160" the first time, and a probe whose errors were within the limit became
an ERROR. Cached answers are successful calls: the rerun ends as the first run did."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from factories import facts_yaml

N_FACTS = 40  # 80 calls: 8 may fail within the 10% limit

CONFTEST = """
import os
from pathlib import Path
import pytest

FAILING = {failing}  # facts whose forward question raises, every time

def answer(question):
    with Path(os.environ["RAGPROBE_TEST_COUNTER"]).open("a") as fh:
        fh.write("x")
    i = int(question.rsplit("-", 1)[1].rstrip("?"))
    if question.startswith("Which controller"):
        if i in FAILING:
            raise RuntimeError(f"backend exploded on {{question}}")
        return f"C-{{i}}"
    return f"P-{{i}}"

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
"""

TEST = """
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.10)
def test_flaky(ragprobe_result):
    pass
"""


def probe_numbers(report_dir: Path) -> tuple[object, ...]:
    probe = json.loads((report_dir / "report.json").read_text())["probes"][0]
    return (
        probe["verdict"], probe["n"], probe["calls"] + probe["cached_calls"], probe["errors"],
        probe.get("reason"), json.dumps(probe.get("metrics"), sort_keys=True),
    )


@pytest.mark.parametrize(
    ("failing", "verdict"),
    [
        ({2, 5, 9, 13, 17, 21, 30}, "pass"),  # 7 of 80 failed: within the limit
        ({2, 5, 9, 13, 17, 21, 25, 30, 33, 37}, "error"),  # 10 of 80: over it
    ],
)
def test_a_rerun_with_the_answer_cache_ends_as_the_first_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, failing: set[int], verdict: str
) -> None:
    counter = pytester.path / "calls.txt"
    counter.write_text("")
    monkeypatch.setenv("RAGPROBE_TEST_COUNTER", str(counter))
    pytester.makeconftest(CONFTEST.format(failing=sorted(failing)))
    pytester.makefile(".yaml", facts=facts_yaml(N_FACTS))
    pytester.makepyfile(test_flaky=TEST)
    args = ["-p", "no:xdist", "--ragprobe-cache=answers", "--ragprobe-retries=0"]
    first = pytester.runpytest("--ragprobe-report=r1", *args)
    assert len(counter.read_text()) == 2 * N_FACTS
    counter.write_text("")
    second = pytester.runpytest("--ragprobe-report=r2", *args)
    assert len(counter.read_text()) == len(failing)  # every call not cached is sent: none skipped
    assert first.parseoutcomes() == second.parseoutcomes()
    one, two = probe_numbers(pytester.path / "r1"), probe_numbers(pytester.path / "r2")
    assert one[0] == verdict and two == one
    assert one[2:4] == (2 * N_FACTS, len(failing))
    report = json.loads((pytester.path / "r2" / "report.json").read_text())["probes"][0]
    assert (report["calls"], report["cached_calls"]) == (len(failing), 2 * N_FACTS - len(failing))
    if verdict == "error":
        second.stdout.fnmatch_lines([f"*{len(failing)} of 80 pipeline calls failed (limit 10%)*"])
        assert "not attempted" not in second.stdout.str()
    assert os.path.isdir(pytester.path / "answers")
