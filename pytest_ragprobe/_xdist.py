"""xdist controller hooks, registered only when xdist is active (method names match xdist hookspecs)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_ragprobe import _config


class XdistHooks:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_configure_node(self, node: Any) -> None:
        cfg = self.config.stash[_config.CONFIG_KEY]
        if cfg.budget is not None:
            # Each worker gets an equal share so the run as a whole stays within --ragprobe-budget.
            workers = max(1, int(getattr(self.config.option, "numprocesses", 1) or 1))
            node.workerinput["ragprobe_budget_share"] = max(1, cfg.budget // workers)
