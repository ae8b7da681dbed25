"""DESIGN.md's "Public contract", item by item, checked as a user meets it in a pytest run: marks and their
arguments, the fixtures, the facts file formats, the pipeline shapes and document forms, ``-p no:ragprobe``
and the fields and types of report.json (the options and the marks' spelling: the unit file of this name)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import pytest_ragprobe.facts  # noqa: F401  (one Fact class across in-process pytester runs)

# A pipeline that knows only what it indexed or was given: `retrieve` ranks pages by the words they share
# with the query (the entity names decide), `generate` answers with the best page's text, which holds
# both entities of a fact, so every probe here answers right both ways and at every position.
CONFTEST = '''
import re
import pytest
import pytest_ragprobe as ragprobe

PARTS = [f"Pump P-{i} is compatible with controller C-{i}." for i in range(40)]


def words(text):
    return set(re.findall(r"[a-z0-9-]+", text.lower()))


def best(question, documents):
    return max(documents, key=lambda d: len(words(question) & words(d.text)))


class Lookup:
    name = "lookup"

    def __init__(self, pages=PARTS):
        self.pages = [ragprobe.Document(text=p) for p in pages]

    def index(self, documents):
        self.pages.extend(documents)

    def retrieve(self, query, k):
        ranked = sorted(self.pages, key=lambda d: -len(words(query) & words(d.text)))
        return ranked[:k]

    def generate(self, question, documents):
        return best(question, documents).text


@pytest.fixture
def ragprobe_pipeline():
    return Lookup()
'''


def _report(path: Path) -> dict[str, Any]:
    return dict(json.loads((path / "report.json").read_text(encoding="utf-8")))


def _probes(path: Path) -> dict[str, dict[str, Any]]:
    return {p["nodeid"].split("::", 1)[1]: p for p in _report(path)["probes"]}


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    return pytester


# -- marks ------------------------------------------------------------------------------------------------

MARKED = """
import pytest
import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(3)]

@ragprobe.reverse(facts=FACTS)
def test_sugar():
    pass

@pytest.mark.ragprobe_reverse(facts=FACTS)
def test_raw():
    pass

@ragprobe.position(facts=FACTS, n_docs=3)
def test_position_sugar():
    pass

@pytest.mark.ragprobe_position(facts=FACTS, n_docs=3)
def test_position_raw():
    pass

@ragprobe.reverse(facts=FACTS)
class TestClass:
    def test_in_class(self):
        pass

def test_plain():
    pass
"""


def test_both_spellings_carry_the_common_mark_for_m_selection(project: pytest.Pytester) -> None:
    """`-m ragprobe` selects every probe, however its mark was written; `-m "not ragprobe"` the rest."""
    project.makepyfile(test_marks=MARKED)
    probes = ["test_sugar", "test_raw", "test_position_sugar", "test_position_raw", "test_in_class"]
    result = project.runpytest("-p", "no:xdist", "-m", "ragprobe", "--collect-only", "-q")
    collected = [line for line in result.outlines if line.startswith("test_marks.py::")]
    assert sorted(line.rsplit("::", 1)[1] for line in collected) == sorted(probes)
    result = project.runpytest("-p", "no:xdist", "-m", "not ragprobe", "--collect-only", "-q")
    assert [line for line in result.outlines if line.startswith("test_marks.py::")] == ["test_marks.py::test_plain"]
    # and they run as probes (3 facts: INCONCLUSIVE, a warning each, not a failure)
    result = project.runpytest("-p", "no:xdist", "-m", "ragprobe", "--ragprobe-report=out")
    result.assert_outcomes(passed=5, deselected=1, warnings=5)
    assert {k: (p["kind"], p["verdict"]) for k, p in _probes(project.path / "out").items()} == {
        "test_sugar": ("reverse", "inconclusive"),
        "test_raw": ("reverse", "inconclusive"),
        "test_position_sugar": ("position", "inconclusive"),
        "test_position_raw": ("position", "inconclusive"),
        "TestClass::test_in_class": ("reverse", "inconclusive"),
    }


def test_mark_defaults_are_the_contracts(project: pytest.Pytester) -> None:
    """max_drop 0.10, min_accuracy none, n all facts, confidence 0.95, match "contains"; position: n_docs 10,
    positions first, quartiles and last, distractors "given"; seed from --ragprobe-seed (0)."""
    project.makepyfile(
        test_defaults="""
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(12)]

@ragprobe.reverse(facts=FACTS)
def test_rev():
    pass

@ragprobe.position(facts=FACTS)
def test_pos():
    pass
"""
    )
    project.runpytest("-p", "no:xdist", "--ragprobe-report=out").assert_outcomes(passed=2, warnings=2)
    probes = _probes(project.path / "out")
    for name in ("test_rev", "test_pos"):
        settings = probes[name]["settings"]
        assert settings["max_drop"] == 0.1
        assert settings.get("min_accuracy") is None
        assert settings["confidence"] == 0.95
        assert settings["match"] == "contains"
        assert settings["seed"] == 0
        assert settings["n_planned"] == 12
        assert probes[name]["n"] == 12
    pos = probes["test_pos"]
    assert pos["settings"]["n_docs"] == 10
    assert pos["metrics"]["positions"] == [0, 2, 4, 7, 9]
    assert pos["settings"]["distractors"] == "given"
    assert sorted(pos["metrics"]["accuracy_by_position"], key=int) == ["0", "2", "4", "7", "9"]


# -- facts files ------------------------------------------------------------------------------------------

YAML_FACTS = """
relations:
  compatible_with:
    forward: "Which controller is compatible with pump {subject}?"
    reverse: "Which pump is compatible with controller {object}?"
    statement: "Pump {subject} is compatible with controller {object}."
facts:
  - {subject: P-200, relation: compatible_with, object: C-17}
  - forward: {question: "Who is Tom Cruise's mother?", answer: [Mary Lee Pfeiffer, Mary Lee South]}
    reverse: {question: "Who is Mary Lee Pfeiffer's son?", answer: Tom Cruise}
"""

JSON_FACTS = json.dumps(
    {
        "relations": {
            "compatible_with": {
                "forward": "Which controller is compatible with pump {subject}?",
                "reverse": "Which pump is compatible with controller {object}?",
                "statement": "Pump {subject} is compatible with controller {object}.",
            }
        },
        "facts": [
            {"subject": "P-200", "relation": "compatible_with", "object": "C-17"},
            {
                "forward": {"question": "Who is Tom Cruise's mother?", "answer": ["Mary Lee Pfeiffer", "Mary Lee South"]},
                "reverse": {"question": "Who is Mary Lee Pfeiffer's son?", "answer": "Tom Cruise"},
            },
        ],
    }
)

JSONL_FACTS = "\n".join(
    json.dumps(row)
    for row in [
        {"relations": json.loads(JSON_FACTS)["relations"]},
        {"subject": "P-200", "relation": "compatible_with", "object": "C-17"},
        {
            "forward": {"question": "Who is Tom Cruise's mother?", "answer": ["Mary Lee Pfeiffer", "Mary Lee South"]},
            "reverse": {"question": "Who is Mary Lee Pfeiffer's son?", "answer": "Tom Cruise"},
        },
    ]
)

CSV_FACTS = """forward_question,forward_answer,reverse_question,reverse_answer
Which controller is compatible with pump P-200?,C-17,Which pump is compatible with controller C-17?,P-200
Who is Tom Cruise's mother?,Mary Lee Pfeiffer|Mary Lee South,Who is Mary Lee Pfeiffer's son?,Tom Cruise
"""

EXPECTED_PAIRS = [
    (
        ("Which controller is compatible with pump P-200?", ["C-17"]),
        ("Which pump is compatible with controller C-17?", ["P-200"]),
    ),
    (
        ("Who is Tom Cruise's mother?", ["Mary Lee Pfeiffer", "Mary Lee South"]),
        ("Who is Mary Lee Pfeiffer's son?", ["Tom Cruise"]),
    ),
]


@pytest.mark.parametrize(
    ("name", "text"),
    [("parts.yaml", YAML_FACTS), ("parts.json", JSON_FACTS), ("parts.jsonl", JSONL_FACTS), ("parts.csv", CSV_FACTS)],
)
def test_every_facts_format_gives_the_same_pairs(project: pytest.Pytester, name: str, text: str) -> None:
    """YAML / JSON / JSONL / CSV hold the same facts: templated ones (the relation's questions and
    statement) and written-out ones, an answer a string or a list of aliases."""
    (project.path / "fixtures").mkdir()
    (project.path / "fixtures" / name).write_text(text, encoding="utf-8")
    project.makepyfile(
        test_pairs=f"""
import pytest_ragprobe as ragprobe

def test_pairs(ragprobe_fact_pairs):
    pairs = ragprobe_fact_pairs("fixtures/{name}")
    assert all(isinstance(p, ragprobe.FactPair) for p in pairs)
    got = [((p.forward.question, list(p.forward.answers)), (p.reverse.question, list(p.reverse.answers))) for p in pairs]
    assert got == {EXPECTED_PAIRS!r}
    statements = [p.statement for p in pairs]
    if {name!r} != "parts.csv":  # (flat CSV rows have no relation, so no template statement)
        assert statements[0] == "Pump P-200 is compatible with controller C-17."
    assert all(isinstance(s, str) and s for s in statements)

@ragprobe.reverse(facts="fixtures/{name}")
def test_mark(ragprobe_result):
    assert ragprobe_result.n == 2
    assert ragprobe_result.forward.accuracy == 1.0 and ragprobe_result.reverse.accuracy == 1.0
"""
    )
    project.makeconftest(
        CONFTEST.replace(
            "PARTS = [",
            'PARTS = ["Mary Lee Pfeiffer (also Mary Lee South) is the mother of Tom Cruise.", '
            '"Pump P-200 is compatible with controller C-17."] + [',
        )
    )
    project.runpytest("-p", "no:xdist").assert_outcomes(passed=2, warnings=1)


@pytest.mark.parametrize(
    ("name", "text", "where", "field"),
    [
        ("bad.yaml", "facts:\n  - {subject: P-1, relation: compatible_with, object: C-1}\n  - {subject: P-2, relation: compatible_with}\n", "line 3", "object"),
        ("bad.json", '{"facts": [{"subject": "P-1", "relation": "compatible_with", "object": 5}]}', "facts[0]", "object"),
        ("bad.jsonl", '{"subject": "P-1", "relation": "compatible_with", "object": "C-1"}\n{"subject": "P-2", "relation": "compatible_with", "object": 7}\n', "line 2", "object"),
        ("bad.csv", "forward_question,forward_answer,reverse_question,reverse_answer\nQ1?,A1,R1?,B1\nQ2?,,R2?,B2\n", "row 3", "forward_answer"),
    ],
)
def test_facts_errors_name_the_file_the_row_or_line_and_the_field(
    project: pytest.Pytester, name: str, text: str, where: str, field: str
) -> None:
    (project.path / name).write_text(text, encoding="utf-8")
    project.makepyfile(
        test_bad=f"""
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="{name}")
def test_bad(ragprobe_result):
    pass
"""
    )
    result = project.runpytest("-p", "no:xdist")
    result.assert_outcomes(errors=1)
    lines = [line for line in result.outlines if name in line and where in line and field in line]
    assert lines, result.stdout.str()


# -- the pipeline -----------------------------------------------------------------------------------------

SHAPES = '''
import asyncio
import pytest
import pytest_ragprobe as ragprobe
from conftest import PARTS, Lookup, best, words

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(6)]
EXAMPLES = [
    {
        "question": f"Which controller is compatible with pump P-{i}?",
        "answers": [f"C-{i}"],
        "ctxs": [{"title": "catalog", "text": PARTS[i], "isgold": True}]
        + [{"title": "manual", "text": f"Manual page {j} about cleaning.", "isgold": False} for j in range(4)],
    }
    for i in range(6)
]


def knows_forward_only(question):
    """Answers from the page of the pump named in the question: forward right, reverse wrong."""
    hits = [p for p in PARTS if set(words(question)) & set(words(p)) - words("which pump is compatible with controller")]
    if "pump p-" in question.lower() and hits:
        return ragprobe.Answer(hits[0], documents=[ragprobe.Document(hits[0])])
    return ragprobe.Answer("no idea", documents=[{"text": "Manual page about cleaning.", "title": "manual"}])


def check(pipeline, **kw):
    result = ragprobe.check_reverse(pipeline, FACTS, max_drop=0.1, **kw)
    assert isinstance(result, ragprobe.ProbeResult)
    assert result.verdict == "inconclusive" and result.n == 6, result.explain()
    assert (result.forward.accuracy, result.reverse.accuracy) == (1.0, 1.0)
    return result


def test_callable_returning_str():
    check(lambda q: Lookup().generate(q, Lookup().pages))


def test_callable_returning_answer_with_documents_of_every_form():
    def answer(q):
        text = Lookup().generate(q, Lookup().pages)
        return ragprobe.Answer(text, documents=[ragprobe.Document(text), {"text": text, "title": "t"}, text])
    check(answer)


def test_dict_answer_with_documents():
    check(lambda q: {"answer": Lookup().generate(q, Lookup().pages), "documents": ["a page"]})
    check(lambda q: {"text": Lookup().generate(q, Lookup().pages)})


class Answers:
    def answer(self, question):
        return Lookup().generate(question, Lookup().pages)


class AsyncAnswers:
    async def answer(self, question):
        await asyncio.sleep(0)
        return Lookup().generate(question, Lookup().pages)


class AsyncRetrieveGenerate(Lookup):
    async def retrieve(self, query, k):
        return [d.to_dict() for d in Lookup.retrieve(self, query, k)]  # dicts with Document's keys

    async def generate(self, question, documents):
        assert all(isinstance(d, ragprobe.Document) for d in documents)
        return Lookup.generate(self, question, documents)


class StringRetriever(Lookup):
    def retrieve(self, query, k):
        return [d.text for d in Lookup.retrieve(self, query, k)]  # plain strings


def test_objects_with_answer_sync_or_async():
    check(Answers())
    check(AsyncAnswers())


def test_objects_with_retrieve_and_generate_are_attributed():
    for pipeline in (Lookup(), AsyncRetrieveGenerate(), StringRetriever()):
        result = check(pipeline)
        assert "reverse_misses" not in result.metrics  # no miss to attribute


def test_ragprobe_pipeline_of_callables():
    lookup = Lookup()
    check(ragprobe.Pipeline(answer=lambda q: lookup.generate(q, lookup.pages)))
    check(ragprobe.Pipeline(retrieve=lookup.retrieve, generate=lookup.generate))


def test_misses_are_attributed_to_retrieval_or_reading():
    result = ragprobe.check_reverse(knows_forward_only, FACTS, max_drop=0.1)
    assert result.verdict == "fail"
    assert result.metrics["reverse_misses"] == {"retrieval": 6, "reading": 0, "unknown": 0}


def test_position_probe_through_generate():
    result = ragprobe.check_position(Lookup(), EXAMPLES, n_docs=5, positions=[0, 2, 4], max_drop=0.1)
    assert result.kind == "position" and result.n == 6
    assert {p: s.accuracy for p, s in result.positions.items()} == {0: 1.0, 2: 1.0, 4: 1.0}


def test_position_needs_generate_and_says_so():
    with pytest.raises(ragprobe.PipelineConfigError, match="generate"):
        ragprobe.check_position(Answers(), EXAMPLES, n_docs=5)


def test_synthetic_facts_need_index_and_say_so():
    with pytest.raises(ragprobe.PipelineConfigError, match="index"):
        ragprobe.check_reverse(Answers(), "synthetic:5")


def test_synthetic_facts_are_indexed_first():
    pipeline = Lookup(pages=[])
    result = ragprobe.check_reverse(pipeline, "synthetic:8", max_drop=0.1)
    assert len(pipeline.pages) == 8 and result.n == 8
    assert (result.forward.accuracy, result.reverse.accuracy) == (1.0, 1.0)


def test_async_index_and_generate_and_a_pipeline_of_callables_with_index():
    class AsyncIndex(AsyncRetrieveGenerate):
        async def index(self, documents):
            await asyncio.sleep(0)
            self.pages.extend(documents)

    pipeline = AsyncIndex(pages=[])
    result = ragprobe.check_reverse(pipeline, "synthetic:8", max_drop=0.1)
    assert len(pipeline.pages) == 8 and (result.forward.accuracy, result.reverse.accuracy) == (1.0, 1.0)
    lookup = Lookup(pages=[])
    wrapped = ragprobe.Pipeline(retrieve=lookup.retrieve, generate=lookup.generate, index=lookup.index)
    result = ragprobe.check_reverse(wrapped, "synthetic:8", max_drop=0.1)
    assert len(lookup.pages) == 8 and (result.forward.accuracy, result.reverse.accuracy) == (1.0, 1.0)
    result = ragprobe.check_position(AsyncRetrieveGenerate(), EXAMPLES, n_docs=5, positions=[0, 4], max_drop=0.1)
    assert {p: s.accuracy for p, s in result.positions.items()} == {0: 1.0, 4: 1.0}
'''


def test_every_pipeline_shape_and_document_form(project: pytest.Pytester) -> None:
    """A callable (str / Answer / dict), an object with answer (sync or async) or retrieve + generate
    (sync or async, documents as Documents, dicts or strings), ragprobe.Pipeline(...); attribution of
    misses; what a probe needs (generate, index) said when missing."""
    project.makepyfile(test_shapes=SHAPES)
    result = project.runpytest("-p", "no:xdist", "-W", "ignore::pytest_ragprobe.RagprobeInconclusiveWarning")
    result.assert_outcomes(passed=12)


# -- -p no:ragprobe ---------------------------------------------------------------------------------------


def test_p_no_ragprobe_disables_everything(project: pytest.Pytester) -> None:
    """No probe runs, no report is written (the ini asks for one), the fixtures and options are gone, and a
    module marked with ``ragprobe.reverse`` / ``ragprobe.position`` still collects, also under
    ``--strict-markers`` (the marks are made by the plugin's own API, not typed by hand: it collected as
    an error, "'ragprobe_reverse' not found in `markers`", and warned of an unknown mark at a line of
    the plugin's markers.py without it)."""
    project.makeini("[pytest]\nragprobe_report = out\n")
    project.makepyfile(
        test_off="""
import pytest_ragprobe as ragprobe

calls = []

@ragprobe.reverse(facts="synthetic:3")
def test_reverse_body_runs_without_a_probe(request):
    assert "ragprobe_result" not in request.fixturenames

@ragprobe.position(facts="synthetic:3", n_docs=3)
class TestPosition:
    def test_body(self):
        pass

def test_fixtures_are_gone(request):
    import pytest
    for name in ("ragprobe_result", "ragprobe_fact_pairs", "ragprobe_contexts"):
        with pytest.raises(pytest.FixtureLookupError):
            request.getfixturevalue(name)
"""
    )
    # (in a subprocess: pytest remembers registered marks for the process, so in-process the outer run's
    # registration of the plugin's marks would hide the inner run's)
    for strict in ([], ["--strict-markers"]):
        args = ("-p", "no:xdist", "-p", "no:ragprobe", "-W", "ignore::pytest.PytestConfigWarning", *strict)
        result = project.runpytest_subprocess(*args)
        result.assert_outcomes(passed=3, warnings=0)
        assert "ragprobe:" not in result.stdout.str()  # no header line, no summary
        assert not (project.path / "out").exists()
    result = project.runpytest("-p", "no:xdist", "-p", "no:ragprobe", "--ragprobe-report=out")
    result.stderr.fnmatch_lines(["*unrecognized arguments: --ragprobe-report=out*"])


# -- verdicts reach pytest; report.json ------------------------------------------------------------------

VERDICTS = """
import pytest
import pytest_ragprobe as ragprobe
from conftest import PARTS, Lookup

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(30)]
EXAMPLES = [
    {
        "question": f"Which controller is compatible with pump P-{i}?",
        "answers": [f"C-{i}"],
        "ctxs": [{"title": "catalog", "text": PARTS[i], "hasanswer": True}]
        + [{"title": "manual", "text": f"Manual page {j} about cleaning.", "hasanswer": False} for j in range(4)],
    }
    for i in range(30)
]


class ForwardOnly(Lookup):
    def answer(self, question):
        docs = self.retrieve(question, 3)
        text = docs[0].text if "pump P-" in question else "unknown"
        return ragprobe.Answer(text, documents=docs if "pump P-" in question else [])


class Broken:
    def answer(self, question):
        raise ConnectionError("backend down")


@ragprobe.reverse(facts=FACTS)
def test_pass(ragprobe_result):
    assert ragprobe_result.verdict == "pass" and ragprobe_result.passed

@ragprobe.reverse(facts=FACTS)
@pytest.mark.parametrize("ragprobe_pipeline", [ForwardOnly()])
def test_fail(ragprobe_pipeline, ragprobe_result):
    assert ragprobe_result.verdict == "fail"  # the body runs; the test fails after it

@ragprobe.position(data=EXAMPLES, n_docs=5, positions=[0, 2, 4])
def test_position(ragprobe_result):
    assert set(ragprobe_result.positions) == {0, 2, 4}

@ragprobe.reverse(facts=FACTS[:3])
@pytest.mark.parametrize("ragprobe_pipeline", [Broken()])
def test_error(ragprobe_pipeline, ragprobe_result):
    pass
"""


def _is_interval(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(x, float) for x in value)
        and value[0] <= value[1]
    )


def test_verdicts_reach_pytest_and_report_json_has_the_contract_fields(
    project: pytest.Pytester, plugin_args: list[str]
) -> None:
    project.makepyfile(test_verdicts=VERDICTS)
    result = project.runpytest(*plugin_args, "--ragprobe-report=out", "--ragprobe-retries=0")
    result.assert_outcomes(passed=2, failed=1, errors=1)
    # FAIL: the test fails with the table; a pipeline that errors: a test error with the cause
    result.stdout.fnmatch_lines(["*ragprobe reverse probe FAIL: forward 1.00, reverse 0.00, drop +1.00*"])
    result.stdout.fnmatch_lines(["*direction  accuracy    correct          95% CI*"])
    result.stdout.fnmatch_lines(["ERROR test_verdicts.py::test_error*ConnectionError: backend down*"])
    report = _report(project.path / "out")
    assert report["schema_version"] == 1
    assert isinstance(report["probes"], list)
    probes = {p["nodeid"].split("::", 1)[1]: p for p in report["probes"]}
    assert sorted(probes) == ["test_error[ragprobe_pipeline0]", "test_fail[ragprobe_pipeline0]", "test_pass", "test_position"]
    verdicts = {k: (p["kind"], p["verdict"]) for k, p in probes.items()}
    assert verdicts == {
        "test_pass": ("reverse", "pass"),
        "test_fail[ragprobe_pipeline0]": ("reverse", "fail"),
        "test_position": ("position", "pass"),
        "test_error[ragprobe_pipeline0]": ("reverse", "error"),
    }
    for probe in report["probes"]:
        assert isinstance(probe["nodeid"], str) and probe["nodeid"].startswith("test_verdicts.py::")
        for key in ("n", "calls", "errors"):
            assert type(probe[key]) is int, key
        assert isinstance(probe["metrics"], dict) and isinstance(probe["examples"], list)
    for name in ("test_pass", "test_fail[ragprobe_pipeline0]"):
        metrics = probes[name]["metrics"]
        assert type(metrics["forward_accuracy"]) is float and type(metrics["reverse_accuracy"]) is float
        assert type(metrics["drop"]) is float and type(metrics["p_value"]) is float
        assert _is_interval(metrics["drop_ci"])
        assert probes[name]["n"] == 30 and probes[name]["calls"] == 60 and probes[name]["errors"] == 0
    fail = probes["test_fail[ragprobe_pipeline0]"]["metrics"]
    assert (fail["forward_accuracy"], fail["reverse_accuracy"], fail["drop"]) == (1.0, 0.0, 1.0)
    assert fail["reverse_misses"] == {"retrieval": 30, "reading": 0, "unknown": 0}  # miss attribution
    assert "reverse_misses" not in probes["test_pass"]["metrics"]  # (no miss to attribute)
    position = probes["test_position"]["metrics"]
    assert position["accuracy_by_position"] == {"0": 1.0, "2": 1.0, "4": 1.0}
    assert sorted(position["ci_by_position"]) == ["0", "2", "4"]
    assert all(_is_interval(ci) for ci in position["ci_by_position"].values())
    assert type(position["drop"]) is float and type(position["p_value"]) is float
    assert _is_interval(position["drop_ci"])
    error = probes["test_error[ragprobe_pipeline0]"]
    assert error["errors"] == error["calls"] > 0
    assert "ConnectionError: backend down" in error["reason"]


# -- building blocks as fixtures -------------------------------------------------------------------------

BLOCKS = """
import pytest_ragprobe as ragprobe
from conftest import PARTS

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(10)]


def test_fact_pairs_from_a_list_with_n_and_seed(ragprobe_fact_pairs):
    pairs = ragprobe_fact_pairs(FACTS, n=4, seed=3)
    assert len(pairs) == 4 and all(isinstance(p, ragprobe.FactPair) for p in pairs)
    assert [p.id for p in pairs] == [p.id for p in ragprobe_fact_pairs(FACTS, n=4, seed=3)]  # seeded
    assert {p.id for p in pairs} != {p.id for p in ragprobe_fact_pairs(FACTS, n=4, seed=4)}
    assert len(ragprobe_fact_pairs(FACTS)) == 10  # n: all
    for p in pairs:
        i = p.subject.split("-")[1]
        assert (p.forward.question, list(p.forward.answers)) == (f"Which controller is compatible with pump P-{i}?", [f"C-{i}"])
        assert (p.reverse.question, list(p.reverse.answers)) == (f"Which pump is compatible with controller C-{i}?", [f"P-{i}"])
        assert p.statement == f"Pump P-{i} is compatible with controller C-{i}."


def test_fact_pairs_synthetic(ragprobe_fact_pairs):
    pairs = ragprobe_fact_pairs("synthetic:6", seed=1)
    assert len(pairs) == 6 and len({p.statement for p in pairs}) == 6
    assert [p.statement for p in pairs] == [p.statement for p in ragprobe_fact_pairs("synthetic:6", seed=1)]
    assert {p.statement for p in pairs} != {p.statement for p in ragprobe_fact_pairs("synthetic:6", seed=2)}


def test_contexts_move_only_the_gold(ragprobe_contexts):
    example = {
        "question": "Which controller is compatible with pump P-1?",
        "answers": ["C-1"],
        "ctxs": [{"title": "catalog", "text": PARTS[1], "isgold": True}]
        + [{"title": "manual", "text": f"Manual page {j}.", "isgold": False} for j in range(6)],
    }
    seen = []
    for position, documents in ragprobe_contexts(example, 5, [0, 2, 4], seed=2):
        assert len(documents) == 5 and all(isinstance(d, ragprobe.Document) for d in documents)
        assert documents[position].text == PARTS[1]
        seen.append((position, [d.text for i, d in enumerate(documents) if i != position]))
    assert [p for p, _ in seen] == [0, 2, 4]
    assert seen[0][1] == seen[1][1] == seen[2][1]  # everything else unchanged
    assert [p for p, _ in ragprobe_contexts(example, 5, seed=2)] == [0, 1, 2, 3, 4]  # default: first, quartiles, last
"""


def test_fixture_factories_as_the_contract_states(project: pytest.Pytester) -> None:
    project.makepyfile(test_blocks=BLOCKS)
    project.runpytest("-p", "no:xdist").assert_outcomes(passed=3)


def test_raw_and_sugar_marks_with_a_bad_argument_fail_at_collection_naming_it(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_raw="""
import pytest
@pytest.mark.ragprobe_reverse(facts="synthetic:3", max_dorp=0.1)
def test_x():
    pass
""",
        test_sugar="""
import pytest_ragprobe as ragprobe
@ragprobe.position(data="qa.jsonl", n_docs="ten")
def test_y():
    pass
""",
    )
    result = project.runpytest("-p", "no:xdist", "--collect-only")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*@ragprobe.reverse: unknown argument 'max_dorp' (did you mean 'max_drop'?)*"])
    result.stdout.fnmatch_lines(["*@ragprobe.position: argument 'n_docs' must be an int, got str 'ten'*"])


def _pytest11_entry_points() -> dict[str, str]:
    import tomllib

    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    return dict(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["entry-points"]["pytest11"])


def test_p_no_ragprobe_with_a_conftest_implementing_the_hooks(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, plugin_args: list[str]
) -> None:
    """A conftest.py implementing the documented hooks (pytest_ragprobe_make_pipeline / _report) was an
    INTERNALERROR under -p no:ragprobe ("unknown hook 'pytest_ragprobe_make_pipeline'"): the specs came
    with the plugin it blocks. They come from an entry point of their own, which -p no:ragprobe leaves."""
    # The entry points as pyproject.toml declares them, in a distribution on the path (the installed
    # metadata may predate them; pytest loads an entry point name once, so one installed too is fine)
    dist = project.path / "site" / "ragprobe_entry_points-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ragprobe-entry-points\nVersion: 0\n", encoding="utf-8")
    lines = "".join(f"{name} = {value}\n" for name, value in _pytest11_entry_points().items())
    (dist / "entry_points.txt").write_text(f"[pytest11]\n{lines}", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", f"{dist.parent}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    project.makeconftest(
        CONFTEST
        + """
def pytest_ragprobe_make_pipeline(config, pipeline):
    return None

def pytest_ragprobe_report(config, report, path):
    print("ragprobe report hook called")
"""
    )
    project.makepyfile(
        test_hooks="""
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="synthetic:3")
def test_marked():
    pass

def test_plain():
    pass
"""
    )
    result = project.runpytest_subprocess(*plugin_args, "-p", "no:ragprobe", "-s")
    result.assert_outcomes(passed=2)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert "ragprobe report hook called" not in result.stdout.str()
    # with the plugin, the hooks are called as before
    result = project.runpytest_subprocess(*plugin_args, "-s", "-W", "ignore::pytest_ragprobe.RagprobeInconclusiveWarning")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*ragprobe report hook called*"])


def test_run_options_fill_what_the_mark_leaves_out_and_the_mark_wins(project: pytest.Pytester) -> None:
    """`n` defaults to all facts, capped by --ragprobe-samples; `seed` and `confidence` default to
    --ragprobe-seed / --ragprobe-confidence; a value the mark gives wins over the command line."""
    project.makepyfile(
        test_run_options="""
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(12)]

@ragprobe.reverse(facts=FACTS)
def test_unset():
    pass

@ragprobe.reverse(facts=FACTS, n=3, seed=2, confidence=0.99)
def test_given():
    pass

@ragprobe.reverse(facts=FACTS, n=8)
def test_capped():
    pass
"""
    )
    args = ("-p", "no:xdist", "--ragprobe-report=out", "--ragprobe-samples=5", "--ragprobe-seed=7")
    project.runpytest(*args, "--ragprobe-confidence=0.9").assert_outcomes(passed=3, warnings=3)
    settings = {k: p["settings"] for k, p in _probes(project.path / "out").items()}
    got = {k: (s["n_planned"], s["seed"], s["confidence"]) for k, s in settings.items()}
    assert got == {"test_unset": (5, 7, 0.9), "test_given": (3, 2, 0.99), "test_capped": (5, 7, 0.9)}
