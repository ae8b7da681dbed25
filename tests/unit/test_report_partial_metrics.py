"""A reverse probe whose metrics have a drop but not every figure (a hand-edited report, or one written
by an older version) read by `ragprobe show`: every report rendered it with a KeyError traceback
(md_brief, the summary line, the headline, the explain table). Each shows what is there, "–" for the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import report, reverse_probe, text_of

from pytest_ragprobe import cli, render
from pytest_ragprobe.reporting import md_brief, render_html, render_markdown
from pytest_ragprobe.results import ProbeResult, report_json


def bare(*missing: str) -> ProbeResult:
    p = reverse_probe("t.py::test_rev", "fail", drop=0.3)
    for key in missing:
        del p.metrics[key]
    return p


def test_md_brief_without_forward_accuracy() -> None:
    assert md_brief(bare("forward_accuracy")).startswith("fwd – → rev 0.60, drop +0.30, bounds ")


def test_md_brief_without_either_accuracy_or_max_drop() -> None:
    brief = md_brief(bare("forward_accuracy", "reverse_accuracy", "max_drop"))
    assert brief.startswith("fwd – → rev –, drop +0.30, bounds ")
    assert brief.endswith(", max –")


def test_terminal_lines_without_the_accuracies() -> None:
    p = bare("forward_accuracy", "reverse_accuracy", "max_drop", "discordant")
    assert render.headline(p) == (
        "ragprobe reverse probe FAIL: forward –, reverse –, drop +0.30 (max_drop –, n=20)"
    )
    assert "fwd – rev –" in render.summary_line(p)
    text = render.explain(p)
    line = next(x for x in text.splitlines() if x.startswith("  drop +0.30, "))
    assert line.endswith(" vs max_drop –; exact McNemar p = 0.5")  # (no discordant counts: none said)


def test_every_report_renders_it() -> None:
    r = report(bare("forward_accuracy"), bare("forward_accuracy", "reverse_accuracy", "max_drop", "discordant"))
    assert "fwd – → rev 0.60" in render_markdown(r)
    assert "t.py::test_rev" in text_of(render_html(r))


@pytest.mark.parametrize("args", [[], ["--explain"], ["--format", "markdown"]])
def test_ragprobe_show_reads_it(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    path = tmp_path / "report.json"
    path.write_text(report_json(report(bare("forward_accuracy")))[1], encoding="utf-8")
    assert "forward_accuracy" not in json.loads(path.read_text(encoding="utf-8"))["probes"][0]["metrics"]
    assert cli.main(["show", str(path), *args]) == 1  # (a FAIL)
    out = capsys.readouterr().out
    assert "t.py::test_rev" in out
    assert "Traceback" not in out


def test_explain_without_a_drop() -> None:
    """A probe with accuracies but no drop (its bounds kept): the explain table's drop line needs one."""
    from factories import position_probe

    for p, first in ((bare("drop"), "  forward        0.90"), (position_probe(), "  0            0.89")):
        p.metrics.pop("drop", None)
        lines = render.explain(p).splitlines()
        assert lines[0] == f"ragprobe {p.kind} probe FAIL"
        assert lines[2].startswith(first)
        assert not any(line.startswith("  drop ") for line in lines)
