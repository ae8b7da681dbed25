"""Where the reference pipeline writes its reader model (~250 MB): a user's cache, as they set it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ragprobe.reference.reader import model_dir


def test_ragprobe_model_dir_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RAGPROBE_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert model_dir() == tmp_path / "models"


def test_xdg_cache_home_is_the_users_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # it was ~/.cache whatever XDG_CACHE_HOME said (a CI cache step keyed on it missed the model)
    monkeypatch.delenv("RAGPROBE_MODEL_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert model_dir() == tmp_path / "xdg" / "pytest-ragprobe" / "models"


@pytest.mark.parametrize("xdg", [None, "", "relative/cache"], ids=["unset", "empty", "relative"])
def test_home_cache_otherwise(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, xdg: str | None) -> None:
    # the XDG spec: an unset, empty or relative XDG_CACHE_HOME is ignored
    monkeypatch.delenv("RAGPROBE_MODEL_DIR", raising=False)
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert model_dir() == tmp_path / ".cache" / "pytest-ragprobe" / "models"
