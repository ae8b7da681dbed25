"""Small builders shared by the tests: report objects, pytester conftests (tests/ is on sys.path, like
faults.py)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

from pytest_ragprobe.results import DirectionSummary, ProbeResult, Report


def reverse_probe(nodeid: str, verdict: str = "pass", drop: float = 0.02, **extra: Any) -> ProbeResult:
    return ProbeResult(
        nodeid=nodeid,
        kind="reverse",
        verdict=verdict,  # type: ignore[arg-type]
        n=20,
        calls=40,
        metrics={
            "forward_accuracy": 0.9,
            "reverse_accuracy": 0.9 - drop,
            "drop": drop,
            "drop_ci": [drop - 0.1, drop + 0.1],
            "p_value": 0.5,
            "discordant": {"forward_only": 2, "reverse_only": 1},
            "max_drop": 0.1,
            "confidence": 0.95,
        },
        forward=DirectionSummary(accuracy=0.9, correct=18, n=20, ci=(0.7, 0.97)),
        reverse=DirectionSummary(accuracy=0.9 - drop, correct=18, n=20, ci=(0.6, 0.95)),
        **extra,
    )


def position_probe(nodeid: str = "tests/test_qa.py::test_mid_context", **metrics: Any) -> ProbeResult:
    """A FAILed position probe of 200 questions (edges 0 and 9, worst position 4); ``metrics`` override."""
    accs = {0: 0.89, 4: 0.47, 9: 0.92}
    m: dict[str, Any] = {
        "drop": 0.45,
        "drop_ci": [0.35, 0.51],
        "p_value": 0.0123,
        "best_edge": 9,
        "worst_position": 4,
        "max_drop": 0.15,
        "confidence": 0.95,
        "discordant": {"edge_only": 23, "worst_only": 2},
    }
    m.update(metrics)
    return ProbeResult(
        nodeid=nodeid,
        kind="position",
        verdict="fail",
        n=200,
        calls=600,
        metrics=m,
        settings={"n_docs": 10, "n_planned": 200},
        positions={
            p: DirectionSummary(accuracy=a, correct=round(a * 200), n=200, ci=(a - 0.05, a + 0.04))
            for p, a in accs.items()
        },
    )


def report(*probes: ProbeResult, **settings: Any) -> Report:
    """A report of these probes with a fixed seed and date (stable renders)."""
    r = Report(seed=1, created="2025-01-02T03:04:05+00:00", settings=settings, probes=list(probes))
    r.summary = r.counts()
    return r


def text_of(html: str) -> str:
    """The visible text of an HTML report (styles and tags dropped, whitespace collapsed)."""
    body = re.sub(r"<style>.*?</style>", " ", html, flags=re.S).replace("<wbr>", "")  # a break, no space
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def facts_yaml(n: int) -> str:
    """A facts file of n pump/controller pairs with explicit forward and reverse questions."""
    lines = ["facts:"]
    for i in range(n):
        lines += [
            f"  - forward: {{question: 'Which controller works with pump P-{i}?', answer: C-{i}}}",
            f"    reverse: {{question: 'Which pump works with controller C-{i}?', answer: P-{i}}}",
        ]
    return "\n".join(lines) + "\n"


def catalog_conftest(reverse_miss: str) -> str:
    """A pytester conftest: pumps P-i answer both ways (their probe passes), valves V-i only forward
    (their probe fails); a valve's reverse question is answered with the Python expression
    ``reverse_miss``."""
    return f"""
import pytest
import pytest_ragprobe as ragprobe

PUMPS = [ragprobe.Fact(subject=f"P-{{i}}", relation="compatible_with", object=f"C-{{i}}") for i in range(30)]
VALVES = [ragprobe.Fact(subject=f"V-{{i}}", relation="compatible_with", object=f"K-{{i}}") for i in range(30)]

def answer(question):
    tail = question.rstrip("?").rsplit(" ", 1)[1]
    if "compatible with pump" in question:
        return "Controller " + tail.replace("P-", "C-").replace("V-", "K-")
    if tail.startswith("C-"):
        return "Pump " + tail.replace("C-", "P-")
    return {reverse_miss}

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
"""


# Pumps P-0..P-99 answered right forward; reverse questions about C-i with i < $REVERSE_WRONG (default 5)
# answered wrong, so reverse accuracy is 1 - REVERSE_WRONG/100. Read per fixture call: in-process runs too.
WRONG_REVERSE_CONFTEST = """
import os
import pytest

@pytest.fixture
def ragprobe_pipeline():
    wrong = int(os.environ.get("REVERSE_WRONG", "5"))  # reverse questions answered wrong (of 100)
    def answer(question):
        if "controller is compatible with pump" in question:
            return "C-" + question.rsplit("P-", 1)[1].rstrip("?")
        i = int(question.rsplit("C-", 1)[1].rstrip("?"))
        return "unsure" if i < wrong else f"P-{i}"
    return answer
"""


def run_starts() -> float:
    """A simulated pytest run's start (the ``since`` of cache.identity_notices), more than the 50 ms
    slack for the kernel's coarse file clock after the last one's files (real runs are further apart)."""
    time.sleep(0.06)
    return time.time()


def litm_data_file(tmp_path: Path, n: int, note: str = "Note") -> str:
    """``qa.jsonl`` in tmp_path: ``n`` lost-in-the-middle questions ("Code of item i?" -> "Qi"), each with a
    gold page and 12 distractors ("{note} j."); returns the file's name."""
    rows = []
    for i in range(n):
        ctxs = [{"title": f"Item {i}", "text": f"The code of item {i} is Q{i}.", "isgold": True}]
        ctxs += [{"title": f"N{j}", "text": f"{note} {j}.", "isgold": False} for j in range(12)]
        rows.append(json.dumps({"question": f"Code of item {i}?", "answers": [f"Q{i}"], "ctxs": ctxs}))
    (tmp_path / "qa.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return "qa.jsonl"


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` only moves when it would otherwise sleep: the selector is polled
    without blocking, and a wait for the next timer becomes a jump of the clock."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        real, loop = self._selector, self  # type: ignore[attr-defined]

        class Selector:
            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

            def select(self, timeout: float | None = None) -> Any:
                events = real.select(0)
                if events or timeout == 0:
                    return events
                if timeout is None:
                    return real.select(None)
                loop.now += timeout
                return []

        self._selector = Selector()

    def time(self) -> float:
        return self.now


def facts_header(n: int) -> str:
    """The top of a pytester test file: ``FACTS``, ``n`` synthetic pump/controller facts."""
    return (
        "\nimport pytest_ragprobe as ragprobe\n"
        f'FACTS = [ragprobe.Fact(subject=f"P-{{i}}", relation="compatible_with", object=f"C-{{i}}") '
        f"for i in range({n})]\n"
    )


def reverse_test(name: str, max_drop: float = 0.3) -> str:
    """A reverse-probe test function over ``FACTS`` (see :func:`facts_header`)."""
    return f"\n@ragprobe.reverse(facts=FACTS, max_drop={max_drop})\ndef {name}():\n    pass\n"


def write_shard(tmp_path: Path, name: str, *probes: ProbeResult, **fields: Any) -> Path:
    """``tmp_path/name/report.json`` holding ``probes``: one CI shard's report."""
    directory = tmp_path / name
    directory.mkdir()
    path = directory / "report.json"
    path.write_text(Report(probes=list(probes), **fields).model_dump_json(indent=2), encoding="utf-8")
    return path
