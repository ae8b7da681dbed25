"""What a run will cost, before it runs: pipeline calls per probe, from the marks and the data alone.

Printed after collection (``pytest --collect-only`` shows it without calling anything), so a team can see
the bill, and whether ``--ragprobe-budget`` covers it, before the first request. The counts are upper
bounds: answers already in the cache are free, and sequential stopping may end a probe at an early look
(the lower figure). Retries are not in them (nobody knows them in advance) but take from the budget; the
``index()`` call of ``synthetic:N`` facts is in them but not budgeted (it is not an engine call).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_ragprobe.markers import PositionSpec, ProbeSpec, ReverseSpec, default_positions
from pytest_ragprobe.runner import RunSettings, looks, sample_size


@dataclass(frozen=True)
class ProbePlan:
    nodeid: str
    kind: str
    n: int = 0  # facts (reverse) or questions (position) the probe will sample
    per_item: int = 0  # pipeline calls per fact / question
    extra: int = 0  # calls not per item (indexing synthetic facts)
    first_look: int | None = None  # items at the first sequential look (None: not sequential)
    error: str = ""  # the data could not be read: the run will report it as the probe's error
    retries: int = 0  # --ragprobe-retries: each retry takes a budget unit the plan cannot foresee

    @property
    def calls_max(self) -> int:
        return self.n * self.per_item + self.extra

    @property
    def calls_min(self) -> int:
        if self.first_look is None:
            return self.calls_max
        return self.first_look * self.per_item + self.extra

    @property
    def budgeted_max(self) -> int:
        """The calls that take from --ragprobe-budget: not the synthetic facts' index() call, which the
        probe makes itself (outside the engine, so outside the budget)."""
        return self.n * self.per_item


def plan_probe(
    nodeid: str, spec: ProbeSpec, settings: RunSettings, base_dirs: Sequence[Path]
) -> ProbePlan:
    """The plan of one marked test; reading its data is the only I/O (no pipeline call)."""
    from pytest_ragprobe.facts import distinct_questions, resolve_pairs
    from pytest_ragprobe.position_probe import distinct_examples, load_examples

    seed = spec.seed if spec.seed is not None else settings.seed
    try:
        if isinstance(spec, ReverseSpec):
            pairs = resolve_pairs(spec.facts, seed=seed, base_dirs=base_dirs)
            available = len(distinct_questions(pairs, seed))  # what run_reverse samples from
            per_item = 2  # forward and reverse question
            synthetic = isinstance(spec.facts, str) and spec.facts.startswith("synthetic:")
            extra = 1 if synthetic else 0  # one index() call with the fictitious documents
        else:
            assert isinstance(spec, PositionSpec)
            source = spec.data if spec.data is not None else spec.facts
            if source is None:
                raise ValueError("@ragprobe.position needs data=... or facts=...")
            examples, _ = load_examples(
                source, seed=seed, base_dirs=base_dirs, facts=spec.data is None
            )
            available = len(distinct_examples(examples, seed))
            positions = spec.positions or default_positions(spec.n_docs)
            # one generate() per position; plus one retrieve() per question for hard negatives
            per_item = len(positions) + (1 if spec.distractors == "retriever" else 0)
            extra = 0
    except Exception as exc:  # any data problem is the run's to report (as the probe's error)
        return ProbePlan(nodeid, spec.kind, error=str(exc).splitlines()[0][:200])
    n = sample_size(spec, available, settings)
    confidence = spec.confidence if spec.confidence is not None else settings.confidence
    design, _ = looks(spec, n, confidence, settings)
    first_look = None if design is None else design.sizes[0]
    return ProbePlan(nodeid, spec.kind, n, per_item, extra, first_look, retries=settings.engine.retries)


def summary_lines(
    plans: Sequence[ProbePlan], budget: int | None, *, verbose: bool, workers: int = 1
) -> list[str]:
    """Terminal lines: one total (always), whether ``budget`` covers it (when set), one per probe when
    ``verbose``. ``workers`` > 1: pytest-xdist workers that each spend their own share of the budget (those
    that cannot reach the controller's pool; workers sharing it plan as one process)."""
    if not plans:
        return []
    total_max = sum(p.calls_max for p in plans)
    total_min = sum(p.calls_min for p in plans)
    # "up to 309-337" read oddly: the most, then the fewest if sequential probes stop at their first look
    early = f"; {total_min} if sequential probes stop at their first look" if total_min != total_max else ""
    errors = sum(1 for p in plans if p.error)
    head = (
        f"ragprobe plan: {len(plans)} probe{'s' if len(plans) != 1 else ''}, "
        f"up to {total_max} pipeline calls (cached answers are free{early})"
    )
    if errors:
        head += f"; {errors} with unreadable data"
    lines = [head]
    if budget is not None:
        lines += _budget_lines(plans, budget, workers)
    if verbose:
        for p in plans:
            if p.error:
                lines.append(f"  {p.nodeid} [{p.kind}] data error: {p.error}")
                continue
            unit = "facts" if p.kind == "reverse" else "questions"
            calls = f"{p.calls_min}-{p.calls_max}" if p.calls_min != p.calls_max else f"{p.calls_max}"
            how = f"{p.n} {unit} x {p.per_item}" + (f" + {p.extra}" if p.extra else "")
            seq = " (sequential: may stop at the first look)" if p.first_look is not None else ""
            lines.append(f"  {p.nodeid} [{p.kind}] {calls} calls = {how}{seq}")
    return lines


def _budget_lines(plans: Sequence[ProbePlan], budget: int, workers: int) -> list[str]:
    """Whether --ragprobe-budget covers the plan: the run-wide total, each xdist worker's share when they
    spend shares (they cannot borrow from each other then, and which probes a worker gets is xdist's
    choice), and the room left for retries, which take from the budget too."""
    lines: list[str] = []
    total = sum(p.budgeted_max for p in plans)
    unbudgeted = sum(p.extra for p in plans)
    if total > budget:
        if unbudgeted:  # "covers 40 of up to 41" flagged a run whose 40 answer calls all fit
            lines.append(
                f"ragprobe plan: --ragprobe-budget={budget} covers {budget} of up to {total} budgeted calls "
                f"(not the {unbudgeted} index call{'s' if unbudgeted != 1 else ''} of synthetic facts); "
                "probes that run out end INCONCLUSIVE (a FAIL already shown stays)"
            )
        else:
            lines.append(
                f"ragprobe plan: --ragprobe-budget={budget} covers {budget} of up to {total} calls; "
                "probes that run out end INCONCLUSIVE (a FAIL already shown stays)"
            )
    share = budget // workers  # the smallest share (the first budget % workers workers get one more)
    largest = max((p.budgeted_max for p in plans), default=0)
    if workers > 1 and largest > share:
        # the run-wide total may fit while one probe does not fit the share of the worker it lands on
        lines.append(
            f"ragprobe plan: under {workers} xdist workers each spends its own share of "
            f"--ragprobe-budget={budget} (about {share} calls); the largest probe needs up "
            f"to {largest}, so it may run out on its worker"
        )
    elif workers > 1 and total > share:
        # Every probe fits a share, but a worker spends one share on all the probes it runs: 40 + 40 of
        # 100 under -n 2 ran out on the worker that got both, with 40 of the other's 50 unspent.
        lines.append(
            f"ragprobe plan: under {workers} xdist workers each spends its own share of "
            f"--ragprobe-budget={budget} (about {share} calls) on all the probes it runs; they need up to "
            f"{total}, so the probes that land on one worker may run out there "
            f"(--ragprobe-budget={total * workers} covers any split)"
        )
    room = share - total
    retries = max((p.retries for p in plans), default=0)
    if room >= 0 and retries and room < total * retries:
        # the plan fits, but each retry takes a call from the budget: say how many retries it can pay for
        whose = (
            f"each xdist worker's share of --ragprobe-budget={budget} (about {share} calls)"
            if workers > 1
            else f"--ragprobe-budget={budget}"
        )
        lines.append(
            f"ragprobe plan: {whose} covers the {total} planned calls with {room} to spare for retries, "
            "which count against it too; a probe that runs out ends INCONCLUSIVE"
        )
    return lines
