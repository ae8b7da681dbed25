"""The terminal summary, `ragprobe show`, report.md and report.html say the same things the same way: summary
lines in columns, one p-value format, the sample size of a probe the call budget cut short."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import position_probe, report, reverse_probe, text_of

from pytest_ragprobe.cli import main
from pytest_ragprobe.engine import Budget
from pytest_ragprobe.html import render_html
from pytest_ragprobe.pipeline import make_adapter
from pytest_ragprobe.render import explain, size_text, summary_line
from pytest_ragprobe.reporting import ordered, render_markdown
from pytest_ragprobe.results import ProbeResult
from pytest_ragprobe.runner import ProbeContext, RunSettings

BUDGET = "pipeline call budget exhausted: 17 of 100 facts answered both ways"




def mixed() -> list[ProbeResult]:
    """One block of every kind of line, in the terminal's order (failing ones last)."""
    regressed = reverse_probe("t.py::test_reg", "inconclusive", baseline="regression",
                              baseline_message="ragprobe baseline REGRESSION: drop +0.05 -> +0.30")
    errored = ProbeResult(
        nodeid="t.py::test_boom[http]",
        kind="reverse",
        verdict="error",
        calls=5,
        reason="5 of 5 pipeline calls failed (limit 10%); most common cause (5x): HTTP 503",
    )
    return [
        reverse_probe("t.py::test_a"),
        reverse_probe("t.py::test_unsure", "inconclusive"),
        regressed,
        errored,
        reverse_probe("t.py::test_catalog_answers_both_ways", "fail", drop=0.4),
        position_probe(),
    ]


def test_summary_lines_of_a_mixed_block_line_up() -> None:
    from pytest_ragprobe.render import SUMMARY_NODEID_MAX, summary_lines

    # Was: each line padded the verdict to 12 and nothing else, so a regression's label, node ids of
    # different lengths and "[position]" pushed every later field of their line out of step.
    probes = mixed()
    lines = summary_lines(probes)
    longest = max(len(p.nodeid) for p in probes)
    assert longest == 36 < SUMMARY_NODEID_MAX
    assert {line.index(p.nodeid) for line, p in zip(lines, probes, strict=True)} == {25}  # after the label
    kinds = {line.index(f"[{p.kind}]") for line, p in zip(lines, probes, strict=True)}
    assert kinds == {25 + longest + 1}  # the kind column
    measured = [line for line in lines if "drop +" in line]
    assert len(measured) == 5
    assert len({line.index("drop +") for line in measured}) == 1
    assert len({line.index("(n=") for line in measured}) == 1
    assert lines[3].index("5 of 5") == lines[0].index("fwd")  # an error's cause starts where figures do


def test_summary_lines_exact_text() -> None:
    from pytest_ragprobe.render import summary_lines

    lines = summary_lines(mixed())
    assert lines[0] == (
        "PASS                     t.py::test_a                         [reverse]  fwd 0.90 rev 0.88    "
        "drop +0.02 (n=20, 40 calls)"
    )
    assert lines[2] == (
        "INCONCLUSIVE (regressed) t.py::test_reg                       [reverse]  fwd 0.90 rev 0.88    "
        "drop +0.02 (n=20, 40 calls) - baseline REGRESSION: drop +0.05 -> +0.30"
    )
    assert lines[3] == (
        "ERROR                    t.py::test_boom[http]                [reverse]  5 of 5 pipeline calls failed "
        "(limit 10%); most common cause (5x): HTTP 503 (n=0, 5 calls)"
    )
    assert lines[5] == (
        "FAIL                     tests/test_qa.py::test_mid_context   [position] 0:0.89 4:0.47 9:0.92 "
        "drop +0.45 (n=200, 600 calls)"
    )


def test_a_long_nodeid_overflows_its_own_line_only() -> None:
    from pytest_ragprobe.render import SUMMARY_NODEID_MAX, summary_lines

    long_id = "tests/integration/test_catalog.py::test_answers_both_ways[" + "x" * 40 + "]"
    assert len(long_id) > SUMMARY_NODEID_MAX
    lines = summary_lines([reverse_probe("t.py::test_a"), reverse_probe(long_id), reverse_probe("t.py::test_b")])
    assert lines[0] == (
        "PASS         " + "t.py::test_a".ljust(SUMMARY_NODEID_MAX) + " [reverse] fwd 0.90 rev 0.88 drop +0.02 "
        "(n=20, 40 calls)"
    )
    assert lines[1] == f"PASS         {long_id} [reverse] fwd 0.90 rev 0.88 drop +0.02 (n=20, 40 calls)"
    assert lines[2].index("[reverse]") == lines[0].index("[reverse]")


def test_a_lone_summary_line_keeps_its_plain_form() -> None:
    from pytest_ragprobe.render import summary_lines

    assert summary_line(reverse_probe("t.py::test_a")) == (
        "PASS         t.py::test_a [reverse] fwd 0.90 rev 0.88 drop +0.02 (n=20, 40 calls)"
    )
    assert summary_lines([reverse_probe("t.py::test_a")]) == [summary_line(reverse_probe("t.py::test_a"))]
    assert summary_lines([]) == []


def test_an_error_cause_is_one_clipped_line_as_in_report_md() -> None:
    # Was: the whole cause, newlines included, in the line (pytest's ERROR section already shows it)
    cause = "the pipeline raised KeyError:\n" + "q" * 400
    errored = ProbeResult(nodeid="t.py::test_e", kind="reverse", verdict="error", calls=3, reason=cause)
    line = summary_line(errored)
    assert "\n" not in line
    shown = line.split("[reverse] ", 1)[1].rsplit(" (n=0, 3 calls)", 1)[0]
    assert len(shown) == 160 and shown.endswith("…")
    assert shown.startswith("the pipeline raised KeyError: qqq")
    md = render_markdown(report(errored))
    assert "| the pipeline raised KeyError: " + "q" * 129 + "… |" in md  # report.md's cell: 160 too


# -- one p-value format ----------------------------------------------------------------------------------
def test_p_text() -> None:
    from pytest_ragprobe.render import p_text  # the one helper every renderer uses

    assert [p_text(v) for v in (1.863e-09, 0.0, 0.000488, 0.001, 0.012345, 0.5, 1.0)] == [
        "p < 0.001", "p < 0.001", "p < 0.001", "p = 0.001", "p = 0.0123", "p = 0.5", "p = 1",
    ]
    assert [p_text(v) for v in (None, float("nan"), True, "0.1")] == ["p = –"] * 4


@pytest.mark.parametrize(
    ("p_value", "shown"), [(1.863e-09, "p < 0.001"), (0.012345, "p = 0.0123"), (0.5, "p = 0.5")]
)
def test_a_p_value_reads_the_same_in_terminal_show_markdown_and_html(
    p_value: float, shown: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Was: the terminal (failure message, `ragprobe show --explain`) printed "p = 1.863e-09" and
    # "p = 0.01234" (.4g), report.md / report.html "p < 0.001" and "p = 0.0123".
    rev = reverse_probe("t.py::test_rev", "fail", drop=0.4)
    rev.metrics["p_value"] = p_value
    pos = position_probe("t.py::test_pos", p_value=p_value)
    rep = report(rev, pos)
    reverse_phrase, position_phrase = f"exact McNemar {shown} (2 forward-only", f"McNemar {shown}"
    assert reverse_phrase in explain(rev)
    assert any(line.startswith(f"  Holm-adjusted {position_phrase} (") for line in explain(pos).splitlines())
    md, html = render_markdown(rep), text_of(render_html(rep))
    html_shown = shown.replace("<", "&lt;")
    assert reverse_phrase in md and f"Holm-adjusted {position_phrase}" in md
    assert reverse_phrase.replace(shown, html_shown) in html
    assert f"Holm-adjusted McNemar {html_shown}" in html
    path = tmp_path / "report.json"
    path.write_text(rep.model_dump_json(), encoding="utf-8")
    assert main(["show", str(path), "--explain"]) == 1
    out = capsys.readouterr().out
    assert reverse_phrase in out and f"Holm-adjusted {position_phrase}" in out
    assert "Holm-adjusted exact" not in explain(pos) + md + html + out  # one wording everywhere
    for text in (explain(rev), explain(pos), md, html, out):
        assert "e-09" not in text and "0.01234" not in text


# -- a probe the call budget cut short --------------------------------------------------------------------
def test_a_budget_cut_probe_says_so_in_its_size_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Was: "n=17" in the terminal line and report.md's n column, read as the whole sample; only the
    # warnings summary said the budget ended it.
    cut = reverse_probe("t.py::test_cut", "inconclusive", reason=BUDGET, settings={"n_planned": 100})
    cut = cut.model_copy(update={"n": 17, "calls": 35})
    assert size_text(cut) == "17 of 100, budget exhausted"
    assert summary_line(cut).endswith("drop +0.02 (n=17 of 100, budget exhausted, 35 calls)")
    md = render_markdown(report(cut))
    assert "| reverse | 17 of 100, budget exhausted | 35 |" in md
    assert "reverse probe · n=17 of 100, budget exhausted · 35 calls" in md
    assert "n = 17 of 100, budget exhausted" in text_of(render_html(report(cut)))
    path = tmp_path / "report.json"
    path.write_text(report(cut).model_dump_json(), encoding="utf-8")
    main(["show", str(path)])
    assert "(n=17 of 100, budget exhausted, 35 calls)" in capsys.readouterr().out
    # the whole sample answered (the budget ran out at its last call), or nothing answered (the line
    # shows the budget sentence itself): the plain size
    whole = cut.model_copy(update={"n": 100})
    starved = ProbeResult(nodeid="t.py::test_s", kind="reverse", verdict="inconclusive", reason=BUDGET,
                          settings={"n_planned": 100})
    assert (size_text(whole), size_text(starved)) == ("100", "0")
    other = reverse_probe("t.py::test_errs", settings={"n_planned": 100})  # calls left out, no budget
    assert size_text(other) == "20"


def test_show_prints_the_lines_the_terminal_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_ragprobe.render import summary_lines

    probes = mixed()
    path = tmp_path / "report.json"
    path.write_text(report(*probes).model_dump_json(), encoding="utf-8")
    assert main(["show", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()

    terminal_order = ordered(report(*probes).probes, failing_last=True)
    assert out[:-1] == summary_lines(terminal_order)
    assert len({line.index(f"[{p.kind}]") for line, p in zip(out[:-1], terminal_order, strict=True)}) == 1


# -- settings record what the probe ran with ---------------------------------------------------------------
@pytest.mark.parametrize(("run", "mark", "recorded"), [(True, None, True), (False, None, False), (True, False, False)])
def test_a_result_records_the_sequential_setting_it_ran_with(
    run: bool, mark: bool | None, recorded: bool
) -> None:
    # Was: `sequential: null` whenever the mark did not set it, also under --ragprobe-sequential.
    ctx = ProbeContext(adapter=make_adapter(lambda q: q), settings=RunSettings(sequential=run), budget=Budget(None))
    result = ctx.result(kind="reverse", verdict="pass", settings={"max_drop": 0.1, "sequential": mark, "seed": 0})
    assert result.settings == {"max_drop": 0.1, "sequential": recorded, "seed": 0}


def test_unknown_reverse_misses_are_counted_in_the_terminal_too() -> None:
    """The terminal (and `ragprobe show --explain`) said "2 retrieval, 2 reading" of 7 misses; report.md and
    report.html added "3 unknown"."""
    r = reverse_probe("t.py::test_rev", verdict="fail", drop=0.35)
    r.metrics["reverse_misses"] = {"retrieval": 2, "reading": 2, "unknown": 3}
    line = "2 retrieval (gold not retrieved), 2 reading (retrieved, answered wrong), 3 unknown (no documents reported)"
    assert f"  reverse misses: {line}" in explain(r).splitlines()
    assert line.replace("), ", ") · ") in render_markdown(report(r))
    r.metrics["reverse_misses"]["unknown"] = 0
    assert "unknown" not in explain(r) and "unknown" not in render_markdown(report(r))


def test_failed_calls_of_a_fail_are_explained_with_their_cause() -> None:
    """A FAIL said "5 pipeline call(s) failed (after any retries)", with no cause; a PASS's warning named it."""
    r = reverse_probe("t.py::test_rev", verdict="fail", drop=0.35, errors=5, retries=2, error_cause="HTTP 429 (5x)")
    assert (
        "  5 of 40 pipeline calls failed (2 retries in this probe) and were left out of the statistics (n=20); "
        "most common cause: HTTP 429 (5x)"
    ) in explain(r).splitlines()


def test_a_bound_that_rounds_to_max_drop_shows_the_digits_that_tell_them_apart() -> None:
    """"bounds [+0.13, +0.30] include max_drop 0.30 ... PASS (upper bound ≤ 0.30)": the bound was 0.3002."""
    from pytest_ragprobe.render import bounds, derived_reason

    assert bounds([0.1312, 0.3042], near=0.3) == "[+0.13, +0.304]"
    assert bounds([0.1312, 0.3002], near=0.3) == "[+0.13, +0.3002]"
    assert bounds([0.1312, 0.3], near=0.3) == "[+0.13, +0.30]" and bounds([0.1, 0.35], near=0.3) == "[+0.10, +0.35]"
    r = reverse_probe("t.py::test_rev", verdict="inconclusive", drop=0.2)
    r.metrics.update(drop_ci=[0.1312, 0.3002], max_drop=0.3)
    assert "[+0.13, +0.3002] include max_drop 0.30" in derived_reason(r)
    assert "bounds [+0.13, +0.3002] vs max_drop 0.30" in explain(r)
    assert "[+0.13, +0.3002]" in render_markdown(report(r))


def test_every_report_says_how_many_reverse_misses_are_one_way() -> None:
    """"8 retrieval, 4 reading" of 12 reverse misses did not say that 10 of those facts were missed forward
    too: a fact the pipeline does not know at all is not a reversal failure."""
    r = reverse_probe("t.py::test_rev", verdict="fail", drop=0.35)
    r.metrics["reverse_misses"] = {"retrieval": 8, "reading": 4, "unknown": 0}
    r.metrics["reversal_misses"] = {"retrieval": 0, "reading": 2, "unknown": 0}
    part = "2 of the 12 on facts answered right forward: 0 retrieval, 2 reading"
    assert explain(r).splitlines().count(
        f"  reverse misses: 8 retrieval (gold not retrieved), 4 reading (retrieved, answered wrong); {part}"
    ) == 1
    assert f"answered wrong); {part}" in render_markdown(report(r))
    assert f"{part[0].upper()}{part[1:]}." in text_of(render_html(report(r)))
    r.metrics["reversal_misses"] = dict(r.metrics["reverse_misses"])
    assert "; all 12 on facts answered right forward" in explain(r)
    r.metrics["reversal_misses"] = {"retrieval": 0, "reading": 0, "unknown": 0}
    assert "none on facts answered right forward (those facts were missed both ways)" in explain(r)
    del r.metrics["reversal_misses"]  # a report written before they were counted: as it was
    assert "answered right forward" not in explain(r) + render_markdown(report(r)) + text_of(render_html(report(r)))
