"""report.md shortened for a PR comment: its note said the details left out were of "N other probes (the
last in the table)" also when no probe's details fitted at all, the failing ones first in the table."""

from __future__ import annotations

from factories import reverse_probe

from pytest_ragprobe.reporting import render_markdown
from pytest_ragprobe.results import Report


def probes(n: int) -> Report:
    return Report(
        probes=[
            reverse_probe(f"tests/test_x.py::test_case[{i}-{'x' * 60}]", "fail" if i % 3 == 0 else "pass",
                          drop=0.3 if i % 3 == 0 else 0.02)
            for i in range(n)
        ]
    )


def test_no_section_kept_is_not_called_the_last_in_the_table() -> None:
    md = render_markdown(probes(400))
    assert "### " not in md  # (the table rows took the room)
    assert (
        "the details of 266 passing (or expected) probes and the details of 134 other probes and the last "
        "154 rows of the table are left out" in md
    )


def test_sections_left_out_after_some_kept_are_the_last() -> None:
    md = render_markdown(probes(60), max_chars=18_000)
    assert md.count("### ❌ FAIL") == 9
    assert (
        "the details of 40 passing (or expected) probes and the details of 11 other probes (the last in the "
        "table) are left out" in md
    )
