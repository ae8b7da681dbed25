"""The final report.md / report.html of a partial run (stopped at -x, a file that did not collect, a crashed
xdist worker) headline it as `ragprobe show` and pytest's exit status have it: not a pass, though every
probe that finished passed. The files written while the run goes on keep the verdict so far.

Was: "PASS" at the top of both files after a run that pytest, the terminal and `ragprobe show` failed; only
a warning under it said otherwise."""

from __future__ import annotations

import pytest
from factories import catalog_conftest

import pytest_ragprobe.facts  # noqa: F401  (keep one Fact class across in-process pytester runs)
from pytest_ragprobe.cli import main

TESTS = """
from pathlib import Path

import pytest_ragprobe as ragprobe
from conftest import PUMPS

def test_0_while_running():
    # written at the start of the run, before any probe: the verdict so far, not the final word
    assert Path("rp/report.md").read_text(encoding="utf-8").startswith("## ➖ pytest-ragprobe: NO PROBES\\n")

@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_a_pumps(ragprobe_result):
    pass

def test_b_breaks():
    assert False

@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_c_pumps(ragprobe_result):
    pass
"""


def test_a_run_stopped_at_x_is_headlined_as_the_gate_reads_it(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    pytester.makeconftest(catalog_conftest('"no idea"'))
    pytester.makepyfile(test_stop=TESTS)
    result = pytester.runpytest("-p", "no:xdist", "-p", "no:randomly", "-x", "--ragprobe-report=rp")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["ragprobe: 1 probe: 1 pass -> FAIL (partial run: probes may be missing)"])
    rp = pytester.path / "rp"
    md = (rp / "report.md").read_text(encoding="utf-8")
    assert md.startswith("## ❌ pytest-ragprobe: FAIL (partial run)\n")
    html = (rp / "report.html").read_text(encoding="utf-8")
    assert "<title>FAIL (partial run) · pytest-ragprobe report</title>" in html
    assert '<div class="banner v-fail" role="status"' in html
    assert '<p class="verdict">FAIL (partial run)</p>' in html
    capsys.readouterr()
    assert main(["show", str(rp)]) == 1
    assert capsys.readouterr().out.endswith("1 probe: 1 pass -> FAIL (partial run: probes may be missing)\n")
