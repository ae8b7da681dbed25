"""The ``ragprobe`` command: merge sharded reports into one, show a report in the terminal.

    ragprobe merge OUT_DIR shard-1/report.json shard-2/ ...   # -> OUT_DIR/report.{json,md,html}
    ragprobe show ragprobe-report/                             # terminal summary (or --format markdown)

Exit codes: 0 all probes passed (INCONCLUSIVE passes unless --strict or the run, for `merge` the
shard's run, was --ragprobe-strict), 1 a probe failed, errored or regressed against its baseline, or
the report is partial (a crashed, killed or interrupted run: probes may be missing), 2 bad input (a missing or
invalid report, conflicting shards, bad arguments), 5 the report holds no probe, so nothing was gated
(pytest's own code for "no tests ran").
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import sys
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from pytest_ragprobe.results import ProbeResult, Report

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_EMPTY = 0, 1, 2, 5
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a command whose reader went away
# Run bookkeeping that may differ between two runs of the same probe without the result differing.
_BOOKKEEPING = {"duration_s", "calls", "cached_calls"}
# Settings `merge` writes itself from every shard (not by the generic first-value / every-value rule).
# ("planned": a shard's own count of probes; a merged report says nothing about how many are missing)
_MERGE_OWN = (
    "merged_from", "strict", "strict_by", "seeds", "confidences", "plugin_versions", "crashed", "uncollected",
    "planned", "deselected", "selected",
)


def _print(text: str, *, file: TextIO | None = None) -> None:
    """print() for text quoting a report or cache file (node ids, reasons, paths, pipeline labels): its
    control characters, a terminal escape in a crafted report.json, are written as their escapes."""
    from pytest_ragprobe.reporting import visible_controls

    print(visible_controls(text), file=file)


class InputError(Exception):
    """Bad input: the message names the file and what is wrong with it."""


def resolve_report_path(arg: str | Path) -> Path:
    path = Path(arg)
    if path.is_dir():
        inner = path / "report.json"
        if not inner.is_file():
            raise InputError(f"{path}: directory has no report.json")
        return inner
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    return path


class _NonFinite(ValueError):
    """NaN, Infinity or -Infinity in a report: Python's json reads them, JSON has none of them."""


def _not_a_json_number(token: str) -> Any:
    raise _NonFinite(token)


def _non_finite_at(text: str) -> tuple[int, int, str]:
    """(line, column, token) of the first NaN / Infinity / -Infinity outside a string in ``text``."""
    import re

    for match in re.finditer(r'"(?:\\.|[^"\\])*"|(-?Infinity|NaN)', text):
        if match.group(1):
            start = match.start(1)
            return text.count("\n", 0, start) + 1, start - text.rfind("\n", 0, start), match.group(1)
    return 1, 1, "NaN"  # (not reached: the parser found one)


def read_report(arg: str | Path) -> tuple[Path, Report]:
    """Load one report.json (or a directory holding one), with errors that name the file."""
    from pydantic import ValidationError

    from pytest_ragprobe.results import SCHEMA_VERSION, Report

    path = resolve_report_path(arg)
    try:
        text = path.read_text(encoding="utf-8-sig")  # (a byte order mark of Notepad / PowerShell: skipped)
        data = json.loads(text, parse_constant=_not_a_json_number)
    except _NonFinite:  # (Python's json reads them; a merge wrote null there, which it could not read back)
        line, column, token = _non_finite_at(text)
        raise InputError(
            f"{path}: not valid JSON (line {line}, column {column}: {token} is not a JSON number; "
            "pytest-ragprobe writes null for a value that is not a number)"
        ) from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file (expected a ragprobe report.json)") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not isinstance(data, dict) or "probes" not in data:
        raise InputError(f"{path}: not a ragprobe report (expected a JSON object with 'probes')")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InputError(
            f"{path}: schema_version {version!r} is not supported "
            f"(this pytest-ragprobe reads schema_version {SCHEMA_VERSION})"
        )
    try:
        return path, Report.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc'])}: {err['msg']}" for err in exc.errors()[:3]
        )
        more = f" (and {exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
        from pytest_ragprobe import __version__

        written = data.get("plugin_version")
        if isinstance(written, str) and written and written != __version__:  # (a verdict it added, ...)
            more += (
                f" (it was written by pytest-ragprobe {written}; this is {__version__}: read it with that "
                "version, or upgrade)"
            )
        raise InputError(f"{path}: not a valid ragprobe report: {problems}{more}") from None


def _result(p: ProbeResult) -> dict[str, Any]:
    """``p`` as JSON without run bookkeeping nor what `merge` writes on a strict shard's INCONCLUSIVE probe
    (its ``strict_by``, and the failed test strictness made of it): the result, strict or not."""
    from pytest_ragprobe.render import probe_strict_by

    data = p.model_dump(mode="json", exclude=_BOOKKEEPING | {"strict_by"})
    by = probe_strict_by(p)
    if by and data.get("test_message") == f"{by}: INCONCLUSIVE fails":
        data["test_outcome"], data["test_message"] = "", ""
    return data


def _same_result(a: ProbeResult, b: ProbeResult) -> bool:
    return _result(a) == _result(b)


def _shard_values(report: Report, key: str) -> list[Any]:
    """A shard's value(s) of a setting. A merged report keeps every distinct value of a setting its shards
    differed in as a list: those are its values (merging a merged report gave nested lists)."""
    value = report.settings[key]
    return list(value) if isinstance(value, list) and "merged_from" in report.settings else [value]


def _merge_settings(reports: Sequence[tuple[Path, Report]]) -> tuple[dict[str, Any], list[str]]:
    """Settings of the first shard; a key whose value differs between shards keeps every distinct value,
    and the note says which file had which."""
    merged: dict[str, Any] = {}
    differing: list[str] = []
    keys = list(dict.fromkeys(k for _, r in reports for k in r.settings if k not in _MERGE_OWN))
    for key in keys:
        where: dict[str, list[str]] = {}  # value (as JSON) -> the files that had it
        values: list[Any] = []
        for path, r in reports:
            for value in _shard_values(r, key) if key in r.settings else []:
                text = json.dumps(value, sort_keys=True, default=str)
                if text not in where:
                    where[text] = []
                    values.append(value)
                if str(path) not in where[text]:
                    where[text].append(str(path))
        merged[key] = values[0] if len(values) == 1 else values
        if len(values) > 1:
            differing.append(f"{key} (" + "; ".join(f"{v} in {', '.join(f)}" for v, f in where.items()) + ")")
    return merged, differing


def _by_file(values: Sequence[tuple[Path, Any]]) -> str:
    """ "1 (a/report.json), 2 (b/report.json, c/report.json)" """
    groups: dict[Any, list[str]] = {}
    for path, value in values:
        groups.setdefault(value, []).append(str(path))
    return ", ".join(f"{value} ({', '.join(files)})" for value, files in groups.items())


def _run_values(report: Report, key: str, first: Any) -> list[Any]:
    """The seeds (or confidences) a shard ran with: a merged report lists its shards' under ``key``."""
    values = report.settings.get(key)
    return list(values) if isinstance(values, list) and "merged_from" in report.settings else [first]


def merge_reports(
    reports: Sequence[tuple[Path, Report]], *, prefer: str = "error"
) -> tuple[Report, list[str]]:
    """Union of the probes by nodeid. Returns the merged report and notes for stderr.

    The same nodeid with an identical result (ignoring calls/duration) is kept once; with a different
    result it is an InputError unless ``prefer == "last"``, where the later file wins.
    """
    from pytest_ragprobe import __version__
    from pytest_ragprobe.render import STRICT_FLAG, strict_fails
    from pytest_ragprobe.reporting import ran_strict
    from pytest_ragprobe.results import Report, distinguish_pipelines, nodeid_key

    if not reports:
        raise InputError("no reports to merge")
    notes: list[str] = []
    chosen: dict[str, tuple[Path, ProbeResult]] = {}
    conflicts: list[str] = []
    duplicates: list[str] = []
    strict = {path: ran_strict(r) for path, r in reports}

    def failed_by_strict(path: Path, probe: ProbeResult) -> bool:
        return strict_fails(probe, strict[path])  # (or a merged report's copy of such a probe)

    for path, report in reports:
        for probe in report.probes:
            seen = chosen.get(probe.nodeid)
            if seen is not None and _same_result(seen[1], probe):
                duplicates.append(probe.nodeid)
                # The same INCONCLUSIVE result from a strict shard (its pytest run failed the test) and from a
                # non-strict one: keep the strict copy, so that the merged gate is never more lenient than a
                # shard's own (keeping the later copy passed a test the strict run had failed).
                copy = (path, probe)
                kept = {failed_by_strict(*seen): seen, failed_by_strict(*copy): copy}
                if len(kept) > 1:
                    (strict_path, _), (other, _) = kept[True], kept[False]
                    whose = f"the copy of the strict shard {strict_path}" if strict[strict_path] else (
                        f"the strict copy from {strict_path}"
                    )
                    notes.append(
                        f"{probe.nodeid}: kept {whose} (INCONCLUSIVE failed its strict run) over the same "
                        f"result in {other}"
                    )
                    chosen[probe.nodeid] = kept[True]
                    continue
            if seen is not None and not _same_result(seen[1], probe):
                if prefer == "last":
                    notes.append(
                        f"{probe.nodeid}: kept the result from {path} ({probe.verdict}) over {seen[0]} "
                        f"({seen[1].verdict})"
                    )
                else:
                    conflicts.append(
                        f"{probe.nodeid} is in {seen[0]} ({seen[1].verdict}) and in {path} ({probe.verdict}) "
                        "with different results"
                    )
                    continue
            chosen[probe.nodeid] = (path, probe)
    if conflicts:
        shown = conflicts[:10] + ([f"... and {len(conflicts) - 10} more"] if len(conflicts) > 10 else [])
        raise InputError(
            "conflicting shards:\n  " + "\n  ".join(shown) + "\n(each probe should run in exactly one shard; "
            "pass --prefer last to keep the later file's result)"
        )
    empty = [str(path) for path, report in reports if not report.probes]
    if empty and len(empty) < len(reports):  # all empty: the exit-5 message says it
        # a matrix job whose -k / -m selected nothing would otherwise pass unnoticed
        notes.append(
            f"{len(empty)} shard(s) hold no probe: {', '.join(empty)}; check that job's -k / -m and that it "
            "ran the tests"
        )
    if duplicates:  # e.g. the same shard given twice: kept once, but worth knowing
        names = ", ".join(dict.fromkeys(duplicates[:5])) + (", ..." if len(duplicates) > 5 else "")
        notes.append(
            f"{len(duplicates)} probe(s) appeared in more than one shard with the same result; "
            f"kept once: {names}"
        )
    settings, differing = _merge_settings(reports)
    seeds = [(p, s) for p, r in reports for s in _run_values(r, "seeds", r.seed)]
    confidences = [(p, c) for p, r in reports for c in _run_values(r, "confidences", r.confidence)]
    if len({s for _, s in seeds}) > 1:
        notes.append(f"shards used different seeds: {_by_file(seeds)}; the merged report shows the first")
        settings["seeds"] = list(dict.fromkeys(s for _, s in seeds))
    if len({c for _, c in confidences}) > 1:
        notes.append(
            f"shards used different confidence levels: {_by_file(confidences)}; "
            "the merged report shows the first"
        )
        settings["confidences"] = list(dict.fromkeys(c for _, c in confidences))
    versions = [(p, v) for p, r in reports for v in _run_values(r, "plugin_versions", r.plugin_version) if v]
    if len({v for _, v in versions}) > 1:  # (a report without one, hand-written or old, says nothing)
        notes.append(
            f"shards were written by different pytest-ragprobe versions: {_by_file(versions)}; their results "
            "may not be comparable (upgrade every shard's job to one version)"
        )
        settings["plugin_versions"] = list(dict.fromkeys(v for _, v in versions))
    if differing:
        notes.append("shards differ in settings: " + ", ".join(differing))
    settings["strict"] = all(strict.values())
    # where it was set: each strict shard's own words, once ("--ragprobe-strict; ragprobe_strict in tox.ini")
    by = dict.fromkeys(str(r.settings.get("strict_by") or STRICT_FLAG) for p, r in reports if strict[p])
    if settings["strict"] and by:
        settings["strict_by"] = "; ".join(by)
    mixed = len(set(strict.values())) > 1
    if mixed or len(by) > 1:
        # One flag cannot say that only some shards ran under --ragprobe-strict (making the whole merge
        # strict failed a non-strict shard's INCONCLUSIVE probes, which its pytest run had passed): a
        # strict shard's INCONCLUSIVE probe is recorded as the failed test its pytest run made of it.
        # Each such probe carries its shard's words, ``strict_by`` ("ragprobe_strict in pytest.ini (run of
        # a/report.json)"), which the reports say as a strict run does ("INCONCLUSIVE (strict: fails)"),
        # also when every shard was strict but set otherwise (the run's strict_by is then their list).
        shard_by = {p: str(r.settings.get("strict_by") or STRICT_FLAG) for p, r in reports}
        for nodeid, (path, probe) in chosen.items():
            if strict[path] and probe.outcome == "inconclusive":
                words = f"{shard_by[path]} (run of {path})"
                update: dict[str, Any] = {"strict_by": words}
                if mixed:
                    update |= {"test_outcome": "failed", "test_message": f"{words}: INCONCLUSIVE fails"}
                chosen[nodeid] = (path, probe.model_copy(update=update))
    if mixed:
        notes.append(
            "shards differ in --ragprobe-strict: "
            + _by_file([(p, "strict" if v else "not strict") for p, v in strict.items()])
            + "; INCONCLUSIVE fails only for the probes of the strict ones"
        )
    partial, selected = _merged_partial(reports, chosen.keys(), settings, notes)
    # Probes a shard deselected (-k / -m, a sharding plugin) that no shard ran: the shard that ran them is
    # likely missing, and the merge would pass without their verdicts. (A merged report lists its own.)
    lists = [r.settings.get("deselected") for _, r in reports]
    deselected = {str(n) for names in lists if isinstance(names, list) for n in names}
    if missing := sorted(deselected - chosen.keys(), key=nodeid_key):
        settings["deselected"] = missing
        many = len(missing) != 1
        names = _first_ten(missing)
        notes.append(
            f"{len(missing)} probe{'s' if many else ''} deselected in a shard ran in no shard (is a shard "
            f"missing, or {'were they' if many else 'was it'} deselected in every shard?): {names}"
        )
    settings["merged_from"] = [str(p) for p, _ in reports]
    if partial and selected is not None:  # a later merge with the shard that runs the rest completes it
        settings["selected"] = sorted(selected | chosen.keys(), key=nodeid_key)
    first = reports[0][1]
    merged = Report(
        created=_dt.datetime.now(_dt.UTC).isoformat(),
        plugin_version=first.plugin_version or __version__,
        partial=partial,
        seed=first.seed,
        confidence=first.confidence,
        settings=settings,
        # labels decided over every shard: two shards may each hold one configuration of a class
        probes=distinguish_pipelines([chosen[nodeid][1] for nodeid in sorted(chosen, key=nodeid_key)]),
    )
    merged.summary = merged.counts()
    return merged, notes


def _first_ten(nodeids: Sequence[str]) -> str:
    """The merge notes' list of node ids: the first ten, and how many more."""
    more = len(nodeids) - 10
    return ", ".join(nodeids[:10]) + (f", ... ({more} more)" if more > 0 else "")


def _merged_partial(
    reports: Sequence[tuple[Path, Report]],
    finished: Collection[str],
    settings: dict[str, Any],
    notes: list[str],
) -> tuple[bool, set[str] | None]:
    """Whether the merged report lacks something: a probe a shard selected (``settings.selected``) or
    whose worker crashed that no shard finished, a file no shard collected, or a partial shard that does not
    say what it selected (an older report: what it missed is unknown). A shard's own partial-ness covered by
    another shard's results is said in a note. Fills ``settings`` crashed / uncollected with what is still
    missing. Returns (partial, every probe known selected, or None when a partial shard does not say)."""
    from pytest_ragprobe.reporting import crashed_tests, uncollected_files
    from pytest_ragprobe.results import nodeid_key

    def names(r: Report, key: str) -> list[str]:
        value = r.settings.get(key)
        return [str(n) for n in value] if isinstance(value, list) else []

    def collected(name: str, path: Path) -> bool:
        # another shard collected the file (or directory): it holds a result or a (de)selected probe in it
        # ("." is the rootdir's collector: what it held is unknown)
        return name != "." and any(
            n.startswith((f"{name}::", f"{name}/"))
            for p, r in reports
            if p != path and name not in uncollected_files(r)
            for n in [*(x.nodeid for x in r.probes), *names(r, "selected"), *names(r, "deselected")]
        )

    selected: set[str] | None = set()
    missing: list[str] = []
    crashed: list[str] = []
    uncollected: list[str] = []
    for path, r in reports:
        known = "selected" in r.settings
        if selected is not None and r.partial and not known:
            selected = None
        # (a crashed test outside a shard's selection was no probe)
        died = [n for n in crashed_tests(r) if n not in finished and (not known or n in names(r, "selected"))]
        lost = [n for n in [*names(r, "selected"), *died] if n not in finished]
        files = [f for f in uncollected_files(r) if not collected(f, path)]
        missing += lost
        crashed += died
        uncollected += files
        if selected is not None:
            selected.update(names(r, "selected"))
        if r.partial and known and not lost and not files:
            notes.append(f"{path} is partial, but the merged report holds a result for every probe it missed")
    if crashed:
        settings["crashed"] = list(dict.fromkeys(crashed))
    if uncollected:
        settings["uncollected"] = list(dict.fromkeys(uncollected))
    if missing := sorted(set(missing), key=nodeid_key):
        many = len(missing) != 1
        shown = _first_ten(missing)
        notes.append(
            f"{len(missing)} probe{'s' if many else ''} selected in a shard {'have' if many else 'has'} no "
            f"result in any shard: {shown}"
        )
    return selected is None or bool(missing) or bool(uncollected), selected


def summary_text(report: Report, *, strict: bool) -> str:
    from pytest_ragprobe.reporting import STRICT_LABEL, counts_text, gate_failed, overall_verdict, run_label

    verdict = run_label(overall_verdict(report))
    if strict and gate_failed(report, strict=True) and not gate_failed(report):
        verdict = STRICT_LABEL
    elif report.partial and not gate_failed(report, strict=strict):
        verdict = "FAIL"  # the probes that finished passed, but the missing ones gate too (exit 1)
    from pytest_ragprobe.reporting import uncollected_files

    crashed = report.settings.get("crashed")
    crash = f"; an xdist worker crashed running {', '.join(map(str, crashed))}" if crashed else ""
    if files := uncollected_files(report):
        crash += f"; {', '.join(files)} could not be collected"
    partial = f" (partial run: probes may be missing{crash})" if report.partial else ""
    return f"{counts_text(report)} -> {verdict}{partial}"


def _strict(report: Report, flag: bool) -> bool:
    """--strict, or the run that wrote the report was strict: the same gate it had."""
    from pytest_ragprobe.reporting import ran_strict

    return flag or ran_strict(report)


def _exit_code(report: Report, *, strict: bool) -> int:
    from pytest_ragprobe.reporting import run_failed

    if run_failed(report, strict=strict):
        return EXIT_FAILED
    if not report.probes:
        # A gate that reads the report would pass a run that probed nothing (a -k / -m that deselects
        # every probe, marks lost in a refactor): say so and exit as pytest does.
        _print(
            "ragprobe: the report holds no probe, so nothing was gated (exit 5, as pytest's "
            "'no tests ran'): check -m / -k and that the tests carry ragprobe marks",
            file=sys.stderr,
        )
        return EXIT_EMPTY
    return EXIT_OK


def _report_kind(path: Path) -> str:
    """ "run" for a file holding a run's report, "merge" for a merged report's, "" for anything else."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return ""
    if not isinstance(data, dict) or "probes" not in data:
        return ""
    settings = data.get("settings")
    return "merge" if isinstance(settings, dict) and "merged_from" in settings else "run"


def _run_report_in(out: Path, inputs: Sequence[tuple[Path, Report]]) -> bool:
    """True when ``out`` holds a report.json that a merge into it would replace and that is a run's own
    (a shard's), not an earlier merge's nor one of the ``inputs``: OUT_DIR was likely left out."""
    existing = out / "report.json"
    try:
        if not existing.is_file() or existing.resolve() in {p.resolve() for p, _ in inputs}:
            return False
    except OSError:
        return False
    return _report_kind(existing) == "run"


def cmd_merge(args: argparse.Namespace) -> int:
    from pytest_ragprobe.reporting import write_reports

    loaded = [read_report(arg) for arg in args.reports]
    merged, notes = merge_reports(loaded, prefer=args.prefer)
    for note in notes:
        _print(f"ragprobe merge: note: {note}", file=sys.stderr)
    out = Path(args.out_dir)
    forgotten = f"was it forgotten? (`ragprobe merge merged {out} ...`)"  # (`ragprobe merge a/ b/`)
    if out.is_file() and _report_kind(out):
        raise InputError(
            f"{out}: is a file: OUT_DIR, the first argument, is the directory the merged report is written "
            f"to; {forgotten}"
        )
    if _run_report_in(out, loaded):
        raise InputError(
            f"{out}: holds the report.json of a run (not of a merge, nor one of the reports to merge), which "
            f"the merged report would replace: OUT_DIR, the first argument, is where the merged report is "
            f"written; {forgotten}"
        )
    if out.suffix.lower() in (".json", ".md", ".html"):  # `merge merged.json a.json b.json`
        raise InputError(
            f"{out}: OUT_DIR is the directory for report.json / .md / .html, not a file name "
            f"(e.g. `ragprobe merge {out.with_suffix('')} ...`)"
        )
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    try:
        path = write_reports(out, merged)
    except OSError as exc:
        raise InputError(f"{out}: cannot write the merged report: {exc.strerror or exc}") from None
    n = len(loaded)
    strict = _strict(merged, args.strict)
    _print(
        f"ragprobe merge: {n} report{'s' if n != 1 else ''}, {summary_text(merged, strict=strict)}; "
        f"wrote {path}"
    )
    return _exit_code(merged, strict=strict)


def cmd_show(args: argparse.Namespace) -> int:
    from pytest_ragprobe.render import (
        STRICT_FLAG,
        explain,
        failed_calls_note,
        low_accuracy_note,
        summary_lines,
    )
    from pytest_ragprobe.reporting import ordered, ran_strict, render_markdown

    if args.report is None:  # where a pytest run here writes its reports (the ini's ragprobe_report)
        where, origin = ini_directory("ragprobe_report", DEFAULT_REPORT_DIR, in_rootdir=False)
        _addopts_note(
            "show", "ragprobe_report", "--ragprobe-report", rootdir=False,
            what="the report: ragprobe show REPORT",
        )
        try:
            path, report = read_report(where)
        except InputError as exc:
            raise InputError(f"{exc} ({origin})") from None
    else:
        path, report = read_report(args.report)
    strict = _strict(report, args.strict)
    if args.format == "markdown":
        _write_utf8(render_markdown(report))
        return _exit_code(report, strict=strict)
    probes = ordered(report.probes, failing_last=True)
    # a strict run's lines say how it was strict, as its terminal did ("ragprobe_strict in pytest.ini: ...")
    by = report.settings.get("strict_by") if ran_strict(report) else None
    lines = summary_lines(probes, strict=strict, strict_by=by if isinstance(by, str) and by else STRICT_FLAG)
    for probe, text in zip(probes, lines, strict=True):  # as the terminal
        _print(text)
        if args.explain and probe.outcome != "pass":
            told = explain(probe, examples=3, strict=strict, strict_by=by if isinstance(by, str) else "")
            _print("\n".join("    " + line for line in told.splitlines()))
        elif args.explain:
            # a PASS whose failed calls were left out of its statistics, or whose accuracies are all low
            # (often a setup bug): it printed nothing of them; pytest had warned of both
            if probe.errors and probe.verdict != "error":
                _print(f"    {failed_calls_note(probe)}")
            if low := low_accuracy_note(probe):
                _print(f"    PASS, but {low}")
    _print(f"ragprobe: {path}: {summary_text(report, strict=strict)}")
    return _exit_code(report, strict=strict)


# -- the ini file pytest would read ---------------------------------------------------------------------


# The defaults of _config (not imported: _config imports pytest, which `ragprobe show` need not load).
DEFAULT_REPORT_DIR = "ragprobe-report"
DEFAULT_CACHE_DIR = ".ragprobe_cache"


def _pytest_major() -> int:
    """The installed pytest's major version (pytest.toml and [tool.pytest] are pytest >= 9's)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return int(version("pytest").split(".", 1)[0])
    except (PackageNotFoundError, ValueError):
        return 8


def _ini_values(path: Path, major: int) -> dict[str, Any] | None:
    """The pytest settings in ``path`` (a file pytest would consider), or None when it holds none, read as
    pytest >= ``major`` reads them (findpaths.load_config_dict_from_file)."""
    if path.suffix in (".ini", ".cfg"):
        import iniconfig

        try:
            parsed = iniconfig.IniConfig(str(path))
        except (iniconfig.ParseError, OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read it as pytest would: {exc}") from None
        section = "pytest" if path.suffix == ".ini" else "tool:pytest"
        if section in parsed:
            return dict(parsed[section].items())
        # always the config, even empty: pytest.ini; .pytest.ini only from pytest 9 (8.x skips it then)
        always = ("pytest.ini", ".pytest.ini") if major >= 9 else ("pytest.ini",)
        return {} if path.name in always else None
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it as pytest would: {exc}") from None
    if path.name in ("pytest.toml", ".pytest.toml"):
        table = data.get("pytest")
        return dict(table) if isinstance(table, dict) else {}
    tool = data.get("tool")
    pytest_table = tool.get("pytest") if isinstance(tool, dict) else None
    if not isinstance(pytest_table, dict):
        return None
    native = {k: v for k, v in pytest_table.items() if k != "ini_options"}
    if native and major >= 9:
        return native
    options = pytest_table.get("ini_options")
    return dict(options) if isinstance(options, dict) else None


def find_ini(cwd: Path | None = None) -> tuple[Path, Path | None, dict[str, Any]]:
    """``(rootdir, ini file or None, its pytest settings)`` as pytest finds them when it runs in ``cwd``
    without arguments: the first of pytest.ini, .pytest.ini, pyproject.toml with [tool.pytest.ini_options],
    tox.ini with [pytest], setup.cfg with [tool:pytest] (pytest >= 9: pytest.toml and .pytest.toml first,
    and pyproject.toml's [tool.pytest]) in ``cwd`` or the nearest parent directory; else the first
    pyproject.toml; else the rootdir is the nearest directory with a setup.py, or ``cwd``."""
    here = (cwd or Path.cwd()).absolute()
    major = _pytest_major()
    names = ["pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"]
    if major >= 9:
        names = ["pytest.toml", ".pytest.toml", *names]
    first_pyproject: Path | None = None
    for base in (here, *here.parents):
        for name in names:
            path = base / name
            if not path.is_file():
                continue
            if name == "pyproject.toml" and first_pyproject is None:
                first_pyproject = path
            values = _ini_values(path, major)
            if values is not None:
                return base, path, values
    if first_pyproject is not None:
        return first_pyproject.parent, first_pyproject, {}
    for base in (here, *here.parents):
        if (base / "setup.py").is_file():
            return base, None, {}
    return here, None, {}


def _shown(path: Path, cwd: Path) -> Path:
    """``path`` relative to ``cwd`` when it is below it (as a user would type it), else as it is."""
    try:
        return path.relative_to(cwd)
    except ValueError:
        return path


def ini_directory(key: str, default: str, *, in_rootdir: bool) -> tuple[Path, str]:
    """The directory pytest run here would use for the ini key ``key`` (``ragprobe_cache``,
    ``ragprobe_report``), and where it came from: the ini file's value, relative to the ini file; else
    ``default`` in the rootdir (``in_rootdir``) or in the current directory."""
    cwd = Path.cwd().absolute()
    rootdir, inipath, values = find_ini(cwd)
    value = values.get(key)
    if isinstance(value, str) and value.strip() and inipath is not None:
        where = inipath.parent / os.path.expanduser(os.path.expandvars(value.strip()))  # as _config does
        return _shown(where, cwd), f"{key} in {_shown(inipath, cwd)}"
    if in_rootdir:
        return _shown(rootdir / default, cwd), f"the default, {default} in the rootdir {rootdir}"
    return Path(default), f"the default, {default} in the current directory"


def _addopts_moving(key: str, option: str, *, rootdir: bool) -> list[str]:
    """The options in PYTEST_ADDOPTS that move where a pytest run here keeps ``key`` (``-c`` /
    ``--config-file``, ``-o key=...``, ``option`` with a value, and ``--rootdir`` when ``rootdir``), as
    written. find_ini does not follow them: pytest's rules for -c and --rootdir change between releases."""
    import shlex

    text = os.environ.get("PYTEST_ADDOPTS", "")
    try:
        words = shlex.split(text)
    except ValueError:  # (pytest refuses it too)
        words = text.split()
    spaced = ["-c", "--config-file", "-o", "--override-ini", option, *(["--rootdir"] if rootdir else [])]
    found: list[str] = []
    i = 0
    while i < len(words):
        word, nxt = words[i], words[i + 1] if i + 1 < len(words) else None
        name, eq, value = word.partition("=")
        if name in spaced and not eq and nxt is not None and not (name == option and nxt.startswith("-")):
            value, shown, i = nxt, shlex.join([word, nxt]), i + 2
        elif name in spaced and eq:
            shown, i = shlex.quote(word), i + 1
        elif word.startswith(("-c", "-o")) and not word.startswith("--") and len(word) > 2:
            name, value, shown, i = word[:2], word[2:], shlex.quote(word), i + 1
        else:
            i += 1
            continue
        if name in ("-o", "--override-ini") and value.partition("=")[0].strip() != key:
            continue
        found.append(shown)
    return found


def _addopts_note(command: str, key: str, option: str, *, rootdir: bool, what: str) -> None:
    """Say on stderr which PYTEST_ADDOPTS options this command did not follow (see _addopts_moving)."""
    moving = _addopts_moving(key, option, rootdir=rootdir)
    if moving:
        print(
            f"ragprobe {command}: note: PYTEST_ADDOPTS holds {', '.join(moving)}, which this command does "
            "not follow (it finds the ini file as a pytest run here without options does): to be sure, "
            f"name {what}",
            file=sys.stderr,
        )


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


# What a ragprobe answer cache holds (cache.py): its markers, and its entries, identities, plans and tables.
_CACHE_NAMES = frozenset(
    {".gitignore", "README.md", "CACHEDIR.TAG", "answers", "identities", "plans", "tables"}
)


def _not_cache(root: Path) -> str | None:
    """None when ``root`` is a ragprobe answer cache: it carries the CACHEDIR.TAG pytest-ragprobe writes,
    or holds nothing a cache does not (one where only statistics tables were written has no tag yet).
    Else the name of the first thing in it that a cache does not hold."""
    try:
        if "pytest-ragprobe" in (root / "CACHEDIR.TAG").read_text(encoding="utf-8", errors="replace"):
            return None
    except OSError:
        pass
    try:
        names = sorted(p.name for p in root.iterdir())
    except OSError:
        return None  # (scan reads nothing it cannot list either)
    return next((name for name in names if name not in _CACHE_NAMES), None)


def cmd_cache(args: argparse.Namespace) -> int:
    from pytest_ragprobe.cache import days_ago, scan

    if args.dir is None:  # the directory a pytest run here would use (the ini's ragprobe_cache)
        root, origin = ini_directory("ragprobe_cache", DEFAULT_CACHE_DIR, in_rootdir=True)
        _addopts_note(
            "cache", "ragprobe_cache", "--ragprobe-cache", rootdir=True,
            what="the directory: ragprobe cache DIR",
        )
        origin = f"{origin}; "
    else:
        root, origin = Path(args.dir), ""
    if not root.is_dir():  # one group: "(ragprobe_cache in pytest.ini) (pytest writes ...)" read as two notes
        raise InputError(f"{root}: no answer cache here ({origin}pytest writes one on the first run)")
    if args.prune is not None and not 0 <= args.prune < math.inf:  # (nan too)
        raise InputError(f"--prune takes a number of days >= 0, got {args.prune}")
    if (foreign := _not_cache(root)) is not None:  # (prune deletes by pattern: tables/*.json of a project)
        raise InputError(
            f"{root}: not a ragprobe answer cache (it holds {foreign}, which a cache does not; "
            "pytest-ragprobe marks its cache with a CACHEDIR.TAG): give the cache directory, by default "
            ".ragprobe_cache in the rootdir"
        )
    stats = scan(root, prune_before=None if args.prune is None else days_ago(args.prune))
    if args.prune is not None:
        _print(
            f"ragprobe cache: removed {_count(stats.removed, 'entry', 'entries')} "
            f"({_size(stats.removed_bytes)}) and {_count(stats.removed_tables, 'statistics table')} not "
            f"used in the last {args.prune:g} days"
            + (f", and {_count(stats.removed_plans, 'plan record')} of probes not run since"
               if stats.removed_plans else "")
        )

    def when(t: float | None) -> str:
        return "-" if t is None else _dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")

    used = f"last used {when(stats.oldest)} .. {when(stats.newest)}" if stats.entries else "empty"
    entries = _count(stats.entries, "entry", "entries")
    _print(f"ragprobe cache: {root}: {entries}, {_size(stats.bytes)}; {used}")
    last_used = stats.last_used or {}
    for pipeline, count in sorted((stats.by_pipeline or {}).items(), key=lambda kv: (-kv[1], kv[0])):
        _print(f"  {count:7d}  last used {when(last_used.get(pipeline))}  {pipeline}")
    if stats.tables:
        _print(
            f"  and {_count(stats.tables, 'statistics table')}, {_size(stats.tables_bytes)} "
            "(exact critical values; recomputed when missing)"
        )
    if stats.plans:
        _print(
            f"  and {_count(stats.plans, 'plan record')} "
            "(the calls each probe asked last run, for the cost plan)"
        )
    return EXIT_OK


def _count(n: int, one: str, many: str | None = None) -> str:
    """``1 entry`` / ``2 entries``: the cache summary's counts read as English for every n."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ragprobe",
        description=(
            "pytest-ragprobe report and cache tools. Exit status: 0 passed, 1 a probe failed or "
            "errored, or the report is partial, 2 bad input, 5 the report holds no probe."
        ),
    )
    from pytest_ragprobe import __version__

    # (without it, `ragprobe --version`, the first check of an install, said "COMMAND is required")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    merge = sub.add_parser(
        "merge",
        help="Combine sharded report.json files into one report (json, md, html)",
        description=(
            "Combine the report.json files of sharded runs (CI matrix jobs, -k splits) into one report "
            "and one verdict. Probes are united by node id."
        ),
    )
    merge.add_argument("out_dir", metavar="OUT_DIR", help="Directory for the merged report.json/.md/.html")
    merge.add_argument(
        "reports", metavar="REPORT", nargs="+", help="A report.json, or a directory that holds one"
    )
    merge.add_argument(
        "--prefer",
        choices=("error", "last"),
        default="error",
        help=(
            "A node id in two shards with different results: "
            "fail (error, the default) or keep the last file's"
        ),
    )
    merge.add_argument(
        "--strict",
        action="store_true",
        help=(
            "INCONCLUSIVE probes of every shard fail too (exit 1); without it, only those of the shards run "
            "under --ragprobe-strict fail, as their runs did"
        ),
    )
    merge.set_defaults(func=cmd_merge)
    show = sub.add_parser("show", help="Print a report's summary", description="Print a report's summary.")
    show.add_argument(
        "report", metavar="REPORT", nargs="?", default=None,
        help="A report.json, or a directory that holds one (default: where pytest run here writes its "
        "reports: the ragprobe_report directory of its ini file, else ragprobe-report, where a bare "
        "--ragprobe-report writes)",
    )
    show.add_argument(
        "--explain",
        action="store_true",
        help=(
            "Also print the details of every probe that did not pass, and the failed calls or "
            "low-accuracy note of one that did"
        ),
    )
    show.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="markdown prints report.md, e.g. for >> $GITHUB_STEP_SUMMARY",
    )
    show.add_argument(
        "--strict",
        action="store_true",
        help="INCONCLUSIVE probes fail too (exit 1); always so for a report written under --ragprobe-strict",
    )
    show.set_defaults(func=cmd_show)
    cache = sub.add_parser(
        "cache",
        help="Summarise the answer cache, or prune entries no run has used lately",
        description=(
            "Entries per pipeline identity (name + version) and when they were last used; "
            "--prune DAYS deletes the entries that no run has read or written for DAYS days."
        ),
    )
    cache.add_argument(
        "dir", metavar="DIR", nargs="?", default=None,
        help="The cache directory (default: the one pytest run here uses: the ragprobe_cache of its ini "
        "file, else .ragprobe_cache in its rootdir)",
    )
    cache.add_argument("--prune", type=float, metavar="DAYS", help="Delete entries unused for DAYS days")
    cache.set_defaults(func=cmd_cache)
    return parser


def _utf8(stream: object) -> bool:
    import codecs

    try:
        return codecs.lookup(str(getattr(stream, "encoding", None) or "utf-8")).name == "utf-8"
    except LookupError:
        return False


def _tolerant_streams() -> None:
    """Standard output / error that cannot encode all of Unicode (a Windows job redirecting to a file:
    cp1252; PYTHONIOENCODING=ascii) write what they cannot take as escapes ("\\u2264"), not a traceback."""
    import io

    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and not _utf8(stream):
            stream.reconfigure(errors="backslashreplace")


def _write_utf8(text: str) -> None:
    """``text`` on standard output as UTF-8 whatever its encoding: report.md for a file or
    $GITHUB_STEP_SUMMARY, which GitHub reads as UTF-8 (its emoji are not in cp1252)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if _utf8(sys.stdout) or buffer is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _tolerant_streams()
    try:
        code: int = args.func(args)
    except InputError as exc:
        _print(f"ragprobe {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `ragprobe show ... | head`: the reader left; no traceback, keep the exit code
        # stdout is closed at the other end: point it at devnull so the interpreter's final flush is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


if __name__ == "__main__":
    raise SystemExit(main())
