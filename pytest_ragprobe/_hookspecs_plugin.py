"""The ``ragprobe_hooks`` pytest11 entry point: registers the plugin's hook specifications, nothing else.

A conftest.py implementing ``pytest_ragprobe_make_pipeline`` / ``pytest_ragprobe_report`` (as the README
shows) made ``-p no:ragprobe`` an INTERNALERROR ("unknown hook"): pytest refuses a hook it has no spec for,
and the specs came with the plugin that option blocks. This entry point stays loaded; the hooks are then
known and never called. The plugin registers them too, when it is loaded without this (``-p
pytest_ragprobe.plugin`` with plugin autoloading off).
"""

from __future__ import annotations

import pytest


def add_hookspecs(pluginmanager: pytest.PytestPluginManager) -> None:
    """Register the specs once, whichever of the two entry points comes first."""
    caller = getattr(pluginmanager.hook, "pytest_ragprobe_report", None)
    if caller is not None and caller.spec is not None:
        return
    from pytest_ragprobe import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    add_hookspecs(pluginmanager)
