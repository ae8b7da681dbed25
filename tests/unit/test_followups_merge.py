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


def test_a_merged_strict_probe_reads_as_an_unmerged_strict_run_says_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Merged beside a non-strict shard, a strict shard's INCONCLUSIVE probe read "INCONCLUSIVE (test failed)"
    and "the test failed after the probe: ...", as if its test body had failed: strictness failed it."""
    by_ini = "ragprobe_strict in pytest.ini"
    ini = shard(
        tmp_path, "a", probe("t.py::test_a", "inconclusive"), settings={"strict": True, "strict_by": by_ini}
    )
    lax = shard(tmp_path, "c", probe("t.py::test_c", "inconclusive"), settings={"strict": False})
    assert main(["merge", str(tmp_path / "m"), str(ini), str(lax)]) == 1
    capsys.readouterr()
    own = f"{by_ini} (run of {ini}): INCONCLUSIVE fails"
    md = (tmp_path / "m" / "report.md").read_text(encoding="utf-8")
    html = htmllib.unescape(text_of((tmp_path / "m" / "report.html").read_text(encoding="utf-8")))
    for text in (md, html):
        assert "(test failed)" not in text and "the test failed after the probe" not in text
        assert "INCONCLUSIVE (strict: fails)" in text
    assert f"**Test outcome:** {md_text(f'failed ({own})', 1000)}" in md
    assert f"Test outcome: failed ({own})" in html
    assert main(["show", str(tmp_path / "m"), "--explain"]) == 1
    out = capsys.readouterr().out
    assert "INCONCLUSIVE (strict: fails)" in out and f"test outcome: failed ({own})" in out
    assert "(test failed)" not in out and "the test failed after the probe" not in out


def test_strict_shards_set_different_ways_each_name_their_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """All shards strict, one by the ini, one by the flag: every probe said "--ragprobe-strict; ragprobe_strict
    in pytest.ini: INCONCLUSIVE fails", the joined list, not how its own run was strict."""
    by_ini = "ragprobe_strict in pytest.ini"
    ini = shard(
        tmp_path, "a", probe("t.py::test_a", "inconclusive"), settings={"strict": True, "strict_by": by_ini}
    )
    flag = shard(tmp_path, "b", probe("t.py::test_b", "inconclusive"), settings={"strict": True})
    assert main(["merge", str(tmp_path / "m"), str(ini), str(flag)]) == 1
    capsys.readouterr()
    merged = load_report(tmp_path / "m" / "report.json")
    assert merged.settings["strict"] is True
    assert [p.outcome for p in merged.probes] == ["inconclusive", "inconclusive"]  # counted as a strict run's
    md = (tmp_path / "m" / "report.md").read_text(encoding="utf-8")
    for words in (f"{by_ini} (run of {ini})", f"--ragprobe-strict (run of {flag})"):
        assert f"**Test outcome:** {md_text(f'failed ({words}: INCONCLUSIVE fails)', 1000)}" in md
    assert "; ragprobe_strict in pytest.ini: INCONCLUSIVE fails" not in md


@pytest.mark.parametrize("order", ["strict first", "strict last"])
def test_a_probe_in_a_strict_and_a_non_strict_shard_keeps_the_strict_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], order: str
) -> None:
    """The same INCONCLUSIVE probe in a strict shard and a non-strict one (a job run twice, once strict) is the
    same result, kept once: the later copy was kept, so a non-strict one last passed a test the strict run had
    failed (exit 0). The merged gate is never more lenient than a shard's own: the strict copy is kept."""
    strict = shard(tmp_path, "a", probe("t.py::test_a", "inconclusive"), settings={"strict": True})
    lax = shard(
        tmp_path, "b", probe("t.py::test_a", "inconclusive"), probe("t.py::test_b"), settings={"strict": False}
    )
    shards = [strict, lax] if order == "strict first" else [lax, strict]
    code, stdout, stderr = run_cli(capsys, "merge", tmp_path / "m", *shards)
    assert code == 1, stdout
    assert f"t.py::test_a: kept the copy of the strict shard {strict}" in stderr
    merged = load_report(tmp_path / "m" / "report.json")
    kept = next(p for p in merged.probes if p.nodeid == "t.py::test_a")
    assert kept.test_message == f"--ragprobe-strict (run of {strict}): INCONCLUSIVE fails"
    # merged again with the non-strict shard: the same result, kept strict (was a conflict, or lenient under
    # --prefer last when the non-strict file came last)
    for prefer in ("error", "last"):
        out = tmp_path / f"again-{prefer}"
        code, _, stderr = run_cli(capsys, "merge", "--prefer", prefer, out, tmp_path / "m", lax)
        assert code == 1, stderr
        again = next(p for p in load_report(out / "report.json").probes if p.nodeid == "t.py::test_a")
        assert again.test_message == kept.test_message


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_merged_strict_probe_is_counted_as_the_inconclusive_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its line said "INCONCLUSIVE (strict: fails)" but the counts said "1 test failed after the probe" (merge,
    `ragprobe show`, report.md, report.html), as if its test body had failed. An unmerged strict run counts it
    as inconclusive (its verdict line says strictness failed it): the merged counts say so of that probe."""
    strict = shard(tmp_path, "a", probe("t.py::test_a", "inconclusive"), settings={"strict": True})
    lax = shard(
        tmp_path, "b", probe("t.py::test_b"), probe("t.py::test_c", "inconclusive"), settings={"strict": False}
    )
    counts = "3 probes: 1 pass, 1 inconclusive, 1 inconclusive (strict: fails) -> FAIL"
    code, stdout, _ = run_cli(capsys, "merge", tmp_path / "m", strict, lax)
    assert code == 1 and f", {counts};" in stdout
    code, stdout, _ = run_cli(capsys, "show", tmp_path / "m")
    assert code == 1 and stdout.splitlines()[-1].endswith(f": {counts}")
    md = (tmp_path / "m" / "report.md").read_text(encoding="utf-8")
    html = htmllib.unescape(text_of((tmp_path / "m" / "report.html").read_text(encoding="utf-8")))
    for text in (md, html):
        assert "failed after the probe" not in text
    assert "⚠️ 1 inconclusive · ⚠️ 1 inconclusive (strict: fails)" in md
    assert "1 inconclusive 0 errors 1 inconclusive (strict: fails)" in html
    # the summary of report.json keeps its keys: the probe's outcome is still the failed test it was
    assert load_report(tmp_path / "m" / "report.json").summary["test_failed"] == 1
