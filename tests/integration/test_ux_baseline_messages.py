"""What a newcomer reads about --ragprobe-baseline / --ragprobe-save-baseline when a run gates nothing, when the
baseline file does not exist yet, and when a partial run keeps probes of the previous baseline file."""

from __future__ import annotations

import pytest
from factories import WRONG_REVERSE_CONFTEST

HEADER = """
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(20)]
"""
NO_CACHE = "--ragprobe-no-cache"


def probe(name: str) -> str:
    return f"\n@ragprobe.reverse(facts=FACTS, max_drop=0.3)\ndef {name}():\n    pass\n"


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
