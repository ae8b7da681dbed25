"""Plain-text rendering of a probe result: the failure message and the terminal lines."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_ragprobe.results import ProbeResult


def count(n: int, noun: str) -> str:
    """``1 call``, ``2 calls``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


BAR_WIDTH = 20
# a question or an answer in terminal text (failure message, warnings, `ragprobe show --explain`): the
# HTML report cuts at 300, the Markdown one at 160; a 8 KB answer must not fill pytest's FAILURES section
TEXT_LIMIT = 200
BUDGET_REASON = "pipeline call budget exhausted"


def num(value: float, digits: int = 2, *, signed: bool = False) -> str:
    """A number to ``digits`` places that never reads "-0.00": a value that rounds to zero prints as
    "0.00" ("+0.00" when ``signed``)."""
    v = float(value)
    if round(v, digits) == 0:
        v = 0.0
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def threshold(value: Any) -> str:
    """A threshold the user gave (max_drop, min_accuracy) as given: to 12 significant digits, with at
    least 2 decimals ("0.125", "0.10", "0.00"). To 2 places, a max_drop of 0.125 printed "0.12", and
    "drop 0.124 > max_drop 0.12" read as wrong; the full repr printed a computed 1 - 0.85 as
    "0.15000000000000002". Not for measured figures (accuracies, drops, bounds: :func:`num`)."""
    v = float(value)
    if v == 0 or not math.isfinite(v):  # "-0.0"; "inf" / "nan" as Python says them
        return "0.00" if v == 0 else repr(v)
    text = format(v, ".12g")
    if "e" in text:  # 1e-05: positional, as a threshold is written
        from decimal import Decimal

        text = format(Decimal(text), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def bounds(ci: Any, *, signed: bool = True, near: Any = None) -> str:
    """ "[+0.05, +0.52]" (the drop's bounds, signed) or "[0.70, 0.93]"; "–" without an interval. ``near``
    (max_drop): a bound that rounds to it without being it gets the digits that tell them apart; "[+0.13,
    +0.30] include max_drop 0.30" read as a PASS when the bound was 0.3002."""
    if not isinstance(ci, (list, tuple)) or len(ci) != 2:
        return "–"
    return "[" + ", ".join(num(v, _digits_apart(v, near), signed=signed) for v in ci) + "]"


def drop_bounds(r: ProbeResult) -> str:
    """A probe's drop bounds as every report prints them: :func:`bounds` of ``drop_ci`` beside its max_drop
    ("[+0.147, +0.25]" for max_drop 0.15; report.html printed "[+0.15, +0.25]" there, report.md and the
    terminal "+0.147")."""
    return bounds(r.metrics.get("drop_ci"), near=max_drop_of(r))


def _digits_apart(value: Any, ref: Any, digits: int = 2) -> int:
    if not isinstance(ref, (int, float)) or not isinstance(value, (int, float)) or value == ref:
        return digits
    while digits < 4 and round(float(value), digits) == round(float(ref), digits):
        digits += 1
    return digits


def near(value: Any, ref: Any, *, signed: bool = False) -> str:
    """A bound said beside the threshold it is compared with ("lower bound 0.1003 > max_drop 0.10"): the
    digits :func:`bounds` gives it, so the two never read the same ("lower bound 0.10 > max_drop 0.10")."""
    return num(value, _digits_apart(value, ref), signed=signed)


def _ci(ci: Any) -> str:
    return bounds(ci, signed=False)


def percent(value: float) -> str:
    """A confidence level as every renderer prints it: "95%", "97.5%", "99.9%" (up to 4 decimals, none
    when whole). ``:.0%`` printed a 0.975 level as "98% CI" and 0.995 or 0.999 as "100% CI"."""
    return f"{float(value) * 100:.4f}".rstrip("0").rstrip(".") + "%"


EMPTY_ANSWER = "(empty answer)"


def got_cell(value: Any, shown: Callable[[Any], str]) -> str:
    """An answer in a report's "got" cell, ``shown`` (clipped / escaped) for its format: an empty or blank
    one says so (the cell read as if nothing had been recorded; the terminal prints '')."""
    return EMPTY_ANSWER if value is None or not str(value).strip() else shown(value)


def p_text(value: Any) -> str:
    """A p-value with its relation, as every renderer prints it (terminal, report.md, report.html,
    `ragprobe show`): "p = 0.0123" (3 significant digits), "p < 0.001" below that (the terminal's 4-digit
    "p = 1.863e-09" claimed a precision the test does not have, and never reads "p = 0"); "p = –" without
    one. The relation comes with the number, so no caller writes "p = < 0.001"."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return "p = –"
    v = float(value)
    return "p < 0.001" if v < 0.001 else f"p = {min(v, 1.0):.3g}"


def when(created: str) -> str:
    """A report's ISO timestamp for a reader: "2026-11-30 04:52:40 UTC" (no microseconds, no "T"); as
    given when it is not ISO."""
    import datetime as dt

    try:
        stamp = dt.datetime.fromisoformat(created)
    except (TypeError, ValueError):
        return created
    offset, z = stamp.utcoffset(), stamp.strftime("%z")  # z: "+0200"
    zone = "" if offset is None else " UTC" if not offset else f" {z[:3]}:{z[3:5]}"
    return stamp.strftime("%Y-%m-%d %H:%M:%S") + zone


ANSWER_SEPARATOR = " | "


def answers_text(value: Any) -> str:
    """A value as one line of text; a list of accepted answers joined by " | ", an answer that holds a
    pipe quoted ('"AC | DC" | ACDC': it read as two answers). Every report shows lists so."""
    if not isinstance(value, (list, tuple)):
        return str(value)
    return ANSWER_SEPARATOR.join(f'"{v}"' if "|" in str(v) else str(v) for v in value)


def clip(value: Any, limit: int = TEXT_LIMIT) -> str:
    """Untrusted text for one terminal line: its repr, cut at ``limit`` characters with an ellipsis and
    the full length ("'Paris is…' (7,912 chars)")."""
    if value is None:
        return "None"
    text = answers_text(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit - 1] + '…'!r} ({len(text):,} chars)"


def _levels(r: ProbeResult) -> tuple[float, float]:
    """The levels of ``drop_ci``'s (lower, upper) bound: the probe's confidence, but with ``min_accuracy``
    the lower bound at 1 − alpha/2 (the FAIL side shares alpha with the floor; docs/statistics.md)."""
    conf = float(r.metrics.get("confidence", r.settings.get("confidence") or 0.95))
    split = r.settings.get("min_accuracy") is not None
    return (1.0 - (1.0 - conf) / 2.0 if split else conf), conf


def bounds_label(r: ProbeResult) -> str:
    """ "one-sided 95% bounds": what ``drop_ci`` holds (two one-sided bounds at the probe's confidence,
    together a two-sided interval at 2·confidence − 1); with ``min_accuracy`` "one-sided bounds (lower
    97.5%, upper 95%)" (a bare "95%" misstated the lower one)."""
    lower, upper = _levels(r)
    if lower != upper:
        return f"one-sided bounds (lower {percent(lower)}, upper {percent(upper)})"
    return f"one-sided {percent(upper)} bounds"


def interval_level(r: ProbeResult) -> float:
    """The two-sided level of ``drop_ci``'s pair: 2·confidence − 1 (90% for 95%), 1 − 1.5·alpha with
    ``min_accuracy``."""
    lower, upper = _levels(r)
    return lower + upper - 1.0


def figure(m: Mapping[str, Any], key: str) -> str:
    """A measured figure of the metrics to 2 places, "–" when they lack it (a hand-edited report, or one
    an older version wrote, read by `ragprobe show`: a KeyError traceback, where the rest could show)."""
    value = m.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.2f}"
    return "–"


def max_drop_text(r: ProbeResult) -> str:
    """The probe's max_drop as the reports print it ("0.10", "0.125"; "–" when unknown)."""
    value = max_drop_of(r)
    return "–" if value is None else threshold(value)


def max_drop_of(r: ProbeResult) -> float | None:
    """The probe's max_drop: from its metrics, else its settings (a probe that made no call has no
    metrics, its mark still set the threshold)."""
    value = r.metrics.get("max_drop", r.settings.get("max_drop"))
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def derived_reason(r: ProbeResult) -> str:
    """Why the verdict, in plain words from the probe's metrics: for an INCONCLUSIVE probe (whose
    ``reason`` is empty) "drop +0.30, but its one-sided 95% bounds [+0.05, +0.52] include max_drop
    0.10: ...", for a FAIL on the drop the probe's own phrasing, for a PASS "drop -0.17, upper bound
    -0.06 ≤ max_drop 0.10: ...". "" when the metrics cannot say."""
    m = r.metrics
    ci, max_drop = m.get("drop_ci"), max_drop_of(r)
    if m.get("drop") is None or max_drop is None or not isinstance(ci, (list, tuple)) or len(ci) != 2:
        return ""
    drop, (lo, hi) = float(m["drop"]), (float(ci[0]), float(ci[1]))
    limit, low, high = threshold(max_drop), near(lo, max_drop), near(hi, max_drop, signed=True)
    if r.verdict == "fail" and lo > max_drop:
        if r.kind == "reverse":
            return f"reverse accuracy dropped by {num(drop)} (lower bound {low}) > max_drop {limit}"
        return (
            f"accuracy at position {m.get('worst_position')} is {num(drop)} below the best edge (position "
            f"{m.get('best_edge')}); lower bound {low} > max_drop {limit}"
        )
    if r.verdict == "pass" and hi <= max_drop:
        # a PASS said nothing of why in the terminal, report.md and report.html: only a FAIL had a reason
        if r.kind == "reverse":
            shown = "reverse accuracy is not more than max_drop below forward"
        else:
            shown = "no position is more than max_drop below the best edge"
        floor = r.settings.get("min_accuracy")
        if isinstance(floor, (int, float)) and not isinstance(floor, bool):
            where = "reverse accuracy" if r.kind == "reverse" else "every position"
            shown += f", and {where} is above min_accuracy {threshold(floor)}"
        return f"drop {num(drop, signed=True)}, upper bound {high} ≤ max_drop {limit}: {shown}"
    if r.verdict != "inconclusive":
        return ""
    if lo <= max_drop < hi:
        return (
            f"drop {num(drop, signed=True)}, but its {bounds_label(r)} {drop_bounds(r)} include "
            f"max_drop {limit}: the data show neither PASS (upper bound ≤ {limit}) nor FAIL "
            f"(lower bound > {limit})"
        )
    if hi <= max_drop and r.settings.get("min_accuracy") is not None:
        return (
            f"the drop passes (upper bound {high} ≤ max_drop {limit}); the "
            f"min_accuracy floor {threshold(r.settings['min_accuracy'])} is what the data do not settle"
        )
    if hi <= max_drop and r.reason.startswith(BUDGET_REASON):
        return (
            f"the answers so far would pass (upper bound {high} ≤ max_drop {limit}), "
            "but the call budget ended the probe before its planned sample: a probe cut short by the "
            "budget is never a PASS (raise --ragprobe-budget, or lower the probe's n, to decide it)"
        )
    return ""


def reasons(r: ProbeResult) -> list[tuple[str, str]]:
    """The (label, text) lines that say why a probe got its verdict, for every renderer: its ``reason``;
    for an INCONCLUSIVE probe without one, a line derived from its metrics; when the call budget ran out
    (that note took the ``reason``), why the verdict is what it is first, then the budget note; for a FAIL
    below its min_accuracy floor whose drop FAILs too, the drop as well."""
    if r.verdict == "error":
        return [("Error", r.reason)] if r.reason else []
    derived = derived_reason(r)
    if r.reason.startswith(BUDGET_REASON) and derived:
        return [("Reason", derived), ("Budget", r.reason)]
    if r.reason:
        # a FAIL below the min_accuracy floor took that as its reason: a drop beyond max_drop as well went
        # unsaid, and the drop read as if it passed (raising accuracy alone would not fix the probe)
        if r.verdict == "fail" and derived and "min_accuracy" in r.reason:
            return [("Reason", r.reason), ("Also", derived)]
        return [("Reason", r.reason)]
    return [("Reason", derived)] if derived else []


def failed_calls_note(r: ProbeResult, no_retries: str = "") -> str:
    """The warning for a probe whose failed calls were tolerated (left out of its statistics).
    ``no_retries``: how the run turned retries off, said when none were made (" --ragprobe-retries=0")."""
    # "after retries" was said of errors never retried (a KeyError is not; nothing is under
    # --ragprobe-retries=0). The result counts the probe's retries, not which calls had them.
    retried = f"{r.retries} retr{'y' if r.retries == 1 else 'ies'} in this probe"
    if not r.retries:
        retried = "not retried" + (f":{no_retries}" if no_retries else "")
    return (
        f"{r.errors} of {r.calls} pipeline calls failed ({retried}) and were left out of the statistics "
        f"(n={r.n})" + (f"; most common cause: {r.error_cause}" if r.error_cause else "")
    )


def bar(value: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, value)) * width)
    return "#" * filled + "." * (width - filled)


def shape_text(m: Mapping[str, Any]) -> str:
    """The curve's shape as every report names it: "U-shaped", or "U-shaped, within noise" when the drop's
    lower bound does not exclude no dip (the label alone is read as a finding)."""
    shape = str(m.get("shape") or "")
    return f"{shape}, within noise" if shape and m.get("shape_within_noise") else shape


def headline(r: ProbeResult) -> str:
    m = r.metrics
    name = f"ragprobe {r.kind} probe {r.verdict.upper()}"
    if r.verdict == "error":
        return f"{name}: {r.reason}"
    if r.kind == "reverse" and "drop" in m:
        return (
            f"{name}: forward {figure(m, 'forward_accuracy')}, reverse {figure(m, 'reverse_accuracy')}, "
            f"drop {num(m['drop'], signed=True)} (max_drop {max_drop_text(r)}, n={r.n})"
        )
    if r.kind == "position" and "drop" in m:
        return (
            f"{name}: best edge {m.get('best_edge')} vs worst position {m.get('worst_position')}, "
            f"drop {num(m['drop'], signed=True)} (max_drop {max_drop_text(r)}, n={r.n}, "
            f"shape {shape_text(m) or '?'})"
        )
    return name


def _reverse_table(r: ProbeResult) -> list[str]:
    m = r.metrics
    conf = m.get("confidence", 0.95)
    lines = [f"  {'direction':<10} {'accuracy':>8}  {'correct':>9}  {f'{percent(conf)} CI':>14}  chart"]
    for label, summary in (("forward", r.forward), ("reverse", r.reverse)):
        if summary is None:
            continue
        lines.append(
            f"  {label:<10} {summary.accuracy:>8.2f}  {f'{summary.correct}/{summary.n}':>9}  "
            f"{_ci(summary.ci):>14}  {bar(summary.accuracy)}"
        )
    disc = m.get("discordant")
    if "drop" in m:  # (a hand-edited or older report may lack it: the table above stands alone)
        lines.append(
            f"  drop {num(m['drop'], signed=True)}, {bounds_label(r)} "
            f"{drop_bounds(r)} vs "
            f"max_drop {max_drop_text(r)}; exact McNemar {p_text(m.get('p_value'))}"
            + (
                f" ({disc.get('forward_only', 0)} forward-only vs {disc.get('reverse_only', 0)} reverse-only)"
                if isinstance(disc, dict)
                else ""
            )
        )
    misses = m.get("reverse_misses")
    if misses:
        lines.append(f"  reverse misses: {misses_text(misses, ', ')}{reversal_text(m)}")
    return lines


def misses_text(misses: dict[str, Any], sep: str) -> str:
    """Reverse misses by cause, the same words in every report; "unknown" only when there are some."""
    unknown = misses.get("unknown", 0)
    return (
        f"{misses.get('retrieval', 0)} retrieval (gold not retrieved){sep}"
        f"{misses.get('reading', 0)} reading (retrieved, answered wrong)"
        + (f"{sep}{unknown} unknown (no documents reported)" if unknown else "")
    )


def reversal_text(m: dict[str, Any]) -> str:
    """"; 12 of the 26 on facts answered right forward: 8 retrieval, 4 reading": how many reverse misses are
    reversal failures proper (a fact missed both ways is not known at all); "" when the metrics do not hold
    them (a report written before they were counted)."""
    misses, reversal = m.get("reverse_misses"), m.get("reversal_misses")
    if not isinstance(misses, dict) or not isinstance(reversal, dict):
        return ""
    total = sum(int(misses.get(k, 0)) for k in ("retrieval", "reading", "unknown"))
    part = sum(int(reversal.get(k, 0)) for k in ("retrieval", "reading", "unknown"))
    if part == total:
        return f"; all {total} on facts answered right forward" if total > 1 else ""
    if not part:
        return "; none on facts answered right forward (those facts were missed both ways)"
    unknown = int(reversal.get("unknown", 0))
    return (
        f"; {part} of the {total} on facts answered right forward: {int(reversal.get('retrieval', 0))} "
        f"retrieval, {int(reversal.get('reading', 0))} reading" + (f", {unknown} unknown" if unknown else "")
    )


def position_marks(r: ProbeResult) -> dict[str, str]:
    """{position: "worst" / "best edge"} for the rows of a position table; none when every position has
    the same accuracy (labelling one of three tied rows "worst" reads as a finding)."""
    m = r.metrics
    accs = m.get("accuracy_by_position") or {}
    if len({round(float(a), 9) for a in accs.values()}) <= 1:
        return {}
    marks = {str(m.get("best_edge")): "best edge"} if m.get("best_edge") is not None else {}
    if m.get("worst_position") is not None:
        marks[str(m["worst_position"])] = "worst"
    return marks


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


def _position_table(r: ProbeResult) -> list[str]:
    m = r.metrics
    conf = m.get("confidence", 0.95)
    lines = [f"  {'position':<8} {'accuracy':>8}  {'correct':>9}  {f'{percent(conf)} CI':>14}  chart"]
    marks = position_marks(r)
    for pos, summary in sorted((r.positions or {}).items()):
        mark = f"  <- {marks[str(pos)]}" if str(pos) in marks else ""
        lines.append(
            f"  {pos:<8} {summary.accuracy:>8.2f}  {f'{summary.correct}/{summary.n}':>9}  "
            f"{_ci(summary.ci):>14}  {bar(summary.accuracy)}{mark}"
        )
    if "drop_ci" in m and "drop" in m:
        best, worst = m.get("best_edge"), m.get("worst_position")
        lines.append(
            f"  drop {num(m['drop'], signed=True)} (position {best} vs {worst}), "
            f"{bounds_label(r)} "
            f"{drop_bounds(r)} vs max_drop {max_drop_text(r)}"
        )
        # the discordant pairs behind the test, as the reverse table names its forward-only / reverse-only
        lines.append(f"  Holm-adjusted McNemar {p_text(m.get('p_value'))}{position_discordant(m)}")
    if context := context_text(m):
        lines.append(f"  {context}")
    return lines


def context_text(m: dict[str, Any]) -> str:
    """A position probe's contexts, as every report says them: "155 documents per context (given
    distractors, ~2005 tokens)" ("" without the figures). With context_tokens, far more than n_docs."""
    if "n_docs" not in m:
        return ""
    sizes = m.get("docs_per_context") or [m["n_docs"], m["n_docs"]]
    docs = f"{sizes[0]}" if sizes[0] == sizes[1] else f"{sizes[0]}-{sizes[1]}"
    mean, longest = m.get("approx_context_tokens"), m.get("approx_context_tokens_max")
    tokens = f"~{mean if mean is not None else '?'} tokens"
    if isinstance(mean, int) and isinstance(longest, int) and longest > 1.25 * mean:
        tokens += f" on average, the longest ~{longest:,}"
    return f"{docs} documents per context ({m.get('distractors', 'given')} distractors, {tokens})"


def _got(e: dict[str, Any]) -> str:
    if e.get("answer") is None and e.get("error"):
        return f"error {clip(e['error'])}"
    return clip(e.get("answer"))


def forward_misses(r: ProbeResult) -> list[dict[str, Any]]:
    """A reverse probe's examples whose forward question was answered wrong (what a low or fallen
    forward accuracy is made of), each with that question; [] for other probes."""
    if r.kind != "reverse":
        return []
    return [e for e in r.examples if e.get("forward_correct") is False and e.get("forward_question")]


def forward_wrong_total(r: ProbeResult, shown: int) -> int:
    """How many forward questions were answered wrong in all (the examples keep at most 50)."""
    return max(shown, r.forward.n - r.forward.correct) if r.forward is not None else shown


def wrong_answers(r: ProbeResult) -> int:
    """How many answers were wrong in all, from the metrics (reverse: wrong reverse answers; position:
    wrong answers over all positions); 0 when they do not say. The examples keep at most 50."""
    m = r.metrics
    try:
        if r.kind == "reverse" and m.get("reverse_accuracy") is not None:
            return round(r.n * (1 - float(m["reverse_accuracy"])))
        if r.kind == "position":
            correct, asked = m.get("correct_by_position") or {}, m.get("n_by_position") or {}
            return sum(int(asked[k]) - int(correct[k]) for k in correct if k in asked)
    except (TypeError, ValueError):  # a hand-edited or foreign report: the listed count stands
        pass
    return 0


def examples_count(
    r: ProbeResult, shown: int, wrong_listed: int, shown_failed: int = 0, failed: int = 0
) -> str:
    """What a worst-examples list holds of what, for its heading: "3 of 8 wrong reverse answers", "5 of
    8 wrong answers and 0 of 2 failed calls" (report.md / .html list failed calls too, after the wrong
    answers; a failed call is not a wrong answer), "2 wrong answers" when all are shown. The terminal,
    report.md and report.html all count so: they said "3 of 8 reverse misses" and "5 of 10" of one probe."""
    wrong = max(wrong_listed, wrong_answers(r))
    noun = "wrong reverse answer" if r.kind == "reverse" else "wrong answer"
    parts = [(shown, wrong, noun), (shown_failed, failed, "failed call")]
    return " and ".join(
        count(total, what) if seen >= total else f"{seen} of {count(total, what)}"
        for seen, total, what in parts
        if total
    )


def _examples(r: ProbeResult, limit: int) -> list[str]:
    lines: list[str] = []
    if r.kind == "reverse":
        wrong = [e for e in r.examples if e.get("correct") is False]
        worst = wrong[:limit]
        if worst:
            # how many of how many, as report.md / report.html head their lists (failed calls have their
            # own note here: failed_calls_note)
            lines.append(f"worst examples ({examples_count(r, len(worst), len(wrong))}):")
        for e in worst:
            fwd = " (forward right)" if e.get("forward_correct") else ""
            miss = f" [{e['miss']} miss]" if e.get("miss") else ""
            lines.append(f"  - {clip(e['question'])}{fwd}{miss}")
            lines.append(f"      expected {clip(e['expected'])}, got {_got(e)}")
        missed = forward_misses(r)
        forward = missed[: min(limit, 2)]
        if forward:
            lines.append(f"forward answered wrong ({len(forward)} of {forward_wrong_total(r, len(missed))}):")
        for e in forward:
            lines.append(f"  - {clip(e['forward_question'])}")
            got = clip(e.get("forward_answer"))
            lines.append(f"      expected {clip(e.get('forward_expected'))}, got {got}")
    else:
        wrong = [e for e in r.examples if e.get("correct") is False]
        telling = [e for e in wrong if telling_position_miss(r, e)]
        worst = (telling or wrong)[:limit]
        where = r.metrics.get("worst_position")
        if worst:
            pos = r.metrics.get("positions") or sorted(r.positions or {})
            of = f"({examples_count(r, len(worst), len(wrong))})"
            if not telling:
                lines.append(f"worst examples {of}:")
            elif pos and str(where) in (str(pos[0]), str(pos[-1])):  # the worst position is an edge
                lines.append(f"worst examples, right at the other edge and wrong at position {where} {of}:")
            else:
                lines.append(f"worst examples, right at an edge and wrong in the middle {of}:")
        for e in worst:
            lines.append(f"  - {clip(e['question'])} (gold at position {e.get('position')})")
            lines.append(f"      expected {clip(e['expected'])}, got {_got(e)}")
    return lines


def telling_position_miss(r: ProbeResult, e: dict[str, Any]) -> bool:
    """A position probe's example that shows the drop: wrong where the question was right at an edge,
    in the middle or at the worst position (an edge too, when the context's other end reads better). A
    miss at an edge that was right at the other edge is otherwise not lost in the middle."""
    if e.get("correct") is not False or not e.get("edge_correct"):
        return False
    pos = r.metrics.get("positions") or sorted(r.positions or {})
    edges = {str(pos[0]), str(pos[-1])} if pos else set()
    where = str(e.get("position"))
    return where not in edges or where == str(r.metrics.get("worst_position"))


def position_accuracies(r: ProbeResult, fmt: Callable[[Any, float], str], sep: str, most: int) -> str:
    """A position probe's accuracies on one line, ``fmt(position, accuracy)`` joined by ``sep``: all of them
    up to ``most`` positions, beyond that the first and last, the best edge and the worst with "…" for the
    rest (30 positions made a 330-character terminal line, and report.html's cut at 140 characters kept
    the first ten, all high, and left out the worst position)."""
    items = sorted((r.positions or {}).items())
    if len(items) <= most:
        return sep.join(fmt(p, s.accuracy) for p, s in items)
    m = r.metrics
    keep = {str(items[0][0]), str(items[-1][0]), str(m.get("best_edge")), str(m.get("worst_position"))}
    parts: list[str] = []
    for p, s in items:
        if str(p) in keep:
            parts.append(fmt(p, s.accuracy))
        elif parts[-1:] != ["…"]:
            parts.append("…")
    return sep.join(parts)


def size_text(r: ProbeResult) -> str:
    """The sample size as every renderer says it: "40", or "25 of 40, stopped early" when sequential
    stopping decided before the whole sample (``stopped_early``, ``settings.n_planned``), or "17 of 100,
    budget exhausted" when --ragprobe-budget cut the probe short (a bare "17" read as the whole sample;
    a probe with no answer at all shows its budget reason instead of figures, which says so)."""
    planned = r.settings.get("n_planned")
    if r.stopped_early and planned:
        return f"{r.n} of {planned}, stopped early"
    if r.reason.startswith(BUDGET_REASON) and isinstance(planned, int) and 0 < r.n < planned:
        return f"{r.n} of {planned}, budget exhausted"
    return str(r.n)


def brief(r: ProbeResult, report: Path | None = None) -> str:
    """A few lines for a warning (INCONCLUSIVE): the headline, why, its notes, where the full table is:
    ``report`` (the run's report.json) when one is written, else the result's ``explain()`` (a
    ``check_*`` result, which is in no report). ``explain`` is the whole story (tables, examples)."""
    lines = [headline(r)]
    lines += [f"  {label.lower()}: {text}" for label, text in reasons(r) if r.verdict != "error"]
    lines += [f"  note: {n}" for n in r.notes]  # e.g. how many more facts would likely decide it
    if not r.nodeid:
        lines.append("  details: result.explain()")
    elif report is None:
        lines.append("  details: ragprobe_result.explain(), or a report: --ragprobe-report=DIR")
    else:
        html = report.with_name("report.html")
        lines.append(f"  details: {html}, or `ragprobe show {report} --explain`")
    return "\n".join(lines)


def explain(
    r: ProbeResult, *, examples: int = 3, strict: bool = False, outcome: bool = True, strict_by: str = ""
) -> str:
    """The whole story of a probe; ``outcome=False`` leaves out the test-outcome line (for a message that
    says it first); ``strict_by``: how a strict run was strict (default ``--ragprobe-strict``)."""
    lines = [headline(r)]
    by = strict_by or STRICT_FLAG
    if outcome and outcome_note(r, strict=strict, strict_by=by):
        lines.append(f"  test outcome: {test_outcome_text(r, strict=strict, strict_by=by)}")
    if r.verdict != "error":
        lines += [f"  {label.lower()}: {text}" for label, text in reasons(r)]
    if r.verdict != "error" and r.n:
        lines += _reverse_table(r) if r.kind == "reverse" else _position_table(r)
    lines += [f"  note: {n}" for n in probe_notes(r)]  # (with the baseline's, as the reports list them)
    if r.errors and r.verdict != "error":  # (an ERROR's reason says it) a FAIL's said no cause
        lines.append(f"  {failed_calls_note(r)}")
    if r.verdict != "error":
        lines += _examples(r, 2 if r.kind == "position" else examples)
    return "\n".join(lines)


STRICT_FLAG = "--ragprobe-strict"


def probe_strict_by(r: ProbeResult) -> str:
    """How the run of a merged strict shard's INCONCLUSIVE probe was strict, as `ragprobe merge` recorded it
    on the probe ("ragprobe_strict in pytest.ini (run of a/report.json)") where the shards differ; ""
    otherwise (the report's own ``strict_by`` says it)."""
    by = (r.model_extra or {}).get("strict_by")
    return by if isinstance(by, str) else ""


def strict_fails(r: ProbeResult, strict: bool) -> bool:
    """An INCONCLUSIVE probe of a ``--ragprobe-strict`` run: pytest failed its test. (A strict shard's,
    merged beside non-strict ones, is recorded as a failed test: :func:`probe_strict_by` tells it apart.)"""
    if probe_strict_by(r) and r.verdict == "inconclusive":  # (its own shard was strict, whatever ``strict``)
        return r.outcome in ("inconclusive", "test_failed")
    return strict and r.outcome == "inconclusive"


def low_accuracy_note(r: ProbeResult) -> str:
    """The note of a PASS whose accuracies are all low (a pipeline wrong everywhere is not worse in
    reverse or in the middle, so it passes): "" when there is none."""
    if r.verdict != "pass":
        return ""
    return next((n for n in r.notes if "PASS only says" in n), "")


def short_label(r: ProbeResult, *, strict: bool = False) -> str:
    """The verdict, tagged when the test was marked xfail or regressed against the baseline: "FAIL (xfail)",
    "PASS (XPASS)", "PASS (regressed)", "INCONCLUSIVE (strict: fails)"."""
    verdict = r.verdict.upper()
    if strict_fails(r, strict):
        return f"{verdict} (strict: fails)"
    if r.expected_failure:
        return f"{verdict} (xfail)"
    if r.unexpected_pass:
        return f"{verdict} (XPASS)"
    if r.test_outcome == "skipped":
        return f"{verdict} (skipped)"
    if r.baseline == "regression":
        return f"{verdict} (regressed)"
    if r.outcome == "test_failed":
        return f"{verdict} (test failed)"
    return verdict


def xfail_note(r: ProbeResult) -> str:
    """What pytest's xfail mark made of the test, or "" when it was not marked (reason included)."""
    reason = f": {r.xfail_reason}" if r.xfail_reason else ""
    if r.expected_failure:
        return f"expected, xfail{reason}"
    if r.unexpected_pass and r.xpass_strict:
        return f"unexpected, XPASS(strict){reason}; pytest failed the test"
    if r.unexpected_pass:
        return f"unexpected, XPASS{reason}"
    return ""


def baseline_note(r: ProbeResult) -> str:
    """What --ragprobe-baseline found when it decided the test's outcome: a regression (pytest failed the
    test); "" otherwise (a baseline not compared is a note: :func:`baseline_changed_note`)."""
    if r.baseline != "regression":
        return ""
    return r.baseline_message.removeprefix("ragprobe ") or "baseline regression"


def baseline_changed_note(r: ProbeResult) -> str:
    """A baseline not compared (the probe's settings changed, nothing to compare): its message, "" otherwise.
    A note, not a test outcome: it neither failed nor passed the test ("failed (baseline not compared ...)"
    blamed the baseline for a FAIL verdict's failure)."""
    if r.baseline != "changed":
        return ""
    return r.baseline_message.removeprefix("ragprobe ") or "baseline not compared"


def baseline_part_note(r: ProbeResult) -> str:
    """A baseline comparison that ended "ok" with figures left out (a hand-edited baseline's drop that is
    not a number, ...): its message, in the words of the terminal's warning; "" otherwise. A note, not a
    test outcome: the test passed the gate on the figures that were compared."""
    return r.baseline_message if r.baseline == "ok" else ""


def in_part(probes: Sequence[ProbeResult]) -> str:
    """ " (1 in part)" after a count of probes compared with the baseline ("3 of 5 probes compared (1 in
    part)"): how many of them were compared only in part (a figure left out: :func:`baseline_part_note`);
    "" when none."""
    part = sum(bool(baseline_part_note(p)) for p in probes)
    return f" ({part} in part)" if part else ""


def probe_notes(r: ProbeResult) -> list[str]:
    """The notes the reports list under a probe: its own, then a baseline compared in part or not compared."""
    part = baseline_part_note(r) or baseline_changed_note(r)
    return [*r.notes, part] if part else list(r.notes)


def test_note(r: ProbeResult) -> str:
    """What pytest made of the test after its probe when the probe does not explain it: "skipped: <why>",
    "the test failed after the probe: <error>"; "" otherwise."""
    if r.test_outcome == "skipped":
        return f"skipped: {r.test_message}" if r.test_message else "skipped"
    if r.outcome == "test_failed":
        return "the test failed after the probe" + (f": {r.test_message}" if r.test_message else "")
    return ""


def outcome_note(r: ProbeResult, *, strict: bool = False, strict_by: str = STRICT_FLAG) -> str:
    """Why the test's outcome is not just the verdict: the xfail note, else the skip, baseline or failed-test
    note (or, under ``--ragprobe-strict``, that INCONCLUSIVE failed the test; ``strict_by``: how it was set,
    e.g. ``ragprobe_strict in pytest.ini``)."""
    if strict_fails(r, strict):
        return f"{probe_strict_by(r) or strict_by}: INCONCLUSIVE fails"
    if r.test_outcome == "skipped":
        return xfail_note(r) or test_note(r)
    return xfail_note(r) or baseline_note(r) or test_note(r)


def test_outcome_text(r: ProbeResult, *, strict: bool = False, strict_by: str = STRICT_FLAG) -> str:
    """What pytest made of the test, in pytest's words, with why: "failed (baseline REGRESSION ...)",
    "xfailed (expected, xfail: <reason>)", "failed (ragprobe_strict in pytest.ini: INCONCLUSIVE fails)"
    (the verdict is said elsewhere: "PASS (baseline ...)" read as if the test had passed)."""
    note = outcome_note(r, strict=strict, strict_by=strict_by)
    if r.test_outcome == "skipped":
        return f"skipped: {r.test_message}" if r.test_message else "skipped"
    if r.expected_failure:
        word = "xfailed"
    elif r.unexpected_pass:
        word = "failed" if r.xpass_strict else "xpassed"
    elif strict_fails(r, strict) or r.outcome in ("regression", "test_failed", "fail", "error"):
        word = "failed"
    else:
        word = "passed"
    return f"{word} ({note})" if note else word


# The terminal summary's columns (``summary_lines``): node ids longer than this overflow the column on
# their own line only, so one long parametrised id does not push every line of the block to the right
SUMMARY_NODEID_MAX = 60
SUMMARY_ACCURACIES_MAX = 48  # the accuracies column: 6 positions ("0:0.89 4:0.47 ...")
SUMMARY_POSITIONS_MAX = 6  # beyond: the edges, the best edge and the worst (render.position_accuracies)
# an ERROR's cause in its line, cut as report.md's table cell cuts it; the whole cause is in pytest's
# ERROR section, the reports and `ragprobe show --explain`
SUMMARY_REASON_LIMIT = 160


@dataclass(frozen=True)
class Columns:
    """Widths the fields of the summary lines of one block are padded to (0: not padded)."""

    label: int = 12  # "INCONCLUSIVE": the longest bare verdict
    nodeid: int = 0
    kind: int = 0
    accuracies: int = 0  # "fwd 0.90 rev 0.55" / "0:0.89 4:0.47 9:0.92", so the drops line up after them


def _summary_fields(
    r: ProbeResult, strict: bool, strict_by: str = STRICT_FLAG
) -> tuple[str, str, str, str, str, str]:
    """(label, node id, "[kind]", accuracies, "drop +0.30" or the reason, the rest) of a summary line."""
    m = r.metrics
    measured = r.verdict != "error" and "drop" in m
    if measured and r.kind == "reverse":
        accs = f"fwd {figure(m, 'forward_accuracy')} rev {figure(m, 'reverse_accuracy')}"
    elif measured:
        accs = position_accuracies(r, lambda p, a: f"{p}:{a:.2f}", " ", SUMMARY_POSITIONS_MAX)
    if measured:
        detail = f"drop {num(m['drop'], signed=True)}"
    else:
        accs, detail = "", " ".join(r.reason.split())
        if len(detail) > SUMMARY_REASON_LIMIT:
            detail = detail[: SUMMARY_REASON_LIMIT - 1] + "…"
    cached = f", {r.cached_calls} cached" if r.cached_calls else ""
    failed = f", {r.errors} failed" if r.errors and r.verdict != "error" else ""
    failed += f", {r.retries} retried" if r.retries else ""
    # (a baseline not compared is a note, said here too: the line has no other place for it)
    note = outcome_note(r, strict=strict, strict_by=strict_by) or baseline_changed_note(r)
    # one line per probe: a multi-line xfail / skip reason or test failure broke it, as the reason above
    tail = f" - {' '.join(note.split())}" if note else ""
    rest = f"(n={size_text(r)}, {count(r.calls, 'call')}{cached}{failed}){tail}"
    return short_label(r, strict=strict), r.nodeid, f"[{r.kind}]", accs, detail, rest


def summary_line(
    r: ProbeResult, *, strict: bool = False, columns: Columns | None = None, strict_by: str = STRICT_FLAG
) -> str:
    """One terminal line per probe; ``columns`` (from :func:`summary_lines`) line it up with the others
    of its block."""
    cols = columns or Columns()
    label, nodeid, kind, accs, detail, rest = _summary_fields(r, strict, strict_by)
    # a probe without accuracies (an error) starts its sentence where the others' accuracies start
    lead = f"{accs:<{cols.accuracies}} {detail}" if accs else detail
    return f"{label:<{cols.label}} {nodeid:<{cols.nodeid}} {kind:<{cols.kind}} {lead} {rest}"


def summary_lines(
    results: Sequence[ProbeResult], *, strict: bool = False, strict_by: str = STRICT_FLAG
) -> list[str]:
    """The summary lines of a block of probes (the terminal's ragprobe section, `ragprobe show`), in the
    order given, with their verdict, node id, kind, accuracies and drop in columns: padded to the widest
    in the block (node ids and accuracies up to a cap, so one long one does not widen every line)."""
    fields = [_summary_fields(r, strict, strict_by) for r in results]
    if not fields:
        return []
    columns = Columns(
        label=max(12, *(len(f[0]) for f in fields)),
        nodeid=min(SUMMARY_NODEID_MAX, max(len(f[1]) for f in fields)),
        kind=max(len(f[2]) for f in fields),
        accuracies=min(SUMMARY_ACCURACIES_MAX, max(len(f[3]) for f in fields)),
    )
    return [summary_line(r, strict=strict, columns=columns, strict_by=strict_by) for r in results]
