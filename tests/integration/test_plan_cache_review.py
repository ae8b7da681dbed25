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


POS_CONFTEST = """
import pytest
import pytest_ragprobe as ragprobe

def generate(question, documents):
    with open({log!r}, "a") as fh:
        fh.write(question + "\\n")
    return " ".join(d.text for d in documents)

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.Pipeline(generate=generate, name="pos-sim")
"""

POS_TESTS = """
import os
import pytest_ragprobe as ragprobe

@ragprobe.position(data="data.jsonl", n_docs=int(os.environ.get("RP_NDOCS", "3")), max_drop=0.99)
def test_p():
    pass
"""


def _data(extra: str = "") -> str:
    import json

    rows = []
    for i in range(6):
        rows.append(json.dumps({
            "question": f"What is code {i}?", "answers": [f"K{i}"],
            "ctxs": [{"title": f"t{i}", "text": f"Code {i} is K{i}.", "hasanswer": True},
                     {"title": f"d{i}", "text": f"Noise {i}{extra}.", "hasanswer": False}],
        }))
    return "\n".join(rows) + "\n"


def test_position_record_not_reused_after_data_or_settings_change(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RP_NDOCS", raising=False)
    pytester.makeconftest(POS_CONFTEST.format(log=str(pytester.path / "calls.log")))
    pytester.makepyfile(test_pos=POS_TESTS)
    (pytester.path / "data.jsonl").write_text(_data())
    pytester.runpytest("-p", "no:xdist").assert_outcomes(passed=1)
    first = calls(pytester)
    assert first > 0
    result = pytester.runpytest("-p", "no:xdist", "--collect-only", "-q")
    result.stdout.fnmatch_lines([f"*{first} of them are in the answer cache from the last run, so none*"])
    # a distractor's text edited (no question changed): the contexts differ, so do the calls
    (pytester.path / "data.jsonl").write_text(_data(" (edited)"))
    result = pytester.runpytest("-p", "no:xdist", "--collect-only", "-q")
    assert "in the answer cache" not in result.stdout.str()
    (pytester.path / "data.jsonl").write_text(_data())
    monkeypatch.setenv("RP_NDOCS", "2")
    result = pytester.runpytest("-p", "no:xdist", "--collect-only", "-q")
    assert "in the answer cache" not in result.stdout.str()
    result = pytester.runpytest("-p", "no:xdist", "--collect-only", "-q", "--ragprobe-seed=5")
    assert "in the answer cache" not in result.stdout.str()
    result = pytester.runpytest("-p", "no:xdist", "--collect-only", "-q", "--ragprobe-samples=3")
    assert "in the answer cache" not in result.stdout.str()
    monkeypatch.delenv("RP_NDOCS")
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(passed=1)
    assert calls(pytester) == 0


def test_xdist_warm_plan_counts_cached(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    log = str(pytester.path / "calls.log")
    pytester.makeconftest(CONFTEST.format(log=log, name="x"))
    # (facts of its own: probes sharing questions on two workers found each other's answers cached, or not,
    # as the workers' timing fell, so the first run made 20 or 30 calls)
    other = "[ragprobe.Fact(subject=f'P-{i}', relation='compatible_with', object=f'C-{i}') for i in range(100, 105)]"
    pytester.makepyfile(test_x=TESTS + f"\n\n@ragprobe.reverse(facts={other}, max_drop=0.5)\ndef test_s():\n    pass\n")
    pytester.runpytest("-n", "2").assert_outcomes(passed=2)
    assert calls(pytester) == 30
    result = pytester.runpytest("-n", "2", "--ragprobe-budget=5")
    result.assert_outcomes(passed=2)
    assert "covers 5 of up to 30" not in result.stdout.str()
    assert calls(pytester) == 0
