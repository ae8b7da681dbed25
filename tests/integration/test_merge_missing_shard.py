"""`ragprobe merge` of -k shards: a shard left out (its job failed to upload, a typo in the artifact list)
is said, not merged into a smaller report that passes in silence."""

from __future__ import annotations

import json

import pytest
from factories import facts_yaml

from pytest_ragprobe.cli import main

CONFTEST = """
import pytest

def answer(question):
    i = int(question.rsplit("-", 1)[1].rstrip("?"))
    if question.startswith("Which controller"):
        return f"C-{i}"
    return f"P-{i}" if i % 3 else "no idea"

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
"""

SUITE = """
import pytest
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="facts.yaml", max_drop=0.6, n=10)
def test_alpha(ragprobe_result):
    pass

@ragprobe.reverse(facts="facts.yaml", max_drop=0.6, n=12)
def test_beta(ragprobe_result):
    pass

@ragprobe.reverse(facts="facts.yaml", max_drop=0.05, n=14)
def test_gamma(ragprobe_result):
    pass

@pytest.mark.skip(reason="not today")
@ragprobe.reverse(facts="facts.yaml", max_drop=0.6, n=10)
def test_skipped(ragprobe_result):
    pass

def test_plain():
    pass
"""


def test_merge_names_the_probes_of_a_missing_shard(
    pytester: pytest.Pytester, plugin_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makefile(".yaml", facts=facts_yaml(40))
    pytester.makepyfile(test_suite=SUITE)
    shards = {"s1": "alpha or plain", "s2": "beta or skipped", "s3": "gamma"}
    for out, keyword in shards.items():
        result = pytester.runpytest_subprocess(
            "-p", "no:randomly", *plugin_args, "--ragprobe-no-cache", "-k", keyword, f"--ragprobe-report={out}"
        )
        assert result.ret in (0, 1), result.stdout.str()
    s1 = json.loads((pytester.path / "s1" / "report.json").read_text())
    # the probes -k left out (not the skipped one, which no shard runs; nor plain tests)
    assert s1["settings"]["deselected"] == ["test_suite.py::test_beta", "test_suite.py::test_gamma"]
    # report.html's run settings count them (a shard of a long suite deselects hundreds)
    assert "2 probes (-k / -m)" in (pytester.path / "s1" / "report.html").read_text()

    def merge(*names: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["merge", str(pytester.path / "merged"), *(str(pytester.path / n) for n in names)])
        return code, capsys.readouterr().err

    code, err = merge("s1", "s2", "s3")
    assert code == 1  # gamma fails
    assert "ran in no shard" not in err
    merged = json.loads((pytester.path / "merged" / "report.json").read_text())
    assert "deselected" not in merged["settings"]

    code, err = merge("s1", "s2")  # gamma's failure is missing: the merge passes, but says why
    assert code == 0
    assert (
        "ragprobe merge: note: 1 probe deselected in a shard ran in no shard (is a shard missing, or was it "
        "deselected in every shard?): test_suite.py::test_gamma\n"
    ) in err
    merged = json.loads((pytester.path / "merged" / "report.json").read_text())
    assert merged["settings"]["deselected"] == ["test_suite.py::test_gamma"]
    assert "1 probe (-k / -m), run in no shard" in (pytester.path / "merged" / "report.html").read_text()

    code, err = merge("s1")
    assert "2 probes deselected in a shard ran in no shard" in err
    assert "test_suite.py::test_beta, test_suite.py::test_gamma" in err
    # a merged report merged again keeps saying it
    code, err = merge("merged", "s2")
    assert "1 probe deselected in a shard ran in no shard" in err and "test_gamma" in err
