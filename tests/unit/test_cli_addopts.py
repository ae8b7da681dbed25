"""`ragprobe cache` / `ragprobe show` without a path find the ini file as a plain `pytest` run here does;
options in PYTEST_ADDOPTS that move the ini file, the rootdir or the directory itself are not followed
(pytest's rules for them differ from release to release), so the command says so rather than reading
another directory in silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ragprobe.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("addopts", "named"),
    [
        ("-q -c ci/pytest.ini", "-c ci/pytest.ini"),
        ("-cci/pytest.ini", "-cci/pytest.ini"),
        ("--config-file=ci/pytest.ini -p no:xdist", "--config-file=ci/pytest.ini"),
        ("--rootdir /srv/app", "--rootdir /srv/app"),
        ("-o ragprobe_cache=answers", "-o ragprobe_cache=answers"),
        ("--override-ini=ragprobe_cache=answers", "--override-ini=ragprobe_cache=answers"),
        ("--ragprobe-cache=/tmp/answers -x", "--ragprobe-cache=/tmp/answers"),
        ("--ragprobe-cache '/tmp/my answers'", "--ragprobe-cache '/tmp/my answers'"),
        ("-c a.ini --rootdir=b", "-c a.ini, --rootdir=b"),
    ],
)
def test_cache_says_which_pytest_addopts_it_does_not_follow(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    addopts: str,
    named: str,
) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / ".ragprobe_cache").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTEST_ADDOPTS", addopts)
    code, out, err = run(capsys, "cache")
    assert (code, out) == (0, "ragprobe cache: .ragprobe_cache: 0 entries, 0 B; empty\n")
    assert err == (
        f"ragprobe cache: note: PYTEST_ADDOPTS holds {named}, which this command does not follow (it finds "
        "the ini file as a pytest run here without options does): to be sure, name the directory: "
        "ragprobe cache DIR\n"
    )
    # a DIR given: nothing to say
    assert run(capsys, "cache", str(tmp_path / ".ragprobe_cache"))[2] == ""


@pytest.mark.parametrize(
    "addopts",
    ["", "-q -p no:xdist", "-o ragprobe_report=out", "--ragprobe-report out", "--rootdir=x -k 'c and not d'"],
)
def test_cache_is_quiet_about_options_that_do_not_move_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, addopts: str
) -> None:
    (tmp_path / ".ragprobe_cache").mkdir()
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTEST_ADDOPTS", addopts)
    err = run(capsys, "cache")[2]
    # --rootdir moves the cache's default, not the ini file: named only by `cache`
    assert err == ("" if "--rootdir" not in addopts else (
        "ragprobe cache: note: PYTEST_ADDOPTS holds --rootdir=x, which this command does not follow (it finds "
        "the ini file as a pytest run here without options does): to be sure, name the directory: "
        "ragprobe cache DIR\n"
    ))


def test_show_names_the_report_options_it_does_not_follow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`PYTEST_ADDOPTS=--ragprobe-report=out` in CI, then `ragprobe show`: it read ragprobe-report/ and
    said only "no such file or directory (the default, ragprobe-report in the current directory)"."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTEST_ADDOPTS", "--ragprobe-report=out --rootdir=.")
    code, _, err = run(capsys, "show")
    assert code == 2
    assert err == (
        "ragprobe show: note: PYTEST_ADDOPTS holds --ragprobe-report=out, which this command does not follow "
        "(it finds the ini file as a pytest run here without options does): to be sure, name the report: "
        "ragprobe show REPORT\n"
        "ragprobe show: error: ragprobe-report: no such file or directory (the default, ragprobe-report in "
        "the current directory)\n"
    )
    monkeypatch.setenv("PYTEST_ADDOPTS", "-o ragprobe_report=out -c x.ini")
    err = run(capsys, "show")[2]
    assert err.startswith("ragprobe show: note: PYTEST_ADDOPTS holds -o ragprobe_report=out, -c x.ini, which ")


def test_cache_expands_the_ini_files_home_directory_as_pytest_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ragprobe_cache = ~/.cache/ragprobe` puts pytest's cache in the home directory; `ragprobe cache`
    looked for a directory named `~` beside the ini file."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    project = tmp_path / "project"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\nragprobe_cache = ~/.cache/ragprobe\n", encoding="utf-8")
    (tmp_path / "home" / ".cache" / "ragprobe").mkdir(parents=True)
    monkeypatch.chdir(project)
    code, out, _ = run(capsys, "cache")
    assert (code, out) == (
        0, f"ragprobe cache: {tmp_path / 'home' / '.cache' / 'ragprobe'}: 0 entries, 0 B; empty\n"
    )
