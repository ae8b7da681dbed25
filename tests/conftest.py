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
import pytest_ragprobe.stats  # noqa: F401

# The reference pipeline and anything sentence-transformers touches must never reach for a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(params=[[], ["-n", "2"]], ids=["serial", "xdist2"])
def plugin_args(request: pytest.FixtureRequest) -> list[str]:
    """Run pytester sessions both without and with pytest-xdist."""
    return list(request.param)
