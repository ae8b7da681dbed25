"""xdist and interruption: same numbers with -n 2 and -p no:xdist; Ctrl-C keeps finished results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from factories import facts_yaml

CONFTEST = """
import time
import pytest

def answer(question):
    time.sleep({delay})
    i = int(question.rsplit("-", 1)[1].rstrip("?"))
    if question.startswith("Which controller"):
        return f"C-{{i}}"
    return f"P-{{i}}" if i % 3 else "no idea"

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
"""

PROBE = """
@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop={max_drop}, n={n}, seed={seed})
def test_{name}(ragprobe_result):
    pass
"""


def make_suite(pytester: pytest.Pytester, *, probes: int, delay: float, n: int = 20) -> None:
    pytester.makeconftest(CONFTEST.format(delay=delay))
    pytester.makefile(".yaml", facts=facts_yaml(40))
    body = "import pytest\n" + "".join(
        PROBE.format(name=f"p{k}", max_drop=(0.05, 0.5)[k % 2], n=n, seed=k) for k in range(probes)
    )
    pytester.makepyfile(test_suite=body)


def numbers(path: Path) -> dict[str, tuple[object, ...]]:
    report = json.loads(path.read_text())
    return {
        p["nodeid"]: (p["verdict"], p["n"], p["calls"], p["errors"],
                      json.dumps(p["metrics"], sort_keys=True))
        for p in report["probes"]
    }


def test_xdist_and_plain_runs_report_identical_numbers(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    make_suite(pytester, probes=4, delay=0.0)
    # in-process (the -n 2 workers are processes of their own either way): a subprocess each cost a pytest,
    # scipy and plugin start-up more
    plain = pytester.runpytest("-p", "no:xdist", "--ragprobe-report=plain", "--ragprobe-no-cache")
    dist = pytester.runpytest("-n", "2", "--ragprobe-report=dist", "--ragprobe-no-cache")
    a, b = numbers(pytester.path / "plain" / "report.json"), numbers(
        pytester.path / "dist" / "report.json")
    assert len(a) == 4
    assert a == b
    assert plain.parseoutcomes()["passed"] == dist.parseoutcomes()["passed"]
    # only the controller prints the summary (once)
    assert dist.stdout.str().count("= ragprobe =") == 1


# The workers of one machine taking from one budget pool (exactly the budget spent, the plan naming no share,
# probes that ran out INCONCLUSIVE): test_plan_accuracy's test_under_xdist_the_workers_of_one_machine_share_the_budget.


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery")
def test_ctrl_c_mid_run_leaves_a_partial_report(pytester: pytest.Pytester) -> None:
    make_suite(pytester, probes=6, delay=0.05, n=10)  # ~0.2 s per probe at concurrency 8... x6
    report = pytester.path / "rep" / "report.json"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # A background job (nohup, `cmd &` in a script) inherits SIGINT ignored, and Python then keeps
    # it ignored: install the KeyboardInterrupt handler a terminal session would have.
    start = (
        "import signal, sys, pytest; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "sys.exit(pytest.main(sys.argv[1:]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", start, "-p", "no:xdist", "--ragprobe-report=rep",
         "--ragprobe-concurrency=1", "--ragprobe-no-cache", "-p", "no:cacheprovider"],
        cwd=pytester.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if report.exists() and json.loads(report.read_text())["probes"]:
                break
            if proc.poll() is not None:
                pytest.fail("pytest ended before it could be interrupted")
            time.sleep(0.05)
        else:
            pytest.fail("no probe finished within 60 s")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    data = json.loads(report.read_text())
    assert proc.returncode == 2, out.decode(errors="replace")[-2000:]
    assert data["partial"] is True
    finished = [p["nodeid"] for p in data["probes"]]
    assert 1 <= len(finished) < 6
    assert all(p["verdict"] in ("pass", "fail", "inconclusive") for p in data["probes"])
    # the terminal says so too (it said "-> PASS" for the probes that had finished, nothing more)
    text = out.decode(errors="replace")
    assert (
        f"ragprobe: interrupted: {len(finished)} of 6 probes finished; probes still running were lost, "
        "the report is partial"
    ) in text
    assert "(partial run: probes may be missing)" in text and "ragprobe report: " in text


INTERRUPTING_PIPELINE = """
import sys, types
import pytest

def answer(question):
    # a Ctrl-C that lands where CPython 3.11 has no line number (e.g. mid-import): the traceback
    # holds an entry whose tb_lineno is None, which pytest's own formatting cannot handle
    raise KeyboardInterrupt().with_traceback(types.TracebackType(None, sys._getframe(), 10**6, -1))

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
"""


def test_ctrl_c_without_line_numbers_still_ends_as_an_interrupt(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(INTERRUPTING_PIPELINE)
    pytester.makefile(".yaml", facts=facts_yaml(5))
    pytester.makepyfile(test_suite="import pytest\n" + PROBE.format(name="p", max_drop=0.1, n=5, seed=1))
    result = pytester.runpytest_subprocess("-p", "no:xdist", "--ragprobe-no-cache")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    out = result.stdout.str() + result.stderr.str()
    assert "KeyboardInterrupt" in out
    assert "INTERNALERROR" not in out and "TypeError" not in out, out[-3000:]


def test_an_interrupted_xdist_run_counts_the_probes_planned(pytester: pytest.Pytester) -> None:
    """Under xdist the controller collects nothing itself: the interrupted line said "2 probes finished"
    without "of 3" (the count now comes with the plan the first worker hands over)."""
    pytester.makeconftest(
        """
import pytest
class Catalog:
    def index(self, documents):
        pass
    def answer(self, question):
        return "unsure"
@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return Catalog()
"""
    )
    pytester.makepyfile(
        test_suite="""
import pytest_ragprobe as ragprobe
@ragprobe.reverse(facts="synthetic:5", max_drop=0.5)
def test_p1():
    pass
@ragprobe.reverse(facts="synthetic:6", max_drop=0.5)
def test_p2():
    pass
@ragprobe.reverse(facts="synthetic:7", max_drop=0.5)
def test_p3():
    raise KeyboardInterrupt
"""
    )
    result = pytester.runpytest_subprocess("-p", "xdist", "-n", "2", "--ragprobe-report=rep", "--ragprobe-no-cache")
    result.stdout.re_match_lines(
        [r"ragprobe: interrupted: [0-2] of 3 probes finished; probes still running were lost, the report is partial"]
    )
