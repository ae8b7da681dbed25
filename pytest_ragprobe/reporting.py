"""Report files: ``report.json`` (the contract), ``report.md`` and ``report.html`` in one directory.

The Markdown flavour is GitHub's (tables, ``<details>``, alerts): it is meant to be pasted into a PR
comment or appended to ``$GITHUB_STEP_SUMMARY``. Every string from a pipeline or data file is escaped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ragprobe.render import outcome_note, short_label, verdict_label
from pytest_ragprobe.results import atomic_write

if TYPE_CHECKING:
    from pytest_ragprobe.results import ProbeResult, Report

MD_EXAMPLES = 5
MD_TEXT_LIMIT = 160
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
    "skipped": "⏭️",
}


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


def strict_failed(report: Report) -> bool:
    """True when the run only fails because it ran under ``--ragprobe-strict`` and some probe was
    INCONCLUSIVE: the reports then say FAIL, as the terminal and the exit status do."""
    return ran_strict(report) and gate_failed(report, strict=True) and not gate_failed(report)


STRICT_LABEL = "FAIL (strict: inconclusive fails)"


def count_label(outcome: str, n: int) -> str:
    """ "2 fail", "2 expected failures (xfail)", "1 unexpected pass (XPASS)"."""
    if outcome == "xfail":
        return f"{n} expected failure{'s' if n != 1 else ''} (xfail)"
    if outcome in ("xpass", "xpass_strict"):
        strict = ", strict: fails the run" if outcome == "xpass_strict" else ""
        return f"{n} unexpected pass{'es' if n != 1 else ''} (XPASS{strict})"
    if outcome == "regression":
        return f"{n} baseline regression{'s' if n != 1 else ''}"
    if outcome == "test_failed":
        return f"{n} test{'s' if n != 1 else ''} failed after the probe"
    return f"{n} {outcome}"


def counts_text(report: Report) -> str:
    counts = report.counts()
    parts = [count_label(k, v) for k, v in counts.items() if v]
    noun = "probe" if len(report.probes) == 1 else "probes"
    return f"{len(report.probes)} {noun}" + (": " + ", ".join(parts) if parts else "")


def probe_anchor(r: ProbeResult) -> str:
    """A stable HTML id / Markdown anchor for a probe, derived from its node id."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", r.nodeid).strip("-").lower()
    return "probe-" + (slug or "unnamed")


# -- Markdown escaping ---------------------------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#!|~])")


def md_text(value: Any, limit: int = MD_TEXT_LIMIT) -> str:
    """Untrusted text as inert Markdown for one table cell / line: no markup, no HTML, no newlines."""
    if value is None:
        return "–"
    text = " | ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("@", "@\u200b")  # no accidental @mentions in PR comments


def md_code(value: str) -> str:
    """Inline code safe inside a GFM table cell (backtick runs and pipes handled)."""
    text = " ".join(value.split()).replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _ci(ci: Any, signed: bool = False) -> str:
    if not ci:
        return "–"
    lo, hi = ci
    return f"[{lo:+.2f}, {hi:+.2f}]" if signed else f"[{lo:.2f}, {hi:.2f}]"


def p_text(value: Any) -> str:
    """A p-value with its relation, so no caller writes "p = < 0.001": "p < 0.001", "p = 0.03"."""
    if value is None:
        return "p = –"
    v = float(value)
    return "p < 0.001" if v < 0.001 else f"p = {v:.3g}"


def md_brief(r: ProbeResult) -> str:
    """The summary-table cell for one probe."""
    m = r.metrics
    if r.verdict == "error":
        return md_text(r.reason or "error")
    if "drop" not in m:
        return md_text(r.reason) if r.reason else "–"
    tail = f"drop {m['drop']:+.2f} {_ci(m.get('drop_ci'), signed=True)}, max {m.get('max_drop', 0):.2f}"
    if r.kind == "reverse":
        return f"fwd {m['forward_accuracy']:.2f} → rev {m['reverse_accuracy']:.2f}, {tail}"
    return f"edge {m.get('best_edge')} vs pos {m.get('worst_position')}, {tail}"


def _md_reverse(r: ProbeResult) -> list[str]:
    m = r.metrics
    conf = m.get("confidence", 0.95)
    lines = [f"| direction | accuracy | correct | {conf:.0%} CI |", "| --- | ---: | ---: | --- |"]
    for label, s in (("forward", r.forward), ("reverse", r.reverse)):
        if s is not None:
            lines.append(f"| {label} | {s.accuracy:.2f} | {s.correct}/{s.n} | {_ci(s.ci)} |")
    lines.append("")
    if "drop" in m:
        disc = m.get("discordant") or {}
        lines.append(
            f"**Drop** {m['drop']:+.2f}, bounds {_ci(m.get('drop_ci'), signed=True)} vs max\\_drop "
            f"{m.get('max_drop', 0):.2f} · exact McNemar {p_text(m.get('p_value'))}"
            + (
                f" ({disc.get('forward_only', 0)} forward-only vs {disc.get('reverse_only', 0)} reverse-only)"
                if disc
                else ""
            )
        )
    misses = m.get("reverse_misses")
    if isinstance(misses, dict):
        lines += [
            "",
            f"**Reverse misses:** {misses.get('retrieval', 0)} retrieval (gold not retrieved) · "
            f"{misses.get('reading', 0)} reading (retrieved, answered wrong) · "
            f"{misses.get('unknown', 0)} unknown",
        ]
    return lines


def position_discordant(m: dict[str, Any]) -> str:
    """ " (23 right at edge 0 only vs 2 right at position 5 only)": the discordant pairs behind a position
    probe's McNemar test (best edge vs worst position); "" when the metrics do not hold them."""
    disc = m.get("discordant")
    if not isinstance(disc, dict) or "edge_only" not in disc:
        return ""
    return (
        f" ({disc.get('edge_only', 0)} right at edge {m.get('best_edge')} only vs "
        f"{disc.get('worst_only', 0)} right at position {m.get('worst_position')} only)"
    )


def _md_position(r: ProbeResult) -> list[str]:
    from pytest_ragprobe.html import _position_rows

    m = r.metrics
    conf = m.get("confidence", 0.95)
    lines = [f"| position | accuracy | correct | {conf:.0%} CI | |", "| ---: | ---: | ---: | --- | --- |"]
    for row in _position_rows(r):
        note = ""
        if str(m.get("worst_position")) == row.label:
            note = "worst"
        elif str(m.get("best_edge")) == row.label:
            note = "best edge"
        correct = f"{row.correct}/{row.n}" if row.correct or r.positions else "–"
        lines.append(f"| {row.label} | {row.accuracy:.2f} | {correct} | {_ci(row.ci)} | {note} |")
    lines.append("")
    if "drop" in m:
        shape = f" · shape: {md_text(m['shape'])}" if m.get("shape") else ""
        lines.append(
            f"**Drop** {m['drop']:+.2f} (position {m.get('best_edge')} vs {m.get('worst_position')}), bounds "
            f"{_ci(m.get('drop_ci'), signed=True)} vs max\\_drop {m.get('max_drop', 0):.2f} · "
            f"Holm-adjusted McNemar {p_text(m.get('p_value'))}{position_discordant(m)}{shape}"
        )
    return lines


def _yes_no(value: Any, yes: str, no: str) -> str:
    return yes if value is True else no if value is False else "–"


def _md_examples(r: ProbeResult) -> list[str]:
    from pytest_ragprobe.html import _worst_examples

    worst = _worst_examples(r)
    if not worst:
        return []
    shown = worst[:MD_EXAMPLES]
    more = f" of {len(worst)}" if len(worst) > len(shown) else ""
    lines = ["", f"<details><summary>Worst examples ({len(shown)}{more})</summary>", ""]
    if r.kind == "reverse":
        lines += ["| question | expected | got | forward | miss |", "| --- | --- | --- | --- | --- |"]
        for e in shown:
            got = md_text(e.get("answer")) if e.get("error") is None else "error: " + md_text(e.get("error"))
            fwd = _yes_no(e.get("forward_correct"), "right", "wrong")
            lines.append(
                f"| {md_text(e.get('question'))} | {md_text(e.get('expected'))} | {got} | {fwd} | "
                f"{md_text(e.get('miss'))} |"
            )
    else:
        lines += [
            "| question | expected | got | position | right at edge |",
            "| --- | --- | --- | ---: | --- |",
        ]
        for e in shown:
            got = md_text(e.get("answer")) if e.get("error") is None else "error: " + md_text(e.get("error"))
            edge = _yes_no(e.get("edge_correct"), "yes", "no")
            lines.append(
                f"| {md_text(e.get('question'))} | {md_text(e.get('expected'))} | {got} | "
                f"{md_text(e.get('position'))} | {edge} |"
            )
    lines += ["", "</details>"]
    return lines


def crashed_tests(report: Report) -> list[str]:
    """Tests whose xdist worker died under them (``settings.crashed``): their probes are missing."""
    crashed = report.settings.get("crashed") or []
    return [str(c) for c in crashed] if isinstance(crashed, list) else []


def render_markdown(report: Report) -> str:
    verdict = overall_verdict(report)
    counts = report.counts()
    label = verdict.upper()
    if strict_failed(report):
        verdict, label = "fail", STRICT_LABEL
    lines = [f"## {EMOJI[verdict]} pytest-ragprobe: {label}", ""]
    if report.partial:
        crashed = crashed_tests(report)
        lines += [
            "> [!WARNING]",
            "> **Partial run**: the run was interrupted or is still going; probes may be missing."
            + (f" An xdist worker crashed running {', '.join(crashed)}." if crashed else "")
            + " As it stands, `ragprobe show` / `merge` fail it (exit 1).",
            "",
        ]
    tally = " · ".join(f"{EMOJI[k]} {count_label(k, v)}" for k, v in counts.items() if v)
    lines += [
        f"**{len(report.probes)} probe{'s' if len(report.probes) != 1 else ''}**"
        + (f": {tally}" if tally else "")
        + f" — seed {report.seed}, confidence {report.confidence:.0%}",
        "",
    ]
    if report.probes:
        lines += [
            "| | verdict | test | kind | n | calls | result |",
            "| --- | --- | --- | --- | ---: | ---: | --- |",
        ]
        for p in report.probes:
            lines.append(
                f"| {EMOJI[p.outcome]} | {md_text(verdict_label(p))} | {md_code(p.nodeid)} | {p.kind} | "
                f"{p.n} | {p.calls} | {md_brief(p)} |"
            )
    for p in report.probes:
        lines += ["", f"### {EMOJI[p.outcome]} {short_label(p)}: {md_code(p.nodeid)}", ""]
        meta = f"{p.kind} probe · n={p.n} · {p.calls} calls"
        if p.cached_calls:
            meta += f" ({p.cached_calls} cached)"
        if p.errors:
            meta += f" · {p.errors} failed calls"
        if p.pipeline:
            meta += f" · pipeline {md_code(p.pipeline[:MD_TEXT_LIMIT])}"
        lines.append(meta)
        if outcome_note(p):
            lines += ["", f"**Test outcome:** {md_text(verdict_label(p), 1000)}"]
        if p.reason:
            lines += ["", f"**{'Error' if p.verdict == 'error' else 'Reason'}:** {md_text(p.reason, 1000)}"]
        for note in p.notes:
            lines += ["", f"> {md_text(note, 1000)}"]
        if p.verdict != "error" and p.n:
            lines.append("")
            lines += _md_reverse(p) if p.kind == "reverse" else _md_position(p)
        lines += _md_examples(p)
    created = md_text(report.created)
    version = f" {md_text(report.plugin_version)}" if report.plugin_version else ""
    lines += ["", f"<sub>pytest-ragprobe{version} · {created}</sub>"]
    return "\n".join(lines) + "\n"


def render_html(report: Report) -> str:
    from pytest_ragprobe.html import render_html as _render

    return _render(report)


def write_reports(
    directory: Path, report: Report, *, partial: bool = False, json_only: bool = False
) -> Path:
    """Write all three files atomically (only report.json with ``json_only``); returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "report.json"
    atomic_write(json_path, report.model_dump_json(indent=2))
    if json_only:
        return json_path
    atomic_write(directory / "report.md", render_markdown(report))
    atomic_write(directory / "report.html", render_html(report))
    return json_path
