"""fixtures/: build_fixtures.py rebuilds the committed files byte for byte (its docstring and
fixtures/README.md promise it), and the files hold what the READMEs say they hold."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_ragprobe.contexts import load_litm
from pytest_ragprobe.facts import load_facts_file
from pytest_ragprobe.scoring import match_contains

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
OUTPUTS = ["catalog/documents.jsonl", "catalog/facts.yaml", "films/facts.yaml", "films/qa.jsonl"]


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of build_fixtures.py run in a tmp dir (it writes beside itself): the outputs it makes."""
    out = tmp_path_factory.mktemp("fixtures")
    shutil.copy(FIXTURES / "build_fixtures.py", out / "build_fixtures.py")
    subprocess.run([sys.executable, str(out / "build_fixtures.py")], check=True, cwd=out)
    return out


@pytest.mark.parametrize("name", OUTPUTS)
def test_build_fixtures_reproduces_the_committed_file_byte_for_byte(rebuilt: Path, name: str) -> None:
    assert (rebuilt / name).read_bytes() == (FIXTURES / name).read_bytes(), (
        f"fixtures/{name} differs from what fixtures/build_fixtures.py writes: rerun it and commit the output"
    )


def test_the_catalog_holds_what_its_readme_says() -> None:
    pages = [json.loads(line) for line in (FIXTURES / "catalog/documents.jsonl").read_text("utf-8").splitlines()]
    assert len(pages) == 60 and all(set(p) == {"id", "title", "text"} for p in pages)
    pumps = [p for p in pages if p["id"].startswith("P-")]
    controllers = [p for p in pages if p["id"].startswith("C-")]
    assert len(pumps) == len(controllers) == 30
    pairs = load_facts_file(FIXTURES / "catalog/facts.yaml")
    assert len(pairs) == 30
    # one-to-one: every reverse question has one right answer
    assert len({p.reverse.answers[0] for p in pairs}) == 30
    for pair in pairs:
        (pump,) = [p for p in pumps if p["id"] == pair.subject]
        assert pump["text"].endswith(f"Compatible controller: {pair.object}.")
        # the controller pages never list pumps, and no other page names the controller as compatible
        assert not any(match_contains(c["text"], [pair.subject]) for c in controllers)
        assert [p["id"] for p in pumps if match_contains(p["text"], [pair.object])] == [pair.subject]


def test_the_films_data_holds_what_its_readme_says() -> None:
    pairs = load_facts_file(FIXTURES / "films/facts.yaml")
    assert len(pairs) == 30
    assert (pairs[0].forward.question, pairs[0].reverse.question) == (
        "Which film did Marisol Quenby direct?",
        "Who directed the film The Salt Orchard?",
    )
    examples = load_litm(FIXTURES / "films/qa.jsonl")
    assert len(examples) == 40
    for ex in examples:
        assert len(ex.distractors) == 14
        assert match_contains(ex.gold.render(), ex.answers)
        # none of the distractors contains the answer (none is dropped as answer-bearing)
        assert not any(match_contains(d.render(), ex.answers) for d in ex.distractors)
        assert ex.gold.title not in {d.title for d in ex.distractors}
