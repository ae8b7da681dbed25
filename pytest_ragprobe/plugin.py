"""pytest-ragprobe hooks and fixtures (the ``pytest11`` entry point). Each hook delegates to a module.

Import path stays light: stdlib, pytest and our stdlib-only modules; pydantic, numpy, scipy, httpx and the
reference pipeline load inside the hooks and fixtures that need them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ragprobe import _active, _config, markers
from pytest_ragprobe.session import (
    OWN_FAILURE_KEY,
    REPORT_ATTR,
    RESULT_KEY,
    SESSION_KEY,
    SPEC_KEY,
    RagprobeSession,
    base_dirs,
    is_worker,
    record_test_outcome,
    run_probe_for_item,
    setup_error_result,
    user_properties,
    xfail_fields,
)
from pytest_ragprobe.types import RagprobeInconclusiveWarning, RagprobeWarning

if TYPE_CHECKING:
    from _pytest.fixtures import SubRequest

    from pytest_ragprobe.baseline import BaselineComparison
    from pytest_ragprobe.facts import FactPair
    from pytest_ragprobe.progress import Relay
    from pytest_ragprobe.results import ProbeResult


def pytest_addoption(parser: pytest.Parser) -> None:
    _config.add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_ragprobe._hookspecs_plugin import add_hookspecs

    add_hookspecs(pluginmanager)  # (unless the ragprobe_hooks entry point did)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    for line in markers.MARKER_LINES:
        config.addinivalue_line("markers", line)
    if config.getoption("help", False):
        # nothing runs: `pytest --help` shows the options even with a bad value of one (it showed only
        # the error, where one looks up how to fix it)
        return
    config.stash[_config.CONFIG_KEY] = cfg = _config.build_config(config)
    if cfg.pipeline:
        from pytest_ragprobe.pipeline import PipelineConfigError, split_pipeline_spec

        given = config.getoption(_config.PIPELINE_DEST)  # else the ini's value
        try:
            split_pipeline_spec(cfg.pipeline, ini=None if given else config.inipath)
        except PipelineConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
    config.stash[SESSION_KEY] = RagprobeSession(config)  # UsageError for a bad --ragprobe-baseline
    _active.push(config.stash[SESSION_KEY].active)
    from pytest_ragprobe._xdist import share_holds

    share_holds(config)
    config.pluginmanager.register(_ReportHooks(config), "ragprobe-reports")


def pytest_unconfigure(config: pytest.Config) -> None:
    if SESSION_KEY in config.stash:
        _active.pop(config.stash[SESSION_KEY].active)
    from pytest_ragprobe._xdist import remove_run_dir, unshare_holds

    unshare_holds(config)
    remove_run_dir(config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: give each worker the --ragprobe-budget pool and its share (and gw0 the plan file),
    and a channel for its progress lines."""
    from pytest_ragprobe._xdist import configure_node

    configure_node(node.config, node)
    if node.config.stash[_config.CONFIG_KEY].progress:
        from pytest_ragprobe.progress import relay_worker_progress

        relay = relay_worker_progress(node.config, node)
        if relay is not None and not node.config.pluginmanager.has_plugin(_RELAY_HOOKS):
            node.config.pluginmanager.register(_RelayHooks(relay), _RELAY_HOOKS)


_RELAY_HOOKS = "ragprobe-progress-relay"


class _RelayHooks:
    """xdist controller: workers' progress lines are printed on execnet's receiving thread
    (``progress.Relay``); while pytest prints a test's start or result here, they wait for it to finish."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logstart(self) -> Generator[None, object, object]:
        with self.relay.lock:
            return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logreport(self) -> Generator[None, object, object]:
        with self.relay.lock:
            return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logfinish(self) -> Generator[None, object, object]:
        with self.relay.lock:
            return (yield)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        self.relay.close()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """xdist controller: print the cost plan worker gw0 wrote, once it has collected (before any test)."""
    from pytest_ragprobe._xdist import show_plan

    planned = show_plan(node.config, node)
    if planned is not None:  # the interrupted-run line says "N of M probes finished" under xdist too
        node.config.stash[SESSION_KEY].planned = planned


class _ReportHooks:
    """Registered per config in pytest_configure: pytest_runtest_logreport gets no config argument."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # On the controller this also sees worker reports: each result travels as a report attribute.
        self.config.stash[SESSION_KEY].record(report)
        if not is_worker(self.config):
            from pytest_ragprobe.progress import report_finished

            report_finished(self.config, report)

    @pytest.hookimpl(trylast=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # (on the controller under xdist too: it hands on its workers' failed collect reports)
        if report.failed and not is_worker(self.config):
            self.config.stash[SESSION_KEY].collect_failed(report.nodeid)

    @pytest.hookimpl(optionalhook=True, trylast=True)
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport, sched: Any) -> None:
        """xdist controller: a worker died running ``crashitem``; unless rescheduled, its result is lost."""
        if report.outcome == "failed":
            self.config.stash[SESSION_KEY].worker_crashed(crashitem)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Print the cost plan after pytest's own "collected N items" line: before it, on a terminal, the
        plan was glued to pytest's "collecting ..." line."""
        if not is_worker(self.config):
            self.config.stash[SESSION_KEY].collected(session)


def pytest_sessionstart(session: pytest.Session) -> None:
    ragprobe_session = session.config.stash.get(SESSION_KEY, None)
    if ragprobe_session is not None:
        ragprobe_session.started()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    ragprobe_session = session.config.stash.get(SESSION_KEY, None)
    if ragprobe_session is not None:
        from pytest_ragprobe._xdist import stopped_by_failures

        # -x / --maxfail: pytest stopped before every test ran (not an interrupt: exit status 1; under
        # xdist the controller ends such a stop as an interrupt, which it was not)
        stopped = bool(session.shouldstop or session.shouldfail) or stopped_by_failures(session.config)
        ragprobe_session.finish(exitstatus, stopped=stopped)
        if ragprobe_session.files_unwritten and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    ragprobe_session = config.stash.get(SESSION_KEY, None)
    if ragprobe_session is not None:
        if (line := _resume_notice(ragprobe_session)) is not None:
            ragprobe_session.notices.append(line)  # (said with the run's other notices, once)
        ragprobe_session.summarize(terminalreporter)


def _resume_notice(ragprobe_session: RagprobeSession) -> str | None:
    """After a run stopped by Ctrl-C or cut short by --ragprobe-budget: its answers are in the answer
    cache and a re-run resumes from them (the journey tests pin that it does). Only when the cache is on
    and this run stored answers in it: counted over the run's probes (runner.tally, also the calls of a
    probe Ctrl-C stopped), or under xdist on the controller, from the probes' reports."""
    config = ragprobe_session.config
    cache_dir = ragprobe_session.cfg.cache_dir
    if is_worker(config) or cache_dir is None:
        return None
    import sys

    runner = sys.modules.get("pytest_ragprobe.runner")  # (not loaded: no probe ran in this process)
    counted = None if runner is None else runner.tally(ragprobe_session.budget)
    answered, cuts = (0, 0) if counted is None else (counted.answered, counted.budget_cuts)
    results = ragprobe_session.results.values()
    from pytest_ragprobe.render import BUDGET_REASON

    answered += sum(max(0, int(r.get("calls") or 0) - int(r.get("errors") or 0)) for r in results)
    cut = cuts > 0 or any(str(r.get("reason") or "").startswith(BUDGET_REASON) for r in results)
    if ragprobe_session.interrupted:
        when = "the interrupt"
    elif cut:
        when = "the call budget (--ragprobe-budget) ran out"
    else:
        return None
    from pytest_ragprobe.cache import unwritable

    if answered <= 0 or unwritable(cache_dir) is not None:
        return None
    return f"ragprobe: the answers received before {when} are in the answer cache: a re-run resumes from them"


def pytest_report_header(config: pytest.Config) -> str | None:
    cfg = config.stash.get(_config.CONFIG_KEY, None)
    if cfg is None:
        return None
    parts = [f"ragprobe: seed={cfg.seed}", f"confidence={cfg.confidence}"]
    if cfg.pipeline:
        parts.append(f"pipeline={cfg.pipeline}")
    parts.append(f"cache={cfg.cache_dir or 'off'}")
    if cfg.budget:
        parts.append(f"budget={cfg.budget} calls")
    return ", ".join(parts)


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Collector, name: str, obj: object
) -> Generator[None, Any, Any]:
    result = yield
    items = result if isinstance(result, list) else [result]
    for item in items:
        if not isinstance(item, pytest.Item):
            continue
        try:
            _read_spec(item)
        except markers.MarkArgumentError as exc:
            collector.stash[_COLLECT_ERROR_KEY] = message = f"{item.nodeid}: {exc}"
            raise pytest.Collector.CollectError(message) from None
    return result


_COLLECT_ERROR_KEY = pytest.StashKey[str]()


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, Any]:
    """A bad mark's CollectError (above) as a plain text report: pytest's own wrapper of it carries no
    one-line message, so a plain run's short summary said only ``ERROR test_x.py`` (under xdist, where the
    report travels as text, it gave the reason). The ERRORS section prints the same text."""
    report = yield
    message = collector.stash.get(_COLLECT_ERROR_KEY, None)
    if message is not None and report.failed and getattr(report.longrepr, "longrepr", None) == message:
        report.longrepr = message
    return report


_MARKS_SEEN_KEY = pytest.StashKey[int]()


def _probe_mark_count(item: pytest.Item) -> int:
    return sum(1 for name in markers.PROBE_MARKS for _ in item.iter_markers(name))


def _read_spec(item: pytest.Item) -> None:
    item.stash[_MARKS_SEEN_KEY] = _probe_mark_count(item)
    spec = markers.spec_for_item(item)
    if spec is not None:
        item.stash[SPEC_KEY] = spec
        if item.get_closest_marker(markers.COMMON_MARK) is None:
            item.add_marker(markers.COMMON_MARK)
    elif SPEC_KEY in item.stash:
        del item.stash[SPEC_KEY]


_BAD_MARK_KEY = pytest.StashKey[str]()


def _refresh_specs(items: list[pytest.Item]) -> None:
    """Re-read the probe marks of items whose marks changed since collection (item.add_marker in a hook).
    A bad argument there is the item's error at setup (_ragprobe_autorun): a UsageError raised here in an
    xdist worker became an INTERNALERROR ("assert not crashitem") that never showed the message."""
    for item in items:
        if _probe_mark_count(item) != item.stash.get(_MARKS_SEEN_KEY, 0):
            try:
                _read_spec(item)
            except markers.MarkArgumentError as exc:
                item.stash[_BAD_MARK_KEY] = f"pytest-ragprobe: {item.nodeid}: {exc}"
                if SPEC_KEY in item.stash:
                    del item.stash[SPEC_KEY]
                if item.get_closest_marker(markers.COMMON_MARK) is None:  # -m ragprobe still selects it
                    item.add_marker(markers.COMMON_MARK)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Probe marks a conftest added in its own pytest_collection_modifyitems (item.add_marker: conftest hooks
    # run before this one) count as if written on the test; before -m selects (that hook runs after ours).
    # Marks added by a trylast hook after ours are read in pytest_collection_finish.
    _refresh_specs(items)
    probes = [i for i in items if SPEC_KEY in i.stash]
    rerun_plugins = [p for p in ("rerunfailures", "flaky") if config.pluginmanager.hasplugin(p)]
    reruns_requested = (
        bool(config.getoption("reruns", 0) or 0)
        or ("rerunfailures" in rerun_plugins and _ini_reruns(config) > 0)
        or bool(config.getoption("force_reruns", 0) or 0)
        or bool(config.getoption("force_flaky", False))
        or any(i.get_closest_marker("flaky") is not None for i in probes)
    )
    if probes and rerun_plugins and reruns_requested:
        # A probe is never rerun to make it pass: a rerun is just another sample that hides the first.
        # Prepended (append=False) so it is the closest `flaky` mark, the one the rerun plugins read
        # (get_closest_marker), also over the user's own @pytest.mark.flaky(reruns=...) on the test.
        for item in probes:
            item.add_marker(pytest.mark.flaky(reruns=0, max_runs=1, min_passes=1), append=False)
        # Said at the first probe that runs (item.warn): a warning raised during collection becomes an
        # INTERNALERROR under -W error; at a test it fails that test, as -W error users expect.
        # ({count}: filled in at collection_finish, after -k / -m deselected: it counted those too)
        config.stash[SESSION_KEY].reruns_notice = (
            "pytest-ragprobe: reruns disabled for {count} probe test(s) "
            f"({', '.join(rerun_plugins)} is active); probes are never rerun to make them pass"
        )


def _ini_reruns(config: pytest.Config) -> int:
    """pytest-rerunfailures' ``reruns = N`` ini setting (it reads it when --reruns is not given)."""
    try:
        return int(config.getini("reruns") or 0)
    except (TypeError, ValueError):  # not a number, or an older release without the setting
        return 0


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """pytest-rerunfailures' --force-reruns ignores marks and --reruns-mode=append adds --reruns to
    the mark's 0: while a probe runs, those two are set so the reruns=0 mark above decides."""
    option = item.config.option
    saved = {k: getattr(option, k) for k in ("force_reruns", "reruns_mode") if hasattr(option, k)}
    if SPEC_KEY in item.stash and saved:
        option.force_reruns = None
        if "reruns_mode" in saved:
            option.reruns_mode = "strict"
    try:
        return (yield)
    finally:
        for k, v in saved.items():
            setattr(option, k, v)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """An xdist worker writes what the run will cost (pipeline calls per probe) for the controller to
    print: first, so the plan is written before the worker reports its collection. Elsewhere the plan
    is printed last (``_ReportHooks``), after pytest's collection line."""
    from pytest_ragprobe.session import warm_up, write_worker_plan

    _refresh_specs(session.items)  # marks added after our modifyitems (another plugin's trylast hook)
    state = session.config.stash[SESSION_KEY]
    if "{count}" in state.reruns_notice:
        selected = sum(SPEC_KEY in i.stash for i in session.items)
        state.reruns_notice = state.reruns_notice.replace("{count}", str(selected)) if selected else ""
    if is_worker(session.config):
        write_worker_plan(session)
    warm_up(session)


@pytest.fixture(autouse=True)
def _ragprobe_autorun(request: pytest.FixtureRequest) -> None:
    """Marked tests run their probe in setup even when the body does not ask for ``ragprobe_result``."""
    if _BAD_MARK_KEY in request.node.stash:
        pytest.fail(request.node.stash[_BAD_MARK_KEY], pytrace=False)
    if SPEC_KEY in request.node.stash:
        request.getfixturevalue("ragprobe_result")


@pytest.fixture(scope="session")
def ragprobe_pipeline(pytestconfig: pytest.Config) -> object:
    """The pipeline under test: override in conftest.py, or set --ragprobe-pipeline / ini.

    ``--ragprobe-pipeline`` given on the command line replaces this and any overriding fixture
    (``pytest_fixture_setup`` above); the ini value reaches only this default one."""
    from pytest_ragprobe.pipeline import PipelineConfigError, load_pipeline_spec

    cfg = pytestconfig.stash[_config.CONFIG_KEY]
    if cfg.pipeline is None:
        pytest.fail(
            "pytest-ragprobe: no pipeline configured. Define a `ragprobe_pipeline` fixture in conftest.py "
            "returning your pipeline (a callable question -> str, an object with answer/retrieve/generate/"
            "index, or ragprobe.Pipeline(...)), or pass --ragprobe-pipeline=package.module:attr "
            "(ini: ragprobe_pipeline).",
            pytrace=False,
        )
    # only the ini value gets here (a --ragprobe-pipeline is set up in pytest_fixture_setup): say so
    try:
        return load_pipeline_spec(cfg.pipeline, ini=pytestconfig.inipath)
    except PipelineConfigError as exc:
        error = str(exc)
    # failed outside the except: pytest showed the chained import errors above the message
    pytest.fail(f"pytest-ragprobe: {error}", pytrace=False)


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any], request: SubRequest) -> object | None:
    """``--ragprobe-pipeline`` given on the command line wins over every ``ragprobe_pipeline`` fixture
    (conftest, module or class ones included): the fixture function is not called, its value is the
    command-line pipeline, loaded once per process."""
    if fixturedef.argname != "ragprobe_pipeline" or SESSION_KEY not in request.config.stash:
        return None
    key = fixturedef.cache_key(request)
    try:
        pipeline = request.config.stash[SESSION_KEY].command_line_pipeline()
    except pytest.fail.Exception as exc:
        fixturedef.cached_result = (None, key, (exc, exc.__traceback__))  # as pytest caches a failed setup
        raise
    if pipeline is None:
        return None  # not given on the command line: the fixture runs as usual
    fixturedef.cached_result = (pipeline, key, None)
    return pipeline


@pytest.fixture
def ragprobe_result(request: pytest.FixtureRequest) -> ProbeResult:
    """The probe's result for a test marked @ragprobe.reverse / @ragprobe.position."""
    if SPEC_KEY not in request.node.stash:
        pytest.fail(
            "ragprobe_result needs the test to be marked @ragprobe.reverse(...) or @ragprobe.position(...)",
            pytrace=False,
        )
    if request.config.option.setuponly:  # --setup-only shows fixtures; a probe is hundreds of pipeline calls
        pytest.skip("--setup-only: the probe does not run")
    try:
        return run_probe_for_item(request)
    except KeyboardInterrupt:
        # Ctrl-C: a fresh interrupt raised here has a traceback pytest can always format (one that
        # lands mid-import on CPython 3.11 can hold frames without a line number, which crash it).
        raise KeyboardInterrupt from None


@pytest.fixture
def ragprobe_fact_pairs(request: pytest.FixtureRequest) -> Callable[..., list[FactPair]]:
    """Factory ``(facts, n=None, seed=None) -> list[FactPair]`` from a file, a Fact list or 'synthetic:N':
    ``n`` pairs (all when None) capped by --ragprobe-samples, sampled as a reverse probe does, from one fact
    per question (facts.distinct_questions), so that ``check_reverse`` on them probes all of them, in the
    mark's order (they are returned in file order); the list (a facts.SampledPairs) remembers its source,
    so that check_reverse's notes are the mark's too."""
    from pytest_ragprobe.facts import SampledPairs, distinct_questions, resolve_pairs, sample
    from pytest_ragprobe.markers import int_arg, source_arg, unknown_args
    from pytest_ragprobe.runner import capped_size

    cfg = request.config.stash[_config.CONFIG_KEY]
    dirs = base_dirs(request.node)

    def make(facts: Any, n: int | None = None, seed: int | None = None, **unknown: Any) -> list[FactPair]:
        __tracebackhide__ = True  # the error names the argument
        unknown_args("ragprobe_fact_pairs", unknown, ("facts", "n", "seed"))
        # as the mark checks it: 5 failed with "'int' object is not iterable", and a dict (one fact) was
        # read as a list of its keys
        facts = source_arg("ragprobe_fact_pairs", "facts", facts)
        n = None if n is None else int_arg("ragprobe_fact_pairs", "n", n, 1)
        s = cfg.seed if seed is None else int_arg("ragprobe_fact_pairs", "seed", seed, 0)
        pairs = resolve_pairs(facts, seed=s, base_dirs=dirs)
        pool = distinct_questions(pairs, s)
        if n is not None and n > len(pool):  # a probe of "100 pairs" that has 30 should not pass for one
            # worded as the probes' own note (reverse_probe.run_reverse) says it
            held = f"{len(pool)} facts" + ("" if len(pool) == len(pairs) else " with questions of their own")
            warnings.warn(
                RagprobeWarning(
                    f"ragprobe_fact_pairs: n={n} asked for, but the facts hold only {held}: "
                    f"returning all {len(pool)}"
                ),
                stacklevel=2,
            )
        # run_reverse's salt and size: the same n, seed and --ragprobe-samples pick the facts the mark picks
        # (to redo a marked run by hand; uncapped, a check under the cap sampled again from these)
        picked = sample(pool, capped_size(n, len(pool), cfg.samples), s, "reverse")
        # In file order: check_reverse shuffles them with the same seeded order as the mark, so they are
        # asked in the mark's order (shuffled twice, a sequential look or a budget saw other facts and the
        # failure listed other examples).
        rank = {id(p): i for i, p in enumerate(pool)}
        return SampledPairs(sorted(picked, key=lambda p: rank[id(p)]), source=pairs, n=n, seed=s)

    return make


@pytest.fixture
def ragprobe_contexts(
    request: pytest.FixtureRequest,
) -> Callable[..., Any]:
    """Factory ``(example, n_docs, positions, seed=None, **options)`` yielding ``(position, documents)``.

    ``positions``: ints in [0, n_docs), each once; None: the mark's default (first, quartiles, last).
    ``seed`` None: the run's ``--ragprobe-seed``. ``options`` are those of
    ``pytest_ragprobe.contexts.contexts_for``: ``pool``, ``hard_negatives``, ``context_tokens``.
    """
    from pytest_ragprobe.contexts import contexts_for
    from pytest_ragprobe.markers import default_positions, int_arg, positions_arg, unknown_args

    cfg = request.config.stash[_config.CONFIG_KEY]
    allowed = ("example", "n_docs", "positions", "seed", "pool", "hard_negatives", "context_tokens")

    def make(
        example: Any,
        n_docs: int,
        positions: Sequence[int] | None = None,
        seed: int | None = None,
        **options: Any,
    ) -> Any:
        __tracebackhide__ = True  # the errors name the argument
        # (Python's own errors named contexts_for(), which the test never called)
        unknown_args("ragprobe_contexts", options, allowed)
        n_docs = int_arg("ragprobe_contexts", "n_docs", n_docs, 2)
        if options.get("context_tokens") is not None:
            int_arg("ragprobe_contexts", "context_tokens", options["context_tokens"], 1)
        # worded as its other arguments (contexts_for's own errors did not name the fixture)
        given = (
            default_positions(n_docs)
            if positions is None
            else positions_arg("ragprobe_contexts", positions, n_docs)
        )
        # checked as ragprobe_fact_pairs checks it: seed="1" or 1.5 seeded other contexts, silently
        s = cfg.seed if seed is None else int_arg("ragprobe_contexts", "seed", seed, 0)
        return contexts_for(example, n_docs, given, s, **options)

    return make


_WARNING_FAILED_KEY = pytest.StashKey[bool]()


def _warn(item: pytest.Item, warning: RagprobeWarning) -> None:
    try:
        item.warn(warning)
        return
    except RagprobeWarning as exc:  # -W error::...: a failure that reads as one, not a traceback of this hook
        failure = f"{type(exc).__name__}: {exc}\n(a warning, made an error by -W error / filterwarnings)"
    # Not _fail: the reports record the test as failed after its probe, as pytest failed it (an INCONCLUSIVE
    # verdict alone passes the gate); the warning already holds the probe's explanation.
    item.stash[_WARNING_FAILED_KEY] = True
    pytest.fail(failure, pytrace=False)


def _fail(item: pytest.Item, message: str) -> None:
    item.stash[OWN_FAILURE_KEY] = True  # the reports already say why: not a "test failed after the probe"
    pytest.fail(message, pytrace=False)


def _compare_with_baseline(item: pytest.Item) -> BaselineComparison | None:
    """Record the probe's figures for --junitxml and its baseline comparison on the result (so the report
    files and `ragprobe show` tell it)."""
    outcome = item.stash.get(RESULT_KEY, None)
    if outcome is None:
        return None
    baseline = item.config.stash[SESSION_KEY].baseline_comparison(outcome)
    if baseline is not None:
        outcome.baseline, outcome.baseline_message = baseline.status, baseline.message
    # Read by --junitxml (<properties>) and anything else that reads a report's user_properties: after the
    # comparison, so a test failed by a regression says so there too.
    item.user_properties.extend(user_properties(outcome))
    return baseline


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    session = item.config.stash[SESSION_KEY]
    if session.reruns_notice and SPEC_KEY in item.stash:
        notice, session.reruns_notice = session.reruns_notice, ""
        _warn(item, RagprobeWarning(notice))
    try:
        result = yield
    except BaseException:  # the body failed or skipped: its own outcome wins, but the reports still
        _compare_with_baseline(item)  # name a regression behind it
        raise
    outcome = item.stash.get(RESULT_KEY, None)
    if outcome is not None:
        cfg = item.config.stash[_config.CONFIG_KEY]
        baseline = _compare_with_baseline(item)
        regressed = ""
        if baseline is not None and baseline.status == "regression":
            from pytest_ragprobe.render import explain

            # said first, so not again as the explanation's test-outcome line
            regressed = f"{baseline.message}\n{explain(outcome, outcome=False)}"
        if outcome.verdict == "fail":
            _fail(item, outcome.explain())
        if regressed:
            _fail(item, regressed)
        if outcome.errors and outcome.verdict != "error":  # tolerated, but never silently
            from pytest_ragprobe.render import failed_calls_note

            no_retries = " --ragprobe-retries=0" if cfg.retries == 0 else ""
            _warn(item, RagprobeWarning(f"{item.nodeid}: {failed_calls_note(outcome, no_retries)}"))
        if baseline is not None and baseline.status in ("changed", "ok") and baseline.message:
            # not compared, or compared in part (a figure of the baseline that cannot be tested)
            _warn(item, RagprobeWarning(f"{item.nodeid}: {baseline.message}"))
        from pytest_ragprobe._blocking import loop_note

        # (a FAIL's message and an INCONCLUSIVE's warning list the notes; a PASS says nothing otherwise)
        if outcome.verdict == "pass" and (blocked := loop_note(outcome.notes)):
            _warn(item, RagprobeWarning(f"{item.nodeid}: PASS, but {blocked}"))
        from pytest_ragprobe.render import low_accuracy_note

        if low := low_accuracy_note(outcome):  # often a setup bug (an empty answer field): never silent
            _warn(item, RagprobeWarning(f"{item.nodeid}: PASS, but {low}"))
        if outcome.verdict == "inconclusive":
            if cfg.strict:
                _fail(item, f"{outcome.explain()}\n({cfg.strict_by}: INCONCLUSIVE fails)")
            # item.warn: the warnings summary points at the test, not at a line of this plugin
            # brief: 33 INCONCLUSIVE probes printed 570 lines of tables in the warnings summary
            from pytest_ragprobe.render import brief

            report = None if cfg.report_dir is None else cfg.report_dir / "report.json"
            _warn(item, RagprobeInconclusiveWarning(f"{item.nodeid}: {brief(outcome, report)}"))
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    outcome = item.stash.get(RESULT_KEY, None)
    # A setup failure of an xfail-marked test arrives here already turned into an xfail (skipped + wasxfail).
    failed_setup = report.when == "setup" and (report.failed or hasattr(report, "wasxfail"))
    if (
        outcome is None
        and failed_setup
        and SPEC_KEY in item.stash
        and call.excinfo is not None
        and not call.excinfo.errisinstance(pytest.xfail.Exception)  # xfail(run=False): not run, as a skip
    ):
        # The probe never ran (its pipeline fixture raised, no pipeline is configured, ...): it is an ERROR
        # in the report too, so a gate that reads report.json or `ragprobe show` fails as pytest did.
        outcome = item.stash[RESULT_KEY] = setup_error_result(item, call.excinfo)
    if outcome is None:
        return report
    if failed_setup and outcome.verdict == "error":  # --junitxml: an ERROR carries its figures too (the
        props = user_properties(outcome)  # call phase, which records them, never runs)
        item.user_properties.extend(props)
        report.user_properties.extend(props)
    # The body (or a fixture set up after the probe) failed or skipped itself after a probe that passed:
    # recorded, so the reports gate as pytest did (a teardown failure arrives after the call report: the
    # result travels again, on the teardown report). A probe's own ERROR explains its setup failure.
    recorded = (not failed_setup or outcome.verdict != "error") and record_test_outcome(
        item, outcome, report, call.excinfo
    )
    explained = OWN_FAILURE_KEY in item.stash or _WARNING_FAILED_KEY in item.stash
    if report.when == "call" and report.failed and not explained:
        # A strict XPASS: said as pytest made it ("test outcome: failed (unexpected, XPASS(strict): ...)"), as
        # a failed body's is; the reports read these fields from the report itself (session.record).
        for key, value in xfail_fields(report).items():
            setattr(outcome, key, value)
        # The body's assert (`assert ragprobe_result.reverse.accuracy >= 0.8`) showed only
        # "assert 0.65 >= 0.8": the probe's tables and miss attribution are what explain it.
        report.sections.append(("ragprobe: the probe behind this test", outcome.explain()))
    if report.when == "call" or failed_setup or recorded:
        from pytest_ragprobe.results import without_surrogates

        # (a lone surrogate in an answer: execnet cannot send it to the xdist controller)
        setattr(report, REPORT_ATTR, without_surrogates(outcome.model_dump(mode="json")))
    return report
