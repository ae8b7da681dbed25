"""Two probe marks of one kind written on the same function (or the same class, or in one module's
pytestmark) giving the same argument were merged silently into one probe, the decorator nearest the def
winning: the other facts were never probed. Each is now a collection error saying what to write instead.
Marks giving different arguments, and a class or module mark and a function mark, still combine (the
closest value wins per argument).

And a class or module mark that merged into a bad argument showed only ``ERROR test_m.py`` on the short
test summary line of a plain run (under -n 2 it showed the reason): the line now names it in both."""

from __future__ import annotations

import pytest

CONFTEST = """
import pytest

class Rag:
    def index(self, documents):
        pass
    def answer(self, question):
        return "x"

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return Rag()
"""

STACKED = """
import pytest
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="synthetic:4")
@ragprobe.reverse(facts="synthetic:6", max_drop=0.2)
def test_two(ragprobe_result):
    pass
"""

STACKED_RAW_CLASS = """
import pytest

@pytest.mark.ragprobe_position(data="synthetic:4")
@pytest.mark.ragprobe_position(data="synthetic:5")
class TestBoth:
    def test_one(self, ragprobe_result):
        pass
"""

STACKED_PARAMS = """
import pytest
import pytest_ragprobe as ragprobe

@pytest.mark.parametrize("a", [pytest.param(1, marks=ragprobe.reverse(facts="synthetic:4"))])
@pytest.mark.parametrize("b", [pytest.param(2, marks=ragprobe.reverse(facts="synthetic:5", n=3))])
def test_cases(ragprobe_result, a, b):
    pass
"""

STACKED_MODULE = """
import pytest_ragprobe as ragprobe

pytestmark = [ragprobe.reverse(facts="synthetic:4"), ragprobe.reverse(facts="synthetic:5")]

def test_one(ragprobe_result):
    pass
"""

MERGED = """
import pytest
import pytest_ragprobe as ragprobe

pytestmark = ragprobe.reverse(max_drop=0.5)

@ragprobe.reverse(n=3)
class TestMerged:
    @ragprobe.reverse(facts="synthetic:4")
    def test_merged(self, ragprobe_result):
        assert (ragprobe_result.n, ragprobe_result.settings["max_drop"]) == (3, 0.5)

strict = ragprobe.reverse(max_drop=0.3)

@strict  # a mark giving other arguments than the one below: they combine
@ragprobe.reverse(facts="synthetic:4")
def test_policy(ragprobe_result):
    assert (ragprobe_result.n, ragprobe_result.settings["max_drop"]) == (4, 0.3)

class Base:
    pass

@ragprobe.reverse(facts="synthetic:5")
class TestInherited(Base):
    @pytest.mark.parametrize("which", [
        pytest.param(4, marks=ragprobe.reverse(facts="synthetic:4")),
        pytest.param(6, marks=ragprobe.reverse(facts="synthetic:6")),
    ])
    @ragprobe.reverse(max_drop=0.4)
    def test_params(self, ragprobe_result, which):
        assert (ragprobe_result.n, ragprobe_result.settings["max_drop"]) == (which, 0.4)
"""

BAD_MERGE = """
import pytest_ragprobe as ragprobe

pytestmark = ragprobe.position(n_docs=3)

@ragprobe.position(data="synthetic:4", positions=[0, 5])
def test_one(ragprobe_result):
    pass
"""


def test_stacked_marks_are_a_collection_error(
    pytester: pytest.Pytester, plugin_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")  # the short summary lines in full, whatever the terminal's width
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        test_stacked=STACKED,
        test_stacked_class=STACKED_RAW_CLASS,
        test_stacked_module=STACKED_MODULE,
        test_stacked_params=STACKED_PARAMS,
        test_merged=MERGED,
        test_bad_merge=BAD_MERGE,
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "--ragprobe-no-cache", "--continue-on-collection-errors", *plugin_args
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 4, result.stdout.str()
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    fix = (
        "a test runs one probe, with one value per argument: write one test function per probe, or parametrize "
        "the test with a mark per case: pytest.param(..., marks=ragprobe.{kind}({arg}=...))"
    )
    stacked = (
        "test_stacked.py::test_two: @ragprobe.reverse: argument 'facts' given by two marks on test_two "
        "(facts='synthetic:4' and facts='synthetic:6', max_drop=0.2); "
        + fix.format(kind="reverse", arg="facts")
    )
    stacked_class = (
        "test_stacked_class.py::TestBoth::test_one: @ragprobe.position: argument 'data' given by two marks on "
        "class TestBoth (data='synthetic:4' and data='synthetic:5'); "
        + fix.format(kind="position", arg="data")
    )
    stacked_module = (
        "test_stacked_module.py::test_one: @ragprobe.reverse: argument 'facts' given by two marks in the "
        "pytestmark of module test_stacked_module.py (facts='synthetic:4' and facts='synthetic:5'); "
        + fix.format(kind="reverse", arg="facts")
    )
    stacked_params = (
        "test_stacked_params.py::test_cases[[]2-1]: @ragprobe.reverse: argument 'facts' given by two marks in "
        "the pytest.param marks of test_cases[[]2-1] (facts='synthetic:5', n=3 and facts='synthetic:4'); "
        + fix.format(kind="reverse", arg="facts")
    )
    bad_merge = (
        "test_bad_merge.py::test_one: @ragprobe.position: argument 'positions' entries must be ints in "
        "[[]0, n_docs=3), got 5"
    )
    for message in (stacked, stacked_class, stacked_module, stacked_params, bad_merge):
        result.stdout.fnmatch_lines([message])
    # the short test summary names the reason, in a plain run as under -n 2
    for collector, message in [
        ("test_stacked.py", stacked),
        ("test_stacked_class.py::TestBoth", stacked_class),
        ("test_stacked_module.py", stacked_module),
        ("test_stacked_params.py", stacked_params),
        ("test_bad_merge.py", bad_merge),
    ]:
        result.stdout.fnmatch_lines([f"ERROR {collector} - {message}"])


CLOSEST = """
import pytest
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="synthetic:3", max_drop=0.3)
class Base:
    pass

@ragprobe.reverse(facts="synthetic:5")
class TestSub(Base):
    def test_sub(self, ragprobe_result):
        assert (ragprobe_result.n, ragprobe_result.settings["max_drop"]) == (5, 0.3)

@pytest.mark.parametrize("which", [
    pytest.param(4, marks=ragprobe.reverse(facts="synthetic:4")),
    pytest.param(6, marks=ragprobe.reverse(max_drop=0.4)),
])
@ragprobe.reverse(facts="synthetic:6", max_drop=0.2)
def test_param(ragprobe_result, which):
    assert (ragprobe_result.n, ragprobe_result.settings["max_drop"]) == (which, 0.2 if which == 4 else 0.4)
"""


@pytest.mark.xdist_elsewhere  # (marks are read at collection, in each worker as in a plain run)
def test_the_closest_mark_wins(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    """README: "the closest value wins per argument". A base class's mark won over the subclass's own,
    and the test function's decorator over a pytest.param's mark (the case's own, the closest of all)."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_closest=CLOSEST)
    result = pytester.runpytest(
        "-p", "no:randomly", "-p", "no:cacheprovider", "--ragprobe-no-cache", *plugin_args
    )
    result.assert_outcomes(passed=3)
