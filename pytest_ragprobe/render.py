"""Plain-text rendering of a probe result: the failure message and the terminal lines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_ragprobe.results import ProbeResult

BAR_WIDTH = 20


def _ci(ci: Any) -> str:
    lo, hi = ci
    return f"[{lo:.2f}, {hi:.2f}]"


def bar(value: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, value)) * width)
    return "#" * filled + "." * (width - filled)


def headline(r: ProbeResult) -> str:
    m = r.metrics
    name = f"ragprobe {r.kind} probe {r.verdict.upper()}"
    if r.verdict == "error":
        return f"{name}: {r.reason}"
    if r.kind == "reverse" and "drop" in m:
        return (
            f"{name}: forward {m['forward_accuracy']:.2f}, reverse {m['reverse_accuracy']:.2f}, "
            f"drop {m['drop']:+.2f} (max_drop {m['max_drop']:.2f}, n={r.n})"
        )
    if r.kind == "position" and "drop" in m:
        return (
            f"{name}: best edge {m.get('best_edge')} vs worst position {m.get('worst_position')}, "
            f"drop {m['drop']:+.2f} (max_drop {m['max_drop']:.2f}, n={r.n}, "
            f"shape {m.get('shape', '?')})"
        )
    return name


def _reverse_table(r: ProbeResult) -> list[str]:
    m = r.metrics
    conf = m.get("confidence", 0.95)
    lines = [f"  {'direction':<10} {'accuracy':>8}  {'correct':>9}  {f'{conf:.0%} CI':>14}  chart"]
    for label, summary in (("forward", r.forward), ("reverse", r.reverse)):
        if summary is None:
            continue
        lines.append(
            f"  {label:<10} {summary.accuracy:>8.2f}  {f'{summary.correct}/{summary.n}':>9}  "
            f"{_ci(summary.ci):>14}  {bar(summary.accuracy)}"
        )
    lo, hi = m["drop_ci"]
    lines.append(
        f"  drop {m['drop']:+.2f}, one-sided {conf:.0%} bounds [{lo:+.2f}, {hi:+.2f}] vs max_drop "
        f"{m['max_drop']:.2f}; exact McNemar p = {m['p_value']:.4g} "
        f"({m['discordant']['forward_only']} forward-only vs {m['discordant']['reverse_only']} reverse-only)"
    )
    misses = m.get("reverse_misses")
    if misses:
        lines.append(
            f"  reverse misses: {misses['retrieval']} retrieval (gold not retrieved), "
            f"{misses['reading']} reading (retrieved, answered wrong)"
        )
    return lines


def _position_table(r: ProbeResult) -> list[str]:
    m = r.metrics
    conf = m.get("confidence", 0.95)
    lines = [f"  {'position':<8} {'accuracy':>8}  {'correct':>9}  {f'{conf:.0%} CI':>14}  chart"]
    for pos, summary in sorted((r.positions or {}).items()):
        mark = (
            "  <- best edge"
            if pos == m.get("best_edge")
            else "  <- worst"
            if pos == m.get("worst_position")
            else ""
        )
        lines.append(
            f"  {pos:<8} {summary.accuracy:>8.2f}  {f'{summary.correct}/{summary.n}':>9}  "
            f"{_ci(summary.ci):>14}  {bar(summary.accuracy)}{mark}"
        )
    if "drop_ci" in m:
        lo, hi = m["drop_ci"]
        best, worst = m.get("best_edge"), m.get("worst_position")
        lines.append(
            f"  drop {m['drop']:+.2f} (position {best} vs {worst}), one-sided {conf:.0%} bounds "
            f"[{lo:+.2f}, {hi:+.2f}] vs max_drop {m['max_drop']:.2f}"
        )
        lines.append(f"  Holm-adjusted exact McNemar p = {m['p_value']:.4g}")
    if "n_docs" in m:
        sizes = m.get("docs_per_context") or [m["n_docs"], m["n_docs"]]
        docs = f"{sizes[0]}" if sizes[0] == sizes[1] else f"{sizes[0]}-{sizes[1]}"
        lines.append(
            f"  {docs} documents per context ({m.get('distractors', 'given')} distractors, "
            f"~{m.get('approx_context_tokens', '?')} tokens)"
        )
    return lines


def _examples(r: ProbeResult, limit: int) -> list[str]:
    lines: list[str] = []
    if r.kind == "reverse":
        worst = [e for e in r.examples if e.get("correct") is False][:limit]
        if worst:
            lines.append("worst examples (reverse answered wrong):")
        for e in worst:
            fwd = " (forward right)" if e.get("forward_correct") else ""
            miss = f" [{e['miss']} miss]" if e.get("miss") else ""
            lines.append(f"  - {e['question']!r}{fwd}{miss}")
            lines.append(f"      expected {' | '.join(e['expected'])!r}, got {e.get('answer')!r}")
    else:
        pos = r.metrics.get("positions") or sorted(r.positions or {})
        edges = {pos[0], pos[-1]} if pos else set()
        wrong = [e for e in r.examples if e.get("correct") is False]
        middle = [e for e in wrong if e.get("edge_correct") and e.get("position") not in edges]
        worst = (middle or wrong)[:limit]
        if worst:
            lines.append(
                "worst examples (right at an edge, wrong in the middle):"
                if middle
                else "worst examples (answered wrong):"
            )
        for e in worst:
            lines.append(f"  - {e['question']!r} (gold at position {e.get('position')})")
            lines.append(f"      expected {' | '.join(e['expected'])!r}, got {e.get('answer')!r}")
    return lines


def explain(r: ProbeResult, *, examples: int = 3) -> str:
    lines = [headline(r)]
    if outcome_note(r):
        lines.append(f"  test outcome: {verdict_label(r)}")
    if r.reason and r.verdict != "error":
        lines.append(f"  reason: {r.reason}")
    if r.verdict != "error" and r.n:
        lines += _reverse_table(r) if r.kind == "reverse" else _position_table(r)
    lines += [f"  note: {n}" for n in r.notes]
    if r.errors:
        lines.append(f"  {r.errors} pipeline call(s) failed after retries; left out of the statistics")
    if r.verdict != "error":
        lines += _examples(r, 2 if r.kind == "position" else examples)
    return "\n".join(lines)


def short_label(r: ProbeResult) -> str:
    """The verdict, tagged when the test was marked xfail or regressed against the baseline: "FAIL (xfail)",
    "PASS (XPASS)", "PASS (regressed)"."""
    verdict = r.verdict.upper()
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
    """What --ragprobe-baseline found, when it matters: a regression (pytest failed the test) or settings
    that changed (not compared); "" otherwise."""
    if r.baseline not in ("regression", "changed"):
        return ""
    return r.baseline_message.removeprefix("ragprobe ") or f"baseline {r.baseline}"


def test_note(r: ProbeResult) -> str:
    """What pytest made of the test after its probe when the probe does not explain it: "skipped: <why>",
    "the test failed after the probe: <error>"; "" otherwise."""
    if r.test_outcome == "skipped":
        return f"skipped: {r.test_message}" if r.test_message else "skipped"
    if r.outcome == "test_failed":
        return "the test failed after the probe" + (f": {r.test_message}" if r.test_message else "")
    return ""


def outcome_note(r: ProbeResult) -> str:
    """Why the test's outcome is not just the verdict: the xfail note, else the skip, baseline or failed-test
    note."""
    if r.test_outcome == "skipped":
        return xfail_note(r) or test_note(r)
    return xfail_note(r) or baseline_note(r) or test_note(r)


def verdict_label(r: ProbeResult) -> str:
    """The verdict with its outcome note: "FAIL (expected, xfail: <reason>)", or just "FAIL"."""
    note = outcome_note(r)
    return f"{r.verdict.upper()} ({note})" if note else r.verdict.upper()


def summary_line(r: ProbeResult) -> str:
    """One terminal line per probe."""
    m = r.metrics
    if r.verdict == "error":
        detail = r.reason
    elif r.kind == "reverse" and "drop" in m:
        detail = f"fwd {m['forward_accuracy']:.2f} rev {m['reverse_accuracy']:.2f} drop {m['drop']:+.2f}"
    elif "drop" in m:
        accs = " ".join(f"{p}:{s.accuracy:.2f}" for p, s in sorted((r.positions or {}).items()))
        detail = f"{accs} drop {m['drop']:+.2f}"
    else:
        detail = r.reason
    cached = f", {r.cached_calls} cached" if r.cached_calls else ""
    failed = f", {r.errors} failed" if r.errors and r.verdict != "error" else ""
    failed += f", {r.retries} retried" if r.retries else ""
    note = outcome_note(r)
    tail = f" - {note}" if note else ""
    planned = r.settings.get("n_planned")
    size = f"n={r.n} of {planned}, stopped early" if r.stopped_early and planned else f"n={r.n}"
    counts = f"{size}, {r.calls} calls{cached}{failed}"
    return f"{short_label(r):<12} {r.nodeid} [{r.kind}] {detail} ({counts}){tail}"
