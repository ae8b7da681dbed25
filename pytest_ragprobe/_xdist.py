"""xdist controller support; the hook itself lives in plugin.py (an optional hook, xdist may be absent).

Workers run probes and ship each result on its TestReport (``session.REPORT_ATTR``); only the
controller writes report files and the terminal summary. The run-wide ``--ragprobe-budget`` is split
between the workers here (``Budget`` is per process): worker ``gwI`` of ``N`` gets ``budget // N``
calls, plus one for the first ``budget % N`` workers, so the shares add up to the budget exactly.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_ragprobe import _config


def budget_share(budget: int, workers: int, index: int) -> int:
    workers = max(1, workers)
    return budget // workers + (1 if index < budget % workers else 0)


def _worker_count(config: pytest.Config) -> int:
    value = getattr(config.option, "numprocesses", None)
    if isinstance(value, int) and value > 0:
        return value
    specs = getattr(config.option, "tx", None) or []
    return max(1, len(specs))


def _worker_index(node: Any) -> int:
    gateway_id = str(getattr(getattr(node, "gateway", None), "id", "") or "")
    digits = gateway_id.removeprefix("gw")
    return int(digits) if digits.isdigit() else 0


def configure_node(config: pytest.Config, node: Any) -> None:
    """Hand a worker its share of the run-wide budget (called from plugin.pytest_configure_node)."""
    cfg = config.stash[_config.CONFIG_KEY]
    if cfg.budget is not None:
        workers = _worker_count(config)
        share = budget_share(cfg.budget, workers, _worker_index(node) % workers)
        node.workerinput["ragprobe_budget_share"] = share
