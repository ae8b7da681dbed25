"""A probe mark with a bad argument added by a conftest's pytest_collection_modifyitems: under
pytest-xdist the worker's UsageError became an INTERNALERROR (xdist's "assert not crashitem") that never
showed the message. It is now that test's error at setup, naming the argument, with and without -n 2;
the other tests run."""

from __future__ import annotations

import pytest

CONFTEST = """
import pytest
import pytest_ragprobe as ragprobe

class Rag:
    def index(self, documents):
        pass
    def answer(self, question):
        return "x"

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return Rag()

{decorator}
def pytest_collection_modifyitems(items):
    for item in items:
        if item.name == "test_added":
            item.add_marker(pytest.mark.ragprobe_reverse(facts="synthetic:4", max_drop=2))
"""

TESTS = """
def test_added():
    pass

def test_plain():
    pass
"""


@pytest.mark.parametrize("decorator", ["", "@pytest.hookimpl(trylast=True)"], ids=["conftest", "trylast"])
def test_a_bad_added_mark_is_the_tests_error(
    pytester: pytest.Pytester, plugin_args: list[str], decorator: str
) -> None:
    pytester.makeconftest(CONFTEST.format(decorator=decorator))
    pytester.makepyfile(test_dyn=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly", *plugin_args)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*pytest-ragprobe: test_dyn.py::test_added: @ragprobe.reverse: argument 'max_drop' must be in "
            "[[]0.0, 1.0), got 2 (a fraction: 0.02 for 2%)"
        ]
    )
    if not decorator:  # (a trylast hook adds its marks after -m selected, valid ones too)
        # it carries a probe mark: -m ragprobe selects it (not deselected, and so not hidden)
        result = pytester.runpytest_subprocess("-p", "no:randomly", "-m", "ragprobe", *plugin_args)
        outcomes = result.parseoutcomes()
        assert (outcomes.get("errors"), outcomes.get("passed")) == (1, None)
