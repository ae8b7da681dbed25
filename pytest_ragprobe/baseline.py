"""Baselines: compare each probe with the same test in an earlier report and flag significant regressions.

Two runs are independent samples of the same probe, so accuracies are compared with a one-sided Fisher exact
test and drops with a one-sided z-test on the difference of the two paired drops (variance from each run's
discordant pairs). Holm's correction covers the several quantities compared per probe. A probe whose
settings changed since the baseline, or that has nothing to compare (an ERROR on either side, no answers),
is reported, not compared.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pytest_ragprobe.render import p_text
from pytest_ragprobe.results import SCHEMA_VERSION, DirectionSummary, ProbeResult
from pytest_ragprobe.types import redact

# Settings that change what a probe measures; a change makes the comparison meaningless.
COMPARED_SETTINGS = (
    "facts",
    "data",
    "n_docs",
    "positions",
    "distractors",
    "context_tokens",
    "match",
    "n",
    "seed",
    "n_planned",
)


class BaselineError(ValueError):
    """The baseline file is missing or not a ragprobe report."""


@dataclass(frozen=True)
class BaselineComparison:
    # "changed": not compared (the probe's settings or kind changed, or either side has nothing to compare);
    # "new": the baseline has no probe of that test
    status: Literal["ok", "regression", "changed", "new"]
    message: str = ""


@dataclass(frozen=True)
class Baseline:
    """A baseline file as read: its probes by nodeid, and whether the run that wrote it was partial (its
    missing probes may simply not have run)."""

    path: Path
    probes: dict[str, dict[str, Any]]
    partial: bool = False
    samples: Any = None  # the --ragprobe-samples of the run that wrote it (None: no cap, or not said)


def report_file(path: Path) -> Path:
    """The file a --ragprobe-baseline / --ragprobe-save-baseline path stands for: a directory stands for the
    report.json in it."""
    return path / "report.json" if path.is_dir() else path


def load_baseline(path: Path) -> dict[str, dict[str, Any]]:
    """Probes of a previous report.json (or --ragprobe-save-baseline file) by nodeid. A directory stands
    for the report.json in it, as for ``ragprobe show`` / ``merge`` (whose output is a directory)."""
    return read_baseline(path).probes


def read_baseline(path: Path) -> Baseline:
    """:func:`load_baseline` with what else the file says (partial)."""
    if path.is_dir():
        if not (path / "report.json").is_file():
            raise BaselineError(f"--ragprobe-baseline: {path} is a directory without a report.json")
        path = path / "report.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))  # (a byte order mark of Notepad: skipped)
    except FileNotFoundError:
        raise BaselineError(
            f"--ragprobe-baseline: file not found: {path} (a first run writes one with "
            "--ragprobe-save-baseline=PATH)"
        ) from None
    except UnicodeDecodeError as exc:  # (PowerShell's `>` writes UTF-16)
        raise BaselineError(
            f"--ragprobe-baseline: {path} is not readable JSON: not UTF-8 text ({exc.reason} at byte "
            f"{exc.start}); ragprobe writes its reports in UTF-8: use the file it wrote, or save it as UTF-8"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise BaselineError(f"--ragprobe-baseline: {path} is not readable JSON: {exc}") from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise BaselineError(
            f"--ragprobe-baseline: {path} is a ragprobe report of schema_version {version}, newer than "
            f"this pytest-ragprobe reads (schema_version {SCHEMA_VERSION}): upgrade pytest-ragprobe, or "
            "save a new baseline with this version (--ragprobe-save-baseline)"
        )
    if not isinstance(data, dict) or version != SCHEMA_VERSION or not isinstance(data.get("probes"), list):
        raise BaselineError(f"--ragprobe-baseline: {path} is not a ragprobe report (schema_version 1)")
    from pydantic import ValidationError

    probes: dict[str, dict[str, Any]] = {}
    index: dict[str, int] = {}
    for i, probe in enumerate(data["probes"]):
        try:
            nodeid = ProbeResult.model_validate(probe).nodeid
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"])) or "probe"
            from pytest_ragprobe import __version__

            written = data.get("plugin_version")
            other = (  # (a verdict or field another version added)
                f" (it was written by pytest-ragprobe {written}; this is {__version__}: save a new baseline "
                "with this version, --ragprobe-save-baseline)"
                if isinstance(written, str) and written and written != __version__
                else ""
            )
            raise BaselineError(
                f"--ragprobe-baseline: {path}: probes[{i}] is not a ragprobe probe ({where}: {first['msg']})"
                f"{other}"
            ) from None
        # a test listed twice (a hand-edited or concatenated file): the last entry won in silence
        if nodeid in probes and probes[nodeid] != probe:
            raise BaselineError(
                f"--ragprobe-baseline: {path}: {nodeid} is listed twice, probes[{index[nodeid]}] and "
                f"probes[{i}], with different results: which one is the baseline? Keep one of them (a file "
                "merged or edited by hand; `ragprobe merge` keeps one result per test)"
            )
        probes[nodeid] = probe
        index.setdefault(nodeid, i)
    settings = data.get("settings")
    samples = settings.get("samples") if isinstance(settings, dict) else None
    return Baseline(path=path, probes=probes, partial=data.get("partial") is True, samples=samples)


def _fisher_less(k_new: int, n_new: int, k_old: int, n_old: int) -> float:
    """One-sided p-value that the new accuracy is lower than the old one."""
    from scipy.stats import fisher_exact

    table = [[k_new, n_new - k_new], [k_old, n_old - k_old]]
    return float(fisher_exact(table, alternative="less")[1])


# The discordant pairs behind the drop, as each probe names them: (right on the better side only,
# right on the worse side only).
_DISCORDANT_KEYS = {"reverse": ("forward_only", "reverse_only"), "position": ("edge_only", "worst_only")}


def _count(value: Any) -> int | None:
    """A count as a report holds it (a JSON integer, or a float with an integer value), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    return int(value) if value >= 0 else None


def _discordant(probe: ProbeResult) -> tuple[int, int] | None:
    """The probe's discordant pairs behind its drop (better side only, worse side only); None when its
    metrics do not hold them as two counts."""
    disc = probe.metrics.get("discordant")
    if not isinstance(disc, dict):
        return None
    better, worse = (_count(disc.get(key)) for key in _DISCORDANT_KEYS[probe.kind])
    return None if better is None or worse is None else (better, worse)


def _drop_problem(probe: ProbeResult, side: str) -> str:
    """Why the probe's drop cannot be tested against the other run's ("" when it can): none in it, not a
    finite number (a hand-edited file; Python's json reads NaN and Infinity), or without the discordant
    counts its variance comes from."""
    value = probe.metrics.get("drop")
    if value is None:
        return f"{side} probe has no drop"
    shown = _short(repr(value))  # (as the file says it, clipped: Python's json reads any integer)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{side} drop, {shown}, is not a number"
    if value != value or abs(value) == math.inf:  # (NaN, inf; math.isfinite() overflows on a huge int)
        return f"{side} drop, {shown}, is not a number"
    if not -1.0 <= value <= 1.0:
        return f"{side} drop, {shown}, is outside [-1, 1]"
    counts = _discordant(probe)
    better, worse = _DISCORDANT_KEYS[probe.kind]
    if counts is None:
        return f"{side} probe has no discordant counts, metrics.discordant.{better} and {worse}"
    if sum(counts) > probe.n:
        shown = " and ".join(_short(str(c)) for c in counts)
        return f"{side} discordant counts, {shown}, add up to more than its n = {probe.n}"
    return ""


def _drop_var(probe: ProbeResult, n10: int, n01: int) -> float:
    """Variance of the paired drop estimate (n10 - n01) / n."""
    n = probe.n
    d = (n10 - n01) / n
    return max((n10 + n01) / n - d * d, 0.25 / n) / n  # floor: no zero variance from an all-concordant run


def _drop_increase_p(new: ProbeResult, old: ProbeResult) -> float:
    """One-sided p-value that the drop grew; both probes' drops checked by :func:`_drop_problem`."""
    from scipy.stats import norm

    (new10, new01), (old10, old01) = _discordant(new) or (0, 0), _discordant(old) or (0, 0)
    se = math.sqrt(_drop_var(new, new10, new01) + _drop_var(old, old10, old01))
    return float(norm.sf((float(new.metrics["drop"]) - float(old.metrics["drop"])) / se))


_MAX_ANSWERS = 10**9  # more answers than any probe asks: a hand-edited count


def _direction_problem(summary: DirectionSummary, side: str) -> str:
    """Why an accuracy cannot be tested ("" when it can): no answers, or counts no run writes (a
    hand-edited file), which Fisher's test cannot take."""
    if summary.n <= 0:
        return f"{side} has no answers there, n = {summary.n}"
    if summary.n > _MAX_ANSWERS:  # (scipy's table overflows its C integers far above this)
        return f"{side} n = {_short(str(summary.n))} is more answers than a probe asks"
    if not 0 <= summary.correct <= summary.n:
        return f"{side} counts are impossible, {summary.correct} right of n = {summary.n}"
    return ""


def _accuracy(summary: DirectionSummary) -> float:
    """The accuracy to print: as recorded, or from the counts when the record is not a proportion."""
    value = summary.accuracy
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else summary.correct / summary.n


_ITEMS = re.compile(r"<(\d+) items>")


def _setting_words(key: str, value: Any) -> str:
    """A compared setting as a person reads it: facts or examples given as a list in the test by their
    number ("30 items": report.json keeps a list's reprs up to 20 items, "<30 items>" beyond), other values
    as their repr ('fixtures/parts.yaml', 0.1)."""
    if isinstance(value, str) and (found := _ITEMS.fullmatch(value)):
        count = int(found.group(1))
    elif isinstance(value, list) and key in ("facts", "data"):
        count = len(value)
    else:
        return repr(value)
    return f"{count} item{'s' if count != 1 else ''}"


def _changed_settings(
    new: ProbeResult, old: ProbeResult, samples: tuple[Any, Any] = (None, None)
) -> list[str]:
    """The compared settings that differ; ``samples``: the runs' --ragprobe-samples (baseline, this run),
    which caps n_planned without being a setting of the probe."""
    changes = []
    then, now = old.settings.get("sample_digest"), new.settings.get("sample_digest")
    if str(then).startswith("set:") != str(now).startswith("set:"):
        then = now = None  # a reverse digest of an older version (in ask order): compared as without one
    # A reverse probe's seed only picks its sample: the same sample under another seed (every fact probed)
    # measures the same. (A position probe's seed also orders the distractors of every context.)
    same_sample = new.kind == "reverse" and bool(then) and then == now
    for key in COMPARED_SETTINGS:
        if key == "seed" and same_sample:
            continue
        if new.settings.get(key) != old.settings.get(key):
            was = _setting_words(key, old.settings.get(key))
            now_is = _setting_words(key, new.settings.get(key))
            same = " (other items)" if was == now_is else ""  # (two lists of one size)
            changes.append(f"{key}: {was} -> {now_is}{same}")
    if len(changes) == 1 and changes[0].startswith("n_planned:"):  # same arguments, another sample size
        then, now = (f"--ragprobe-samples={v}" if v else "no --ragprobe-samples" for v in samples)
        # the cap is to blame when it differs and one run was cut at it (a merged baseline may hold a
        # list of its shards' caps: not to blame then)
        capped = any(
            isinstance(cap, int) and probe.settings.get("n_planned") == cap
            for cap, probe in zip(samples, (old, new), strict=True)
        )
        changes[0] += (
            f" ({then} in the baseline's run, {now} in this one: compare runs with the same cap)"
            if samples[0] != samples[1] and capped
            else " (the facts or data changed, or fewer of them have questions of their own: facts that "
            "share a question are probed one per question)"
        )
    # the same settings and sample size, other contents (an edited facts file): said only then, and only
    # when both runs recorded it (a baseline written before it was recorded compares as before)
    if not changes and then and now and then != now:
        what = "facts" if new.kind == "reverse" else "questions"
        changes.append(f"the sampled {what} changed (same settings, other questions, answers or documents)")
    return changes


def _nothing_to_compare(new: ProbeResult, old: ProbeResult) -> str:
    """Why the two probes have nothing to compare ("" when they have): an ERROR on either side, or no
    answers."""
    if new.verdict == "error" and old.verdict == "error":
        return "this run's probe and the baseline's are both ERRORs"
    if new.verdict == "error":
        return "this run's probe is an ERROR"
    if old.verdict == "error":
        return "the baseline's probe was an ERROR"
    if old.n <= 0:
        return f"the baseline's probe has no answers (n = {old.n})"
    if new.n <= 0:
        return f"this run's probe has no answers (n = {new.n})"
    return ""


def _has_accuracies(probe: ProbeResult) -> bool:
    if probe.kind == "reverse":
        return probe.reverse is not None and probe.forward is not None
    return bool(probe.positions)


_LABEL_LIMIT = 40  # a pipeline label in a regression message (the identity can be a long repr)


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_LIMIT else label[: _LABEL_LIMIT - 1] + "…"


def _pipeline_change(old: str, new: str) -> str:
    """A short clause on how the probed pipeline changed since the baseline, "" when it did not (or a
    report does not say): its version when only that changed, else both labels, clipped."""
    # A baseline written before labels were redacted may name a URL with its password or key: the
    # message goes to the terminal, the reports and JUnit properties.
    # A label told apart by its hash in a report (one class, two configurations: see
    # results.distinguish_pipelines) names the same pipeline as the result's own, unqualified label.
    from pytest_ragprobe.cache import identity_base

    old, new = identity_base(redact(old)), identity_base(redact(new))
    if not old or not new or old == new:
        return ""
    old_name, _, old_version = old.rpartition("@") if "@" in old else (old, "", "")
    new_name, _, new_version = new.rpartition("@") if "@" in new else (new, "", "")
    if old_name == new_name:
        return f"pipeline version {_short(old_version or '(none)')} -> {_short(new_version or '(none)')}"
    return f"pipeline {_short(old)} -> {_short(new)}"


def _accuracy_tests(new: ProbeResult, old: ProbeResult) -> tuple[list[tuple[str, float]], list[str]]:
    """The accuracy tests (label, one-sided p) and the accuracies not compared, with why."""
    pairs: list[tuple[str, DirectionSummary | None, DirectionSummary | None]] = []
    skipped: list[str] = []
    if new.kind == "reverse":
        pairs = [
            ("reverse accuracy", new.reverse, old.reverse),
            ("forward accuracy", new.forward, old.forward),
        ]
    elif not new.positions or not old.positions:
        side = "the baseline's" if not old.positions else "this run's"
        skipped.append(f"accuracy by position not compared: {side} probe has none")
    else:
        common = sorted(set(new.positions) & set(old.positions))
        if not common:
            skipped.append(
                "accuracy by position not compared: no position in common, the baseline's "
                f"{sorted(old.positions)} vs this run's {sorted(new.positions)}"
            )
        pairs = [(f"accuracy at position {pos}", new.positions[pos], old.positions[pos]) for pos in common]
    tests: list[tuple[str, float]] = []
    for label, a, b in pairs:
        if a is None or b is None:
            skipped.append(f"{label} not compared: {'the baseline' if b is None else 'this run'} has none")
            continue
        if why := _direction_problem(b, "the baseline") or _direction_problem(a, "this run"):
            skipped.append(f"{label} not compared: {why}")
            continue
        p = _fisher_less(a.correct, a.n, b.correct, b.n)
        tests.append((f"{label} {_accuracy(b):.2f} -> {_accuracy(a):.2f}", p))
    return tests, skipped


def compare(
    new: ProbeResult, previous: dict[str, Any], *, confidence: float, samples: tuple[Any, Any] = (None, None)
) -> BaselineComparison:
    """``ok``, ``regression`` (with the figures that fell), or ``changed``: not compared, with why (the
    probe's kind or settings changed, or either side has nothing to compare). ``samples``: the two runs'
    --ragprobe-samples (baseline, this run), to say when it is what changed the sample size.

    A figure that cannot be tested (a drop that is not a number or lacks its discordant counts, impossible
    accuracy counts: a hand-edited or damaged baseline) is left out and named in the message ("drop not
    compared: the baseline's drop is not a number (nan)"); the others are still compared."""
    from pydantic import ValidationError

    from pytest_ragprobe.stats import holm

    try:
        old = ProbeResult.model_validate(previous)
    except ValidationError as exc:  # (read_baseline refuses such a file; a caller may pass any dict)
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "probe"
        why = f"the baseline's probe is not a ragprobe probe ({where}: {first['msg']})"
        return BaselineComparison("changed", f"baseline not compared: {why}")
    if old.kind != new.kind:
        return BaselineComparison("changed", f"baseline probe was a {old.kind} probe; not compared")
    changes = _changed_settings(new, old, samples)
    if changes:
        return BaselineComparison(
            "changed", "baseline not compared, probe settings changed: " + "; ".join(changes)
        )
    why = _nothing_to_compare(new, old)
    if not why:
        for side, probe in (("the baseline's", old), ("this run's", new)):
            if not _has_accuracies(probe) and probe.metrics.get("drop") is None:
                why = f"{side} probe has no figures to compare (no accuracies or drop in it)"
                break
    if why:
        return BaselineComparison("changed", f"baseline not compared: {why}")

    tests, skipped = _accuracy_tests(new, old)
    if why := _drop_problem(old, "the baseline's") or _drop_problem(new, "this run's"):
        skipped.append(f"drop not compared: {why}")
    else:
        drops = float(old.metrics["drop"]), float(new.metrics["drop"])
        tests.append((f"drop {drops[0]:+.2f} -> {drops[1]:+.2f}", _drop_increase_p(new, old)))
    if not tests:
        return BaselineComparison("changed", "baseline not compared: " + "; ".join(skipped))
    left_out = "; ".join(skipped)

    alpha = 1 - confidence
    adjusted = holm([p for _, p in tests])
    hits = [f"{label} ({p_text(p)})" for (label, _), p in zip(tests, adjusted, strict=True) if p < alpha]
    if not hits:
        return BaselineComparison("ok", f"baseline compared in part; {left_out}" if left_out else "")
    # The figures first (reports clip long messages), then how they were tested and one short clause on
    # what changed, when known; then what was left out.
    # (one level of parentheses: the reports wrap the message in "failed (...)" already)
    tail = f"one-sided tests, Holm-adjusted; the baseline run was {old.verdict.upper()}"
    if change := _pipeline_change(old.pipeline, new.pipeline):
        tail += f"; {change}"
    if left_out:
        tail += f"; {left_out}"
    return BaselineComparison("regression", f"ragprobe baseline REGRESSION: {', '.join(hits)}; {tail}")
