"""DESIGN.md's "Public contract" for the options and the marks' spelling: every option in one ``ragprobe``
group with an ini twin ``ragprobe_<name>``, and for each, command line > ini > default."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import pytest_ragprobe as ragprobe
from pytest_ragprobe._config import CONFIG_KEY, RagprobeConfig

GROUP_TITLE = "pytest-ragprobe: RAG reversal and lost-in-the-middle probes:"

# every option the contract and the README list
CONTRACT_OPTIONS = {
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
    "--ragprobe-save-baseline",
    "--ragprobe-strict",
    "--ragprobe-sequential",
    "--ragprobe-budget",
    "--ragprobe-max-error-rate",
    "--ragprobe-no-progress",
}


def _help_sections(pytester: pytest.Pytester) -> tuple[str, str, str]:
    out = pytester.runpytest("--help").stdout.str()
    before, group = out.split(GROUP_TITLE, 1)
    group, after = group.split("\n\n", 1)  # the group ends at the next blank line
    return before, group, after


def test_every_option_is_in_the_one_ragprobe_group_and_nowhere_else(pytester: pytest.Pytester) -> None:
    before, group, after = _help_sections(pytester)
    assert set(re.findall(r"--ragprobe-[a-z-]+", group)) == CONTRACT_OPTIONS
    # the ini section's heading: "[pytest] ini-options" up to pytest 8.x, "[pytest] configuration options" on 9
    between, ini_section = re.split(r"\[pytest\] (?:ini-options|configuration options)", after, maxsplit=1)
    # nothing of ours outside the group except the ini keys
    assert not re.findall(r"--ragprobe-[a-z-]+", before)
    assert not re.findall(r"--ragprobe-[a-z-]+", between)
    ini_keys = set(re.findall(r"^\s+(ragprobe_[a-z_]+)", ini_section, flags=re.M))
    # each option has its ini twin, ragprobe_<name>
    assert ini_keys == {"ragprobe_" + o.removeprefix("--ragprobe-").replace("-", "_") for o in CONTRACT_OPTIONS}


# attribute, ini value, what the ini gives, command line, what the command line gives, the default
PRECEDENCE: list[tuple[str, str, Any, list[str], Any, Any]] = [
    ("concurrency", "3", 3, ["--ragprobe-concurrency=5"], 5, 8),
    ("timeout", "2.5", 2.5, ["--ragprobe-timeout=7"], 7.0, 60.0),
    ("retries", "0", 0, ["--ragprobe-retries=4"], 4, 2),
    ("seed", "42", 42, ["--ragprobe-seed=0"], 0, 0),
    ("samples", "50", 50, ["--ragprobe-samples=9"], 9, None),
    ("confidence", "0.9", 0.9, ["--ragprobe-confidence=0.99"], 0.99, 0.95),
    ("budget", "1000", 1000, ["--ragprobe-budget=10"], 10, None),
    ("max_error_rate", "0.25", 0.25, ["--ragprobe-max-error-rate=0"], 0.0, 0.1),
    ("pipeline", "ini.mod:p", "ini.mod:p", ["--ragprobe-pipeline=cli.mod:p"], "cli.mod:p", None),
    ("strict", "false", False, ["--ragprobe-strict"], True, False),
    ("sequential", "false", False, ["--ragprobe-sequential"], True, False),
    ("report_dir", "ini_reports", "ini_reports", ["--ragprobe-report=cli_reports"], "cli_reports", None),
    ("cache_dir", "ini_cache", "ini_cache", ["--ragprobe-cache=cli_cache"], "cli_cache", ".ragprobe_cache"),
    ("baseline", "ini_base.json", "ini_base.json", ["--ragprobe-baseline=cli_base.json"], "cli_base.json", None),
    ("save_baseline", "ini_s.json", "ini_s.json", ["--ragprobe-save-baseline=cli_s.json"], "cli_s.json", None),
]
INI_KEY = {"report_dir": "ragprobe_report", "cache_dir": "ragprobe_cache"}


def _value(cfg: RagprobeConfig, attr: str, root: Path) -> Any:
    value = getattr(cfg, attr)
    return value.relative_to(root).as_posix() if isinstance(value, Path) else value


@pytest.mark.parametrize(("attr", "ini_value", "from_ini", "cli", "from_cli", "default"), PRECEDENCE, ids=[p[0] for p in PRECEDENCE])
def test_command_line_beats_ini_beats_default(
    pytester: pytest.Pytester, attr: str, ini_value: str, from_ini: Any, cli: list[str], from_cli: Any, default: Any
) -> None:
    root = pytester.path
    for name in ("ini_base.json", "cli_base.json"):  # a baseline must exist
        (root / name).write_text('{"schema_version": 1, "probes": []}', encoding="utf-8")
    key = INI_KEY.get(attr, f"ragprobe_{attr}")
    pytester.makeini("[pytest]\n")
    assert _value(pytester.parseconfigure().stash[CONFIG_KEY], attr, root) == default
    pytester.makeini(f"[pytest]\n{key} = {ini_value}\n")
    assert _value(pytester.parseconfigure().stash[CONFIG_KEY], attr, root) == from_ini
    assert _value(pytester.parseconfigure(*cli).stash[CONFIG_KEY], attr, root) == from_cli


@pytest.mark.parametrize(("flag", "key", "attr", "on"), [
    ("--ragprobe-no-cache", "ragprobe_no_cache", "cache_dir", None),
    ("--ragprobe-no-progress", "ragprobe_no_progress", "progress", False),
    ("--ragprobe-strict", "ragprobe_strict", "strict", True),
    ("--ragprobe-sequential", "ragprobe_sequential", "sequential", True),
])
def test_flags_are_set_by_their_ini_twin_too(pytester: pytest.Pytester, flag: str, key: str, attr: str, on: Any) -> None:
    pytester.makeini("[pytest]\n")
    off = getattr(pytester.parseconfigure().stash[CONFIG_KEY], attr)
    assert off != on
    assert getattr(pytester.parseconfigure(flag).stash[CONFIG_KEY], attr) == on
    pytester.makeini(f"[pytest]\n{key} = true\n")
    assert getattr(pytester.parseconfigure().stash[CONFIG_KEY], attr) == on
    # pytest's own -o turns the ini setting off for one run
    assert getattr(pytester.parseconfigure("-o", f"{key}=false").stash[CONFIG_KEY], attr) == off


def test_a_bare_report_flag_writes_to_the_default_directory(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\n")
    cfg = pytester.parseconfigure("--ragprobe-report").stash[CONFIG_KEY]
    assert cfg.report_dir == pytester.path / "ragprobe-report"


# -- marks ------------------------------------------------------------------------------------------------


def test_the_sugar_is_the_raw_mark() -> None:
    facts = [ragprobe.Fact(subject="P-1", relation="compatible_with", object="C-1")]
    rev = ragprobe.reverse(facts=facts, max_drop=0.2)
    assert isinstance(rev, pytest.MarkDecorator)
    assert rev.mark == pytest.mark.ragprobe_reverse(facts=facts, max_drop=0.2).mark
    pos = ragprobe.position(data="qa.jsonl", n_docs=5, positions=[0, 4])
    assert pos.mark.name == "ragprobe_position"
    assert pos.mark.kwargs["n_docs"] == 5 and list(pos.mark.kwargs["positions"]) == [0, 4]


REVERSE_ARGS = {"facts", "max_drop", "min_accuracy", "n", "seed", "confidence", "match"}
POSITION_ARGS = REVERSE_ARGS - {"facts"} | {"data", "facts", "n_docs", "positions", "distractors"}


@pytest.mark.parametrize(
    ("mark", "args"), [(ragprobe.reverse, REVERSE_ARGS), (ragprobe.position, POSITION_ARGS)], ids=["reverse", "position"]
)
def test_every_contract_argument_is_accepted(mark: Any, args: set[str]) -> None:
    import inspect

    assert args <= set(inspect.signature(mark).parameters)


# one ill-typed value per argument: the message names the argument
ILL_TYPED = [
    ("max_drop", "0.1"),
    ("min_accuracy", "high"),
    ("n", 2.5),
    ("seed", "1"),
    ("confidence", 95),
    ("match", "fuzzy"),
    ("match", 3),
    ("facts", 5),
]


@pytest.mark.parametrize(("arg", "value"), ILL_TYPED)
@pytest.mark.parametrize("mark", ["reverse", "position"])
def test_ill_typed_arguments_name_the_argument(mark: str, arg: str, value: object) -> None:
    kwargs: dict[str, Any] = {"data": "qa.jsonl"} if mark == "position" and arg != "facts" else {}
    if mark == "reverse" and arg != "facts":
        kwargs["facts"] = "parts.yaml"
    kwargs[arg] = value
    with pytest.raises(ragprobe.MarkArgumentError, match=f"^@ragprobe.{mark}: argument '{arg}' "):
        getattr(ragprobe, mark)(**kwargs)


@pytest.mark.parametrize(
    ("arg", "value"), [("n_docs", "10"), ("n_docs", 1), ("positions", "0,4"), ("distractors", "random"), ("data", 5)]
)
def test_ill_typed_position_arguments_name_the_argument(arg: str, value: object) -> None:
    kwargs: dict[str, Any] = {} if arg == "data" else {"data": "qa.jsonl"}
    kwargs[arg] = value
    with pytest.raises(ragprobe.MarkArgumentError, match=f"^@ragprobe.position: argument '{arg}' "):
        ragprobe.position(**kwargs)


# -- values -----------------------------------------------------------------------------------------------


def test_document_and_answer_signatures() -> None:
    doc = ragprobe.Document("text")
    assert (doc.text, doc.title, doc.id, dict(doc.metadata)) == ("text", "", None, {})
    doc = ragprobe.Document("t", "title", "id-1", {"k": 1})
    assert (doc.text, doc.title, doc.id, dict(doc.metadata)) == ("t", "title", "id-1", {"k": 1})
    answer = ragprobe.Answer("a", documents=[doc])
    assert answer.text == "a" and list(answer.documents) == [doc]
    assert list(ragprobe.Answer("a").documents) == []


def test_a_cache_directory_on_the_command_line_beats_the_ini_files_no_cache(pytester: pytest.Pytester) -> None:
    """CLI > ini: `--ragprobe-cache=DIR` asks for the cache in DIR; `ragprobe_no_cache = true` in the ini
    file turned it off anyway, silently. Both on the command line, --ragprobe-no-cache wins (as before)."""
    pytester.makeini("[pytest]\nragprobe_no_cache = true\n")
    assert pytester.parseconfigure().stash[CONFIG_KEY].cache_dir is None
    cfg = pytester.parseconfigure("--ragprobe-cache=mine").stash[CONFIG_KEY]
    assert cfg.cache_dir == pytester.path / "mine"
    cfg = pytester.parseconfigure("--ragprobe-cache=mine", "--ragprobe-no-cache").stash[CONFIG_KEY]
    assert cfg.cache_dir is None
    # the ini file's own directory does not beat its own no_cache
    pytester.makeini("[pytest]\nragprobe_no_cache = true\nragprobe_cache = c\n")
    assert pytester.parseconfigure().stash[CONFIG_KEY].cache_dir is None
    pytester.makeini("[pytest]\n")
    cfg = pytester.parseconfigure("--ragprobe-cache=mine", "-o", "ragprobe_no_cache=true").stash[CONFIG_KEY]
    assert cfg.cache_dir is None  # (-o is typed on the command line too)


def test_the_hook_specs_register_once_whichever_entry_point_comes_first() -> None:
    """The plugin (entry point ``ragprobe``) and ``ragprobe_hooks`` both add the specs: pluggy refuses a
    spec added twice, so the second is a no-op, in either order."""
    from pytest_ragprobe import _hookspecs_plugin, plugin

    for first, second in ((plugin, _hookspecs_plugin), (_hookspecs_plugin, plugin)):
        manager = pytest.PytestPluginManager()
        first.pytest_addhooks(manager)
        second.pytest_addhooks(manager)
        assert manager.hook.pytest_ragprobe_make_pipeline.spec is not None
        assert manager.hook.pytest_ragprobe_report.spec is not None
