"""@ragprobe.position on a user's own data files through pytest, plain and under -n 2: exact per-position
figures for a reader with a known U-curve, the contexts it was handed, and data errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_ragprobe.contexts import contexts_for

N_QUESTIONS = 20
N_DOCS = 10
POSITIONS = [0, 2, 4, 7, 9]
# The reader is right about question i with the gold at index k iff i % 10 < ACC[k] (tenths): over 20
# questions exactly 2 * ACC[k] right at index k. A U-curve: 1.0 at both edges, 0.3 at index 5.
ACC = [10, 9, 8, 6, 4, 3, 5, 7, 9, 10]

CONFTEST = f"""
import json, os, re
import pytest
import pytest_ragprobe as ragprobe

ACC = {ACC}


def generate(question, documents):
    i = int(re.search(r"item (\\d+)", question).group(1))
    k = next(k for k, d in enumerate(documents) if d.text.startswith(f"The code of item {{i}} is"))
    # one log per process: under -n 2 each worker appends its own calls
    with open(os.path.join(os.environ["CTX_LOG"], f"{{os.getpid()}}.jsonl"), "a", encoding="utf-8") as fh:
        fh.write(json.dumps([question, [d.title for d in documents]]) + "\\n")
    return f"Q{{i}}X" if i % 10 < ACC[k] else "I do not know"


@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.Pipeline(generate=generate, name="u-reader")
"""

TESTS = f"""
import pytest_ragprobe as ragprobe

@ragprobe.position(data="qa.jsonl", n_docs={N_DOCS}, positions={POSITIONS}, max_drop=0.15, seed=5)
def test_jsonl(ragprobe_result):
    pass

@ragprobe.position(data="qa.yaml", n_docs={N_DOCS}, positions={POSITIONS}, max_drop=0.15, seed=5)
def test_yaml(ragprobe_result):
    pass
"""


def rows() -> list[dict[str, Any]]:
    out = []
    for i in range(N_QUESTIONS):
        ctxs = [{"title": f"Item {i}", "text": f"The code of item {i} is Q{i}X.", "isgold": True}]
        ctxs += [
            {"title": f"Note {i}.{j}", "text": f"Shelf note {j} for aisle {i}.", "isgold": False}
            for j in range(12)
        ]
        out.append({"id": f"q{i}", "question": f"What is the code of item {i}?", "answers": [f"Q{i}X"], "ctxs": ctxs})
    return out


def write_user_files(path: Path) -> None:
    data = rows()
    # saved on Windows: a BOM and CRLF line ends
    body = "".join(json.dumps(r) + "\r\n" for r in data)
    (path / "qa.jsonl").write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    lines = []
    for r in data:
        lines += [f"- id: {r['id']}", f"  question: {r['question']}", f"  answers: [{r['answers'][0]}]", "  ctxs:"]
        for c in r["ctxs"]:
            lines.append(f"    - {{title: {c['title']}, text: {c['text']}, isgold: {str(c['isgold']).lower()}}}")
    (path / "qa.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(pytester: pytest.Pytester, plugin_args: list[str], *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    report_dir = pytester.path / "rp"
    result = pytester.runpytest(
        "--ragprobe-no-cache", f"--ragprobe-report={report_dir}", "-p", "no:randomly", *plugin_args, *args
    )
    path = report_dir / "report.json"
    return result, json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def test_u_curve_figures_and_contexts_from_a_users_jsonl_and_yaml(
    pytester: pytest.Pytester, plugin_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = pytester.path / "calls"
    log.mkdir()
    monkeypatch.setenv("CTX_LOG", str(log))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_user=TESTS)
    write_user_files(pytester.path)
    result, report = run(pytester, plugin_args)
    result.assert_outcomes(failed=2)

    correct = {p: 2 * ACC[p] for p in POSITIONS}  # 0: 20, 2: 16, 4: 8, 7: 14, 9: 20
    assert correct == {0: 20, 2: 16, 4: 8, 7: 14, 9: 20}
    probes = sorted(report["probes"], key=lambda p: p["nodeid"])
    assert [p["nodeid"] for p in probes] == ["test_user.py::test_jsonl", "test_user.py::test_yaml"]
    for probe in probes:
        m = probe["metrics"]
        assert (probe["verdict"], probe["n"], probe["calls"], probe["errors"]) == ("fail", 20, 100, 0)
        assert m["correct_by_position"] == {str(p): c for p, c in correct.items()}
        assert m["n_by_position"] == {str(p): 20 for p in POSITIONS}
        assert m["accuracy_by_position"] == {"0": 1.0, "2": 0.8, "4": 0.4, "7": 0.7, "9": 1.0}
        assert (m["best_edge"], m["worst_position"], m["drop"], m["shape"]) == (0, 4, 0.6, "U-shaped")
        # all 20 right at the edge; the 12 with i % 10 >= 4 wrong at position 4; none the other way
        assert m["discordant"] == {"edge_only": 12, "worst_only": 0}
        assert m["docs_per_context"] == [10, 10]
        assert not any("gold documents contain none" in n for n in probe["notes"])
    out = result.stdout.str()
    assert "test_user.py::test_jsonl [position] 0:1.00 2:0.80 4:0.40 7:0.70 9:1.00 drop +0.60 (n=20, 100 calls)" in out

    # The contexts handed to the reader: for each question and position exactly what ragprobe_contexts
    # builds with seed 5 (both files, both processes), the gold at the position, the rest unchanged.
    seen: dict[str, list[list[str]]] = {}
    for f in log.iterdir():
        for line in f.read_text(encoding="utf-8").splitlines():
            question, titles = json.loads(line)
            seen.setdefault(question, []).append(titles)
    assert len(seen) == N_QUESTIONS
    for r in rows():
        expected = sorted(
            [d.title for d in docs] for _, docs in contexts_for(r, N_DOCS, POSITIONS, seed=5)
        )
        assert sorted(seen[r["question"]]) == sorted(expected * 2)  # once per file
        for position, docs in contexts_for(r, N_DOCS, POSITIONS, seed=5):
            assert docs[position].title == f"Item {r['id'][1:]}"


@pytest.mark.xdist_elsewhere  # under -n 2: the [xdist2] tests of this module and test_xdist_engine
def test_data_errors_name_the_file_and_line_and_cost_no_calls(
    pytester: pytest.Pytester, plugin_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = pytester.path / "calls"
    log.mkdir()
    monkeypatch.setenv("CTX_LOG", str(log))
    pytester.makeconftest(CONFTEST)
    data = rows()
    latin = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data[:3]).replace("Shelf", "Régal", 1)
    (pytester.path / "latin.jsonl").write_bytes(latin.encode("latin-1"))
    # question 19's answers are in every passage: no usable distractor, found before the first look
    data[-1]["answers"] = ["aisle", "code"]
    (pytester.path / "short.jsonl").write_text("".join(json.dumps(r) + "\n" for r in data), encoding="utf-8")
    pytester.makepyfile(
        test_bad="""
import pytest_ragprobe as ragprobe

@ragprobe.position(data="latin.jsonl", n_docs=5)
def test_latin(ragprobe_result):
    pass

@ragprobe.position(data="short.jsonl", n_docs=5, sequential=True)
def test_short(ragprobe_result):
    pass
"""
    )
    result, report = run(pytester, plugin_args)
    result.assert_outcomes(errors=2)
    out = result.stdout.str()
    column = json.dumps(data[0], ensure_ascii=False).index("Shelf") + 1
    assert (
        f"latin.jsonl: line 1: not UTF-8 (byte 0xe9 at byte {column + 1} of the line); save the file as UTF-8 "
        "(it is probably Windows-1252 / Latin-1)"
    ) in out
    assert (
        "short.jsonl: line 20: question 'What is the code of item 19?' has only 0 usable distractor(s)"
    ) in out
    calls = {p["nodeid"]: p["calls"] for p in report["probes"]}
    assert calls == {"test_bad.py::test_latin": 0, "test_bad.py::test_short": 0}
    assert list(log.iterdir()) == []
