"""``python -m pytest_ragprobe``: the ``ragprobe`` command (merge, show, cache), for an environment whose
scripts directory is not on PATH."""

from __future__ import annotations

from pytest_ragprobe.cli import main

raise SystemExit(main())
