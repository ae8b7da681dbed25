"""A shard stopped at -x, re-run by another job for the probes it missed: `ragprobe merge` of the two is
complete (exit 0), not partial because one shard was."""

from __future__ import annotations

import json

import pytest
from factories import facts_yaml

from pytest_ragprobe.cli import main

CONFTEST = """
import pytest

def answer(question):
    i = int(question.rsplit("-", 1)[1].rstrip("?"))
    return f"C-{i}" if question.startswith("Which controller") else f"P-{i}"

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return answer
"""

SUITE = """
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="facts.yaml", max_drop=0.6, n=10)
def test_alpha(ragprobe_result):
    pass

def test_boom():
    assert False

@ragprobe.reverse(facts="facts.yaml", max_drop=0.6, n=10)
def test_beta(ragprobe_result):
    pass
"""


def test_a_stopped_shard_rerun_elsewhere_merges_complete(
    pytester: pytest.Pytester, plugin_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makefile(".yaml", facts=facts_yaml(20))
    pytester.makepyfile(test_suite=SUITE)
    common = ["-p", "no:randomly", "--ragprobe-no-cache"]
    # (serial: where xdist's workers stop at -x is up to their timing)
    stopped = pytester.runpytest_subprocess(*common, "-x", "--ragprobe-report=a")
    assert stopped.ret == 1, stopped.stdout.str()
    a = json.loads((pytester.path / "a" / "report.json").read_text())
    assert a["partial"] is True
    assert a["settings"]["selected"] == ["test_suite.py::test_alpha", "test_suite.py::test_beta"]
    assert [p["nodeid"] for p in a["probes"]] == ["test_suite.py::test_alpha"]
    rerun = pytester.runpytest_subprocess(*common, *plugin_args, "-k", "beta", "--ragprobe-report=b")
    assert rerun.ret == 0, rerun.stdout.str()
    assert "selected" not in json.loads((pytester.path / "b" / "report.json").read_text())["settings"]

    capsys.readouterr()
    code = main(["merge", str(pytester.path / "m"), str(pytester.path / "a"), str(pytester.path / "b")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert json.loads((pytester.path / "m" / "report.json").read_text())["partial"] is False
    assert (
        f"{pytester.path / 'a' / 'report.json'} is partial, but the merged report holds a result for every probe "
        "it missed" in err
    )
    # the stopped shard alone: test_beta is missing
    code = main(["merge", str(pytester.path / "m1"), str(pytester.path / "a")])
    assert code == 1
    assert "1 probe selected in a shard has no result in any shard: test_suite.py::test_beta" in (
        capsys.readouterr().err
    )


def test_a_shard_stopped_by_a_collection_error_rerun_elsewhere_merges_complete(
    pytester: pytest.Pytester, plugin_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makefile(".yaml", facts=facts_yaml(20))
    pytester.makepyfile(test_suite=SUITE.replace("def test_boom():\n    assert False", ""), test_broken="def (")
    common = ["-p", "no:randomly", *plugin_args, "--ragprobe-no-cache"]
    broken = pytester.runpytest_subprocess(*common, "--ragprobe-report=a")
    assert broken.ret == (1 if plugin_args else 2), broken.stdout.str()  # (xdist runs what collected)
    a = json.loads((pytester.path / "a" / "report.json").read_text())
    assert a["partial"] is True and a["settings"]["uncollected"] == ["test_broken.py"]
    assert a["settings"]["selected"] == ["test_suite.py::test_alpha", "test_suite.py::test_beta"]
    rerun = pytester.runpytest_subprocess(*common, "test_suite.py", "--ragprobe-report=b")
    assert rerun.ret == 0, rerun.stdout.str()
    capsys.readouterr()
    code = main(["merge", str(pytester.path / "m"), str(pytester.path / "a"), str(pytester.path / "b")])
    err = capsys.readouterr().err
    # test_broken.py collected in no shard: still partial, and the missing file is named
    assert code == 1, err
    merged = json.loads((pytester.path / "m" / "report.json").read_text())
    assert merged["partial"] is True and merged["settings"]["uncollected"] == ["test_broken.py"]
    assert "selected in a shard" not in err  # alpha and beta: finished in b
