"""Report files: ``report.json`` (the contract), ``report.md`` and ``report.html`` in one directory.

The Markdown flavour is GitHub's (tables, ``<details>``, alerts): it is meant to be pasted into a PR
comment or appended to ``$GITHUB_STEP_SUMMARY``. Every string from a pipeline or data file is escaped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ragprobe.render import (
    STRICT_FLAG,
    answers_text,
    bounds,
    bounds_label,
    context_text,
    count,
    drop_bounds,
    examples_count,
    failed_calls_note,
    figure,
    forward_misses,
    forward_wrong_total,
    got_cell,
    in_part,
    max_drop_text,
    misses_text,
    num,
    outcome_note,
    p_text,
    percent,
    position_discordant,
    position_marks,
    probe_notes,
    reasons,
    reversal_text,
    shape_text,
    short_label,
    size_text,
    strict_fails,
    test_outcome_text,
    when,
)
from pytest_ragprobe.results import atomic_write, nodeid_key, report_json

if TYPE_CHECKING:
    from pytest_ragprobe.results import ProbeResult, Report

MD_EXAMPLES = 5
MD_TEXT_LIMIT = 160
# report.md is meant for a PR comment (GitHub refuses a body over 65,536 characters) and for
# $GITHUB_STEP_SUMMARY (1 MiB): the whole file stays under this many characters, well below the first
MD_MAX_CHARS = 50_000
# the order of the summary table and the sections: what fails the run first, then what needs a look
OUTCOME_ORDER = {
    "fail": 0,
    "error": 1,
    "xpass_strict": 2,
    "regression": 2,
    "test_failed": 2,
    "inconclusive": 3,
    "xpass": 4,
    "pass": 5,
    "xfail": 6,
    "skipped": 7,
}
EMOJI = {
    "pass": "✅",
    "fail": "❌",
    "inconclusive": "⚠️",
    "error": "💥",
    "empty": "➖",
    "xfail": "✖️",
    "xpass": "❕",
    "xpass_strict": "❗",
    "regression": "📉",
    "test_failed": "❌",
    "inconclusive_strict": "⚠️",  # (shown_counts: an INCONCLUSIVE a strict shard failed, as it was counted)
    "skipped": "⏭️",
}


def run_label(verdict: str) -> str:
    """An overall verdict as the reports and `ragprobe show` / `merge` print it: "FAIL", and "NO PROBES"
    for a run without probes (report.md and `ragprobe show` said "EMPTY", report.html "NO PROBES")."""
    return "NO PROBES" if verdict == "empty" else verdict.upper()


def overall_verdict(report: Report) -> str:
    """One word for the whole run: fail > error > inconclusive > pass; "empty" without probes.

    A probe whose test xfailed as expected counts as expected (not as its verdict); a strict XPASS (pytest
    failed the test because the expected failure did not happen) and a baseline regression make the run fail.
    """
    counts = report.counts()
    if counts["fail"] or counts.get("xpass_strict") or counts.get("regression") or counts.get("test_failed"):
        return "fail"
    for verdict in ("error", "inconclusive"):
        if counts[verdict]:
            return verdict
    return "pass" if report.probes else "empty"


def gate_failed(report: Report, *, strict: bool = False) -> bool:
    """True when the run should fail a build: any FAIL, ERROR, baseline regression or test that failed
    after its probe, or INCONCLUSIVE under ``strict``.

    Expected failures (xfail) do not fail it, a strict XPASS does: the same call pytest made.
    """
    counts = report.counts()
    return bool(
        counts["fail"]
        or counts["error"]
        or counts.get("xpass_strict")
        or counts.get("regression")
        or counts.get("test_failed")
        or (strict and counts["inconclusive"])
    )


def run_failed(report: Report, *, strict: bool = False) -> bool:
    """The gate of the whole run, as pytest's exit status had it: :func:`gate_failed`, or a partial
    report (a crashed, killed or interrupted run, or one stopped at ``-x``: a probe missing from it
    may be a failing one). The terminal summary and ``ragprobe show`` / ``merge`` both use it."""
    return gate_failed(report, strict=strict) or report.partial


def ran_strict(report: Report) -> bool:
    """The run that wrote the report was under ``--ragprobe-strict`` (its settings say so). Merged
    shards that differ keep every value; one strict shard makes the merged report strict."""
    value = report.settings.get("strict")
    return value is True or (isinstance(value, list) and True in value)


def strict_source(report: Report) -> str:
    """How the run that wrote the report was strict, as its settings say ("ragprobe_strict in pytest.ini",
    "--ragprobe-strict"; a merge of strict shards set otherwise: each, joined by "; ")."""
    by = report.settings.get("strict_by")
    return by if isinstance(by, str) and by else STRICT_FLAG


def strict_failed(report: Report) -> bool:
    """True when the run only fails because it ran under ``--ragprobe-strict`` and some probe was
    INCONCLUSIVE: the reports then say FAIL, as the terminal and the exit status do."""
    return ran_strict(report) and gate_failed(report, strict=True) and not gate_failed(report)


STRICT_LABEL = "FAIL (strict: inconclusive fails)"
PARTIAL_LABEL = "FAIL (partial run)"


def run_headline(report: Report, *, running: bool = False) -> tuple[str, str]:
    """The headline of report.md / report.html: (verdict for its emoji / CSS class, label). A partial
    report whose probes all passed reads "FAIL (partial run)", as `ragprobe show` and pytest's exit status
    have it (the missing probes may be failing ones); but not while the run goes on (``running``: the files
    are rewritten after its probes), where the headline keeps the verdict so far."""
    if strict_failed(report):
        return "fail", STRICT_LABEL
    if report.partial and not running and not gate_failed(report, strict=ran_strict(report)):
        return "fail", PARTIAL_LABEL
    verdict = overall_verdict(report)
    return verdict, run_label(verdict)


def count_label(outcome: str, n: int) -> str:
    """ "2 fail", "2 errors", "2 expected failures (xfail)", "1 unexpected pass (XPASS)"."""
    if outcome == "xfail":
        return f"{n} expected failure{'s' if n != 1 else ''} (xfail)"
    if outcome in ("xpass", "xpass_strict"):
        strict = ", strict: fails the run" if outcome == "xpass_strict" else ""
        return f"{n} unexpected pass{'es' if n != 1 else ''} (XPASS{strict})"
    if outcome == "regression":
        return f"{n} baseline regression{'s' if n != 1 else ''}"
    if outcome == "test_failed":
        return f"{n} test{'s' if n != 1 else ''} failed after the probe"
    if outcome == "inconclusive_strict":  # (shown_counts)
        return f"{n} inconclusive (strict: fails)"
    if outcome == "error":  # a noun, as pytest's "2 errors" ("2 error" read as a typo); pass, fail and
        return f"{n} error{'s' if n != 1 else ''}"  # inconclusive are verdicts, as pytest's "2 passed"
    return f"{n} {outcome}"


def shown_counts(report: Report) -> dict[str, int]:
    """:meth:`Report.counts` as the reports say them: a strict shard's INCONCLUSIVE probe merged beside
    non-strict shards (recorded as a failed test, ``test_failed``) counts as "inconclusive_strict", "1
    inconclusive (strict: fails)", as its line says it; an unmerged strict run counts it as inconclusive,
    and its verdict says strictness failed it. report.json's ``summary`` keeps :meth:`Report.counts`."""
    counts = report.counts()
    merged_strict = sum(1 for p in report.probes if p.outcome == "test_failed" and strict_fails(p, False))
    if not merged_strict:
        return counts
    counts["test_failed"] -= merged_strict
    out: dict[str, int] = {}
    for key, n in counts.items():
        if key != "test_failed" or n:
            out[key] = n
        if key == "inconclusive":
            out["inconclusive_strict"] = merged_strict
    return out


def counts_text(report: Report) -> str:
    counts = shown_counts(report)
    parts = [count_label(k, v) for k, v in counts.items() if v]
    noun = "probe" if len(report.probes) == 1 else "probes"
    return f"{len(report.probes)} {noun}" + (": " + ", ".join(parts) if parts else "")


def ordered(probes: list[ProbeResult], *, failing_last: bool = False) -> list[ProbeResult]:
    """The probes as the Markdown and HTML reports list them: FAIL, ERROR, regressions (and the other
    outcomes that fail the run), INCONCLUSIVE, then PASS; by node id (natural order) within each
    (report.json keeps node id order). ``failing_last``: the terminal's order, failures just above the
    run's verdict line, as pytest's short summary sits last."""
    sign = -1 if failing_last else 1
    return sorted(probes, key=lambda p: (sign * OUTCOME_ORDER.get(p.outcome, 5), nodeid_key(p.nodeid)))


def calls_text(p: ProbeResult) -> str:
    """The calls column: "40", or "0 + 60 cached" (a bare 0 read as if nothing had run)."""
    return f"{p.calls} + {p.cached_calls} cached" if p.cached_calls else str(p.calls)


def probe_anchor(nodeid: str) -> str:
    """A stable HTML id / Markdown anchor for a probe, derived from its node id. The slug alone is lossy
    (``[a-b]``, ``[a_b]`` and ``[a b]``, or any non-ASCII names, give the same one), so a short hash of
    the node id keeps ids unique and links pointing at their own probe."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", nodeid).strip("-").lower()
    digest = hashlib.sha1(nodeid.encode("utf-8")).hexdigest()[:6]
    return f"probe-{slug or 'unnamed'}-{digest}"


def worst_examples_count(r: ProbeResult, worst: list[dict[str, Any]], shown: int) -> str:
    """The heading count of report.md's / report.html's worst examples (wrong answers, then failed
    calls: html._worst_examples), saying which is which as the terminal does (render.examples_count).
    The failed calls of all, ``r.errors``: the examples keep only some (a position probe 10), and "0 of
    10 failed calls" was said of a probe with 11."""
    listed = sum(1 for e in worst if e.get("correct") is None)
    wrong = len(worst) - listed
    failed = max(listed, r.errors or 0)
    return examples_count(r, min(shown, wrong), wrong, max(0, shown - wrong), failed)


# -- Markdown escaping ---------------------------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#!|~])")
# Control characters but tab, newline and carriage return (C0, DEL, C1): an answer quoting a terminal escape
# or holding a NUL. Written as their escapes ("\x1b[2J"), as the terminal summary prints answers, so that
# `ragprobe show --format markdown` or `cat report.md` cannot clear or recolour a terminal, and a browser
# shows them rather than nothing. Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) too,
# as "\u202e": a browser applied one to the rest of its paragraph (an error's "\u202e..." reversed the
# plugin's own "; first for '<question>'" after it); right-to-left letters need none of them.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible_controls(text: str) -> str:
    return _CONTROL_CHARS.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) <= 0xFF else f"\\u{ord(m.group()):04x}", text
    )


def md_text(value: Any, limit: int = MD_TEXT_LIMIT) -> str:
    """Untrusted text as inert Markdown for one table cell / line: no markup, no HTML, no newlines."""
    if value is None:
        return "–"
    text = visible_controls(" ".join(answers_text(value).split()))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # no accidental @mentions in PR comments: GitHub links "@name" only after a non-word character and
    # never inside code, so such a handle becomes a code span (a zero-width space was copied with the text)
    return _MENTION.sub(r"`\1`", text)


_MENTION = re.compile(r"(?<!\w)(@[A-Za-z0-9][A-Za-z0-9-]*)")


def md_got(value: Any) -> str:
    return got_cell(value, md_text)


def md_code(value: str, *, table: bool = True) -> str:
    """Inline code safe inside a GFM table cell (backtick runs and pipes handled). Outside a table
    (``table=False``: a heading, a line) a pipe needs no escape, and GitHub would show the backslash."""
    text = visible_controls(" ".join(value.split()))
    if table:
        text = text.replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_brief(r: ProbeResult) -> str:
    """The summary-table cell for one probe."""
    m = r.metrics
    if r.verdict == "error":
        return md_text(r.reason or "error")
    if "drop" not in m:
        return md_text(r.reason) if r.reason else "–"
    # "bounds": beside the accuracy columns' 95% CIs, a bare [lo, hi] read as one (they are one-sided)
    drop_ci = drop_bounds(r)
    tail = f"drop {num(m['drop'], signed=True)}, bounds {drop_ci}, max {max_drop_text(r)}"
    if r.kind == "reverse":
        return f"fwd {figure(m, 'forward_accuracy')} → rev {figure(m, 'reverse_accuracy')}, {tail}"
    return f"edge {m.get('best_edge')} vs pos {m.get('worst_position')}, {tail}"


def _md_reverse(r: ProbeResult) -> list[str]:
    m = r.metrics
    conf = m.get("confidence", 0.95)
    lines = [f"| direction | accuracy | correct | {percent(conf)} CI |", "| --- | ---: | ---: | --- |"]
    for label, s in (("forward", r.forward), ("reverse", r.reverse)):
        if s is not None:
            lines.append(f"| {label} | {s.accuracy:.2f} | {s.correct}/{s.n} | {bounds(s.ci, signed=False)} |")
    lines.append("")
    if "drop" in m:
        disc = m.get("discordant") or {}
        lines.append(
            f"**Drop** {num(m['drop'], signed=True)}, {bounds_label(r)} "
            f"{drop_bounds(r)} "
            f"vs max\\_drop {max_drop_text(r)} · exact McNemar {p_text(m.get('p_value'))}"
            + (
                f" ({disc.get('forward_only', 0)} forward-only vs {disc.get('reverse_only', 0)} reverse-only)"
                if disc
                else ""
            )
        )
    misses = m.get("reverse_misses")
    if isinstance(misses, dict):
        lines += ["", f"**Reverse misses:** {misses_text(misses, ' · ')}{reversal_text(m)}"]
    return lines


def _md_position(r: ProbeResult) -> list[str]:
    from pytest_ragprobe.html import _position_rows

    m = r.metrics
    conf = m.get("confidence", 0.95)
    lines = [
        f"| position | accuracy | correct | {percent(conf)} CI | |",
        "| ---: | ---: | ---: | --- | --- |",
    ]
    marks = position_marks(r)
    for row in _position_rows(r):
        note = marks.get(row.label, "")
        correct = f"{row.correct}/{row.n}" if row.correct or r.positions else "–"
        ci = bounds(row.ci, signed=False)
        lines.append(f"| {row.label} | {row.accuracy:.2f} | {correct} | {ci} | {note} |")
    lines.append("")
    if "drop" in m:
        shape = f" · shape: {md_text(shape_text(m))}" if m.get("shape") else ""
        lines.append(
            f"**Drop** {num(m['drop'], signed=True)} (position {m.get('best_edge')} vs "
            f"{m.get('worst_position')}), {bounds_label(r)} "
            f"{drop_bounds(r)} vs "
            f"max\\_drop {max_drop_text(r)} · "
            f"Holm-adjusted McNemar {p_text(m.get('p_value'))}{position_discordant(m)}{shape}"
        )
    if context := context_text(m):  # (with context_tokens, far more documents than n_docs)
        lines += ["", f"**Contexts:** {md_text(context)}"]
    return lines


def _yes_no(value: Any, yes: str, no: str) -> str:
    return yes if value is True else no if value is False else "–"


def _md_examples(r: ProbeResult) -> list[str]:
    from pytest_ragprobe.html import _worst_examples

    worst = _worst_examples(r)
    if not worst:
        return _md_forward_misses(r)
    shown = worst[:MD_EXAMPLES]
    heading = f"Worst examples ({worst_examples_count(r, worst, len(shown))})"
    lines = ["", f"<details><summary>{heading}</summary>", ""]
    if r.kind == "reverse":
        lines += ["| question | expected | got | forward | miss |", "| --- | --- | --- | --- | --- |"]
        for e in shown:
            got = md_got(e.get("answer")) if e.get("error") is None else "error: " + md_text(e.get("error"))
            fwd = _yes_no(e.get("forward_correct"), "right", "wrong")
            lines.append(
                f"| {md_text(e.get('question'))} | {md_text(e.get('expected'))} | {got} | {fwd} | "
                f"{md_text(e.get('miss'))} |"
            )
    else:
        lines += [
            "| question | expected | got | position | right at another edge |",
            "| --- | --- | --- | ---: | --- |",
        ]
        for e in shown:
            got = md_got(e.get("answer")) if e.get("error") is None else "error: " + md_text(e.get("error"))
            edge = _yes_no(e.get("edge_correct"), "yes", "no")
            lines.append(
                f"| {md_text(e.get('question'))} | {md_text(e.get('expected'))} | {got} | "
                f"{md_text(e.get('position'))} | {edge} |"
            )
    lines += ["", "</details>"]
    return lines + _md_forward_misses(r)


def _md_forward_misses(r: ProbeResult) -> list[str]:
    """A reverse probe's forward misses, by their own questions (the reverse examples hid them)."""
    forward = forward_misses(r)
    if not forward:
        return []
    shown = forward[:MD_EXAMPLES]
    total = forward_wrong_total(r, len(forward))
    more = f" of {total}" if total > len(shown) else ""
    lines = ["", f"<details><summary>Forward answered wrong ({len(shown)}{more})</summary>", ""]
    lines += ["| question | expected | got | reverse |", "| --- | --- | --- | --- |"]
    for e in shown:
        rev = _yes_no(e.get("correct"), "right", "wrong")
        lines.append(
            f"| {md_text(e.get('forward_question'))} | {md_text(e.get('forward_expected'))} | "
            f"{md_got(e.get('forward_answer'))} | {rev} |"
        )
    return [*lines, "", "</details>"]


def crashed_tests(report: Report) -> list[str]:
    """Tests whose xdist worker died under them (``settings.crashed``): their probes are missing."""
    crashed = report.settings.get("crashed") or []
    return [str(c) for c in crashed] if isinstance(crashed, list) else []


def uncollected_files(report: Report) -> list[str]:
    """Test files that did not collect (``settings.uncollected``): any probes in them are missing."""
    files = report.settings.get("uncollected") or []
    return [str(f) for f in files] if isinstance(files, list) else []


def uncollected_text(report: Report) -> str:
    """ "test_x.py could not be collected: any probes in it are missing." for the partial banners, in place
    of "written before the run finished": pytest wrote it at the end of a run that ran what collected."""
    files = uncollected_files(report)
    if not files:
        return ""
    them = "them" if len(files) > 1 else "it"
    return f"{', '.join(files)} could not be collected: any probes in {them} are missing."


def finished_text(report: Report) -> str:
    """ " (3 of 7 probes finished)" for a partial report that knows how many probes were planned."""
    planned = report.settings.get("planned")
    if not report.partial or type(planned) is not int or planned <= 0:
        return ""
    return f" ({len(report.probes)} of {planned} probe{'s' if planned != 1 else ''} finished)"


def missing_probes(report: Report) -> list[str] | None:
    """The probes a partial report's run selected (``settings.selected``) without a result here; None when
    the report does not say what it selected (an older one)."""
    selected = report.settings.get("selected")
    if not isinstance(selected, list):
        return None
    have = {p.nodeid for p in report.probes}
    return [str(n) for n in selected if str(n) not in have]


def final_partial_text(report: Report, code: Callable[[str], str] = str) -> str:
    """The partial banner of a final report (the run has ended): what stopped it and which probes are
    missing, ``code`` quoting each node id (a write made while the run goes on says it may still be going)."""
    if "merged_from" in report.settings:
        stop = (
            "a shard merged here stopped before every probe finished, and no shard merged here has the "
            "probes it missed"
        )
    elif crashed_tests(report):  # (the crash is said after this)
        stop = "the run ended before every probe finished"
    else:
        stop = "the run was interrupted or stopped early (-x / --maxfail) before every probe finished"
    missing = missing_probes(report)
    if not missing:
        return f"{stop}{finished_text(report)}; probes are missing."
    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    shown = ", ".join(map(code, missing[:10])) + more
    return f"{stop}{finished_text(report)}; missing: {shown}."


def _md_row(p: ProbeResult, strict: bool) -> str:
    emoji = EMOJI["fail"] if strict_fails(p, strict) else EMOJI[p.outcome]
    return (
        f"| {emoji} | {md_text(short_label(p, strict=strict))} | {md_code(p.nodeid)} | {p.kind} | "
        f"{size_text(p)} | {calls_text(p)} | {md_brief(p)} |"
    )


def _md_section(p: ProbeResult, strict: bool, strict_by: str = STRICT_FLAG) -> list[str]:
    emoji = EMOJI["fail"] if strict_fails(p, strict) else EMOJI[p.outcome]
    lines = ["", f"### {emoji} {short_label(p, strict=strict)}: {md_code(p.nodeid, table=False)}", ""]
    meta = f"{p.kind} probe · n={size_text(p)} · {count(p.calls, 'call')}"
    if p.cached_calls:
        meta += f" ({p.cached_calls} cached)"
    if p.errors:
        meta += f" · {count(p.errors, 'failed call')}"
    if p.pipeline:
        meta += f" · pipeline {md_code(p.pipeline[:MD_TEXT_LIMIT], table=False)}"
    lines.append(meta)
    if outcome_note(p, strict=strict):  # (a strict run's: how it was strict, "ragprobe_strict in pytest.ini")
        outcome = test_outcome_text(p, strict=strict, strict_by=strict_by)
        lines += ["", f"**Test outcome:** {md_text(outcome, 1000)}"]
    for label, text in reasons(p):
        lines += ["", f"**{label}:** {md_text(text, 1000)}"]
    for note in probe_notes(p):  # (with a baseline compared in part, as the terminal warned)
        lines += ["", f"> {md_text(note, 1000)}"]
    if p.errors and p.verdict != "error":  # (an ERROR's cause is its reason) as the terminal warns of them
        lines += ["", f"**Failed calls:** {md_text(failed_calls_note(p), 1000)}"]
    if p.verdict != "error" and p.n:
        lines.append("")
        lines += _md_reverse(p) if p.kind == "reverse" else _md_position(p)
    lines += _md_examples(p)
    return lines


def how_to_read(probes: list[ProbeResult]) -> list[str]:
    """The legend of the reports, said once: what the drop's bounds are and, with a reverse probe, what its
    exact McNemar p is, with a position probe its Holm-adjusted McNemar p. Empty when no probe has a
    drop."""
    shown = [p for p in probes if p.verdict != "error" and p.metrics.get("drop") is not None]
    if not shown:
        return []
    conf = float(shown[0].metrics.get("confidence", 0.95))
    mixed = len({p.metrics.get("confidence") for p in shown}) > 1
    level = "each probe's confidence" if mixed else percent(conf)
    out = [
        f"Bounds: the drop's two one-sided {level} bounds (together a two-sided interval at "
        "2·confidence − 1: 90% for 95%). FAIL when the lower bound is above max_drop, PASS when the upper "
        "bound is at or below it, INCONCLUSIVE otherwise."
    ]
    if any(p.settings.get("min_accuracy") is not None for p in shown):
        # (the lower bound moved with the alpha split: the legend's 95% would misstate it)
        alpha = 1.0 - conf
        out[0] += (
            f" With min_accuracy the lower bound is at 1 − alpha/2 ({percent(1.0 - alpha / 2)} for "
            f"{percent(conf)}): "
            "the drop test and the accuracy floor share alpha, so a pipeline at both limits FAILs at most "
            "alpha of the time."
        )
    if any(p.kind == "reverse" for p in shown):
        # was unexplained: "p = 0.0625" beside bounds [-0.31, -0.06] read as a contradiction
        out.append(
            "Exact McNemar p (reverse probes): a two-sided exact test of whether forward and reverse "
            "accuracy differ at all, on the facts answered right one way and wrong the other (the "
            "forward-only vs reverse-only counts). It tests a gap of zero, not max_drop, and is two-sided, "
            "so it can be above 0.05 while the bounds (a 90% interval at 95%) leave out zero. The verdict "
            "reads the bounds."
        )
    if any(p.kind == "position" for p in shown):
        out.append(
            "Holm-adjusted McNemar p (position probes): an exact McNemar test of the best edge against the "
            "worst position, on the questions answered right at one and wrong at the other, made stricter "
            "(Holm's method) because the probe compares several positions at once. The verdict reads the "
            "bounds; p says how surprising the gap would be if there were none."
        )
    return out


def _md_baseline_line(report: Report) -> list[str]:
    """Which baseline the run was compared with and how much of it was gated (the terminal and the HTML
    said so; report.md gave no sign a baseline was used)."""
    baseline, coverage = report.settings.get("baseline"), report.settings.get("baseline_coverage")
    if not baseline or not isinstance(coverage, dict):
        return []
    parts = [f"{coverage.get('compared', 0)} of {len(report.probes)} probes compared{in_part(report.probes)}"]
    if coverage.get("not_compared"):
        parts.append(f"{coverage['not_compared']} not compared (settings changed, or nothing to compare)")
    if coverage.get("new"):
        parts.append(f"{coverage['new']} not in it")
    not_run = coverage.get("not_run") or []
    if not_run:
        parts.append(f"{len(not_run)} of its probes did not run")
    return [f"**Baseline** {md_code(str(baseline), table=False)}: " + " · ".join(parts), ""]


def render_markdown(report: Report, *, max_chars: int = MD_MAX_CHARS, running: bool = False) -> str:
    """report.md. All of it while it fits in ``max_chars``; a larger run keeps, in this order while they
    fit, the table rows of the probes that need a look (FAIL, ERROR, INCONCLUSIVE, ...), their sections,
    then the rows of passing ones; it leaves out the sections of passing ones, and says what it left out.
    ``running``: written while the run goes on (:func:`run_headline`)."""
    counts = shown_counts(report)
    verdict, label = run_headline(report, running=running)
    head = [f"## {EMOJI[verdict]} pytest-ragprobe: {label}", ""]
    if report.partial:
        crashed = crashed_tests(report)
        head += [
            "> [!WARNING]",
            "> **Partial run**: "
            + (
                uncollected_text(report)
                or (
                    "the run was interrupted, stopped early (-x / --maxfail) or is still going"
                    f"{finished_text(report)}; probes may be missing."
                    if running
                    else final_partial_text(report, lambda n: md_code(n, table=False))
                )
            )
            + (f" An xdist worker crashed running {', '.join(crashed)}." if crashed else "")
            + (" As it stands," if running else "")
            + " `ragprobe show` / `merge` fail it (exit 1).",
            "",
        ]
    tally = " · ".join(f"{EMOJI[k]} {count_label(k, v)}" for k, v in counts.items() if v)
    head += [
        f"**{len(report.probes)} probe{'s' if len(report.probes) != 1 else ''}**"
        + (f": {tally}" if tally else "")
        + f" — seed {report.seed}, confidence {percent(report.confidence)}",
        "",
    ]
    head += _md_baseline_line(report)
    probes = ordered(report.probes)
    table = [
        "| | verdict | test | kind | n | calls | result |",
        "| --- | --- | --- | --- | ---: | ---: | --- |",
    ]
    strict = ran_strict(report)
    rows = [_md_row(p, strict) for p in probes]
    sections = [_md_section(p, strict, strict_source(report)) for p in probes]
    created = md_text(when(report.created))
    version = f" {md_text(report.plugin_version)}" if report.plugin_version else ""
    legend = how_to_read(report.probes)
    foot = ["", "<sub>" + " ".join(legend) + "</sub>"] if legend else []
    foot += ["", f"<sub>pytest-ragprobe{version} · {created}</sub>"]

    def joined(lines: list[str]) -> str:
        return "\n".join(lines) + "\n"

    # no probe: say so, as report.html does (the file was a heading, "0 probes" and a date)
    none = ["No ragprobe probes ran, so nothing was gated."]
    body = (table + rows if probes else none) + [line for sec in sections for line in sec]
    whole = joined(head + body + foot)
    if len(whole) <= max_chars:
        return whole
    # too long for a PR comment: what needs a look wins the room. Its rows first, then its sections
    # (FAIL, ERROR, INCONCLUSIVE, ...: the table's order), then the passing rows; passing probes lose their
    # sections. Rows are kept while they fit, so the ones left out are always the last of the table.
    settled = [p.outcome in ("pass", "xfail", "skipped") for p in probes]
    budget = max_chars - len(joined(head + foot)) - 700  # 700: the note below
    used = len(joined(table))
    kept_rows: list[str] = []
    listed: set[int] = set()
    kept: list[str] = []
    full = False  # a row did not fit: no later row is kept (a row kept after a gap would hide it)

    def add_rows(of_settled: bool) -> None:
        nonlocal used, full
        for i, (row, done) in enumerate(zip(rows, settled, strict=True)):
            if done != of_settled or full:
                continue
            if used + len(row) + 1 > budget:
                full = True
                return
            kept_rows.append(row)
            listed.add(i)
            used += len(row) + 1

    add_rows(False)
    left_out = {"passing": sum(settled), "other": 0}
    for i, (sec, done) in enumerate(zip(sections, settled, strict=True)):
        if done:
            continue
        size = len(joined(sec))
        if i not in listed or used + size > budget:  # (its row was cut, or no room: nor for the rest)
            left_out["other"] += sum(1 for d in settled[i:] if not d)
            break
        kept += sec
        used += size
    add_rows(True)
    unlisted = len(rows) - len(kept_rows)
    said = []
    if left_out["passing"]:
        said.append(f"the details of {left_out['passing']} passing (or expected) probes")
    if left_out["other"]:  # (with none of them kept, the first in the table are left out too)
        last = " (the last in the table)" if kept else ""
        said.append(f"the details of {left_out['other']} other probes{last}")
    if unlisted:
        which = " (passing or expected probes)" if all(settled[len(listed) :]) else ""
        said.append(f"the last {unlisted} rows of the table{which}")
    note = [
        "> [!NOTE]",
        f"> Shortened to stay under GitHub's 65,536-character comment limit: {' and '.join(said)} "
        "are left out. The whole run is in `report.html` and `report.json` "
        "(`ragprobe show report.json --explain`).",
        "",
    ]
    more = [f"| | … | {unlisted} more probes: see report.html | | | | |"] if unlisted else []
    return joined(head + note + table + kept_rows + more + kept + foot)


def render_html(report: Report, *, running: bool = False) -> str:
    from pytest_ragprobe.html import render_html as _render

    return _render(report, running=running)


def write_reports(directory: Path, report: Report, *, json_only: bool = False, running: bool = False) -> Path:
    """Write the three files, each atomically (only report.json with ``json_only``); returns its path.
    ``running``: a write made while the run goes on (the headline keeps the verdict so far)."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "report.json"
    report, text = report_json(report)  # (a lone surrogate in an answer: escaped in all three files)
    atomic_write(json_path, text)
    if json_only:
        return json_path
    atomic_write(directory / "report.md", render_markdown(report, running=running))
    atomic_write(directory / "report.html", render_html(report, running=running))
    return json_path
