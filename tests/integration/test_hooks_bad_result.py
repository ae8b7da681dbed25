"""A ``pytest_ragprobe_make_pipeline`` hook that returns something that is no pipeline: the error blamed
the ragprobe_pipeline fixture ("ragprobe_pipeline is an int ...; or adapt an int in a
pytest_ragprobe_make_pipeline hook"), whose object was fine: the hook's result was not."""

from __future__ import annotations

import pytest

CONFTEST = """
import pytest
import pytest_ragprobe as ragprobe

class Chain:
    def invoke(self, question):
        return "x"

@pytest.fixture
def ragprobe_pipeline():
    return Chain()

def pytest_ragprobe_make_pipeline(config, pipeline):
    return 42  # meant pipeline.invoke, say
"""

TESTS = """
import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(4)]

@ragprobe.reverse(facts=FACTS)
def test_marked(ragprobe_result):
    pass

def test_direct(ragprobe_pipeline):
    ragprobe.check_reverse(ragprobe_pipeline, FACTS)
"""


def test_a_hook_result_that_is_no_pipeline_is_named_as_the_hooks(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_hook=TESTS)
    result = pytester.runpytest("-p", "no:xdist", "-p", "no:randomly")
    result.assert_outcomes(errors=1, failed=1)
    out = result.stdout.str()
    assert (
        "pytest-ragprobe: what pytest_ragprobe_make_pipeline returned for the ragprobe_pipeline fixture's "
        "Chain is an int, which is neither callable nor has any of answer, retrieve, generate, index. Return "
        "a function question -> str, an object with those methods, or ragprobe.Pipeline(answer=..., "
        "retrieve=..., generate=..., index=...) from the hook, or None to leave the object as it is." in out
    )
    assert (
        "what pytest_ragprobe_make_pipeline returned for the pipeline given to check_reverse (a Chain) is an "
        "int, which is neither callable" in out
    )
    assert "adapt an int in a pytest_ragprobe_make_pipeline hook" not in out
