"""report.md shortened for a PR comment: what fails the run wins the room. The table rows came before any
details, so with 400 probes (134 failing) the passing rows took the room and not one failing probe's details
were kept; and the note must say what was left out."""

from __future__ import annotations

import re

from factories import reverse_probe

from pytest_ragprobe.reporting import MD_MAX_CHARS, render_markdown
from pytest_ragprobe.results import Report


def probes(n: int) -> Report:
    return Report(
        probes=[
            reverse_probe(f"tests/test_x.py::test_case[{i}-{'x' * 60}]", "fail" if i % 3 == 0 else "pass",
                          drop=0.3 if i % 3 == 0 else 0.02)
            for i in range(n)
        ]
    )


def table_rows(md: str) -> list[str]:
    return [line for line in md.splitlines() if re.match(r"\| (❌|✅) \|", line)]


def note(md: str) -> str:
    return next(line for line in md.splitlines() if line.startswith("> Shortened"))


def test_failing_rows_and_details_win_over_passing_rows() -> None:
    md = render_markdown(probes(400))
    assert len(md) <= MD_MAX_CHARS
    rows = table_rows(md)
    assert sum(row.startswith("| ❌ |") for row in rows) == 134  # every failing probe is listed
    sections = re.findall(r"^### ❌ FAIL: `tests/test_x\.py::test_case\[(\d+)-", md, flags=re.M)
    assert len(sections) >= 5
    # the first failing probes in the table (natural node id order: 0, 3, 6, ...)
    assert [int(i) for i in sections] == list(range(0, 3 * len(sections), 3))
    passing = sum(row.startswith("| ✅ |") for row in rows)
    assert passing < 266
    assert note(md) == (
        "> Shortened to stay under GitHub's 65,536-character comment limit: the details of 266 passing (or "
        f"expected) probes and the details of {134 - len(sections)} other probes (the last in the table) and "
        f"the last {266 - passing} rows of the table (passing or expected probes) are left out. The whole run "
        "is in `report.html` and `report.json` (`ragprobe show report.json --explain`)."
    )
    assert f"| | … | {266 - passing} more probes: see report.html | | | | |" in md


def test_passing_rows_fill_what_the_failing_details_leave() -> None:
    md = render_markdown(probes(60), max_chars=30_000)
    assert md.count("### ❌ FAIL") == 20  # every failing probe's details
    assert len(table_rows(md)) == 60  # and every row
    assert note(md).startswith(
        "> Shortened to stay under GitHub's 65,536-character comment limit: the details of 40 passing (or "
        "expected) probes are left out."
    )


def test_sections_left_out_after_some_kept_are_the_last() -> None:
    md = render_markdown(probes(60), max_chars=12_000)
    assert len(md) <= 12_000
    assert md.count("### ❌ FAIL") == 12
    assert len(table_rows(md)) == 22  # the 20 failing, 2 passing
    assert note(md).startswith(
        "> Shortened to stay under GitHub's 65,536-character comment limit: the details of 40 passing (or "
        "expected) probes and the details of 8 other probes (the last in the table) and the last 38 rows of "
        "the table (passing or expected probes) are left out."
    )


def test_no_section_kept_is_not_called_the_last_in_the_table() -> None:
    md = render_markdown(probes(1200))  # 400 failing rows alone take the room
    assert "### " not in md
    rows = table_rows(md)
    assert all(row.startswith("| ❌ |") for row in rows)
    said = note(md)
    assert "the details of 800 passing (or expected) probes and the details of 400 other probes and the last " \
        f"{1200 - len(rows)} rows of the table are left out" in said
