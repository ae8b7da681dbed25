"""@ragprobe.reverse on a user's own facts files: a spreadsheet CSV with a one-to-many relation, YAML codes."""

from __future__ import annotations

import json

import pytest

# Ten pumps; P-1 and P-2 both fit controller C-1 (so "Which pump fits controller C-1?" has two right
# answers). Exported from Excel in a comma-decimal locale: BOM, ';' cells, CRLF, spelled-out headers,
# an unnamed trailing column and a row of empty cells.
ROWS = [(f"P-{k}", "C-1" if k <= 2 else f"C-{k}") for k in range(1, 11)]
CSV = "\ufeffForward Question;Forward Answer;Reverse Question;Reverse Answer;\r\n" + "".join(
    f"Which controller fits pump {p}?;{c};Which pump fits controller {c}?;{p};\r\n" + (";;;;\r\n" if p == "P-5" else "")
    for p, c in ROWS
)

CONFTEST = """
import pytest

CONTROLLER = {f"P-{k}": "C-1" if k <= 2 else f"C-{k}" for k in range(1, 11)}
PUMP = {"C-1": "P-2", "C-3": "P-3", "C-4": "P-4", "C-5": "P-5", "C-6": "P-6"}  # C-7 .. C-10: not found

def answer(question):
    entity = question.rsplit(" ", 1)[1].rstrip("?")
    if "controller fits pump" in question:
        return f"Controller {CONTROLLER[entity]}."
    return f"Pump {PUMP[entity]}." if entity in PUMP else "No pump found."

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
"""

TEST = """
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="pumps.csv", max_drop=0.5)
def test_pumps(ragprobe_result):
    assert (ragprobe_result.forward.correct, ragprobe_result.reverse.correct, ragprobe_result.n) == (9, 5, 9)
"""


@pytest.mark.xdist_elsewhere  # under -n 2: the [xdist2] tests of this module and test_xdist_engine
def test_excel_csv_with_a_one_to_many_relation_scores_either_pump_right(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    # Was: the file did not load (';' cells); read as commas, each C-1 fact accepted only its own pump, so
    # the answer "P-2" was scored wrong for P-1's fact. C-1's question is now asked once, for one of the
    # two facts (it had counted once per fact: 6/10), and either pump is right: reverse 5/9.
    (pytester.path / "pumps.csv").write_bytes(CSV.encode("utf-8"))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_pumps=TEST)
    result = pytester.runpytest("--ragprobe-report=rep", *plugin_args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_pumps.py::test_pumps [[]reverse[]] fwd 1.00 rev 0.56 drop +0.44*"])
    (probe,) = json.loads((pytester.path / "rep" / "report.json").read_text())["probes"]
    assert (probe["verdict"], probe["n"], probe["calls"], probe["errors"]) == ("inconclusive", 9, 18, 0)
    assert probe["metrics"]["forward_accuracy"] == 1.0 and probe["metrics"]["reverse_accuracy"] == pytest.approx(5 / 9)
    assert probe["metrics"]["discordant"] == {"forward_only": 4, "reverse_only": 0}
    assert [n for n in probe["notes"] if "share" in n or "per question" in n] == [
        "2 of 10 facts share their reverse question with another fact (one object, several subjects; e.g. "
        "'Which pump fits controller C-1?' accepts P-1, P-2): any of those answers is scored right",
        "one fact per question is probed, sampled from 9 of 10 facts: a question's one answer counted once "
        "per fact would read as independent evidence it is not",
    ]
    expected = {e["id"]: e["expected"] for e in probe["examples"] if e["direction"] == "reverse"}
    (kept,) = {"0", "1"} & set(expected)  # one of the two C-1 facts
    assert expected[kept] == ["P-1", "P-2"]


def test_yaml_part_codes_are_scored_as_written(pytester: pytest.Pytester) -> None:
    # Was: `answer: 0012` became "10" (YAML 1.1 octal): the pipeline's right "0012" was scored wrong.
    pytester.makefile(
        ".yaml",
        parts="""\
facts:
  - forward: {question: "Which part code does pump P-1 use?", answer: 0012}
    reverse: {question: "Which pump uses part code 0012?", answer: P-1}
""",
    )
    pytester.makeconftest(
        """
import pytest

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return lambda q: "Part code 0012." if "part code does" in q else "Pump P-1."
"""
    )
    pytester.makepyfile(
        test_parts="""
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="parts.yaml", max_drop=0.5)
def test_parts(ragprobe_result):
    assert (ragprobe_result.forward.correct, ragprobe_result.reverse.correct) == (1, 1)
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_the_fact_pairs_fixture_samples_one_fact_per_question(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    # Was: n=6 of these facts gave 6 pairs of which check_reverse then probed fewer (shared questions).
    pytester.makepyfile(
        test_fx="""
import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i // 2}") for i in range(20)]

def test_fx(ragprobe_fact_pairs):
    pairs = ragprobe_fact_pairs(FACTS, n=6, seed=3)
    assert len(pairs) == 6 and len({p.reverse.question for p in pairs}) == 6
    assert [p.id for p in ragprobe_fact_pairs(FACTS, n=6, seed=3)] == [p.id for p in pairs]
    assert len(ragprobe_fact_pairs(FACTS)) == 10  # one per controller
    r = ragprobe.check_reverse(lambda q: "x", pairs, max_drop=0.3)
    assert r.n == 6 and not [n for n in r.notes if "per question" in n]
"""
    )
    pytester.runpytest(*plugin_args).assert_outcomes(passed=1)


def test_the_fact_pairs_fixture_picks_what_the_mark_picks(pytester: pytest.Pytester) -> None:
    """With the same n and seed the fixture sampled other facts than the mark (another salt): a marked
    result could not be redone by hand (forward 0.82 by the mark, 0.77 by hand on one user's file)."""
    pytester.makeconftest(
        """
import pytest

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    # right both ways only for pumps whose number is a multiple of 3: the sample decides the accuracy
    def answer(question):
        entity = question.rsplit(" ", 1)[1].rstrip("?")
        number = int(entity.split("-")[1])
        if number % 3:
            return "no idea"
        return f"C-{number}" if "pump P-" in question else f"P-{number}"
    return answer
"""
    )
    pytester.makepyfile(
        test_same="""
import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(60)]
SEEN = {}

@ragprobe.reverse(facts=FACTS, n=20, seed=3, max_drop=0.3)
def test_mark(ragprobe_result):
    SEEN["mark"] = ragprobe_result.forward.correct

def test_by_hand(ragprobe_fact_pairs, ragprobe_pipeline):
    pairs = ragprobe_fact_pairs(FACTS, n=20, seed=3)
    by_hand = ragprobe.check_reverse(ragprobe_pipeline, pairs, seed=3, max_drop=0.3)
    assert by_hand.forward.correct == SEEN["mark"] and by_hand.n == 20
    other = ragprobe_fact_pairs(FACTS, n=20, seed=4)
    assert [p.id for p in other] != [p.id for p in pairs]
"""
    )
    pytester.runpytest("-p", "no:randomly", "--ragprobe-no-cache").assert_outcomes(passed=2)


def test_the_fact_pairs_fixture_gives_the_marks_failure_by_hand(pytester: pytest.Pytester) -> None:
    """The fixture returned its pairs in the mark's shuffled order and check_reverse shuffled them again:
    the same facts asked in another order, so a sequential probe stopped at another look (n=40, drop 0.475
    by hand against n=35, drop 0.486 by the mark) and the failure listed other examples."""
    pytester.makeconftest(
        """
import pytest

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    def answer(question):  # forward always right, reverse right for even pumps only
        number = int(question.rsplit("-", 1)[1].rstrip("?"))
        if "pump P-" in question:
            return f"C-{number}"
        return f"P-{number}" if number % 2 == 0 else "no idea"
    return answer
"""
    )
    pytester.makepyfile(
        test_same="""
import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(60)]
ARGS = dict(n=40, max_drop=0.3, sequential=True)
SEEN = {}

@ragprobe.reverse(facts=FACTS, **ARGS)
def test_mark(request):
    SEEN["mark"] = request.getfixturevalue("ragprobe_result")

def test_by_hand(ragprobe_fact_pairs, ragprobe_pipeline):
    mark = SEEN["mark"]
    assert mark.stopped_early and mark.verdict == "fail"  # the order decides where it stops
    by_hand = ragprobe.check_reverse(ragprobe_pipeline, ragprobe_fact_pairs(FACTS, n=40), **ARGS)
    assert (by_hand.n, by_hand.drop, by_hand.explain()) == (mark.n, mark.drop, mark.explain())
"""
    )
    result = pytester.runpytest("-p", "no:randomly", "--ragprobe-no-cache")
    result.assert_outcomes(passed=1, failed=1)  # the mark's FAIL, then the same result by hand
    result.stdout.fnmatch_lines(["*test_same.py::test_mark - Failed: ragprobe reverse probe FAIL*"])


def test_a_wrong_fact_in_a_test_module_names_its_line(pytester: pytest.Pytester) -> None:
    """A bad `ragprobe.Fact(...)` in a test module stopped collection with pydantic's ValidationError
    ("1 validation error for Fact ... For further information visit https://errors.pydantic.dev/...")."""
    pytester.makepyfile(
        test_facts_here="""
import pytest_ragprobe as ragprobe

class Part(ragprobe.Fact):
    pass

FACTS = [
    Part(subject="P-1", relation="compatible_with", object="C-1"),
    Part(subject="P-2", relation=2, object="C-2"),
]

@ragprobe.reverse(facts=FACTS, max_drop=0.1)
def test_parts(ragprobe_result):
    pass
"""
    )
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["E *FactFieldError: test_facts_here.py:8: Part(...): field 'relation': must be a str, got int 2"]
    )
    assert "pydantic" not in result.stdout.str()
