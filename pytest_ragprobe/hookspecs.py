"""Hooks other plugins and ``conftest.py`` files can implement (registered by _hookspecs_plugin.py, the
``ragprobe_hooks`` entry point).

Example ``conftest.py``, probing a framework object the plugin does not know::

    import pytest_ragprobe as ragprobe

    def pytest_ragprobe_make_pipeline(config, pipeline):
        if isinstance(pipeline, MyChain):
            return ragprobe.Pipeline(answer=lambda q: pipeline.invoke(q)["result"], version="chain-1")
        return None  # not mine: the next implementation (or the plugin) decides

    def pytest_ragprobe_report(config, report, path):
        post_to_dashboard(report.model_dump())  # report: pytest_ragprobe.results.Report
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_ragprobe.results import Report


@pytest.hookspec(firstresult=True)
def pytest_ragprobe_make_pipeline(config: pytest.Config, pipeline: object) -> object | None:
    """Turn what the ``ragprobe_pipeline`` fixture (or ``--ragprobe-pipeline``) gave into a pipeline
    the plugin accepts (a callable, an object with answer/retrieve/generate/index, or
    ``ragprobe.Pipeline``), or return None to leave it as it is. The first non-None result wins;
    ``conftest.py`` implementations apply to the tests under their directory. Called once per probe,
    in the process that runs it (an xdist worker included)."""


@pytest.hookspec
def pytest_ragprobe_report(config: pytest.Config, report: Report, path: Path | None) -> None:
    """Called once per run, at its end, with the final report of every probe (``report.partial``
    when the run was interrupted): on the xdist controller, or in the only process. ``path`` is the
    ``report.json`` written (None without ``--ragprobe-report``); not called when no probe ran. For
    exporters: a dashboard, a metrics store. An exception here is shown in the terminal summary; it
    does not change the run's outcome."""
