"""Probes of xfail-marked tests in real runs (plain and under xdist): report.json, report.md, report.html and
the terminal summary say "expected failure" / "unexpected pass", and the run's verdict follows pytest's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import catalog_conftest

import pytest_ragprobe.facts  # noqa: F401  (keep one Fact class across in-process pytester runs)
from pytest_ragprobe.cli import main
from pytest_ragprobe.results import load_report

# Pumps P-i answer both ways (the probe passes); valves V-i only forward (the probe fails).
CONFTEST = catalog_conftest('"I do not know"')

HEADER = """
import pytest
import pytest_ragprobe as ragprobe
from conftest import PUMPS, VALVES
"""

PASSING = """
@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_pumps(ragprobe_result):
    pass
"""

EXPECTED_FAILURE = """
@pytest.mark.xfail(strict=True, reason="one-way <valve> pages")
@ragprobe.reverse(facts=VALVES, max_drop=0.1)
def test_valves(ragprobe_result):
    pass
"""


def _project(pytester: pytest.Pytester, *tests: str) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_catalog=HEADER + "".join(tests))
    return pytester


def _section(stdout: list[str]) -> list[str]:
    """The lines of the terminal summary's ragprobe section."""
    start = next(i for i, line in enumerate(stdout) if "= ragprobe =" in line) + 1
    end = next(i for i in range(start, len(stdout)) if stdout[i].startswith("ragprobe report:"))
    return [line for line in stdout[start:end] if line]


def test_strict_xfail_probe_is_an_expected_failure(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    project = _project(pytester, PASSING, EXPECTED_FAILURE)
    out = project.path / "rp"
    result = project.runpytest(*plugin_args, f"--ragprobe-report={out}")
    result.assert_outcomes(passed=1, xfailed=1)
    assert result.ret == pytest.ExitCode.OK

    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["schema_version"] == 1
    assert data["summary"] == {"pass": 1, "fail": 0, "inconclusive": 0, "error": 0, "xfail": 1}
    pumps, valves = data["probes"]
    assert (pumps["verdict"], pumps["expected_failure"], pumps["unexpected_pass"]) == ("pass", False, False)
    assert valves["verdict"] == "fail"  # the statistical verdict is kept: the data did show the drop
    assert valves["expected_failure"] is True and valves["unexpected_pass"] is False
    assert valves["xfail_reason"] == "one-way <valve> pages"

    assert _section(result.outlines) == [  # failing probes last, just above the verdict line
        "FAIL (xfail) test_catalog.py::test_valves [reverse] fwd 1.00 rev 0.00 drop +1.00 (n=30, 60 calls)"
        " - expected, xfail: one-way <valve> pages",
        "PASS         test_catalog.py::test_pumps  [reverse] fwd 1.00 rev 1.00 drop +0.00 (n=30, 60 calls)",
        "ragprobe: 2 probes: 1 pass, 1 expected failure (xfail) -> PASS",
    ]

    md = (out / "report.md").read_text(encoding="utf-8")
    assert md.startswith("## ✅ pytest-ragprobe: PASS\n")
    assert "**2 probes**: ✅ 1 pass · ✖️ 1 expected failure (xfail) — seed" in md
    assert "| ✖️ | FAIL (xfail) | `test_catalog.py::test_valves` |" in md
    assert "**Test outcome:** xfailed (expected, xfail: one-way &lt;valve&gt; pages)" in md

    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<div class="banner v-pass" role="status"' in html
    assert "<b>1</b> expected failures (xfail)" not in html and "<b>1</b> expected failure (xfail)" in html
    assert '<span class="badge v-xfail" title="xfailed (expected, xfail: one-way &lt;valve&gt; pages)">' in html
    assert "<valve>" not in html


@pytest.mark.xdist_elsewhere  # under -n 2: the [xdist2] tests of this module and test_xdist_engine
def test_plain_failing_probe_is_unchanged(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    plain = EXPECTED_FAILURE.replace('@pytest.mark.xfail(strict=True, reason="one-way <valve> pages")\n', "")
    assert "xfail" not in plain
    project = _project(pytester, PASSING, plain)
    out = project.path / "rp"
    result = project.runpytest(*plugin_args, f"--ragprobe-report={out}")
    result.assert_outcomes(passed=1, failed=1)
    report = load_report(out / "report.json")
    assert report.summary == {"pass": 1, "fail": 1, "inconclusive": 0, "error": 0}
    assert not any(p.expected_failure or p.unexpected_pass or p.xfail_reason for p in report.probes)
    section = _section(result.outlines)
    assert section[1].startswith("FAIL         test_catalog.py::test_valves [reverse]")
    assert section[1].endswith("(n=30, 60 calls)")
    assert section[-1] == "ragprobe: 2 probes: 1 pass, 1 fail -> FAIL"
    assert (out / "report.md").read_text(encoding="utf-8").startswith("## ❌ pytest-ragprobe: FAIL\n")
    assert '<div class="banner v-fail" role="status"' in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.xdist_elsewhere  # under -n 2: the [xdist2] tests of this module and test_xdist_engine
def test_xpass_is_visible(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    project = _project(
        pytester,
        """
@pytest.mark.xfail(reason="maybe fixed")
@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_lenient(ragprobe_result):
    pass

@pytest.mark.xfail(strict=True, reason="must fail")
@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_strict(ragprobe_result):
    pass
""",
    )
    out = project.path / "rp"
    result = project.runpytest(*plugin_args, f"--ragprobe-report={out}")
    result.assert_outcomes(xpassed=1, failed=1)
    report = load_report(out / "report.json")
    lenient, strict = report.probes
    assert (lenient.verdict, lenient.unexpected_pass, lenient.xpass_strict) == ("pass", True, False)
    assert (strict.verdict, strict.unexpected_pass, strict.xpass_strict) == ("pass", True, True)
    assert (lenient.xfail_reason, strict.xfail_reason) == ("maybe fixed", "must fail")
    assert not lenient.expected_failure and not strict.expected_failure
    assert report.summary == {
        "pass": 0,
        "fail": 0,
        "inconclusive": 0,
        "error": 0,
        "xpass": 1,
        "xpass_strict": 1,
    }
    section = _section(result.outlines)
    assert section[0].startswith("PASS (XPASS) test_catalog.py::test_lenient [reverse]")
    assert section[0].endswith(" - unexpected, XPASS: maybe fixed")
    assert section[1].endswith(" - unexpected, XPASS(strict): must fail; pytest failed the test")
    assert section[2] == (
        "ragprobe: 2 probes: 1 unexpected pass (XPASS), 1 unexpected pass (XPASS, strict: fails the run) -> FAIL"
    )
    md = (out / "report.md").read_text(encoding="utf-8")
    assert md.startswith("## ❌ pytest-ragprobe: FAIL\n")
    assert "| ❕ | PASS (XPASS) | `test_catalog.py::test_lenient` |" in md

    # the lenient XPASS alone: visible, but pytest passes and so does the report
    result = project.runpytest(*plugin_args, "-k", "lenient", f"--ragprobe-report={out}")
    result.assert_outcomes(xpassed=1)
    assert result.ret == pytest.ExitCode.OK
    assert _section(result.outlines)[-1] == "ragprobe: 1 probe: 1 unexpected pass (XPASS) -> PASS"
    assert (out / "report.md").read_text(encoding="utf-8").startswith("## ✅ pytest-ragprobe: PASS\n")


def test_strict_xpass_failure_says_the_test_outcome(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    """pytest fails a strict XPASS with "[XPASS(strict)] <reason>"; the probe's section under it had no
    "test outcome:" line, which a failed body's, an xfail's and a regression's have (and report.md's)."""
    project = _project(
        pytester,
        """
@pytest.mark.xfail(strict=True, reason="must fail")
@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_strict(ragprobe_result):
    pass
""",
    )
    result = project.runpytest(*plugin_args)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_strict _*",
            "[[]XPASS(strict)] must fail",
            "*- ragprobe: the probe behind this test -*",
            "ragprobe reverse probe PASS: forward 1.00, reverse 1.00, drop +0.00 (max_drop 0.10, n=30)",
            "  test outcome: failed (unexpected, XPASS(strict): must fail; pytest failed the test)",
            "  reason: drop +0.00, *",
        ]
    )


@pytest.mark.xdist_elsewhere  # under -n 2: the [xdist2] tests of this module and test_xdist_engine
def test_xfailed_setup_error_is_recorded(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    project = _project(
        pytester,
        """
@pytest.mark.xfail(reason="facts not there yet")
@ragprobe.reverse(facts="missing.yaml", max_drop=0.1)
def test_missing(ragprobe_result):
    pass
""",
    )
    out = project.path / "rp"
    result = project.runpytest(*plugin_args, f"--ragprobe-report={out}")
    result.assert_outcomes(xfailed=1)
    (probe,) = load_report(out / "report.json").probes
    assert (probe.verdict, probe.expected_failure, probe.xfail_reason) == (
        "error",
        True,
        "facts not there yet",
    )
    assert _section(result.outlines)[-1] == "ragprobe: 1 probe: 1 expected failure (xfail) -> PASS"


def test_partial_report_already_has_the_flag(pytester: pytest.Pytester) -> None:
    """The report is rewritten after each result: a later test reads the xfail flag of an earlier one."""
    project = _project(
        pytester,
        EXPECTED_FAILURE,
        """
def test_zz_reads_partial_report():
    import json, pathlib
    data = json.loads(pathlib.Path("rp/report.json").read_text(encoding="utf-8"))
    assert data["partial"] is True
    (valves,) = data["probes"]
    assert valves["expected_failure"] is True and valves["xfail_reason"] == "one-way <valve> pages"
    assert data["summary"]["xfail"] == 1 and data["summary"]["fail"] == 0
""",
    )
    result = project.runpytest("--ragprobe-report=rp", "-p", "no:randomly")
    result.assert_outcomes(passed=1, xfailed=1)


def test_merge_of_shards_with_an_expected_failure(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(pytester, PASSING, EXPECTED_FAILURE)
    a, b, merged = project.path / "a", project.path / "b", project.path / "merged"
    project.runpytest("-k", "pumps", f"--ragprobe-report={a}").assert_outcomes(passed=1)
    project.runpytest("-k", "valves", f"--ragprobe-report={b}").assert_outcomes(xfailed=1)
    capsys.readouterr()
    assert main(["merge", str(merged), str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert out == (
        "ragprobe merge: 2 reports, 2 probes: 1 pass, 1 expected failure (xfail) -> PASS; "
        f"wrote {merged / 'report.json'}\n"
    )
    report = load_report(Path(merged / "report.json"))
    assert [(p.verdict, p.expected_failure) for p in report.probes] == [("pass", False), ("fail", True)]


AFTER_THE_PROBE = """
@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_body_assert(ragprobe_result):
    assert ragprobe_result.n > 1000, "needs more facts"

@ragprobe.reverse(facts=VALVES, max_drop=0.1)
def test_skipped_body(ragprobe_result):
    pytest.skip("valves are out of scope today")

@pytest.fixture
def broken():
    yield
    raise RuntimeError("teardown boom")

@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_teardown(broken):
    pass
"""

SKIPPED_FAIL = AFTER_THE_PROBE[AFTER_THE_PROBE.index("@ragprobe.reverse(facts=VALVES") : AFTER_THE_PROBE.index("@pytest.fixture")]


@pytest.mark.xdist_elsewhere  # under -n 2: the [xdist2] tests of this module and test_xdist_engine
def test_reports_follow_pytest_when_the_test_fails_or_skips_after_its_probe(
    pytester: pytest.Pytester, plugin_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Was: the failed body and teardown read PASS (`ragprobe show` exit 0 for a run pytest failed) and the
    # skipped test read FAIL (exit 1 for a run pytest passed).
    project = _project(pytester, PASSING, AFTER_THE_PROBE)
    out = project.path / "rp"
    result = project.runpytest(*plugin_args, f"--ragprobe-report={out}")
    result.assert_outcomes(passed=2, failed=1, skipped=1, errors=1)
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["summary"] == {
        "pass": 1, "fail": 0, "inconclusive": 0, "error": 0, "test_failed": 2, "skipped": 1
    }
    probes = {p["nodeid"].split("::")[1]: p for p in data["probes"]}
    body = probes["test_body_assert"]
    assert (body["verdict"], body["test_outcome"]) == ("pass", "failed")
    assert probes["test_body_assert"]["test_message"].startswith("AssertionError: needs more facts")
    assert probes["test_teardown"]["test_message"] == "in teardown: RuntimeError: teardown boom"
    assert (probes["test_skipped_body"]["verdict"], probes["test_skipped_body"]["test_outcome"]) == (
        "fail",
        "skipped",
    )
    assert probes["test_skipped_body"]["test_message"] == "valves are out of scope today"
    assert probes["test_pumps"]["test_outcome"] == ""
    section = [" ".join(line.split()) for line in _section(result.outlines)]  # (columns padded)
    assert section[0].startswith("FAIL (skipped) test_catalog.py::test_skipped_body [reverse]")
    assert section[1].startswith("PASS test_catalog.py::test_pumps [reverse]")
    assert section[2].startswith("PASS (test failed) test_catalog.py::test_body_assert [reverse]")
    assert section[2].endswith(" - the test failed after the probe: AssertionError: needs more facts")
    assert section[-1] == "ragprobe: 4 probes: 1 pass, 2 tests failed after the probe, 1 skipped -> FAIL"
    # the body's assert is shown with the probe behind it (only its own figures told it apart)
    result.stdout.fnmatch_lines(
        ["*AssertionError: needs more facts*", "*- ragprobe: the probe behind this test -*",
         "ragprobe reverse probe PASS: forward 1.00, reverse 1.00, drop +0.00 (max_drop 0.10, n=30)"]
    )
    capsys.readouterr()
    assert main(["show", str(out)]) == 1
    assert '<div class="banner v-fail" role="status"' in (out / "report.html").read_text(encoding="utf-8")

    # A skip alone does not fail the run, whatever its probe's verdict.
    project.makepyfile(test_catalog=HEADER + PASSING + SKIPPED_FAIL)
    result = project.runpytest(*plugin_args, f"--ragprobe-report={out}")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.OK
    summary = load_report(out / "report.json").summary
    assert summary == {"pass": 1, "fail": 0, "inconclusive": 0, "error": 0, "skipped": 1}
    assert main(["show", str(out)]) == 0


@pytest.mark.xdist_elsewhere  # under -n 2: the [xdist2] tests of this module and test_xdist_engine
def test_a_skip_then_a_teardown_error_reads_as_a_failed_test(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    # Was: "skipped -> PASS" (the skip was recorded first) while pytest exited 1 for the teardown error.
    skip_then_error = """
@pytest.fixture
def broken():
    yield
    raise RuntimeError("teardown boom")

@ragprobe.reverse(facts=PUMPS, max_drop=0.1)
def test_pumps(broken, ragprobe_result):
    pytest.skip("not today")
"""
    project = _project(pytester, skip_then_error)
    out = project.path / "rp"
    result = project.runpytest(*plugin_args, f"--ragprobe-report={out}")
    result.assert_outcomes(skipped=1, errors=1)
    (probe,) = load_report(out / "report.json").probes
    assert (probe.outcome, probe.test_message) == ("test_failed", "in teardown: RuntimeError: teardown boom")
    assert main(["show", str(out)]) == 1
