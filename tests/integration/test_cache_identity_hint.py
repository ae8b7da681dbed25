"""A pipeline whose identity changes every run (a temporary directory made in ``__init__``) never
hits the answer cache: the end of the run says so, once, naming what changed."""

from __future__ import annotations

import json

import pytest
from factories import facts_yaml

CONFTEST = """
import tempfile
import pytest

class Pipe:
{version}
    def __init__(self):
        self.workdir = tempfile.mkdtemp()

    def answer(self, question):
        i = question.rsplit("-", 1)[1].rstrip("?")
        return ("C-" if question.startswith("Which controller") else "P-") + i

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return Pipe()
"""

TEST = """
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.5)
def test_a(ragprobe_result):
    pass
"""


def _project(pytester: pytest.Pytester, version: str = "") -> None:
    pytester.makeconftest(CONFTEST.format(version=f"    version = {version!r}" if version else ""))
    pytester.makefile(".yaml", facts=facts_yaml(12))
    pytester.makepyfile(test_probes=TEST)


NOTICE = "ragprobe: the answer cache had no answers for conftest.Pipe#"


def test_an_identity_that_changes_every_run_is_named_from_the_third_run(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    _project(pytester)
    first = pytester.runpytest(*plugin_args, "--ragprobe-cache=answers")
    first.assert_outcomes(passed=1)
    assert "answer cache had no answers" not in first.stdout.str()  # a first run: nothing to compare
    second = pytester.runpytest(*plugin_args, "--ragprobe-cache=answers")
    second.assert_outcomes(passed=1)
    assert "answer cache had no answers" not in second.stdout.str()  # one change may be on purpose
    third = pytester.runpytest(*plugin_args, "--ragprobe-cache=answers")
    third.assert_outcomes(passed=1)
    out = third.stdout.str()
    assert out.count(NOTICE) == 1, out  # once, on the xdist controller too
    line = next(ln for ln in out.splitlines() if NOTICE in ln)
    assert "(24 calls); it holds 2 other configurations of conftest.Pipe, last used " in line
    assert "what differs from the latest: attribute 'workdir'." in line
    assert "set a `version` attribute on the pipeline" in line
    # without the cache there is nothing to say
    off = pytester.runpytest(*plugin_args, "--ragprobe-cache=answers", "--ragprobe-no-cache")
    assert "answer cache had no answers" not in off.stdout.str()


def test_a_versioned_pipeline_hits_and_gets_no_notice(pytester: pytest.Pytester) -> None:
    _project(pytester, version="1")
    pytester.runpytest("--ragprobe-cache=answers").assert_outcomes(passed=1)
    second = pytester.runpytest("--ragprobe-cache=answers")
    second.assert_outcomes(passed=1)
    out = second.stdout.str()
    assert "answer cache had no answers" not in out
    assert "0 calls, 24 cached" in out, out
    # its one identity is recorded once, beside its answers
    (sidecar,) = (pytester.path / "answers" / "identities").glob("*.json")
    assert json.loads(sidecar.read_text())["identity"].startswith("conftest.Pipe@1")
