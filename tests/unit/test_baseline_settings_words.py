"""The baseline's "settings changed" message words a list of facts given in the test for a person:
"facts: 30 items -> 40 items", not report.json's placeholder repr "'<30 items>' -> '<40 items>'" (or the
reprs of every Fact of a short list)."""

from __future__ import annotations

from typing import Any

from test_baseline import SETTINGS, as_baseline, reverse_result  # isort: skip

from pytest_ragprobe.baseline import compare

PREFIX = "baseline not compared, probe settings changed: "


def changed(old_facts: Any, new_facts: Any) -> str:
    old = reverse_result(97, 95, forward_only=3, reverse_only=1, settings={**SETTINGS, "facts": old_facts})
    new = reverse_result(97, 95, forward_only=3, reverse_only=1, settings={**SETTINGS, "facts": new_facts})
    got = compare(new, as_baseline(old), confidence=0.95)
    assert got.status == "changed"
    return got.message.removeprefix(PREFIX)


def fact_reprs(n: int) -> list[str]:
    return [f"Fact(subject='P-{i}', relation='compatible_with', object='C-{i}')" for i in range(n)]


def test_lists_of_facts_given_in_the_test_are_said_by_their_size() -> None:
    assert changed("<30 items>", "<40 items>") == "facts: 30 items -> 40 items"
    assert changed(fact_reprs(12), "<40 items>") == "facts: 12 items -> 40 items"
    assert changed(fact_reprs(1), fact_reprs(2)) == "facts: 1 item -> 2 items"
    # the same size, other facts: said so (not "12 items -> 12 items" alone)
    assert changed(fact_reprs(12), fact_reprs(13)[1:]) == "facts: 12 items -> 12 items (other items)"
    # a file's path as before
    assert changed("<30 items>", "fixtures/parts.yaml") == "facts: 30 items -> 'fixtures/parts.yaml'"
