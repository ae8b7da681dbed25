"""Two configurations of one pipeline class in a run (a parametrized ragprobe_pipeline): the reports label
each by its cache identity; a class probed in one configuration keeps its plain label."""

from __future__ import annotations

import json

import pytest

CONFTEST = """
import pytest

class Rag:
    def __init__(self, top_k):
        self.top_k = top_k

    def answer(self, question):
        tail = question.rstrip("?").rsplit(" ", 1)[1]
        if "pump P-" in question:
            return tail.replace("P-", "C-")
        return tail.replace("C-", "P-") if self.top_k > 5 else "no idea"

@pytest.fixture(params=[3, 10], ids=["top3", "top10"])
def ragprobe_pipeline(request):
    return Rag(request.param)
"""

TEST = """
import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(12)]

@ragprobe.reverse(facts=FACTS, max_drop=0.5)
def test_catalog(ragprobe_pipeline, ragprobe_result):
    assert ragprobe_result.pipeline == "conftest.Rag"  # in the test body: the plain label
"""


def test_two_configurations_of_a_class_get_labels_of_their_own(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_catalog=TEST)
    result = pytester.runpytest("--ragprobe-report=rep", "--ragprobe-save-baseline=base.json", *plugin_args)
    result.assert_outcomes(passed=1, failed=1)  # top3 misses every reverse question
    probes = {p["nodeid"]: p for p in json.loads((pytester.path / "rep" / "report.json").read_text())["probes"]}
    small, large = probes["test_catalog.py::test_catalog[top3]"], probes["test_catalog.py::test_catalog[top10]"]
    assert small["pipeline_identity"] != large["pipeline_identity"]
    for p in (small, large):
        assert p["pipeline"] == p["pipeline_identity"]
        assert p["pipeline"].startswith("conftest.Rag#") and len(p["pipeline"]) == len("conftest.Rag#") + 12
    markdown = (pytester.path / "rep" / "report.md").read_text()
    assert f"pipeline `{small['pipeline']}`" in markdown and f"pipeline `{large['pipeline']}`" in markdown
    html = (pytester.path / "rep" / "report.html").read_text()
    assert small["pipeline"] in html and large["pipeline"] in html

    # the baseline saved with those labels is the same pipeline as the plain label of the next run
    again = pytester.runpytest("--ragprobe-report=rep2", "--ragprobe-baseline=base.json", *plugin_args)
    again.assert_outcomes(passed=1, failed=1)
    rerun = json.loads((pytester.path / "rep2" / "report.json").read_text())["probes"]
    assert [(p["baseline"], p["baseline_message"]) for p in rerun] == [("ok", ""), ("ok", "")]


def test_one_configuration_keeps_its_plain_label(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    pytester.makeconftest(CONFTEST.replace("params=[3, 10], ids=[\"top3\", \"top10\"]", "params=[10], ids=[\"top10\"]"))
    pytester.makepyfile(test_catalog=TEST)
    result = pytester.runpytest("--ragprobe-report=rep", *plugin_args)
    result.assert_outcomes(passed=1)
    (probe,) = json.loads((pytester.path / "rep" / "report.json").read_text())["probes"]
    assert probe["pipeline"] == "conftest.Rag"
    assert probe["pipeline_identity"].startswith("conftest.Rag#")
