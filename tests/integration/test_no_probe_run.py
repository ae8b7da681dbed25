"""A project that has the plugin installed but runs no probe pays nothing for it."""

from __future__ import annotations

import json

import pytest

CONFTEST = """
import json, sys
from pathlib import Path

def pytest_unconfigure(config):
    Path("loaded.json").write_text(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""

PROBE_DEPENDENCIES = {"pydantic", "numpy", "scipy", "httpx", "aiohttp", "jinja2", "yaml"}


@pytest.mark.parametrize("args", [(), ("-m", "not ragprobe"), ("--collect-only",)])
def test_a_run_without_probes_imports_no_probe_dependency(
    pytester: pytest.Pytester, args: tuple[str, ...]
) -> None:
    # Was: the session finish built the (empty, unwritten) report, importing pydantic (~0.1 s) on
    # every run of a project without probes.
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_plain="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:randomly", *args)
    assert result.ret == 0
    loaded = set(json.loads((pytester.path / "loaded.json").read_text(encoding="utf-8")))
    assert "pytest_ragprobe" in loaded
    assert not loaded & PROBE_DEPENDENCIES, sorted(loaded & PROBE_DEPENDENCIES)
