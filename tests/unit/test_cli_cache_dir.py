"""`ragprobe cache DIR --prune DAYS` deleted by pattern under any DIR: given a project directory by mistake
(its root instead of .ragprobe_cache), it deleted the project's own tables/*.json files not modified in
DAYS days. A directory that is not a ragprobe answer cache is now refused, before anything is read or
deleted."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pytest_ragprobe.cache import AnswerCache
from pytest_ragprobe.cli import main
from pytest_ragprobe.engine import Call
from pytest_ragprobe.types import Answer


def test_prune_refuses_a_directory_that_is_not_an_answer_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    (project / "tables").mkdir(parents=True)
    (project / "src").mkdir()
    data = project / "tables" / "prices.json"
    data.write_text("{}", encoding="utf-8")
    month_ago = time.time() - 30 * 86400
    os.utime(data, (month_ago, month_ago))
    for argv in (["cache", str(project), "--prune", "7"], ["cache", str(project)]):
        assert main(argv) == 2
        assert capsys.readouterr().err == (
            f"ragprobe cache: error: {project}: not a ragprobe answer cache (it holds src, which a cache "
            "does not; pytest-ragprobe marks its cache with a CACHEDIR.TAG): give the cache directory, "
            "by default .ragprobe_cache in the rootdir\n"
        )
    assert data.exists()


def test_prune_takes_a_cache_with_its_tag_or_only_what_a_cache_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = AnswerCache(tmp_path / "c", "p@1")
    call = Call("answer", "q")
    cache.put(cache.key(call), call, Answer("a"))
    (tmp_path / "c" / "something-newer").mkdir()  # (a later version's directory: the tag vouches)
    assert main(["cache", str(tmp_path / "c"), "--prune", "0"]) == 0
    assert "removed 1 entry (" in capsys.readouterr().out
    # a cache where only statistics tables were written has no tag yet: what it holds is a cache's
    tables = tmp_path / "t" / "tables"
    tables.mkdir(parents=True)
    (tables / "exact_thresholds-x.json").write_text("{}", encoding="utf-8")
    assert main(["cache", str(tmp_path / "t"), "--prune", "0"]) == 0
    assert "and 1 statistics table not used" in capsys.readouterr().out
