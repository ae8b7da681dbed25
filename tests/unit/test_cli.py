"""`ragprobe merge` / `ragprobe show`: merging shards, exit codes, messages that name the file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from factories import reverse_probe as probe
from factories import write_shard as shard

from pytest_ragprobe.cli import main
from pytest_ragprobe.results import ProbeResult, load_report


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_merge_unions_shards_and_writes_three_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a"), probe("t.py::test_b"), seed=7)
    b = shard(tmp_path, "b", probe("t.py::test_c"), seed=7)
    out = tmp_path / "merged"
    code, stdout, stderr = run(capsys, "merge", out, a, b.parent)  # a file and a directory
    assert code == 0, stderr
    assert stdout == f"ragprobe merge: 2 reports, 3 probes: 3 pass -> PASS; wrote {out / 'report.json'}\n"
    assert stderr == ""
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.md"]
    merged = load_report(out / "report.json")
    assert [p.nodeid for p in merged.probes] == ["t.py::test_a", "t.py::test_b", "t.py::test_c"]
    assert merged.summary == {"pass": 3, "fail": 0, "inconclusive": 0, "error": 0}
    assert merged.seed == 7 and not merged.partial
    assert merged.settings["merged_from"] == [str(a), str(b)]
    assert "PASS" in (out / "report.html").read_text(encoding="utf-8")
    assert (out / "report.md").read_text(encoding="utf-8").startswith("## ✅ pytest-ragprobe: PASS")


def test_merge_exits_1_on_fail_or_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a"))
    b = shard(tmp_path, "b", probe("t.py::test_b", "fail", drop=0.4))
    code, stdout, _ = run(capsys, "merge", tmp_path / "out", a, b)
    assert code == 1
    assert "2 probes: 1 pass, 1 fail -> FAIL;" in stdout
    c = shard(
        tmp_path, "c", ProbeResult(nodeid="t.py::test_c", kind="position", verdict="error", reason="boom")
    )
    code, stdout, _ = run(capsys, "merge", tmp_path / "out2", a, c)
    assert code == 1
    assert "2 probes: 1 pass, 1 error -> ERROR;" in stdout


def test_merge_strict_fails_inconclusive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a"), probe("t.py::test_b", "inconclusive"))
    code, stdout, _ = run(capsys, "merge", tmp_path / "out", a)
    assert code == 0
    assert "ragprobe merge: 1 report, 2 probes: 1 pass, 1 inconclusive -> INCONCLUSIVE;" in stdout
    code, stdout, _ = run(capsys, "merge", "--strict", tmp_path / "out", a)
    assert code == 1
    assert "-> FAIL (strict: inconclusive fails);" in stdout


def test_merge_partial_shard_makes_partial_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a"), partial=True, settings={"planned": 3})
    b = shard(tmp_path, "b", probe("t.py::test_b"))
    code, stdout, _ = run(capsys, "merge", tmp_path / "out", a, b)
    # a shard's planned count is its own: the merged report does not claim "2 of 3 finished"
    assert "planned" not in load_report(tmp_path / "out" / "report.json").settings
    assert "probes finished" not in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    # A partial shard comes from a run that crashed, was killed or interrupted (pytest did not exit 0), and
    # the probes missing from it may be failing ones: the gate fails, though every probe in it passed.
    assert code == 1
    assert "2 probes: 2 pass -> FAIL (partial run: probes may be missing);" in stdout
    assert load_report(tmp_path / "out" / "report.json").partial
    assert 'id="partial"' in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    code, stdout, _ = run(capsys, "show", a)
    assert code == 1
    assert stdout.endswith(f"ragprobe: {a}: 1 probe: 1 pass -> FAIL (partial run: probes may be missing)\n")
    failing = shard(tmp_path, "c", probe("t.py::test_c", "fail", drop=0.4), partial=True)
    code, stdout, _ = run(capsys, "show", failing)
    assert code == 1
    assert stdout.endswith(f"ragprobe: {failing}: 1 probe: 1 fail -> FAIL (partial run: probes may be missing)\n")


def test_empty_report_exits_5_not_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A run whose -k / -m left no probe writes an empty report: a gate reading it must not pass.
    empty = shard(tmp_path, "empty")
    code, stdout, stderr = run(capsys, "show", empty)
    assert code == 5
    assert stdout == f"ragprobe: {empty}: 0 probes -> NO PROBES\n"
    assert "holds no probe, so nothing was gated" in stderr
    code, _, _ = run(capsys, "show", "--format", "markdown", empty)
    assert code == 5
    code, stdout, _ = run(capsys, "merge", tmp_path / "out", empty, shard(tmp_path, "also-empty"))
    assert code == 5
    assert "0 probes -> NO PROBES" in stdout
    # One empty shard among others is an ordinary shard (a -k split that matched nothing there).
    code, _, _ = run(capsys, "merge", tmp_path / "out2", empty, shard(tmp_path, "a", probe("t.py::test_a")))
    assert code == 0
    # An empty partial report (the run died before any probe finished) fails, as before.
    code, _, _ = run(capsys, "show", shard(tmp_path, "died", partial=True))
    assert code == 1


def test_merge_identical_duplicate_is_kept_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a", duration_s=1.0))
    b = shard(tmp_path, "b", probe("t.py::test_a", duration_s=2.5))  # same result, other timing
    code, stdout, stderr = run(capsys, "merge", tmp_path / "out", a, b)
    assert code == 0, stderr
    assert "1 probe: 1 pass -> PASS" in stdout
    assert (
        "ragprobe merge: note: 1 probe(s) appeared in more than one shard with the same result; "
        "kept once: t.py::test_a\n"
    ) in stderr


def test_merge_refuses_a_file_name_as_out_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a"))
    code, _, stderr = run(capsys, "merge", tmp_path / "merged.json", a)
    assert code == 2 and "OUT_DIR is the directory for report.json / .md / .html, not a file name" in stderr
    assert not (tmp_path / "merged.json").exists()


def test_merge_conflicting_duplicate_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a"))
    b = shard(tmp_path, "b", probe("t.py::test_a", "fail", drop=0.4))
    out = tmp_path / "out"
    code, stdout, stderr = run(capsys, "merge", out, a, b)
    assert code == 2
    assert stdout == ""
    assert stderr.startswith("ragprobe merge: error: conflicting shards:\n")
    assert f"t.py::test_a is in {a} (pass) and in {b} (fail) with different results" in stderr
    assert "--prefer last" in stderr
    assert not out.exists()

    code, stdout, stderr = run(capsys, "merge", "--prefer", "last", out, a, b)
    assert code == 1
    assert f"note: t.py::test_a: kept the result from {b} (fail) over {a} (pass)" in stderr
    assert load_report(out / "report.json").probes[0].verdict == "fail"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON (line 1, column 2: Expecting property name enclosed in double quotes)"),
        ("[1, 2]", "not a ragprobe report (expected a JSON object with 'probes')"),
        (
            '{"schema_version": 2, "probes": []}',
            "schema_version 2 is not supported (this pytest-ragprobe reads schema_version 1)",
        ),
        (
            '{"schema_version": 1, "probes": [{"nodeid": "x", "kind": "reverse", "verdict": "meh"}]}',
            "not a valid ragprobe report: probes.0.verdict: "
            "Input should be 'pass', 'fail', 'inconclusive' or 'error'",
        ),
    ],
)
def test_merge_bad_report_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    good = shard(tmp_path, "good", probe("t.py::test_a"))
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    code, stdout, stderr = run(capsys, "merge", tmp_path / "out", good, bad)
    assert code == 2
    assert stdout == ""
    assert stderr == f"ragprobe merge: error: {bad}: {message}\n"


def test_merge_missing_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, stderr = run(capsys, "merge", tmp_path / "out", tmp_path / "nope.json")
    assert (code, stderr) == (
        2,
        f"ragprobe merge: error: {tmp_path / 'nope.json'}: no such file or directory\n",
    )
    (tmp_path / "empty").mkdir()
    code, _, stderr = run(capsys, "merge", tmp_path / "out", tmp_path / "empty")
    assert (code, stderr) == (
        2,
        f"ragprobe merge: error: {tmp_path / 'empty'}: directory has no report.json\n",
    )


def test_merge_out_dir_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a"))
    target = tmp_path / "file.txt"
    target.write_text("x", encoding="utf-8")
    code, _, stderr = run(capsys, "merge", target, a)
    assert (code, stderr) == (2, f"ragprobe merge: error: {target}: exists and is not a directory\n")


def test_merge_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["merge", "only-out-dir"])
    assert info.value.code == 2
    assert "the following arguments are required: REPORT" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["merge", "--prefer", "first", "out", "r.json"])
    assert info.value.code == 2


def test_merge_notes_differing_seeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a"), seed=1, settings={"samples": 10})
    b = shard(tmp_path, "b", probe("t.py::test_b"), seed=2, settings={"samples": 20})
    code, _, stderr = run(capsys, "merge", tmp_path / "out", a, b)
    assert code == 0
    # the notes say which file had which value (they only listed the values)
    assert f"note: shards used different seeds: 1 ({a}), 2 ({b}); the merged report shows the first" in stderr
    assert f"note: shards differ in settings: samples (10 in {a}; 20 in {b})" in stderr
    merged = load_report(tmp_path / "out" / "report.json")
    assert merged.seed == 1 and merged.settings["seeds"] == [1, 2] and merged.settings["samples"] == [10, 20]
    # merging the merged report again keeps the values flat (they nested: [[10, 20], 30]), files named
    c = shard(tmp_path, "c", probe("t.py::test_c"), seed=3, settings={"samples": 30})
    code, _, stderr = run(capsys, "merge", tmp_path / "out2", tmp_path / "out", c)
    assert code == 0
    merged_path = tmp_path / "out" / "report.json"
    assert f"seeds: 1 ({merged_path}), 2 ({merged_path}), 3 ({c});" in stderr
    assert f"samples (10 in {merged_path}; 20 in {merged_path}; 30 in {c})" in stderr
    again = load_report(tmp_path / "out2" / "report.json")
    assert again.settings["seeds"] == [1, 2, 3] and again.settings["samples"] == [10, 20, 30]


def test_show_prints_summary_and_gates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = shard(tmp_path, "a", probe("t.py::test_a"), probe("t.py::test_b", "fail", drop=0.4))
    code, stdout, _ = run(capsys, "show", path.parent, "--explain")
    assert code == 1
    lines = stdout.splitlines()
    assert lines[0].startswith("PASS         t.py::test_a [reverse] fwd 0.90 rev 0.88 drop +0.02")
    assert lines[1].startswith("FAIL         t.py::test_b [reverse] fwd 0.90 rev 0.50 drop +0.40")
    assert lines[2].startswith("    ragprobe reverse probe FAIL: forward 0.90, reverse 0.50")
    assert lines[-1] == f"ragprobe: {path}: 2 probes: 1 pass, 1 fail -> FAIL"
    code, stdout, _ = run(capsys, "show", path, "--format", "markdown")
    assert code == 1 and stdout.startswith("## ❌ pytest-ragprobe: FAIL\n")


def test_show_and_merge_keep_the_gate_of_a_strict_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a", "inconclusive"), settings={"strict": True})
    code, stdout, _ = run(capsys, "show", a)
    assert code == 1
    assert stdout.splitlines()[-1] == f"ragprobe: {a}: 1 probe: 1 inconclusive -> FAIL (strict: inconclusive fails)"
    b = shard(tmp_path, "b", probe("t.py::test_b"), settings={"strict": False})
    code, _, _ = run(capsys, "show", b)
    assert code == 0
    c = shard(tmp_path, "c", probe("t.py::test_c", "inconclusive"), settings={"strict": True})
    code, stdout, _ = run(capsys, "merge", tmp_path / "strict", a, c)  # every shard strict: the merge is
    assert code == 1 and "2 probes: 2 inconclusive -> FAIL (strict: inconclusive fails);" in stdout
    assert load_report(tmp_path / "strict" / "report.json").settings["strict"] is True


def test_merge_of_strict_and_non_strict_shards_gates_as_each_pytest_run_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A strict shard's INCONCLUSIVE probe failed its pytest run, a non-strict shard's did not. The merge was
    strict as a whole when any shard was (failing the non-strict shard's INCONCLUSIVE probe, which its run
    had passed), and a merge of that merge forgot it was strict (its value had become a list)."""
    strict = shard(tmp_path, "a", probe("t.py::test_a", "inconclusive"), settings={"strict": True})
    lax = shard(tmp_path, "b", probe("t.py::test_b", "inconclusive"), settings={"strict": False})
    passing = shard(tmp_path, "c", probe("t.py::test_c"), settings={"strict": False})
    code, stdout, stderr = run(capsys, "merge", tmp_path / "m1", strict, passing)
    assert code == 1
    assert "2 probes: 1 pass, 1 inconclusive (strict: fails) -> FAIL;" in stdout
    assert (
        f"note: shards differ in --ragprobe-strict: strict ({strict}), not strict ({passing}); "
        "INCONCLUSIVE fails only for the probes of the strict ones"
    ) in stderr
    m1 = load_report(tmp_path / "m1" / "report.json")
    assert m1.settings["strict"] is False
    assert (m1.probes[0].verdict, m1.probes[0].outcome) == ("inconclusive", "test_failed")
    assert m1.probes[0].test_message == f"--ragprobe-strict (run of {strict}): INCONCLUSIVE fails"
    code, stdout, _ = run(capsys, "show", tmp_path / "m1")
    assert code == 1
    last = stdout.splitlines()[-2]  # failing probes last, just above the verdict line
    # said as the strict run said it (was "INCONCLUSIVE (test failed) ... - the test failed after the probe: ...")
    assert last.startswith("INCONCLUSIVE (strict: fails) t.py::test_a ")
    assert last.endswith(f" - --ragprobe-strict (run of {strict}): INCONCLUSIVE fails")
    # merged again with a non-strict shard: still fails for the strict probe, and only for it
    code, stdout, _ = run(capsys, "merge", tmp_path / "m2", tmp_path / "m1", lax)
    assert code == 1
    assert "3 probes: 1 pass, 1 inconclusive, 1 inconclusive (strict: fails) -> FAIL;" in stdout
    # the non-strict shards alone pass, as their pytest runs did
    code, stdout, _ = run(capsys, "merge", tmp_path / "m3", lax, passing)
    assert code == 0 and "2 probes: 1 pass, 1 inconclusive -> INCONCLUSIVE;" in stdout


def test_show_counts_a_baseline_regression_as_failing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    regressed = probe("t.py::test_a").model_copy(
        update={"baseline": "regression", "baseline_message": "ragprobe baseline REGRESSION vs the baseline run"}
    )
    a = shard(tmp_path, "a", regressed, probe("t.py::test_b"))
    code, stdout, _ = run(capsys, "show", a, "--explain")
    assert code == 1
    lines = stdout.splitlines()
    assert lines[0].startswith("PASS             t.py::test_b ")  # passing first, failing just above the verdict
    assert " ".join(lines[1].split()).startswith("PASS (regressed) t.py::test_a [reverse] fwd 0.90 rev 0.88 drop +0.02")
    assert lines[1].endswith(" - baseline REGRESSION vs the baseline run")
    assert "    ragprobe reverse probe PASS: forward 0.90, reverse 0.88" in lines[2]
    assert lines[-1] == f"ragprobe: {a}: 2 probes: 1 pass, 1 baseline regression -> FAIL"
    assert load_report(a).counts() == {"pass": 1, "fail": 0, "inconclusive": 0, "error": 0, "regression": 1}


def test_show_reads_the_default_report_dir_without_an_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pytest --ragprobe-report` then `ragprobe show` said "the following arguments are required: REPORT"."""
    monkeypatch.chdir(tmp_path)
    code, _, stderr = run(capsys, "show")
    assert code == 2 and stderr == (
        "ragprobe show: error: ragprobe-report: no such file or directory (the default, ragprobe-report in "
        "the current directory)\n"
    )
    path = shard(tmp_path, "ragprobe-report", probe("t.py::test_a"))
    code, stdout, _ = run(capsys, "show")
    assert code == 0 and stdout.splitlines()[-1] == "ragprobe: ragprobe-report/report.json: 1 probe: 1 pass -> PASS"
    assert path == tmp_path / "ragprobe-report" / "report.json"


def test_show_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "report.json"
    bad.write_text(json.dumps({"hello": 1}), encoding="utf-8")
    code, _, stderr = run(capsys, "show", bad)
    assert code == 2
    assert (
        stderr
        == f"ragprobe show: error: {bad}: not a ragprobe report (expected a JSON object with 'probes')\n"
    )


def test_module_entry_point_exit_code(tmp_path: Path) -> None:
    a = shard(tmp_path, "a", probe("t.py::test_a", "fail", drop=0.4))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_ragprobe.cli", "merge", str(tmp_path / "out"), str(a)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("ragprobe merge: 1 report, 1 probe: 1 fail -> FAIL; wrote ")


def test_version_flag_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    # Was: `ragprobe --version` exited 2 with "the following arguments are required: COMMAND".
    from pytest_ragprobe import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"ragprobe {__version__}"


def test_show_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    """`ragprobe show report.json | head` closed the pipe under a long listing: a BrokenPipeError traceback."""
    a = shard(tmp_path, "a", *(probe(f"t.py::test_m[{i}]") for i in range(3000)))
    reader = subprocess.Popen(
        [sys.executable, "-m", "pytest_ragprobe.cli", "show", str(a)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    first = reader.stdout.readline()
    reader.stdout.close()  # as `head -1` does
    err = reader.stderr.read().decode()
    reader.stderr.close()
    assert reader.wait(timeout=60) == 141
    assert first.startswith(b"PASS         t.py::test_m[0] ")
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_merge_names_a_shard_that_holds_no_probe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A matrix job whose -k selected nothing merged into a PASS without a word."""
    a = shard(tmp_path, "a", probe("t.py::test_a"))
    empty = shard(tmp_path, "b")
    code, stdout, stderr = run(capsys, "merge", tmp_path / "m", a, empty)
    assert code == 0 and "1 probe: 1 pass -> PASS" in stdout
    assert f"note: 1 shard(s) hold no probe: {empty}; check that job's -k / -m and that it ran the tests" in stderr


def test_python_m_pytest_ragprobe_is_the_ragprobe_command(tmp_path: Path) -> None:
    # for an environment whose scripts directory is not on PATH (was: "No module named pytest_ragprobe.__main__")
    import pytest_ragprobe

    version = subprocess.run(
        [sys.executable, "-m", "pytest_ragprobe", "--version"], capture_output=True, text=True, check=False
    )
    assert (version.returncode, version.stdout.strip()) == (0, f"ragprobe {pytest_ragprobe.__version__}")
    missing = subprocess.run(
        [sys.executable, "-m", "pytest_ragprobe", "show", str(tmp_path / "none.json")],
        capture_output=True, text=True, check=False,
    )
    assert missing.returncode == 2 and missing.stderr.startswith("ragprobe show: error: ")


def _sub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory below tmp_path to run in (tmp_path itself holds the ini files)."""
    sub = tmp_path / "tests" / "deep"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    return sub


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pytest.ini", "[pytest]\nragprobe_cache = answers\n"),
        ("pyproject.toml", '[tool.pytest.ini_options]\nragprobe_cache = "answers"\n'),
        ("tox.ini", "[pytest]\nragprobe_cache = answers\n"),
        ("setup.cfg", "[tool:pytest]\nragprobe_cache = answers\n"),
    ],
)
def test_cache_without_dir_finds_the_ini_files_cache_as_pytest_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str, text: str
) -> None:
    """`ragprobe cache` read .ragprobe_cache in the current directory, whatever the ini file said and
    wherever pytest's rootdir was: "no answer cache here" right beside the one pytest had written."""
    (tmp_path / name).write_text(text, encoding="utf-8")
    _sub(tmp_path, monkeypatch)
    code, _, stderr = run(capsys, "cache")
    assert code == 2
    assert stderr == (
        f"ragprobe cache: error: {tmp_path / 'answers'}: no answer cache here (ragprobe_cache in "
        f"{tmp_path / name}; pytest writes one on the first run)\n"  # one group: was "(ragprobe_cache in ...) (pytest ...)"
    )
    (tmp_path / "answers").mkdir()
    code, stdout, _ = run(capsys, "cache")
    assert (code, stdout) == (0, f"ragprobe cache: {tmp_path / 'answers'}: 0 entries, 0 B; empty\n")


def test_cache_without_dir_uses_the_rootdirs_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # ini files pytest skips (no pytest section) do not end the search; the first with one is the config
    (tmp_path / "tox.ini").write_text("[tox]\nenvlist = py\n", encoding="utf-8")
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n", encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -q\n", encoding="utf-8")  # no ragprobe_cache
    (tmp_path / ".ragprobe_cache").mkdir()
    sub = _sub(tmp_path, monkeypatch)
    code, stdout, _ = run(capsys, "cache")
    assert (code, stdout) == (0, f"ragprobe cache: {tmp_path / '.ragprobe_cache'}: 0 entries, 0 B; empty\n")
    # the nearest ini file wins, even one without settings of ours: its directory is the rootdir
    (sub / "pytest.ini").write_text("", encoding="utf-8")
    code, _, stderr = run(capsys, "cache")
    assert code == 2 and stderr.startswith(
        f"ragprobe cache: error: .ragprobe_cache: no answer cache here (the default, .ragprobe_cache in the "
        f"rootdir {sub}; pytest writes one on the first run)\n"
    )
    (sub / "pytest.ini").unlink()
    (tmp_path / "pytest.ini").unlink()
    # no ini file: a pyproject.toml (even without a pytest table) or a setup.py marks the rootdir
    (tmp_path / "setup.py").write_text("", encoding="utf-8")
    assert run(capsys, "cache")[:2] == (0, f"ragprobe cache: {tmp_path / '.ragprobe_cache'}: 0 entries, 0 B; empty\n")
    (tmp_path / "tests" / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    code, _, stderr = run(capsys, "cache")
    assert code == 2 and f"(the default, .ragprobe_cache in the rootdir {tmp_path / 'tests'}; " in stderr
    assert run(capsys, "cache", tmp_path / ".ragprobe_cache")[0] == 0  # a DIR given is used as given


@pytest.mark.parametrize("major", [8, 9])
def test_pytest_toml_counts_only_for_pytest_9(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, major: int
) -> None:
    from pytest_ragprobe import cli

    monkeypatch.setattr(cli, "_pytest_major", lambda: major)
    (tmp_path / "pytest.toml").write_text('[pytest]\nragprobe_cache = "toml_answers"\n', encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.pytest]\nragprobe_cache = "native"\n', encoding="utf-8")
    (tmp_path / "tox.ini").write_text("[pytest]\nragprobe_cache = ini_answers\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli.find_ini()[1] == tmp_path / ("pytest.toml" if major >= 9 else "tox.ini")
    (tmp_path / "pytest.toml").unlink()
    assert cli.find_ini()[1:] == (
        (tmp_path / "pyproject.toml", {"ragprobe_cache": "native"}) if major >= 9
        else (tmp_path / "tox.ini", {"ragprobe_cache": "ini_answers"})
    )
    assert cli.ini_directory("ragprobe_cache", ".ragprobe_cache", in_rootdir=True)[0] == Path(
        "native" if major >= 9 else "ini_answers"
    )



@pytest.mark.parametrize(
    "files",
    [
        {"tox.ini": "[tox]\n", "setup.cfg": "[tool:pytest]\naddopts = -q\n", "a/b/x.txt": ""},
        {"pyproject.toml": "[project]\nname = 'x'\n", "a/setup.py": "", "a/b/x.txt": ""},
        {"pyproject.toml": "[tool.pytest.ini_options]\n", "a/pytest.ini": "", "a/b/x.txt": ""},
        {"a/setup.py": "", "a/b/x.txt": ""},
        {"a/b/x.txt": ""},
        {"a/tox.ini": "[testenv]\n", "pytest.toml": "[pytest]\n", "a/b/.pytest.ini": "[other]\n"},
    ],
)
def test_find_ini_agrees_with_pytest(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]
) -> None:
    from pytest_ragprobe.cli import find_ini

    for name, text in files.items():
        (pytester.path / name).parent.mkdir(parents=True, exist_ok=True)
        (pytester.path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(pytester.path / "a" / "b")
    config = pytester.parseconfig()
    assert find_ini()[:2] == (config.rootpath, config.inipath)


def test_show_without_a_path_reads_the_ini_files_report_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `ragprobe_report = reports` in the ini file, pytest writes reports/ beside it from any
    directory; `ragprobe show` looked for ragprobe-report/ in the current directory."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nragprobe_report = "reports"\n', encoding="utf-8"
    )
    _sub(tmp_path, monkeypatch)
    code, _, stderr = run(capsys, "show")
    assert code == 2 and stderr == (
        f"ragprobe show: error: {tmp_path / 'reports'}: no such file or directory (ragprobe_report in "
        f"{tmp_path / 'pyproject.toml'})\n"
    )
    shard(tmp_path, "reports", probe("t.py::test_a"))
    code, stdout, _ = run(capsys, "show")
    assert code == 0
    assert stdout.splitlines()[-1] == f"ragprobe: {tmp_path / 'reports' / 'report.json'}: 1 probe: 1 pass -> PASS"
    monkeypatch.chdir(tmp_path)  # below the current directory: named as typed
    assert run(capsys, "show")[1].splitlines()[-1] == "ragprobe: reports/report.json: 1 probe: 1 pass -> PASS"
    # no ragprobe_report in the ini file: ragprobe-report/ here, where a bare --ragprobe-report writes
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = "-q"\n', encoding="utf-8")
    code, _, stderr = run(capsys, "show")
    assert code == 2 and stderr == (
        "ragprobe show: error: ragprobe-report: no such file or directory (the default, ragprobe-report in "
        "the current directory)\n"
    )


def test_merge_and_show_keep_where_strictness_came_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """report.json's settings say where a strict run's strictness came from (strict_by); `ragprobe show`
    names it as that run's terminal did, and a merge of strict shards keeps each shard's words once."""
    ini = {"strict": True, "strict_by": "ragprobe_strict in pytest.ini"}
    a = shard(tmp_path, "a", probe("t.py::test_a", "inconclusive"), settings=ini)
    code, stdout, _ = run(capsys, "show", a)
    assert code == 1 and stdout.splitlines()[0].endswith("- ragprobe_strict in pytest.ini: INCONCLUSIVE fails")
    b = shard(tmp_path, "b", probe("t.py::test_b"), settings={"strict": True, "strict_by": "--ragprobe-strict"})
    c = shard(tmp_path, "c", probe("t.py::test_c"), settings=ini)
    old = shard(tmp_path, "old", probe("t.py::test_d"), settings={"strict": True})  # written before strict_by
    assert run(capsys, "merge", tmp_path / "m", a, b, c)[0] == 1
    settings = load_report(tmp_path / "m" / "report.json").settings
    assert settings["strict_by"] == "ragprobe_strict in pytest.ini; --ragprobe-strict"
    assert "strict_by" not in capsys.readouterr().err  # not a setting the shards "differ in"
    assert run(capsys, "merge", tmp_path / "m2", a, old)[0] == 1
    assert load_report(tmp_path / "m2" / "report.json").settings["strict_by"] == (
        "ragprobe_strict in pytest.ini; --ragprobe-strict"
    )
    lax = shard(tmp_path, "lax", probe("t.py::test_e"), settings={"strict": False})
    run(capsys, "merge", tmp_path / "m3", a, lax)
    assert "strict_by" not in load_report(tmp_path / "m3" / "report.json").settings  # not strict as a whole


def test_merge_strict_help_says_what_it_adds_to_strict_shards() -> None:
    """"always so for a strict run" was stale once each strict shard kept its own gate: a strict shard's
    INCONCLUSIVE probes fail without --strict, the others only with it."""
    import argparse

    from pytest_ragprobe.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = " ".join(sub.choices["merge"].format_help().split())
    assert "always so for a strict run" not in text
    assert (
        "--strict INCONCLUSIVE probes of every shard fail too (exit 1); without it, only those of the shards "
        "run under --ragprobe-strict fail, as their runs did"
    ) in text
