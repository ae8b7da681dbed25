"""_config.py: options and ini keys, CLI > ini > default, validation of both, through a real pytest Config."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ragprobe._config import CONFIG_KEY, DEFAULT_CACHE_DIR, DEFAULT_REPORT_DIR, RagprobeConfig


def cfg(pytester: pytest.Pytester, *args: str) -> RagprobeConfig:
    config = pytester.parseconfigure(*args)
    return config.stash[CONFIG_KEY]


def ini(pytester: pytest.Pytester, **values: str) -> None:
    body = "".join(f"{k} = {v}\n" for k, v in values.items())
    pytester.makeini(f"[pytest]\n{body}")


def test_defaults(pytester: pytest.Pytester) -> None:
    ini(pytester)
    c = cfg(pytester)
    root = Path(pytester.path)
    assert c == RagprobeConfig(
        report_dir=None,
        pipeline=None,
        concurrency=8,
        timeout=60.0,
        retries=2,
        cache_dir=root / DEFAULT_CACHE_DIR,
        seed=0,
        tables_dir=root / DEFAULT_CACHE_DIR / "tables",
        samples=None,
        confidence=0.95,
        baseline=None,
        save_baseline=None,
        strict=False,
        budget=None,
        sequential=False,
        max_error_rate=0.1,
        progress=True,
    )


def test_ini_values(pytester: pytest.Pytester) -> None:
    ini(
        pytester,
        ragprobe_pipeline="myapp.rag:pipeline",
        ragprobe_concurrency="3",
        ragprobe_timeout="2.5",
        ragprobe_retries="0",
        ragprobe_seed="42",
        ragprobe_samples="50",
        ragprobe_confidence="0.9",
        ragprobe_budget="1000",
        ragprobe_strict="true",
        ragprobe_sequential="true",
        ragprobe_max_error_rate="0.25",
        ragprobe_no_progress="true",
        ragprobe_cache="cachedir",
        ragprobe_save_baseline="base.json",
    )
    c = cfg(pytester)
    assert c.pipeline == "myapp.rag:pipeline"
    assert (c.concurrency, c.timeout, c.retries, c.seed, c.samples) == (3, 2.5, 0, 42, 50)
    assert (c.confidence, c.budget, c.max_error_rate) == (0.9, 1000, 0.25)
    assert (c.strict, c.sequential, c.progress) == (True, True, False)
    assert c.cache_dir == Path(pytester.path) / "cachedir"
    assert c.save_baseline == Path(pytester.path) / "base.json"


def test_cli_beats_ini(pytester: pytest.Pytester) -> None:
    ini(
        pytester,
        ragprobe_concurrency="3",
        ragprobe_timeout="2.5",
        ragprobe_seed="42",
        ragprobe_samples="50",
        ragprobe_confidence="0.9",
        ragprobe_pipeline="ini.mod:p",
        ragprobe_cache="inicache",
    )
    c = cfg(
        pytester,
        "--ragprobe-concurrency=5",
        "--ragprobe-timeout",
        "7",
        "--ragprobe-seed=0",
        "--ragprobe-samples=9",
        "--ragprobe-confidence=0.99",
        "--ragprobe-pipeline=cli.mod:p",
        "--ragprobe-cache=clicache",
        "--ragprobe-strict",
    )
    assert (c.concurrency, c.timeout, c.seed, c.samples, c.confidence) == (5, 7.0, 0, 9, 0.99)
    assert c.pipeline == "cli.mod:p"
    assert c.cache_dir == Path(pytester.path) / "clicache"
    assert c.strict is True


def test_override_ini_flag(pytester: pytest.Pytester) -> None:
    ini(pytester, ragprobe_seed="1")
    assert cfg(pytester, "-o", "ragprobe_seed=5").seed == 5


def test_report_option_absent_bare_and_with_value(pytester: pytest.Pytester) -> None:
    ini(pytester)
    root = Path(pytester.path)
    assert cfg(pytester).report_dir is None
    assert cfg(pytester, "--ragprobe-report").report_dir == root / DEFAULT_REPORT_DIR
    assert DEFAULT_REPORT_DIR == "ragprobe-report"
    assert cfg(pytester, "--ragprobe-report=out/rp").report_dir == root / "out" / "rp"
    assert cfg(pytester, "--ragprobe-report", "elsewhere").report_dir == root / "elsewhere"


def test_report_ini_is_the_default_directory(pytester: pytest.Pytester) -> None:
    ini(pytester, ragprobe_report="build/ragprobe")
    root = Path(pytester.path)
    assert cfg(pytester).report_dir == root / "build" / "ragprobe"
    assert cfg(pytester, "--ragprobe-report").report_dir == root / "build" / "ragprobe"
    assert cfg(pytester, "--ragprobe-report=cli").report_dir == root / "cli"


def test_report_dir_is_relative_to_the_invocation_dir(pytester: pytest.Pytester) -> None:
    ini(pytester)
    sub = pytester.mkdir("sub")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(sub)
        c = cfg(pytester, "--ragprobe-report", f"--rootdir={pytester.path}")
    assert c.report_dir == Path(sub) / DEFAULT_REPORT_DIR
    assert c.cache_dir == Path(pytester.path) / DEFAULT_CACHE_DIR  # the cache lives in the rootdir


def test_no_cache(pytester: pytest.Pytester) -> None:
    ini(pytester, ragprobe_cache="somewhere")
    assert cfg(pytester, "--ragprobe-no-cache").cache_dir is None
    assert cfg(pytester, "--ragprobe-no-cache", "--ragprobe-cache=x").cache_dir is None


def test_no_cache_from_ini_and_empty_cache_dir(pytester: pytest.Pytester) -> None:
    ini(pytester, ragprobe_no_cache="true")
    assert cfg(pytester).cache_dir is None
    ini(pytester, ragprobe_cache="")
    assert cfg(pytester).cache_dir is None


def test_baseline_path_must_exist(pytester: pytest.Pytester) -> None:
    ini(pytester)
    with pytest.raises(pytest.UsageError, match=r"--ragprobe-baseline: file not found: .*missing\.json"):
        cfg(pytester, "--ragprobe-baseline=missing.json")
    pytester.makefile(".json", old='{"schema_version": 1, "probes": []}')
    assert cfg(pytester, "--ragprobe-baseline=old.json").baseline == Path(pytester.path) / "old.json"


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("--ragprobe-concurrency=0", "argument --ragprobe-concurrency: must be >= 1, got 0"),
        ("--ragprobe-concurrency=two", "argument --ragprobe-concurrency: expected a whole number, got 'two'"),
        ("--ragprobe-timeout=0", "argument --ragprobe-timeout: must be > 0, got 0.0"),
        ("--ragprobe-retries=-1", "argument --ragprobe-retries: must be >= 0, got -1"),
        (
            "--ragprobe-confidence=1",
            "argument --ragprobe-confidence: must be between 0.5 and 1 (exclusive), got 1.0",
        ),
        ("--ragprobe-confidence=x", "argument --ragprobe-confidence: expected a number, got 'x'"),
        ("--ragprobe-samples=0", "argument --ragprobe-samples: must be >= 1, got 0"),
        ("--ragprobe-budget=-5", "argument --ragprobe-budget: must be >= 1, got -5"),
        ("--ragprobe-max-error-rate=1.5", "argument --ragprobe-max-error-rate: must be in [0, 1], got 1.5"),
        ("--ragprobe-seed=-1", "argument --ragprobe-seed: must be >= 0, got -1"),
    ],
)
def test_bad_cli_values_are_argparse_errors(pytester: pytest.Pytester, arg: str, message: str) -> None:
    ini(pytester)
    with pytest.raises(pytest.UsageError) as info:
        pytester.parseconfigure(arg)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("ragprobe_concurrency", "0", "ini option ragprobe_concurrency = 0: must be >= 1, got 0"),
        ("ragprobe_concurrency", "abc", "ini option ragprobe_concurrency: expected a whole number, got 'abc'"),
        ("ragprobe_timeout", "-1", "ini option ragprobe_timeout = -1.0: must be > 0, got -1.0"),
        (
            "ragprobe_timeout",
            "soon",
            "ini option ragprobe_timeout: expected a number, got 'soon'",
        ),
        ("ragprobe_retries", "-2", "ini option ragprobe_retries = -2: must be >= 0, got -2"),
        ("ragprobe_confidence", "0.4", "ini option ragprobe_confidence = 0.4: must be between 0.5 and 1"),
        ("ragprobe_samples", "-1", "ini option ragprobe_samples = '-1': must be >= 1, got -1 (leave it unset for no cap)"),
        ("ragprobe_budget", "-1", "ini option ragprobe_budget = '-1': must be >= 1, got -1 (leave it unset for no cap)"),
        (
            "ragprobe_max_error_rate",
            "2",
            "ini option ragprobe_max_error_rate = 2.0: must be in [0, 1], got 2.0",
        ),
        ("ragprobe_seed", "-3", "ini option ragprobe_seed = -3: must be >= 0, got -3"),
        ("ragprobe_strict", "maybe", "ini option ragprobe_strict: invalid truth value 'maybe'"),
    ],
)
def test_bad_ini_values_are_usage_errors(
    pytester: pytest.Pytester, key: str, value: str, message: str
) -> None:
    ini(pytester, **{key: value})
    with pytest.raises(pytest.UsageError) as info:
        pytester.parseconfigure()
    assert message in str(info.value)


@pytest.mark.parametrize("key", ["ragprobe_samples", "ragprobe_budget"])
def test_zero_samples_or_budget_in_ini_is_refused_as_on_the_command_line(pytester: pytest.Pytester, key: str) -> None:
    """Was: the ini read 0 as "no cap" while --ragprobe-budget=0 was an error, so `ragprobe_budget = 0`,
    meant to allow no call, allowed every call."""
    ini(pytester, **{key: "0"})
    with pytest.raises(pytest.UsageError) as info:
        pytester.parseconfigure()
    assert str(info.value) == f"ini option {key} = '0': must be >= 1, got 0 (leave it unset for no cap)"
    ini(pytester, **{key: ""})  # empty, as unset: no cap
    c = cfg(pytester)
    assert (c.samples, c.budget) == (None, None)
    ini(pytester, **{key: "7"})
    assert getattr(cfg(pytester), key.removeprefix("ragprobe_")) == 7


def test_options_share_one_help_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    out = result.stdout.str()
    assert "pytest-ragprobe: RAG reversal and lost-in-the-middle probes:" in out
    section = out.split("pytest-ragprobe: RAG reversal and lost-in-the-middle probes:")[1]
    for flag in (
        "--ragprobe-report",
        "--ragprobe-pipeline",
        "--ragprobe-concurrency",
        "--ragprobe-timeout",
        "--ragprobe-retries",
        "--ragprobe-cache",
        "--ragprobe-no-cache",
        "--ragprobe-seed",
        "--ragprobe-samples",
        "--ragprobe-confidence",
        "--ragprobe-baseline",
        "--ragprobe-strict",
        "--ragprobe-budget",
    ):
        assert flag in section, flag
    # a directory holding report.json is taken too (as `ragprobe show` / `merge` take one): the help said
    # only "an earlier report.json"
    assert "in an earlier report.json (or a directory that holds one);" in " ".join(section.split())


def test_default_cache_is_in_the_rootdir_not_beside_an_ini_file_elsewhere(pytester: pytest.Pytester) -> None:
    """The ini key's default was resolved against the ini file's directory like a value the file sets:
    `-c ci/pytest.ini` (or `-c /dev/null --rootdir=.`) put the answer cache in ci/ (in /dev/)."""
    root = Path(pytester.path)
    (root / "ci").mkdir()
    (root / "ci" / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    c = cfg(pytester, "-c", "ci/pytest.ini", f"--rootdir={root}")
    assert c.cache_dir == root / DEFAULT_CACHE_DIR
    assert c.tables_dir == root / DEFAULT_CACHE_DIR / "tables"
    c = cfg(pytester, "-c", "/dev/null", f"--rootdir={root}")
    assert c.cache_dir == root / DEFAULT_CACHE_DIR and c.report_dir is None
    assert cfg(pytester, "-c", "/dev/null", f"--rootdir={root}", "--ragprobe-report").report_dir == (
        root / DEFAULT_REPORT_DIR
    )
    # a value the ini file sets stays relative to the ini file
    (root / "ci" / "pytest.ini").write_text(
        "[pytest]\nragprobe_cache = answers\nragprobe_report = reports\n", encoding="utf-8"
    )
    c = cfg(pytester, "-c", "ci/pytest.ini", f"--rootdir={root}")
    assert (c.cache_dir, c.report_dir) == (root / "ci" / "answers", root / "ci" / "reports")
    c = cfg(pytester, "-c", "ci/pytest.ini", f"--rootdir={root}", "--ragprobe-report")
    assert c.report_dir == root / "ci" / "reports"


def test_o_paths_are_relative_to_the_invocation_dir(pytester: pytest.Pytester) -> None:
    """`-o ragprobe_cache=DIR` is typed on the command line: relative to where pytest runs, as the
    --ragprobe-* paths (it went beside the ini file)."""
    ini(pytester, ragprobe_cache="inicache")
    sub = pytester.mkdir("sub")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(sub)
        c = cfg(pytester, f"--rootdir={pytester.path}", "-o", "ragprobe_cache=mine", "-o", "ragprobe_report=rp")
        bare = cfg(pytester, f"--rootdir={pytester.path}", "-o", "ragprobe_report=rp", "--ragprobe-report")
        unset = cfg(pytester, f"--rootdir={pytester.path}")
    assert (c.cache_dir, c.report_dir, bare.report_dir) == (Path(sub) / "mine", Path(sub) / "rp", Path(sub) / "rp")
    assert unset.cache_dir == Path(pytester.path) / "inicache"


def test_help_shows_the_ini_types_of_numbers(pytester: pytest.Pytester) -> None:
    """int and float ini types exist since pytest 8.4 (the lowest pyproject.toml allows): --help says so."""
    out = pytester.runpytest("--help").stdout.str()
    for key, kind in [
        ("ragprobe_concurrency", "int"),
        ("ragprobe_timeout", "float"),
        ("ragprobe_retries", "int"),
        ("ragprobe_seed", "int"),
        ("ragprobe_confidence", "float"),
        ("ragprobe_max_error_rate", "float"),
        ("ragprobe_strict", "bool"),
    ]:
        assert f"  {key} ({kind}):" in out, key
    # the caps take "" (unset: no cap) too: a union where pytest has one
    caps = "int | string" if pytest.version_tuple >= (9, 2) else "string"
    for key in ("ragprobe_samples", "ragprobe_budget"):
        assert f"  {key} ({caps}):" in out, key


@pytest.mark.skipif(pytest.version_tuple < (9, 2), reason="union ini types (and so TOML integer caps): pytest 9.2")
def test_caps_as_toml_integers(pytester: pytest.Pytester) -> None:
    """Was: the caps' "string" ini type refused a TOML integer, so `ragprobe_samples = 5` in pytest.toml
    stopped the run ("config option 'ragprobe_samples' expects a string, got int: 5")."""
    toml = Path(pytester.path) / "pytest.toml"
    toml.write_text("[pytest]\nragprobe_samples = 5\nragprobe_budget = 100\n", encoding="utf-8")
    c = cfg(pytester)
    assert (c.samples, c.budget, c.samples_by) == (5, 100, "ragprobe_samples = 5 in pytest.toml")
    toml.write_text('[pytest]\nragprobe_samples = ""\nragprobe_budget = "7"\n', encoding="utf-8")
    c = cfg(pytester)
    assert (c.samples, c.budget) == (None, 7)
    # 0 (an int now, not the string "0") is refused still, not read as unset
    toml.write_text("[pytest]\nragprobe_budget = 0\n", encoding="utf-8")
    with pytest.raises(pytest.UsageError) as info:
        cfg(pytester)
    assert str(info.value) == "ini option ragprobe_budget = '0': must be >= 1, got 0 (leave it unset for no cap)"
    toml.write_text('[pytest]\nragprobe_samples = "abc"\n', encoding="utf-8")
    with pytest.raises(pytest.UsageError) as info:
        cfg(pytester)
    assert str(info.value) == (
        "ini option ragprobe_samples = 'abc': expected a whole number, got 'abc' (leave it unset for no cap)"
    )
    # an int through -o (a string) as through the ini file
    assert cfg(pytester, "-o", "ragprobe_samples=3").samples == 3


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        (
            "--ragprobe-cache=",
            "argument --ragprobe-cache: empty directory name (an unset variable?): write --ragprobe-cache=DIR, "
            "or --ragprobe-no-cache for no cache",
        ),
        (
            "--ragprobe-pipeline= ",
            "argument --ragprobe-pipeline: empty pipeline (an unset variable?): name it as "
            "package.module:attribute",
        ),
    ],
)
def test_empty_cache_or_pipeline_on_the_command_line_is_refused(
    pytester: pytest.Pytester, arg: str, message: str
) -> None:
    """Was: `--ragprobe-cache=$CACHE_DIR` with the variable unset turned the answer cache off, silently
    (every call paid again), and `--ragprobe-pipeline=$PIPELINE` probed the ragprobe_pipeline fixture's
    pipeline (or the ini's: ignored too) instead of failing; an empty --ragprobe-report= / baseline path
    was already refused so."""
    ini(pytester, ragprobe_pipeline="myapp.rag:pipeline")
    with pytest.raises(pytest.UsageError) as info:
        pytester.parseconfigure(arg)
    assert message in str(info.value)


@pytest.mark.skipif(
    not (9, 0) <= pytest.version_tuple < (9, 2), reason="pytest 9.0 / 9.1: strict TOML, no union ini type"
)
def test_caps_as_toml_integers_before_pytest_9_2_say_to_quote_them(pytester: pytest.Pytester) -> None:
    (Path(pytester.path) / "pytest.toml").write_text("[pytest]\nragprobe_samples = 5\n", encoding="utf-8")
    with pytest.raises(pytest.UsageError) as info:
        cfg(pytester)
    assert str(info.value).endswith(
        "config option 'ragprobe_samples' expects a string, got int: 5 (this pytest wants it quoted: "
        'ragprobe_samples = "5")'
    )


def test_paths_expand_the_home_directory_and_variables(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--ragprobe-report=~/reports` (the shell leaves a ~ after `=` alone) made a directory named `~`
    in the current directory; `ragprobe_cache = ~/.cache/ragprobe` in the ini file likewise. pytest's own
    --junitxml and cache_dir expand ~ and $VARIABLES."""
    home = Path(pytester.path) / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("RAGPROBE_TEST_DIR", "from_env")
    ini(pytester, ragprobe_cache="~/.cache/ragprobe", ragprobe_save_baseline="$RAGPROBE_TEST_DIR/base.json")
    c = cfg(pytester, "--ragprobe-report=~/reports")
    assert c.report_dir == home / "reports"
    assert c.cache_dir == home / ".cache" / "ragprobe"
    assert c.save_baseline == Path(pytester.path) / "from_env" / "base.json"
    assert cfg(pytester, "--ragprobe-cache=~/mine").cache_dir == home / "mine"


def test_help_shows_even_when_a_setting_is_bad(pytester: pytest.Pytester) -> None:
    """`pytest --help` (where one looks up the options) printed only the error of a bad ini value or a
    missing --ragprobe-baseline file (one in PYTEST_ADDOPTS, say): no help at all."""
    ini(pytester, ragprobe_samples="abc")
    result = pytester.runpytest("--help", "--ragprobe-baseline=missing.json")
    assert result.ret == pytest.ExitCode.OK
    assert "--ragprobe-samples=N" in result.stdout.str()
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: ini option ragprobe_samples = 'abc': expected a whole number, got 'abc'*"])


@pytest.mark.parametrize("word", ["false", "True", "yes", "off"])
def test_a_switch_word_for_a_directory_is_refused(pytester: pytest.Pytester, word: str) -> None:
    """`ragprobe_report = false` (meant: no reports) wrote the reports on every run into a directory named
    false/; `ragprobe_cache = false` kept the cache in false/. Both keys take a directory."""
    ini(pytester, ragprobe_report=word)
    with pytest.raises(pytest.UsageError) as info:
        cfg(pytester)
    assert str(info.value) == (
        f"ragprobe_report = {word} in tox.ini: ragprobe_report takes a directory, not a switch: leave it "
        "unset or empty for reports only with --ragprobe-report, or name the directory (ragprobe-report)"
    )
    ini(pytester)
    with pytest.raises(pytest.UsageError) as info:
        cfg(pytester, "-o", f"ragprobe_cache={word}")
    assert str(info.value) == (
        f"-o ragprobe_cache={word}: ragprobe_cache takes a directory, not a switch: ragprobe_no_cache = true "
        "(or --ragprobe-no-cache) turns the cache off"
    )
    with pytest.raises(pytest.UsageError) as info:
        cfg(pytester, f"--ragprobe-report={word}")
    assert (
        f"argument --ragprobe-report: {word!r} is a switch word, not a directory: write a bare "
        "--ragprobe-report for ragprobe-report/, or --ragprobe-report=DIR"
    ) in str(info.value)
    with pytest.raises(pytest.UsageError) as info:
        cfg(pytester, f"--ragprobe-cache={word}")
    assert (
        f"argument --ragprobe-cache: {word!r} is a switch word, not a directory: --ragprobe-no-cache turns "
        "the cache off"
    ) in str(info.value)
