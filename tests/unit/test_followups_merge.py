"""`ragprobe merge` of a strict shard and a non-strict one: each strict probe's message names how its own
run was strict."""

from __future__ import annotations

import html as htmllib
from pathlib import Path

import pytest
from factories import reverse_probe as probe
from factories import text_of
from factories import write_shard as shard

from pytest_ragprobe.cli import main
from pytest_ragprobe.reporting import md_text
from pytest_ragprobe.results import load_report


def test_a_merged_strict_probe_names_how_its_shard_was_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    by_ini = "ragprobe_strict in pytest.ini"
    ini = shard(
        tmp_path, "a", probe("t.py::test_a", "inconclusive"), settings={"strict": True, "strict_by": by_ini}
    )
    flag = shard(tmp_path, "b", probe("t.py::test_b", "inconclusive"), settings={"strict": True})
    lax = shard(tmp_path, "c", probe("t.py::test_c", "inconclusive"), settings={"strict": False})
    assert main(["merge", str(tmp_path / "m"), str(ini), str(flag), str(lax)]) == 1
    capsys.readouterr()
    merged = load_report(tmp_path / "m" / "report.json")
    messages = {p.nodeid: p.test_message for p in merged.probes}
    assert messages == {
        "t.py::test_a": f"{by_ini} (run of {ini}): INCONCLUSIVE fails",
        "t.py::test_b": f"--ragprobe-strict (run of {flag}): INCONCLUSIVE fails",
        "t.py::test_c": "",
    }
    md = (tmp_path / "m" / "report.md").read_text(encoding="utf-8")
    assert md_text(f"{by_ini} (run of {ini}): INCONCLUSIVE fails", 1000) in md
    html = htmllib.unescape(text_of((tmp_path / "m" / "report.html").read_text(encoding="utf-8")))
    assert f"--ragprobe-strict (run of {flag}): INCONCLUSIVE fails" in html
