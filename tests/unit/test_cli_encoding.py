"""`ragprobe show` where standard output cannot encode what it prints: a Windows job redirecting it to a
file (cp1252, Python's default there), PYTHONIOENCODING=ascii. It died with a UnicodeEncodeError traceback
on "≤" or an emoji; `--format markdown > summary.md` wrote nothing. The summary now escapes what the stream
cannot take, and the Markdown is written as UTF-8 bytes (what GitHub reads in $GITHUB_STEP_SUMMARY)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from factories import reverse_probe as probe
from factories import write_shard as shard


def run(encoding: str, *argv: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    env.pop("PYTHONUTF8", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest_ragprobe.cli", *argv], capture_output=True, env=env, check=False
    )


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_show_on_a_stream_that_cannot_encode_its_text(tmp_path: Path, encoding: str) -> None:
    path = shard(tmp_path, "a", probe("t.py::test_a", "inconclusive", reason="upper bound ≤ 0.10 → ✅"))
    proc = run(encoding, "show", str(path), "--explain")
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr
    out = proc.stdout.decode(encoding)
    assert "upper bound \\u2264 0.10 \\u2192 \\u2705" in out
    proc = run(encoding, "show", str(path), "--format", "markdown")
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert proc.stdout.decode("utf-8").startswith("## ⚠️ pytest-ragprobe: INCONCLUSIVE\n")
