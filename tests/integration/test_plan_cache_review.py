"""Review: cost-plan cached counts must not be claimed for calls the run will not find cached."""

from __future__ import annotations

import pytest

CONFTEST = """
import pytest
import pytest_ragprobe as ragprobe

def answer(question):
    with open({log!r}, "a") as fh:
        fh.write(question + "\\n")
    last = question.split()[-1].rstrip("?")
    return "C-" + last[2:] if last.startswith("P-") else "P-" + last[2:]

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.Pipeline(answer=answer, name={name!r})
"""

TESTS = """
import pytest_ragprobe as ragprobe
FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(10)]

@ragprobe.reverse(facts=FACTS, max_drop=0.5)
def test_r():
    pass
"""


def calls(pytester: pytest.Pytester) -> int:
    log = pytester.path / "calls.log"
    n = len(log.read_text().splitlines()) if log.exists() else 0
    log.unlink(missing_ok=True)
    return n


def test_same_test_id_in_two_rootdirs_sharing_a_cache_dir(pytester: pytest.Pytester) -> None:
    """Two projects with the same test id and a shared --ragprobe-cache: the one that never ran must not
    be told its calls are cached (the other project's pipeline asked them)."""
    log = str(pytester.path / "calls.log")
    for name in ("a", "b"):
        d = pytester.mkdir(name)
        (d / "pytest.ini").write_text("[pytest]\n")
        (d / "conftest.py").write_text(CONFTEST.format(log=log, name=f"pipe-{name}"))
        (d / "test_x.py").write_text(TESTS)
    shared = str(pytester.path / "shared_cache")
    pytester.runpytest("-p", "no:xdist", "a", f"--ragprobe-cache={shared}").assert_outcomes(passed=1)
    assert calls(pytester) == 20
    result = pytester.runpytest("-p", "no:xdist", "b", f"--ragprobe-cache={shared}", "--collect-only", "-q")
    assert "in the answer cache" not in result.stdout.str()
    result = pytester.runpytest("-p", "no:xdist", "b", f"--ragprobe-cache={shared}")
    result.assert_outcomes(passed=1)
    assert calls(pytester) == 20  # b's pipeline asked every call: none was cached for it
    # and each project keeps its own record: a's warm plan still counts its calls
    result = pytester.runpytest("-p", "no:xdist", "a", f"--ragprobe-cache={shared}", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*20 of them are in the answer cache from the last run, so none*"])
