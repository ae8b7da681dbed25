"""Notes that name a setting name it as the user gave it: `--ragprobe-samples=5 capped ...` and
`--ragprobe-strict: INCONCLUSIVE fails` were said of `ragprobe_samples = 5` / `ragprobe_strict = true` in
the ini file, sending users to look for a flag nobody passed."""

from __future__ import annotations

import json
import sys

import pytest

CONFTEST = """
import pytest
@pytest.fixture
def ragprobe_pipeline():
    def answer(question):
        if "controller is compatible with pump" in question:
            return "C-" + question.rsplit("P-", 1)[1].rstrip("?")
        i = question.rsplit("C-", 1)[1].rstrip("?")
        return "unsure" if i == "0" else "P-" + i
    return answer
"""

# 8 facts, 1 reverse miss: INCONCLUSIVE at max_drop 0.1 (and capped at 6 by ragprobe_samples)
TEST = """
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(8)]
@ragprobe.reverse(facts=FACTS, max_drop=0.1, seed=0)
def test_rev(ragprobe_result):
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_rev=TEST)
    return pytester


def _settings(pytester: pytest.Pytester) -> dict[str, object]:
    return dict(json.loads((pytester.path / "out" / "report.json").read_text(encoding="utf-8"))["settings"])


def _notes(pytester: pytest.Pytester) -> list[str]:
    report = json.loads((pytester.path / "out" / "report.json").read_text(encoding="utf-8"))
    return list(report["probes"][0]["notes"])


@pytest.mark.parametrize("where", ["pytest.ini", "pyproject.toml"])
def test_settings_from_the_ini_file_are_named_by_their_ini_key(project: pytest.Pytester, where: str) -> None:
    if where == "pytest.ini":
        project.makefile(".ini", pytest="[pytest]\nragprobe_samples = 6\nragprobe_strict = true\n")
    else:
        project.makepyprojecttoml('[tool.pytest.ini_options]\nragprobe_samples = "6"\nragprobe_strict = "true"\n')
    result = project.runpytest("-p", "no:xdist", "--ragprobe-report=out")
    result.assert_outcomes(failed=1)
    assert f"ragprobe_samples = 6 in {where} capped the sample at 6 facts (all 8 without it)" in _notes(project)
    result.stdout.fnmatch_lines(
        [
            f"(ragprobe_strict in {where}: INCONCLUSIVE fails)",  # the test's failure message
            f"INCONCLUSIVE (strict: fails)*test_rev.py::test_rev*- ragprobe_strict in {where}: INCONCLUSIVE fails",
        ]
    )
    assert "--ragprobe-strict" not in result.stdout.str() and "--ragprobe-samples" not in result.stdout.str()
    # report.json says where strictness came from, and `ragprobe show` names it as the terminal did
    settings = json.loads((project.path / "out" / "report.json").read_text(encoding="utf-8"))["settings"]
    assert (settings["strict"], settings["strict_by"]) == (True, f"ragprobe_strict in {where}")
    show = project.run(sys.executable, "-m", "pytest_ragprobe.cli", "show", "out")
    assert show.ret == 1
    show.stdout.fnmatch_lines([f"INCONCLUSIVE (strict: fails)*test_rev*- ragprobe_strict in {where}: INCONCLUSIVE fails"])


def test_settings_given_on_the_command_line_or_with_o_are_named_so(project: pytest.Pytester) -> None:
    project.makefile(".ini", pytest="[pytest]\nragprobe_samples = 7\n")  # the command line wins, and is what is named
    result = project.runpytest("-p", "no:xdist", "--ragprobe-report=out", "--ragprobe-samples=6", "--ragprobe-strict")
    result.assert_outcomes(failed=1)
    assert "--ragprobe-samples=6 capped the sample at 6 facts (all 8 without it)" in _notes(project)
    result.stdout.fnmatch_lines(["(--ragprobe-strict: INCONCLUSIVE fails)"])
    assert _settings(project)["strict_by"] == "--ragprobe-strict"
    result = project.runpytest("-p", "no:xdist", "--ragprobe-report=out", "-o", "ragprobe_samples=6")
    result.assert_outcomes(passed=1, warnings=1)
    assert "-o ragprobe_samples=6 capped the sample at 6 facts (all 8 without it)" in _notes(project)
    assert _settings(project)["strict"] is False and "strict_by" not in _settings(project)  # not strict: no source
    project.runpytest("-p", "no:xdist", "--ragprobe-report=out", "-o", "ragprobe_strict=true").assert_outcomes(failed=1)
    assert _settings(project)["strict_by"] == "-o ragprobe_strict=true"


def test_the_last_of_several_o_is_named_as_pytest_uses_it(project: pytest.Pytester) -> None:
    """pytest takes the last ``-o`` of a key: the note named the first ("-o ragprobe_samples=7 capped the
    sample at 6")."""
    result = project.runpytest(
        "-p", "no:xdist", "--ragprobe-report=out", "-o", "ragprobe_samples=7", "-o", "ragprobe_samples=6"
    )
    result.assert_outcomes(passed=1, warnings=1)
    assert "-o ragprobe_samples=6 capped the sample at 6 facts (all 8 without it)" in _notes(project)


def test_assert_ok_under_the_runs_strict_says_so_as_the_mark_does(pytester: pytest.Pytester) -> None:
    """``result.assert_ok()`` of a hand-written probe failed an INCONCLUSIVE under the run's strict with
    the explanation alone: no word of why an INCONCLUSIVE failed (a marked test's failure says it)."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        test_hand="""
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(8)]
def test_run_strict(ragprobe_pipeline):
    ragprobe.check_reverse(ragprobe_pipeline, FACTS, max_drop=0.1).assert_ok()
def test_own_strict(ragprobe_pipeline):
    ragprobe.check_reverse(ragprobe_pipeline, FACTS, max_drop=0.1).assert_ok(strict=True)
"""
    )
    pytester.makefile(".ini", pytest="[pytest]\nragprobe_strict = true\n")
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["E*(ragprobe_strict in pytest.ini: INCONCLUSIVE fails)"])
    result.stdout.fnmatch_lines(["E*(strict=True: INCONCLUSIVE fails)"])


def test_the_default_cache_goes_to_the_rootdir_with_an_ini_file_elsewhere(project: pytest.Pytester) -> None:
    """`pytest -c ci/pytest.ini` wrote the answer cache to ci/.ragprobe_cache (and `-c /dev/null` to
    /dev/): the default is <rootdir>/.ragprobe_cache; an ini value stays beside its ini file."""
    (project.path / "ci").mkdir()
    (project.path / "ci" / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    # (--confcutdir: the ini file's directory by default, which would leave out the conftest.py above it)
    args = ("-p", "no:xdist", "-c", "ci/pytest.ini", f"--rootdir={project.path}", f"--confcutdir={project.path}")
    project.runpytest(*args).assert_outcomes(passed=1, warnings=1)
    assert (project.path / ".ragprobe_cache" / "answers").is_dir()
    assert not (project.path / "ci" / ".ragprobe_cache").exists()
    (project.path / "ci" / "pytest.ini").write_text("[pytest]\nragprobe_cache = answers\n", encoding="utf-8")
    project.runpytest(*args).assert_outcomes(passed=1, warnings=1)
    assert (project.path / "ci" / "answers" / "answers").is_dir()
