"""Run-wide state: running a marked test's probe, collecting results, writing reports, the summary section.

Only the controller (or a run without xdist) writes files and prints; workers ship each result on its
TestReport, which xdist serialises to the controller.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ragprobe import _config, _xdist
from pytest_ragprobe._active import ActiveRun
from pytest_ragprobe.markers import ProbeSpec, ReverseSpec
from pytest_ragprobe.types import redact

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pytest_ragprobe.baseline import Baseline, BaselineComparison
    from pytest_ragprobe.plan import ProbePlan
    from pytest_ragprobe.results import ProbeResult, Report
    from pytest_ragprobe.runner import ProbeContext, RunSettings

REPORT_ATTR = "ragprobe"
# report.html / report.md are rewritten at most this often during a run
RENDER_EVERY_S = 5.0
# report.json is rewritten after a probe unless its last rewrite was too recent: each rewrite holds every
# probe so far, so rewriting it after every probe of a fast run (a warm cache, an in-process pipeline) wrote
# a total that grows as the square of the run (300 probes: 858 MB for a 5.7 MB file, 45% of the run). The
# rewrites take at most about this share of the run's time; a result they skip is written by a timer at most
# JSON_MAX_WAIT_S after it finished, so a run killed in a long probe that follows still leaves it in the file.
JSON_WRITE_SHARE = 0.1
JSON_MAX_WAIT_S = 1.0
_now = time.monotonic  # (the clock of both: a test can replace it)
SPEC_KEY = pytest.StashKey[ProbeSpec]()
RESULT_KEY = pytest.StashKey["ProbeResult"]()
# Set when the plugin itself failed the test (FAIL verdict, baseline regression, strict INCONCLUSIVE).
OWN_FAILURE_KEY = pytest.StashKey[bool]()
#: The failure a probe's setup raised (an ERROR): raised again if the setup runs again (a rerun).
_SETUP_FAILURE_KEY = pytest.StashKey[str]()
#: The probe's cost plan, made after collection (its digest is what the probe's plan record is made with).
_PLAN_KEY = pytest.StashKey["ProbePlan"]()


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def base_dirs(item: pytest.Item | pytest.Collector) -> list[Path]:
    """Where relative data paths are looked up: beside the test file, the rootdir, the invocation dir."""
    dirs = [Path(item.path).parent] if getattr(item, "path", None) else []
    dirs += [Path(item.config.rootpath), Path(item.config.invocation_params.dir)]
    return list(dict.fromkeys(dirs))


def run_settings(cfg: _config.RagprobeConfig) -> RunSettings:
    from pytest_ragprobe.engine import EngineSettings
    from pytest_ragprobe.runner import RunSettings

    return RunSettings(
        confidence=cfg.confidence,
        seed=cfg.seed,
        samples=cfg.samples,
        samples_by=cfg.samples_by,
        sequential=cfg.sequential,
        max_error_rate=cfg.max_error_rate,
        engine=EngineSettings(concurrency=cfg.concurrency, timeout=cfg.timeout, retries=cfg.retries),
        cache_dir=cfg.cache_dir,
        tables_dir=cfg.tables_dir,
    )


XPASS_STRICT_PREFIX = "[XPASS(strict)] "  # pytest's longrepr of a strict xfail test that passed


def xfail_fields(report: pytest.TestReport) -> dict[str, Any]:
    """The ProbeResult fields that say what pytest's xfail made of the test (empty when not xfail-marked).

    Read from the finished report only (``wasxfail``, outcome, longrepr), so it works the same on the
    controller under xdist, where the report was rebuilt from the worker's.
    """
    if hasattr(report, "wasxfail"):
        reason = str(report.wasxfail or "")
        if report.skipped:  # xfailed: the test failed (or errored) as the mark expected
            return {"expected_failure": True, "xfail_reason": reason}
        if report.passed:  # XPASS under a non-strict mark: pytest reports it and passes
            return {"unexpected_pass": True, "xfail_reason": reason}
        return {}
    longrepr = report.longrepr
    if report.failed and isinstance(longrepr, str) and longrepr.startswith(XPASS_STRICT_PREFIX):
        reason = longrepr[len(XPASS_STRICT_PREFIX) :]
        return {"unexpected_pass": True, "xpass_strict": True, "xfail_reason": reason}
    return {}


def user_properties(result: ProbeResult) -> list[tuple[str, object]]:
    """The probe's headline figures as (name, value) pairs for the test report's ``user_properties``."""
    props: list[tuple[str, object]] = [
        ("ragprobe_kind", result.kind),
        ("ragprobe_verdict", result.verdict),
        ("ragprobe_n", result.n),
        ("ragprobe_calls", result.calls),
    ]
    drop, ci = result.metrics.get("drop"), result.metrics.get("drop_ci")
    if drop is not None:
        props.append(("ragprobe_drop", round(float(drop), 4)))
    if isinstance(ci, (list, tuple)) and len(ci) == 2:
        props.append(("ragprobe_drop_ci", f"[{float(ci[0]):.4f}, {float(ci[1]):.4f}]"))
    if "max_drop" in result.metrics:
        props.append(("ragprobe_max_drop", result.metrics["max_drop"]))
    if result.baseline:  # --ragprobe-baseline: a regression fails the test whatever the verdict says
        props.append(("ragprobe_baseline", result.baseline))
        if result.baseline_message:
            props.append(("ragprobe_baseline_message", result.baseline_message))
    return props


def record_test_outcome(
    item: pytest.Item, result: ProbeResult, report: pytest.TestReport, excinfo: Any
) -> bool:
    """Record on ``result`` what pytest made of the test after its probe when the probe does not explain it:
    the body (or its teardown) failed, or it skipped itself. True when it recorded something, so the
    report can be shipped again. The reports then gate as pytest did (``ProbeResult.outcome``)."""
    if hasattr(report, "wasxfail") or xfail_fields(report) or OWN_FAILURE_KEY in item.stash:
        return False
    if report.skipped and report.when == "call":
        longrepr = report.longrepr
        why = longrepr[2] if isinstance(longrepr, tuple) else ""
        result.test_outcome, result.test_message = "skipped", str(why).removeprefix("Skipped: ")
        return True
    if report.failed and result.test_outcome != "failed":  # also after a skip: its teardown still failed
        text = excinfo.exconly().strip().splitlines()[0] if excinfo is not None else ""
        where = {"setup": "in setup: ", "teardown": "in teardown: "}.get(report.when, "")
        result.test_outcome, result.test_message = "failed", (where + text)[:300]
        return True
    return False


def _error_result(item: pytest.Item, spec: ProbeSpec, reason: str, ctx: ProbeContext | None) -> ProbeResult:
    """The result of a probe that ended in an error, with the calls it made (when it got that far)."""
    from pytest_ragprobe.results import ProbeResult
    from pytest_ragprobe.reverse_probe import settings_dict

    # the mark's settings (data file, max_drop, ...), so the reports of an ERROR still say what it probes
    cfg = item.config.stash[_config.CONFIG_KEY]
    confidence = spec.confidence if spec.confidence is not None else cfg.confidence
    seed = spec.seed if spec.seed is not None else cfg.seed
    settings = settings_dict(spec, confidence, seed, n_planned=None)  # nothing was sampled
    if settings.get("sequential") is None:  # as ProbeContext.result records it: what the run set
        settings["sequential"] = cfg.sequential
    if ctx is not None:
        return ctx.result(kind=spec.kind, verdict="error", reason=reason, settings=settings)
    return ProbeResult(
        nodeid=item.nodeid, kind=spec.kind, verdict="error", reason=reason, settings=settings  # type: ignore[arg-type]
    )


def setup_error_result(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> ProbeResult:
    """An ERROR result for a probe whose test failed in setup before the probe ran (its pipeline fixture
    raised, no pipeline is configured, ...), with the cause as pytest showed it."""
    exc = excinfo.value
    if isinstance(exc, pytest.fail.Exception):  # our own setup failures already read as a sentence
        cause = str(exc.msg or "")
    else:
        cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    cause = redact(cause).strip()  # shown in every report: no key a fixture's error quotes
    if len(cause) > 500:
        cause = cause[:499] + "…"
    return _error_result(item, item.stash[SPEC_KEY], f"setup failed, the probe did not run: {cause}", None)


# Said under pytest's error for an async ragprobe_pipeline fixture that no plugin ran (no pytest-asyncio).
ASYNC_FIXTURE = (
    "pytest-ragprobe: return the pipeline from a sync fixture (def ragprobe_pipeline(): return Rag()): "
    "probes await its async methods on pytest-ragprobe's own event loop. Make its async clients "
    "(httpx.AsyncClient, aiohttp.ClientSession) in those methods, on first use: made in an async fixture "
    "(pytest-asyncio), they are bound to the test's event loop, where the probe cannot use them"
)


def run_probe_for_item(request: pytest.FixtureRequest) -> ProbeResult:
    """Run the probe of a marked test (once per test) and keep the result on the item."""
    from pytest_ragprobe.facts import FactsError, resolve_pairs
    from pytest_ragprobe.pipeline import PipelineConfigError, make_adapter
    from pytest_ragprobe.runner import ProbeContext, ProbeError, run_sync
    from pytest_ragprobe.scoring import MatchError
    from pytest_ragprobe.types import PipelineOutputError

    item = request.node
    assert isinstance(item, pytest.Item)
    if _SETUP_FAILURE_KEY in item.stash:  # a rerun (by a plugin we could not stop) stays an ERROR
        pytest.fail(item.stash[_SETUP_FAILURE_KEY], pytrace=False)
    if RESULT_KEY in item.stash:
        return item.stash[RESULT_KEY]
    spec = item.stash[SPEC_KEY]
    session = item.config.stash[SESSION_KEY]
    global _SETTING_UP_PIPELINE
    _SETTING_UP_PIPELINE += 1
    try:
        pipeline = request.getfixturevalue("ragprobe_pipeline")  # (a BaseException: see plugin.py)
    except pytest.fail.Exception as exc:
        said = str(exc.msg)
        if "requested an async fixture 'ragprobe_pipeline'" in said and ASYNC_FIXTURE not in said:
            exc.msg = f"{said}\n{ASYNC_FIXTURE}"  # pytest's own error, and what works for a probe
        raise
    finally:
        _SETTING_UP_PIPELINE -= 1
    refused: str | None = None
    try:
        converted = item.ihook.pytest_ragprobe_make_pipeline(config=item.config, pipeline=pipeline)
    except BaseException as exc:
        refused = base_exception_failure("the pytest_ragprobe_make_pipeline hook", exc)
        if refused is None:
            raise
    if refused is not None:  # (outside the except block: no chained-exception noise)
        pytest.fail(refused, pytrace=False)
    hooked = ""
    if converted is not None:
        hooked = f"the ragprobe_pipeline fixture's {type(pipeline).__name__}"
        pipeline = converted
    dirs = base_dirs(item)
    failure: str | None = None
    ctx: ProbeContext | None = None
    try:
        ctx = ProbeContext(
            adapter=make_adapter(pipeline, hooked=hooked),
            settings=session.settings,
            budget=session.budget,
            nodeid=item.nodeid,
            base_dirs=dirs,
            progress=session.progress_for(item),
        )
        if isinstance(spec, ReverseSpec):
            from pytest_ragprobe.reverse_probe import run_reverse

            pairs = resolve_pairs(spec.facts, seed=ctx.seed(spec), base_dirs=dirs)
            result = run_sync(lambda: run_reverse(ctx, spec, pairs))
        else:
            from pytest_ragprobe.position_probe import run_position_spec

            result = run_sync(lambda: run_position_spec(ctx, spec))
    except SystemExit as exc:  # the pipeline's sys.exit() (run_sync raises it out of the loop)
        failure = _pipeline_exited(item, spec, ctx, exc)
    except (FactsError, PipelineConfigError, ProbeError, PipelineOutputError, MatchError, ValueError) as exc:
        if _pipelines_own(exc):  # a ValueError the pipeline's index() raised: not one of ragprobe's inputs
            failure = _pipeline_raised(item, spec, ctx, exc)
        else:
            # MatchError: the mark's match= scorer failed on an answer (not the pipeline's fault)
            item.stash[RESULT_KEY] = _error_result(item, spec, redact(str(exc)), ctx)
            failure = redact(f"pytest-ragprobe: {exc}")
            raised = exc.traceback if isinstance(exc, ProbeError) else None
            if raised:  # the pipeline raised: where (the first call that failed this way)
                failure += f"\n\nThe first call that failed this way raised:\n{redact(raised)}"
    except (KeyboardInterrupt, pytest.exit.Exception, pytest.skip.Exception, pytest.xfail.Exception):
        # the run is interrupted (its report says so: partial), or an outcome pytest records itself
        # (pytest.exit raises Exit, an Exception: it was "the pipeline raised Exit", and the run went on)
        raise
    except Exception as exc:
        failure = _pipeline_raised(item, spec, ctx, exc)
    except BaseException as exc:
        # Not let out of the test's setup unless pytest's own (its fixture state broke: every later test
        # errored with an AssertionError in pytest's fixtures.py), as pytest fails a test that raises one.
        if (origin := _raised_by_pipeline(exc)) is not None:  # its index() raised GeneratorExit, ...
            failure = _pipeline_raised(item, spec, ctx, origin)
        else:
            # Stopped from outside while it ran: pytest-timeout's signal method raises pytest.fail from a
            # SIGALRM handler. Was recorded as "setup failed, the probe did not run (0 calls)" after it had
            # made them.
            reason = redact(_stopped_reason(item, exc, ctx))
            item.stash[RESULT_KEY] = _error_result(item, spec, reason, ctx)
            failure = f"pytest-ragprobe: {reason}"
            if isinstance(exc, pytest.fail.Exception):  # said under pytest's own message (its exception kept)
                item.stash[_SETUP_FAILURE_KEY] = failure
                exc.msg = f"{exc.msg}\n{failure}"
                raise
    if failure is not None:  # raised outside the except blocks: no chained-exception noise
        item.stash[_SETUP_FAILURE_KEY] = failure
        pytest.fail(failure, pytrace=False)
    item.stash[RESULT_KEY] = result
    if ctx is not None:
        _record_plan(item, spec, ctx, result, dirs)
    return result


# >0 while a probe requests the ragprobe_pipeline fixture, so also sets up the fixtures it depends on (the
# plugin's pytest_fixture_setup wrapper fails any of them that raises a BaseException: base_exception_failure)
_SETTING_UP_PIPELINE = 0


def setting_up_pipeline() -> bool:
    return _SETTING_UP_PIPELINE > 0


def base_exception_failure(what: str, exc: BaseException) -> str | None:
    """The test's failure for ``exc`` raised by ``what`` (user code the probe's fixture runs: the
    ragprobe_pipeline fixture and those it uses, a pytest_ragprobe_make_pipeline hook) when it is
    sys.exit() or a custom BaseException: let out of the fixtures the probe requests (getfixturevalue, from
    an autouse fixture), it broke pytest's fixture state, and every later test errored with an
    AssertionError in pytest, where a fixture a test names fails that test alone. None for an Exception,
    Ctrl-C and pytest's outcomes (skip, xfail, fail), which go on as they are."""
    from pytest_ragprobe.engine import _raised_at

    if isinstance(exc, (Exception, KeyboardInterrupt, pytest.fail.Exception, pytest.skip.Exception)):
        return None  # (pytest.xfail's is a pytest.fail.Exception)
    said = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    at = _raised_at(exc)
    return redact(f"pytest-ragprobe: {what} raised {said}" + (f" (at {at})" if at else ""))


def _pipelines_own(exc: BaseException) -> bool:
    """A plain ValueError (none of ragprobe's own input errors) raised through the pipeline's own code."""
    from pytest_ragprobe.engine import _frames, _own_code

    return type(exc).__module__.split(".")[0] != "pytest_ragprobe" and any(
        _own_code(f.f_code.co_filename) for f, _ in _frames(exc)
    )


def _raised_by_pipeline(exc: BaseException) -> BaseException | None:
    """The BaseException (not an Exception, nor pytest's) the pipeline's own code raised that ``exc`` is: a
    custom BaseException subclass or a GeneratorExit its index() raised (engine.pipelines_base_exception), or
    a CancelledError (the probe's task then ends cancelled, and asyncio raises a new CancelledError, the
    pipeline's as its context). None for one raised into the run from outside (a signal handler's)."""
    import asyncio

    from pytest_ragprobe.engine import _raised_at, pipelines_base_exception

    if isinstance(exc, asyncio.CancelledError):
        inner = exc.__context__ if isinstance(exc.__context__, asyncio.CancelledError) else exc
        return inner if _raised_at(inner) is not None else None
    return exc if pipelines_base_exception(exc) else None


def _pipeline_raised(item: pytest.Item, spec: ProbeSpec, ctx: ProbeContext | None, exc: BaseException) -> str:
    """The test's failure (and its error result, stashed) for an exception the probe did not retry: the
    pipeline's bug (not a transient failure), or ragprobe's own. (Redacted: the terminal, the reports and
    JUnit XML must not quote a key.)"""
    from pytest_ragprobe.engine import _format_traceback, raised_inside_ragprobe

    if raised_inside_ragprobe(exc):
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-8))
        reason = f"internal error in pytest-ragprobe: {type(exc).__name__}: {exc}"
        why = "A bug in pytest-ragprobe, not in the pipeline: please report it with this traceback.\n"
    else:
        # from the pipeline's own frame (the engine's and the thread pool's before it say nothing)
        tb = _format_traceback(exc) or "".join(
            traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-4)
        )
        from pytest_ragprobe.render import clip

        question = ctx.fatal_question if ctx is not None else None
        on = f" on {clip(question)}" if question is not None else ""
        said = f": {exc}" if str(exc) else ""  # (a bare `raise NotImplementedError` says nothing)
        reason, why = f"the pipeline raised {type(exc).__name__}{on}{said}", ""
        # Notes (the hint for a reader written for dicts, pipeline.py) go in the reason, which the
        # reports keep (the traceback they end goes only to pytest's ERROR): said once, up top.
        notes = [n for n in getattr(exc, "__notes__", ()) if isinstance(n, str)]
        if notes:
            reason += "".join(f"; {n}" for n in notes)
            tb = tb.removesuffix("".join(f"{n}\n" for n in notes))
    tb, reason = redact(tb), redact(reason)
    item.stash[RESULT_KEY] = _error_result(item, spec, reason, ctx)
    return f"pytest-ragprobe: {reason}\n{why}{tb}"


def _pipeline_exited(item: pytest.Item, spec: ProbeSpec, ctx: ProbeContext | None, exit: SystemExit) -> str:
    """The test's failure (and its error result, stashed) for a SystemExit the pipeline raised: this probe's
    error, as pytest has a SystemExit raised in a test (a failure; the session goes on: only Ctrl-C and
    pytest.exit stop it), said as the call it made and where."""
    from pytest_ragprobe.engine import _format_traceback, _raised_at
    from pytest_ragprobe.render import clip

    code = "" if exit.code is None else clip(exit.code) if isinstance(exit.code, str) else repr(exit.code)
    at = _raised_at(exit)
    who = "the pipeline called" if at is not None else "something called"
    where = f" at {at}" if at is not None else " while the probe ran"
    question = ctx.fatal_question if ctx is not None else None
    on = f" on {clip(question)}" if question is not None else ""
    reason = redact(
        f"{who} sys.exit({code}){where}{on}: pytest-ragprobe takes it as this probe's error, as pytest takes "
        "a SystemExit raised in a test (the other tests still run)"
    )
    tb = _format_traceback(exit) or "".join(traceback.format_exception(type(exit), exit, exit.__traceback__))
    item.stash[RESULT_KEY] = _error_result(item, spec, reason, ctx)
    return f"pytest-ragprobe: {reason}\n{redact(tb)}"


def _stopped_reason(item: pytest.Item, exc: BaseException, ctx: ProbeContext | None) -> str:
    """Why a probe stopped by an exception raised into its run from outside (a signal handler's)."""
    what = (exc.msg or "") if isinstance(exc, pytest.fail.Exception) else str(exc)
    what = what.strip().splitlines()[0].rstrip(".") if what.strip() else type(exc).__name__
    made = f", after {ctx.calls} pipeline calls ({ctx.elapsed():.1f} s)" if ctx is not None else ""
    reason = f"stopped while it ran{made}: {what}"
    if "timeout" in what.lower() or item.get_closest_marker("timeout") is not None:
        reason += (
            "; a probe runs in its test's setup, so a per-test timeout (pytest-timeout's --timeout or ini "
            "timeout) counts every pipeline call of the probe: give probe tests a longer one, e.g. "
            "@pytest.mark.timeout(600) (--ragprobe-timeout bounds each pipeline call)"
        )
    return reason


def _record_plan(
    item: pytest.Item, spec: ProbeSpec, ctx: ProbeContext, result: ProbeResult, dirs: list[Path]
) -> None:
    """Record in the answer cache what the probe asked (cache.write_plan_record), for the cost plan of the
    next run to count the cached calls: only with the cache on, and only for a probe that ran to the end
    (the budget cut none of its calls) with the settings and data its plan read. Never raises."""
    root = ctx.settings.cache_dir
    if root is None or ctx.budget_hit or not ctx.asked or result.verdict == "error":
        return
    try:
        from pytest_ragprobe.cache import write_plan_record
        from pytest_ragprobe.plan import plan_probe, run_digest
        from pytest_ragprobe.scoring import matcher_code

        code = matcher_code(spec.match)  # (the settings name a match= callable; a changed body moves stops)
        # its settings, and what the plan read of the data: a position probe's documents, a reverse probe's
        # ask order (its settings' sample digest is order-free: a reordered facts file stops elsewhere)
        plan: ProbePlan | None = item.stash.get(_PLAN_KEY, None)
        if plan is None:  # an xdist worker that made no plan (only gw0 makes one)
            plan = plan_probe(item.nodeid, spec, ctx.settings, dirs, lookup=False)
        digest = run_digest(plan, result.settings, code=code)  # "": it sampled other data than planned
        if digest:
            scope = str(item.config.rootpath)  # (test ids are relative to it: a shared cache dir)
            write_plan_record(root, item.nodeid, digest, bytes(ctx.asked_keys), ctx.asked, scope=scope)
    except Exception:  # (the record only improves the next plan: never fail a probe for it)
        pass


def warm_up(session: pytest.Session) -> None:
    """Import what the probes and the report files need once probes are collected (~1 s: scipy,
    jinja2), instead of in the middle of the first probe or the first report write: a Ctrl-C that
    lands inside a third-party import can be swallowed by it, or leave frames without a line
    number that pytest cannot format (CPython 3.11)."""
    if session.config.option.collectonly or not any(SPEC_KEY in i.stash for i in session.items):
        return
    import importlib

    for module in ("stats", "runner", "reverse_probe", "position_probe"):
        importlib.import_module(f"pytest_ragprobe.{module}")
    cfg = session.config.stash.get(_config.CONFIG_KEY, None)
    if cfg is not None and cfg.report_dir is not None and not is_worker(session.config):
        from pytest_ragprobe.html import environment

        environment().get_template("report.html.j2")


def _runs_tests(config: pytest.Config) -> bool:
    """False for pytest invocations that only look (collect, list fixtures, plan set-up)."""
    option = config.option
    looks = ("collectonly", "showfixtures", "show_fixtures_per_test", "setupplan", "setuponly")
    return not any(getattr(option, name, False) for name in looks)


def write_worker_plan(session: pytest.Session) -> None:
    """An xdist worker's cost plan (pytest_collection_finish): nobody sees a worker's output, so it
    writes the plan to the file the controller named (:func:`_xdist.plan_file`, gw0 only); the
    controller, which collects nothing itself, prints it when that worker has collected."""
    config = session.config
    target = _xdist.plan_file(config)
    probes = _probes(session)
    deselected = config.stash[SESSION_KEY].deselected
    if target is not None and (probes or deselected):  # (collection errors or not: xdist runs what collected)
        lines = _plan_lines(config, probes) if probes else []
        _xdist.write_plan(target, lines, len(probes), deselected, [i.nodeid for i in probes])


def _collection_failed(session: pytest.Session) -> bool:
    """A test file did not collect (a syntax error, a bad mark) and pytest stops before any test: no cost
    plan then. It promised calls that never happen, printed between "collected 2 items / 1 error" and
    pytest's own error, which a newcomer should read first (--continue-on-collection-errors runs the rest:
    planned as usual; so does pytest-xdist, whose workers' plan is written regardless)."""
    return bool(session.testsfailed) and not session.config.option.continue_on_collection_errors


def _probes(session: pytest.Session) -> list[pytest.Item]:
    """The collected probe tests that will run (for the cost plan and the interrupted-run count)."""
    if _config.CONFIG_KEY not in session.config.stash:
        return []
    return [i for i in session.items if SPEC_KEY in i.stash and not _skipped_by_mark(i)]


def _skipped_by_mark(item: pytest.Item) -> bool:
    """A ``skip`` mark, an ``xfail(run=False)`` (not run either: --runxfail runs it), or a ``skipif`` /
    ``xfail(run=False)`` whose conditions are plain booleans and one is true (string conditions are
    pytest's to evaluate: such a probe stays counted)."""
    if item.get_closest_marker("skip") is not None:
        return True
    marks = [*item.iter_markers("skipif")]
    if not item.config.option.runxfail:
        marks += [m for m in item.iter_markers("xfail") if m.kwargs.get("run", True) is False]
    for mark in marks:
        conditions = mark.args or (mark.kwargs.get("condition", True),)
        if all(isinstance(c, bool) for c in conditions) and any(conditions):
            return True
    return False


def _plan_lines(config: pytest.Config, probes: list[pytest.Item]) -> list[str]:
    from pytest_ragprobe.plan import plan_probe, summary_lines

    settings = config.stash[SESSION_KEY].settings
    scope = str(config.rootpath)
    plans = [plan_probe(i.nodeid, i.stash[SPEC_KEY], settings, base_dirs(i), scope=scope) for i in probes]
    for item, plan in zip(probes, plans, strict=True):  # (its digest is what the probe records)
        item.stash[_PLAN_KEY] = plan
    verbose = bool(config.option.collectonly) or config.get_verbosity() > 0  # (0 under -p no:terminal)
    from pytest_ragprobe._xdist import pooled

    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    if pooled(config.stash[SESSION_KEY].budget):
        workers = 1  # workers that take from one pool spend the budget as one process does
    cfg = config.stash[_config.CONFIG_KEY]
    return summary_lines(plans, cfg.budget, verbose=verbose, workers=workers, cache=cfg.cache_dir is not None)


def _unwritable_dir(directory: Path) -> str | None:
    """Why no file can be written in ``directory`` (made if missing), or None when one can: a temporary file
    is created there and removed, as the write at the end (an atomic replace in the same directory) needs."""
    import tempfile

    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".ragprobe-", suffix=".tmp"):
            pass
    except OSError as exc:
        return str(exc)
    return None


def _same_file(compared: Path, target: Path) -> bool:
    """True when --ragprobe-save-baseline names the file --ragprobe-baseline read (a directory stands for
    the report.json in it)."""
    from pytest_ragprobe.baseline import report_file

    try:
        return report_file(compared).resolve() == report_file(target).resolve()
    except OSError:
        return False


def _empty(path: Path) -> bool:
    """True for a file with nothing but white space in it (False when it cannot be read)."""
    try:
        return not path.read_bytes().strip()
    except OSError:
        return False


def _names(nodeids: list[str], limit: int = 5) -> str:
    more = f" and {len(nodeids) - limit} more" if len(nodeids) > limit else ""
    return ", ".join(nodeids[:limit]) + more


def _not_compared_names(probes: list[ProbeResult], limit: int = 5) -> str:
    """ "t.py::test_a (probe settings changed: n: 30 -> 40), t.py::test_b (an ERROR in this run)": the
    probes in the baseline that were not compared with it, and why, for the terminal's baseline line."""

    def why(p: ProbeResult) -> str:
        if p.baseline == "changed" and p.baseline_message:
            text = p.baseline_message.removeprefix("ragprobe ").removeprefix("baseline not compared")
            text = text.lstrip(":, ")
            # (the longest, an n_planned change blamed on --ragprobe-samples, is ~150 characters: whole)
            return text if len(text) <= 200 else text[:199] + "…"
        return "an ERROR in this run" if p.verdict == "error" else ""

    named = [f"{p.nodeid} ({why(p)})" if why(p) else p.nodeid for p in probes[:limit]]
    more = f" and {len(probes) - limit} more" if len(probes) > limit else ""
    return ", ".join(named) + more


class RagprobeSession:
    """Per-process plugin object: settings, budget, baseline, collected results and report files."""

    def __init__(self, config: pytest.Config) -> None:
        from pytest_ragprobe._xdist import worker_budget

        self.config = config
        self.cfg = config.stash[_config.CONFIG_KEY]
        self.settings = run_settings(self.cfg)
        self.budget = worker_budget(config, self.cfg.budget)
        self.active = ActiveRun(  # for check_* in tests
            self.settings,
            self.cfg.strict,
            self.budget,
            lambda p: config.hook.pytest_ragprobe_make_pipeline(config=config, pipeline=p),
            self.cfg.strict_by,
        )
        self.results: dict[str, dict[str, Any]] = {}
        self.report_path: Path | None = None
        self._write_cause = ""  # the OSError of the last report write that failed
        self._baseline: dict[str, dict[str, Any]] | None = None
        self._baseline_file: Baseline | None = None
        if self.cfg.baseline is not None:  # read up front: a bad file is a usage error, not N test errors
            from pytest_ragprobe.baseline import BaselineError, read_baseline

            try:
                self._baseline_file = read_baseline(self.cfg.baseline)
            except BaselineError as exc:
                raise pytest.UsageError(self._missing_baseline() or str(exc)) from None
            self._baseline = self._baseline_file.probes
        self._cli_pipeline: tuple[object] | str | None = None  # (pipeline,) or the load error
        self.write_errors: list[str] = []
        # A report or baseline file asked for was not written: the run fails (a CI job that saves the
        # baseline went green and left none behind).
        self.report_error = ""
        self.baseline_unwritten = False
        self.baseline_saved: Path | None = None
        self.notices: list[str] = []
        self.started_at = time.time()  # the answer-cache identities this run created are those since
        if self.cfg.cache_dir is not None:
            from pytest_ragprobe.cache import unwritable

            if (why := unwritable(self.cfg.cache_dir)) is not None:
                self.notices.append(
                    f"ragprobe: the answer cache cannot store answers ({why}): answers already in it "
                    "are used, new ones are not kept, so the next run calls the pipeline again; "
                    "point --ragprobe-cache at a writable directory"
                )
        self._validated: dict[str, ProbeResult] = {}
        self._rendered_at = -math.inf  # when report.html / report.md were last written
        # report.json's rewrites (record): the next one due, a result not written yet, the timer that
        # writes it; the lock keeps the timer's write and the main thread's apart
        self._json_due = -math.inf
        self._json_pending = False
        self._json_timer: threading.Timer | None = None
        self._report_lock = threading.RLock()
        self._finished = False
        self.reruns_notice = ""  # said (once) as a warning at the first probe test that runs
        self.planned: int | None = None  # probes collected (None where this process did not collect)
        # their node ids: a partial report lists them, so `ragprobe merge` can tell whether another shard
        # finished the ones this run missed
        self.selected: list[str] | None = None
        self.interrupted = False
        self.cut_short = False  # -x / --maxfail stopped the run before every probe ran (finish)
        self.crashed: list[str] = []  # tests whose xdist worker died under them (their results are lost)
        # probes -k / -m (or a sharding plugin) deselected: `ragprobe merge` names those no shard ran
        self.deselected: list[str] = []
        # files (collectors) that failed to collect: any probes in them never ran, so the report is partial
        self.uncollected: list[str] = []
        self.tests_ran = False  # a test report came in (pytest's collection-error stop comes before any)

    def _missing_baseline(self) -> str:
        """The usage error for a --ragprobe-baseline that does not exist yet while --ragprobe-save-baseline
        names the same file (a team's first CI run of `--ragprobe-baseline=X --ragprobe-save-baseline=X`):
        "file not found (a first run writes one with --ragprobe-save-baseline=PATH)" told them to add the
        option they had given. "" for any other baseline problem (baseline.read_baseline says it)."""
        from pytest_ragprobe.baseline import report_file

        gate, save = self.cfg.baseline, self.cfg.save_baseline
        if gate is None or save is None or report_file(gate).exists() or not _same_file(gate, save):
            return ""
        target = report_file(save)
        return (
            f"--ragprobe-baseline: {target} does not exist yet; --ragprobe-save-baseline names the same "
            "file, which this run would write only at its end, so nothing would be gated: create it first "
            f"with a run without --ragprobe-baseline (pytest --ragprobe-save-baseline={save}), then gate on "
            "it with both options (no test ran)"
        )

    # -- probes -------------------------------------------------------------------------------------
    def command_line_pipeline(self) -> object | None:
        """The pipeline named by ``--ragprobe-pipeline`` on the command line, loaded once per process;
        None when the option was not given there (an ini value only feeds the plugin's default fixture).
        A pipeline that cannot be loaded fails the requesting test with the cause."""
        spec = str(self.config.getoption(_config.PIPELINE_DEST) or "").strip()
        if not spec:
            return None
        if self._cli_pipeline is None:
            from pytest_ragprobe.pipeline import PipelineConfigError, load_pipeline_spec

            try:
                self._cli_pipeline = (load_pipeline_spec(spec),)
            except PipelineConfigError as exc:
                self._cli_pipeline = f"pytest-ragprobe: {exc}"
        if isinstance(self._cli_pipeline, str):
            pytest.fail(self._cli_pipeline, pytrace=False)
        return self._cli_pipeline[0]

    def progress_for(self, item: pytest.Item) -> Any:
        from pytest_ragprobe.progress import make_progress

        return make_progress(self.config, item.nodeid) if self.cfg.progress else None

    def baseline_comparison(self, result: ProbeResult) -> BaselineComparison | None:
        """Compare with the same test in --ragprobe-baseline ("new" when the baseline has no such test);
        None without a baseline."""
        if self._baseline is None or self._baseline_file is None:
            return None
        from pytest_ragprobe.baseline import BaselineComparison, compare

        previous = self._baseline.get(result.nodeid)
        if previous is None:
            why = (
                "it is a partial report: its run stopped before this probe ran"
                if self._baseline_file.partial
                else "a new test, or renamed"
            )
            return BaselineComparison("new", f"not in the baseline {self.cfg.baseline} ({why}): not compared")
        samples = (self._baseline_file.samples, self.cfg.samples)
        return compare(result, previous, confidence=self.settings.confidence, samples=samples)

    # -- collection of results (controller side under xdist) ----------------------------------------
    def started(self) -> None:
        """Before any test: replace the last run's report files with an empty partial report. A run that
        crashes or is killed before its first probe finishes left that report in place, and a gate
        (``ragprobe show`` / ``merge``) read it as this run's (PASS, where pytest died)."""
        if is_worker(self.config) or not _runs_tests(self.config):
            return
        if (clash := self._baseline_is_the_report()) is not None:  # (before the report empties it below)
            raise pytest.UsageError(clash)
        # A report or baseline that cannot be written fails the run: found now, before any pipeline call,
        # not after every probe has run (a cold run of a local model is minutes of calls).
        if self.cfg.report_dir is not None:
            self._write(self.build_report(partial=True), running=True)
            if self.report_error:
                raise pytest.UsageError(
                    f"--ragprobe-report: cannot write the report to {self.cfg.report_dir}: "
                    f"{self._write_cause}; point it (or the ini's ragprobe_report) at a directory that can "
                    "be written (no test ran)"
                )
        if self.cfg.save_baseline is not None:
            from pytest_ragprobe.baseline import report_file

            target = report_file(self.cfg.save_baseline)
            if (problem := _unwritable_dir(target.parent)) is not None:
                raise pytest.UsageError(
                    f"--ragprobe-save-baseline: cannot write the baseline {target}: {problem}; point it "
                    "(or the ini's ragprobe_save_baseline) at a file in a directory that can be written "
                    "(no test ran)"
                )
            if (why := self._unreadable_save_target(target)) is not None:
                raise pytest.UsageError(
                    f"--ragprobe-save-baseline: {why}; this run would replace it, dropping the probes in "
                    "it that the run does not re-run: repair it, or delete it (or save elsewhere) to start a "
                    "new baseline (no test ran)"
                )

    def _baseline_is_the_report(self) -> str | None:
        """The usage error for a --ragprobe-save-baseline that names the report.json --ragprobe-report
        writes: the report empties it at the start and rewrites it as probes finish, so the baseline's
        probes the run does not re-run were lost, and a partial run overwrote the baseline it said it kept."""
        save, report_dir = self.cfg.save_baseline, self.cfg.report_dir
        if save is None or report_dir is None:
            return None
        try:
            target = save.resolve()
            clash = target in (report_dir.resolve(), (report_dir / "report.json").resolve())
        except OSError:
            return None
        if not clash:
            return None
        return (
            f"--ragprobe-save-baseline: {save} is the report.json that --ragprobe-report={report_dir} writes "
            "(emptied at the start of a run, rewritten as probes finish): save the baseline to a file of "
            "its own, e.g. --ragprobe-save-baseline=ragprobe-baseline.json (no test ran)"
        )

    def _unreadable_save_target(self, target: Path) -> str | None:
        """Why the existing --ragprobe-save-baseline file cannot be read as a baseline (a test listed twice
        with different results, damaged JSON, not a ragprobe report), or None: it is missing, empty (no
        probe to lose), or a baseline. The save keeps its probes that the run does not re-run
        (:meth:`_with_probes_not_run`): an unreadable one was replaced, and they were lost in silence."""
        from pytest_ragprobe.baseline import BaselineError, read_baseline

        if self._baseline_file is not None and _same_file(self._baseline_file.path, target):
            return None  # read as --ragprobe-baseline already (a bad one is a usage error there)
        try:
            if not target.is_file() or _empty(target):
                return None
            read_baseline(target)
        except BaselineError as exc:
            return str(exc).removeprefix("--ragprobe-baseline: ")
        return None

    def collected(self, session: pytest.Session) -> None:
        """Collection is over (this process collected, not an xdist worker): keep the probe count for
        the interrupted-run line and print the cost plan."""
        probes = _probes(session)
        self.planned = len(probes)
        self.selected = [i.nodeid for i in probes]
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and probes and not _collection_failed(session):
            for line in _plan_lines(self.config, probes):
                reporter.write_line(line)

    def deselect(self, items: Sequence[pytest.Item]) -> None:
        """pytest_deselected: keep the probes among ``items`` that would have run (a skip mark's won't)."""
        self.deselected += [i.nodeid for i in items if SPEC_KEY in i.stash and not _skipped_by_mark(i)]

    def worker_crashed(self, nodeid: str) -> None:
        """An xdist worker died running ``nodeid``: had it a probe, its result never reached us, and the
        report would read complete without it (PASS, where pytest failed the run): it is partial."""
        self.crashed.append(nodeid)  # the summary line and `ragprobe show` name it

    def collect_failed(self, nodeid: str) -> None:
        """A file (or another collector) did not collect: the probes in it are missing from the report,
        which would otherwise read complete (PASS, where pytest failed the run)."""
        name = nodeid or "."  # (the rootdir's collector has an empty node id)
        if name not in self.uncollected:  # (under xdist every worker reports the same file)
            self.uncollected.append(name)

    def record(self, report: pytest.TestReport) -> None:
        """Keep a probe result shipped on a test report (on the controller under xdist)."""
        self.tests_ran = True
        data = getattr(report, REPORT_ATTR, None)
        if not isinstance(data, dict):
            return
        with self._report_lock:
            self.results[report.nodeid] = {**data, **xfail_fields(report)}
            self._validated.pop(report.nodeid, None)
            if is_worker(self.config) or self.cfg.report_dir is None:
                return
            # Every finished result survives a crash in report.json (now, or by the timer within
            # JSON_MAX_WAIT_S); the HTML and Markdown, which cost ~1 ms per probe to render, at most every
            # few seconds (each rewrite renders every probe so far) and at the end.
            self._json_pending = True
            now = _now()
            if now - self._rendered_at >= RENDER_EVERY_S:
                self._rendered_at = now
                self._write_partial(json_only=False)
            elif now >= self._json_due:
                self._write_partial(json_only=True)
            elif self._json_timer is None:
                wait = min(self._json_due - now, JSON_MAX_WAIT_S)
                self._json_timer = threading.Timer(wait, self._json_late)
                self._json_timer.daemon = True  # (finish cancels it; nothing may hold the process open)
                self._json_timer.start()

    def _write_partial(self, *, json_only: bool) -> None:
        """The partial report of the results so far (under the lock); the next report.json rewrite is due
        after JSON_WRITE_SHARE of the time since this one."""
        if self._json_timer is not None:
            self._json_timer.cancel()
            self._json_timer = None
        start = _now()
        self._write(self.build_report(partial=True), json_only=json_only, running=True)
        end = _now()
        self._json_pending = False
        self._json_due = end + min((end - start) * (1 / JSON_WRITE_SHARE - 1), JSON_MAX_WAIT_S)

    def _json_late(self) -> None:
        """The timer: write the results that ``record`` did not write yet (none when a later probe did)."""
        with self._report_lock:
            self._json_timer = None
            if self._json_pending and not self._finished:
                self._write_partial(json_only=True)

    def build_report(self, *, partial: bool) -> Report:
        from pytest_ragprobe import __version__
        from pytest_ragprobe.results import Report, distinguish_pipelines, nodeid_key

        settings: dict[str, Any] = {
            "pipeline": self.cfg.pipeline,
            "samples": self.cfg.samples,
            "budget": self.cfg.budget,
            "sequential": self.cfg.sequential,
            "strict": self.cfg.strict,
        }
        if self.cfg.strict:  # where it was set, as the notes name it ("ragprobe_strict in pytest.ini")
            settings["strict_by"] = self.cfg.strict_by
        if self.crashed:
            settings["crashed"] = list(self.crashed)
        if self.uncollected:
            settings["uncollected"] = list(self.uncollected)
        if self.cfg.baseline is not None and self._baseline is not None:
            settings["baseline"] = str(self.cfg.baseline)
            settings["baseline_coverage"] = self._baseline_coverage()
        if self.deselected:
            settings["deselected"] = sorted(set(self.deselected), key=nodeid_key)
        if (partial or self.crashed) and self.planned:  # the banner says how many are still missing
            settings["planned"] = self.planned
        sorted_ids = sorted(self.results, key=nodeid_key)
        partial = partial or bool(self.crashed) or bool(self.uncollected)
        if partial and self.selected is not None:
            settings["selected"] = sorted(set(self.selected), key=nodeid_key)
        report = Report(
            plugin_version=__version__,
            partial=partial,
            seed=self.cfg.seed,
            confidence=self.cfg.confidence,
            settings=settings,
            # one label for two configurations of a class (a parametrized fixture): told apart by hash
            probes=distinguish_pipelines([self._probe(n, self.results[n]) for n in sorted_ids]),
        )
        report.summary = report.counts()
        return report

    def _baseline_coverage(self) -> dict[str, Any]:
        """How much of the run --ragprobe-baseline gated: probes compared with it, in it but not compared
        (settings changed, nothing to compare: their ``baseline_message`` says why), not in it (``new``), and
        the baseline's probes this run did not run (``not_run``, node ids)."""
        assert self._baseline is not None
        compared = not_compared = new = 0
        for nodeid, data in self.results.items():
            if nodeid not in self._baseline:
                new += 1
            elif data.get("baseline") in ("ok", "regression"):
                compared += 1
            else:
                not_compared += 1
        from pytest_ragprobe.results import nodeid_key

        not_run = sorted((n for n in self._baseline if n not in self.results), key=nodeid_key)
        return {"compared": compared, "not_compared": not_compared, "new": new, "not_run": not_run}

    def _probe(self, nodeid: str, data: dict[str, Any]) -> ProbeResult:
        """The validated result (validated once: the report is rebuilt for every rewrite)."""
        from pytest_ragprobe.results import ProbeResult

        found = self._validated.get(nodeid)
        if found is None:
            found = self._validated[nodeid] = ProbeResult.model_validate(data)
        return found.model_copy()  # callers may annotate their report's probes

    @property
    def files_unwritten(self) -> bool:
        return bool(self.report_error) or self.baseline_unwritten

    def _write(self, report: Report, *, json_only: bool = False, running: bool = False) -> None:
        """Write the report files; ``running``: while the run goes on (their headline: the verdict so far)."""
        from pytest_ragprobe.reporting import write_reports

        assert self.cfg.report_dir is not None
        try:
            directory = self.cfg.report_dir
            self.report_path = write_reports(directory, report, json_only=json_only, running=running)
        except OSError as exc:  # (rewritten as probes finish: the last attempt is what counts)
            self._write_cause = str(exc)
            # an earlier rewrite's path no longer holds this report: not listed as written, nor handed on
            self.report_path = None
            # said why the run failed (the tests above it passed) and what to change
            self.report_error = (
                f"could not write the ragprobe report to {self.cfg.report_dir}: {exc}; this fails the run: "
                "point --ragprobe-report (or the ini's ragprobe_report) at a directory that can be written"
            )
        else:
            self.report_error = ""

    def finish(self, exitstatus: int, *, stopped: bool = False) -> None:
        """Write the final report (partial when interrupted, or ``stopped`` by -x / --maxfail before every
        probe ran) and the baseline file, then hand the report to the ``pytest_ragprobe_report`` hooks
        (last, so nothing they do reaches the files)."""
        if is_worker(self.config) or not _runs_tests(self.config):
            return  # --collect-only, --fixtures, ...: an empty report would overwrite the last real one
        with self._report_lock:  # (waits for a timer's write under way: it cannot land after this one)
            self._finished = True
            if self._json_timer is not None:
                self._json_timer.cancel()
                self._json_timer = None
        # pytest ends a run whose collection failed as interrupted, before any test: not an interrupt
        collection_stop = bool(self.uncollected) and not self.tests_ran
        self.interrupted = exitstatus == pytest.ExitCode.INTERRUPTED and not stopped and not collection_stop
        # (under xdist the controller has no probe count: a stop there is taken as cut short)
        cut_short = stopped and (self.planned is None or len(self.results) < self.planned)
        self.cut_short = cut_short  # the terminal's verdict line says partial, as the report does
        if not self.results and self.cfg.report_dir is None and self.cfg.save_baseline is None:
            return  # nothing to write or hand on: a run without probes never imports pydantic
        report = self.build_report(partial=self.interrupted or cut_short)
        if self.cfg.report_dir is not None:
            self._write(report)
        if self.cfg.save_baseline is not None:
            self._save_baseline(report)
        if self.results:
            try:
                hook = self.config.hook.pytest_ragprobe_report
                hook(config=self.config, report=report, path=self.report_path)
            except Exception as exc:  # a user's exporter: say so, keep the run's own outcome
                self.write_errors.append(f"pytest_ragprobe_report hook raised {type(exc).__name__}: {exc}")

    def _save_baseline(self, report: Report) -> None:
        from pytest_ragprobe.baseline import report_file
        from pytest_ragprobe.results import atomic_write, report_json

        assert self.cfg.save_baseline is not None
        target = report_file(self.cfg.save_baseline)  # a directory: its report.json, as a baseline is read
        # A baseline missing tests compares nothing for them later: keep the previous file instead.
        if not report.probes or report.partial:
            why = "no probe ran" if not report.probes else "the run stopped before every probe ran"
            if self.uncollected and report.probes:
                why = f"{', '.join(self.uncollected)} could not be collected"
            kept = "kept as it was" if target.exists() else "not written"
            self.notices.append(f"ragprobe: {why}: the baseline {target} was {kept}")
            return
        # The file this run was gated by, rewritten with the regressed figures, would pass the retry.
        regressed = [p.nodeid for p in report.probes if p.baseline == "regression"]
        if regressed and self.cfg.baseline is not None and _same_file(self.cfg.baseline, target):
            # (named, not counted: the summary counts a regressed FAIL as a FAIL, so its count of
            # regressions is smaller)
            self.notices.append(
                f"ragprobe: the baseline {target} was kept as it was, not overwritten with the regressed "
                f"figures of {_names(regressed)} (a rerun would pass against them); to accept them "
                "deliberately, save to it in a run without --ragprobe-baseline, or delete it"
            )
            return
        report = self._with_probes_not_run(report, target)
        try:
            atomic_write(target, report_json(report)[1])
        except OSError as exc:
            self.write_errors.append(
                f"could not write the baseline {target}: {exc}; this fails the run: point "
                "--ragprobe-save-baseline (or the ini's ragprobe_save_baseline) at a file that can be written"
            )
            self.baseline_unwritten = True
        else:
            self.baseline_saved = target

    def _with_probes_not_run(self, report: Report, target: Path) -> Report:
        """``report`` with the probes of the baseline file it replaces that this run did not run
        (deselected with -k / -m / --lf, or their tests removed): a baseline rewritten by a partial
        selection silently stopped gating them. Said in a notice; deleting the file drops them."""
        from pytest_ragprobe.baseline import BaselineError, read_baseline
        from pytest_ragprobe.results import ProbeResult, nodeid_key

        if not target.is_file():
            return report
        try:
            previous = read_baseline(target).probes
        except BaselineError as exc:  # (refused at the start: it changed during the run) replaced, and said
            if _empty(target):
                return report  # no probe to keep
            why = str(exc).removeprefix("--ragprobe-baseline: ")
            self.notices.append(
                f"ragprobe: the previous baseline could not be read at the end of the run ({why}): replaced "
                "by this run's probes alone; the probes it held that this run did not run are not kept"
            )
            return report
        ran = {p.nodeid for p in report.probes}
        kept = [ProbeResult.model_validate(data) for nodeid, data in previous.items() if nodeid not in ran]
        if not kept:
            return report
        probes = sorted([*report.probes, *kept], key=lambda p: nodeid_key(p.nodeid))
        carried = sorted((p.nodeid for p in kept), key=nodeid_key)
        settings = {**report.settings, "carried_over": carried}
        merged = report.model_copy(update={"probes": probes, "settings": settings})
        merged.summary = merged.counts()
        s = "s" if len(kept) != 1 else ""
        self.notices.append(
            f"ragprobe: {len(kept)} probe{s} of the baseline {target} did not run in this run (deselected, "
            f"or the test was removed): kept in it from the previous file; delete {target} to drop them"
        )
        # (which ones: a count alone left the reader to diff the file against the selection)
        self.notices.append(f"ragprobe: kept from the previous baseline: {_names(carried)}")
        return merged

    def _baseline_status(self, report: Report) -> str:
        """ "ragprobe baseline: all 5 probes compared with base.json: none regressed", when every probe was
        compared (otherwise the warnings below say how many were)."""
        coverage = report.settings.get("baseline_coverage")
        if self._baseline_file is None or not isinstance(coverage, dict) or not report.probes:
            return ""
        if coverage["new"] or coverage["not_compared"]:
            return ""
        from pytest_ragprobe.render import in_part

        regressed = sum(p.baseline == "regression" for p in report.probes)
        every = "the probe" if len(report.probes) == 1 else f"all {len(report.probes)} probes"
        found = f"{regressed} regressed" if regressed else "none regressed"
        # (a probe compared in part, a figure of the baseline left out, is counted so: not as compared whole)
        compared = f"{every} compared{in_part(report.probes)}"
        return f"ragprobe baseline: {compared} with {self.cfg.baseline}: {found}"

    def _baseline_warnings(self, report: Report) -> list[str]:
        """The terminal's word on what --ragprobe-baseline did not gate: this run's probes not in it (all of
        them: nothing was gated), in it but not compared, and its probes this run did not run."""
        coverage = report.settings.get("baseline_coverage")
        if self._baseline_file is None or not isinstance(coverage, dict):
            return []
        where, lines = self.cfg.baseline, []
        compared, not_compared, new = coverage["compared"], coverage["not_compared"], coverage["new"]
        total, not_run = len(report.probes), list(coverage["not_run"])
        why_new = (
            f"{where} is a partial report: the run that wrote it stopped before every probe ran"
            if self._baseline_file.partial
            else "new tests, or renamed"
        )
        if total and new == total:
            none = "the probe" if total == 1 else f"none of the {total} probes"
            lines.append(
                f"ragprobe baseline: {none} of this run is in {where} ({why_new}): "
                "nothing was gated by the baseline"
            )
        elif new or not_compared:
            from pytest_ragprobe.render import in_part

            parts = [f"{compared} of {total} probes compared{in_part(report.probes)}"]
            if new:
                parts.append(f"{new} not in {where} ({why_new})")
            if not_compared:  # named, with why: an ERROR probe never reached the comparison, nor a warning
                missed = [p for p in report.probes if p.nodeid in (self._baseline or {})]
                missed = [p for p in missed if p.baseline not in ("ok", "regression")]
                parts.append(f"{not_compared} not compared: {_not_compared_names(missed)}")
            lines.append("ragprobe baseline: " + "; ".join(parts))
        if not_run:
            from pytest_ragprobe.render import count

            of = count(len(self._baseline_file.probes), "probe")
            lines.append(
                f"ragprobe baseline: {len(not_run)} of the {of} in "
                f"{where} did not run (deselected, stopped, or their tests removed or renamed), so were not "
                f"gated: {_names(not_run)}"
            )
        return lines

    def _cache_identity_notices(self, report: Report) -> list[str]:
        """Pipelines whose calls found nothing in the answer cache while it holds other configurations
        of them from earlier runs (a value that changes every run in their identity), from the probes'
        call counts and the identities recorded on disk: once, here (the xdist controller)."""
        if self.cfg.cache_dir is None or not report.probes:
            return []
        from pytest_ragprobe.cache import identity_base, identity_notices

        used: dict[str, tuple[int, int]] = {}
        for probe in report.probes:
            if probe.pipeline:
                base = identity_base(probe.pipeline)  # (a label told apart by its hash: the base name)
                calls, hits = used.get(base, (0, 0))
                used[base] = (calls + probe.calls, hits + probe.cached_calls)
        return identity_notices(self.cfg.cache_dir, used, self.started_at)

    @staticmethod
    def _cache_only_notices(report: Report) -> list[str]:
        """Per pipeline: probes of a remote service answered from the cache alone (runner.cache_only_note)."""
        from pytest_ragprobe.runner import CACHE_ONLY, known_by

        count: dict[str, int] = {}
        # the services as the probes' notes name them, only those their calls reach: the pipeline's label
        # named an OpenAI generator beside the service that a reverse probe never calls
        services: dict[str, list[str]] = {}
        by_name: dict[str, str] = {}  # those given a name= (the cache knows them by it), as the notes say
        for probe in report.probes:
            if probe.cache_only_services:
                listed = list(probe.cache_only_services)
                for service, name in probe.cache_only_services.items():
                    if name is not None:
                        by_name.setdefault(service, name)
                count[probe.pipeline] = count.get(probe.pipeline, 0) + 1
                have = services.setdefault(probe.pipeline, [])
                have += [s for s in listed if s not in have]
        for probe in report.probes:  # another probe called it this run: the probes' notes say enough
            if probe.calls:
                count.pop(probe.pipeline, None)
        by_services: dict[tuple[str, ...], int] = {}  # (two pipelines around one service: one line)
        for pipeline, k in count.items():
            key = tuple(services[pipeline])
            by_services[key] = by_services.get(key, 0) + k
        lines = []
        for names, k in by_services.items():
            one = len(names) == 1
            what = f"the service {names[0]} was" if one else f"the services {', '.join(names)} were"
            named = {s: by_name[s] for s in names if s in by_name}
            if named:  # (a service given a name= is not known by its address: as the probe's note says)
                known, behind = known_by(names, named, "it")
                unseen = f"the cache knows {known}, so a new deployment behind {behind} is not seen"
            else:
                unseen = f"a new deployment behind {'its address' if one else 'their addresses'} is not seen"
            lines.append(
                f"ragprobe: {k} probe{'s' if k != 1 else ''} {CACHE_ONLY}: {what} not called this run, and "
                f"{unseen}; a deploy gate should run with --ragprobe-no-cache, or give "
                f"{'the service' if one else 'each'} a version= (its build id)"
            )
        return lines

    def summarize(self, terminalreporter: Any) -> None:
        """The ``ragprobe`` section of the terminal summary: one line per probe, then the report path."""
        # as the report files and `ragprobe show` say
        partial = self.interrupted or self.cut_short or bool(self.uncollected)
        wrote_partial = partial and self.report_path is not None
        if is_worker(self.config):
            return
        unwritten = self.write_errors or self.report_error
        if not self.results and not unwritten and not wrote_partial and not self.crashed:
            if self._baseline_file is not None and _runs_tests(self.config):
                # -k / -m left no probe: the gate passed in silence, as if it had compared them
                gate = f"ragprobe baseline: no probe ran, so nothing was gated by {self.cfg.baseline}"
                terminalreporter.write_line(gate, yellow=True)
            for notice in self.notices:
                terminalreporter.write_line(notice, yellow=True)
            if self.report_path is not None:  # the files were rewritten empty: the run said nothing of them
                terminalreporter.write_line(
                    f"ragprobe: no probe ran; the report written to {self.report_path.parent} holds none",
                    yellow=True,
                )
            return
        from pytest_ragprobe.cli import summary_text
        from pytest_ragprobe.render import strict_fails, summary_lines
        from pytest_ragprobe.reporting import ordered, overall_verdict, run_failed, visible_controls

        colors = {
            "pass": "green", "fail": "red", "error": "red", "xpass_strict": "red", "regression": "red",
            "test_failed": "red",
        }
        terminalreporter.ensure_newline()  # else the first line below starts with a blank one
        terminalreporter.section("ragprobe")
        report = self.build_report(partial=partial)
        if self.interrupted:  # say so here too, not only in the report files
            done, of = len(report.probes), f" of {self.planned}" if self.planned else ""
            noun = "probe" if done == 1 and not of else "probes"
            terminalreporter.write_line(
                f"ragprobe: interrupted: {done}{of} {noun} finished; probes still running were lost, "
                "the report is partial",
                yellow=True,
            )
        if self.uncollected:  # (a file with a syntax error or a bad mark argument: pytest shows why above)
            k = len(self.uncollected)
            terminalreporter.write_line(
                f"ragprobe: {k} test file{'s' if k != 1 else ''} could not be collected "
                f"({', '.join(self.uncollected)}): any probes in {'them' if k != 1 else 'it'} did not run; "
                "the report is partial",
                yellow=True,
            )
        probes = ordered(report.probes, failing_last=True)
        lines = summary_lines(probes, strict=self.cfg.strict, strict_by=self.cfg.strict_by)
        for result, text in zip(probes, lines, strict=True):
            strict = strict_fails(result, self.cfg.strict)
            color = "red" if strict else colors.get(result.outcome, "yellow")
            # (a pipeline's error in the line: control characters as `ragprobe show` prints them)
            terminalreporter.write_line(visible_controls(text), **{color: True})
        # the run's verdict, as in report.md / .html and `ragprobe show`
        if report.probes or self.crashed or self.uncollected:
            failed = run_failed(report, strict=self.cfg.strict)  # as `ragprobe show`
            color = "red" if failed else colors.get(overall_verdict(report), "yellow")
            line = f"ragprobe: {summary_text(report, strict=self.cfg.strict)}"
            terminalreporter.write_line(line, **{color: True})
        if status := self._baseline_status(report):  # a CI log says the gate was on
            clean = status.endswith("none regressed")
            terminalreporter.write_line(status, **{"green" if clean else "red": True})
        for line in self._baseline_warnings(report):  # what the baseline did not gate
            terminalreporter.write_line(line, yellow=True)
        for err in [self.report_error, *self.write_errors] if self.report_error else self.write_errors:
            terminalreporter.write_line(err, red=True)
        for notice in [
            *self.notices, *self._cache_identity_notices(report), *self._cache_only_notices(report)
        ]:
            terminalreporter.write_line(notice, yellow=True)
        if self.report_path is not None:
            terminalreporter.write_line(f"ragprobe report: {self.report_path}")
            terminalreporter.write_line(f"ragprobe html: {self.report_path.with_name('report.html')}")
            terminalreporter.write_line(f"ragprobe markdown: {self.report_path.with_name('report.md')}")
        if self.baseline_saved is not None:
            terminalreporter.write_line(f"ragprobe baseline saved: {self.baseline_saved}")


SESSION_KEY = pytest.StashKey[RagprobeSession]()
