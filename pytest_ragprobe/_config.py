"""Options (one ``ragprobe`` group, CLI > ini > default), read once into a frozen config in the stash."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DEFAULT_REPORT_DIR = "ragprobe-report"
DEFAULT_CACHE_DIR = ".ragprobe_cache"


@dataclass(frozen=True)
class RagprobeConfig:
    report_dir: Path | None
    pipeline: str | None
    concurrency: int
    timeout: float | None
    retries: int
    cache_dir: Path | None
    seed: int
    # the exact critical-value tables (pure statistics, not answers): kept under --ragprobe-no-cache too
    tables_dir: Path | None
    samples: int | None
    confidence: float
    baseline: Path | None
    save_baseline: Path | None
    strict: bool
    budget: int | None
    sequential: bool
    max_error_rate: float
    progress: bool
    # where --ragprobe-samples / --ragprobe-strict came from, as the notes name it (setting_label):
    # "--ragprobe-samples=5" said of `ragprobe_samples = 5` in pytest.ini sent users to a flag they never gave
    samples_by: str = ""
    strict_by: str = "--ragprobe-strict"


CONFIG_KEY = pytest.StashKey[RagprobeConfig]()
PIPELINE_DEST = "ragprobe_pipeline"  # the option's dest: given on the command line, it beats any fixture


def _checked(
    cast: Callable[[str], Any], ok: Callable[[Any], bool], requirement: str, *, fraction: bool = False
) -> Callable[[str], Any]:
    """An argparse ``type=``: convert with ``cast``, then insist on ``ok`` (named for --help errors)."""
    kind = "a whole number" if cast is int else "a number"

    def convert(text: str) -> Any:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if not ok(value):
            # confidence=95 or 5 (%): a percentage where a fraction is meant, named as the marks name it
            pct = f" (a fraction: {value / 100:g} for {value:g}%)" if fraction and 1 < value <= 100 else ""
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {value}{pct}")
        return value

    return convert


_positive_int = _checked(int, lambda v: v >= 1, ">= 1")
_non_negative_int = _checked(int, lambda v: v >= 0, ">= 0")
_positive_float = _checked(float, lambda v: v > 0, "> 0")
_confidence = _checked(float, lambda v: 0.5 < v < 1, "between 0.5 and 1 (exclusive)", fraction=True)
_rate = _checked(float, lambda v: 0 <= v <= 1, "in [0, 1]", fraction=True)


def _baseline_path(value: str) -> str:
    """A --ragprobe-baseline / --ragprobe-save-baseline value: an empty one (``--ragprobe-baseline=$BASE``
    with the variable unset) ran the gate without its baseline, silently."""
    if not value.strip():
        raise argparse.ArgumentTypeError(
            "empty path (an unset variable?): name the baseline file or directory"
        )
    return value


def _pipeline_spec(value: str) -> str:
    """A --ragprobe-pipeline value: an empty one (an unset variable) probed the fixture's pipeline instead."""
    if not value.strip():
        raise argparse.ArgumentTypeError(
            "empty pipeline (an unset variable?): name it as package.module:attribute"
        )
    return value


def _cache_dir(value: str) -> str:
    """A --ragprobe-cache value: an empty one (an unset variable) turned the cache off, silently."""
    if not value.strip():
        raise argparse.ArgumentTypeError(
            "empty directory name (an unset variable?): write --ragprobe-cache=DIR, or --ragprobe-no-cache "
            "for no cache"
        )
    if _switch_word(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is a switch word, not a directory: --ragprobe-no-cache turns the cache off"
        )
    return value


# true/false and the like given for a directory (`ragprobe_report = false`, meant: no reports) made a
# directory of that name; nobody names a report or cache directory so
_SWITCH_WORDS = frozenset({"true", "false", "yes", "no", "on", "off"})


def _switch_word(value: object) -> bool:
    return str(value).strip().lower() in _SWITCH_WORDS


# name, ini type, default, argparse type, metavar, help
_VALUED: list[tuple[str, str, Any, Any, str, str]] = [
    (
        "pipeline",
        "string",
        "",
        _pipeline_spec,
        "MODULE:ATTR",
        "Pipeline to probe, as package.module:attribute; on the command line it overrides any "
        "ragprobe_pipeline fixture (the ini value is used only where no such fixture is defined)",
    ),
    ("concurrency", "int", 8, _positive_int, "N", "Pipeline calls in flight per probe (default 8)"),
    (
        "timeout",
        "float",
        60.0,
        _positive_float,
        "SECONDS",
        "Timeout per pipeline call (default 60); a Retry-After is waited out up to the longer of this and "
        "20 s (a longer one ends the call at once)",
    ),
    (
        "retries",
        "int",
        2,
        _non_negative_int,
        "N",
        "Retries of a call that timed out, lost its connection or got HTTP 429/5xx, with exponential "
        "backoff (default 2)",
    ),
    ("seed", "int", 0, _non_negative_int, "N", "Seed for sampling and synthetic data (default 0)"),
    (  # unset (empty) is no cap; 0 is refused as on the command line
        "samples",
        "count",
        "",
        _positive_int,
        "N",
        "Cap on facts/questions per probe (default: all, or the mark's n)",
    ),
    (
        "confidence",
        "float",
        0.95,
        _confidence,
        "LEVEL",
        "Confidence level of intervals and verdicts (default 0.95)",
    ),
    (
        "baseline",
        "string",
        "",
        _baseline_path,
        "REPORT_JSON",
        "Compare each probe with the same test in an earlier report.json (or a directory that holds one); "
        "fail on a significant regression",
    ),
    ("save-baseline", "string", "", _baseline_path, "PATH", "Write this run's results as a baseline file"),
    (  # unset (empty) is no cap; 0 (read as "no calls"?) is refused as on the command line
        "budget",
        "count",
        "",
        _positive_int,
        "N",
        "Maximum real pipeline calls in this run, retries included, cached answers free (under xdist "
        "shared by the workers of one machine); probes left over end INCONCLUSIVE (a FAIL already "
        "shown stays)",
    ),
    (
        "max-error-rate",
        "float",
        0.1,
        _rate,
        "RATE",
        "A probe whose failed-call share exceeds this ends as an error (default 0.1)",
    ),
]
_FLAGS: list[tuple[str, str]] = [
    ("strict", "Treat INCONCLUSIVE verdicts as failures"),
    ("sequential", "Stop probes early at interim looks when the verdict is already clear"),
    ("no-cache", "Do not read or write the answer cache"),
    ("no-progress", "No progress output: no live line on a terminal, no status line every 30 s in a log"),
]


# The ini type of the caps ("count" above), which take a whole number or "" (unset: no cap). pytest >= 9.2
# takes a union: TOML files (pytest.toml, [tool.pytest]) then accept `ragprobe_samples = 5`, which the
# "string" type refused ("expects a string, got int"), and --help says (int | string). Older pytest has no
# union; there it stays "string" (_optional_count checks the value either way).
_COUNT_INI_TYPE: Any = (int | str) if pytest.version_tuple >= (9, 2) else "string"


def _ini_name(name: str) -> str:
    return "ragprobe_" + name.replace("-", "_")


def _holds_tests(path: Path) -> bool:
    """A directory with test modules or a conftest.py in it (not below: that stays cheap)."""
    try:
        names = [p.name for p in path.iterdir()] if path.is_dir() else []
    except OSError:
        return False
    if "report.json" in names:  # an earlier report written here: a report directory after all
        return False
    return any(
        n == "conftest.py" or (n.endswith(".py") and (n.startswith("test_") or n.endswith("_test.py")))
        for n in names
    )


def _report_dir(value: str) -> str:
    """``--ragprobe-report`` takes an optional DIR, so ``--ragprobe-report test_x.py`` or
    ``--ragprobe-report tests`` would swallow the test path (run everything else and write the reports
    among the tests): refuse what looks like one."""
    if not value.strip():  # `--ragprobe-report=` (an unset CI variable): "." would hold the tests
        raise argparse.ArgumentTypeError(
            f"empty directory name: write --ragprobe-report=DIR, or --ragprobe-report alone for "
            f"{DEFAULT_REPORT_DIR}/"
        )
    if _switch_word(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is a switch word, not a directory: write a bare --ragprobe-report for "
            f"{DEFAULT_REPORT_DIR}/, or --ragprobe-report=DIR"
        )
    if Path(value).is_file() and not value.endswith(".py"):
        raise argparse.ArgumentTypeError(
            f"{value!r} is a file, not a directory: --ragprobe-report=DIR writes report.json, report.html "
            "and report.md into DIR (or put a bare --ragprobe-report after the test paths)"
        )
    if Path(value).suffix.lower() in (".json", ".html", ".md") and not Path(value).is_dir():
        # `--ragprobe-report=out.json` made a directory out.json/ holding report.json
        raise argparse.ArgumentTypeError(
            f"{value!r} names a file, but --ragprobe-report takes a directory (it writes report.json, "
            f"report.html and report.md into it): write --ragprobe-report={Path(value).with_suffix('')}"
        )
    if value.endswith(".py") or "::" in value or _holds_tests(Path(value)):
        raise argparse.ArgumentTypeError(
            f"{value!r} looks like a test path, not a report directory: write "
            f"--ragprobe-report=DIR, or put --ragprobe-report after the test paths"
        )
    return value


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("ragprobe", "pytest-ragprobe: RAG reversal and lost-in-the-middle probes")
    group.addoption(
        "--ragprobe-report",
        dest="ragprobe_report",
        nargs="?",
        const=True,  # bare flag: the ini ragprobe_report directory, else DEFAULT_REPORT_DIR
        type=_report_dir,
        default=None,
        metavar="DIR",
        help=f"Write report.json, report.html and report.md to DIR (default DIR: {DEFAULT_REPORT_DIR})",
    )
    parser.addini(
        "ragprobe_report",
        "Write the reports to this directory on every run (empty: only with --ragprobe-report)",
        default="",
    )
    group.addoption(
        "--ragprobe-cache",
        dest="ragprobe_cache",
        type=_cache_dir,
        default=None,
        metavar="DIR",
        help=f"Answer cache directory (default {DEFAULT_CACHE_DIR} in the rootdir)",
    )
    # default None, not DEFAULT_CACHE_DIR: unset, it is the rootdir's (a value set is the ini file's dir's)
    parser.addini(
        "ragprobe_cache", f"Answer cache directory (default {DEFAULT_CACHE_DIR} in the rootdir)", default=None
    )
    for name, ini_type, default, type_, metavar, help_ in _VALUED:
        group.addoption(
            f"--ragprobe-{name}", dest=_ini_name(name), type=type_, default=None, metavar=metavar, help=help_
        )
        type_ini = _COUNT_INI_TYPE if ini_type == "count" else ini_type
        parser.addini(_ini_name(name), help_, type=type_ini, default=default)  # type: ignore[arg-type]
    for name, help_ in _FLAGS:
        group.addoption(
            f"--ragprobe-{name}", dest=_ini_name(name), action="store_true", default=None, help=help_
        )
        parser.addini(_ini_name(name), help_, type="bool", default=False)


def _ini(config: pytest.Config, name: str) -> Any:
    """An ini value; pytest's own conversion errors (``int('abc')``) become a UsageError naming the key."""
    try:
        return config.getini(name)
    except (ValueError, TypeError, pytest.UsageError) as exc:  # pytest >= 9 wraps them, without the key
        text = str(exc)
        # Python's own words ("invalid literal for int() with base 10: 'abc'") as the command line says it
        m = re.search(r"(?:invalid literal for int\(\) with base 10|convert string to float): (.*)$", text)
        if m:
            kind = "a whole number" if "int()" in text else "a number"
            text = f"expected {kind}, got {m.group(1)}"
        # pytest 9.0 / 9.1 read TOML (pytest.toml, [tool.pytest]) strictly and have no union ini type for
        # the caps (_COUNT_INI_TYPE): there `ragprobe_samples = 5` must be quoted
        got = re.search(r"expects a string, got int: (-?\d+)$", text)
        if got and _COUNT_INI_TYPE == "string":
            text += f' (this pytest wants it quoted: {name} = "{got.group(1)}")'
        raise pytest.UsageError(f"ini option {name}: {text}") from None


def _get(config: pytest.Config, name: str) -> Any:
    value = config.getoption(name)
    return _ini(config, name) if value is None else value


def _checked_ini(config: pytest.Config, name: str, check: Any) -> Any:
    """Ini values skip argparse, so run the same check and turn failures into a UsageError."""
    raw = _get(config, name)
    if config.getoption(name) is not None:
        return raw
    try:
        return check(str(raw))
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"ini option {name} = {raw!r}: {exc}") from None


def _optional_count(config: pytest.Config, name: str) -> int | None:
    """A cap that is off unless set (``--ragprobe-samples`` / ``--ragprobe-budget`` or their ini keys).
    The ini used to read 0 as "no cap" while the command line refused it: ``ragprobe_budget = 0``
    meant to allow no call allowed every call."""
    given = config.getoption(name)
    if given is not None:
        return int(given)
    value = _ini(config, name)  # a str, or with pytest >= 9.2 an int (0 is no "unset")
    raw = "" if value is None else str(value).strip()
    if not raw:
        return None
    try:
        return int(_positive_int(raw))
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"ini option {name} = {raw!r}: {exc} (leave it unset for no cap)") from None


def _override(config: pytest.Config, name: str) -> str | None:
    """The ``-o name=value`` item that sets ``name`` (pytest takes the last -o of a key), else None."""
    for item in reversed(getattr(config.option, "override_ini", None) or []):
        if item.split("=", 1)[0] == name:
            return str(item)
    return None


def setting_label(config: pytest.Config, name: str, value: object) -> str:
    """How the user gave the setting ``name`` (its dest and ini key), for the notes that name it:
    ``--ragprobe-samples=5`` from the command line, ``-o ragprobe_samples=5``, or ``ragprobe_samples = 5
    in pytest.ini`` from the ini file (a flag without its value: ``ragprobe_strict in pyproject.toml``)."""
    shown = "" if isinstance(value, bool) else f"={value}"
    if config.getoption(name) is not None:
        return f"--{name.replace('_', '-')}{shown}"
    # -o overrides the ini file; pytest takes the last -o of a key, its key as written (not stripped)
    item = _override(config, name)
    if item is not None:
        return f"-o {item}"
    where = config.inipath.name if config.inipath is not None else "the ini file"
    return f"{name}{shown.replace('=', ' = ', 1)} in {where}"


def build_config(config: pytest.Config) -> RagprobeConfig:
    rootdir = Path(config.rootpath)
    invocation = Path(config.invocation_params.dir)

    # A path from the command line is relative to where pytest was started; one from the ini file to
    # the ini file's directory, so `ragprobe_report = reports` means the same directory from any subdir.
    ini_dir = Path(config.inipath).parent if config.inipath is not None else rootdir

    def path_or_none(value: object, base: Path) -> Path | None:
        text = str(value or "").strip()
        # ~ and $VARIABLES as pytest's --junitxml and cache_dir take them (a shell leaves the ~ of
        # `--ragprobe-report=~/reports` alone: it made a directory named ~ here)
        return (base / os.path.expanduser(os.path.expandvars(text))) if text else None

    def ini_path(name: str, default: str = "") -> Path | None:
        value = _ini(config, name)
        if value is None:  # set nowhere (the key's default is None): the default is the rootdir's, not the
            # ini file's dir (`-c ci/pytest.ini`, `-c /dev/null --rootdir=.` put the cache in ci/, /dev/)
            return path_or_none(default, rootdir)
        if name in ("ragprobe_report", "ragprobe_cache") and _switch_word(value):
            fix = (
                "ragprobe_no_cache = true (or --ragprobe-no-cache) turns the cache off"
                if name == "ragprobe_cache"
                else "leave it unset or empty for reports only with --ragprobe-report, or name the "
                f"directory ({DEFAULT_REPORT_DIR})"
            )
            raise pytest.UsageError(
                f"{setting_label(config, name, value)}: {name} takes a directory, not a switch: {fix}"
            )
        # `-o` is typed on the command line: relative to where pytest runs, as the --ragprobe-* paths
        return path_or_none(value, invocation if _override(config, name) is not None else ini_dir)

    def option_path(name: str, default: str = "") -> Path | None:
        given = config.getoption(name)
        if given is not None:
            return path_or_none(given, invocation)
        return ini_path(name, default)

    cache_path = option_path("ragprobe_cache", DEFAULT_CACHE_DIR)
    no_cache = config.getoption("ragprobe_no_cache")
    if no_cache is None:
        # CLI > ini: --ragprobe-cache=DIR asked for a cache, which the ini file's ragprobe_no_cache turned off
        # silently (a -o ragprobe_no_cache=... is typed on the command line too: it still counts)
        ini_no_cache = bool(_ini(config, "ragprobe_no_cache"))
        cli_cache = config.getoption("ragprobe_cache") is not None
        no_cache = ini_no_cache and (not cli_cache or _override(config, "ragprobe_no_cache") is not None)
    cache = None if no_cache else cache_path
    samples = _optional_count(config, "ragprobe_samples")
    strict = bool(_get(config, "ragprobe_strict"))
    budget = _optional_count(config, "ragprobe_budget")
    timeout = float(_checked_ini(config, "ragprobe_timeout", _positive_float))
    report_dir = option_path("ragprobe_report")
    if config.getoption("ragprobe_report") is True:  # bare flag: the ini's directory, else the default
        ini_report = ini_path("ragprobe_report")
        report_dir = ini_report or invocation / DEFAULT_REPORT_DIR
    return RagprobeConfig(
        report_dir=report_dir,
        pipeline=str(_get(config, "ragprobe_pipeline") or "").strip() or None,
        concurrency=int(_checked_ini(config, "ragprobe_concurrency", _positive_int)),
        timeout=timeout,
        retries=int(_checked_ini(config, "ragprobe_retries", _non_negative_int)),
        cache_dir=cache,
        tables_dir=None if cache_path is None else cache_path / "tables",
        seed=int(_checked_ini(config, "ragprobe_seed", _non_negative_int)),
        samples=samples,
        confidence=float(_checked_ini(config, "ragprobe_confidence", _confidence)),
        baseline=option_path("ragprobe_baseline"),
        save_baseline=option_path("ragprobe_save_baseline"),
        strict=strict,
        budget=budget,
        sequential=bool(_get(config, "ragprobe_sequential")),
        max_error_rate=float(_checked_ini(config, "ragprobe_max_error_rate", _rate)),
        progress=not bool(_get(config, "ragprobe_no_progress")),
        samples_by="" if samples is None else setting_label(config, "ragprobe_samples", samples),
        strict_by=setting_label(config, "ragprobe_strict", True) if strict else "--ragprobe-strict",
    )
