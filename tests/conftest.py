from __future__ import annotations

import os

import pytest
import yaml  # noqa: F401  (kept loaded across pytester runs: libyaml's binding cannot be re-imported)

# Import the plugin's lazily-loaded modules once, before any pytester run: in-process pytester runs drop
# modules first imported inside them, and re-importing scipy/pydantic on every run is slow.
import pytest_ragprobe.engine
import pytest_ragprobe.facts
import pytest_ragprobe.position_probe
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


@pytest.fixture(autouse=True)
def _forget_learned_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine keeps what HTTP 429s taught it per pipeline identity for the process; fake pipelines
    of different tests can share an identity, so each test starts with nothing learned (random order).
    Under this suite's own -n 2 each worker also shares Retry-After holds (engine._BOARD): a hold one test
    published would hold the next tests' calls (20 s), and on their virtual clocks without end."""
    monkeypatch.setattr(pytest_ragprobe.engine, "_LEARNED", {})
    monkeypatch.setattr(pytest_ragprobe.engine, "_BOARD", None)
