"""A run stopped early (Ctrl-C, --ragprobe-budget) says once that the answers so far are in the answer
cache and a re-run resumes from them."""

from __future__ import annotations

import pytest
from factories import facts_yaml

CONFTEST = """
import asyncio
import os
import signal

import pytest

COUNT = [0]


class Rag:
    async def answer(self, question):
        COUNT[0] += 1
        if COUNT[0] == int(os.environ.get("STOP_AT", "0")):  # the call that Ctrl-C's the run (0: none)
            os.kill(os.getpid(), signal.SIGINT)  # (as a user's Ctrl-C)
            await asyncio.sleep(30)
        i = question.rsplit("-", 1)[1].rstrip("?")
        return f"It is C-{i}." if question.startswith("Which controller") else f"Pump P-{i}."


@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return Rag()
"""

TEST = """
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.10)
def test_catalog(ragprobe_result):
    pass
"""

RESUME = "ragprobe: the answers received before * are in the answer cache: a re-run resumes from them*"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makefile(".yaml", facts=facts_yaml(10))
    pytester.makepyfile(test_catalog=TEST)
    return pytester


def resume_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "a re-run resumes from them" in line]


def test_a_run_cut_short_by_the_budget_says_a_rerun_resumes_from_the_cache(project: pytest.Pytester) -> None:
    first = project.runpytest("-p", "no:xdist", "--ragprobe-budget=7")
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["INCONCLUSIVE *budget exhausted*", RESUME])
    assert resume_lines(first) == [
        "ragprobe: the answers received before the call budget (--ragprobe-budget) ran out are in the answer "
        "cache: a re-run resumes from them"
    ]
    # the run that finishes: nothing to say
    assert resume_lines(project.runpytest("-p", "no:xdist")) == []
    # a budget that cuts nothing short: nothing to say either
    assert resume_lines(project.runpytest("-p", "no:xdist", "--ragprobe-budget=100")) == []


def test_no_resume_line_without_the_cache(project: pytest.Pytester) -> None:
    result = project.runpytest("-p", "no:xdist", "--ragprobe-budget=7", "--ragprobe-no-cache")
    result.stdout.fnmatch_lines(["INCONCLUSIVE *budget exhausted*"])
    assert resume_lines(result) == []


def test_a_ctrl_c_run_says_a_rerun_resumes_from_the_cache(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOP_AT", "6")
    result = project.runpytest_subprocess("-p", "no:xdist", "-p", "no:randomly", "--ragprobe-concurrency=1")
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()
    assert resume_lines(result) == [
        "ragprobe: the answers received before the interrupt are in the answer cache: a re-run resumes from them"
    ]
    monkeypatch.setenv("STOP_AT", "0")
    rerun = project.runpytest_subprocess("-p", "no:xdist")
    rerun.stdout.fnmatch_lines(["*(n=10, 15 calls, 5 cached)*"])
    assert resume_lines(rerun) == []


def test_a_ctrl_c_before_any_answer_says_nothing_of_the_cache(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOP_AT", "1")
    result = project.runpytest_subprocess("-p", "no:xdist", "--ragprobe-concurrency=1")
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()
    assert resume_lines(result) == []


def test_under_xdist_the_controller_says_it_from_the_probes_reports(project: pytest.Pytester) -> None:
    result = project.runpytest("-n", "2", "--ragprobe-budget=7")
    result.assert_outcomes(passed=1)
    assert resume_lines(result) == [
        "ragprobe: the answers received before the call budget (--ragprobe-budget) ran out are in the answer "
        "cache: a re-run resumes from them"
    ]
