"""A pipeline wrong on every question is not worse in reverse (or in the middle), so its probe PASSes; the
note that says so was only in report.json / .md / .html. A PASS at such accuracies is usually a setup bug
(an empty answer field, a wrong response key), so it is a warning in pytest's summary too."""

from __future__ import annotations

import pytest
from factories import facts_yaml

CONFTEST = """
import pytest

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return lambda question: {answer}
"""

TEST = """
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="facts.yaml", max_drop=0.1)
def test_rev():
    pass
"""


SWAPPED = "question.rstrip('?').rsplit(' ', 1)[1].translate(str.maketrans('PC', 'CP'))"  # every answer right


@pytest.mark.xdist_elsewhere  # under -n 2: the [xdist2] tests of this module and test_xdist_engine
@pytest.mark.parametrize(("answer", "warned"), [("''", True), (SWAPPED, False)])
def test_a_pass_at_low_accuracy_is_a_warning(
    pytester: pytest.Pytester, plugin_args: list[str], answer: str, warned: bool
) -> None:
    pytester.makeconftest(CONFTEST.format(answer=answer))
    pytester.makepyfile(test_rev=TEST)
    (pytester.path / "facts.yaml").write_text(facts_yaml(40), encoding="utf-8")
    result = pytester.runpytest(*plugin_args, "--ragprobe-no-cache")
    result.assert_outcomes(passed=1, warnings=1 if warned else 0)
    line = (
        "*RagprobeWarning: test_rev.py::test_rev: PASS, but forward 0.00 and reverse 0.00 are both low: PASS only "
        "says the reverse answers are not worse; set min_accuracy=... to require a floor"
    )
    if warned:
        result.stdout.fnmatch_lines([line])
    else:
        result.stdout.no_fnmatch_line(line)
