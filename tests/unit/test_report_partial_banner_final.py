"""The partial banner of report.md / report.html: a final report (the run has ended) is not said to be
"still in progress"; it says what stopped and which probes are missing. A write made while the run goes on
keeps the mid-run wording."""

from __future__ import annotations

from factories import report, reverse_probe, text_of

from pytest_ragprobe.reporting import render_html, render_markdown
from pytest_ragprobe.results import Report


def stopped() -> Report:
    r = report(reverse_probe("t.py::test_a"), selected=["t.py::test_a", "t.py::test_b"], planned=2)
    r.partial = True
    return r


def test_the_final_banner_says_the_run_stopped_and_names_the_missing_probes() -> None:
    r = stopped()
    md = render_markdown(r)
    assert (
        "> **Partial run**: the run was interrupted or stopped early (-x / --maxfail) before every probe "
        "finished (1 of 2 probes finished); missing: `t.py::test_b`. `ragprobe show` / `merge` fail it "
        "(exit 1)." in md
    )
    assert "still going" not in md
    html = text_of(render_html(r))
    assert (
        "Partial run: the run was interrupted or stopped early (-x / --maxfail) before every probe finished "
        "(1 of 2 probes finished); missing: t.py::test_b. ragprobe show / merge fail it (exit 1)." in html
    )
    assert "still in progress" not in html


def test_a_mid_run_write_keeps_the_mid_run_banner() -> None:
    r = stopped()
    md = render_markdown(r, running=True)
    assert "the run was interrupted, stopped early (-x / --maxfail) or is still going (1 of 2 probes" in md
    assert "As it stands, `ragprobe show` / `merge` fail it (exit 1)." in md
    html = text_of(render_html(r, running=True))
    assert "(interrupted, stopped early by -x / --maxfail, or still in progress) (1 of 2 probes finished)" in html


def test_a_final_crashed_or_merged_banner_says_what_stopped() -> None:
    both = ["t.py::test_a", "t.py::test_b"]
    crashed = report(reverse_probe("t.py::test_a"), crashed=["t.py::test_b"], selected=both)
    crashed.partial = True
    md = render_markdown(crashed)
    assert (
        "> **Partial run**: the run ended before every probe finished; missing: `t.py::test_b`. An xdist worker "
        "crashed running t.py::test_b." in md
    )
    merged = report(reverse_probe("t.py::test_a"), merged_from=["a/report.json", "b/report.json"])
    merged.partial = True
    html = text_of(render_html(merged))
    assert (
        "Partial run: a shard merged here stopped before every probe finished, and no shard merged here has "
        "the probes it missed; probes are missing. ragprobe show / merge fail it (exit 1)." in html
    )
