"""The ragprobe_contexts fixture's ``positions``: an out-of-range position was a plain ValueError from
contexts_for ("positions must be ints in [0, n_docs=10), got [12]"), without the "ragprobe_contexts:
argument ..." its other errors have; a repeated position was taken (the same context twice, counted twice by
whoever tallies them); a NumPy integer (which the mark takes) was refused. Now checked as the mark checks it."""

from __future__ import annotations

import pytest

TEST = """
import numpy as np
import pytest

EX = {"question": "Which controller fits P-1?", "answers": ["C-1"], "gold": "Pump P-1 fits C-1.",
      "distractors": ["a", "b", "c"]}

@pytest.mark.parametrize("positions, problem", [
    ([0, 12], "entries must be ints in [[]0, n_docs=4), got 12"),
    ([-1, 3], "entries must be ints in [[]0, n_docs=4), got -1"),
    ([0, "3"], "entries must be ints in [[]0, n_docs=4), got '3'"),
    ([0, True], "entries must be ints in [[]0, n_docs=4), got True"),
    (2, "must be a list of ints in [[]0, n_docs=4), got int 2"),
    ("03", "must be a list of ints in [[]0, n_docs=4), got str '03'"),
    ([0, 3, 0], "has 0 more than once: each position gives one context; give each once"),
], ids=["above", "negative", "str", "bool", "int", "text", "repeated"])
def test_bad(ragprobe_contexts, positions, problem):
    from pytest_ragprobe.markers import MarkArgumentError
    import fnmatch
    with pytest.raises(MarkArgumentError) as info:
        ragprobe_contexts(EX, 4, positions)   # at the call, not when iterated
    expected = f"ragprobe_contexts: argument 'positions' {problem}"
    assert fnmatch.fnmatchcase(str(info.value), expected), (str(info.value), expected)

def test_numpy_and_ranges(ragprobe_contexts):
    # as the mark takes them: np.linspace(0, 3, 2, dtype=int), a range, a generator
    for given in [np.linspace(0, 3, 2, dtype=int), range(0, 4, 3), (p for p in (0, 3))]:
        got = [(p, type(p)) for p, _ in ragprobe_contexts(EX, 4, given)]
        assert got == [(0, int), (3, int)]
"""


def test_contexts_fixture_checks_positions(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_positions=TEST)
    result = pytester.runpytest("-p", "no:xdist", "-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=8)
