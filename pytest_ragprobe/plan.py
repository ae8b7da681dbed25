"""What a run will cost, before it runs: pipeline calls per probe, from the marks and the data alone.

Printed after collection (``pytest --collect-only`` shows it without calling anything), so a team can see
the bill, and whether ``--ragprobe-budget`` covers it, before the first request. The counts are upper
bounds: answers already in the cache are free, and sequential stopping may end a probe at an early look
(the lower figure). Retries are not in them (nobody knows them in advance) but take from the budget; the
``index()`` call of ``synthetic:N`` facts is in them but not budgeted (it is not an engine call).

Cached answers: which calls a run will find in the answer cache depends on each pipeline's identity (its
name, version, code and configuration: ``cache`` docstring), which is unknown before the pipelines are
built by their fixtures. So each probe that runs to the end with the cache on records what it asked
(``cache.write_plan_record``: the keys of its calls, those sequential stopping reached, and
:func:`probe_digest` of the settings and data that fix them: the mark's arguments, seed, sample size,
confidence, sequential, the sampled questions and, for position probes, every document the contexts
may borrow). The plan computes that digest again from the marks and the data (sampling as the probe
does) and, where a probe's record has the same one, counts how many of the recorded calls have an
answer in the cache now (each entry read and checked as the engine reads it, so a truncated or
corrupt one, which the run calls again, is not counted): "80 of them are in the answer cache from the last
run, so none if the pipelines are unchanged". Conditional because a pipeline whose identity changed
(a new ``version``, edited code or configuration) asks under other keys: the plan cannot know. A probe
without a matching record (never run with the cache, other settings, edited data, a run cut short by
the budget or an error) is not counted as cached; ``--ragprobe-no-cache`` neither records nor counts.
With ``--ragprobe-budget`` smaller than the plan, the budget lines then say what it covers of the
calls not cached as well as of the whole plan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    digest: str = ""  # probe_digest: what fixes the calls ("" when the data could not be read)
    data_digest: str = ""  # the part of it that is not in the probe's settings (see probe_digest)
    # The probe's last run (cache.plan_record, same digest): the calls it asked, and how many of them
    # have an answer in the cache now (None: no such record, or the cache is off)
    recorded: int = 0
    cached: int | None = None

    @property
    def all_cached(self) -> bool:
        """Every call the last run asked is cached: an unchanged pipeline gets the same answers, so the
        probe asks the same calls (sequential: stops at the same look) and makes none but ``extra``."""
        return self.cached is not None and self.recorded > 0 and self.cached == self.recorded

    @property
    def uncached_max(self) -> int:
        """The most calls the probe makes if its pipeline is unchanged (calls_max without a record)."""
        if self.all_cached:
            return self.extra
        return self.calls_max - (self.cached or 0)

    @property
    def uncached_budgeted(self) -> int:
        return self.uncached_max - self.extra

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
    nodeid: str,
    spec: ProbeSpec,
    settings: RunSettings,
    base_dirs: Sequence[Path],
    *,
    lookup: bool = True,
    scope: str = "",
) -> ProbePlan:
    """The plan of one marked test; reading its data is the only I/O (no pipeline call), and, with the
    answer cache on and ``lookup``, its plan record and each answer file that record names."""
    from pytest_ragprobe.facts import distinct_questions, resolve_pairs, sample
    from pytest_ragprobe.position_probe import distinct_examples, examples_digest, load_examples
    from pytest_ragprobe.reverse_probe import ask_order_digest, sample_digest, synthetic_pairs
    from pytest_ragprobe.scoring import matcher_code

    seed = spec.seed if spec.seed is not None else settings.seed
    try:
        if isinstance(spec, ReverseSpec):
            pairs = resolve_pairs(spec.facts, seed=seed, base_dirs=base_dirs)
            pool: list[Any] = distinct_questions(pairs, seed)  # what run_reverse samples from
            per_item = 2  # forward and reverse question
            synthetic = isinstance(spec.facts, str) and spec.facts.startswith("synthetic:")
            synthetic = synthetic or bool(synthetic_pairs(pairs))  # ragprobe_fact_pairs' synthetic ones
            extra = 1 if synthetic else 0  # one index() call with the fictitious documents
            data = ""  # a reverse call is its question (synthetic:N: and spec.facts); its ask order: below
        else:
            assert isinstance(spec, PositionSpec)
            source = spec.data if spec.data is not None else spec.facts
            if source is None:
                raise ValueError("@ragprobe.position needs data=... or facts=...")
            examples, documents = load_examples(
                source, seed=seed, base_dirs=base_dirs, facts=spec.data is None
            )
            pool = distinct_examples(examples, seed)
            positions = spec.positions or default_positions(spec.n_docs)
            # one generate() per position; plus one retrieve() per question for hard negatives
            per_item = len(positions) + (1 if spec.distractors == "retriever" else 0)
            extra = 0
            # contexts borrow distractors from every example's documents: the sample's digest is not enough
            data = _documents_digest(documents.documents) if settings.cache_dir is not None else ""
    except Exception as exc:  # any data problem is the run's to report (as the probe's error)
        return ProbePlan(nodeid, spec.kind, error=str(exc).splitlines()[0][:200])
    n = sample_size(spec, len(pool), settings)
    confidence = spec.confidence if spec.confidence is not None else settings.confidence
    design, _ = looks(spec, n, confidence, settings)
    first_look = None if design is None else design.sizes[0]
    digest = ""
    if settings.cache_dir is not None:  # (without the cache nothing is recorded nor counted)
        try:  # the settings the probe will record (reverse_probe / position_probe: settings_dict, so sampled)
            chosen = sample(pool, n, seed, spec.kind)
            if chosen:
                sampled = sample_digest(chosen) if isinstance(spec, ReverseSpec) else examples_digest(chosen)
                if isinstance(spec, ReverseSpec):  # the ask order, which sample_digest leaves out: it decides
                    data = ask_order_digest(chosen)  # where a sequential probe stops (a reordered facts file)
                probed = _probed(spec, confidence, seed, n, sampled, settings)
                digest = probe_digest(spec.kind, probed, data, code=matcher_code(spec.match))
        except Exception:  # (nothing the plan needs: the probe then simply has no cached count)
            digest = ""
    found = None
    if lookup and digest and settings.cache_dir is not None:
        from pytest_ragprobe.cache import plan_record

        found = plan_record(settings.cache_dir, nodeid, digest, scope=scope)  # (scope: the rootdir)
    return ProbePlan(
        nodeid,
        spec.kind,
        n,
        per_item,
        extra,
        first_look,
        retries=settings.engine.retries,
        digest=digest,
        data_digest=data,
        recorded=found.calls if found is not None else 0,
        cached=found.cached if found is not None else None,
    )


def _probed(
    spec: ProbeSpec, confidence: float, seed: int, n: int, sampled: str, settings: RunSettings
) -> dict[str, Any]:
    """The settings a probe's result records (``ProbeResult.settings``), as run_reverse / run_position make
    them and ``ProbeContext.result`` completes them."""
    from pytest_ragprobe.reverse_probe import settings_dict

    probed = settings_dict(spec, confidence, seed, n_planned=n, sample_digest=sampled)
    if probed.get("sequential") is None:
        probed["sequential"] = settings.sequential
    return probed


def _documents_digest(documents: Sequence[Any]) -> str:
    """Of every document a position probe's contexts may hold, as its calls' keys see them."""
    h = hashlib.sha256()
    for start in range(0, len(documents), 1000):  # (one encoder pass per chunk: a fraction of per document)
        chunk = [[d.title, d.text, d.id, dict(d.metadata)] for d in documents[start : start + 1000]]
        h.update(json.dumps(chunk, default=repr, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:32]


def probe_digest(kind: str, probed: Mapping[str, Any], data: str = "", *, code: str = "") -> str:
    """What fixes a probe's calls: its kind, the settings its result records (``probed``: the mark's
    arguments, seed, confidence, sequential, sample size and the sampled questions' digest; the ones that
    only change a verdict are in too: they may change where sequential stopping ends), ``data`` (a
    position probe's documents), ``code`` (a ``match=`` callable's :func:`~scoring.matcher_code`: the
    settings hold only its name) and this plugin's version (which builds the calls). Two runs of a probe
    with the same digest ask the same calls of a pipeline that answers the same."""
    from pytest_ragprobe import __version__

    fixed: list[Any] = [__version__, kind, dict(probed), data]
    text = json.dumps([*fixed, code] if code else fixed, sort_keys=True, default=repr, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def run_digest(plan: ProbePlan, probed: Mapping[str, Any], *, code: str = "") -> str:
    """The digest of a probe that ran with the settings ``probed`` (its ``ProbeResult.settings``), on the
    data ``plan`` read; equal to ``plan.digest`` when the run sampled what the plan did ("" when not, or
    when the plan could not read the data)."""
    if not plan.digest:
        return ""
    digest = probe_digest(plan.kind, probed, plan.data_digest, code=code)
    return digest if digest == plan.digest else ""


def summary_lines(
    plans: Sequence[ProbePlan], budget: int | None, *, verbose: bool, workers: int = 1, cache: bool = True
) -> list[str]:
    """Terminal lines: one total (always), whether ``budget`` covers it (when set), one per probe when
    ``verbose``. ``workers`` > 1: pytest-xdist workers that each spend their own share of the budget (those
    that cannot reach the controller's pool; workers sharing it plan as one process). ``cache``: False under
    --ragprobe-no-cache, where no answer is free (nothing is read from the cache)."""
    if not plans:
        return []
    total_max = sum(p.calls_max for p in plans)
    total_min = sum(p.calls_min for p in plans)
    # "up to 309-337" read oddly: the most, then the fewest if sequential probes stop at their first look
    early = f"; {total_min} if sequential probes stop at their first look" if total_min != total_max else ""
    errors = sum(1 for p in plans if p.error)
    cached = sum(p.cached or 0 for p in plans)
    free = ""
    if cached:  # the calls the probes' last runs asked that are cached now (see the module docstring)
        uncached = sum(p.uncached_max for p in plans)
        exact = all(p.all_cached for p in plans)  # else some probes are counted at their most
        rest = "none" if uncached == 0 else f"{uncached}" if exact else f"up to {uncached}"
        free = (
            f": {cached} of them {'are' if cached != 1 else 'is'} in the answer cache from the last run, "
            f"so {rest} if the pipelines are unchanged"
        )
    if cache:
        notes = f"cached answers are free{free}{early}"
    else:  # (and the last run's cached answers are not counted: this run will not read them)
        early = early.removeprefix("; ")
        notes = f"{early}; answer cache off" if early else "answer cache off"
    head = (
        f"ragprobe plan: {len(plans)} probe{'s' if len(plans) != 1 else ''}, "
        f"up to {total_max} pipeline calls ({notes})"
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
            # one bracket: "(sequential: ...) (20 cached)" side by side read as two afterthoughts
            extras = ["sequential: may stop at the first look"] if p.first_look is not None else []
            extras += [f"{p.cached} cached"] if p.cached else []
            said = f" ({'; '.join(extras)})" if extras else ""
            lines.append(f"  {p.nodeid} [{p.kind}] {calls} calls = {how}{said}")
    return lines


def _budget_lines(plans: Sequence[ProbePlan], budget: int, workers: int) -> list[str]:
    """Whether --ragprobe-budget covers the plan: the run-wide total, each xdist worker's share when they
    spend shares (they cannot borrow from each other then, and which probes a worker gets is xdist's
    choice), and the room left for retries, which take from the budget too."""
    lines: list[str] = []
    total = sum(p.budgeted_max for p in plans)
    unbudgeted = sum(p.extra for p in plans)
    # the budgeted calls not in the answer cache if the pipelines are unchanged (== total: not known)
    need = sum(p.uncached_budgeted for p in plans)
    index = f"the {unbudgeted} index call{'s' if unbudgeted != 1 else ''} of synthetic facts"
    out = "probes that run out end INCONCLUSIVE (a FAIL already shown stays)"
    if all(p.all_cached for p in plans):
        # every call of the last runs is cached: an unchanged pipeline spends nothing, a changed one all
        if total > budget:
            recorded = sum(p.recorded for p in plans)
            lines.append(
                f"ragprobe plan: --ragprobe-budget={budget} covers the calls not in the answer cache "
                f"(none if the pipelines are unchanged: the {recorded} call{'s' if recorded != 1 else ''} "
                "the probes asked last run are all cached"
                + (f"; {index} {'are' if unbudgeted != 1 else 'is'} not budgeted" if unbudgeted else "")
                + f"); a changed pipeline asks anew (up to {total} {'budgeted ' if unbudgeted else ''}"
                f"calls), and then {out}"
            )
        return lines  # (the shares and retries below are of calls an unchanged pipeline does not make)
    if total > budget:
        what = "budgeted calls" if unbudgeted else "calls"
        # "covers 40 of up to 41" flagged a run whose 40 answer calls all fit: the index calls are apart
        apart = f" (not {index})" if unbudgeted else ""
        if need == total:
            lines.append(
                f"ragprobe plan: --ragprobe-budget={budget} covers {budget} of up to {total} {what}{apart}; "
                f"{out}"
            )
        elif need <= budget:
            lines.append(
                f"ragprobe plan: --ragprobe-budget={budget} covers the up to {need} {what} not in the answer "
                f"cache if the pipelines are unchanged, but only {budget} of up to {total}{apart} if they "
                f"changed; {out}"
            )
        else:
            lines.append(
                f"ragprobe plan: --ragprobe-budget={budget} covers {budget} of up to {total} {what}{apart} "
                f"({budget} of the up to {need} not in the answer cache if the pipelines are unchanged); "
                f"{out}"
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
