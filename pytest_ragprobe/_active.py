"""The pytest runs in progress in this process, innermost last (pytester nests them).

``check_reverse`` / ``check_position`` called inside a test use the run's ``--ragprobe-*`` settings,
budget and ``pytest_ragprobe_make_pipeline`` hooks, and ``ProbeResult.assert_ok()`` its
``--ragprobe-strict``, so they fail exactly as the mark would. Kept apart from the runner so the
plugin can register a run without importing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_ragprobe.engine import Budget
    from pytest_ragprobe.runner import RunSettings


@dataclass(frozen=True, eq=False)
class ActiveRun:
    """What a pytest run with the plugin lends direct API calls made inside its tests."""

    settings: RunSettings
    strict: bool
    budget: Budget
    adapt: Callable[[object], object | None] = lambda pipeline: None  # the make_pipeline hooks
    strict_by: str = "--ragprobe-strict"  # how strict was set, as the marked test's failure names it


_ACTIVE: list[ActiveRun] = []


def push(run: ActiveRun) -> None:
    _ACTIVE.append(run)


def pop(run: ActiveRun) -> None:
    if run in _ACTIVE:
        _ACTIVE.remove(run)


def active_run() -> ActiveRun | None:
    return _ACTIVE[-1] if _ACTIVE else None
