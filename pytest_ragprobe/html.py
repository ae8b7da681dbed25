"""HTML report: one self-contained page (inline CSS + inline SVG, no scripts, no external assets).

The page is rendered by jinja2 (imported lazily) with autoescaping on: every string that comes from a
pipeline or a data file (questions, answers, node ids, reasons) is untrusted. Chart geometry is computed
here, in plain Python, so the templates only place ready-made numbers.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_ragprobe.render import (
    STRICT_FLAG,
    answers_text,
    bounds,
    bounds_label,
    context_text,
    drop_bounds,
    failed_calls_note,
    forward_misses,
    forward_wrong_total,
    got_cell,
    in_part,
    interval_level,
    max_drop_of,
    max_drop_text,
    num,
    outcome_note,
    p_text,
    percent,
    position_accuracies,
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
    threshold,
    when,
)
from pytest_ragprobe.reporting import (
    count_label,
    crashed_tests,
    final_partial_text,
    finished_text,
    how_to_read,
    ordered,
    probe_anchor,
    ran_strict,
    run_headline,
    run_label,
    shown_counts,
    strict_source,
    uncollected_text,
    worst_examples_count,
)

if TYPE_CHECKING:
    import jinja2
    import markupsafe

    from pytest_ragprobe.results import ProbeResult, Report

EXAMPLE_ROWS = 10
TEXT_LIMIT = 300
VERDICT_LABEL = {
    "pass": "PASS",
    "fail": "FAIL",
    "inconclusive": "INCONCLUSIVE",
    "error": "ERROR",
    "empty": run_label("empty"),
}


# -- formatting filters --------------------------------------------------------------------------------
def fmt_num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    return num(value, digits)


def fmt_signed(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    return num(value, digits, signed=True)


def fmt_pct(value: Any) -> str:
    if value is None:
        return "–"
    return percent(value)


def fmt_p(value: Any) -> str:
    """ "p = 0.0123" / "p < 0.001": the relation comes with the number, as in the terminal and report.md."""
    return p_text(value)


def fmt_setting(value: Any) -> str:
    """A setting as a reader wants it, not as a Python repr: on/off, "–" for unset, lists joined."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt_setting(v) for v in value) if value else "–"
    if isinstance(value, dict):  # e.g. baseline_coverage: "compared 3, not compared 0, new 5, not run –"
        return ", ".join(f"{str(k).replace('_', ' ')} {fmt_setting(v)}" for k, v in value.items()) or "–"
    return str(value)


# a piece of a node id longer than this (about its line in the overview table at 390 px) may also wrap
# after its underscores; a shorter one stays whole (a break after every "_" fills a line up to
# "...py::test_catalog_"). A probe's heading, in larger type, passes its own (about 30 a line at 390 px).
NODEID_PIECE = 45


def nodeid_html(nodeid: Any, piece_max: int = NODEID_PIECE) -> markupsafe.Markup:
    """A node id, escaped, that wraps where a reader splits it: after "/" and "::", before a parameter's
    "[", and in a piece longer than ``piece_max`` after its "_" (``overflow-wrap: anywhere`` cut
    "test_catalog_s / ymmetric" in the overview table). The CSS still breaks what is left anywhere rather
    than widen the page."""
    from markupsafe import Markup, escape

    pieces: list[str] = []
    for piece in re.split(r"(?<=/)|(?<=::)|(?=\[)", str(nodeid)):
        pieces += re.split(r"(?<=_)(?=.)", piece) if len(piece) > piece_max else [piece]
    return Markup("<wbr>").join(escape(piece) for piece in pieces if piece)


def fmt_ci(ci: Any) -> str:
    return bounds(ci, signed=False)


def got_text(value: Any) -> str:
    return got_cell(value, clip_text)


def clip_text(value: Any, limit: int = TEXT_LIMIT) -> str:
    if value is None:
        return ""
    text = answers_text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- chart geometry ------------------------------------------------------------------------------------
# Every chart is drawn twice: WIDE for screens and print, COMPACT for phones (shown under the stylesheet's
# `max-width: 40rem` query). The 560-unit chart scaled to a 390 px phone (~0.57) drew its 12px text at ~7 px;
# the 300-unit one is drawn at 1.0-1.1 there (0.95 or more at 360 px), with its own margins, tick spacing
# and label placement.
WIDE = 560
COMPACT = 300
REF_LABEL_CHAR_PX = 7.0  # mean advance of the 12px bold label font as the wide charts have always placed it
# measured in Debian's chromium, whose system-ui is DejaVu Sans, a wide font: the 12px bold labels advance
# 7.5-7.7 px a character ("max_drop 0.10" is 99.5 px), 11px digits 7.0 px; phone fonts are narrower
BOLD_CHAR_PX = 8.0
AXIS_CHAR_PX = 7.0


def _variant(width: int) -> str:
    return "compact" if width < WIDE else "wide"


@dataclass
class Scale:
    """Linear map from a data domain onto a pixel range."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, v: float) -> float:
        span = self.d1 - self.d0 or 1.0
        return round(self.r0 + (v - self.d0) / span * (self.r1 - self.r0), 1)


@dataclass
class Tick:
    pos: float
    label: str


@dataclass
class BarRow:
    label: str
    cls: str
    y: float
    height: float
    x0: float
    x1: float
    lo: float
    hi: float
    value: str
    title: str


@dataclass
class AccuracyBars:
    """Forward vs reverse accuracy, horizontal bars with CI whiskers (0..1)."""

    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    rows: list[BarRow]
    ticks: list[Tick]
    label: str
    variant: str = "wide"


@dataclass
class DropChart:
    """The observed drop with its interval on an axis, against the max_drop threshold and zero."""

    width: int
    height: int
    axis_y: float
    x_zero: float
    x_max_drop: float
    x_drop: float
    x_lo: float
    x_hi: float
    lo_clipped: bool
    hi_clipped: bool
    ticks: list[Tick]
    max_drop_label: str
    label: str
    exceeds: bool
    # where the max_drop label goes (SVG x, text-anchor): right of its line, or left where it would run off
    max_drop_label_at: tuple[float, str] = (0.0, "start")
    variant: str = "wide"


@dataclass
class Point:
    pos: int
    x: float
    y: float
    title: str
    worst: bool = False
    edge: bool = False


@dataclass
class PositionChart:
    """Accuracy by gold position: line + CI band + the best-edge-minus-max_drop reference."""

    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    points: list[Point]
    line: str
    band: str
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    ref_y: float | None
    ref_label: str
    label: str
    # where the reference label goes (SVG x, baseline y, text-anchor): clear of the curve when possible
    ref_label_at: tuple[float, float, str] = (0.0, 0.0, "end")
    variant: str = "wide"


@dataclass
class Row:
    """One line of a per-direction / per-position table."""

    label: str
    accuracy: float
    correct: int
    n: int
    ci: tuple[float, float]
    highlight: str = ""


@dataclass
class ProbeView:
    result: ProbeResult
    anchor: str
    verdict_label: str
    outcome: str = ""  # the verdict, "xfail" / "xpass" / "xpass_strict" or "regression" (CSS v-<outcome>)
    xfail_note: str = ""  # "expected, xfail: <reason>", a baseline regression and the like; "" when none
    full_label: str = ""  # "FAIL (expected, xfail: <reason>)"
    rows: list[Row] = field(default_factory=list)
    bars: AccuracyBars | None = None
    drop: DropChart | None = None
    position_chart: PositionChart | None = None
    # the same charts drawn for a phone's width (COMPACT); the stylesheet shows one of each pair
    bars_compact: AccuracyBars | None = None
    drop_compact: DropChart | None = None
    position_compact: PositionChart | None = None
    worst_marked: Any = None  # the position drawn as the worst (None: a flat curve, nothing dropped)
    shape_label: str = ""
    u_shaped: bool = False
    misses: dict[str, int] | None = None
    reversal: str = ""  # how many of the reverse misses are of facts answered right forward
    examples: list[dict[str, Any]] = field(default_factory=list)
    examples_count: str = ""  # "5 of 8 wrong reverse answers and 2 failed calls" (worst_examples_count)
    forward_examples: list[dict[str, Any]] = field(default_factory=list)  # reverse probes' forward misses
    forward_total: int = 0
    settings: list[tuple[str, str]] = field(default_factory=list)
    discordant: str = ""  # "(15 forward-only vs 1 reverse-only)"; "" when the metrics do not hold it
    reasons: list[tuple[str, str]] = field(default_factory=list)  # ("Reason", ...), ("Budget", ...)
    notes: list[str] = field(default_factory=list)  # the probe's notes and a baseline compared in part
    failed_calls: str = ""  # failed calls left out of the statistics, with their cause; "" when none
    size: str = ""  # "40", "25 of 40, stopped early"
    max_drop: str = "–"  # from the metrics, else the mark's setting (a probe that made no call)
    bounds_label: str = ""  # "one-sided 95% bounds"
    interval_level: float = 0.9  # the two-sided level of the pair of bounds (render.interval_level)
    overview: str = ""  # the overview table's result cell: accuracies, or an error's cause


def _ci_pair(ci: Any, default: float) -> tuple[float, float]:
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(isinstance(v, (int, float)) for v in ci):
        return float(ci[0]), float(ci[1])
    return default, default


def accuracy_bars(rows: list[Row], *, width: int = WIDE) -> AccuracyBars:
    # the compact variant keeps room for "forward" / "reverse" on the left and "0.88" on the right
    left, right = (84.0, width - 72.0) if width >= WIDE else (62.0, width - 46.0)
    row_h, gap, top = 26.0, 14.0, 10.0
    x = Scale(0.0, 1.0, left, right)
    bar_rows: list[BarRow] = []
    for i, row in enumerate(rows):
        y = top + i * (row_h + gap)
        lo, hi = row.ci
        bar_rows.append(
            BarRow(
                label=row.label,
                cls=row.label.split()[0].lower(),
                y=y,
                height=row_h,
                x0=x(0.0),
                x1=x(max(0.0, min(1.0, row.accuracy))),
                lo=x(max(0.0, min(1.0, lo))),
                hi=x(max(0.0, min(1.0, hi))),
                value=fmt_num(row.accuracy),
                title=f"{row.label}: {row.accuracy:.2f} ({row.correct}/{row.n}), CI {fmt_ci(row.ci)}",
            )
        )
    bottom = top + len(rows) * (row_h + gap) - gap
    ticks = [
        Tick(x(v), f"{v:.2f}".rstrip("0").rstrip(".") if v not in (0, 1) else str(int(v)))
        for v in (0, 0.25, 0.5, 0.75, 1)
    ]
    label = "; ".join(f"{r.label} accuracy {r.accuracy:.2f}, interval {fmt_ci(r.ci)}" for r in rows)
    return AccuracyBars(
        width, int(bottom + 30), left, right, top, bottom, bar_rows, ticks, label, variant=_variant(width)
    )


def _nice_step(span: float, intervals: int = 8) -> float:
    for step in (0.05, 0.1, 0.2, 0.25, 0.5):
        if span / step <= intervals:
            return step
    return 0.5


def drop_chart(
    drop: float, ci: tuple[float, float], max_drop: float, *, what: str, width: int = WIDE
) -> DropChart:
    left, right = 20.0, width - 20.0
    lo, hi = ci
    d0 = max(-1.0, min(-0.1, drop - 0.05, lo if lo > -1 else drop - 0.2))
    d1 = min(1.0, max(max_drop + 0.1, drop + 0.05, hi if hi < 1 else drop + 0.2))
    # "+0.25" is ~34 units wide: at most 8 intervals on the wide axis, 4 on the compact one (6 after the
    # rounding outward below, which can add a step at each end: 43 units apart on its 260-unit axis)
    step = _nice_step(d1 - d0, 8 if width >= WIDE else 4)
    d0 = max(-1.0, step * int((d0 - 1e-9) // step))
    d1 = min(1.0, step * -int(-(d1 + 1e-9) // step))
    x = Scale(d0, d1, left, right)
    ticks = []
    k = round(d0 / step)
    while k * step <= d1 + 1e-9:
        v = round(k * step, 4)
        ticks.append(Tick(x(v), f"{v:+.2f}" if v else "0"))
        k += 1
    shown = bounds(ci, near=max_drop)
    label = f"{what} {num(drop, signed=True)}, bounds {shown}, against max_drop {threshold(max_drop)}" + (
        "; the whole interval is above max_drop" if lo > max_drop else ""
    )
    max_drop_label = f"max_drop {threshold(max_drop)}"
    x_max_drop = x(max_drop)
    # right of the dashed line, unless it would run past the chart's edge (a max_drop near the axis' end)
    fits = x_max_drop + 5 + len(max_drop_label) * BOLD_CHAR_PX <= width
    return DropChart(
        width=width,
        height=72,
        axis_y=30.0,
        x_zero=x(0.0),
        x_max_drop=x_max_drop,
        x_drop=x(max(d0, min(d1, drop))),
        x_lo=x(max(d0, lo)),
        x_hi=x(min(d1, hi)),
        lo_clipped=lo < d0,
        hi_clipped=hi > d1,
        ticks=ticks,
        max_drop_label=max_drop_label,
        label=label,
        exceeds=lo > max_drop,
        max_drop_label_at=(x_max_drop + 5, "start") if fits else (x_max_drop - 5, "end"),
        variant=_variant(width),
    )


def _ref_label_spot(
    points: list[Point],
    ref_y: float,
    text: str,
    left: float,
    right: float,
    top: float,
    bottom: float,
    char_px: float = REF_LABEL_CHAR_PX,
) -> tuple[float, float, str]:
    """(x, baseline y, anchor) for the reference line's label where it crosses neither the accuracy line
    nor a point: ends before the middle, above before below. Falls back to the right end, above."""
    width = len(text) * char_px
    pts = sorted((p.x, p.y) for p in points)

    def line_y(x: float) -> float | None:
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            if x0 <= x <= x1:
                return y0 if x1 == x0 else y0 + (x - x0) / (x1 - x0) * (y1 - y0)
        return None

    def clear(x0: float, x1: float, y0: float, y1: float) -> bool:
        pad = 7.0  # a point's radius plus the line's half width
        if any(x0 - pad <= px <= x1 + pad and y0 - pad <= py <= y1 + pad for px, py in pts):
            return False
        for i in range(int(x0 - pad), int(x1 + pad) + 1, 2):
            y = line_y(float(i))
            if y is not None and y0 - pad / 2 <= y <= y1 + pad / 2:
                return False
        return True

    mid = (left + right) / 2
    spans = [(right - width, right, right, "end"), (left + 6, left + 6 + width, left + 6, "start")]
    spans.append((mid - width / 2, mid + width / 2, mid, "middle"))
    # then anywhere along the line (a zigzag curve can block the ends and the middle)
    spans += [(x0, x0 + width, x0, "start") for x0 in range(int(left) + 30, int(right - width), 24)]
    for base in (ref_y - 7, ref_y + 17):
        for x0, x1, x, anchor in spans:
            box = (base - 12, base + 3)
            if box[0] >= top - 12 and box[1] <= bottom and clear(x0, x1, *box):
                return x, base, anchor
    # nowhere on the line is clear: the top margin, above the plot, where no point can be
    return right, top - 4, "end"


def _thin_ticks(ticks: list[Tick], char_px: float = AXIS_CHAR_PX, gap: float = 4.0) -> list[Tick]:
    """The tick labels that fit side by side (each centred on its tick, `gap` units apart): all of them when
    they fit, else every 2nd, 3rd, ... one; the last position is always labelled (it replaces the kept label
    before it when the two would touch)."""

    def apart(a: Tick, b: Tick) -> bool:
        return b.pos - len(b.label) * char_px / 2 >= a.pos + len(a.label) * char_px / 2 + gap

    for stride in range(1, len(ticks) + 1):
        kept = ticks[::stride]
        if kept[-1] is not ticks[-1]:
            if not apart(kept[-1], ticks[-1]):
                kept.pop()
            kept.append(ticks[-1])
        if all(apart(a, b) for a, b in itertools.pairwise(kept)):
            return kept
    return ticks[:1] + ticks[-1:] if len(ticks) > 1 else ticks


def position_chart(
    rows: list[Row],
    *,
    n_docs: int | None,
    best_edge: Any,
    worst: Any,
    max_drop: float | None,
    width: int = WIDE,
) -> PositionChart:
    if width >= WIDE:
        height, left, right, top, bottom = 280, 52.0, width - 20.0, 16.0, 228.0
    else:  # a lower plot: drawn about 1:1 on a phone, the wide one's 212-unit height would fill the screen
        height, left, right, top, bottom = 240, 52.0, width - 14.0, 16.0, 188.0
    positions = [int(r.label) for r in rows]
    x_max = max([*positions, (n_docs or 1) - 1, 1])
    x = Scale(0.0, float(x_max), left, right)
    y = Scale(0.0, 1.0, bottom, top)
    edges = {min(positions), max(positions)} if positions else set()
    points = [
        Point(
            pos=p,
            x=x(p),
            y=y(r.accuracy),
            title=f"position {p}: accuracy {r.accuracy:.2f} ({r.correct}/{r.n}), CI {fmt_ci(r.ci)}",
            worst=worst is not None and str(p) == str(worst),
            edge=p in edges,
        )
        for p, r in zip(positions, rows, strict=False)
    ]
    line = " ".join(f"{pt.x},{pt.y}" for pt in points)
    upper = [f"{x(p)},{y(r.ci[1])}" for p, r in zip(positions, rows, strict=False)]
    lower = [f"{x(p)},{y(r.ci[0])}" for p, r in zip(positions, rows, strict=False)]
    band = " ".join(upper + lower[::-1])
    ref_y: float | None = None
    ref_label = ""
    by_pos = {str(p): r for p, r in zip(positions, rows, strict=False)}
    edge_row = by_pos.get(str(best_edge))
    if edge_row is None and rows:
        edge_row = max((rows[0], rows[-1]), key=lambda r: r.accuracy)
    if edge_row is not None and max_drop is not None:
        ref = edge_row.accuracy - max_drop
        if ref >= 0:
            ref_y = y(ref)
            ref_label = f"edge − max_drop = {ref:.2f}"
    y_ticks = [
        Tick(y(v), f"{v:.2f}".rstrip("0").rstrip(".") if v not in (0, 1) else str(int(v)))
        for v in (0, 0.25, 0.5, 0.75, 1)
    ]
    x_ticks = _thin_ticks([Tick(x(p), str(p)) for p in positions])
    label = "Accuracy by gold document position: " + ", ".join(
        f"position {p} {r.accuracy:.2f}" for p, r in zip(positions, rows, strict=False)
    )
    if ref_label:
        label += f"; reference line {ref_label}"
    spot = (
        # the compact chart has little room to spare: it reckons with the wider measured label
        _ref_label_spot(
            points, ref_y, ref_label, left, right, top, bottom,
            REF_LABEL_CHAR_PX if width >= WIDE else BOLD_CHAR_PX,
        )
        if ref_y is not None
        else (right, 0.0, "end")
    )
    return PositionChart(
        width, height, left, right, top, bottom, points, line, band, x_ticks, y_ticks, ref_y, ref_label,
        label, ref_label_at=spot, variant=_variant(width),
    )


# -- view model ----------------------------------------------------------------------------------------
def _position_rows(r: ProbeResult) -> list[Row]:
    rows: list[Row] = []
    if r.positions:
        for pos, s in sorted(r.positions.items()):
            rows.append(Row(str(pos), s.accuracy, s.correct, s.n, (float(s.ci[0]), float(s.ci[1]))))
        return rows
    acc = r.metrics.get("accuracy_by_position") or {}
    cis = r.metrics.get("ci_by_position") or {}
    if not isinstance(acc, dict):
        return rows
    for key in sorted(acc, key=int):
        a = float(acc[key])
        rows.append(Row(str(int(key)), a, 0, r.n, _ci_pair(cis.get(key, cis.get(int(key))), a)))
    return rows


def _worst_examples(r: ProbeResult) -> list[dict[str, Any]]:
    if r.kind == "reverse":
        wrong = [e for e in r.examples if e.get("correct") is False]
        errored = [e for e in r.examples if e.get("correct") is None and e.get("error")]
        wrong.sort(key=lambda e: not e.get("forward_correct"))
        return wrong + errored
    from pytest_ragprobe.render import telling_position_miss

    wrong = [e for e in r.examples if e.get("correct") is False]
    wrong.sort(key=lambda e: not telling_position_miss(r, e))  # as the terminal lists them
    errored = [e for e in r.examples if e.get("correct") is None and e.get("error")]
    return wrong + errored


def _settings(r: ProbeResult) -> list[tuple[str, str]]:
    keep = (
        "facts",
        "data",
        "n_docs",
        "context_tokens",
        "positions",
        "distractors",
        "match",
        "max_drop",
        "min_accuracy",
        "n_planned",
    )
    out = []
    if context := context_text(r.metrics):  # what the reader actually got (context_tokens pads n_docs)
        out.append(("contexts", context))
    for key in keep:
        if r.settings.get(key) not in (None, "", []):
            value = r.settings[key]
            if key in ("max_drop", "min_accuracy") and isinstance(value, (int, float)):
                out.append((key, threshold(value)))  # 0.10 as everywhere else, not 0.1; 0.125 as given
            else:
                out.append((key, _inline_setting(r, key, value)))
    return out


def _inline_setting(r: ProbeResult, key: str, value: Any) -> str:
    """A setting as written in the test: facts / data given as a list read "a list of 12 facts in the test"
    (report.json keeps each item's repr up to 20 items, "<60 items>" beyond; the page showed a clipped run
    of "Fact(subject='P-1', relation=..., forward=None, ...)" or "<60 items>"), positions beyond 20 as the
    positions probed."""
    count = None
    if isinstance(value, list):
        count = len(value)
    elif isinstance(value, str) and value.startswith("<") and value.endswith(" items>"):
        count = int(value[1:-7]) if value[1:-7].isdigit() else None
    if count is not None and key in ("facts", "data"):
        return f"a list of {count} {'facts' if key == 'facts' else 'examples'} in the test"
    if count is not None and key == "positions" and not isinstance(value, list) and r.positions:
        return fmt_setting(sorted(r.positions))
    return fmt_setting(value)


def overview_text(r: ProbeResult) -> str:
    """What the overview row needs to be read without scrolling: "fwd 0.90 → rev 0.55", "pos 0: 0.53 · pos 4:
    0.20 · pos 9: 0.63", or why the probe errored (its own section has the rest)."""
    m = r.metrics
    if r.verdict == "error" or "drop" not in m:
        return clip_text(r.reason, 140) if r.reason else ""
    if r.kind == "reverse":
        # each label kept with its number, as "pos\u00a04:\u00a00.20" below: the result column wrapped
        # "fwd 0.90 → rev" / "0.70"; it may break only after the arrow
        fwd, rev = fmt_num(m.get("forward_accuracy")), fmt_num(m.get("reverse_accuracy"))
        return f"fwd\u00a0{fwd}\u00a0→ rev\u00a0{rev}"
    # "pos 4: 0.20": a bare "4: 0.20" did not say what 4 is (a pair never wraps); past 8 positions the
    # edges, best edge and worst (a cut at 140 characters left the worst out)
    return clip_text(position_accuracies(r, lambda p, a: f"pos\u00a0{p}:\u00a0{a:.2f}", " · ", 8), 140)


def probe_view(r: ProbeResult, *, strict: bool = False, strict_by: str = STRICT_FLAG) -> ProbeView:
    m = r.metrics
    view = ProbeView(
        result=r,
        anchor=probe_anchor(r.nodeid),
        verdict_label=short_label(r, strict=strict),
        outcome="fail" if strict_fails(r, strict) else r.outcome,
        xfail_note=outcome_note(r, strict=strict, strict_by=strict_by),
        full_label=test_outcome_text(r, strict=strict, strict_by=strict_by),
        reasons=reasons(r),
        notes=probe_notes(r),
        # the terminal warned of them with their cause; the page said only "10 failed calls"
        failed_calls=failed_calls_note(r) if r.errors and r.verdict != "error" else "",
        overview=overview_text(r),
        size=size_text(r),
        bounds_label=bounds_label(r),
        interval_level=interval_level(r),
    )
    max_drop = max_drop_of(r)
    view.max_drop = max_drop_text(r)
    if r.kind == "reverse":
        for label, summary in (("forward", r.forward), ("reverse", r.reverse)):
            if summary is not None:
                view.rows.append(
                    Row(
                        label,
                        summary.accuracy,
                        summary.correct,
                        summary.n,
                        (float(summary.ci[0]), float(summary.ci[1])),
                    )
                )
        if not view.rows and "forward_accuracy" in m:
            for label in ("forward", "reverse"):
                a = float(m[f"{label}_accuracy"])
                view.rows.append(Row(label, a, 0, r.n, _ci_pair(m.get(f"{label}_ci"), a)))
        if view.rows:
            view.bars = accuracy_bars(view.rows)
            view.bars_compact = accuracy_bars(view.rows, width=COMPACT)
        disc = m.get("discordant")
        if isinstance(disc, dict) and disc:
            view.discordant = (
                f"({disc.get('forward_only', 0)} forward-only vs {disc.get('reverse_only', 0)} reverse-only)"
            )
        misses = m.get("reverse_misses")
        if isinstance(misses, dict):
            view.misses = {k: int(misses.get(k, 0)) for k in ("retrieval", "reading", "unknown")}
            if text := reversal_text(m).removeprefix("; "):
                view.reversal = f"{text[0].upper()}{text[1:]}."
    else:
        view.rows = _position_rows(r)
        marks = position_marks(r)
        for row in view.rows:
            row.highlight = marks.get(row.label, "")
        if view.rows:
            n_docs = r.settings.get("n_docs")
            drop = m.get("drop")
            # a red "worst" point on a flat PASS curve (every position at 1.00) read as a problem
            if isinstance(drop, (int, float)) and drop > 0:
                view.worst_marked = m.get("worst_position")
            view.position_chart, view.position_compact = (
                position_chart(
                    view.rows,
                    n_docs=int(n_docs) if isinstance(n_docs, int) else None,
                    best_edge=m.get("best_edge"),
                    worst=view.worst_marked,
                    max_drop=float(max_drop) if max_drop is not None else None,
                    width=width,
                )
                for width in (WIDE, COMPACT)
            )
        # best edge vs worst position, not forward vs reverse (position metrics have no such keys)
        view.discordant = position_discordant(m).strip()
        shape = m.get("shape")
        if shape:
            u = str(shape).lower()[:1] == "u" or "u-shape" in str(shape).lower()
            view.shape_label = shape_text({**m, "shape": "U-shaped" if u else shape})
            view.u_shaped = u and not m.get("shape_within_noise")  # highlighted only beyond noise
    if m.get("drop") is not None and max_drop is not None:
        view.drop, view.drop_compact = (
            drop_chart(
                float(m["drop"]),
                _ci_pair(m.get("drop_ci"), float(m["drop"])),
                float(max_drop),
                what="reverse drop" if r.kind == "reverse" else "drop (best edge − worst position)",
                width=width,
            )
            for width in (WIDE, COMPACT)
        )
    worst_examples = _worst_examples(r)
    view.examples_count = worst_examples_count(r, worst_examples, min(len(worst_examples), EXAMPLE_ROWS))
    forward = forward_misses(r)
    view.forward_examples = forward[:EXAMPLE_ROWS]
    view.forward_total = forward_wrong_total(r, len(forward))
    view.examples = worst_examples[:EXAMPLE_ROWS]
    view.settings = _settings(r)
    return view


def report_context(
    report: Report, *, title: str = "pytest-ragprobe report", running: bool = False
) -> dict[str, Any]:
    counts = shown_counts(report)
    verdict, verdict_label = run_headline(report, running=running)
    return {
        "title": title,
        "report": report,
        "counts": counts,
        # the banner's tallies in the words of the summary line: (outcome, 2, "errors")
        "verdict_counts": [
            (k, counts[k], count_label(k, counts[k]).split(" ", 1)[1])
            for k in ("pass", "fail", "inconclusive", "error")
        ],
        # probes of xfail-marked tests, counted apart: (outcome, 2, "expected failures (xfail)")
        "xfail_counts": [
            (k, v, count_label(k, v).split(" ", 1)[1])
            for k, v in counts.items()
            if k not in VERDICT_LABEL and v
        ],
        "verdict": verdict,
        "verdict_label": verdict_label,
        "probes": [
            probe_view(p, strict=ran_strict(report), strict_by=strict_source(report))
            for p in ordered(report.probes)
        ],
        "how_to_read": how_to_read(report.probes),
        "crashed": crashed_tests(report),
        "uncollected": uncollected_text(report),
        "finished": finished_text(report),
        "running": running,
        "final_partial": final_partial_text(report) if report.partial else "",
        # strict_by is said in the strict row ("on (ragprobe_strict in pytest.ini)"), not as a row of its own
        "run_settings": [(k, _setting(report, k, v)) for k, v in report.settings.items() if k != "strict_by"],
    }


def _setting(report: Report, key: str, value: Any) -> str:
    if key == "baseline_coverage" and isinstance(value, dict) and "compared" in value:
        # "compared 3 (1 in part), ...": a probe compared in part counted as compared whole
        value = {**value, "compared": f"{fmt_setting(value['compared'])}{in_part(report.probes)}"}
    if key == "selected" and isinstance(value, list):  # a partial run's selection: a count, not 400 ids
        return f"{len(value)} probe{'s' if len(value) != 1 else ''}"
    if key == "deselected" and isinstance(value, list):  # a shard's -k / -m left out: a count, not 400 ids
        probes = f"{len(value)} probe{'s' if len(value) != 1 else ''}"
        return f"{probes} (-k / -m)" + (", run in no shard" if "merged_from" in report.settings else "")
    if key == "strict" and value is True and isinstance(report.settings.get("strict_by"), str):
        return f"on ({report.settings['strict_by']})" if report.settings["strict_by"] else "on"
    if value is not None:
        return fmt_setting(value)
    probed = sorted({p.pipeline for p in report.probes if p.pipeline})
    if key == "pipeline" and probed:  # no --ragprobe-pipeline: name what the fixture gave
        if len(probed) > 1:
            return f"{len(probed)} pipelines from the ragprobe_pipeline fixture (each probe names its own)"
        return f"{probed[0]} (ragprobe_pipeline fixture)"
    return "–"


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pytest_ragprobe", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        num=fmt_num, signed=fmt_signed, pct=fmt_pct, pval=fmt_p, ci=fmt_ci, bounds=bounds, clip=clip_text,
        when=when, got=got_text, nodeid=nodeid_html, drop_bounds=drop_bounds,
    )
    return env


def render_html(report: Report, *, running: bool = False) -> str:
    """The whole report as one HTML document (string); ``running``: written while the run goes on."""
    from pytest_ragprobe.reporting import visible_controls

    # (the template's own text holds no control character: only a pipeline's or a data file's can)
    context = report_context(report, running=running)
    return visible_controls(environment().get_template("report.html.j2").render(**context))
