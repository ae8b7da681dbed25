"""xdist controller support; the hook itself lives in plugin.py (an optional hook, xdist may be absent).

Workers run probes and ship each result on its TestReport (``session.REPORT_ATTR``); only the
controller writes report files and the terminal summary. The run-wide ``--ragprobe-budget`` is pooled
here: the controller makes a counter file that the workers of this machine take units from
(``engine.SharedBudget``). A worker that cannot use it (on another machine, no ``fcntl``) spends an
even share instead: worker ``gwI`` of ``N`` gets ``budget // N`` calls, plus one for the first
``budget % N`` workers, so the shares add up to the budget exactly.

Retry-After holds are shared the same way: the controller names a directory in the run's scratch
directory, where each worker of this machine publishes the holds it was told (``engine.HoldBoard``).

The cost plan is made where the items are, on the workers, whose output nobody sees: the first
worker (``gw0``; every worker collects the same items) writes it to a file the controller named in
its ``workerinput``, and the controller prints it when that worker has collected, before any test
runs. A worker on another machine writes where the controller cannot read: no plan then.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ragprobe import _config

if TYPE_CHECKING:
    from pytest_ragprobe.engine import Budget

_RUN_DIR = pytest.StashKey[Path]()
_PLAN_SHOWN = pytest.StashKey[bool]()


def budget_share(budget: int, workers: int, index: int) -> int:
    workers = max(1, workers)
    return budget // workers + (1 if index < budget % workers else 0)


def _worker_count(config: pytest.Config) -> int:
    value = getattr(config.option, "numprocesses", None)
    if isinstance(value, int) and value > 0:
        return value
    specs = getattr(config.option, "tx", None) or []
    # "--tx 2*ssh=host" is two workers
    return max(1, sum(_split_count(str(spec))[0] for spec in specs))


def _split_count(spec: str) -> tuple[int, str]:
    """An ``--tx`` spec's ``N*`` prefix and the rest: ``"2*popen"`` -> ``(2, "popen")``."""
    count, star, rest = spec.partition("*")
    return (int(count), rest) if star and count.isdigit() else (1, spec)


def _worker_index(node: Any) -> int:
    gateway_id = str(getattr(getattr(node, "gateway", None), "id", "") or "")
    digits = gateway_id.removeprefix("gw")
    return int(digits) if digits.isdigit() else 0


def configure_node(config: pytest.Config, node: Any) -> None:
    """Hand a worker the run-wide budget's pool and its even share, and gw0 the file for the cost plan (called
    from plugin.pytest_configure_node)."""
    cfg = config.stash[_config.CONFIG_KEY]
    if _all_local(config):  # a Retry-After one worker is told holds the others (engine.HoldBoard)
        node.workerinput["ragprobe_holds"] = str(_run_dir(config) / "holds")
    if _worker_index(node) == 0:  # every worker collects the same items: one plans for all
        node.workerinput["ragprobe_plan_file"] = str(_run_dir(config) / "plan.json")
    if cfg.budget is not None:
        workers = _worker_count(config)
        share = budget_share(cfg.budget, workers, _worker_index(node) % workers)
        node.workerinput["ragprobe_budget_share"] = share
        # a worker elsewhere spends a share, and a pool of the whole budget beside it would overspend
        if _all_local(config):
            pool = _run_dir(config) / "budget"
            if not pool.exists():  # one pool for the run (a worker restarted after a crash keeps it)
                from pytest_ragprobe.engine import pool_text

                with contextlib.suppress(OSError):  # no pool: every worker spends its share
                    pool.write_bytes(pool_text(0))
            if pool.exists():
                node.workerinput["ragprobe_budget_pool"] = str(pool)


def _all_local(config: pytest.Config) -> bool:
    """Every xdist worker runs on this machine (``-n N``, ``--tx popen``, ``--tx python=...//popen``),
    where the pool file is."""
    specs = getattr(config.option, "tx", None) or ["popen"]
    return all("popen" in _split_count(str(spec))[1].split("//") for spec in specs)


def _run_dir(config: pytest.Config) -> Path:
    """The controller's scratch directory for this run (plan file, budget pool); removed at its end."""
    if _RUN_DIR not in config.stash:
        config.stash[_RUN_DIR] = Path(tempfile.mkdtemp(prefix="ragprobe-run-"))
    return config.stash[_RUN_DIR]


def worker_budget(config: pytest.Config, limit: int | None) -> Budget:
    """This process's budget: ``limit``, or on an xdist worker the pool or its share."""
    from pytest_ragprobe.engine import worker_budget as make

    workerinput = getattr(config, "workerinput", {})
    return make(limit, workerinput.get("ragprobe_budget_share"), workerinput.get("ragprobe_budget_pool"))


def share_holds(config: pytest.Config) -> None:
    """On a worker of a local run: share Retry-After holds through the directory the controller named
    (called from plugin.pytest_configure; ``unshare_holds`` at unconfigure)."""
    from pytest_ragprobe.engine import HoldBoard
    from pytest_ragprobe.engine import share_holds as share

    workerinput = getattr(config, "workerinput", {})
    directory = workerinput.get("ragprobe_holds")
    if directory:
        share(HoldBoard(Path(directory), str(workerinput.get("workerid", "gw"))))


def unshare_holds(config: pytest.Config) -> None:
    from pytest_ragprobe.engine import share_holds as share

    if getattr(config, "workerinput", {}).get("ragprobe_holds"):
        share(None)


def pooled(budget: Budget) -> bool:
    """Whether ``budget`` is shared with the other workers (so the plan need not think in shares)."""
    from pytest_ragprobe.engine import SharedBudget

    return isinstance(budget, SharedBudget)


def plan_file(config: pytest.Config) -> Path | None:
    """On a worker: where to leave the cost plan for the controller (None: not asked to)."""
    name = getattr(config, "workerinput", {}).get("ragprobe_plan_file")
    return Path(name) if name else None


def write_plan(path: Path, lines: list[str], probes: int, deselected: list[str], selected: list[str]) -> None:
    """``deselected``: the probes -k / -m deselected, ``selected`` those that will run (the controller,
    collecting nothing, reports them)."""
    with contextlib.suppress(OSError):  # a worker on another machine: the controller prints no plan
        text = json.dumps({"lines": lines, "probes": probes, "deselected": deselected, "selected": selected})
        path.write_text(text, encoding="utf-8")


def show_plan(config: pytest.Config, node: Any) -> int | None:
    """On the controller, when a worker has collected: print the plan if that worker made it, keep the probes
    it deselected for the report, and return how many probes it planned (for the interrupted-run line), else
    None."""
    name = getattr(node, "workerinput", {}).get("ragprobe_plan_file")
    if not name or config.stash.get(_PLAN_SHOWN, False):
        return None
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    try:
        plan = json.loads(Path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(plan, dict):
        return None
    deselected = plan.get("deselected")
    from pytest_ragprobe.session import SESSION_KEY

    if isinstance(deselected, list):
        config.stash[SESSION_KEY].deselected = [str(n) for n in deselected]
    if isinstance(selected := plan.get("selected"), list):
        config.stash[SESSION_KEY].selected = [str(n) for n in selected]
    if not isinstance(plan.get("lines"), list) or reporter is None:
        return None
    config.stash[_PLAN_SHOWN] = True
    from pytest_ragprobe.progress import open_line_width

    if open_line_width(reporter):  # xdist's "ready: 2/2 workers" status, redrawn with \r
        reporter.write("\n")
    reporter.ensure_newline()
    for line in plan["lines"]:
        reporter.write_line(str(line))
    probes = plan.get("probes")
    return probes if isinstance(probes, int) else None


def stopped_by_failures(config: pytest.Config) -> bool:
    """On the xdist controller: the run stopped at -x / --maxfail (xdist then ends it with
    ``Interrupted``, the exit status of Ctrl-C), not at a keyboard interrupt."""
    dsession = config.pluginmanager.get_plugin("dsession")
    why = getattr(dsession, "shouldstop", None)
    return isinstance(why, str) and bool(why) and "keyboard-interrupt" not in why


def remove_run_dir(config: pytest.Config) -> None:
    path = config.stash.get(_RUN_DIR, None)
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
