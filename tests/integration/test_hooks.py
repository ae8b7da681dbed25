"""The plugin's own hooks (pytest_ragprobe.hookspecs), implemented in a conftest.py."""

from __future__ import annotations

import json

import pytest

CONFTEST = """
import json, os
import pytest
import pytest_ragprobe as ragprobe

class Chain:
    '''A framework object the plugin does not know: no answer/retrieve/generate/index.'''
    def invoke(self, question):
        tail = question.rstrip("?").split()[-1]
        if question.startswith("Which controller"):
            return {"result": "Controller " + tail.replace("P-", "C-")}
        return {"result": "Pump " + tail.replace("C-", "P-") if tail.endswith(("1", "3", "5", "7")) else "?"}

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return Chain()

def pytest_ragprobe_make_pipeline(config, pipeline):
    if isinstance(pipeline, Chain):
        return ragprobe.Pipeline(answer=lambda q: pipeline.invoke(q)["result"], name="chain")
    return None

def pytest_ragprobe_report(config, report, path):
    out = {"pid": os.getpid(), "partial": report.partial, "path": None if path is None else path.name,
           "probes": [(p.nodeid, p.verdict, p.pipeline, p.n) for p in report.probes]}
    with open("exported.jsonl", "a") as fh:
        fh.write(json.dumps(out) + "\\n")
"""

TESTS = """
import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(40)]

@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_chain(ragprobe_result):
    assert ragprobe_result.forward.accuracy == 1.0

def test_plain():
    pass
"""


def exported(pytester: pytest.Pytester) -> list[dict[str, object]]:
    path = pytester.path / "exported.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_make_pipeline_adapts_an_object_and_report_hook_exports_once(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_chain=TESTS)
    result = pytester.runpytest(*plugin_args, "--ragprobe-report=out")
    result.assert_outcomes(passed=1, failed=1)
    # reverse answers right for subjects ending in 1/3/5/7: 16 of 40 facts; forward 40 of 40
    result.stdout.fnmatch_lines(["*FAIL*test_chain.py::test_chain [[]reverse[]] fwd 1.00 rev 0.40 *"])
    rows = exported(pytester)
    assert len(rows) == 1  # once per run: on the controller under xdist, never on a worker
    assert rows[0]["partial"] is False and rows[0]["path"] == "report.json"
    assert rows[0]["probes"] == [["test_chain.py::test_chain", "fail", "chain", 40]]


def test_without_the_hook_an_unknown_object_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.split("def pytest_ragprobe_make_pipeline")[0])
    pytester.makepyfile(test_chain=TESTS)
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*ragprobe_pipeline is a Chain, which is neither callable nor has any of *"
         "or adapt a Chain in a pytest_ragprobe_make_pipeline hook (conftest.py)."]
    )
    assert exported(pytester) == []


def test_a_failing_report_hook_is_shown_and_does_not_change_the_outcome(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        CONFTEST + "\ndef pytest_ragprobe_report(config, report, path):\n    raise RuntimeError('dashboard down')\n"
    )
    pytester.makepyfile(test_chain=TESTS.replace("max_drop=0.1", "max_drop=0.9"))
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(passed=2)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["pytest_ragprobe_report hook raised RuntimeError: dashboard down"])


def test_no_probe_no_report_hook(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_plain="def test_x():\n    pass\n")
    pytester.runpytest("-p", "no:xdist").assert_outcomes(passed=1)
    assert exported(pytester) == []


DIRECT = """
import pytest_ragprobe as ragprobe
from conftest import Chain

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(40)]

def test_direct(ragprobe_fact_pairs):
    result = ragprobe.check_reverse(Chain(), ragprobe_fact_pairs(FACTS), max_drop=0.1)
    assert (result.forward.accuracy, result.reverse.accuracy, result.pipeline) == (1.0, 0.4, "chain")
    assert result.verdict == "fail"
"""


def test_check_functions_inside_a_run_use_its_make_pipeline_hooks(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_direct=DIRECT)
    pytester.runpytest("-p", "no:xdist").assert_outcomes(passed=1)
