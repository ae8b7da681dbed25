"""What a newcomer reads about --ragprobe-baseline / --ragprobe-save-baseline when a run gates nothing, when the
baseline file does not exist yet, and when a partial run keeps probes of the previous baseline file."""

from __future__ import annotations

import pytest
from factories import WRONG_REVERSE_CONFTEST, facts_header, reverse_test

HEADER = facts_header(20)
NO_CACHE = "--ragprobe-no-cache"

probe = reverse_test


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeconftest(WRONG_REVERSE_CONFTEST)
    pytester.makepyfile(test_rev=HEADER + probe("test_a") + probe("test_b") + "\ndef test_plain():\n    pass\n")
    monkeypatch.setenv("REVERSE_WRONG", "1")
    return pytester


def test_a_gate_whose_selection_leaves_no_probe_says_nothing_was_gated(
    project: pytest.Pytester, plugin_args: list[str]
) -> None:
    """`-k` that deselects every probe under --ragprobe-baseline: the run passed without a word of the gate."""
    project.runpytest(NO_CACHE, "--ragprobe-save-baseline=bl.json").assert_outcomes(passed=3)
    result = project.runpytest(NO_CACHE, *plugin_args, "--ragprobe-baseline=bl.json", "-k", "test_plain")
    result.assert_outcomes(passed=1)  # (-n 2 does not count the deselected ones)
    result.stdout.fnmatch_lines(["ragprobe baseline: no probe ran, so nothing was gated by *bl.json*"])


def test_no_gate_line_when_only_looking(project: pytest.Pytester) -> None:
    project.runpytest(NO_CACHE, "--ragprobe-save-baseline=bl.json").assert_outcomes(passed=3)
    result = project.runpytest("--collect-only", "--ragprobe-baseline=bl.json", "-k", "test_plain")
    assert "nothing was gated" not in result.stdout.str()


@pytest.mark.parametrize("path", ["bl.json", "baseline_dir"])
def test_a_first_gated_run_that_also_saves_the_baseline_says_to_create_it_first(
    project: pytest.Pytester, path: str
) -> None:
    """A team's first CI run of `--ragprobe-baseline=X --ragprobe-save-baseline=X`: the error told them to
    write one with --ragprobe-save-baseline, which they had given."""
    if path == "baseline_dir":
        (project.path / path).mkdir()
    result = project.runpytest(NO_CACHE, f"--ragprobe-baseline={path}", f"--ragprobe-save-baseline={path}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: --ragprobe-baseline: *{path}* does not exist yet; --ragprobe-save-baseline names the same "
            "file, which this run would write only at its end, so nothing would be gated: create it first with "
            f"a run without --ragprobe-baseline (pytest --ragprobe-save-baseline=*{path}), then gate on it with "
            "both options (no test ran)"
        ]
    )
    assert "file not found" not in result.stderr.str()
    # the two steps it names work
    project.runpytest(NO_CACHE, f"--ragprobe-save-baseline={path}").assert_outcomes(passed=3)
    both = project.runpytest(NO_CACHE, f"--ragprobe-baseline={path}", f"--ragprobe-save-baseline={path}")
    both.assert_outcomes(passed=3)


def test_a_missing_baseline_saved_elsewhere_keeps_the_plain_message(project: pytest.Pytester) -> None:
    result = project.runpytest(NO_CACHE, "--ragprobe-baseline=old.json", "--ragprobe-save-baseline=new.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --ragprobe-baseline: file not found: *old.json*"])


def test_a_partial_save_names_the_probes_it_kept_from_the_previous_baseline(project: pytest.Pytester) -> None:
    """"2 probes of the baseline ... kept in it from the previous file" did not say which."""
    many = HEADER + "".join(probe(f"test_{i}") for i in range(8))
    project.makepyfile(test_rev=many)
    project.runpytest(NO_CACHE, "--ragprobe-save-baseline=bl.json").assert_outcomes(passed=8)
    result = project.runpytest(NO_CACHE, "-k", "test_0 or test_1", "--ragprobe-save-baseline=bl.json")
    result.assert_outcomes(passed=2, deselected=6)
    result.stdout.fnmatch_lines(
        [
            "ragprobe: 6 probes of the baseline *bl.json did not run in this run *",
            "ragprobe: kept from the previous baseline: test_rev.py::test_2, test_rev.py::test_3, "
            "test_rev.py::test_4, test_rev.py::test_5, test_rev.py::test_6 and 1 more",
        ]
    )
    result = project.runpytest(NO_CACHE, "-k", "not test_7", "--ragprobe-save-baseline=bl.json")
    result.stdout.fnmatch_lines(["ragprobe: kept from the previous baseline: test_rev.py::test_7"])
