"""An INCONCLUSIVE probe that --ragprobe-budget stopped says so in its sample-size note: how many more
pipeline calls the estimate would take and that the budget is what to raise (and, when the data fall short
too, that more items are needed as well).

Was: "the data holds 10 more: add more to decide it" (or nothing of the kind), though the data held
questions the budget had not let the probe ask."""

from __future__ import annotations

import re

import pytest

from test_position import SimReader, make_data, spec_of  # isort: skip

from pytest_ragprobe.engine import Budget
from pytest_ragprobe.position_probe import load_examples, run_position
from pytest_ragprobe.runner import context_for, run_sync

MORE = re.compile(r"about (\d+) more")


@pytest.mark.parametrize(("questions", "left"), [(40, 14), (80, 54)])
def test_a_position_probe_stopped_by_the_budget_says_to_raise_it(questions: int, left: int) -> None:
    ctx = context_for(SimReader(0.9, 0.9, per_position=False))
    ctx.budget = Budget(130)  # 26 questions at 5 positions
    examples, pool = load_examples(make_data(questions))
    r = run_sync(lambda: run_position(ctx, spec_of(n_docs=5, max_drop=0.1), examples, pool))
    assert (r.verdict, r.n, r.calls) == ("inconclusive", 26, 130)
    [note] = [n for n in r.notes if "more" in n]
    found = MORE.search(note)
    assert found is not None, note
    more = int(found.group(1))
    budget = (
        f"; the call budget stopped the probe: asking them takes about {more * 5} more pipeline calls "
        "(raise --ragprobe-budget)"
    )
    if left < more:
        budget += f", and the data holds only {left} more: add more questions"
    assert note.endswith(budget), note
    assert "add more to decide it" not in note
