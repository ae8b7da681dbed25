"""--ragprobe-baseline of a report this version cannot read, written by another pytest-ragprobe version:
the usage error named the field only, not that the baseline came from another version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import reverse_probe as probe
from factories import write_shard as shard

from pytest_ragprobe import __version__
from pytest_ragprobe.baseline import BaselineError, read_baseline


@pytest.mark.parametrize(("written", "said"), [("9.9.9", True), (__version__, False), ("", False)])
def test_an_unreadable_baseline_of_another_version_says_which(tmp_path: Path, written: str, said: bool) -> None:
    path = shard(tmp_path, "a", probe("t.py::test_a"), plugin_version=written)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["probes"][0]["verdict"] = "flaky"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(BaselineError) as info:
        read_baseline(path)
    message = (
        f"--ragprobe-baseline: {path}: probes[0] is not a ragprobe probe (verdict: Input should be 'pass', "
        "'fail', 'inconclusive' or 'error')"
    )
    if said:
        message += (
            f" (it was written by pytest-ragprobe 9.9.9; this is {__version__}: save a new baseline with this "
            "version, --ragprobe-save-baseline)"
        )
    assert str(info.value) == message
