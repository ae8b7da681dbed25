from __future__ import annotations

import os

import jinja2  # noqa: F401  (kept loaded across pytester runs, as pytest_ragprobe.html below)
import pytest
import yaml  # noqa: F401  (kept loaded across pytester runs: libyaml's binding cannot be re-imported)

# Import the plugin's lazily-loaded modules once, before any pytester run: in-process pytester runs drop
# modules first imported inside them, and re-importing scipy/pydantic on every run is slow.
# (html and progress, and jinja2, which html imports when it first renders, were re-imported by every run
# that wrote a report or showed progress: html's template was compiled anew each time.)
import pytest_ragprobe.engine
import pytest_ragprobe.facts
import pytest_ragprobe.html
import pytest_ragprobe.position_probe
import pytest_ragprobe.progress
import pytest_ragprobe.reporting
import pytest_ragprobe.results
import pytest_ragprobe.reverse_probe
import pytest_ragprobe.stats

# The reference pipeline and anything sentence-transformers touches must never reach for a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``plugin_args``: run a test's pytester sessions both without and with pytest-xdist (``-n 2``); once,
    without, for a test marked ``xdist_elsewhere`` (another test covers that behaviour under xdist: each
    ``-n 2`` session starts two workers, and doubling every such test took CI past its time)."""
    if "plugin_args" in metafunc.fixturenames:
        if metafunc.definition.get_closest_marker("xdist_elsewhere") is not None:
            metafunc.parametrize("plugin_args", [[]], ids=["serial"])
        else:
            metafunc.parametrize("plugin_args", [[], ["-n", "2"]], ids=["serial", "xdist2"])


#: pytest plugins no test here (nor any pytester project it writes) uses: blocked in the pytester sessions the
#: tests start. hypothesis's plugin imports all of hypothesis (~90 modules, assertion-rewritten: its
#: distribution is a pytest plugin) at every terminal summary; an in-process pytester run then drops the
#: modules it imported, so every in-process run imported (and rewrote) hypothesis again, and every
#: subprocess session once. (The suite's own runs block it in pyproject.toml's addopts.)
UNUSED_PLUGINS = ("hypothesispytest",)


@pytest.fixture(autouse=True)
def _inner_sessions_skip_unused_plugins(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """pytester's sessions (in-process and subprocess, and their xdist workers) read PYTEST_ADDOPTS. Set
    after pytester is: setting it up clears PYTEST_ADDOPTS (the outer run's options)."""
    if "pytester" not in request.fixturenames:
        return
    request.getfixturevalue("pytester")
    blocked = " ".join(f"-p no:{name}" for name in UNUSED_PLUGINS)
    monkeypatch.setenv("PYTEST_ADDOPTS", blocked)


@pytest.fixture(autouse=True)
def _forget_learned_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine keeps what HTTP 429s taught it per pipeline identity for the process; fake pipelines
    of different tests can share an identity, so each test starts with nothing learned (random order).
    Under this suite's own -n 2 each worker also shares Retry-After holds (engine._BOARD): a hold one test
    published would hold the next tests' calls (20 s), and on their virtual clocks without end."""
    monkeypatch.setattr(pytest_ragprobe.engine, "_LEARNED", {})
    monkeypatch.setattr(pytest_ragprobe.engine, "_BOARD", None)
