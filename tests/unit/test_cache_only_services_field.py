"""The run-end line of probes answered from the answer cache alone names the services as the probes recorded
them (ProbeResult.cache_only_services, carried to the xdist controller in the probe's report), not as read
back from the note's text: a service with ", " in it (an OpenAI-compatible server's model name, "qwen, 7b at
URL") beside another was split into three services, and lost the name= the cache knows it by."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from factories import report

from pytest_ragprobe.adapters import HTTPPipeline, OpenAIGenerator
from pytest_ragprobe.pipeline import Pipeline, make_adapter
from pytest_ragprobe.results import ProbeResult
from pytest_ragprobe.runner import ProbeContext, RunSettings
from pytest_ragprobe.session import RagprobeSession

SEARCH = "http://127.0.0.1:9/rag"
READER = "qwen, 7b at http://127.0.0.1:9/v1"


def _replayed(pipeline: object, kinds: set[str]) -> ProbeResult:
    """A probe of ``pipeline`` whose calls (of ``kinds``) were all answered from the cache, as the xdist
    controller has it (its report's JSON)."""
    ctx = ProbeContext(make_adapter(pipeline), RunSettings(), nodeid="t.py::test_a")
    ctx.kinds.update(kinds)
    ctx.cached_calls = 40
    made = ctx.result(kind="reverse", verdict="inconclusive")
    return ProbeResult.model_validate(made.model_dump(mode="json"))


def test_a_service_with_the_separator_beside_another_is_named_whole_with_its_name() -> None:
    pipeline = Pipeline(
        retrieve=HTTPPipeline(SEARCH, answer_path=None, retrieve_path="/r"),
        generate=OpenAIGenerator("http://127.0.0.1:9/v1", "qwen, 7b", api_key="", name="gen"),
    )
    probe = _replayed(pipeline, {"retrieve", "generate"})
    assert probe.cache_only_services == {SEARCH: None, READER: "gen"}
    (line,) = RagprobeSession._cache_only_notices(report(probe))
    assert line == (
        f"ragprobe: 1 probe answered from the answer cache alone: the services {SEARCH}, {READER} were not "
        f"called this run, and the cache knows {SEARCH} by its address and {READER} by its name= ('gen'), so a "
        "new deployment behind them is not seen; a deploy gate should run with --ragprobe-no-cache, or give each "
        "a version= (its build id)"
    )


def test_a_probe_that_made_calls_records_none() -> None:
    ctx = ProbeContext(make_adapter(HTTPPipeline(SEARCH)), RunSettings(), nodeid="t.py::test_a")
    ctx.kinds.add("answer")
    ctx.calls = ctx.cached_calls = 20
    assert ctx.result(kind="reverse", verdict="inconclusive").cache_only_services == {}


def test_one_service_with_the_separator_is_named_whole() -> None:
    reader = OpenAIGenerator("http://127.0.0.1:9/v1", "qwen, 7b", api_key="")
    probe = _replayed(reader, {"generate"})
    assert probe.cache_only_services == {READER: None}
    assert f": {READER} was not called by this probe." in probe.notes[0]
    (line,) = RagprobeSession._cache_only_notices(report(probe))
    assert f"the service {READER} was not called this run, and a new deployment behind its address" in line


def test_the_note_of_several_services_speaks_of_them_all() -> None:
    """With two services the note said "The cache knows a service by its address, so a new deployment behind
    it is not seen: ... or give the service a version=", as for one."""
    pipeline = Pipeline(
        retrieve=HTTPPipeline(SEARCH, answer_path=None, retrieve_path="/r"),
        generate=OpenAIGenerator("http://127.0.0.1:9/v1", "qwen, 7b", api_key=""),
    )
    (note,) = _replayed(pipeline, {"retrieve", "generate"}).notes
    assert note.endswith(
        f"{SEARCH}, {READER} were not called by this probe. The cache knows them by their addresses, so a new "
        "deployment behind them is not seen: a deploy gate should run with --ragprobe-no-cache, or give each a "
        "version= (its build id)"
    )
    named = Pipeline(
        retrieve=HTTPPipeline(SEARCH, answer_path=None, retrieve_path="/r", name="search"),
        generate=OpenAIGenerator("http://127.0.0.1:9/v1", "qwen, 7b", api_key=""),
    )
    (note,) = _replayed(named, {"retrieve", "generate"}).notes
    assert note.endswith(
        f"The cache knows {SEARCH} by its name= ('search') and {READER} by its address, so a new deployment "
        "behind them is not seen: a deploy gate should run with --ragprobe-no-cache, or give each a version= "
        "(its build id)"
    )
