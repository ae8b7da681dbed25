"""One parse of a facts file per pytest session for the cost plan, both probes on it and ragprobe_fact_pairs;
a file rewritten between two sessions of one process (pytester in-process runs) is read again."""

from __future__ import annotations

import os

import pytest

from pytest_ragprobe import facts as facts_mod

CSV = "forward_question,forward_answer,reverse_question,reverse_answer\n" + "".join(
    f"Which controller fits pump P-{i}?,C-{i},Which pump fits controller C-{i}?,P-{i}\n" for i in range(1, 7)
)

CONFTEST = """
import pytest

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return lambda question: " ".join(f"{kind}-{i}" for kind in "PCQ" for i in range(1, 7))
"""

TEST = """
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="facts.csv", max_drop=0.5)
def test_all(ragprobe_result):
    pass

@ragprobe.reverse(facts="facts.csv", max_drop=0.5, n=3)
def test_some(ragprobe_result):
    pass

def test_by_hand(ragprobe_fact_pairs):
    print("PUMPS", " ".join(sorted(p.subject or p.reverse.answers[0] for p in ragprobe_fact_pairs("facts.csv"))))
"""


def test_one_parse_per_session_and_a_rewritten_file_is_read_again(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    parses: list[str] = []
    real = facts_mod._parse_facts_text
    monkeypatch.setattr(facts_mod, "_parse_facts_text", lambda s, x, t: parses.append(s) or real(s, x, t))
    facts_mod._FACTS_MEMO.clear()
    path = pytester.path / "facts.csv"
    path.write_text(CSV, encoding="utf-8")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_pumps=TEST)
    args = ("-s", "-p", "no:randomly", "--ragprobe-no-cache")
    result = pytester.runpytest_inprocess(*args)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*ragprobe plan: 2 probes*", "*PUMPS P-1 P-2 P-3 P-4 P-5 P-6*"])
    assert len(parses) == 1  # the plan, two probes and the fixture
    # The same size and time, other facts: the next session in this process sees them.
    stat = path.stat()
    path.write_text(CSV.replace("P-", "Q-"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    result = pytester.runpytest_inprocess(*args)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*PUMPS Q-1 Q-2 Q-3 Q-4 Q-5 Q-6*"])
    assert len(parses) == 2
    facts_mod._FACTS_MEMO.clear()
